"""Reading the published stories: feed, tag, search, with keyset pagination."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

PAGE = 20
Q_MAX = 200


class BadQuery(ValueError):
    pass


def _like(q: str) -> str:
    # Substring match works for every script, CJK included (no word spaces there).
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def list_stories(pool: asyncpg.Pool, cursor: str | None = None, tag: str | None = None,
                       q: str | None = None, limit: int = PAGE) -> tuple[list[asyncpg.Record], str | None]:
    where, args = ["true"], []
    if cursor:
        if not cursor.isdigit() or len(cursor) > 18:
            raise BadQuery("That page link is not valid; start again from the first page.")
        args.append(int(cursor))
        where.append(f"seq < ${len(args)}")
    if tag:
        args.append(tag)
        where.append(f"EXISTS (SELECT 1 FROM unnest(tags) t WHERE lower(t) = lower(${len(args)}))")
    if q:
        if len(q) > Q_MAX:
            raise BadQuery(f"Keep searches to {Q_MAX} characters.")
        args.append(_like(q))
        where.append(f"(title ILIKE ${len(args)} OR body ILIKE ${len(args)} OR pen_name ILIKE ${len(args)})")
    args.append(limit + 1)
    rows = await pool.fetch(
        "SELECT story_id, seq, title, body, pen_name, tags, content_warnings, published_on FROM stories"
        f" WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT ${len(args)}", *args)
    next_cursor = str(rows[limit - 1]["seq"]) if len(rows) > limit else None
    return rows[:limit], next_cursor


async def get_story(pool: asyncpg.Pool, story_id: uuid.UUID) -> tuple[asyncpg.Record | None, str | None]:
    row = await pool.fetchrow(
        "SELECT story_id, seq, title, body, pen_name, tags, content_warnings, published_on FROM stories"
        " WHERE story_id = $1", story_id)
    if row is not None:
        return row, None
    return None, await pool.fetchval("SELECT why FROM gone_stories WHERE story_id = $1", story_id)


def story_json(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["story_id"]), "title": row["title"], "body": row["body"], "pen_name": row["pen_name"],
        "tags": list(row["tags"]), "content_warnings": list(row["content_warnings"]),
        "published_on": row["published_on"].isoformat(),
    }
