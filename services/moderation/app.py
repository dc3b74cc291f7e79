"""Moderation service: the moderators' workspace (moderators only).

Every page works as plain HTML forms; /static/mod-queue.js only enhances
(keyboard, live "N new stories", reveal without reload, soft claims). Forms carry
a CSRF token; JSON APIs need Content-Type: application/json, which a cross-site
form cannot send, and the session cookie is SameSite=Strict.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route

from services.moderation import auth, dashboard, queue, render, resources, retention, wordlists
from services.moderation import openapi as moderation_openapi
from services.moderation.handlers import (
    DECISIONS,
    REASON_MAX,
    Conflict,
    Decision,
    decide,
    dismiss_reports,
    takedown,
)
from services.moderation.handlers import HANDLERS as EVENT_HANDLERS
from services.moderation.throttle import LoginThrottle
from shared import bus
from shared.config import Settings
from shared.events import BadEvent, decode
from shared.runtime import Runtime, lifespan
from shared.text import clean_for_display, clean_line
from shared.web import (
    CSRF_COOKIE,
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
TEMPLATES.env.globals.update(score_bars=render.score_bars, fired_labels=render.fired_labels)

# Routes reachable without a session; tests/services/moderation prove every other
# route refuses an anonymous request.
PUBLIC_PATHS = frozenset({"/login", "/api/session", "/healthz", "/metrics", "/static", "/openapi.json"})
BULK_MAX = 100
PAST = {"approve": "approved", "reject": "rejected"}
SSE_SECONDS = 600  # a live-update stream ends after this; EventSource reconnects


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
                if api or request.url.path == "/events":
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


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200,
          headers: dict[str, str] | None = None) -> Response:
    context = {"csrf": csrf_token(request), "me": getattr(request.state, "moderator", None),
               "path": request.url.path} | context
    response = TEMPLATES.TemplateResponse(request, name, context, status_code=status_code, headers=headers)
    response.headers["Cache-Control"] = "no-store"
    return set_csrf_cookie(request, response, _rt(request).settings.cookie_secure)


def _error(request: Request, message: str, status_code: int) -> Response:
    return _page(request, "error.html", {"message": message}, status_code=status_code)


async def _form(request: Request) -> FormData | None:
    """The posted form, or None when its CSRF token does not match."""
    form = await request.form()
    return form if csrf_ok(request, form.get("csrf")) else None


_EXPIRED = "The form expired (or came from another site); go back, reload and try again."


def _back(form: FormData | None, default: str = "/queue") -> str:
    """Where a form asked to return to: only a path on this site."""
    target = str((form or {}).get("next") or "")
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def _with_flash(url: str, message: str) -> str:
    path, _, fragment = url.partition("#")
    sep = "&" if "?" in path else "?"
    return f"{path}{sep}{urlencode({'done': message})}" + (f"#{fragment}" if fragment else "")


# --- Session ---------------------------------------------------------------------------


def _throttle(rt: Runtime) -> LoginThrottle:
    if "throttle" not in rt.extra:
        rt.extra["throttle"] = LoginThrottle(rt.js, client_failures=rt.settings.login_client_failures)
    return rt.extra["throttle"]


def _client(request: Request) -> str:
    # Only ever passed to the limiter, which keeps an HMAC of it in memory-only NATS KV.
    return request.client.host if request.client else "unknown"


async def login_page(request: Request) -> Response:
    if await auth.session_moderator(_rt(request).pool, request.cookies.get(auth.SESSION_COOKIE),
                                    _rt(request).settings.secret()):
        return RedirectResponse("/queue", status_code=303)
    return _page(request, "login.html", {"error": None})


def _session_cookie(request: Request, response: Response, value: str) -> Response:
    secure = cookie_secure(request, _rt(request).settings.cookie_secure)
    response.set_cookie(auth.SESSION_COOKIE, value, max_age=auth.SESSION_SECONDS, httponly=True,
                        samesite="strict", path="/", secure=secure)
    # A new CSRF token with the new session: a token seen before login is worthless after it.
    response.set_cookie(CSRF_COOKIE, secrets.token_urlsafe(32), httponly=True, samesite="strict", path="/",
                        secure=secure)
    return response


async def _login(request: Request, username: str, password: str) -> auth.Moderator | str:
    rt = _rt(request)
    throttle = _throttle(rt)
    blocked = await throttle.check(username, _client(request))
    if blocked is not None:
        minutes = max(1, round(blocked.retry_after / 60))
        return f"Too many failed logins. Wait about {minutes} minute{'s' if minutes > 1 else ''} and try again."
    mod = await auth.authenticate(rt.pool, username, password)
    if mod is None:
        await throttle.failed(username, _client(request))
        return "That username and password do not match."
    return mod


async def login(request: Request) -> Response:
    form = await request.form()
    if not csrf_ok(request, form.get("csrf")):
        return _page(request, "login.html", {"error": "The form expired; please try again."}, status_code=400)
    outcome = await _login(request, str(form.get("username", "")), str(form.get("password", "")))
    if isinstance(outcome, str):
        status = 429 if outcome.startswith("Too many") else 401
        return _page(request, "login.html", {"error": outcome, "username": form.get("username", "")},
                     status_code=status)
    cookie = await auth.start_session(_rt(request).pool, outcome, _rt(request).settings.secret(),
                                      previous=request.cookies.get(auth.SESSION_COOKIE))
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
    outcome = await _login(request, username, password)
    if isinstance(outcome, str):
        status = 429 if outcome.startswith("Too many") else 401
        return JSONResponse({"errors": {"session": outcome}}, status_code=status)
    cookie = await auth.start_session(_rt(request).pool, outcome, _rt(request).settings.secret(),
                                      previous=request.cookies.get(auth.SESSION_COOKIE))
    return _session_cookie(request, JSONResponse({"username": outcome.username, "role": outcome.role}), cookie)


@moderator_only()
async def logout(request: Request) -> Response:
    if await _form(request) is None:
        return _error(request, _EXPIRED, 400)
    await auth.end_session(_rt(request).pool, request.cookies.get(auth.SESSION_COOKIE), _rt(request).settings.secret())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


# --- Queue -----------------------------------------------------------------------------


def _filters(request: Request) -> tuple[str, str | None, str | None, str] | str:
    q = request.query_params
    state, label, order = q.get("state", "pending"), q.get("label") or None, q.get("order") or "severity"
    if state not in queue.STATES:
        return f"state must be one of {', '.join(queue.STATES)}"
    if label is not None and label not in queue.LABELS:
        return f"label must be one of {', '.join(queue.LABELS)}"
    if order not in queue.ORDERS:
        return f"order must be one of {', '.join(queue.ORDERS)}"
    return state, label, q.get("cursor") or None, order


@moderator_only()
async def home(request: Request) -> Response:
    return RedirectResponse("/queue", status_code=303)


async def _reason_templates(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT id, title, body FROM reason_templates ORDER BY title")


def _view(row: asyncpg.Record, me: auth.Moderator, revealed: set[uuid.UUID]) -> dict[str, Any]:
    """What the item template needs, with highlighted title and body."""
    item = dict(row)
    title, body = item.get("title") or "", item.get("body") or ""
    passages, hits = item.get("passages") or [], item.get("term_hits") or []
    item["title_html"] = render.highlight(title, render.spans_for("title", passages, hits, len(title)))
    item["body_html"] = render.highlight(body, render.spans_for("body", passages, hits, len(body), len(title)))
    item["claimed_by_other"] = queue.active_claim(row, me.id) if item.get("claimed_at") else None
    item["blurred"] = item.get("label") == "held" and item["story_id"] not in revealed
    return item


@moderator_only()
async def queue_page(request: Request) -> Response:
    f = _filters(request)
    if isinstance(f, str):
        return _error(request, f, 400)
    state, label, cursor, order = f
    rt, me = _rt(request), request.state.moderator
    try:
        rows, next_cursor = await queue.list_items(rt.pool, state, label, cursor, order=order)
    except queue.BadCursor as e:
        return _error(request, str(e), 400)
    revealed = await queue.revealed(rt.pool, me.id, [r["story_id"] for r in rows if r["label"] == "held"])
    items = [_view(r, me, revealed) for r in rows if r["title"] is not None or state == "reported"]
    here = str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")
    return _page(request, "queue.html", {
        "items": items, "next": next_cursor, "state": state, "label": label, "order": order, "cursor": cursor,
        "counts": await queue.counts(rt.pool), "flash": request.query_params.get("done"), "here": here,
        "templates": await _reason_templates(rt.pool),
    })


@moderator_only()
async def item_page(request: Request) -> Response:
    story_id = _story_id(request)
    rt, me = _rt(request), request.state.moderator
    row = await queue.get_item(rt.pool, story_id) if story_id else None
    if row is None:
        return _error(request, "No such item (it may have been withdrawn by its author).", 404)
    other = queue.active_claim(row, me.id)
    if row["state"] == "pending":
        await queue.claim(rt.pool, row["story_id"], me.id)  # opening an item claims it, softly
    item = _view(row, me, await queue.revealed(rt.pool, me.id, [row["story_id"]]))
    item["claimed_by_other"] = other
    history = await rt.pool.fetch(
        "SELECT a.at, a.action, a.detail, m.username FROM audit_log a LEFT JOIN moderators m ON m.id = a.moderator_id"
        " WHERE a.story_id = $1 ORDER BY a.id", row["story_id"])
    return _page(request, "item.html", {
        "item": item, "history": history, "templates": await _reason_templates(rt.pool),
        "flash": request.query_params.get("done"), "here": f"/queue/{row['story_id']}",
    })


@moderator_only()
async def api_queue(request: Request) -> Response:
    f = _filters(request)
    if isinstance(f, str):
        return JSONResponse({"errors": {"query": f}}, status_code=422)
    state, label, cursor, order = f
    try:
        items, next_cursor = await queue.list_items(_rt(request).pool, state, label, cursor, order=order)
    except queue.BadCursor as e:
        return JSONResponse({"errors": {"cursor": str(e)}}, status_code=422)
    return JSONResponse({"items": [queue.item_json(r) for r in items if r["title"] is not None],
                         "next": next_cursor})


@moderator_only()
async def api_counts(request: Request) -> Response:
    return JSONResponse(await queue.counts(_rt(request).pool))


def _phrases(value: Any, field: str, errors: dict[str, str], limit: int = 10) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value) or len(value) > limit:
        errors[field] = f"Give up to {limit} short phrases, separated by commas."
        return []
    return list(dict.fromkeys(c for c in (clean_line(c)[:60] for c in value) if c))


def _parse_decision(data: Any, templates_by_id: dict[str, str] | None = None) -> Decision | dict[str, str]:
    if not isinstance(data, dict):
        return {"decision": "Send a JSON object."}
    decision, reason = data.get("decision"), data.get("reason")
    errors: dict[str, str] = {}
    if decision not in DECISIONS:
        errors["decision"] = "Choose approve or reject."
    if reason is not None and not isinstance(reason, str):
        errors["reason"] = "A reason is text."
    reason = (clean_for_display(reason).strip() or None) if isinstance(reason, str) else None
    if not reason and templates_by_id and data.get("template"):
        reason = templates_by_id.get(str(data["template"]))
    if reason and len(reason) > REASON_MAX:
        errors["reason"] = f"Keep the reason to {REASON_MAX} characters."
    cws = _phrases(data.get("content_warnings") or [], "content_warnings", errors)
    tags = None
    if data.get("tags") not in (None, ""):
        tags = _phrases(data["tags"], "tags", errors, limit=12)
    if decision == "reject" and not reason:
        errors["reason"] = "Give the author a reason (or pick one); they will see it with their receipt."
    if errors:
        return errors
    return Decision(decision, reason, cws, tags)


def _story_id(request: Request) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.path_params["id"])
    except ValueError:
        return None


async def _item_form(request: Request) -> tuple[uuid.UUID, FormData] | Response:
    """The story id from the path and the posted form of an item's action, or the
    error page to answer with (expired form 400, unknown id 404)."""
    story_id = _story_id(request)
    form = await _form(request)
    if form is None:
        return _error(request, _EXPIRED, 400)
    if story_id is None:
        return _error(request, "No such item.", 404)
    return story_id, form


def _conflict_message(state: str | None) -> str:
    if state is None:
        return "This story is gone: its author withdrew it."
    if state == "pending":
        return "This story has not been decided yet, so there is nothing to take down."
    done = "took down" if state == "unpublished" else state
    return f"Another moderator already {done} this story; nothing was changed."


def _conflict_json(e: Conflict) -> JSONResponse:
    """A decision or takedown that lost: 404 if the story is gone, else 409 with its state."""
    if e.state is None:
        return JSONResponse({"error": "No such item (it may have been withdrawn)."}, status_code=404)
    return JSONResponse({"error": _conflict_message(e.state), "state": e.state}, status_code=409)


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        return None


@moderator_only()
async def api_decide(request: Request) -> Response:
    story_id = _story_id(request)
    if story_id is None:
        return JSONResponse({"error": "No such item."}, status_code=404)
    data = await _json(request)
    if data is None:
        return JSONResponse({"errors": {"decision": "Send the decision as JSON."}}, status_code=422)
    rt = _rt(request)
    parsed = _parse_decision(data, {str(r["id"]): r["body"] for r in await _reason_templates(rt.pool)})
    if isinstance(parsed, dict):
        return JSONResponse({"errors": parsed}, status_code=422)
    try:
        await decide(rt.pool, story_id, request.state.moderator, parsed)
    except Conflict as e:
        return _conflict_json(e)
    rt.wake_relay()
    return JSONResponse({"id": str(story_id), "state": "approved" if parsed.decision == "approve" else "rejected"})


@moderator_only()
async def decide_form(request: Request) -> Response:
    parsed_form = await _item_form(request)
    if isinstance(parsed_form, Response):
        return parsed_form
    story_id, form = parsed_form
    rt = _rt(request)
    parsed = _parse_decision({k: form.get(k) for k in ("decision", "reason", "template", "content_warnings", "tags")},
                             {str(r["id"]): r["body"] for r in await _reason_templates(rt.pool)})
    if isinstance(parsed, dict):
        return _error(request, " ".join(parsed.values()), 422)
    try:
        await decide(rt.pool, story_id, request.state.moderator, parsed)
    except Conflict as e:
        return _error(request, _conflict_message(e.state), 409 if e.state else 404)
    rt.wake_relay()
    return RedirectResponse(_with_flash(_back(form), f"Story {PAST[parsed.decision]}."), status_code=303)


@moderator_only()
async def bulk_form(request: Request) -> Response:
    form = await _form(request)
    if form is None:
        return _error(request, _EXPIRED, 400)
    rt = _rt(request)
    ids = []
    for raw in form.getlist("ids"):
        try:
            ids.append(uuid.UUID(str(raw)))
        except ValueError:
            return _error(request, "One of the selected items is not valid; reload the queue.", 422)
    if not ids:
        return _error(request, "Select at least one story (the checkboxes, or x on the keyboard).", 422)
    if len(ids) > BULK_MAX:
        return _error(request, f"Select at most {BULK_MAX} stories at once.", 422)
    parsed = _parse_decision({k: form.get(k) for k in ("decision", "reason", "template", "content_warnings")},
                             {str(r["id"]): r["body"] for r in await _reason_templates(rt.pool)})
    if isinstance(parsed, dict):
        return _error(request, " ".join(parsed.values()), 422)
    done, skipped = 0, 0
    for story_id in dict.fromkeys(ids):
        try:
            await decide(rt.pool, story_id, request.state.moderator, parsed)
            done += 1
        except Conflict:
            skipped += 1  # someone else decided it first, or it was withdrawn
    rt.wake_relay()
    message = f"{done} stor{'y' if done == 1 else 'ies'} {PAST[parsed.decision]}."
    if skipped:
        message += (f" {skipped} had already been decided by another moderator (or withdrawn)"
                    " and were left as they were.")
    return RedirectResponse(_with_flash(_back(form), message), status_code=303)


@moderator_only()
async def api_claim(request: Request) -> Response:
    story_id = _story_id(request)
    if story_id is None:
        return JSONResponse({"error": "No such item."}, status_code=404)
    row = await queue.get_item(_rt(request).pool, story_id)
    if row is None:
        return JSONResponse({"error": "No such item."}, status_code=404)
    other = queue.active_claim(row, request.state.moderator.id)
    if row["state"] == "pending":
        await queue.claim(_rt(request).pool, story_id, request.state.moderator.id)
    return JSONResponse({"id": str(story_id), "also_looking": other})


async def _reveal(request: Request, on: bool) -> Response | None:
    story_id = _story_id(request)
    if story_id is None or await queue.get_item(_rt(request).pool, story_id) is None:
        return None
    await queue.reveal(_rt(request).pool, request.state.moderator.id, story_id, on)
    return Response()


@moderator_only()
async def reveal_form(request: Request) -> Response:
    form = await _form(request)
    if form is None:
        return _error(request, _EXPIRED, 400)
    if await _reveal(request, form.get("action") != "hide") is None:
        return _error(request, "No such item.", 404)
    return RedirectResponse(_back(form), status_code=303)


@moderator_only()
async def api_reveal(request: Request) -> Response:
    data = await _json(request)
    on = not (isinstance(data, dict) and data.get("action") == "hide")
    if await _reveal(request, on) is None:
        return JSONResponse({"error": "No such item."}, status_code=404)
    return JSONResponse({"revealed": on})


def _takedown_reason(raw: Any, templates_by_id: dict[str, str], template: Any = None) -> str | dict[str, str]:
    reason = clean_for_display(raw).strip() if isinstance(raw, str) else ""
    if not reason and template:
        reason = templates_by_id.get(str(template), "")
    if not reason:
        return {"reason": "Give a reason for the takedown; the author sees it with their receipt."}
    if len(reason) > REASON_MAX:
        return {"reason": f"Keep the reason to {REASON_MAX} characters."}
    return reason


@moderator_only()
async def takedown_form(request: Request) -> Response:
    parsed_form = await _item_form(request)
    if isinstance(parsed_form, Response):
        return parsed_form
    story_id, form = parsed_form
    rt = _rt(request)
    reason = _takedown_reason(form.get("reason"), {str(r["id"]): r["body"] for r in await _reason_templates(rt.pool)},
                              form.get("template"))
    if isinstance(reason, dict):
        return _error(request, reason["reason"], 422)
    try:
        await takedown(rt.pool, story_id, request.state.moderator, reason)
    except Conflict as e:
        return _error(request, _conflict_message(e.state), 409 if e.state else 404)
    rt.wake_relay()
    return RedirectResponse(_with_flash(_back(form), "Story taken down."), status_code=303)


@moderator_only()
async def api_takedown(request: Request) -> Response:
    story_id = _story_id(request)
    if story_id is None:
        return JSONResponse({"error": "No such item."}, status_code=404)
    data = await _json(request)
    rt = _rt(request)
    reason = _takedown_reason(data.get("reason") if isinstance(data, dict) else None, {})
    if isinstance(reason, dict):
        return JSONResponse({"errors": reason}, status_code=422)
    try:
        await takedown(rt.pool, story_id, request.state.moderator, reason)
    except Conflict as e:
        return _conflict_json(e)
    rt.wake_relay()
    return JSONResponse({"id": str(story_id), "state": "unpublished"})


@moderator_only()
async def dismiss_form(request: Request) -> Response:
    parsed_form = await _item_form(request)
    if isinstance(parsed_form, Response):
        return parsed_form
    story_id, form = parsed_form
    note = clean_line(str(form.get("reason") or ""))[:REASON_MAX] or None
    n = await dismiss_reports(_rt(request).pool, story_id, request.state.moderator, note)
    return RedirectResponse(_with_flash(_back(form, "/queue?state=reported"),
                                        f"{n} report{'s' if n != 1 else ''} dismissed; the story stays published."),
                            status_code=303)


# --- Live updates ------------------------------------------------------------------------


@moderator_only()
async def events(request: Request) -> Response:
    """Server-sent events fed from NATS: one `new` event per story filed in the
    queue and one `reported` per reader report. Only the label travels, never a
    title: the page decides what to show."""
    rt = _rt(request)
    inbox: asyncio.Queue[tuple[str, str]] = asyncio.Queue(maxsize=200)

    async def on_message(msg: Any) -> None:
        try:
            event = decode(msg.data)
        except BadEvent:
            return
        kind = {"StoryScreened": "new", "StoryReported": "reported"}.get(event.type)
        if kind:
            with contextlib.suppress(asyncio.QueueFull):
                inbox.put_nowait((kind, json.dumps({"label": event.data.get("label")})))

    subs = [await rt.nc.subscribe("stories.screened", cb=on_message),
            await rt.nc.subscribe("stories.reported", cb=on_message)]

    async def stream() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SSE_SECONDS
        try:
            yield "retry: 3000\n: connected\n\n"
            while loop.time() < deadline:
                try:
                    kind, data = await asyncio.wait_for(inbox.get(), 15)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield f"event: {kind}\ndata: {data}\n\n"
        finally:
            for sub in subs:
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


# --- Audit, dashboard ------------------------------------------------------------------


@moderator_only()
async def audit_page(request: Request) -> Response:
    q = request.query_params
    rt = _rt(request)
    args: list[Any] = []
    where = []
    moderator, story, before = q.get("moderator") or "", (q.get("story") or "").strip(), q.get("before") or ""
    if moderator:
        args.append(moderator)
        where.append(f"m.username = ${len(args)}")
    if story:
        try:
            args.append(uuid.UUID(story))
        except ValueError:
            return _error(request, "The story filter takes a story id (like 3f2b…-…); copy it from an item.", 400)
        where.append(f"a.story_id = ${len(args)}")
    if before:
        if not before.isdigit():
            return _error(request, "That page link is not valid; start again from the first page.", 400)
        args.append(int(before))
        where.append(f"a.id < ${len(args)}")
    args.append(51)
    rows = await rt.pool.fetch(
        "SELECT a.id, a.at, a.action, a.story_id, a.detail, m.username FROM audit_log a"
        " LEFT JOIN moderators m ON m.id = a.moderator_id"
        f" {'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY a.id DESC LIMIT ${len(args)}", *args)
    more = len(rows) > 50
    rows = rows[:50]
    next_url = None
    if more:
        params = {k: v for k, v in (("moderator", moderator), ("story", story)) if v} | {"before": rows[-1]["id"]}
        next_url = "/audit?" + urlencode(params)
    return _page(request, "audit.html", {
        "rows": rows, "moderators": [r["username"] for r in await rt.pool.fetch(
            "SELECT username FROM moderators ORDER BY username")],
        "moderator": moderator, "story": story, "next_url": next_url,
    })


@moderator_only()
async def dashboard_page(request: Request) -> Response:
    rt = _rt(request)
    return _page(request, "dashboard.html", await dashboard.build(rt.pool) | {"counts": await queue.counts(rt.pool)})


# --- Admin: accounts, word lists, reason templates -------------------------------------------


@moderator_only(admin=True)
async def moderators_page(request: Request, error: str | None = None, status_code: int = 200) -> Response:
    return _page(request, "moderators.html", {
        "moderators": await auth.list_moderators(_rt(request).pool), "error": error,
        "flash": request.query_params.get("done")}, status_code=status_code)


async def _account_action(request: Request, action: Callable[[asyncpg.Connection, FormData], Awaitable[str]]
                          ) -> Response:
    form = await _form(request)
    if form is None:
        return _error(request, _EXPIRED, 400)
    try:
        async with _rt(request).pool.acquire() as conn:
            message = await action(conn, form)
    except auth.AccountError as e:
        return await moderators_page.__wrapped__(request, str(e), 422)  # type: ignore[attr-defined]
    return RedirectResponse(_with_flash("/admin/moderators", message), status_code=303)


@moderator_only(admin=True)
async def add_moderator_form(request: Request) -> Response:
    async def act(conn: asyncpg.Connection, form: FormData) -> str:
        username = str(form.get("username") or "")
        await auth.add_moderator(conn, username, str(form.get("password") or ""),
                                 str(form.get("role") or "moderator"), actor_id=request.state.moderator.id)
        return f"Added {username}."
    return await _account_action(request, act)


@moderator_only(admin=True)
async def account_form(request: Request) -> Response:
    async def act(conn: asyncpg.Connection, form: FormData) -> str:
        username, what = str(form.get("username") or ""), form.get("action")
        me = request.state.moderator.id
        if what in ("disable", "enable"):
            await auth.set_disabled(conn, username, what == "disable", actor_id=me)
            return f"{'Disabled' if what == 'disable' else 'Enabled'} {username}" + (
                "; their sessions ended." if what == "disable" else ".")
        if what == "reset":
            await auth.reset_password(conn, username, str(form.get("password") or ""), actor_id=me)
            return f"New password set for {username}; their sessions ended."
        raise auth.AccountError("Choose disable, enable or reset.")
    return await _account_action(request, act)


@moderator_only(admin=True)
async def wordlists_page(request: Request, error: str | None = None, status_code: int = 200) -> Response:
    terms = await _rt(request).pool.fetch("SELECT term, kind, added_at FROM word_terms ORDER BY kind, term")
    return _page(request, "wordlists.html", {"terms": terms, "error": error,
                                             "flash": request.query_params.get("done")}, status_code=status_code)


@moderator_only(admin=True)
async def wordlists_form(request: Request) -> Response:
    form = await _form(request)
    if form is None:
        return _error(request, _EXPIRED, 400)
    term, me = str(form.get("term") or ""), request.state.moderator.id
    try:
        async with _rt(request).pool.acquire() as conn:
            if form.get("action") == "remove":
                removed = await wordlists.remove_term(conn, term, actor_id=me)
                message = "Removed." if removed else "That term was not on the lists."
            else:
                await wordlists.add_term(conn, term, str(form.get("kind") or ""), actor_id=me)
                message = f"Added as {form.get('kind')}. New stories are screened with it within a few seconds."
    except wordlists.TermError as e:
        return await wordlists_page.__wrapped__(request, str(e), 422)  # type: ignore[attr-defined]
    return RedirectResponse(_with_flash("/admin/wordlists", message), status_code=303)


@moderator_only(admin=True)
async def reasons_page(request: Request, error: str | None = None, status_code: int = 200) -> Response:
    return _page(request, "reasons.html", {"templates": await _reason_templates(_rt(request).pool), "error": error,
                                           "flash": request.query_params.get("done")}, status_code=status_code)


@moderator_only(admin=True)
async def reasons_form(request: Request) -> Response:
    form = await _form(request)
    if form is None:
        return _error(request, _EXPIRED, 400)
    me = request.state.moderator.id
    pool = _rt(request).pool
    if form.get("action") == "remove":
        async with pool.acquire() as conn, conn.transaction():
            title = await conn.fetchval("DELETE FROM reason_templates WHERE id::text = $1 RETURNING title",
                                        str(form.get("id") or ""))
            if title:
                await conn.execute("INSERT INTO audit_log (moderator_id, action, detail)"
                                   " VALUES ($1, 'reasons.removed', $2)", me, {"title": title})
        return RedirectResponse(_with_flash("/admin/reasons", "Removed." if title else "Already gone."),
                                status_code=303)
    title = clean_line(str(form.get("title") or ""))
    body = clean_for_display(str(form.get("body") or "")).strip()
    if not title or len(title) > 80 or not body or len(body) > REASON_MAX:
        return await reasons_page.__wrapped__(  # type: ignore[attr-defined]
            request, f"A reason needs a short title (up to 80 characters) and text (up to {REASON_MAX}).", 422)
    async with pool.acquire() as conn, conn.transaction():
        try:
            await conn.execute("INSERT INTO reason_templates (title, body) VALUES ($1, $2)", title, body)
        except asyncpg.UniqueViolationError:
            return await reasons_page.__wrapped__(  # type: ignore[attr-defined]
                request, "There is already a reason with that title.", 422)
        await conn.execute("INSERT INTO audit_log (moderator_id, action, detail) VALUES ($1, 'reasons.added', $2)",
                           me, {"title": title, "body": body})
    return RedirectResponse(_with_flash("/admin/reasons", "Added."), status_code=303)


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
            loading = any(w["state"] == "loading" for w in workers)
            screen = {"state": "ok" if loaded else "loading" if loading else "degraded",
                      "model": workers[0]["model"], "workers": workers}
            if not loaded:
                screen["detail"] = ("the model is loading: stories wait in the stream" if loading
                                    else "no model loaded: stories are filed as unscreened")
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
            Route("/queue/bulk", bulk_form, methods=["POST"]),
            Route("/queue/{id}", item_page),
            Route("/queue/{id}/decision", decide_form, methods=["POST"]),
            Route("/queue/{id}/reveal", reveal_form, methods=["POST"]),
            Route("/queue/{id}/takedown", takedown_form, methods=["POST"]),
            Route("/queue/{id}/dismiss", dismiss_form, methods=["POST"]),
            Route("/events", events),
            Route("/audit", audit_page),
            Route("/dashboard", dashboard_page),
            Route("/admin/moderators", moderators_page),
            Route("/admin/moderators", add_moderator_form, methods=["POST"]),
            Route("/admin/moderators/account", account_form, methods=["POST"]),
            Route("/admin/wordlists", wordlists_page),
            Route("/admin/wordlists", wordlists_form, methods=["POST"]),
            Route("/admin/reasons", reasons_page),
            Route("/admin/reasons", reasons_form, methods=["POST"]),
            Route("/api/session", api_login, methods=["POST"]),
            Route("/api/queue", api_queue),
            Route("/api/queue/counts", api_counts),
            Route("/api/queue/{id}/decision", api_decide, methods=["POST"]),
            Route("/api/queue/{id}/claim", api_claim, methods=["POST"]),
            Route("/api/queue/{id}/reveal", api_reveal, methods=["POST"]),
            Route("/api/queue/{id}/takedown", api_takedown, methods=["POST"]),
            # Support resources for publishing's /support page (admins only; see resources.py).
            Route("/resources", moderator_only(admin=True)(resources.page)),
            Route("/resources", moderator_only(admin=True)(resources.form), methods=["POST"]),
            Route("/api/resources", moderator_only(admin=True)(resources.api_get)),
            Route("/api/resources", moderator_only(admin=True)(resources.api_put), methods=["PUT"]),
            Route("/healthz", healthz),
            Route("/metrics", metrics),
            Route("/openapi.json", moderation_openapi.openapi),
            Mount("/static", static_files(), name="static"),
        ],
        middleware=[Middleware(SecurityHeaders), Middleware(BodyLimit, max_bytes=settings.max_body_bytes)],
        exception_handlers=exception_handlers(),
        lifespan=lifespan("moderation", HERE, settings=settings, consumers=_consumers, purge=retention.purge),
    )
