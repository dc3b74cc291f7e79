"""The outbox with a fake connection and a fake JetStream: enqueue writes the row
and wakes the relay on commit; the relay publishes, marks and erases."""

from __future__ import annotations

import asyncio
import json
import uuid
from types import SimpleNamespace
from typing import Any

import asyncpg

from shared.events import new_event
from shared.outbox import CHANNEL, Relay, enqueue, erase_story_events
from tests.unit.fakes import FakeConnection, FakePool


async def test_enqueue_writes_the_event_and_notifies_the_relay_in_the_same_transaction() -> None:
    conn = FakeConnection()
    event = new_event("StoryWithdrawn", story_id=str(uuid.uuid4()))
    await enqueue(conn, event)  # type: ignore[arg-type]
    [(sql, args)] = conn.sent  # one statement: the row and the wake-up in one round trip
    assert "INSERT INTO outbox" in sql and args[0] == event.id and args[3] == event.story_id
    assert "pg_notify($5, current_schema())" in sql and args[4] == CHANNEL


def test_a_relay_wakes_only_for_its_own_schema() -> None:
    relay = Relay(pool=None, js=None, schema="moderation")  # type: ignore[arg-type]
    relay._notified(None, 1, CHANNEL, "submission")
    assert not relay.wake.is_set()
    relay._notified(None, 1, CHANNEL, "moderation")
    assert relay.wake.is_set()


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
        "SELECT event_id, payload FROM outbox": [{"event_id": event.id, "payload": json.loads(event.to_json())}],
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


class ListeningConnection:
    """A pooled connection as asyncpg hands it out; `lost` as after PostgreSQL dropped
    it, when the pool has taken it back and every call on it raises."""

    def __init__(self) -> None:
        self.lost = False
        self.channels: list[str] = []

    def _check(self) -> None:
        if self.lost:
            raise asyncpg.InterfaceError("cannot call Connection.is_closed(): connection has been released "
                                         "back to the pool")

    def is_closed(self) -> bool:
        self._check()
        return False

    async def add_listener(self, channel: str, callback: Any) -> None:
        self._check()
        self.channels.append(channel)

    async def remove_listener(self, channel: str, callback: Any) -> None:
        self._check()
        self.channels.remove(channel)


class ListeningPool:
    def __init__(self) -> None:
        self.handed: list[ListeningConnection] = []

    async def acquire(self) -> ListeningConnection:
        self.handed.append(ListeningConnection())
        return self.handed[-1]

    async def release(self, conn: ListeningConnection) -> None:
        conn._check()


async def test_the_relay_listens_again_after_postgresql_dropped_its_connection() -> None:
    pool = ListeningPool()
    relay = Relay(pool, js=None, schema="submission")  # type: ignore[arg-type]
    await relay._listen()
    await relay._listen()
    assert len(pool.handed) == 1 and pool.handed[0].channels == [CHANNEL]  # one connection, kept
    pool.handed[0].lost = True  # a PostgreSQL restart
    await relay._listen()
    assert len(pool.handed) == 2 and pool.handed[1].channels == [CHANNEL]
    await relay._unlisten()
    assert pool.handed[1].channels == []
