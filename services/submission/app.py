"""Submission service: the story form, the JSON API and receipts (public)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from services.submission import handlers, retention
from services.submission import openapi as submission_openapi
from services.submission.validation import Invalid, StoryInput, validate_story
from shared import bus
from shared.config import Settings
from shared.ratelimit import RateLimiter
from shared.runtime import Runtime, lifespan
from shared.web import (
    BodyLimit,
    SecurityHeaders,
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


def _rt(request: Request) -> Runtime:
    return request.state.rt


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise Invalid({"body": "The request is not valid UTF-8 text."}) from None
    except json.JSONDecodeError as e:
        raise Invalid({"body": f"The request is not valid JSON ({e.msg} at position {e.pos})."}) from None


async def _rate_limited(request: Request) -> Response | None:
    limiter: RateLimiter | None = _rt(request).extra.get("limiter")
    if limiter is None or request.client is None:
        return None
    verdict = await limiter.hit(request.client.host)
    if verdict.allowed:
        return None
    message = "You have shared several stories in a short time. Please wait a while and try again."
    headers = {"Retry-After": str(verdict.retry_after)}
    if request.url.path.startswith("/api/"):
        return JSONResponse({"errors": {"rate": message}}, status_code=429, headers=headers)
    return _page(request, "form.html", {"errors": {"rate": message}, "form": {}}, status_code=429,
                 headers=headers)


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200,
          headers: dict[str, str] | None = None) -> Response:
    context = {"csrf": csrf_token(request)} | context
    response = TEMPLATES.TemplateResponse(request, name, context, status_code=status_code, headers=headers)
    response.headers["Cache-Control"] = "no-store"
    return set_csrf_cookie(request, response, _rt(request).settings.cookie_secure)


# --- HTML ------------------------------------------------------------------------------


async def form(request: Request) -> Response:
    return _page(request, "form.html", {"form": {}, "errors": {}})


async def submit_form(request: Request) -> Response:
    data = await request.form()
    if not csrf_ok(request, data.get("csrf")):
        return _page(request, "form.html", {"form": dict(data), "errors": {
            "form": "This form expired. Your text is below; please send it again."}}, status_code=400)
    fields = {k: data.get(k) for k in ("title", "body", "pen_name", "tags", "content_warnings")}
    try:
        story = validate_story(fields)
    except Invalid as e:
        return _page(request, "form.html", {"form": fields, "errors": e.errors}, status_code=422)
    if (limited := await _rate_limited(request)) is not None:
        return limited
    code = await _submit(request, story)
    return _page(request, "receipt.html", {"receipt": code}, status_code=201)


async def status_page(request: Request) -> Response:
    return _page(request, "status.html", {"errors": {}})


async def status_form(request: Request) -> Response:
    data = await request.form()
    if not csrf_ok(request, data.get("csrf")):
        return _page(request, "status.html", {"errors": {"receipt": "This form expired; please try again."}},
                     status_code=400)
    row = await handlers.find_by_receipt(_rt(request).pool, data.get("receipt"))
    if row is None:
        return _page(request, "status.html", {"errors": {"receipt": _NO_SUCH_RECEIPT}}, status_code=404)
    if data.get("action") == "withdraw":
        if data.get("confirm") != "yes":
            return _page(request, "status.html", {"story": row, "receipt": data.get("receipt"),
                                                   "errors": {"confirm": "Tick the box to confirm."}},
                         status_code=422)
        await handlers.withdraw(_rt(request).pool, row["story_id"])
        _rt(request).wake_relay()
        return _page(request, "status.html", {"withdrawn": True, "errors": {}})
    return _page(request, "status.html", {"story": row, "receipt": data.get("receipt"), "errors": {}})


_NO_SUCH_RECEIPT = "We could not find a story with that receipt code. Check it and try again."


# --- JSON API --------------------------------------------------------------------------


async def _submit(request: Request, story: StoryInput) -> str:
    code = await handlers.submit_story(_rt(request).pool, story)
    _rt(request).wake_relay()
    return code


async def api_submit(request: Request) -> Response:
    try:
        story = validate_story(await _json_body(request))
    except Invalid as e:
        return JSONResponse({"errors": e.errors}, status_code=422)
    if (limited := await _rate_limited(request)) is not None:
        return limited
    code = await _submit(request, story)
    return JSONResponse({"receipt": code, "status": "received"}, status_code=202,
                        headers={"Cache-Control": "no-store"})


async def _api_receipt(request: Request) -> tuple[Any, Response | None]:
    try:
        data = await _json_body(request)
    except Invalid as e:
        return None, JSONResponse({"errors": e.errors}, status_code=422)
    if not isinstance(data, dict) or not isinstance(data.get("receipt"), str):
        return None, JSONResponse({"errors": {"receipt": "Send {\"receipt\": \"BR-…\"}."}}, status_code=422)
    row = await handlers.find_by_receipt(_rt(request).pool, data["receipt"])
    if row is None:
        return None, JSONResponse({"errors": {"receipt": _NO_SUCH_RECEIPT}}, status_code=404)
    return row, None


async def api_status(request: Request) -> Response:
    row, error = await _api_receipt(request)
    if error:
        return error
    body = {"status": row["status"]}
    if row["status"] == "rejected" and row["reason"]:
        body["reason"] = row["reason"]
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


async def api_withdraw(request: Request) -> Response:
    row, error = await _api_receipt(request)
    if error:
        return error
    await handlers.withdraw(_rt(request).pool, row["story_id"])
    _rt(request).wake_relay()
    return JSONResponse({"status": "withdrawn"})


async def healthz(request: Request) -> Response:
    rt = _rt(request)
    return await health_response(rt.pool, rt.nc, {"service": "submission"})


def _consumers(rt: Runtime) -> list[bus.Consumer]:
    if rt.settings.submission_rate_limit is not None:
        limit, period = rt.settings.submission_rate_limit
        rt.extra["limiter"] = RateLimiter(rt.js, "submission", limit, period)
    return [bus.Consumer(rt.js, rt.pool, "submission", "stories.>", handlers.HANDLERS)]


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    return Starlette(
        routes=[
            Route("/", form),
            Route("/stories", submit_form, methods=["POST"]),
            Route("/status", status_page),
            Route("/status", status_form, methods=["POST"]),
            Route("/api/stories", api_submit, methods=["POST"]),
            Route("/api/receipts/status", api_status, methods=["POST"]),
            Route("/api/receipts/withdraw", api_withdraw, methods=["POST"]),
            Route("/healthz", healthz),
            Route("/metrics", metrics),
            Route("/openapi.json", submission_openapi.openapi),
            Mount("/static", static_files(), name="static"),
        ],
        middleware=[Middleware(SecurityHeaders), Middleware(BodyLimit, max_bytes=settings.max_body_bytes)],
        exception_handlers=exception_handlers(),
        lifespan=lifespan("submission", HERE, settings=settings, consumers=_consumers, purge=retention.purge),
    )
