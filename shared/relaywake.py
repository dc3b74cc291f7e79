"""Wake this process's outbox relay once a transaction that wrote the outbox commits
(`transaction(pool)`, or `committed(pool)` after a single statement).

Every process that writes an outbox runs that schema's relay (shared/runtime.py), so
the writer wakes its own relay in memory, with no round trip and no NOTIFY; other
processes' relays find the rows on their next poll. Its own module because both the
outbox (shared/outbox.py, which registers relays) and the consumers
(shared/consumer.py, whose handlers write outboxes) need it, and the outbox already
imports the bus."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import asyncpg

# This process's running relay's wake-up per pool, by id: asyncpg pools take no weak
# references, so a relay registers while it runs and leaves when it stops.
_WAKE: dict[int, asyncio.Event] = {}


def register(pool: asyncpg.Pool, wake: asyncio.Event) -> None:
    _WAKE[id(pool)] = wake


def unregister(pool: asyncpg.Pool, wake: asyncio.Event) -> None:
    if _WAKE.get(id(pool)) is wake:
        del _WAKE[id(pool)]


def committed(pool: asyncpg.Pool) -> None:
    """Call after a transaction on `pool` that enqueued has committed: wakes the relay."""
    if (wake := _WAKE.get(id(pool))) is not None:
        wake.set()


@contextlib.asynccontextmanager
async def transaction(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection in a transaction; after it commits (not if it rolls back), this
    process's relay for `pool` wakes."""
    async with pool.acquire() as conn:
        async with conn.transaction():
            yield conn
    committed(pool)
