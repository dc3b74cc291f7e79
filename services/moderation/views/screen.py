"""The machine screen's controls on the dashboard (admins): retry loading the
model, and apply (or remove) a calibrated flag threshold."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from services.moderation import audit
from services.moderation.screen import calibration, status
from services.moderation.screen.policy import SCORE_LABELS
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


@moderator_only(admin=True)
async def threshold_form(request: Request) -> Response:
    """Apply the calibration table's suggested flag threshold for one label (or,
    with an empty threshold, go back to SCREEN_FLAG's). Workers use it within seconds."""
    data = await form(request)
    if data is None:
        return error(request, EXPIRED, 400)
    label, raw = str(data.get("label") or ""), str(data.get("threshold") or "").strip()
    try:
        threshold = float(raw) if raw else None
    except ValueError:
        threshold = -1.0
    if label not in SCORE_LABELS or (threshold is not None and not 0 <= threshold <= 1):
        return error(request, "Choose a label and a threshold between 0 and 1.", 422)
    async with rt(request).pool.acquire() as conn, conn.transaction():
        await calibration.set_override(conn, label, threshold, request.state.moderator.id)
        await audit.record(conn, request.state.moderator.id, "screen_threshold", {"label": label, "flag": threshold})
    said = (f"{label} now flags at {threshold:.2f}" if threshold is not None
            else f"{label} flags at SCREEN_FLAG's value again")
    return done("/dashboard#calibration", f"{said}; new stories are screened with it within a few seconds.")
