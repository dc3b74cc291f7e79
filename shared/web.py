"""Web pieces every service shares: security headers, body limit, CSRF, health,
metrics, templates and the 503 a request gets while a dependency is down."""

from __future__ import annotations

import hmac
import json
import secrets
import time
from pathlib import Path
from typing import Any

import asyncpg
import jinja2
from prometheus_client import Counter, Histogram
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Match
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import i18n
from shared.db import DB_DOWN
from shared.edges import TooDeep

SHARED_DIR = Path(__file__).parent

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=(), browsing-topics=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]

REQUESTS = Histogram("braided_http_request_seconds", "HTTP requests", ["route", "method", "status"])
REJECTED_BODIES = Counter("braided_http_body_too_large_total", "Requests refused with 413")


class SecurityHeaders:
    """Adds the security headers every response carries (a strict CSP, no referrer,
    no framing), and records metrics by route template (never by path with ids,
    never by client)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                names = {k.lower() for k, _ in message.get("headers", [])}
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [
                    (k, v) for k, v in SECURITY_HEADERS if k not in names]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            REQUESTS.labels(_route_name(scope), scope["method"], str(status["code"])).observe(
                time.perf_counter() - start)


def _route_name(scope: Scope) -> str:
    app = scope.get("app")
    for route in getattr(getattr(app, "router", None), "routes", []):
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return getattr(route, "path", "?")
    return "unmatched"


class BodyLimit:
    """413 for bodies over the limit, without reading them into memory: checks
    Content-Length up front and counts streamed chunks for chunked uploads."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            REJECTED_BODIES.inc()
            await too_large(self.max_bytes)(scope, receive, send)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            REJECTED_BODIES.inc()
            if not started:
                await too_large(self.max_bytes)(scope, receive, send)


class _TooLarge(Exception):
    pass


def too_large(max_bytes: int) -> Response:
    return JSONResponse({"errors": {"body": f"The request is larger than {max_bytes // 1024} KB."}},
                        status_code=413)


def templates(service_dir: Path, public: bool = False) -> Jinja2Templates:
    """The service's own templates, then the ones every service shares (base.html).

    `public`: pages speak the request's language (shared/i18n.py); the moderators'
    interface stays English."""
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([
            jinja2.FileSystemLoader(service_dir / "templates"),
            jinja2.FileSystemLoader(SHARED_DIR / "templates"),
        ]),
        autoescape=True,
        # Templates are read once: without this Jinja stats every template file (each
        # include, each request) to see whether it changed — ~50 stat calls per feed page.
        auto_reload=False,
    )
    i18n.install(env)
    return Jinja2Templates(env=env, context_processors=[i18n.context] if public else None)


def static_files(service_dir: Path) -> StaticFiles:
    """The service's own static files, then the ones every service shares; a
    service serves no other service's (the moderators' scripts stay on moderation)."""
    own = service_dir / "static"
    return StaticFiles(directory=own if own.is_dir() else None, packages=[("shared", "static")])


# --- CSRF: double-submit token for HTML forms -------------------------------------
# The cookie is the only cookie public pages set, and only where a form is shown.

CSRF_COOKIE = "braided_csrf"


def csrf_token(request: Request) -> str:
    """The token for forms on this page; reuses the cookie's when it has one."""
    token = request.cookies.get(CSRF_COOKIE)
    if not token or len(token) != 43:
        token = secrets.token_urlsafe(32)
    request.state.csrf_token = token
    return token


def set_csrf_cookie(request: Request, response: Response, secure: str = "auto") -> Response:
    token = getattr(request.state, "csrf_token", None)
    if token and request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict",
                            secure=cookie_secure(request, secure), path="/")
    return response


def csrf_ok(request: Request, form_token: Any) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE)
    return bool(cookie) and isinstance(form_token, str) and hmac.compare_digest(cookie, form_token)


def cookie_secure(request: Request, setting: str) -> bool:
    if setting == "auto":
        return request.url.scheme == "https"
    return setting == "true"


# --- Health and metrics --------------------------------------------------------------


async def health_response(pool: asyncpg.Pool | None, nc: Any, extra: dict[str, Any] | None = None) -> Response:
    """200 only when the database and NATS both answer; details in the body."""
    checks: dict[str, Any] = {}
    try:
        if pool is None:
            raise RuntimeError("no pool")
        await pool.fetchval("SELECT 1", timeout=2)
        checks["database"] = "ok"
    except Exception as e:  # any failure means unhealthy, and the body says which
        checks["database"] = f"unavailable: {type(e).__name__}"
    checks["nats"] = "ok" if nc is not None and nc.is_connected else "unavailable"
    ok = checks["database"] == "ok" and checks["nats"] == "ok"
    body = {"status": "ok" if ok else "unavailable", "checks": checks} | (extra or {})
    return Response(json.dumps(body, default=str), status_code=200 if ok else 503,
                    media_type="application/json")


def unavailable(request: Request, exc: Exception) -> Response:
    """A dependency is down: say so plainly instead of a 500 or a hang."""
    message = "Braided is briefly unavailable. Nothing you sent was stored; please try again in a minute."
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=503, headers={"Retry-After": "30"})
    return PlainTextResponse(message, status_code=503, headers={"Retry-After": "30"})


# What a request can meet while PostgreSQL restarts: the database is down, not the
# request's fault (see shared.db.DB_DOWN).
DEPENDENCY_ERRORS: tuple[type[Exception], ...] = DB_DOWN


def unstorable(request: Request, exc: Exception) -> Response:
    """Input PostgreSQL cannot hold or compare (NUL, lone surrogates, a value out of
    range) reached a query: the request's fault, so a 400 that says so, not a 500."""
    message = "The request contains characters or values that cannot be used (for example a NUL character)."
    if request.url.path.startswith("/api/"):
        return JSONResponse({"errors": {"request": message}}, status_code=400)
    return PlainTextResponse(message, status_code=400)


# Data exceptions (SQLSTATE class 22: NUL in text, bad encoding, numeric overflow) are
# raised by the values a client sent; UnicodeEncodeError is asyncpg refusing a lone
# surrogate that JSON's \ud800 escapes let through.
BAD_INPUT_ERRORS: tuple[type[Exception], ...] = (asyncpg.exceptions.DataError, UnicodeEncodeError)


def too_deep(request: Request, exc: Exception) -> Response:
    return JSONResponse({"errors": {"request": str(exc)}}, status_code=400)


def exception_handlers() -> dict[Any, Any]:
    return {exc: unavailable for exc in DEPENDENCY_ERRORS} | {exc: unstorable for exc in BAD_INPUT_ERRORS} | {
        TooDeep: too_deep}
