"""The shared consumer's plumbing, with a fake pool and fake messages: the inbox,
acks, naks, parking, and batch mode."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from shared.consumer import Consumer, consumers
from shared.events import EVENT_TYPES, Event, new_event
from tests.unit.fakes import FakeMsg, FakePool, recorder

INBOX = "INSERT INTO processed_events"
PARK = "INSERT INTO parked_messages"


def _all_fresh(consumer: str, ids: list[str]) -> list[dict[str, str]]:
    """The inbox's answer when nothing was handled before: every id sent."""
    return [{"event_id": i} for i in ids]


def _submitted(title: str = "A title") -> Event:
    return new_event("StorySubmitted", story_id="7f1c1a9e-0000-4000-8000-000000000001", title=title,
                     body="A body long enough.", pen_name=None, tags=[], content_warnings=[])


def _consumer(pool: FakePool, handlers: dict[str, Any], **kw: Any) -> Consumer:
    subject = EVENT_TYPES[next(iter(handlers))].subject  # one subject per consumer
    return Consumer(js=None, pool=pool, durable="test", subject=subject, handlers=handlers, **kw)  # type: ignore[arg-type]


async def test_a_fresh_event_is_handled_once_inside_the_inbox_transaction_then_acked() -> None:
    pool = FakePool({INBOX: _all_fresh})
    calls, handler = recorder()
    msg = FakeMsg(_submitted().to_json())
    await _consumer(pool, {"StorySubmitted": handler}).handle(msg)
    assert len(calls) == 1 and calls[0][1].type == "StorySubmitted"
    assert pool.statements(INBOX) == [("test", [calls[0][1].id])] and pool.transactions == 1
    assert msg.acks == ["ack"]


async def test_an_event_already_in_the_inbox_is_acked_without_running_the_handler() -> None:
    pool = FakePool({INBOX: []})  # ON CONFLICT DO NOTHING: no row returned
    calls, handler = recorder()
    msg = FakeMsg(_submitted().to_json())
    await _consumer(pool, {"StorySubmitted": handler}).handle(msg)
    assert calls == [] and msg.acks == ["ack"]


async def test_an_event_for_another_consumer_is_acked_without_a_transaction() -> None:
    pool = FakePool()
    msg = FakeMsg(new_event("StoryWithdrawn", story_id=str(uuid.uuid4())).to_json(), subject="stories.withdrawn")
    await _consumer(pool, {"StorySubmitted": recorder()[1]}).handle(msg)
    assert msg.acks == ["ack"] and pool.sent == []


async def test_an_undecodable_message_is_parked_and_acked() -> None:
    pool = FakePool()
    msg = FakeMsg(b'{"type": "StorySubmitted", "version": 1}', deliveries=1)
    await _consumer(pool, {"StorySubmitted": recorder()[1]}).handle(msg)
    [(consumer, subject, payload, error, deliveries)] = pool.statements(PARK)
    assert (consumer, subject, deliveries) == ("test", "stories.submitted", 1) and "undecodable" in error
    assert msg.acks == ["ack"]


async def test_a_failing_handler_is_retried_then_parked_after_max_deliver() -> None:
    async def broken(conn: Any, event: Event) -> None:
        raise ValueError("a bug")

    pool = FakePool({INBOX: _all_fresh})
    first = FakeMsg(_submitted().to_json(), deliveries=1)
    await _consumer(pool, {"StorySubmitted": broken}, max_deliver=3).handle(first)
    assert first.acks == ["nak"] and first.nak_delays == [2] and pool.statements(PARK) == []
    last = FakeMsg(_submitted().to_json(), deliveries=3)
    await _consumer(pool, {"StorySubmitted": broken}, max_deliver=3).handle(last)
    assert last.acks == ["ack"] and "a bug" in pool.statements(PARK)[0][3]


async def test_a_database_outage_is_never_the_messages_fault() -> None:
    async def db_down(conn: Any, event: Event) -> None:
        raise ConnectionRefusedError("PostgreSQL restarting")

    pool = FakePool({INBOX: _all_fresh})
    msg = FakeMsg(_submitted().to_json(), deliveries=50)
    await _consumer(pool, {"StorySubmitted": db_down}, max_deliver=3).handle(msg)
    assert msg.acks == ["nak"] and pool.statements(PARK) == []  # redelivered, however long it lasts


async def test_batch_mode_prepares_only_fresh_events_and_hands_each_its_prepared_value() -> None:
    seen_before, fresh = _submitted("old"), _submitted("new")
    pool = FakePool({"SELECT event_id FROM processed_events": [{"event_id": seen_before.id}], INBOX: _all_fresh})
    calls, handler = recorder()
    prepared_batches: list[list[str]] = []

    async def prepare(events: list[Event]) -> AsyncIterator[tuple[int, Any]]:
        prepared_batches.append([e.data["title"] for e in events])
        for n, e in enumerate(events):
            yield n, f"screened {e.data['title']}"

    msgs = [FakeMsg(seen_before.to_json()), FakeMsg(fresh.to_json()), FakeMsg(fresh.to_json()),
            FakeMsg(b"not json")]
    consumer = _consumer(pool, {"StorySubmitted": handler}, prepare=prepare)

    async def fetch(n: int | None = None, wait: float = 1.0) -> list[FakeMsg]:
        return msgs

    consumer.fetch = fetch  # type: ignore[method-assign]
    assert await consumer.run_once() == 4
    assert prepared_batches == [["new"]]  # the seen one and the second copy are not screened again
    assert [(e.data["title"], value) for _, e, value in calls] == [("new", "screened new")]
    assert [m.acks for m in msgs] == [["ack"], ["ack"], ["ack"], ["ack"]]
    assert len(pool.statements(PARK)) == 1


async def test_batch_mode_keeps_slow_preparations_alive_with_in_progress_acks() -> None:
    pool = FakePool({"SELECT event_id FROM processed_events": [], INBOX: _all_fresh})

    async def slow(events: list[Event]) -> AsyncIterator[tuple[int, Any]]:
        await asyncio.sleep(0.25)
        yield 0, None

    msg = FakeMsg(_submitted().to_json())
    consumer = _consumer(pool, {"StorySubmitted": recorder()[1]}, prepare=slow, ack_wait=0.3)

    async def fetch(n: int | None = None, wait: float = 1.0) -> list[FakeMsg]:
        return [msg]

    consumer.fetch = fetch  # type: ignore[method-assign]
    await consumer.run_once()
    assert msg.acks[0] == "in_progress" and msg.acks[-1] == "ack"


async def test_an_event_on_another_types_subject_is_parked_not_applied() -> None:
    """A StoryApproved sent on stories.reported (a subject publishing may use) is a
    forgery: parked, never handed to the handler."""
    pool = FakePool({INBOX: _all_fresh})
    calls, handler = recorder()
    approved = new_event("StoryApproved", story_id=str(uuid.uuid4()), title="t", body="b",
                         pen_name="Braided moderators",
                         tags=[], content_warnings=[], published_on="2026-01-01")
    msg = FakeMsg(approved.to_json(), subject="stories.reported")
    await _consumer(pool, {"StoryApproved": handler}).handle(msg)
    assert calls == [] and msg.acks == ["ack"]
    [(_, subject, _, error, _)] = pool.statements(PARK)
    assert subject == "stories.reported" and "StoryApproved on stories.reported" in error


async def test_an_event_with_a_forged_payload_on_its_own_subject_is_parked() -> None:
    pool = FakePool({INBOX: _all_fresh})
    calls, handler = recorder()
    good = json.loads(new_event("StoryWithdrawn", story_id=str(uuid.uuid4())).to_json())
    for data, occurred in (({"story_id": "../../etc"}, good["occurred_on"]),
                           (good["data"], "2026-01-01T12:34:56")):
        msg = FakeMsg(json.dumps(good | {"data": data, "occurred_on": occurred}).encode(), subject="stories.withdrawn")
        await _consumer(pool, {"StoryWithdrawn": handler}).handle(msg)
        assert msg.acks == ["ack"]
    assert calls == [] and len(pool.statements(PARK)) == 2


def test_a_consumer_reads_one_subject_and_a_service_one_consumer_per_subject() -> None:
    import pytest

    from shared import natsauth

    with pytest.raises(ValueError, match="arrive elsewhere"):
        Consumer(None, None, "d", "stories.approved", {"StoryWithdrawn": recorder()[1]})  # type: ignore[arg-type]
    ident = natsauth.identity("publishing")
    table = dict.fromkeys(ident.reads, recorder()[1])
    made = consumers(None, None, ident, table)  # type: ignore[arg-type]
    assert {c.durable: c.subject for c in made} == ident.durables()
    assert {c.inbox for c in made} == {"publishing"}  # one inbox: a replay skips what any handled
    assert all(list(c.handlers) == [t for t in table if EVENT_TYPES[t].subject == c.subject] for c in made)
    cfg = made[0].config()
    assert (cfg.name, cfg.durable_name, cfg.filter_subject) == (made[0].durable, made[0].durable, made[0].subject)
    # A handler table that strays from the permission table is refused at start-up.
    with pytest.raises(ValueError, match="shared/natsauth.py"):
        consumers(None, None, ident, table | {"StorySubmitted": recorder()[1]})  # type: ignore[arg-type]


class _Fetched(Consumer):
    """A consumer whose fetch hands out prepared messages once."""

    def __init__(self, msgs: list[FakeMsg], *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._msgs = msgs

    async def fetch(self, n: int | None = None, wait: float = 1.0) -> list:
        msgs, self._msgs = self._msgs, []
        return msgs


async def test_a_fetched_burst_is_handled_in_one_transaction_then_each_acked() -> None:
    pool = FakePool({INBOX: _all_fresh})
    calls, handler = recorder()
    msgs = [FakeMsg(_submitted(f"Story {i}").to_json()) for i in range(5)]
    consumer = _Fetched(msgs, js=None, pool=pool, durable="test", subject="stories.submitted",
                        handlers={"StorySubmitted": handler})
    assert await consumer.run_once() == 5
    assert len(calls) == 5 and pool.transactions == 1  # one commit for the burst
    assert len(pool.statements(INBOX)) == 1  # and one statement into the inbox
    assert all(m.acks == ["ack"] for m in msgs)


async def test_when_one_of_a_burst_fails_each_is_handled_alone_and_only_that_one_is_retried() -> None:
    pool = FakePool({INBOX: _all_fresh})
    handled: list[str] = []

    async def handler(conn: Any, event: Event) -> None:
        if event.data["title"] == "Story 1":
            raise ValueError("this one is broken")
        handled.append(event.data["title"])

    msgs = [FakeMsg(_submitted(f"Story {i}").to_json()) for i in range(3)]
    consumer = _Fetched(msgs, js=None, pool=pool, durable="test", subject="stories.submitted",
                        handlers={"StorySubmitted": handler}, max_deliver=3)
    await consumer.run_once()
    # The group's transaction rolled back (story 0 ran in it first), then one by one.
    assert handled == ["Story 0", "Story 0", "Story 2"] and pool.transactions == 4
    assert [m.acks for m in msgs] == [["ack"], ["nak"], ["ack"]]
