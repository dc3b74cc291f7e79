"""Reading the published stories: feed, tag, search, with keyset pagination."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from services.publishing.exchange import COLUMNS, SEARCH_EXTRA, story_extras
from shared.fold import FOLD_FROM, FOLD_TO, fold
from shared.i18n import gettext_later

PAGE = 20
Q_MAX = 200
TAG_MAX = 100


# The exact expression the trigram index covers (migrations/020_search.sql).
SEARCH_TEXT = "(title || ' ' || coalesce(pen_name, '') || ' ' || body)"


class BadQuery(ValueError):
    pass


def _like(q: str) -> str:
    # Substring match works for every script, CJK included (no word spaces there).
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def list_stories(pool: asyncpg.Pool, cursor: str | None = None, tag: str | None = None,
                       q: str | None = None, limit: int = PAGE,
                       prompt: str | None = None) -> tuple[list[asyncpg.Record], str | None]:
    where, args = ["true"], []
    if cursor:
        if not cursor.isdigit() or len(cursor) > 18:
            raise BadQuery(gettext_later("That page link is not valid; start again from the first page."))
        args.append(int(cursor))
        where.append(f"seq < ${len(args)}")
    if tag:
        if len(tag) > TAG_MAX:
            raise BadQuery(gettext_later("That tag is too long to exist."))
        args.append(tag)
        where.append(f"EXISTS (SELECT 1 FROM unnest(tags) t WHERE lower(t) = lower(${len(args)}))")
    if q:
        if len(q) > Q_MAX:
            raise BadQuery(f"Keep searches to {Q_MAX} characters.")
        # Stemmed full-text search for space-separated languages, OR a substring match
        # for scripts without word spaces (CJK); see migrations/020_search.sql.
        args.append(q)
        fts = f"search_en @@ websearch_to_tsquery('english', ${len(args)})"
        # Accents folded on both sides (shared/fold.py; migrations/180_search_fold.sql) ...
        args.append(_like(fold(q)))
        like = len(args)
        # ... and the author's second-language version and glossary (exchange.py), folded
        # the same way in the query (they are not in the stored search_fold column).
        args += [FOLD_FROM, FOLD_TO]
        extra = (f"translate(regexp_replace({SEARCH_EXTRA}, '[\\u0300-\\u036f]', '', 'g'),"
                 f" ${len(args) - 1}, ${len(args)})")
        where.append(f"({fts} OR search_fold ILIKE ${like} OR {extra} ILIKE ${like})")
    if prompt:
        try:
            args.append(uuid.UUID(prompt))
        except ValueError:
            raise BadQuery(gettext_later("That is not a writing prompt we know.")) from None
        where.append(f"prompt_id = ${len(args)}")
    args.append(limit + 1)
    rows = await pool.fetch(
        f"SELECT {COLUMNS} FROM stories s WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT ${len(args)}", *args)
    next_cursor = str(rows[limit - 1]["seq"]) if len(rows) > limit else None
    return rows[:limit], next_cursor


async def get_story(pool: asyncpg.Pool, story_id: uuid.UUID) -> tuple[asyncpg.Record | None, str | None]:
    row = await pool.fetchrow(
        f"SELECT {COLUMNS} FROM stories s WHERE s.story_id = $1", story_id)
    if row is not None:
        return row, None
    return None, await pool.fetchval("SELECT why FROM gone_stories WHERE story_id = $1", story_id)


def story_json(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["story_id"]), "title": row["title"], "body": row["body"], "pen_name": row["pen_name"],
        "tags": list(row["tags"]), "content_warnings": list(row["content_warnings"]),
        "published_on": row["published_on"].isoformat(),
    } | story_extras(row)


async def all_tags(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    """Every tag on a published story with its count, most used first."""
    return await pool.fetch(
        "SELECT min(t) AS tag, count(*) AS n FROM stories, unnest(tags) AS t GROUP BY lower(t)"
        " ORDER BY n DESC, lower(min(t))")


async def newest_day(pool: asyncpg.Pool) -> Any:
    return await pool.fetchval("SELECT max(published_on) FROM stories")


async def resources(pool: asyncpg.Pool) -> asyncpg.Record | None:
    return await pool.fetchrow("SELECT revision, intro, entries FROM site_resources WHERE id = 1")


async def neighbours(pool: asyncpg.Pool, seq: int) -> tuple[asyncpg.Record | None, asyncpg.Record | None]:
    """The newer and the older published story beside the one at `seq` (feed order)."""
    newer = await pool.fetchrow(
        "SELECT story_id, title, published_on FROM stories WHERE seq > $1 ORDER BY seq LIMIT 1", seq)
    older = await pool.fetchrow(
        "SELECT story_id, title, published_on FROM stories WHERE seq < $1 ORDER BY seq DESC LIMIT 1", seq)
    return newer, older
