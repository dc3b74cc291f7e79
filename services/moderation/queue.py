"""Reading the review queue: tabs, counts and keyset pagination.

Every ORDER BY here matches an index (001 and 030 migrations), and pages are
found by keyset (the last row's sort key), never OFFSET: page 4,000 of a
100,000-item queue costs what page 1 costs.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from typing import Any

import asyncpg

from services.moderation import exchange
from services.moderation.screen.policy import OUTCOMES

STATES = ("pending", "approved", "rejected", "unpublished", "reported")
ORDERS = ("severity", "oldest")
PAGE = 25
CLAIM_MINUTES = 10  # a claim older than this is stale and no longer shown

_COLUMNS = ("q.story_id, q.title, q.body, q.pen_name, q.tags, q.content_warnings, q.label, q.severity, q.scores,"
            " q.passages, q.term_hits, q.model, q.state, q.queued_at, q.decided_at, q.reason,"
            " q.unpublished_at, q.unpublished_reason, q.claimed_at,"
            " (SELECT username FROM moderators WHERE id = q.claimed_by) AS claimed_by_name, q.claimed_by,"
            " (SELECT username FROM moderators WHERE id = q.decided_by) AS decided_by_name,"
            " q.prompt_id, (SELECT title FROM prompts p WHERE p.prompt_id = q.prompt_id) AS prompt_title,"
            " q.in_response_to, q.lang, q.translation, q.glossary")


class BadCursor(ValueError):
    pass


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def decode_cursor(raw: str) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if not isinstance(values, list) or len(values) != 3:
            raise ValueError
        return [float(values[0]), dt.datetime.fromisoformat(values[1]), uuid.UUID(values[2])]
    except (ValueError, TypeError):
        raise BadCursor("That page link is not valid; start again from the first page.") from None


async def list_items(pool: asyncpg.Pool, state: str = "pending", label: str | None = None,
                     cursor: str | None = None, limit: int = PAGE,
                     order: str = "severity") -> tuple[list[asyncpg.Record], str | None]:
    """Pending: most severe first, then oldest (or oldest first with
    order="oldest"). Decided: most recently decided first."""
    if state == "reported":
        return await list_reported(pool, cursor, limit)
    args: list[Any] = [state]
    where = ["q.state = $1"]
    if label:
        args.append(label)
        where.append(f"q.label = ${len(args)}")
    key = decode_cursor(cursor) if cursor else None
    if state == "pending" and order == "oldest":
        sort = "q.queued_at, q.story_id"
        if key:
            args += key[1:]
            where.append(f"(q.queued_at, q.story_id) > (${len(args) - 1}, ${len(args)})")
    elif state == "pending":
        sort = "q.severity DESC, q.queued_at, q.story_id"
        if key:
            args += key
            n = len(args)
            # A row comparison cannot mix DESC and ASC, hence the spelled-out form;
            # the leading `severity <=` gives the index a range to start from
            # (without it, a page deep in the queue scans every row before it).
            where.append(f"q.severity <= ${n - 2}::real AND (q.severity < ${n - 2}::real OR"
                         f" (q.queued_at, q.story_id) > (${n - 1}, ${n}))")
    else:
        sort = "q.decided_at DESC, q.story_id DESC"
        if key:
            args += key[1:]
            where.append(f"(q.decided_at, q.story_id) < (${len(args) - 1}, ${len(args)})")
    args.append(limit + 1)
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM queue_items q WHERE {' AND '.join(where)} ORDER BY {sort} LIMIT ${len(args)}",
        *args)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        at = last["queued_at"] if state == "pending" else last["decided_at"]
        next_cursor = encode_cursor([last["severity"], at.isoformat(), str(last["story_id"])])
    return rows, next_cursor


async def list_reported(pool: asyncpg.Pool, cursor: str | None = None,
                        limit: int = PAGE) -> tuple[list[asyncpg.Record], str | None]:
    """Stories with open reader reports, the longest-waiting first, each with
    every open report's reason."""
    args: list[Any] = []
    having = ""
    if cursor:
        _, at, sid = decode_cursor(cursor)
        args += [at, sid]
        having = "HAVING (min(received_at), story_id) > ($1, $2)"
    args.append(limit + 1)
    rows = await pool.fetch(
        "WITH open AS (SELECT story_id, min(received_at) AS first_reported_at, count(*) AS report_count,"
        "   array_agg(reason ORDER BY received_at) AS report_reasons"
        f"  FROM reports WHERE resolved_at IS NULL GROUP BY story_id {having}"
        f"  ORDER BY first_reported_at, story_id LIMIT ${len(args)})"
        f" SELECT o.*, {_COLUMNS} FROM open o LEFT JOIN queue_items q ON q.story_id = o.story_id"
        " ORDER BY o.first_reported_at, o.story_id", *args)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([0, last["first_reported_at"].isoformat(), str(last[0])])
    return rows, next_cursor


async def get_item(pool: asyncpg.Pool, story_id: uuid.UUID) -> asyncpg.Record | None:
    return await pool.fetchrow(
        f"SELECT {_COLUMNS}, (SELECT array_agg(reason ORDER BY received_at) FROM reports r"
        "  WHERE r.story_id = q.story_id AND r.resolved_at IS NULL) AS report_reasons"
        " FROM queue_items q WHERE q.story_id = $1", story_id)


async def counts(pool: asyncpg.Pool) -> dict[str, int]:
    rows = await pool.fetch("SELECT state, label, count(*) AS n FROM queue_items GROUP BY state, label")
    out = {s: 0 for s in STATES} | {f"pending:{lab}": 0 for lab in OUTCOMES}
    for r in rows:
        out[r["state"]] += r["n"]
        if r["state"] == "pending":
            out[f"pending:{r['label']}"] += r["n"]
    out["reported"] = await pool.fetchval(
        "SELECT count(DISTINCT story_id) FROM reports WHERE resolved_at IS NULL")
    return out


async def claim(pool: asyncpg.Pool, story_id: uuid.UUID, moderator_id: int) -> None:
    """A soft claim: tells the others who is looking. Nothing enforces it."""
    await pool.execute("UPDATE queue_items SET claimed_by = $2, claimed_at = now() WHERE story_id = $1",
                       story_id, moderator_id)


def active_claim(row: asyncpg.Record | dict[str, Any], me_id: int) -> str | None:
    """The other moderator currently looking at this item, if any."""
    at = row["claimed_at"]
    if not at or row["claimed_by"] == me_id:
        return None
    if dt.datetime.now(dt.UTC) - at > dt.timedelta(minutes=CLAIM_MINUTES):
        return None
    return row["claimed_by_name"]


async def revealed(pool: asyncpg.Pool, moderator_id: int, story_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    rows = await pool.fetch("SELECT story_id FROM reveals WHERE moderator_id = $1 AND story_id = ANY($2::uuid[])",
                            moderator_id, story_ids)
    return {r["story_id"] for r in rows}


async def reveal(pool: asyncpg.Pool, moderator_id: int, story_id: uuid.UUID, on: bool = True) -> None:
    if on:
        await pool.execute("INSERT INTO reveals (moderator_id, story_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                           moderator_id, story_id)
    else:
        await pool.execute("DELETE FROM reveals WHERE moderator_id = $1 AND story_id = $2", moderator_id, story_id)


def item_json(row: asyncpg.Record) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(row["story_id"]), "title": row["title"], "body": row["body"], "pen_name": row["pen_name"],
        "tags": list(row["tags"] or []), "content_warnings": list(row["content_warnings"] or []),
        "state": row["state"],
        "screen": {"label": row["label"], "scores": row["scores"], "passages": row["passages"],
                   "term_hits": row["term_hits"], "model": row["model"]},
        "queued_at": row["queued_at"].isoformat() if row["queued_at"] else None,
        "decided_at": row["decided_at"].isoformat() if row["decided_at"] else None,
        "reason": row["reason"],
        "claimed_by": row["claimed_by_name"] if row["claimed_at"] else None,
    }
    out |= exchange.item_extras(row)
    if "report_reasons" in row.keys():
        out["reports"] = list(row["report_reasons"] or [])
    if row["state"] == "unpublished":
        out["unpublished_reason"] = row["unpublished_reason"]
    return out
