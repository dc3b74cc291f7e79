"""Moderation service: login, the review queue and decisions (moderators only)."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from services.moderation import auth, queue, resources
from services.moderation.handlers import DECISIONS, REASON_MAX, Conflict, Decision, decide
from services.moderation.handlers import HANDLERS as EVENT_HANDLERS
from shared import bus
from shared.config import Settings
from shared.runtime import Runtime, lifespan
from shared.text import clean_for_display, clean_line
from shared.web import (
    BodyLimit,
    SecurityHeaders,
    cookie_secure,
    csrf_ok,
    csrf_token,
    exception_handlers,
    health_response,
    metrics,
    set_csrf_cookie,
    static_files,
    templates,
)

HERE = Path(__file__).parent
TEMPLATES = templates(HERE)

# Routes reachable without a session; tests/services/moderation prove every other
# route refuses an anonymous request.
PUBLIC_PATHS = frozenset({"/login", "/api/session", "/healthz", "/metrics", "/static"})


def _rt(request: Request) -> Runtime:
    return request.state.rt


Endpoint = Callable[[Request], Awaitable[Response]]


def moderator_only(admin: bool = False) -> Callable[[Endpoint], Endpoint]:
    def wrap(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            rt = _rt(request)
            mod = await auth.session_moderator(rt.pool, request.cookies.get(auth.SESSION_COOKIE),
                                               rt.settings.secret())
            api = request.url.path.startswith("/api/")
            if mod is None:
                if api:
                    return JSONResponse({"error": "Log in first."}, status_code=401)
                return RedirectResponse("/login", status_code=303)
            if admin and not mod.is_admin:
                if api:
                    return JSONResponse({"error": "Only admins can do this."}, status_code=403)
                return _page(request, "error.html", {"message": "Only admins can do this."}, status_code=403)
            if request.method == "POST" and api and "application/json" not in request.headers.get(
                    "content-type", ""):
                # A cross-site form cannot send JSON without a CORS preflight, which we never grant.
                return JSONResponse({"error": "Send JSON (Content-Type: application/json)."}, status_code=415)
            request.state.moderator = mod
            return await endpoint(request)

        guarded.moderator_only = True  # type: ignore[attr-defined]
        guarded.admin_only = admin  # type: ignore[attr-defined]
        return guarded

    return wrap


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    context = {"csrf": csrf_token(request), "me": getattr(request.state, "moderator", None)} | context
    response = TEMPLATES.TemplateResponse(request, name, context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return set_csrf_cookie(request, response, _rt(request).settings.cookie_secure)


# --- Session ---------------------------------------------------------------------------


async def login_page(request: Request) -> Response:
    return _page(request, "login.html", {"error": None})


def _session_cookie(request: Request, response: Response, value: str) -> Response:
    response.set_cookie(auth.SESSION_COOKIE, value, max_age=auth.SESSION_SECONDS, httponly=True,
                        samesite="strict", path="/",
                        secure=cookie_secure(request, _rt(request).settings.cookie_secure))
    return response


async def login(request: Request) -> Response:
    form = await request.form()
    if not csrf_ok(request, form.get("csrf")):
        return _page(request, "login.html", {"error": "The form expired; please try again."}, status_code=400)
    mod = await auth.authenticate(_rt(request).pool, str(form.get("username", "")), str(form.get("password", "")))
    if mod is None:
        return _page(request, "login.html", {"error": "That username and password do not match."},
                     status_code=401)
    cookie = await auth.start_session(_rt(request).pool, mod, _rt(request).settings.secret())
    return _session_cookie(request, RedirectResponse("/queue", status_code=303), cookie)


async def api_login(request: Request) -> Response:
    try:
        data = json.loads(await request.body())
        username, password = data["username"], data["password"]
        if not isinstance(username, str) or not isinstance(password, str):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return JSONResponse({"errors": {"session": "Send {\"username\": …, \"password\": …} as JSON."}},
                            status_code=422)
    mod = await auth.authenticate(_rt(request).pool, username, password)
    if mod is None:
        return JSONResponse({"errors": {"session": "That username and password do not match."}}, status_code=401)
    cookie = await auth.start_session(_rt(request).pool, mod, _rt(request).settings.secret())
    return _session_cookie(request, JSONResponse({"username": mod.username, "role": mod.role}), cookie)


@moderator_only()
async def logout(request: Request) -> Response:
    form = await request.form()
    if not csrf_ok(request, form.get("csrf")):
        return _page(request, "error.html", {"message": "The form expired; please try again."}, status_code=400)
    await auth.end_session(_rt(request).pool, request.cookies.get(auth.SESSION_COOKIE), _rt(request).settings.secret())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


# --- Queue -----------------------------------------------------------------------------


def _filters(request: Request) -> tuple[str, str | None, str | None] | str:
    state = request.query_params.get("state", "pending")
    label = request.query_params.get("label") or None
    if state not in queue.STATES:
        return f"state must be one of {', '.join(queue.STATES)}"
    if label is not None and label not in queue.LABELS:
        return f"label must be one of {', '.join(queue.LABELS)}"
    return state, label, request.query_params.get("cursor") or None


@moderator_only()
async def home(request: Request) -> Response:
    return RedirectResponse("/queue", status_code=303)


@moderator_only()
async def queue_page(request: Request) -> Response:
    f = _filters(request)
    if isinstance(f, str):
        return _page(request, "error.html", {"message": f}, status_code=400)
    state, label, cursor = f
    try:
        items, next_cursor = await queue.list_items(_rt(request).pool, state, label, cursor)
    except queue.BadCursor as e:
        return _page(request, "error.html", {"message": str(e)}, status_code=400)
    return _page(request, "queue.html", {
        "items": items, "next": next_cursor, "state": state, "label": label,
        "counts": await queue.counts(_rt(request).pool), "flash": request.query_params.get("done"),
    })


@moderator_only()
async def api_queue(request: Request) -> Response:
    f = _filters(request)
    if isinstance(f, str):
        return JSONResponse({"errors": {"query": f}}, status_code=422)
    try:
        items, next_cursor = await queue.list_items(_rt(request).pool, *f)
    except queue.BadCursor as e:
        return JSONResponse({"errors": {"cursor": str(e)}}, status_code=422)
    return JSONResponse({"items": [queue.item_json(r) for r in items], "next": next_cursor})


def _parse_decision(data: Any) -> Decision | dict[str, str]:
    if not isinstance(data, dict):
        return {"decision": "Send a JSON object."}
    decision, reason, cws = data.get("decision"), data.get("reason"), data.get("content_warnings") or []
    errors = {}
    if decision not in DECISIONS:
        errors["decision"] = "Choose approve or reject."
    if reason is not None and not isinstance(reason, str):
        errors["reason"] = "A reason is text."
    reason = clean_for_display(reason).strip() or None if isinstance(reason, str) else None
    if reason and len(reason) > REASON_MAX:
        errors["reason"] = f"Keep the reason to {REASON_MAX} characters."
    if isinstance(cws, str):
        cws = cws.split(",")
    if not isinstance(cws, list) or not all(isinstance(c, str) for c in cws) or len(cws) > 10:
        errors["content_warnings"] = "Content warnings are a list of up to 10 short phrases."
        cws = []
    cws = [c for c in (clean_line(c)[:60] for c in cws) if c]
    if decision == "reject" and not reason:
        errors["reason"] = "Give the author a reason; they will see it with their receipt."
    if errors:
        return errors
    return Decision(decision, reason, cws)


def _story_id(request: Request) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.path_params["id"])
    except ValueError:
        return None


@moderator_only()
async def api_decide(request: Request) -> Response:
    story_id = _story_id(request)
    if story_id is None:
        return JSONResponse({"error": "No such item."}, status_code=404)
    try:
        data = json.loads(await request.body())
    except ValueError:
        return JSONResponse({"errors": {"decision": "Send the decision as JSON."}}, status_code=422)
    parsed = _parse_decision(data)
    if isinstance(parsed, dict):
        return JSONResponse({"errors": parsed}, status_code=422)
    try:
        await decide(_rt(request).pool, story_id, request.state.moderator, parsed)
    except Conflict as e:
        if e.state is None:
            return JSONResponse({"error": "No such item (it may have been withdrawn)."}, status_code=404)
        return JSONResponse({"error": f"Another moderator already {e.state} this story.", "state": e.state},
                            status_code=409)
    _rt(request).wake_relay()
    return JSONResponse({"id": str(story_id), "state": "approved" if parsed.decision == "approve" else "rejected"})


@moderator_only()
async def decide_form(request: Request) -> Response:
    story_id = _story_id(request)
    form = await request.form()
    if not csrf_ok(request, form.get("csrf")):
        return _page(request, "error.html", {"message": "The form expired; go back and try again."},
                     status_code=400)
    if story_id is None:
        return _page(request, "error.html", {"message": "No such item."}, status_code=404)
    parsed = _parse_decision({"decision": form.get("decision"), "reason": form.get("reason"),
                              "content_warnings": form.get("content_warnings") or []})
    if isinstance(parsed, dict):
        return _page(request, "error.html", {"message": " ".join(parsed.values())}, status_code=422)
    try:
        await decide(_rt(request).pool, story_id, request.state.moderator, parsed)
    except Conflict as e:
        message = ("This story was withdrawn by its author." if e.state is None
                   else f"Another moderator already {e.state} this story; nothing was changed.")
        return _page(request, "error.html", {"message": message}, status_code=409 if e.state else 404)
    _rt(request).wake_relay()
    return RedirectResponse(f"/queue?done={parsed.decision}d", status_code=303)


async def healthz(request: Request) -> Response:
    rt = _rt(request)
    screen: dict[str, Any] = {"state": "no worker"}
    try:
        rows = await rt.pool.fetch(
            "SELECT worker_id, model, state, detail, load_seconds FROM screen_workers"
            " WHERE heartbeat_at > now() - interval '30 seconds' ORDER BY worker_id")
        workers = [dict(r) for r in rows]
        if workers:
            loaded = [w for w in workers if w["state"] == "loaded"]
            screen = {"state": "ok" if loaded else "degraded", "model": workers[0]["model"],
                      "workers": workers}
            if not loaded:
                screen["detail"] = "no model loaded: stories are filed as unscreened"
    except Exception as e:  # health must answer even when the database does not
        screen = {"state": f"unknown: {type(e).__name__}"}
    return await health_response(rt.pool, rt.nc, {"service": "moderation", "screen": screen})


def _consumers(rt: Runtime) -> list[bus.Consumer]:
    return [bus.Consumer(rt.js, rt.pool, "moderation", "stories.>", EVENT_HANDLERS)]


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    return Starlette(
        routes=[
            Route("/", home),
            Route("/login", login_page),
            Route("/login", login, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/queue", queue_page),
            Route("/queue/{id}/decision", decide_form, methods=["POST"]),
            Route("/api/session", api_login, methods=["POST"]),
            Route("/api/queue", api_queue),
            Route("/api/queue/{id}/decision", api_decide, methods=["POST"]),
            # Support resources for publishing's /support page (admins only; see resources.py).
            Route("/resources", moderator_only(admin=True)(resources.page)),
            Route("/resources", moderator_only(admin=True)(resources.form), methods=["POST"]),
            Route("/api/resources", moderator_only(admin=True)(resources.api_get)),
            Route("/api/resources", moderator_only(admin=True)(resources.api_put), methods=["PUT"]),
            Route("/healthz", healthz),
            Route("/metrics", metrics),
            Mount("/static", static_files(), name="static"),
        ],
        middleware=[Middleware(SecurityHeaders), Middleware(BodyLimit, max_bytes=settings.max_body_bytes)],
        exception_handlers=exception_handlers(),
        lifespan=lifespan("moderation", HERE, settings=settings, consumers=_consumers),
    )
