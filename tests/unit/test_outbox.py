"""The outbox with a fake connection and a fake JetStream: enqueue writes the row
(no NOTIFY) and a commit wakes this process's relay; the relay publishes, marks and erases."""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace
from typing import Any

from shared import relaywake
from shared.events import new_event
from shared.outbox import Relay, enqueue, erase_story_events
from tests.unit.fakes import FakeConnection, FakePool


async def test_enqueue_writes_the_event_with_no_notify() -> None:
    conn = FakeConnection()
    event = new_event("StoryWithdrawn", story_id=str(uuid.uuid4()))
    await enqueue(conn, event)  # type: ignore[arg-type]
    [(sql, args)] = conn.sent  # one statement, and no NOTIFY: its lock serialises commits
    assert sql.startswith("INSERT INTO outbox") and args[0] == event.id and args[3] == event.story_id
    assert "notify" not in sql.lower()


def test_a_commit_wakes_only_the_relay_of_its_own_pool_and_only_while_it_runs() -> None:
    ours, other = object(), object()
    relay, other_relay = Relay(ours, None, "moderation"), Relay(other, None, "submission")  # type: ignore[arg-type]
    relaywake.committed(ours)  # not running yet: nobody to wake, and no error
    relaywake.register(ours, relay.wake)
    relaywake.register(other, other_relay.wake)
    try:
        relaywake.committed(ours)
        assert relay.wake.is_set() and not other_relay.wake.is_set()
    finally:
        relaywake.unregister(ours, relay.wake)
        relaywake.unregister(other, other_relay.wake)
    relay.wake.clear()
    relaywake.committed(ours)
    assert not relay.wake.is_set()


class FakeJetStream:
    def __init__(self) -> None:
        self.published: list[tuple[str, bytes, dict[str, str]]] = []
        self.deleted: list[int] = []

    async def publish_async(self, subject: str, payload: bytes, stream: str, headers: dict[str, str],
                            **options: Any) -> asyncio.Future:
        self.published.append((subject, payload, headers))
        ack: asyncio.Future = asyncio.get_running_loop().create_future()
        ack.set_result(SimpleNamespace(seq=100 + len(self.published)))
        return ack

    async def delete_msg(self, stream: str, seq: int) -> None:
        self.deleted.append(seq)


async def test_the_relay_publishes_with_the_event_id_marks_sent_and_erases_what_is_marked() -> None:
    event = new_event("StoryWithdrawn", story_id=str(uuid.uuid4()))
    pool = FakePool({
        "SELECT event_id, payload::text AS payload FROM outbox": [{"event_id": event.id,
                                                               "payload": event.to_json().decode()}],
        "SELECT event_id, stream_seq FROM outbox": [{"event_id": "old", "stream_seq": 7}],
    })
    js = FakeJetStream()
    assert await Relay(pool, js, "submission").run_once() == 2  # type: ignore[arg-type]
    [(subject, _, headers)] = js.published
    assert subject == "stories.withdrawn" and headers == {"Nats-Msg-Id": event.id}
    assert pool.statements("UPDATE outbox SET published_on") == [([event.id], [101])]
    assert js.deleted == [7] and pool.statements("DELETE FROM outbox WHERE event_id") == [("old",)]


async def test_erasing_a_story_drops_unsent_events_and_marks_sent_ones() -> None:
    conn = FakeConnection()
    ids = [uuid.uuid4()]
    await erase_story_events(conn, ids)  # type: ignore[arg-type]
    assert [sql.split()[0] for sql, _ in conn.sent] == ["DELETE", "UPDATE"]
    assert all(args == (ids,) for _, args in conn.sent)
