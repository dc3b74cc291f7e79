"""Admin pages: moderator accounts, the screen's word lists, reason templates.

A form that fails shows its page again with the error (422), through the same
function the page's own route uses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from services.moderation import auth, reasons, wordlists
from services.moderation.web import EXPIRED, done, error, form, moderator_only, page, rt


async def _moderators(request: Request, problem: str | None = None, status_code: int = 200) -> Response:
    return page(request, "moderators.html", {
        "moderators": await auth.list_moderators(rt(request).pool), "error": problem,
        "flash": request.query_params.get("done")}, status_code=status_code)


async def _wordlists(request: Request, problem: str | None = None, status_code: int = 200) -> Response:
    return page(request, "wordlists.html", {"terms": await wordlists.terms(rt(request).pool), "error": problem,
                                            "flash": request.query_params.get("done")}, status_code=status_code)


async def _reasons(request: Request, problem: str | None = None, status_code: int = 200) -> Response:
    return page(request, "reasons.html", {"templates": await reasons.templates(rt(request).pool), "error": problem,
                                          "flash": request.query_params.get("done")}, status_code=status_code)


@moderator_only(admin=True)
async def moderators_page(request: Request) -> Response:
    return await _moderators(request)


@moderator_only(admin=True)
async def wordlists_page(request: Request) -> Response:
    return await _wordlists(request)


@moderator_only(admin=True)
async def reasons_page(request: Request) -> Response:
    return await _reasons(request)


async def _account_action(request: Request, action: Callable[[asyncpg.Connection, FormData], Awaitable[str]]
                          ) -> Response:
    data = await form(request)
    if data is None:
        return error(request, EXPIRED, 400)
    try:
        async with rt(request).pool.acquire() as conn:
            message = await action(conn, data)
    except auth.AccountError as e:
        return await _moderators(request, str(e), 422)
    return done("/admin/moderators", message)


@moderator_only(admin=True)
async def add_moderator_form(request: Request) -> Response:
    async def act(conn: asyncpg.Connection, data: FormData) -> str:
        username = str(data.get("username") or "")
        await auth.add_moderator(conn, username, str(data.get("password") or ""),
                                 str(data.get("role") or "moderator"), actor_id=request.state.moderator.id)
        return f"Added {username}."
    return await _account_action(request, act)


@moderator_only(admin=True)
async def account_form(request: Request) -> Response:
    async def act(conn: asyncpg.Connection, data: FormData) -> str:
        username, what = str(data.get("username") or ""), data.get("action")
        me = request.state.moderator.id
        if what in ("disable", "enable"):
            await auth.set_disabled(conn, username, what == "disable", actor_id=me)
            return f"{'Disabled' if what == 'disable' else 'Enabled'} {username}" + (
                "; their sessions ended." if what == "disable" else ".")
        if what == "reset":
            await auth.reset_password(conn, username, str(data.get("password") or ""), actor_id=me)
            return f"New password set for {username}; their sessions ended."
        raise auth.AccountError("Choose disable, enable or reset.")
    return await _account_action(request, act)


@moderator_only(admin=True)
async def wordlists_form(request: Request) -> Response:
    data = await form(request)
    if data is None:
        return error(request, EXPIRED, 400)
    term, me = str(data.get("term") or ""), request.state.moderator.id
    try:
        async with rt(request).pool.acquire() as conn:
            if data.get("action") == "remove":
                removed = await wordlists.remove_term(conn, term, actor_id=me)
                message = "Removed." if removed else "That term was not on the lists."
            else:
                await wordlists.add_term(conn, term, str(data.get("kind") or ""), actor_id=me)
                message = f"Added as {data.get('kind')}. New stories are screened with it within a few seconds."
    except wordlists.TermError as e:
        return await _wordlists(request, str(e), 422)
    return done("/admin/wordlists", message)


@moderator_only(admin=True)
async def reasons_form(request: Request) -> Response:
    data = await form(request)
    if data is None:
        return error(request, EXPIRED, 400)
    me, pool = request.state.moderator.id, rt(request).pool
    if data.get("action") == "remove":
        removed = await reasons.remove(pool, me, str(data.get("id") or ""))
        return done("/admin/reasons", "Removed." if removed else "Already gone.")
    try:
        await reasons.add(pool, me, str(data.get("title") or ""), str(data.get("body") or ""))
    except reasons.ReasonError as e:
        return await _reasons(request, str(e), 422)
    return done("/admin/reasons", "Added.")
