"""Retention: each service periodically purges rejected stories from its own schema.

A service hands `open_runtime(..., purge=...)` a function that deletes, in its own
schema only, what it holds of stories rejected at least RETENTION_DAYS ago and
returns how many it purged. There is no cross-schema purge: each service decides
from its own state (its own copy of the rejection), so "each service touches only
its own schema" holds.

Every service also tidies its messaging tables on the same sweep (`tidy_messaging`):
inbox ids and sent outbox rows outlive their usefulness once JetStream has dropped
the event (STREAM_MAX_AGE_DAYS), and parked messages, which carry story text, are
kept for an operator no longer than the stream or RETENTION_DAYS, whichever is longer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import asyncpg
from prometheus_client import Counter

from shared.db import DB_DOWN

log = logging.getLogger("braided.retention")

Purge = Callable[[asyncpg.Pool, int], Awaitable[int]]

PURGED = Counter("braided_retention_purged_total", "Rejected stories purged", ["schema"])
TIDIED = Counter("braided_messaging_rows_tidied_total", "Old inbox, sent outbox and parked rows deleted",
                 ["schema", "table"])


def _deleted(status: str) -> int:
    # asyncpg returns the command tag, e.g. "DELETE 12".
    return int(status.split()[-1])


async def tidy_messaging(pool: asyncpg.Pool, stream_days: int, retention_days: int) -> dict[str, int]:
    """Delete what the messaging tables no longer need; returns rows deleted per table.

    - processed_events: an event older than the stream's max age can no longer be
      delivered, so its id need not be remembered (a day's margin for clock skew).
    - outbox rows already sent: JetStream held the copy, and has dropped it too.
    - parked_messages: kept max(stream, RETENTION_DAYS) days for an operator to look at.
    """
    horizon = stream_days + 1
    async with pool.acquire() as conn:
        return {
            "processed_events": _deleted(await conn.execute(
                "DELETE FROM processed_events WHERE processed_on < current_date - $1::int", horizon)),
            "outbox": _deleted(await conn.execute(
                "DELETE FROM outbox WHERE published_on < current_date - $1::int", horizon)),
            "parked_messages": _deleted(await conn.execute(
                "DELETE FROM parked_messages WHERE parked_on < current_date - $1::int",
                max(horizon, retention_days))),
        }


async def run_purges(pool: asyncpg.Pool, schema: str, purge: Purge | None, days: int, every: float,
                     stream_days: int) -> None:
    """Run `purge` (if the schema holds stories that can be rejected) and tidy the
    messaging tables now and then every `every` seconds, until cancelled."""
    while True:
        try:
            n = await purge(pool, days) if purge is not None else 0
            if n:
                PURGED.labels(schema).inc(n)
                log.info("purged rejected stories", extra={"schema": schema, "count": n, "days": days})
            for table, count in (await tidy_messaging(pool, stream_days, days)).items():
                if count:
                    TIDIED.labels(schema, table).inc(count)
        except asyncio.CancelledError:
            raise
        except (*DB_DOWN, asyncpg.PostgresError) as e:
            log.warning("retention %s: purge failed (%s); will retry", schema, type(e).__name__)
        except Exception:
            log.exception("retention %s: unexpected error", schema)
        await asyncio.sleep(every)
