"""The edges a stranger can reach, shared by every service.

- Proxies: only a peer listed in TRUSTED_PROXIES may say who the client is
  (`X-Forwarded-For`, used only for rate-limit keys, never stored) and which scheme
  it used (`X-Forwarded-Proto`, for Secure cookies and HSTS). The header handling
  is uvicorn's own ProxyHeadersMiddleware (the list is checked by config.addresses).
- State changes refuse cross-site browser requests: `Sec-Fetch-Site: cross-site`, or
  (from a browser too old to send Sec-Fetch-Site) an `Origin` that is not this site
  → 403. Requests with neither (curl, scripts, other services) are served as before.
  This, not a cookie, protects the public forms.
- JSON API routes take only `Content-Type: application/json` for state changes
  (415 otherwise): a cross-site page cannot send that type without a CORS
  preflight, which is never granted.
- `loads`: JSON nested deeper than MAX_DEPTH is refused before it is parsed (no
  RecursionError).
- HSTS on answers that came over HTTPS.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from starlette.middleware import Middleware
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

MAX_DEPTH = 32
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HSTS = b"max-age=31536000"


# --- JSON --------------------------------------------------------------------------

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_BRACKET = re.compile(r"[\[\]{}]")


class TooDeep(ValueError):
    pass


def depth(text: str) -> int:
    """How deeply arrays and objects nest in JSON text (strings skipped)."""
    deepest = level = 0
    for m in _BRACKET.finditer(_STRING.sub("", text)):
        level += 1 if m.group() in "[{" else -1
        deepest = max(deepest, level)
    return deepest


def loads(text: str | bytes) -> Any:
    """json.loads, refusing nesting deeper than MAX_DEPTH (TooDeep, a ValueError)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    # Text with no more openings in all than the limit cannot nest deeper: the exact
    # count (a regex pass over every string) is only for the rest, never a story POST.
    if text.count("[") + text.count("{") > MAX_DEPTH and depth(text) > MAX_DEPTH:
        raise TooDeep(f"The request nests deeper than {MAX_DEPTH} levels.")
    return json.loads(text)


def is_json(content_type: str) -> bool:
    """The media type is exactly application/json (parameters such as charset allowed)."""
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


# --- Middleware --------------------------------------------------------------------


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _own_origins(scope: Scope, configured: tuple[str, ...]) -> set[str]:
    origins = {_origin(url) for url in configured}
    host = _header(scope, b"host")
    if host:
        # The browser that sends a cross-site request also sends the real Host: an
        # Origin equal to it is this site, whatever the Host says.
        origins.add(f"{scope.get('scheme', 'http')}://{host}".lower())
    return origins


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def adding_headers(send: Send, headers: list[tuple[bytes, bytes]], replace: bool = False) -> Send:
    """`send` that adds `headers` to the response (replacing ones of the same names)."""
    names = {k for k, _ in headers}

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            kept = [(k, v) for k, v in message.get("headers", []) if not (replace and k.lower() in names)]
            message["headers"] = kept + headers
        await send(message)

    return wrapped


class Edges:
    """Same-origin check on state changes, JSON-only API state changes, HSTS."""

    def __init__(self, app: ASGIApp, origins: tuple[str, ...] = ()) -> None:
        self.app, self.origins = app, origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] in UNSAFE_METHODS:
            refusal = self._refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        if scope.get("scheme") == "https":
            send = adding_headers(send, [(b"strict-transport-security", HSTS)])
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope) -> Any:
        api = scope["path"].startswith("/api/")
        site = _header(scope, b"sec-fetch-site")
        origin = _header(scope, b"origin")
        # A browser that sends Sec-Fetch-Site is judged by it alone: with
        # `Referrer-Policy: no-referrer` (ours) Chromium sends `Origin: null` on our own
        # form posts. Without it, an Origin that is not this site (`null` included) is refused.
        if site is not None:
            cross = site.strip().lower() == "cross-site"
        else:
            cross = origin is not None and origin.lower() not in _own_origins(scope, self.origins)
        if cross:
            message = "Requests from other sites are refused."
            if api:
                return JSONResponse({"errors": {"request": message}}, status_code=403)
            return PlainTextResponse(message + " Go back, reload the page and try again.", status_code=403)
        if api and not is_json(_header(scope, b"content-type") or ""):
            return JSONResponse({"errors": {"request": "Send JSON (Content-Type: application/json)."}},
                                status_code=415)
        return None


def edge_middleware(settings: Any, *public_urls: str) -> list[Middleware]:
    """The middleware every service puts first: proxies (when configured), then Edges.
    `public_urls`: the addresses browsers reach this service at (their origins count
    as this site's)."""
    middleware = []
    if settings.trusted_proxies:
        middleware.append(Middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies)))
    middleware.append(Middleware(Edges, origins=tuple(public_urls)))
    return middleware
