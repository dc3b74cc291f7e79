"""Submission service: the story form, the JSON API and receipts (public)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from services.submission import exchange, handlers, receipts, retention, stories
from services.submission import openapi as submission_openapi
from services.submission.validation import (
    BODY_MAX,
    BODY_MIN,
    FORM_ANCHORS,
    PEN_NAME_MAX,
    TITLE_MAX,
    FormState,
    Invalid,
    StoryInput,
    read_form,
    validate_form,
    validate_story,
)
from shared import bus
from shared.config import Settings
from shared.ratelimit import RateLimiter
from shared.runtime import Runtime, lifespan
from shared.taxonomy import CONTENT_WARNINGS, THEMES
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
    state = read_form(await request.form())
    return await _form_page(request, state, {"rate": message}, status_code=429, headers=headers)


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200,
          headers: dict[str, str] | None = None) -> Response:
    context = {"csrf": csrf_token(request), "errors": {}} | context
    response = TEMPLATES.TemplateResponse(request, name, context, status_code=status_code, headers=headers)
    # Nothing a member typed or was given (a receipt code) may sit in a cache.
    response.headers["Cache-Control"] = "no-store"
    return set_csrf_cookie(request, response, _rt(request).settings.cookie_secure)


# --- HTML ------------------------------------------------------------------------------

LIMITS = {"title": TITLE_MAX, "body_min": BODY_MIN, "body_max": BODY_MAX, "pen_name": PEN_NAME_MAX}


async def _form_page(request: Request, state: FormState, errors: dict[str, str], status_code: int = 200,
                     preview: StoryInput | None = None, headers: dict[str, str] | None = None) -> Response:
    if not state.submission_key:
        state = replace(state, submission_key=receipts.new_submission_key())
    suggestions = await stories.tag_suggestions(_rt(request).pool)
    # Keep the member's own picks visible even if they are no longer among the suggestions.
    suggestions += [t for t in state.heritage_pick if t not in suggestions]
    pool = _rt(request).pool
    return _page(request, "form.html", {
        "here": "share", "form": state, "errors": errors, "preview": preview, "suggestions": suggestions,
        "themes": THEMES, "warnings": CONTENT_WARNINGS, "limits": LIMITS, "anchors": FORM_ANCHORS,
        "prompts": await exchange.open_prompts(pool),
        "responding_to": await exchange.published_title(pool, _valid_id(state.in_response_to)),
    }, status_code=status_code, headers=headers)


def _valid_id(raw: str) -> str | None:
    errors: dict[str, str] = {}
    return exchange._uuid(raw, "id", "story", errors)


async def form(request: Request) -> Response:
    # "Write a story in response" and a prompt's "Write for this prompt" link here.
    q = request.query_params
    return await _form_page(request, FormState(in_response_to=(q.get("in_response_to") or "")[:100],
                                               prompt_id=(q.get("prompt") or "")[:100]), {})


async def _references(request: Request, story: StoryInput) -> None:
    """Raise Invalid when the prompt is not open or the story answered is not published."""
    errors = await exchange.check_references(_rt(request).pool, story.prompt_id, story.in_response_to)
    if errors:
        raise Invalid(errors)


async def submit_form(request: Request) -> Response:
    data = await request.form()
    state = read_form(data)
    if not csrf_ok(request, data.get("csrf")) or (
            state.submission_key and not receipts.SUBMISSION_KEY.match(state.submission_key)):
        return await _form_page(request, replace(state, submission_key=""), {
            "form": "This form expired. Your text is still below; please send it again."}, status_code=400)
    try:
        story = validate_form(state)
        await _references(request, story)
    except Invalid as e:
        return await _form_page(request, state, e.errors, status_code=422)
    if data.get("action") == "preview":
        return await _form_page(request, state, {}, preview=story)
    if (limited := await _rate_limited(request)) is not None:
        return limited
    try:
        done = await _submit(request, story, state.submission_key or None)
    except stories.KeyReused:
        # Back, edit, send: a new story from the page of one already sent.
        done = await _submit(request, story, None)
    return _page(request, "receipt.html", {"receipt": done.code, "here": "share"}, status_code=201)


async def privacy(request: Request) -> Response:
    return _page(request, "privacy.html", {"retention_days": _rt(request).settings.retention_days, "here": None})


async def guidelines(request: Request) -> Response:
    return _page(request, "guidelines.html", {"here": None})


async def status_page(request: Request) -> Response:
    return _page(request, "status.html", {"errors": {}, "here": "status"})


async def status_form(request: Request) -> Response:
    data = await request.form()
    ctx: dict[str, Any] = {"here": "status"}
    if not csrf_ok(request, data.get("csrf")):
        return _page(request, "status.html", ctx | {"errors": {"receipt": "This form expired; please try again."}},
                     status_code=400)
    raw = data.get("receipt")
    if not isinstance(raw, str) or not raw.strip():
        return _page(request, "status.html", ctx | {"errors": {"receipt": "Enter the receipt code you were given."}},
                     status_code=422)
    row = await stories.find_by_receipt(_rt(request).pool, raw)
    if row is None:
        return _page(request, "status.html", ctx | {"errors": {"receipt": _NO_SUCH_RECEIPT}}, status_code=404)
    action = data.get("action")
    ctx |= {"story": row, "receipt": raw.strip()}
    if action == "withdraw":
        if data.get("confirm") != "yes":
            return _page(request, "status.html", ctx | {"confirming": True, "errors": {
                "confirm": "Tick the box to confirm that you want your story deleted."}}, status_code=422)
        await stories.withdraw(_rt(request).pool, row["story_id"])
        return _page(request, "status.html", {"here": "status", "withdrawn": True})
    if action == "confirm-withdraw":
        return _page(request, "status.html", ctx | {"confirming": True})
    return _page(request, "status.html", ctx)


_NO_SUCH_RECEIPT = "We could not find a story with that receipt code. Check it and try again."


async def not_found(request: Request, exc: Exception) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": "Nothing here."}, status_code=404)
    return _page(request, "not_found.html", {"here": None}, status_code=404)


# --- JSON API --------------------------------------------------------------------------


async def _submit(request: Request, story: StoryInput, key: str | None) -> stories.Submitted:
    code = receipts.code_for_key(_rt(request).settings.secret(), key) if key else None
    return await stories.submit_story(_rt(request).pool, story, code)


async def api_submit(request: Request) -> Response:
    key = request.headers.get("idempotency-key")
    if key is not None and not receipts.SUBMISSION_KEY.match(key):
        return JSONResponse({"errors": {"idempotency_key": "Idempotency-Key must be 16 to 200 letters, digits, "
                                        "- or _; use a fresh random value per story."}}, status_code=400)
    try:
        story = validate_story(await _json_body(request))
        await _references(request, story)
    except Invalid as e:
        return JSONResponse({"errors": e.errors}, status_code=422)
    if (limited := await _rate_limited(request)) is not None:
        return limited
    try:
        done = await _submit(request, story, key)
    except stories.KeyReused:
        return JSONResponse({"errors": {"idempotency_key": "This Idempotency-Key was already used for a different "
                                        "story; send this one with a new key."}}, status_code=409)
    return JSONResponse({"receipt": done.code, "status": done.status}, status_code=202,
                        headers={"Cache-Control": "no-store"})


async def _api_receipt(request: Request) -> tuple[Any, Response | None]:
    try:
        data = await _json_body(request)
    except Invalid as e:
        return None, JSONResponse({"errors": e.errors}, status_code=422)
    if not isinstance(data, dict) or not isinstance(data.get("receipt"), str):
        return None, JSONResponse({"errors": {"receipt": "Send {\"receipt\": \"BR-…\"}."}}, status_code=422)
    row = await stories.find_by_receipt(_rt(request).pool, data["receipt"])
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
    await stories.withdraw(_rt(request).pool, row["story_id"])
    return JSONResponse({"status": "withdrawn"})


async def healthz(request: Request) -> Response:
    rt = _rt(request)
    return await health_response(rt.pool, rt.nc, {"service": "submission"})


def _consumers(rt: Runtime) -> list[bus.Consumer]:
    if rt.settings.submission_rate_limit is not None:
        limit, period = rt.settings.submission_rate_limit
        rt.extra["limiter"] = RateLimiter(rt.js, "submission", limit, period)
    return [bus.Consumer(rt.js, rt.pool, "submission", "stories.>", handlers.HANDLERS | exchange.HANDLERS)]


def create_app(settings: Settings) -> Starlette:
    TEMPLATES.env.globals.update(quick_exit_url=settings.quick_exit_url, submission_url="",
                                 publishing_url=settings.publishing_url())
    return Starlette(
        routes=[
            Route("/", form),
            Route("/privacy", privacy),
            Route("/guidelines", guidelines),
            Route("/stories", submit_form, methods=["POST"]),
            Route("/status", status_page),
            Route("/status", status_form, methods=["POST"]),
            Route("/api/stories", api_submit, methods=["POST"]),
            Route("/api/receipts/status", api_status, methods=["POST"]),
            Route("/api/receipts/withdraw", api_withdraw, methods=["POST"]),
            Route("/healthz", healthz),
            Route("/metrics", metrics),
            Route("/openapi.json", submission_openapi.openapi),
            Mount("/static", static_files(HERE), name="static"),
        ],
        middleware=[Middleware(SecurityHeaders), Middleware(BodyLimit, max_bytes=settings.max_body_bytes)],
        exception_handlers=exception_handlers() | {404: not_found},
        lifespan=lifespan("submission", HERE, settings, consumers=_consumers, purge=retention.purge),
    )
