"""Submission service: the story form, the JSON API and receipts (public)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from services.submission import exchange, handlers, privacy_check, receipts, retention, stories
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
from shared import edges, natsauth
from shared.config import Settings
from shared.consumer import Consumer, consumers
from shared.i18n import Later, gettext_later
from shared.ratelimit import RateLimiter
from shared.runtime import Runtime, lifespan
from shared.taxonomy import CONTENT_WARNINGS, THEMES
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


class TooDeep(Invalid):
    """JSON nested deeper than shared.edges.MAX_DEPTH: 400, not 422."""
TEMPLATES = templates(HERE, public=True)


def _rt(request: Request) -> Runtime:
    return request.state.rt


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return edges.loads(raw)
    except edges.TooDeep as e:
        raise TooDeep({"body": str(e)}) from None
    except UnicodeDecodeError:
        raise Invalid({"body": "The request is not valid UTF-8 text."}) from None
    except json.JSONDecodeError as e:
        raise Invalid({"body": f"The request is not valid JSON ({e.msg} at position {e.pos})."}) from None


async def _over_limit(request: Request, limiter_name: str, message: Later) -> tuple[Later, dict[str, str]] | None:
    """The message and headers of a 429 when this client is over the named limiter's
    limit, or None (also when the limit is off)."""
    limiter: RateLimiter | None = _rt(request).extra.get(limiter_name)
    if limiter is None or request.client is None:
        return None
    verdict = await limiter.hit(request.client.host)
    if verdict.allowed:
        return None
    return message, {"Retry-After": str(verdict.retry_after), "Cache-Control": "no-store"}


async def _receipts_limited(request: Request) -> Response | None:
    """A receipt look-up over the per-client limit: 429 with Retry-After (a guesser
    gets a few dozen tries an hour, not thousands)."""
    over = await _over_limit(request, "receipt_limiter", gettext_later(
        "You have looked up receipts many times in a short time. Please wait a while and try again."))
    if over is None:
        return None
    message, headers = over
    if request.url.path.startswith("/api/"):
        return JSONResponse({"errors": {"rate": message}}, status_code=429, headers=headers)
    return _page(request, "status.html", {"here": "status", "errors": {"receipt": message}}, status_code=429,
                 headers=headers)


async def _rate_limited(request: Request) -> Response | None:
    over = await _over_limit(request, "limiter", gettext_later(
        "You have shared several stories in a short time. Please wait a while and try again."))
    if over is None:
        return None
    message, headers = over
    if request.url.path.startswith("/api/"):
        return JSONResponse({"errors": {"rate": message}}, status_code=429, headers=headers)
    state = read_form(await request.form())
    return await _form_page(request, state, {"rate": message}, status_code=429, headers=headers)


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200,
          headers: dict[str, str] | None = None) -> Response:
    """A page. It sets no cookie: the forms are protected by the same-origin check
    on every POST (shared/edges.py) and, for a story, the key minted into the form."""
    context = {"errors": {}} | context
    response = TEMPLATES.TemplateResponse(request, name, context, status_code=status_code, headers=headers)
    # Nothing a member typed or was given (a receipt code) may sit in a cache.
    response.headers["Cache-Control"] = "no-store"
    # The page speaks the language Accept-Language picked (shared/i18n.py).
    response.headers["Vary"] = "Accept-Language"
    return response


# --- HTML ------------------------------------------------------------------------------

LIMITS = {"title": TITLE_MAX, "body_min": BODY_MIN, "body_max": BODY_MAX, "pen_name": PEN_NAME_MAX}


async def _form_page(request: Request, state: FormState, errors: dict[str, str], status_code: int = 200,
                     preview: StoryInput | None = None, headers: dict[str, str] | None = None,
                     resend: bool = False, findings: list[privacy_check.Finding] | None = None) -> Response:
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
        "resend": resend, "findings": findings or [],
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
    resend = data.get("resend") == "1"
    if not receipts.key_ok(state.submission_key):  # only a form we served has one
        return await _form_page(request, replace(state, submission_key=""), {
            "form": gettext_later("This form expired. Your text is still below; please send it again.")},
            status_code=400)
    try:
        story = validate_form(state)
        await _references(request, story)
    except Invalid as e:
        return await _form_page(request, state, e.errors, status_code=422, resend=resend)
    if data.get("action") == "preview":
        # The privacy check: advice beside the preview, never a block; it runs here
        # and sends nothing anywhere.
        findings = await asyncio.to_thread(privacy_check.check, story.title, story.body, story.pen_name)
        return await _form_page(request, state, {}, preview=story, resend=resend, findings=findings)
    if (limited := await _rate_limited(request)) is not None:
        return limited
    try:
        done = await _submit(request, story, state.submission_key)
    except stories.KeyReused:
        # Back, edit, send: a new story from the page of one already sent.
        done = await _submit(request, story, None)
    return _page(request, "receipt.html", {"receipt": done.code, "here": "share", "resend": resend},
                 status_code=201)


async def privacy(request: Request) -> Response:
    return _page(request, "privacy.html", {"retention_days": _rt(request).settings.retention_days, "here": None})


async def guidelines(request: Request) -> Response:
    return _page(request, "guidelines.html", {"here": None})


async def status_page(request: Request) -> Response:
    return _page(request, "status.html", {"errors": {}, "here": "status"})


async def status_form(request: Request) -> Response:
    data = await request.form()
    ctx: dict[str, Any] = {"here": "status"}
    raw = data.get("receipt")
    if not isinstance(raw, str) or not raw.strip():
        return _page(request, "status.html",
                     ctx | {"errors": {"receipt": gettext_later("Enter the receipt code you were given.")}},
                     status_code=422)
    if (limited := await _receipts_limited(request)) is not None:
        return limited
    row = await stories.find_by_receipt(_rt(request).pool, raw)
    if row is None:
        return _page(request, "status.html", ctx | {"errors": {"receipt": _NO_SUCH_RECEIPT}}, status_code=404)
    action = data.get("action")
    ctx |= {"story": row, "receipt": raw.strip()}
    if action == "withdraw":
        if data.get("confirm") != "yes":
            return _page(request, "status.html", ctx | {"confirming": True, "errors": {
                "confirm": gettext_later("Tick the box to confirm that you want your story deleted.")}},
                status_code=422)
        await stories.withdraw(_rt(request).pool, row["story_id"])
        return _page(request, "status.html", {"here": "status", "withdrawn": True})
    if action == "appeal" and row["status"] == "rejected":
        message = data.get("message")
        message = clean_for_display(message).strip()[:stories.APPEAL_MESSAGE_MAX] if isinstance(message, str) else ""
        if not message:
            text = await stories.story_text(_rt(request).pool, row["story_id"])
            return _page(request, "status.html", ctx | {"text": text, "errors": {
                "message": gettext_later("Tell the moderators why they should look again.")}}, status_code=422)
        try:
            await stories.appeal(_rt(request).pool, row["story_id"], message, _rt(request).settings.appeal_days)
        except stories.AppealRefused as e:
            return _page(request, "status.html", ctx | {"errors": {"receipt": e.message}},
                         status_code=409)
        row = dict(row) | {"status": "appealed"}
        ctx |= {"story": row}
    text = await stories.story_text(_rt(request).pool, row["story_id"])
    if action == "resend" and text is not None:
        # "Edit and send again": the stored story, prefilled, with a fresh submission
        # key, so sending files a new story with a new receipt code.
        return await _form_page(request, FormState(**stories.resend_state(text)), {}, resend=True)
    ctx |= {"text": text}
    if action == "confirm-withdraw":
        return _page(request, "status.html", ctx | {"confirming": True})
    return _page(request, "status.html", ctx)


_NO_SUCH_RECEIPT = gettext_later("We could not find a story with that receipt code. Check it and try again.")


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
    if key is not None and not receipts.key_ok(key):
        return JSONResponse({"errors": {"idempotency_key": "Idempotency-Key must be 22 to 200 letters, digits, "
                                        "- or _ (at least 128 random bits); use a fresh random value per story, "
                                        "such as a UUID."}}, status_code=400)
    try:
        story = validate_story(await _json_body(request))
        await _references(request, story)
    except Invalid as e:
        return JSONResponse({"errors": e.errors}, status_code=400 if isinstance(e, TooDeep) else 422)
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
        return None, JSONResponse({"errors": e.errors}, status_code=400 if isinstance(e, TooDeep) else 422)
    if not isinstance(data, dict) or not isinstance(data.get("receipt"), str):
        return None, JSONResponse({"errors": {"receipt": "Send {\"receipt\": \"BR-…\"}."}}, status_code=422)
    if (limited := await _receipts_limited(request)) is not None:
        return None, limited
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
    text = await stories.story_text(_rt(request).pool, row["story_id"])
    if text is not None:  # hers to keep and resend, until it is published, withdrawn or purged
        body |= {"title": text["title"], "body": text["body"]}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


async def api_appeal(request: Request) -> Response:
    """An appeal with the receipt code alone: {"receipt", "message"} → 202."""
    row, error = await _api_receipt(request)
    if error:
        return error
    data = json.loads(await request.body())
    message = data.get("message")
    message = clean_for_display(message).strip() if isinstance(message, str) else ""
    if not message:
        return JSONResponse({"errors": {"message": "Tell the moderators why they should look again."}},
                            status_code=422)
    if len(message) > stories.APPEAL_MESSAGE_MAX:
        return JSONResponse({"errors": {"message": f"Keep the message to {stories.APPEAL_MESSAGE_MAX} characters."}},
                            status_code=422)
    try:
        await stories.appeal(_rt(request).pool, row["story_id"], message, _rt(request).settings.appeal_days)
    except stories.AppealRefused as e:
        return JSONResponse({"errors": {"receipt": e.message}, "reason": e.why}, status_code=409)
    return JSONResponse({"status": "appealed"}, status_code=202, headers={"Cache-Control": "no-store"})


async def api_withdraw(request: Request) -> Response:
    row, error = await _api_receipt(request)
    if error:
        return error
    await stories.withdraw(_rt(request).pool, row["story_id"])
    return JSONResponse({"status": "withdrawn"})


async def healthz(request: Request) -> Response:
    rt = _rt(request)
    return await health_response(rt.pool, rt.nc, {"service": "submission"})


# Every event this service consumes: one durable per subject, as its identity allows.
CONSUMES = handlers.HANDLERS | exchange.HANDLERS


def _consumers(rt: Runtime) -> list[Consumer]:
    if rt.settings.submission_rate_limit is not None:
        limit, period = rt.settings.submission_rate_limit
        rt.extra["limiter"] = RateLimiter(rt.js, "submission", limit, period)
    if rt.settings.receipt_rate_limit is not None:
        limit, period = rt.settings.receipt_rate_limit
        rt.extra["receipt_limiter"] = RateLimiter(rt.js, "receipts", limit, period)
    return consumers(rt.js, rt.pool, natsauth.identity("submission"), CONSUMES)


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
            Route("/api/receipts/appeal", api_appeal, methods=["POST"]),
            Route("/healthz", healthz),
            Route("/openapi.json", submission_openapi.openapi),
            Mount("/static", static_files(HERE), name="static"),
        ],
        middleware=[*edges.edge_middleware(settings, settings.submission_url()), Middleware(SecurityHeaders),
                    Middleware(BodyLimit, max_bytes=settings.max_body_bytes)],
        exception_handlers=exception_handlers() | {404: not_found},
        lifespan=lifespan("submission", HERE, settings, consumers=_consumers, purge=retention.purge,
                          pool_size=settings.submission_db_pool_size),
    )
