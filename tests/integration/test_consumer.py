"""shared/consumer.py on a real NATS JetStream and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import nats

from shared import bus
from shared.consumer import Consumer
from shared.db import COMMON_SQL, create_pool, migrate
from shared.events import new_event
from shared.infra import EmbeddedNats


@contextlib.asynccontextmanager
async def _inbox_and_stream(pg_dsn: str, nats_server: EmbeddedNats) -> AsyncIterator[tuple[asyncpg.Pool, Any, str]]:
    """A fresh schema with the messaging tables, the stream, and a new durable's name."""
    schema = f"bus_{uuid.uuid4().hex[:8]}"
    await migrate(pg_dsn, schema, sorted(COMMON_SQL.glob("*.sql")))
    pool = await create_pool(pg_dsn, schema, max_size=3)
    nc = await nats.connect(nats_server.admin_url)
    try:
        await bus.ensure_stream(nc.jetstream())
        yield pool, nc.jetstream(), f"test-{uuid.uuid4().hex[:8]}"
    finally:
        await nc.close()
        await pool.close()


async def test_a_stopped_consumer_gives_its_unhandled_batch_back_at_once(
        pg_dsn: str, nats_server: EmbeddedNats) -> None:
    """A replica stopped mid-batch (a deploy) naks what it has not handled: another replica
    gets those events within seconds, not after the minute of ack_wait."""
    events = [new_event("StoryWithdrawn", story_id=str(uuid.uuid4())) for _ in range(3)]
    started, handled = asyncio.Event(), []

    async def stuck(conn, event) -> None:  # noqa: ANN001
        started.set()
        await asyncio.Event().wait()  # until the replica is stopped

    async def record(conn, event) -> None:  # noqa: ANN001
        handled.append(event.id)

    async with _inbox_and_stream(pg_dsn, nats_server) as (pool, js, durable):
        # The durable starts at the stream's first message: other tests' withdrawals go
        # first, so that the stopped replica's batch is this test's three events.
        drain = Consumer(js, pool, durable, "stories.withdrawn", {"StoryWithdrawn": record})
        while await drain.run_once():
            pass
        handled.clear()
        for event in events:
            await bus.publish(js, event)
        first = Consumer(js, pool, durable, "stories.withdrawn", {"StoryWithdrawn": stuck}, ack_wait=60)
        stopping = asyncio.create_task(first.run_once())
        await asyncio.wait_for(started.wait(), 10)
        stopping.cancel()
        await asyncio.gather(stopping, return_exceptions=True)
        other = Consumer(js, pool, durable, "stories.withdrawn", {"StoryWithdrawn": record}, ack_wait=60)
        began = time.monotonic()
        while len(handled) < len(events) and time.monotonic() - began < 10:
            await other.run_once()
        assert sorted(handled) == sorted(e.id for e in events)


async def test_a_burst_is_handled_in_one_transaction_each_event_once(pg_dsn: str, nats_server: EmbeddedNats) -> None:
    """A burst goes through the inbox in one statement: an event handled before (by any
    replica) and a second copy in the same burst are acked without running the handler
    again, and every fresh one is handled once."""
    events = [new_event("StoryWithdrawn", story_id=str(uuid.uuid4())) for _ in range(5)]
    handled: list[str] = []

    async def record(conn, event) -> None:  # noqa: ANN001
        handled.append(event.id)
        await conn.execute("CREATE TABLE IF NOT EXISTS seen (event_id uuid)")
        await conn.execute("INSERT INTO seen VALUES ($1)", uuid.UUID(event.id))

    async with _inbox_and_stream(pg_dsn, nats_server) as (pool, js, durable):
        consumer = Consumer(js, pool, durable, "stories.withdrawn", {"StoryWithdrawn": record})
        await js.add_consumer("STORIES", consumer.config())  # the durable, from the stream's start
        await pool.execute("INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2)", durable, events[0].id)
        for event in [*events, events[3]]:  # the fourth twice, under two message ids
            await js.publish(event.subject, event.to_json(), headers={"Nats-Msg-Id": str(uuid.uuid4())})
        while await consumer.run_once():  # the stream's earlier withdrawals (other tests') come first
            pass
        ours = {e.id for e in events}
        mine = [h for h in handled if h in ours]
        assert sorted(mine) == sorted(e.id for e in events[1:])
        seen = {str(r["event_id"]) for r in await pool.fetch("SELECT event_id FROM seen")}
        assert sorted(seen & ours) == sorted(mine)
        info = await js.consumer_info("STORIES", durable)
        assert info.num_ack_pending == 0 and info.num_pending == 0  # every copy acked
