"""/healthz: the database, NATS, and the screening workers' state."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from services.moderation.web import rt
from shared.web import health_response


async def _screen(pool: Any) -> dict[str, Any]:
    rows = await pool.fetch(
        "SELECT worker_id, model, state, detail, load_seconds FROM screen_workers"
        " WHERE heartbeat_at > now() - interval '30 seconds' ORDER BY worker_id")
    workers = [dict(r) for r in rows]
    if not workers:
        return {"state": "no worker"}
    loaded = [w for w in workers if w["state"] == "loaded"]
    loading = any(w["state"] == "loading" for w in workers)
    screen = {"state": "ok" if loaded else "loading" if loading else "degraded",
              "model": workers[0]["model"], "workers": workers}
    if not loaded:
        screen["detail"] = ("the model is loading: stories wait in the stream" if loading
                            else "no model loaded: stories are filed as unscreened")
    return screen


async def healthz(request: Request) -> Response:
    try:
        screen = await _screen(rt(request).pool)
    except Exception as e:  # health must answer even when the database does not
        screen = {"state": f"unknown: {type(e).__name__}"}
    return await health_response(rt(request).pool, rt(request).nc, {"service": "moderation", "screen": screen})
