"""/healthz: the database, NATS, and the screening workers' state."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response

from services.moderation.screen.status import screen_status
from services.moderation.web import rt
from shared.web import health_response


async def healthz(request: Request) -> Response:
    """200 while the database and NATS answer. The top-level `status` is `degraded`
    while no screening worker has a model (stories then reach moderators unscreened)."""
    try:
        screen = await screen_status(rt(request).pool)
    except Exception as e:  # health must answer even when the database does not
        screen = {"state": f"unknown: {type(e).__name__}"}
    response = await health_response(rt(request).pool, rt(request).nc, {"service": "moderation", "screen": screen})
    body = json.loads(response.body)
    if body["status"] == "ok" and screen.get("off"):
        body["status"] = "degraded"
        return Response(json.dumps(body, default=str), status_code=response.status_code,
                        media_type="application/json")
    return response
