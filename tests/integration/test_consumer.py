"""shared/consumer.py on a real NATS JetStream and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
import uuid

import nats

from shared import bus
from shared.consumer import Consumer
from shared.db import COMMON_SQL, create_pool, migrate
from shared.events import new_event
from shared.infra import EmbeddedNats


async def test_a_stopped_consumer_gives_its_unhandled_batch_back_at_once(
        pg_dsn: str, nats_server: EmbeddedNats) -> None:
    """A replica stopped mid-batch (a deploy) naks what it has not handled: another replica
    gets those events within seconds, not after the minute of ack_wait."""
    schema = f"bus_{uuid.uuid4().hex[:8]}"
    await migrate(pg_dsn, schema, sorted(COMMON_SQL.glob("*.sql")))
    pool = await create_pool(pg_dsn, schema, max_size=3)
    nc = await nats.connect(nats_server.admin_url)
    js = nc.jetstream()
    await bus.ensure_stream(js)
    durable = f"test-{uuid.uuid4().hex[:8]}"
    events = [new_event("StoryWithdrawn", story_id=str(uuid.uuid4())) for _ in range(3)]
    started, handled = asyncio.Event(), []

    async def stuck(conn, event) -> None:  # noqa: ANN001
        started.set()
        await asyncio.Event().wait()  # until the replica is stopped

    async def record(conn, event) -> None:  # noqa: ANN001
        handled.append(event.id)

    try:
        first = Consumer(js, pool, durable, "stories.withdrawn", {"StoryWithdrawn": stuck}, ack_wait=60)
        await first.fetch(1, wait=0.2)  # creates the durable, from the stream's start
        for event in events:
            await bus.publish(js, event)
        stopping = asyncio.create_task(first.run_once())
        await asyncio.wait_for(started.wait(), 10)
        stopping.cancel()
        await asyncio.gather(stopping, return_exceptions=True)
        await nc.flush()
        other = Consumer(js, pool, durable, "stories.withdrawn", {"StoryWithdrawn": record}, ack_wait=60)
        began = time.monotonic()
        while len(handled) < len(events) and time.monotonic() - began < 10:
            await other.run_once()
        assert sorted(handled) == sorted(e.id for e in events)
    finally:
        await nc.close()
        await pool.close()
