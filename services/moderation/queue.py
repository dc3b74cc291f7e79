"""Reading the review queue: filters and keyset pagination."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from typing import Any

import asyncpg

STATES = ("pending", "approved", "rejected")
LABELS = ("clear", "flagged", "held", "unscreened")
PAGE = 25

_COLUMNS = ("story_id, title, body, pen_name, tags, content_warnings, label, severity, scores, passages,"
            " term_hits, model, state, queued_at, decided_at, reason")


class BadCursor(ValueError):
    pass


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def decode_cursor(raw: str) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if not isinstance(values, list) or len(values) != 3:
            raise ValueError
        return values
    except ValueError:
        raise BadCursor("That page link is not valid; start again from the first page.") from None


async def list_items(pool: asyncpg.Pool, state: str = "pending", label: str | None = None,
                     cursor: str | None = None, limit: int = PAGE) -> tuple[list[asyncpg.Record], str | None]:
    """Pending: most severe first, then oldest. Decided: most recently decided first."""
    args: list[Any] = [state]
    where = ["state = $1"]
    if label:
        args.append(label)
        where.append(f"label = ${len(args)}")
    if state == "pending":
        order = "severity DESC, queued_at, story_id"
        if cursor:
            sev, at, sid = decode_cursor(cursor)
            args += [float(sev), dt.datetime.fromisoformat(at), uuid.UUID(sid)]
            n = len(args)
            where.append(f"(severity < ${n-2}::real OR"
                         f" (severity = ${n-2}::real AND (queued_at, story_id) > (${n-1}, ${n})))")
    else:
        order = "decided_at DESC, story_id DESC"
        if cursor:
            _, at, sid = decode_cursor(cursor)
            args += [dt.datetime.fromisoformat(at), uuid.UUID(sid)]
            n = len(args)
            where.append(f"(decided_at, story_id) < (${n-1}, ${n})")
    args.append(limit + 1)
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM queue_items WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ${len(args)}",
        *args)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        if state == "pending":
            next_cursor = encode_cursor([last["severity"], last["queued_at"].isoformat(), str(last["story_id"])])
        else:
            next_cursor = encode_cursor([0, last["decided_at"].isoformat(), str(last["story_id"])])
    return rows, next_cursor


async def counts(pool: asyncpg.Pool) -> dict[str, int]:
    rows = await pool.fetch(
        "SELECT state, label, count(*) AS n FROM queue_items GROUP BY state, label")
    out = {s: 0 for s in STATES} | {f"pending:{lab}": 0 for lab in LABELS}
    for r in rows:
        out[r["state"]] += r["n"]
        if r["state"] == "pending":
            out[f"pending:{r['label']}"] += r["n"]
    return out


def item_json(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["story_id"]), "title": row["title"], "body": row["body"], "pen_name": row["pen_name"],
        "tags": list(row["tags"]), "content_warnings": list(row["content_warnings"]), "state": row["state"],
        "screen": {"label": row["label"], "scores": row["scores"], "passages": row["passages"],
                   "term_hits": row["term_hits"], "model": row["model"]},
        "queued_at": row["queued_at"].isoformat(),
        "decided_at": row["decided_at"].isoformat() if row["decided_at"] else None,
        "reason": row["reason"],
    }
