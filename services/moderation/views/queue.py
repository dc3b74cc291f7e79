"""The review queue: its tabs, one item, soft claims and revealing held stories."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from services.moderation import audit, auth, queue, reasons, render, wellbeing
from services.moderation.screen.policy import OUTCOMES
from services.moderation.web import (
    EXPIRED,
    back,
    error,
    form,
    json_body,
    moderator_only,
    page,
    rt,
    story_id,
    with_flash,
)


def _filters(request: Request) -> tuple[str, str | None, str | None, str] | str:
    q = request.query_params
    state, label, order = q.get("state", "pending"), q.get("label") or None, q.get("order") or "severity"
    if state not in queue.STATES:
        return f"state must be one of {', '.join(queue.STATES)}"
    if label is not None and label not in OUTCOMES:
        return f"label must be one of {', '.join(OUTCOMES)}"
    if order not in queue.ORDERS:
        return f"order must be one of {', '.join(queue.ORDERS)}"
    return state, label, q.get("cursor") or None, order


def _here(request: Request) -> str:
    """This page's address without the one-time messages, for forms to return to."""
    query = "&".join(p for p in request.url.query.split("&") if p and not p.startswith(("done=", "error=", "sel=")))
    return str(request.url.path) + (f"?{query}" if query else "")


def _kept(request: Request) -> dict[str, Any]:
    """A refused decision's message and the stories that stay ticked (web.kept)."""
    sel = request.query_params.getlist("sel")
    return {"form_error": request.query_params.get("error"), "selected": set(sel) - {"all"},
            "select_all": "all" in sel}


@moderator_only()
async def home(request: Request) -> Response:
    return RedirectResponse("/queue", status_code=303)


def _view(row: asyncpg.Record, me: auth.Moderator, revealed: set[uuid.UUID]) -> dict[str, Any]:
    """What the item template needs, with highlighted title and body."""
    item = dict(row)
    title, body = item.get("title") or "", item.get("body") or ""
    passages, hits = item.get("passages") or [], item.get("term_hits") or []
    item["title_html"] = render.highlight(title, render.spans_for("title", passages, hits, len(title)))
    item["body_html"] = render.highlight(body, render.spans_for("body", passages, hits, len(body), len(title)))
    if tr := item.get("translation"):  # the author's second-language version, screened as its own text
        item["tr_title_html"] = render.highlight(tr["title"], render.spans_for(
            "translation_title", passages, hits, len(tr["title"])))
        item["tr_body_html"] = render.highlight(tr["body"], render.spans_for(
            "translation_body", passages, hits, len(tr["body"]), len(tr["title"])))
    item["claimed_by_other"] = queue.active_claim(row, me.id)
    item["blurred"] = item.get("label") == "held" and item["story_id"] not in revealed
    return item


@moderator_only()
async def queue_page(request: Request) -> Response:
    f = _filters(request)
    if isinstance(f, str):
        return error(request, f, 400)
    state, label, cursor, order = f
    pool, me = rt(request).pool, request.state.moderator
    try:
        rows, next_cursor = await queue.list_items(pool, state, label, cursor, order=order)
    except queue.BadCursor as e:
        return error(request, str(e), 400)
    revealed = await queue.revealed(pool, me.id, [r["story_id"] for r in rows if r["label"] == "held"])
    items = [_view(r, me, revealed) for r in rows if r["title"] is not None or state == "reported"]
    here = _here(request)
    return page(request, "queue.html", _kept(request) | {
        "items": items, "next": next_cursor, "state": state, "label": label, "order": order, "cursor": cursor,
        "counts": await queue.counts(pool), "flash": request.query_params.get("done"), "here": here,
        "templates": await reasons.templates(pool),
    })


@moderator_only()
async def item_page(request: Request) -> Response:
    sid = story_id(request)
    pool, me = rt(request).pool, request.state.moderator
    row = await queue.get_item(pool, sid) if sid else None
    if row is None:
        return error(request, "No such item (it may have been withdrawn by its author).", 404)
    other = queue.active_claim(row, me.id)
    if row["state"] == "pending":
        await queue.claim(pool, row["story_id"], me.id)  # opening an item claims it, softly
    item = _view(row, me, await queue.revealed(pool, me.id, [row["story_id"]]))
    item["claimed_by_other"] = other
    following = await queue.next_pending(pool, row["story_id"]) if row["state"] != "pending" else None
    return page(request, "item.html", _kept(request) | {
        "next_story": following, "publishing_url": rt(request).settings.publishing_url(),
        "item": item, "history": await audit.history(pool, row["story_id"]), "templates": await reasons.templates(pool),
        "flash": request.query_params.get("done"), "here": f"/queue/{row['story_id']}",
    })


@moderator_only()
async def api_queue(request: Request) -> Response:
    f = _filters(request)
    if isinstance(f, str):
        return JSONResponse({"errors": {"query": f}}, status_code=422)
    state, label, cursor, order = f
    try:
        items, next_cursor = await queue.list_items(rt(request).pool, state, label, cursor, order=order)
    except queue.BadCursor as e:
        return JSONResponse({"errors": {"cursor": str(e)}}, status_code=422)
    return JSONResponse({"items": [queue.item_json(r) for r in items if r["title"] is not None],
                         "next": next_cursor})


@moderator_only()
async def api_counts(request: Request) -> Response:
    return JSONResponse(await queue.counts(rt(request).pool))


@moderator_only()
async def api_claim(request: Request) -> Response:
    sid = story_id(request)
    row = await queue.get_item(rt(request).pool, sid) if sid else None
    if row is None:
        return JSONResponse({"error": "No such item."}, status_code=404)
    other = queue.active_claim(row, request.state.moderator.id)
    if row["state"] == "pending":
        await queue.claim(rt(request).pool, sid, request.state.moderator.id)
    return JSONResponse({"id": str(sid), "also_looking": other})


async def _reveal(request: Request, on: bool) -> bool:
    sid = story_id(request)
    if sid is None or await queue.get_item(rt(request).pool, sid) is None:
        return False
    await queue.reveal(rt(request).pool, request.state.moderator.id, sid, on)
    return True


@moderator_only()
async def reveal_form(request: Request) -> Response:
    data = await form(request)
    if data is None:
        return error(request, EXPIRED, 400)
    on = data.get("action") != "hide"
    if not await _reveal(request, on):
        return error(request, "No such item.", 404)
    reminder = await wellbeing.break_due(rt(request).pool, request.state.moderator.id) if on else None
    if reminder:
        return RedirectResponse(with_flash(back(data), reminder), status_code=303)
    return RedirectResponse(back(data), status_code=303)


@moderator_only()
async def api_reveal(request: Request) -> Response:
    data = await json_body(request)
    on = not (isinstance(data, dict) and data.get("action") == "hide")
    if not await _reveal(request, on):
        return JSONResponse({"error": "No such item."}, status_code=404)
    reminder = await wellbeing.break_due(rt(request).pool, request.state.moderator.id) if on else None
    return JSONResponse({"revealed": on} | ({"break_reminder": reminder} if reminder else {}))


@moderator_only()
async def me_page(request: Request) -> Response:
    """Her own settings: the break reminder."""
    e = await wellbeing.exposure(rt(request).pool, request.state.moderator.id)
    return page(request, "me.html", {"exposure": e, "flash": request.query_params.get("done")})


@moderator_only()
async def me_form(request: Request) -> Response:
    data = await form(request)
    if data is None:
        return error(request, EXPIRED, 400)
    raw = str(data.get("break_after") or "0").strip()
    if not raw.isdigit() or int(raw) > wellbeing.BREAK_MAX:
        return error(request, f"Give a whole number from 0 (no reminder) to {wellbeing.BREAK_MAX}.", 422)
    await wellbeing.set_break_after(rt(request).pool, request.state.moderator.id, int(raw))
    return RedirectResponse(with_flash("/me", "Saved."), status_code=303)
