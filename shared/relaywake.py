"""Wake this process's outbox relay once a transaction that wrote the outbox commits.

Every process that writes an outbox runs that schema's relay (shared/runtime.py), so
the writer wakes its own relay in memory, with no round trip and no NOTIFY; other
processes' relays find the rows on their next poll. Its own module because both the
outbox (shared/outbox.py, which registers relays) and the consumers (shared/bus.py,
whose handlers write outboxes) need it, and the outbox already imports the bus."""

from __future__ import annotations

import asyncio

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
