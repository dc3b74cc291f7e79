"""Retention: each service periodically purges rejected stories from its own schema.

A service hands `open_runtime(..., purge=...)` a function that deletes, in its own
schema only, what it holds of stories rejected at least RETENTION_DAYS ago and
returns how many it purged. There is no cross-schema purge: each service decides
from its own state (its own copy of the rejection), so "each service touches only
its own schema" holds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import asyncpg
from prometheus_client import Counter

from shared.bus import DB_DOWN

log = logging.getLogger("braided.retention")

Purge = Callable[[asyncpg.Pool, int], Awaitable[int]]

PURGED = Counter("braided_retention_purged_total", "Rejected stories purged", ["schema"])


async def run_purges(pool: asyncpg.Pool, schema: str, purge: Purge, days: int, every: float) -> None:
    """Run `purge` now and then every `every` seconds, until cancelled."""
    while True:
        try:
            n = await purge(pool, days)
            if n:
                PURGED.labels(schema).inc(n)
                log.info("purged rejected stories", extra={"schema": schema, "count": n, "days": days})
        except asyncio.CancelledError:
            raise
        except (*DB_DOWN, asyncpg.PostgresError) as e:
            log.warning("retention %s: purge failed (%s); will retry", schema, type(e).__name__)
        except Exception:
            log.exception("retention %s: unexpected error", schema)
        await asyncio.sleep(every)
