"""The outbox relay on a real PostgreSQL and the embedded, authenticated NATS: a burst
of events goes out as one batch, in the order it was written, each row marked with
its own stream sequence."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import asyncpg

from shared import bus
from shared.db import COMMON_SQL, create_pool, migrate
from shared.events import STREAM, new_event
from shared.infra import EmbeddedNats
from shared.outbox import Relay, enqueue


async def test_a_burst_is_published_in_order_and_each_row_gets_its_own_sequence(
        pg_dsn: str, nats_server: EmbeddedNats) -> None:
    schema = f"relay_{uuid.uuid4().hex[:8]}"
    await migrate(pg_dsn, schema, sorted(COMMON_SQL.glob("*.sql")))
    pool = await create_pool(pg_dsn, schema, max_size=2)
    creds = nats_server.credentials("submission")
    nc = await bus.connect(nats_server.url, "test-relay", user=creds["NATS_USER"], password=creds["NATS_PASSWORD"])
    try:
        js = nc.jetstream()
        await bus.ensure_stream(js)
        events = [new_event("StoryWithdrawn", story_id=str(uuid.uuid4())) for _ in range(30)]
        async with pool.acquire() as conn, conn.transaction():
            for event in events:
                await enqueue(conn, event)

        assert await Relay(pool, js, schema).run_once(limit=100) == 30

        rows = await pool.fetch("SELECT event_id, stream_seq FROM outbox WHERE published_on IS NOT NULL")
        seq_of = {str(r["event_id"]): r["stream_seq"] for r in rows}
        assert len(seq_of) == 30
        seqs = [seq_of[e.id] for e in events]
        assert seqs == sorted(seqs) and len(set(seqs)) == 30  # written order is stream order
        anc = await bus.connect(nats_server.admin_url, "test-relay-admin")
        try:
            for event, seq in zip(events, seqs, strict=True):
                msg = await anc.jetstream().get_msg(STREAM, seq)
                assert msg.headers and msg.headers.get("Nats-Msg-Id") == event.id
        finally:
            await anc.close()
        assert await Relay(pool, js, schema).run_once() == 0  # nothing is sent twice
    finally:
        await nc.close()
        await pool.close()


@contextlib.asynccontextmanager
async def _running_relay(pg_dsn: str, nats_server: EmbeddedNats) -> AsyncIterator[tuple[asyncpg.Pool, Relay]]:
    """A relay running on a fresh schema, polling only every 60 s: an event it sends
    within seconds was sent because something woke it."""
    schema = f"relay_{uuid.uuid4().hex[:8]}"
    await migrate(pg_dsn, schema, sorted(COMMON_SQL.glob("*.sql")))
    pool = await create_pool(pg_dsn, schema, max_size=3)
    creds = nats_server.credentials("submission")
    nc = await bus.connect(nats_server.url, "test-relay", user=creds["NATS_USER"], password=creds["NATS_PASSWORD"])
    await bus.ensure_stream(nc.jetstream())
    relay = Relay(pool, nc.jetstream(), schema, interval=60)
    task = asyncio.create_task(relay.run())
    try:
        yield pool, relay
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await nc.close()
        await pool.close()


async def test_a_commit_wakes_the_running_relay_at_once_and_a_rollback_sends_nothing(
        pg_dsn: str, nats_server: EmbeddedNats) -> None:
    """The relay polls only every 60 s here, so an event sent within 5 s was sent because
    `outbox.transaction` woke it after the commit; a rolled-back event is never sent."""
    from shared import outbox

    async with _running_relay(pg_dsn, nats_server) as (pool, relay):
        await asyncio.sleep(0.5)  # its first poll, at start, finds nothing; then it sleeps 60 s

        class Undo(Exception):
            pass

        try:
            async with outbox.transaction(pool) as conn:
                await enqueue(conn, new_event("StoryWithdrawn", story_id=str(uuid.uuid4())))
                raise Undo
        except Undo:
            pass
        assert not relay.wake.is_set()  # nothing committed: nothing to wake for
        async with outbox.transaction(pool) as conn:
            await enqueue(conn, new_event("StoryWithdrawn", story_id=str(uuid.uuid4())))
        sent = None
        for _ in range(100):
            sent = await pool.fetchval("SELECT count(*) FROM outbox WHERE published_on IS NOT NULL")
            if sent:
                break
            await asyncio.sleep(0.05)
        assert sent == 1
        assert await pool.fetchval("SELECT count(*) FROM outbox") == 1


async def test_one_wake_sends_a_backlog_of_several_batches(pg_dsn: str, nats_server: EmbeddedNats) -> None:
    """The relay looks again at once only after a full batch (shared/outbox.py BATCH):
    one wake still sends a backlog two and a half batches long, within seconds, though
    the relay polls only every 60 s."""
    from shared import outbox, relaywake

    backlog = outbox.BATCH * 5 // 2
    async with _running_relay(pg_dsn, nats_server) as (pool, _relay):
        await asyncio.sleep(0.5)  # its first poll finds nothing; then it sleeps 60 s
        async with pool.acquire() as conn, conn.transaction():  # no wake: as another replica's commit
            for _ in range(backlog):
                await enqueue(conn, new_event("StoryWithdrawn", story_id=str(uuid.uuid4())))
        relaywake.committed(pool)
        sent = 0
        for _ in range(200):
            sent = await pool.fetchval("SELECT count(*) FROM outbox WHERE published_on IS NOT NULL")
            if sent == backlog:
                break
            await asyncio.sleep(0.05)
        assert sent == backlog
