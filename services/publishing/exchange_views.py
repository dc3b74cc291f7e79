"""Public pages and JSON of the exchange (issue 15): /prompts, /prompts/{id},
/glossary, "this resonated with me" (JSON and a no-JavaScript form), and the
JSON lists of prompts and glossary terms."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.publishing import exchange, feed
from shared.ratelimit import RateLimiter
from shared.runtime import Runtime


def _rt(request: Request) -> Runtime:
    return request.state.rt


def _uuid(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


class _Helpers:
    """The page helpers of app.py (_html, _page, _json), handed over by `routes`
    so this module need not import app.py (which imports this one)."""

    _html: Any = None
    _page: Any = None
    _json: Any = None


_H = _Helpers()


def _app() -> _Helpers:
    return _H


def routes(html: Any, page: Any, json: Any) -> list[Route]:
    _H._html, _H._page, _H._json = html, page, json
    return [
        Route("/prompts", prompts_page),
        Route("/prompts/{id}", prompt_page),
        Route("/glossary", glossary_page),
        Route("/stories/{id}/resonate", resonate_form, methods=["POST"]),
        Route("/api/prompts", api_prompts),
        Route("/api/glossary", api_glossary),
        Route("/api/stories/{id}/resonate", api_resonate, methods=["POST"]),
    ]


async def prompts_page(request: Request) -> Response:
    rows = await exchange.prompts(_rt(request).pool)
    return _app()._html(request, "prompts.html", {"here": "prompts", "prompts": rows,
                                                  "is_open": exchange.prompt_open})


async def prompt_page(request: Request) -> Response:
    app = _app()
    pid = _uuid(request.path_params["id"])
    row = await exchange.prompt(_rt(request).pool, pid) if pid else None
    if row is None:
        return app._page(request, "gone.html", {"gone": None}, status_code=404)
    cursor = request.query_params.get("cursor") or None
    try:
        stories, next_cursor = await feed.list_stories(_rt(request).pool, cursor, prompt=str(pid))
    except feed.BadQuery as e:
        return app._page(request, "gone.html", {"gone": None, "error": str(e)}, status_code=400)
    return app._html(request, "prompt.html", {"here": "prompts", "prompt": row, "open": exchange.prompt_open(row),
                                              "stories": stories, "next": next_cursor, "cursor": cursor})


async def api_prompts(request: Request) -> Response:
    rows = await exchange.prompts(_rt(request).pool)
    return _app()._json(request, {"items": [exchange.prompt_json(r) for r in rows]})


def _q(request: Request) -> str | None:
    # PostgreSQL text cannot hold NUL; nothing a reader looks for contains one.
    return (request.query_params.get("q") or "").replace("\x00", "").strip()[:exchange.Q_MAX] or None


async def glossary_page(request: Request) -> Response:
    q = _q(request)
    return _app()._html(request, "glossary.html", {"here": "glossary", "q": q,
                                                   "terms": await exchange.glossary(_rt(request).pool, q)})


async def api_glossary(request: Request) -> Response:
    return _app()._json(request, {"items": await exchange.glossary(_rt(request).pool, _q(request))})


async def _resonate(request: Request) -> tuple[int, int | None, dict[str, str]]:
    """(status, published count, headers). Nothing about the reader is stored: the
    limiter keeps a keyed hash of the address in NATS KV with a TTL, and expires it."""
    sid = _uuid(request.path_params["id"])
    if sid is None:
        return 404, None, {}
    if request.headers.get("sec-fetch-site") == "cross-site":
        return 403, None, {}
    limiter: RateLimiter | None = _rt(request).extra.get("resonance_limiter")
    if limiter is not None and request.client is not None:
        verdict = await limiter.hit(request.client.host)
        if not verdict.allowed:
            return 429, None, {"Retry-After": str(verdict.retry_after)}
    n = await exchange.resonate(_rt(request).pool, sid)  # NOTIFYs every replica's page cache
    if n is not None and (listener := _rt(request).extra.get("page_cache_listener")) is not None:
        listener.cache.invalidate()  # this replica's copy goes now, before the answer: the reader's reload shows it
    if n is None:
        gone = (await feed.get_story(_rt(request).pool, sid))[1]
        return (410 if gone else 404), None, {}
    return 202, n, {}


async def api_resonate(request: Request) -> Response:
    status, n, headers = await _resonate(request)
    if status == 202:
        return JSONResponse({"resonance": n}, status_code=202, headers={"Cache-Control": "no-store"})
    message = {404: "No such story.", 410: "This story is no longer available.", 403: "Not from another site.",
               429: "Thank you — you have pressed this many times in a short while; please try again later."}[status]
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def resonate_form(request: Request) -> Response:
    """Without JavaScript: the button posts here and the page says thank you."""
    app = _app()
    status, n, headers = await _resonate(request)
    sid = _uuid(request.path_params["id"])
    row, gone = (await feed.get_story(_rt(request).pool, sid)) if sid else (None, None)
    if row is None:
        return app._page(request, "gone.html", {"gone": gone}, status_code=410 if gone else 404)
    response = app._page(request, "resonated.html", {"story": row, "count": n, "status": status},
                         status_code=200 if status == 202 else status)
    response.headers.update(headers)
    response.headers["Cache-Control"] = "no-store"
    return response
