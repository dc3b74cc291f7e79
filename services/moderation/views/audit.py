"""The audit log and the dashboard: what was done, and how the queue is doing."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from services.moderation import audit, auth, dashboard, queue, wellbeing
from services.moderation.screen.calibration import calibration
from services.moderation.web import error, moderator_only, page, rt


@moderator_only()
async def audit_page(request: Request) -> Response:
    q = request.query_params
    moderator, story, before = q.get("moderator") or "", (q.get("story") or "").strip(), q.get("before") or ""
    try:
        story_id = uuid.UUID(story) if story else None
    except ValueError:
        return error(request, "The story filter takes a story id (like 3f2b…-…); copy it from an item.", 400)
    if before and not before.isdigit():
        return error(request, "That page link is not valid; start again from the first page.", 400)
    pool = rt(request).pool
    rows, more = await audit.page(pool, moderator, story_id, int(before) if before else None)
    next_url = None
    if more:
        params = {k: v for k, v in (("moderator", moderator), ("story", story)) if v} | {"before": rows[-1]["id"]}
        next_url = "/audit?" + urlencode(params)
    return page(request, "audit.html", {
        "rows": rows, "moderators": await auth.usernames(pool),
        "moderator": moderator, "story": story, "next_url": next_url,
    })


@moderator_only()
async def dashboard_page(request: Request) -> Response:
    pool = rt(request).pool
    return page(request, "dashboard.html", await dashboard.build(pool) | {
        "counts": await queue.counts(pool),
        "calibration": await calibration(pool, rt(request).settings.screen_flag),
        # Her own exposure only: nobody sees another moderator's.
        "exposure": await wellbeing.exposure(pool, request.state.moderator.id)})
