"""Support resources for publishing's /support page: admins edit them here (an
HTML form, one resource per line, or PUT /api/resources)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from services.moderation import resources
from services.moderation.web import json_body, moderator_only, page, rt
from shared.web import csrf_ok


@moderator_only(admin=True)
async def api_get(request: Request) -> Response:
    return JSONResponse(await resources.current(rt(request).pool))


@moderator_only(admin=True)
async def api_put(request: Request) -> Response:
    data = await json_body(request)
    if data is None:
        return JSONResponse({"errors": {"resources": "Send JSON."}}, status_code=422)
    if not isinstance(data, dict):
        return JSONResponse({"errors": {"resources": "Send {\"intro\": …, \"entries\": […]}."}}, status_code=422)
    entries, problem = resources.parse_entries(data.get("entries", []))
    intro, intro_problem = resources.parse_intro(data.get("intro"))
    if problem or intro_problem:
        return JSONResponse({"errors": {"resources": problem or intro_problem}}, status_code=422)
    revision = await resources.save(rt(request).pool, request.state.moderator.id, intro, entries)
    return JSONResponse({"revision": revision, "entries": entries, "intro": intro})


@moderator_only(admin=True)
async def resources_page(request: Request) -> Response:
    data = await resources.current(rt(request).pool)
    return page(request, "resources.html", {"intro": data["intro"], "lines": resources.as_lines(data["entries"]),
                                            "revision": data["revision"], "error": None,
                                            "saved": request.query_params.get("saved")})


@moderator_only(admin=True)
async def resources_form(request: Request) -> Response:
    data = await request.form()
    lines, intro_raw = str(data.get("lines", "")), data.get("intro")
    if not csrf_ok(request, data.get("csrf")):
        problem: str | None = "The form expired; please try again."
    else:
        entries, problem = resources.parse_lines(lines)
        intro, intro_problem = resources.parse_intro(intro_raw if isinstance(intro_raw, str) else "")
        problem = problem or intro_problem
    if problem:
        return page(request, "resources.html", {"intro": intro_raw or "", "lines": lines, "error": problem,
                                                "revision": None, "saved": None}, status_code=422)
    await resources.save(rt(request).pool, request.state.moderator.id, intro, entries)
    return RedirectResponse("/resources?saved=1", status_code=303)
