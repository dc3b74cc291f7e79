"""Reading the review queue: tabs, counts and keyset pagination.

Every ORDER BY here matches an index (migrations 030 and 101), and pages are
found by keyset (the last row's sort key), never OFFSET: page 4,000 of a
100,000-item queue costs what page 1 costs. Order is by sequence numbers (the order
stories were filed, decisions taken, reports received), never by a time: rows naming
a story keep only the day.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import asyncpg

from services.moderation import exchange, wellbeing
from services.moderation.screen.policy import OUTCOMES

STATES = ("pending", "approved", "rejected", "unpublished", "reported", "appealed", "awaiting_confirmation")
ORDERS = ("severity", "oldest")
PAGE = 25
CLAIM_MINUTES = 10  # a claim older than this is stale and no longer shown
# Soft claims' clocks: story id → (moderator id, monotonic time), in this process only,
# so no table holds a time beside a story. Lost on restart, which costs a hint only.
CLAIMS: dict[uuid.UUID, tuple[int, float]] = {}

_COLUMNS = ("q.story_id, q.title, q.body, q.pen_name, q.tags, q.content_warnings, q.label, q.severity, q.scores,"
            " q.passages, q.term_hits, q.model, q.state, q.queued_on, q.decided_on, q.reason, q.queue_seq,"
            " q.decided_seq, q.unpublished_on, q.unpublished_reason,"
            " (SELECT username FROM moderators WHERE id = q.claimed_by) AS claimed_by_name, q.claimed_by,"
            " (SELECT username FROM moderators WHERE id = q.decided_by) AS decided_by_name,"
            " q.appeal_message, q.appealed_on, q.first_reason,"
            " (SELECT username FROM moderators WHERE id = q.first_decided_by) AS first_decided_by_name,"
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
        return [float(values[0]), int(values[1]), uuid.UUID(values[2])]
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
        sort = "q.queue_seq"
        if key:
            args.append(key[1])
            where.append(f"q.queue_seq > ${len(args)}")
    elif state == "pending":
        sort = "q.severity DESC, q.queue_seq"
        if key:
            args += key[:2]
            n = len(args) + 1
            # A row comparison cannot mix DESC and ASC, hence the spelled-out form;
            # the leading `severity <=` gives the index a range to start from
            # (without it, a page deep in the queue scans every row before it).
            where.append(f"q.severity <= ${n - 2}::real AND (q.severity < ${n - 2}::real OR"
                         f" q.queue_seq > ${n - 1})")
    else:
        sort = "q.decided_seq DESC"
        if key:
            args.append(key[1])
            where.append(f"q.decided_seq < ${len(args)}")
    args.append(limit + 1)
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM queue_items q WHERE {' AND '.join(where)} ORDER BY {sort} LIMIT ${len(args)}",
        *args)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        seq = last["queue_seq"] if state == "pending" else last["decided_seq"]
        next_cursor = encode_cursor([last["severity"], seq, str(last["story_id"])])
    return rows, next_cursor


async def list_reported(pool: asyncpg.Pool, cursor: str | None = None,
                        limit: int = PAGE) -> tuple[list[asyncpg.Record], str | None]:
    """Stories with open reader reports, the longest-waiting first, each with
    every open report's reason."""
    args: list[Any] = []
    having = ""
    if cursor:
        _, seq, sid = decode_cursor(cursor)
        args += [seq, sid]
        having = "HAVING (min(seq), story_id) > ($1, $2)"
    args.append(limit + 1)
    rows = await pool.fetch(
        "WITH open AS (SELECT story_id, min(seq) AS first_report_seq, count(*) AS report_count,"
        "   array_agg(reason ORDER BY seq) AS report_reasons"
        f"  FROM reports WHERE resolved_on IS NULL GROUP BY story_id {having}"
        f"  ORDER BY first_report_seq, story_id LIMIT ${len(args)})"
        f" SELECT o.*, {_COLUMNS} FROM open o LEFT JOIN queue_items q ON q.story_id = o.story_id"
        " ORDER BY o.first_report_seq, o.story_id", *args)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([0, last["first_report_seq"], str(last[0])])
    return rows, next_cursor


async def get_item(pool: asyncpg.Pool, story_id: uuid.UUID) -> asyncpg.Record | None:
    return await pool.fetchrow(
        f"SELECT {_COLUMNS}, (SELECT array_agg(reason ORDER BY seq) FROM reports r"
        "  WHERE r.story_id = q.story_id AND r.resolved_on IS NULL) AS report_reasons"
        " FROM queue_items q WHERE q.story_id = $1", story_id)


async def next_pending(pool: asyncpg.Pool, after: uuid.UUID) -> uuid.UUID | None:
    """The story to read next after deciding `after`: the queue's first (most severe,
    then oldest) pending one other than it."""
    return await pool.fetchval(
        "SELECT story_id FROM queue_items WHERE state = 'pending' AND story_id <> $1"
        " ORDER BY severity DESC, queue_seq LIMIT 1", after)


async def counts(pool: asyncpg.Pool) -> dict[str, int]:
    rows = await pool.fetch("SELECT state, label, count(*) AS n FROM queue_items GROUP BY state, label")
    out = {s: 0 for s in STATES} | {f"pending:{lab}": 0 for lab in OUTCOMES}
    for r in rows:
        out[r["state"]] += r["n"]
        if r["state"] == "pending":
            out[f"pending:{r['label']}"] += r["n"]
    out["reported"] = await pool.fetchval(
        "SELECT count(DISTINCT story_id) FROM reports WHERE resolved_on IS NULL")
    return out


async def claim(pool: asyncpg.Pool, story_id: uuid.UUID, moderator_id: int) -> None:
    """A soft claim: tells the others who is looking. Nothing enforces it."""
    await pool.execute("UPDATE queue_items SET claimed_by = $2 WHERE story_id = $1", story_id, moderator_id)
    CLAIMS[story_id] = (moderator_id, time.monotonic())
    stale = time.monotonic() - CLAIM_MINUTES * 60
    for sid in [s for s, (_, at) in CLAIMS.items() if at < stale]:
        CLAIMS.pop(sid, None)


def active_claim(row: asyncpg.Record | dict[str, Any], me_id: int) -> str | None:
    """The other moderator currently looking at this item, if any."""
    claim = CLAIMS.get(row["story_id"])
    if claim is None or claim[0] == me_id or row["claimed_by"] != claim[0]:
        return None
    if time.monotonic() - claim[1] > CLAIM_MINUTES * 60:
        return None
    return row["claimed_by_name"]


async def revealed(pool: asyncpg.Pool, moderator_id: int, story_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    rows = await pool.fetch("SELECT story_id FROM reveals WHERE moderator_id = $1 AND story_id = ANY($2::uuid[])",
                            moderator_id, story_ids)
    return {r["story_id"] for r in rows}


async def reveal(pool: asyncpg.Pool, moderator_id: int, story_id: uuid.UUID, on: bool = True) -> None:
    if on:
        async with pool.acquire() as conn, conn.transaction():
            new = await conn.fetchval("INSERT INTO reveals (moderator_id, story_id) VALUES ($1, $2)"
                                      " ON CONFLICT DO NOTHING RETURNING true", moderator_id, story_id)
            if new:  # a story read again is not more exposure
                await wellbeing.count_read(conn, moderator_id)
    else:
        await pool.execute("DELETE FROM reveals WHERE moderator_id = $1 AND story_id = $2", moderator_id, story_id)


def item_json(row: asyncpg.Record) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(row["story_id"]), "title": row["title"], "body": row["body"], "pen_name": row["pen_name"],
        "tags": list(row["tags"] or []), "content_warnings": list(row["content_warnings"] or []),
        "state": row["state"],
        "screen": {"label": row["label"], "scores": row["scores"], "passages": row["passages"],
                   "term_hits": row["term_hits"], "model": row["model"]},
        "queued_on": row["queued_on"].isoformat() if row["queued_on"] else None,
        "decided_on": row["decided_on"].isoformat() if row["decided_on"] else None,
        "reason": row["reason"],
        "claimed_by": row["claimed_by_name"],
    }
    out |= exchange.item_extras(row)
    if "report_reasons" in row.keys():
        out["reports"] = list(row["report_reasons"] or [])
    if row["state"] == "unpublished":
        out["unpublished_reason"] = row["unpublished_reason"]
    if row["state"] == "appealed":
        # The first decision, its reason and what the author wrote back.
        out["appeal"] = {"message": row["appeal_message"],
                         "appealed_on": row["appealed_on"].isoformat() if row["appealed_on"] else None,
                         "first_decision": {"decision": "rejected", "reason": row["reason"],
                                            "by": row["decided_by_name"]}}
    if row["state"] == "awaiting_confirmation":
        out["proposed"] = {"decision": "rejected", "reason": row["reason"], "by": row["decided_by_name"]}
    return out
