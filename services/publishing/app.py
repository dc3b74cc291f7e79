"""Publishing service: the public feed, story pages, Atom, JSON API and reports."""

from __future__ import annotations

import asyncio
import calendar
import datetime as dt
import hashlib
import json
import uuid
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from services.publishing import exchange, exchange_views, feed, pagecache, reports
from services.publishing import openapi as publishing_openapi
from services.publishing.handlers import HANDLERS
from services.publishing.support import support_context
from shared import edges, i18n, natsauth
from shared.config import Settings
from shared.consumer import Consumer, consumers
from shared.i18n import gettext_later
from shared.ratelimit import RateLimiter
from shared.runtime import Runtime, lifespan
from shared.taxonomy import THEMES, is_theme
from shared.text import clean_for_display
from shared.web import (
    BodyLimit,
    SecurityHeaders,
    exception_handlers,
    health_response,
    static_files,
    templates,
)

HERE = Path(__file__).parent
TEMPLATES = templates(HERE, public=True)


def _rt(request: Request) -> Runtime:
    return request.state.rt


def _context(request: Request, context: dict[str, Any]) -> dict[str, Any]:
    return {"request": request, "here": "stories", "is_theme": is_theme} | i18n.context(request) | context


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200,
          form: bool = False) -> Response:
    """A page with a form (never cached) or an error page. No cookie: the report
    form is protected by the same-origin check on every POST (shared/edges.py)."""
    response = TEMPLATES.TemplateResponse(request, name, _context(request, context), status_code=status_code)
    response.headers["Cache-Control"] = "no-store" if form else "no-cache"
    response.headers["Vary"] = "Accept-Language"
    return response


def _http_date(day: dt.date) -> str:
    return formatdate(calendar.timegm(day.timetuple()), usegmt=True)


def cached(request: Request, body: str | bytes, media_type: str, last_modified: dt.date | None = None,
           trust_date: bool = False) -> Response:
    """A 200 with an ETag (a hash of the exact bytes) and Last-Modified, or a 304.

    `Cache-Control: no-cache` makes every cache revalidate before reuse, so a story
    that is withdrawn disappears at once instead of living on in someone's cache.
    Last-Modified is only a day (stories carry only their publication day), and a
    list can change within a day when a story is withdrawn, so If-Modified-Since is
    trusted only for a single story's page (`trust_date`), whose content never
    changes; lists revalidate by ETag.
    """
    raw = body.encode() if isinstance(body, str) else body
    etag = '"' + hashlib.sha256(raw).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding, Accept-Language"}
    if last_modified is not None:
        headers["Last-Modified"] = _http_date(last_modified)
    inm = request.headers.get("if-none-match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        if etag in tags or "*" in tags:
            return Response(status_code=304, headers=headers)
    elif trust_date and last_modified is not None and (ims := request.headers.get("if-modified-since")):
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            since = None
        if since is not None and since.tzinfo is not None and since.date() >= last_modified:
            return Response(status_code=304, headers=headers)
    return Response(raw, media_type=media_type, headers=headers)


def _render(request: Request, name: str, context: dict[str, Any]) -> str:
    return TEMPLATES.get_template(name).render(_context(request, context))


def _html(request: Request, name: str, context: dict[str, Any], last_modified: dt.date | None = None,
          trust_date: bool = False) -> Response:
    return cached(request, _render(request, name, context), "text/html; charset=utf-8", last_modified, trust_date)


def _query(request: Request) -> tuple[str | None, str | None, str | None]:
    p = request.query_params
    return p.get("cursor") or None, p.get("tag") or None, (p.get("q") or "").strip() or None


def _newest(stories: list[Any]) -> dt.date | None:
    return max((s["published_on"] for s in stories), default=None)


async def index(request: Request) -> Response:
    cursor, tag, q = _query(request)
    try:
        stories, next_cursor = await feed.list_stories(_rt(request).pool, cursor, tag, q)
    except feed.BadQuery as e:
        return _page(request, "feed.html", {"stories": [], "next": None, "q": q, "tag": tag, "error": str(e)},
                     status_code=400)
    return _html(request, "feed.html", {"stories": stories, "next": next_cursor, "q": q, "tag": tag,
                                        "cursor": cursor}, _newest(stories))


async def tags_index(request: Request) -> Response:
    rows = await feed.all_tags(_rt(request).pool)
    heritage = [r for r in rows if not is_theme(r["tag"])]
    counts = {r["tag"].casefold(): r["n"] for r in rows}
    themes = [(t, counts.get(t.casefold(), 0)) for t in THEMES]
    return _html(request, "tags.html", {"heritage": heritage, "themes": themes})


async def tag_page(request: Request) -> Response:
    tag = request.path_params["tag"]
    cursor = request.query_params.get("cursor") or None
    try:
        stories, next_cursor = await feed.list_stories(_rt(request).pool, cursor, tag)
    except feed.BadQuery as e:
        return _page(request, "feed.html", {"stories": [], "next": None, "tag": tag, "error": str(e)}, 400)
    return _html(request, "feed.html", {"stories": stories, "next": next_cursor, "tag": tag, "q": None,
                                        "cursor": cursor, "theme": is_theme(tag)}, _newest(stories))


def _story_uuid(request: Request) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.path_params["id"])
    except ValueError:
        return None


async def story_page(request: Request) -> Response:
    sid = _story_uuid(request)
    row, gone = (None, None) if sid is None else await feed.get_story(_rt(request).pool, sid)
    if row is None:
        status = 410 if gone else 404
        return _page(request, "gone.html", {"gone": gone}, status_code=status)
    newer, older = await feed.neighbours(_rt(request).pool, row["seq"])
    # Not trust_date: responses, resonance, prompt titles and a newer neighbour change
    # the page after its day; revalidation is by ETag (and the page cache is emptied
    # by each of those events: pagecache.notify).
    changed = max(row["published_on"], newer["published_on"]) if newer else row["published_on"]
    return _html(request, "story.html", {"story": row, "newer": newer, "older": older,
                                         "x": exchange.story_extras(row),
                                         "version": request.query_params.get("version"),
                                         "with_glossary": exchange.with_glossary}, changed)


async def feeds_page(request: Request) -> Response:
    """What the footer links to instead of raw XML: how to follow Braided in a feed reader."""
    base = str(request.base_url).rstrip("/")
    return _html(request, "feeds.html", {"feed_url": f"{base}/feed.atom"})


async def atom(request: Request) -> Response:
    tag = request.query_params.get("tag") or None
    try:
        stories, _ = await feed.list_stories(_rt(request).pool, tag=tag, limit=50)
    except feed.BadQuery as e:
        return JSONResponse({"errors": {"tag": str(e)}}, status_code=422)
    # From settings only: a Host header is whatever the client wrote.
    base = _rt(request).settings.publishing_url()
    body = TEMPLATES.get_template("feed.atom").render(stories=stories, base=base, tag=tag)
    return cached(request, body, "application/atom+xml; charset=utf-8", _newest(stories))


def _json(request: Request, data: Any, last_modified: dt.date | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return cached(request, body, "application/json", last_modified)


async def api_stories(request: Request) -> Response:
    cursor, tag, q = _query(request)
    try:
        stories, next_cursor = await feed.list_stories(_rt(request).pool, cursor, tag, q,
                                                       prompt=request.query_params.get("prompt") or None)
    except feed.BadQuery as e:
        return JSONResponse({"errors": {"query": str(e)}}, status_code=422)
    return _json(request, {"items": [feed.story_json(r) for r in stories], "next": next_cursor}, _newest(stories))


async def api_story(request: Request) -> Response:
    sid = _story_uuid(request)
    row, gone = (None, None) if sid is None else await feed.get_story(_rt(request).pool, sid)
    if row is None:
        return JSONResponse({"error": "This story is no longer available." if gone else "No such story."},
                            status_code=410 if gone else 404)
    return _json(request, feed.story_json(row), row["published_on"])


async def support(request: Request) -> Response:
    row = await feed.resources(_rt(request).pool)
    return _html(request, "support.html", {"here": "support"} | support_context(row))


async def _report(request: Request, sid: uuid.UUID | None, reason: Any,
                  kind: Any = None) -> tuple[int, str, dict[str, str], str | None]:
    """(status, message for the reader, extra headers, the reader's report code)."""
    if sid is None or (await feed.get_story(_rt(request).pool, sid))[0] is None:
        return 404, "No such story.", {}, None
    if kind is not None and (not isinstance(kind, str) or kind not in reports.KINDS):
        return 422, gettext_later("Choose what is wrong from the list."), {}, None
    text = clean_for_display(reason).strip() if isinstance(reason, str) else ""
    if not text and kind in (None, "other"):
        return 422, gettext_later("Tell the moderators what is wrong with this story."), {}, None
    if len(text) > reports.REASON_MAX:
        return 422, f"Keep the reason to {reports.REASON_MAX} characters.", {}, None
    reason = f"{reports.KINDS[kind]}: {text}" if kind and kind != "other" and text else (
        reports.KINDS[kind] if kind and not text else text)
    limiter: RateLimiter | None = _rt(request).extra.get("limiter")
    if limiter is not None and request.client is not None:
        verdict = await limiter.hit(request.client.host)
        if not verdict.allowed:
            return 429, gettext_later("You have sent several reports in a short time. Please try again later."), {
                "Retry-After": str(verdict.retry_after)}, None
    code = await reports.report(_rt(request).pool, sid, reason)
    return 202, gettext_later("Thank you. A moderator will look at this story."), {}, code


async def api_report(request: Request) -> Response:
    try:
        data = edges.loads(await request.body())
    except edges.TooDeep as e:
        return JSONResponse({"errors": {"request": str(e)}}, status_code=400)
    except ValueError:
        return JSONResponse({"errors": {"reason": "Send {\"reason\": …} as JSON."}}, status_code=422)
    if not isinstance(data, dict):
        data = {}
    status, message, headers, code = await _report(request, _story_uuid(request), data.get("reason"),
                                                   data.get("kind"))
    if status == 202:
        return JSONResponse({"status": "received", "message": message, "report": code,
                             "outcome_url": f"/reports/{code}"}, status_code=202, headers={"Cache-Control": "no-store"})
    return JSONResponse({"errors": {"reason": message}}, status_code=status, headers=headers)


async def report_page(request: Request) -> Response:
    sid = _story_uuid(request)
    row, gone = (None, None) if sid is None else await feed.get_story(_rt(request).pool, sid)
    if row is None:
        return _page(request, "gone.html", {"gone": gone}, status_code=410 if gone else 404)
    return _page(request, "report.html", {"story": row, "error": None, "kinds": reports.KINDS}, form=True)


async def report_form(request: Request) -> Response:
    sid = _story_uuid(request)
    form = await request.form()
    status, message, headers, code = await _report(request, sid, form.get("reason"), form.get("kind") or None)
    row, gone = (await feed.get_story(_rt(request).pool, sid)) if sid else (None, None)
    if row is None:
        return _page(request, "gone.html", {"gone": gone}, status_code=410 if gone else 404)
    response = _page(request, "report.html", {"story": row, "error": None if status == 202 else message,
                                              "done": message if status == 202 else None, "code": code,
                                              "kinds": reports.KINDS, "kind": form.get("kind")},
                     status_code=status, form=True)
    response.headers.update(headers)
    response.headers["Cache-Control"] = "no-store"
    return response


async def report_outcome_page(request: Request) -> Response:
    outcome = await reports.outcome(_rt(request).pool, request.path_params["code"])
    status = 200 if outcome else 404
    if request.url.path.startswith("/api/"):
        if outcome is None:
            return JSONResponse({"error": "No report with that code."}, status_code=404)
        return JSONResponse({"outcome": outcome, "message": reports.OUTCOMES[outcome]},
                            headers={"Cache-Control": "no-store"})
    response = _page(request, "report_outcome.html", {"outcome": outcome, "message": reports.OUTCOMES.get(outcome)},
                     status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


async def not_found(request: Request, exc: Exception) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": "Nothing here."}, status_code=404)
    return _page(request, "gone.html", {"gone": None}, status_code=404)


async def healthz(request: Request) -> Response:
    rt = _rt(request)
    return await health_response(rt.pool, rt.nc, {"service": "publishing"})


def _consumers(rt: Runtime, cache: pagecache.PageCache | None = None) -> list[Consumer]:
    if rt.settings.report_rate_limit is not None:
        limit, period = rt.settings.report_rate_limit
        rt.extra["limiter"] = RateLimiter(rt.js, "report", limit, period)
    if rt.settings.resonance_rate_limit is not None:
        limit, period = rt.settings.resonance_rate_limit
        rt.extra["resonance_limiter"] = RateLimiter(rt.js, "resonate", limit, period)
    if cache is not None and cache.max_bytes > 0:
        # Every replica listens for the invalidations any replica's consumer sends.
        listener = pagecache.Listener(cache, rt.settings.database_url)
        rt.extra["page_cache_listener"] = listener
        rt.tasks.append(asyncio.create_task(listener.run(), name="publishing-page-cache"))
    return consumers(rt.js, rt.pool, natsauth.identity("publishing"), pagecache.notifying(HANDLERS))


def create_app(settings: Settings) -> Starlette:
    TEMPLATES.env.globals.update(quick_exit_url=settings.quick_exit_url, publishing_url="",
                                 submission_url=settings.submission_url())
    cache = pagecache.PageCache(settings.publishing_page_cache_mb * 2**20)
    return Starlette(
        routes=[
            Route("/", index),
            Route("/support", support),
            Route("/tags", tags_index),
            Route("/tags/{tag}", tag_page),
            Route("/stories/{id}", story_page),
            Route("/stories/{id}/report", report_page),
            Route("/stories/{id}/report", report_form, methods=["POST"]),
            Route("/feed.atom", atom),
            Route("/feeds", feeds_page),
            Route("/api/stories", api_stories),
            Route("/api/stories/{id}", api_story),
            Route("/api/stories/{id}/reports", api_report, methods=["POST"]),
            Route("/reports/{code}", report_outcome_page),
            Route("/api/reports/{code}", report_outcome_page),
            *exchange_views.routes(_html, _page, _json),
            Route("/healthz", healthz),
            Route("/openapi.json", publishing_openapi.openapi),
            Mount("/static", static_files(HERE), name="static"),
        ],
        middleware=[*edges.edge_middleware(settings, settings.publishing_url()), Middleware(SecurityHeaders),
                    Middleware(BodyLimit, max_bytes=settings.max_body_bytes),
                    Middleware(pagecache.PageCacheMiddleware, cache=cache)],
        exception_handlers=exception_handlers() | {404: not_found},
        lifespan=lifespan("publishing", HERE, settings, consumers=lambda rt: _consumers(rt, cache)),
    )
