"""What every moderation view shares: the login guard, pages, forms and redirects.

Every page works as plain HTML forms; /static/mod-queue.js only enhances
(keyboard, live "N new stories", reveal without reload, soft claims). Forms carry
a CSRF token; JSON APIs need Content-Type: application/json, which a cross-site
form cannot send, and the session cookie is SameSite=Strict.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from services.moderation import audit, auth, render
from services.moderation.screen.status import cached_status
from shared import edges
from shared.runtime import Runtime
from shared.web import csrf_ok, csrf_token, set_csrf_cookie, templates

TEMPLATES = templates(Path(__file__).parent)
TEMPLATES.env.globals.update(score_bars=render.score_bars, fired_labels=render.fired_labels)
TEMPLATES.env.filters["action_label"] = audit.describe

EXPIRED = "The form expired (or came from another site); go back, reload and try again."

Endpoint = Callable[[Request], Awaitable[Response]]


def rt(request: Request) -> Runtime:
    return request.state.rt


def moderator_only(admin: bool = False) -> Callable[[Endpoint], Endpoint]:
    """Only for a logged-in moderator (an admin, with `admin`): anonymous pages
    redirect to /login, APIs and /events answer 401; the moderator is then
    `request.state.moderator`."""

    def wrap(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            mod = await auth.session_moderator(rt(request).pool, request.cookies.get(auth.SESSION_COOKIE),
                                               rt(request).settings.secret())
            api = request.url.path.startswith("/api/")
            if mod is None:
                if api or request.url.path == "/events":
                    return JSONResponse({"error": "Log in first."}, status_code=401)
                return RedirectResponse("/login", status_code=303)
            if admin and not mod.is_admin:
                if api:
                    return JSONResponse({"error": "Only admins can do this."}, status_code=403)
                return page(request, "error.html", {"message": "Only admins can do this."}, status_code=403)
            if request.method in edges.UNSAFE_METHODS and api and not edges.is_json(
                    request.headers.get("content-type", "")):
                # A cross-site form cannot send JSON without a CORS preflight, which we never grant.
                return JSONResponse({"error": "Send JSON (Content-Type: application/json)."}, status_code=415)
            request.state.moderator = mod
            if not api:  # every page shows the screen's banner while it is off
                request.state.screen = await cached_status(rt(request))
            return await endpoint(request)

        guarded.moderator_only = True  # type: ignore[attr-defined]
        guarded.admin_only = admin  # type: ignore[attr-defined]
        return guarded

    return wrap


def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200,
         headers: dict[str, str] | None = None) -> Response:
    context = {"csrf": csrf_token(request), "me": getattr(request.state, "moderator", None),
               "path": request.url.path, "screen": getattr(request.state, "screen", None)} | context
    response = TEMPLATES.TemplateResponse(request, name, context, status_code=status_code, headers=headers)
    response.headers["Cache-Control"] = "no-store"
    return set_csrf_cookie(request, response, rt(request).settings.cookie_secure)


def error(request: Request, message: str, status_code: int) -> Response:
    return page(request, "error.html", {"message": message}, status_code=status_code)


async def form(request: Request) -> FormData | None:
    """The posted form, or None when its CSRF token does not match."""
    data = await request.form()
    return data if csrf_ok(request, data.get("csrf")) else None


async def json_body(request: Request) -> Any:
    """The JSON body, or None when it is not JSON. Nesting deeper than
    edges.MAX_DEPTH raises edges.TooDeep (a 400, see shared.web.exception_handlers)."""
    try:
        return edges.loads(await request.body())
    except edges.TooDeep:
        raise
    except ValueError:
        return None


def back(data: FormData | None, default: str = "/queue") -> str:
    """Where a form asked to return to: only a path on this site."""
    target = str((data or {}).get("next") or "")
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def with_flash(url: str, message: str) -> str:
    path, _, fragment = url.partition("#")
    sep = "&" if "?" in path else "?"
    return f"{path}{sep}{urlencode({'done': message})}" + (f"#{fragment}" if fragment else "")


def done(url: str, message: str) -> RedirectResponse:
    """Back to `url`, which shows `message`."""
    return RedirectResponse(with_flash(url, message), status_code=303)


def kept(url: str, message: str, ids: list[str] | None = None, anchor: str | None = None) -> RedirectResponse:
    """Back to `url` with an error to show, the ticked stories still ticked and the
    focus where the fix is: a refused decision is never a dead end."""
    path, _, fragment = url.partition("#")
    path = re.sub(r"([?&])(done|error|sel)=[^&]*", r"\1", path).rstrip("?&").replace("?&", "?")
    sep = "&" if "?" in path else "?"
    query = urlencode([("error", message)] + [("sel", i) for i in ids or []])
    fragment = anchor or fragment
    return RedirectResponse(f"{path}{sep}{query}" + (f"#{fragment}" if fragment else ""), status_code=303)


def story_id(request: Request) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.path_params["id"])
    except ValueError:
        return None
