"""Whether the machine screen is on, as moderators and operators need to know it.

The screening workers report their model's state in `screen_workers` (a heartbeat
every few seconds); this module reads those rows for /healthz, the moderators'
banner and the `braided_screen_up` gauge, and carries the admin's "Retry loading
the model" press to the workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import asyncpg
from prometheus_client import Gauge

log = logging.getLogger("braided.screen")

BANNER = "The machine screen is off: read every story in full"
SCREEN_UP = Gauge("braided_screen_up", "1 while at least one screening worker has a model loaded, else 0")
_CACHE_SECONDS = 2.0


async def screen_status(pool: Any) -> dict[str, Any]:
    """The screen's state: `ok` (some worker has a model), `loading` (a worker is
    loading its first model: stories wait in the stream), `degraded` (workers run
    without a model: stories are filed `unscreened`) or `no worker`. `off` is true
    whenever no worker has a model, with `reason` in words for the banner."""
    rows = await pool.fetch(
        "SELECT worker_id, model, state, detail, load_seconds FROM screen_workers"
        " WHERE heartbeat_at > now() - interval '30 seconds' ORDER BY worker_id")
    workers = [dict(r) for r in rows]
    if not workers:
        screen: dict[str, Any] = {"state": "no worker", "off": True,
                                  "reason": "no screening worker is running: new stories wait until one starts"}
    else:
        loaded = [w for w in workers if w["state"] == "loaded"]
        loading = any(w["state"] == "loading" for w in workers)
        screen = {"state": "ok" if loaded else "loading" if loading else "degraded", "model": workers[0]["model"],
                  "workers": workers, "off": not loaded}
        if not loaded:
            screen["detail"] = ("the model is loading: stories wait in the stream" if loading
                                else "no model loaded: stories are filed as unscreened")
            reasons = sorted({w["detail"] for w in workers if w["detail"]})
            screen["reason"] = (screen["detail"] if loading or not reasons
                                else f"{screen['detail']} ({'; '.join(reasons)})")
    SCREEN_UP.set(0 if screen["off"] else 1)
    return screen


async def cached_status(rt: Any) -> dict[str, Any] | None:
    """screen_status, at most every couple of seconds per process (every moderator
    page shows it); None when the database does not answer."""
    now = time.monotonic()
    hit = rt.extra.get("screen_status")
    if hit and now - hit[0] < _CACHE_SECONDS:
        return hit[1]
    try:
        status = await screen_status(rt.pool)
    except (TimeoutError, asyncpg.PostgresError, OSError):
        return None
    rt.extra["screen_status"] = (now, status)
    return status


async def keep_gauge(rt: Any, every: float = 5.0) -> None:
    """Keeps `braided_screen_up` current between page views (the web app runs it)."""
    while True:
        with contextlib.suppress(Exception):
            rt.extra["screen_status"] = (time.monotonic(), await screen_status(rt.pool))
        await asyncio.sleep(every)


async def request_retry(pool: Any) -> int:
    """The admin pressed "Retry loading the model": waiting workers try at once."""
    return await pool.fetchval("UPDATE screen_control SET retry_presses = retry_presses + 1 WHERE id = 1"
                               " RETURNING retry_presses")


async def retry_presses(pool: Any) -> int:
    return await pool.fetchval("SELECT retry_presses FROM screen_control WHERE id = 1") or 0
