"""The machine screen's controls on the dashboard (admins): retry loading the model."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from services.moderation import audit
from services.moderation.screen import status
from services.moderation.web import EXPIRED, done, error, form, moderator_only, rt


@moderator_only(admin=True)
async def retry_form(request: Request) -> Response:
    """Ask every screening worker waiting to retry its model to try now."""
    if await form(request) is None:
        return error(request, EXPIRED, 400)
    pool = rt(request).pool
    async with pool.acquire() as conn:
        await audit.record(conn, request.state.moderator.id, "screen_retry", {})
    await status.request_retry(pool)
    rt(request).extra.pop("screen_status", None)
    return done("/dashboard#screen", "Asked the screening workers to load the model now; this page shows the "
                "outcome within a few seconds of reloading.")
