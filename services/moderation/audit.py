"""The append-only audit log: who did what, on which day, in which order (the id;
never a time of day: rows name stories). Every decision, account change,
word-list, reason or resources edit writes one row through `record`, in the
transaction of the change itself. Rows name the story (by id) and the reason,
never the story's text."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

PAGE = 50

# What each action means, in the words the history and the audit page show.
ACTION_LABELS = {
    "story.approved": "approved the story",
    "story.rejected": "rejected the story",
    "story.unpublished": "took the story down",
    "story.appealed": "the author appealed",
    "story.appeal_upheld": "upheld the rejection on appeal",
    "story.appeal_approved": "approved the story on appeal",
    "story.rejection_proposed": "proposed rejecting the story",
    "story.rejection_confirmed": "confirmed the rejection",
    "story.rejection_overturned": "overturned the proposed rejection",
    "reports.dismissed": "dismissed reader reports",
    "account.added": "added an account",
    "account.disabled": "disabled an account",
    "account.enabled": "enabled an account",
    "account.reset": "reset a password",
    "wordlist.added": "added a word-list term",
    "wordlist.removed": "removed a word-list term",
    "reasons.added": "added a reason template",
    "reasons.removed": "removed a reason template",
    "resources.update": "updated the support page",
}


def describe(action: str) -> str:
    """A readable name for an audit action; unknown ones as they are."""
    return ACTION_LABELS.get(action, action)


async def record(conn: asyncpg.Connection, moderator_id: int | None, action: str, detail: dict[str, Any],
                 story_id: uuid.UUID | None = None) -> None:
    """One audit row. `moderator_id` None: the command line acted."""
    await conn.execute("INSERT INTO audit_log (moderator_id, action, story_id, detail) VALUES ($1, $2, $3, $4)",
                       moderator_id, action, story_id, detail)


async def history(pool: asyncpg.Pool, story_id: uuid.UUID) -> list[asyncpg.Record]:
    """What was done to one story, oldest first."""
    return await pool.fetch(
        "SELECT a.logged_on, a.action, a.detail, m.username FROM audit_log a"
        " LEFT JOIN moderators m ON m.id = a.moderator_id"
        " WHERE a.story_id = $1 ORDER BY a.id", story_id)


async def page(pool: asyncpg.Pool, moderator: str | None = None, story_id: uuid.UUID | None = None,
               before: int | None = None) -> tuple[list[asyncpg.Record], bool]:
    """(newest rows first, filtered, before row id `before`; whether there are more)."""
    args: list[Any] = []
    where = []
    if moderator:
        args.append(moderator)
        where.append(f"m.username = ${len(args)}")
    if story_id is not None:
        args.append(story_id)
        where.append(f"a.story_id = ${len(args)}")
    if before is not None:
        args.append(before)
        where.append(f"a.id < ${len(args)}")
    args.append(PAGE + 1)
    rows = await pool.fetch(
        "SELECT a.id, a.logged_on, a.action, a.story_id, a.detail, m.username,"
        " (SELECT title FROM queue_items q WHERE q.story_id = a.story_id) AS story_title FROM audit_log a"
        " LEFT JOIN moderators m ON m.id = a.moderator_id"
        f" {'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY a.id DESC LIMIT ${len(args)}", *args)
    return rows[:PAGE], len(rows) > PAGE
