"""Transactional outbox: `enqueue` inside the business transaction, `Relay` publishes.

`enqueue` also wakes the relay: a PostgreSQL NOTIFY, which the database delivers
when the transaction commits (and never if it rolls back), to the relay that
LISTENs on its schema's channel. So no caller has to remember to wake it, and
every replica's relay hears every commit; a relay that misses a notification (its
listening connection was lost) still finds the row on its next poll.

When a story is withdrawn or purged, `erase_story_events` (in that transaction)
marks the events this service sent about it; the relay erases them from the
stream, so their copy of the text does not outlive the story by STREAM_MAX_AGE_DAYS."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Any

import asyncpg
from nats.js import JetStreamContext
from prometheus_client import Counter, Gauge

from shared.bus import NATS_DOWN, erase, publish_many
from shared.db import DB_DOWN
from shared.events import Event, decode

log = logging.getLogger("braided.outbox")

RELAYED = Counter("braided_outbox_relayed_total", "Outbox events published", ["schema"])
ERASED = Counter("braided_outbox_erased_total", "Sent events erased from the stream (story withdrawn or purged)",
                 ["schema"])
PENDING = Gauge("braided_outbox_pending", "Outbox events waiting to be published", ["schema"])


# One channel; the payload names the schema whose outbox has a new row.
CHANNEL = "braided_outbox"


async def enqueue(conn: asyncpg.Connection, event: Event) -> None:
    """Write `event` to the outbox; call inside the transaction of the change it
    describes. The relay is woken when that transaction commits."""
    # One statement, one round trip: the row and the wake-up.
    await conn.execute(
        f"WITH event AS ({INSERT}) SELECT pg_notify($5, current_schema())", *row(event), CHANNEL)


# The outbox row of an event, for statements that write it beside the change itself
# (a CTE; the arguments are `row(event)` at $1-$4).
COLUMNS = "event_id, subject, payload, story_id"
INSERT = f"INSERT INTO outbox ({COLUMNS}) VALUES ($1, $2, $3, $4)"


def row(event: Event) -> tuple[Any, ...]:
    """The values of COLUMNS, the arguments of INSERT."""
    return event.id, event.subject, json.loads(event.to_json()), event.story_id


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
        self._listener: asyncpg.Connection | None = None

    def _notified(self, conn: object, pid: int, channel: str, payload: str) -> None:
        if payload == self.schema:
            self.wake.set()

    async def _listen(self) -> None:
        """Hold one connection that LISTENs for enqueue's NOTIFY (again after it was lost)."""
        if self._listener is not None:
            if _alive(self._listener):
                return
            await self._unlisten()
        conn = await self.pool.acquire()
        try:
            await conn.add_listener(CHANNEL, self._notified)
        except BaseException:
            await self.pool.release(conn)
            raise
        self._listener = conn

    async def _unlisten(self) -> None:
        conn, self._listener = self._listener, None
        if conn is None:
            return
        with contextlib.suppress(*DB_DOWN, asyncpg.PostgresError):
            await conn.remove_listener(CHANNEL, self._notified)
        with contextlib.suppress(asyncpg.InterfaceError):  # the pool took it back when it was lost
            await self.pool.release(conn)

    async def run_once(self, limit: int = 100) -> int:
        """Publish what is waiting and erase what is marked; returns how many rows."""
        sent = erased = 0
        async with self.pool.acquire() as conn, conn.transaction():
            # The relay's commits need not wait for the disk: a "sent" mark lost in a
            # crash only sends those events again, which JetStream (Nats-Msg-Id) and
            # every consumer's inbox drop.
            await conn.execute("SET LOCAL synchronous_commit = off")
            rows = await conn.fetch(
                "SELECT event_id, payload FROM outbox WHERE published_on IS NULL"
                " ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED", limit)
            if rows:
                # One batch on the wire and one UPDATE: under a burst of submissions the
                # relay costs a few round trips per batch, not two per event.
                seqs = await publish_many(self.js, [decode(json.dumps(r["payload"]).encode()) for r in rows])
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
        try:
            await self._relay()
        finally:
            await self._unlisten()

    async def _relay(self) -> None:
        backoff = self.interval
        while True:
            try:
                await self._listen()
                while await self.run_once() > 0:
                    pass
                PENDING.labels(self.schema).set(
                    await self.pool.fetchval("SELECT count(*) FROM outbox WHERE published_on IS NULL"))
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
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), backoff)
            except TimeoutError:
                pass


def _alive(conn: asyncpg.Connection) -> bool:
    try:
        return not conn.is_closed()
    except asyncpg.InterfaceError:  # the pool took the connection back when PostgreSQL dropped it
        return False
