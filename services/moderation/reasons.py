"""Reason templates: ready-made reasons moderators pick when they reject or take
down a story (admins edit them)."""

from __future__ import annotations

import asyncpg

from services.moderation import audit
from services.moderation.decisions import REASON_MAX
from shared.text import clean_for_display, clean_line

TITLE_MAX = 80


class ReasonError(ValueError):
    pass


async def templates(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT id, title, body FROM reason_templates ORDER BY title")


async def by_id(pool: asyncpg.Pool) -> dict[str, str]:
    """Template id (as text) → its reason."""
    return {str(r["id"]): r["body"] for r in await templates(pool)}


async def add(pool: asyncpg.Pool, moderator_id: int, title: str, body: str) -> None:
    title, body = clean_line(title), clean_for_display(body).strip()
    if not title or len(title) > TITLE_MAX or not body or len(body) > REASON_MAX:
        raise ReasonError(f"A reason needs a short title (up to {TITLE_MAX} characters) and text "
                          f"(up to {REASON_MAX}).")
    async with pool.acquire() as conn, conn.transaction():
        try:
            await conn.execute("INSERT INTO reason_templates (title, body) VALUES ($1, $2)", title, body)
        except asyncpg.UniqueViolationError:
            raise ReasonError("There is already a reason with that title.") from None
        await audit.record(conn, moderator_id, "reasons.added", {"title": title, "body": body})


async def remove(pool: asyncpg.Pool, moderator_id: int, template_id: str) -> bool:
    async with pool.acquire() as conn, conn.transaction():
        title = await conn.fetchval("DELETE FROM reason_templates WHERE id::text = $1 RETURNING title", template_id)
        if title:
            await audit.record(conn, moderator_id, "reasons.removed", {"title": title})
    return bool(title)
