"""Transactional outbox: `enqueue` inside the business transaction, `Relay` publishes.

Open that transaction with `outbox.transaction(pool)`: once it has committed (never
if it rolls back) it wakes this process's relay for the pool's schema, in memory.
Every process that writes an outbox runs that schema's relay, so the writer's own
relay sends the event at once; the other replicas' relays (and a writer with no
relay, such as a command) find rows on their next poll, every `interval` seconds.

Why not a PostgreSQL NOTIFY from the transaction, as before: PostgreSQL serialises
the commits of every transaction that notifies (one database-wide lock, held through
the commit's WAL flush), so under a burst of submissions each commit waited for all
the others' disk flushes, and every relay of every schema woke for every commit.
Measured with `make bench-http`, that lock was the largest wait of the POST path.

When a story is withdrawn or purged, `erase_story_events` (in that transaction)
marks the events this service sent about it; the relay erases them from the
stream, so their copy of the text does not outlive the story by STREAM_MAX_AGE_DAYS."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

import asyncpg
from nats.js import JetStreamContext
from prometheus_client import Counter, Gauge

from shared import relaywake
from shared.bus import NATS_DOWN, erase, publish_many
from shared.db import DB_DOWN
from shared.events import Event, decode

log = logging.getLogger("braided.outbox")

RELAYED = Counter("braided_outbox_relayed_total", "Outbox events published", ["schema"])
ERASED = Counter("braided_outbox_erased_total", "Sent events erased from the stream (story withdrawn or purged)",
                 ["schema"])
PENDING = Gauge("braided_outbox_pending", "Outbox events waiting to be published", ["schema"])
BATCH = 100  # rows the relay sends (and erases) per transaction
PENDING_EVERY = 1.0  # seconds between counts of the backlog for PENDING


async def enqueue(conn: asyncpg.Connection, event: Event) -> None:
    """Write `event` to the outbox; call inside the transaction of the change it
    describes, opened with `transaction(pool)` so the relay is woken when it commits."""
    await conn.execute(INSERT, *row(event))


# Where services open the transaction that enqueues (shared/relaywake.py holds it, so
# that the consumers of shared/consumer.py use the same one).
transaction = relaywake.transaction


# The outbox row of an event, for statements that write it beside the change itself
# (a CTE; the arguments are `row(event)` at $1-$4).
COLUMNS = "event_id, subject, payload, story_id"
# The payload goes as the event's JSON text ($3::text::jsonb), not as a Python object
# for asyncpg's jsonb codec to serialise again: one encoding per event, not three.
PAYLOAD = "$3::text::jsonb"
INSERT = f"INSERT INTO outbox ({COLUMNS}) VALUES ($1, $2, {PAYLOAD}, $4)"


def row(event: Event) -> tuple[Any, ...]:
    """The values of COLUMNS, the arguments of INSERT (the payload at PAYLOAD)."""
    return event.id, event.subject, event.to_json().decode(), event.story_id


async def erase_story_events(conn: asyncpg.Connection, story_ids: list[uuid.UUID]) -> None:
    """Call inside the transaction that removes stories: their events not yet sent
    are dropped (they never reach the stream), the sent ones are marked for the
    relay to erase from the stream. Call before enqueuing any new event about them."""
    # Rows sent before stream_seq was recorded cannot be found in the stream; they
    # go as before, and expire there after STREAM_MAX_AGE_DAYS.
    await conn.execute("DELETE FROM outbox WHERE story_id = ANY($1::uuid[])"
                       " AND (published_on IS NULL OR stream_seq IS NULL)", story_ids)
    await conn.execute("UPDATE outbox SET erase = true WHERE story_id = ANY($1::uuid[])"
                       " AND published_on IS NOT NULL", story_ids)


class Relay:
    """Publishes unpublished outbox rows, oldest first, and marks them sent.

    Rows are claimed with FOR UPDATE SKIP LOCKED so replicas can share an outbox.
    If the process dies after publishing but before marking, the row is published
    again and JetStream drops it by Nats-Msg-Id (or the consumer's inbox does).
    """

    def __init__(self, pool: asyncpg.Pool, js: JetStreamContext, schema: str, interval: float = 0.2) -> None:
        self.pool, self.js, self.schema, self.interval = pool, js, schema, interval
        self.wake = asyncio.Event()

    async def run_once(self, limit: int = BATCH) -> int:
        """Publish what is waiting and erase what is marked; returns how many rows."""
        sent = erased = 0
        async with self.pool.acquire() as conn, conn.transaction():
            # The relay's commits need not wait for the disk: a "sent" mark lost in a
            # crash only sends those events again, which JetStream (Nats-Msg-Id) and
            # every consumer's inbox drop.
            await conn.execute("SET LOCAL synchronous_commit = off")
            rows = await conn.fetch(
                "SELECT event_id, payload::text AS payload FROM outbox WHERE published_on IS NULL"
                " ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED", limit)
            if rows:
                # One batch on the wire and one UPDATE: under a burst of submissions the
                # relay costs a few round trips per batch, not two per event. Each event
                # is checked against the contract (decode) and sent as it is stored.
                bodies = [r["payload"].encode() for r in rows]
                seqs = await publish_many(self.js, [decode(b) for b in bodies], bodies)
                await conn.execute(
                    "UPDATE outbox SET published_on = current_date, stream_seq = s.seq"
                    " FROM unnest($1::uuid[], $2::bigint[]) AS s(event_id, seq) WHERE outbox.event_id = s.event_id",
                    [r["event_id"] for r in rows], seqs)
                sent = len(rows)
            for row in await conn.fetch(
                    "SELECT event_id, stream_seq FROM outbox WHERE erase ORDER BY seq LIMIT $1"
                    " FOR UPDATE SKIP LOCKED", limit):
                await erase(self.js, row["stream_seq"])
                await conn.execute("DELETE FROM outbox WHERE event_id = $1", row["event_id"])
                erased += 1
        if sent:
            RELAYED.labels(self.schema).inc(sent)
        if erased:
            ERASED.labels(self.schema).inc(erased)
        return sent + erased

    async def run(self) -> None:
        relaywake.register(self.pool, self.wake)
        try:
            await self._relay()
        finally:
            relaywake.unregister(self.pool, self.wake)

    async def _relay(self) -> None:
        backoff = self.interval
        counted = 0.0
        while True:
            # Cleared before looking, so a commit from here on wakes the next round:
            # rows committed before are seen by this one.
            self.wake.clear()
            try:
                # Another round at once only after a full batch. Under a burst the relay
                # is woken for every commit; an empty second look after each batch cost
                # a transaction of five statements, and counting the backlog another.
                while await self.run_once(BATCH) >= BATCH:
                    pass
                if time.monotonic() - counted >= PENDING_EVERY:
                    PENDING.labels(self.schema).set(
                        await self.pool.fetchval("SELECT count(*) FROM outbox WHERE published_on IS NULL"))
                    counted = time.monotonic()
                backoff = self.interval
            except asyncio.CancelledError:
                raise
            except NATS_DOWN as e:
                log.warning("relay %s: nats unavailable (%s); will retry", self.schema, type(e).__name__)
                backoff = min(backoff * 2, 2.0)
            except (*DB_DOWN, asyncpg.PostgresError) as e:
                log.warning("relay %s: database unavailable (%s); will retry", self.schema, type(e).__name__)
                backoff = min(backoff * 2, 2.0)
            except Exception:
                log.exception("relay %s: unexpected error", self.schema)
                backoff = 2.0
            if backoff > self.interval:
                self.wake.clear()  # after a failure, the back-off holds however many commits come
            try:
                await asyncio.wait_for(self.wake.wait(), backoff)
            except TimeoutError:
                pass
