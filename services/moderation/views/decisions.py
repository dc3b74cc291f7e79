"""Deciding: approve or reject (one item, JSON, or in bulk), take down a published
story, dismiss reader reports."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from services.moderation import exchange, reasons
from services.moderation.decisions import (
    DECISIONS,
    REASON_MAX,
    Conflict,
    Decision,
    SameModerator,
    decide,
    dismiss_reports,
    takedown,
)
from services.moderation.web import (
    EXPIRED,
    back,
    done,
    error,
    form,
    json_body,
    kept,
    moderator_only,
    rt,
    story_id,
)
from shared.taxonomy import CONTENT_WARNINGS_MAX, TAGS_MAX, content_warnings_problem, tags_problem
from shared.text import clean_for_display, clean_label, clean_line, label_problem

BULK_MAX = 100
PAST = {"approve": "approved", "reject": "rejected"}


def _confirmations(request: Request) -> int:
    return rt(request).settings.reject_confirmations


def _new_state(sent: str, parsed: Decision) -> str:
    return "awaiting_confirmation" if sent == "RejectionProposed" else PAST[parsed.decision]


def _phrases(value: Any, field: str, errors: dict[str, str], limit: int) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value) or len(value) > limit:
        errors[field] = f"Give up to {limit} short phrases, separated by commas."
        return []
    # The labels rule the form follows: format and invisible characters go,
    # look-alike spellings are refused (shared.text.label_problem).
    cleaned = [clean_label(c) for c in value]
    for raw, label in zip(value, cleaned, strict=True):
        if problem := label_problem(raw, label):
            errors[field] = f"{raw.strip()[:40]!r} {problem}; please type it plainly."
            return []
    return list(dict.fromkeys(c for c in cleaned if c))


def parse_decision(data: Any, templates_by_id: dict[str, str] | None = None) -> Decision | dict[str, str]:
    """A Decision, or the errors per field. Tags replacing the author's follow the
    rule the submission form follows."""
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
    # Over-long warnings are refused, as the form refuses them, not cut short.
    cws = _phrases(data.get("content_warnings") or [], "content_warnings", errors, CONTENT_WARNINGS_MAX)
    if "content_warnings" not in errors and (problem := content_warnings_problem(cws)):
        errors["content_warnings"] = problem
    tags = None
    if data.get("tags") not in (None, ""):
        tags = _phrases(data["tags"], "tags", errors, TAGS_MAX)
        if "tags" not in errors and (problem := tags_problem(tags)):
            errors["tags"] = problem
    glossary = None
    if data.get("glossary") is not None:
        parsed = exchange.parse_glossary(data["glossary"])
        if isinstance(parsed, str):
            errors["glossary"] = parsed
        else:
            glossary = parsed
    if decision == "reject" and not reason:
        errors["reason"] = "Give the author a reason (or pick one); they will see it with their receipt."
    if errors:
        return errors
    return Decision(decision, reason, cws, tags, glossary)


async def _item_form(request: Request) -> tuple[uuid.UUID, FormData] | Response:
    """The story id from the path and the posted form of an item's action, or the
    error page to answer with (expired form 400, unknown id 404)."""
    sid = story_id(request)
    data = await form(request)
    if data is None:
        return error(request, EXPIRED, 400)
    if sid is None:
        return error(request, "No such item.", 404)
    return sid, data


def _conflict_message(state: str | None, same: bool = False) -> str:
    if same:
        return ("A different moderator must decide this: you made the first decision"
                f"{' (the author appealed it)' if state == 'appealed' else ' (it needs a second moderator)'}.")
    if state is None:
        return "This story is gone: its author withdrew it."
    if state == "pending":
        return "This story has not been decided yet, so there is nothing to take down."
    did = "took down" if state == "unpublished" else state
    return f"Another moderator already {did} this story; nothing was changed."


def _conflict_page(request: Request, e: Conflict) -> Response:
    return error(request, _conflict_message(e.state, isinstance(e, SameModerator)), 409 if e.state else 404)


def _conflict_json(e: Conflict) -> JSONResponse:
    """A decision or takedown that lost: 404 if the story is gone, else 409 with its state."""
    if e.state is None:
        return JSONResponse({"error": "No such item (it may have been withdrawn)."}, status_code=404)
    return JSONResponse({"error": _conflict_message(e.state, isinstance(e, SameModerator)), "state": e.state},
                        status_code=409)


@moderator_only()
async def api_decide(request: Request) -> Response:
    sid = story_id(request)
    if sid is None:
        return JSONResponse({"error": "No such item."}, status_code=404)
    data = await json_body(request)
    if data is None:
        return JSONResponse({"errors": {"decision": "Send the decision as JSON."}}, status_code=422)
    parsed = parse_decision(data, await reasons.by_id(rt(request).pool))
    if isinstance(parsed, dict):
        return JSONResponse({"errors": parsed}, status_code=422)
    try:
        sent = await decide(rt(request).pool, sid, request.state.moderator, parsed, _confirmations(request))
    except Conflict as e:
        return _conflict_json(e)
    return JSONResponse({"id": str(sid), "state": _new_state(sent, parsed)})


@moderator_only()
async def decide_form(request: Request) -> Response:
    parsed_form = await _item_form(request)
    if isinstance(parsed_form, Response):
        return parsed_form
    sid, data = parsed_form
    parsed = parse_decision({k: data.get(k) for k in ("decision", "reason", "template", "content_warnings", "tags",
                                                      "glossary")},
                            await reasons.by_id(rt(request).pool))
    if isinstance(parsed, dict):
        # Back to the story with the message beside its reason field, not a dead end.
        return kept(back(data), " ".join(parsed.values()), [str(sid)], anchor=f"rej-reason-{sid}")
    try:
        sent = await decide(rt(request).pool, sid, request.state.moderator, parsed, _confirmations(request))
    except Conflict as e:
        return _conflict_page(request, e)
    if _new_state(sent, parsed) == "awaiting_confirmation":
        return done(back(data), "Rejection proposed: a second moderator confirms or overturns it.")
    return done(back(data), f"Story {PAST[parsed.decision]}.")


@moderator_only()
async def bulk_form(request: Request) -> Response:
    data = await form(request)
    if data is None:
        return error(request, EXPIRED, 400)
    ids = []
    for raw in data.getlist("ids"):
        try:
            ids.append(uuid.UUID(str(raw)))
        except ValueError:
            return error(request, "One of the selected items is not valid; reload the queue.", 422)
    if not ids:
        return error(request, "Select at least one story (the checkboxes, or x on the keyboard).", 422)
    if len(ids) > BULK_MAX:
        return error(request, f"Select at most {BULK_MAX} stories at once.", 422)
    parsed = parse_decision({k: data.get(k) for k in ("decision", "reason", "template", "content_warnings")},
                            await reasons.by_id(rt(request).pool))
    if isinstance(parsed, dict):
        # The ticked stories stay ticked, the message sits by the bulk reason.
        return kept(back(data), " ".join(parsed.values()), [str(i) for i in dict.fromkeys(ids)],
                    anchor="bulk-reason")
    decided, skipped = 0, 0
    for sid in dict.fromkeys(ids):
        try:
            await decide(rt(request).pool, sid, request.state.moderator, parsed, _confirmations(request))
            decided += 1
        except Conflict:
            skipped += 1  # someone else decided it first, or it was withdrawn
    message = f"{decided} stor{'y' if decided == 1 else 'ies'} {PAST[parsed.decision]}."
    if skipped:
        message += (f" {skipped} had already been decided by another moderator (or withdrawn)"
                    " and were left as they were.")
    return done(back(data), message)


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
    sid, data = parsed_form
    reason = _takedown_reason(data.get("reason"), await reasons.by_id(rt(request).pool), data.get("template"))
    if isinstance(reason, dict):
        return error(request, reason["reason"], 422)
    try:
        await takedown(rt(request).pool, sid, request.state.moderator, reason)
    except Conflict as e:
        return _conflict_page(request, e)
    return done(back(data), "Story taken down.")


@moderator_only()
async def api_takedown(request: Request) -> Response:
    sid = story_id(request)
    if sid is None:
        return JSONResponse({"error": "No such item."}, status_code=404)
    data = await json_body(request)
    reason = _takedown_reason(data.get("reason") if isinstance(data, dict) else None, {})
    if isinstance(reason, dict):
        return JSONResponse({"errors": reason}, status_code=422)
    try:
        await takedown(rt(request).pool, sid, request.state.moderator, reason)
    except Conflict as e:
        return _conflict_json(e)
    return JSONResponse({"id": str(sid), "state": "unpublished"})


@moderator_only()
async def dismiss_form(request: Request) -> Response:
    parsed_form = await _item_form(request)
    if isinstance(parsed_form, Response):
        return parsed_form
    sid, data = parsed_form
    note = clean_line(str(data.get("reason") or ""))[:REASON_MAX] or None
    n = await dismiss_reports(rt(request).pool, sid, request.state.moderator, note)
    return done(back(data, "/queue?state=reported"),
                f"{n} report{'s' if n != 1 else ''} dismissed; the story stays published.")
