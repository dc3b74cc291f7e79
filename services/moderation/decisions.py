"""Moderators' decisions: approve, reject, take down, dismiss reports. Each is one
transaction holding the change, its event (outbox) and its audit row; of two
moderators racing on one item exactly one wins (the other gets Conflict)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

from services.moderation import audit, exchange
from services.moderation.auth import Moderator
from shared.events import new_event
from shared.outbox import enqueue

DECISIONS = ("approve", "reject")
REASON_MAX = 500


class Conflict(Exception):
    """The item was already decided (or is gone)."""

    def __init__(self, state: str | None) -> None:
        super().__init__(state)
        self.state = state


@dataclass(frozen=True)
class Decision:
    decision: str
    reason: str | None
    content_warnings: list[str]
    tags: list[str] | None = None  # replaces the author's tags when given (approve only)
    glossary: list[dict[str, str]] | None = None  # replaces the author's glossary when given (approve only)


async def decide(pool: asyncpg.Pool, story_id: uuid.UUID, moderator: Moderator, decision: Decision) -> str:
    """Record a final decision and its event in one transaction. Raises Conflict
    when the item is not pending: exactly one of two racing moderators wins."""
    async with pool.acquire() as conn, conn.transaction():
        # The WHERE state = 'pending' makes the row lock the referee: of two
        # moderators racing, the second UPDATE waits, then matches nothing.
        row = await conn.fetchrow(
            "UPDATE queue_items SET state = $2, decided_at = now(), decided_by = $3, reason = $4,"
            " content_warnings = (SELECT ARRAY(SELECT DISTINCT unnest(content_warnings || $5::text[]))),"
            " tags = COALESCE($6::text[], tags)"
            " WHERE story_id = $1 AND state = 'pending'"
            " RETURNING story_id, title, body, pen_name, tags, content_warnings",
            story_id, "approved" if decision.decision == "approve" else "rejected", moderator.id,
            decision.reason, decision.content_warnings,
            decision.tags if decision.decision == "approve" else None)
        if row is None:
            state = await conn.fetchval("SELECT state FROM queue_items WHERE story_id = $1", story_id)
            raise Conflict(state)
        if decision.decision == "approve":
            event = new_event(
                "StoryApproved", story_id=str(row["story_id"]), title=row["title"], body=row["body"],
                pen_name=row["pen_name"], tags=list(row["tags"]), content_warnings=list(row["content_warnings"]),
                published_on=dt.datetime.now(dt.UTC).date().isoformat(),
                **await exchange.approved_extras(conn, row["story_id"], decision.glossary))
        else:
            event = new_event("StoryRejected", story_id=str(row["story_id"]),
                              reason=decision.reason or "It did not fit the community guidelines.")
        await enqueue(conn, event)
        await audit.record(
            conn, moderator.id, "story.approved" if decision.decision == "approve" else "story.rejected",
            {"reason": decision.reason, "content_warnings": decision.content_warnings}
            | ({"tags": decision.tags} if decision.tags is not None and decision.decision == "approve" else {})
            | ({"glossary": decision.glossary} if decision.glossary is not None and decision.decision == "approve"
               else {}),
            story_id)
        if decision.decision == "reject":
            await conn.execute("DELETE FROM reveals WHERE story_id = $1", story_id)
    return event.type


async def takedown(pool: asyncpg.Pool, story_id: uuid.UUID, moderator: Moderator, reason: str) -> None:
    """Unpublish an approved story: publishing deletes it (410) and the author's
    receipt shows the reason. Open reports on it are resolved. Raises Conflict
    when the story is not published (already taken down, or never approved)."""
    async with pool.acquire() as conn, conn.transaction():
        done = await conn.fetchval(
            "UPDATE queue_items SET state = 'unpublished', unpublished_at = now(), unpublished_by = $2,"
            " unpublished_reason = $3 WHERE story_id = $1 AND state = 'approved' RETURNING true",
            story_id, moderator.id, reason)
        if not done:
            state = await conn.fetchval("SELECT state FROM queue_items WHERE story_id = $1", story_id)
            raise Conflict(state)
        await enqueue(conn, new_event("StoryUnpublished", story_id=str(story_id), reason=reason))
        await conn.execute(
            "UPDATE reports SET resolved_at = now(), resolved_by = $2, resolution = 'taken_down'"
            " WHERE story_id = $1 AND resolved_at IS NULL", story_id, moderator.id)
        await audit.record(conn, moderator.id, "story.unpublished", {"reason": reason}, story_id)


async def dismiss_reports(pool: asyncpg.Pool, story_id: uuid.UUID, moderator: Moderator, note: str | None) -> int:
    """Keep the story published and close its open reports. Returns how many."""
    async with pool.acquire() as conn, conn.transaction():
        n = len(await conn.fetch(
            "UPDATE reports SET resolved_at = now(), resolved_by = $2, resolution = 'dismissed'"
            " WHERE story_id = $1 AND resolved_at IS NULL RETURNING 1", story_id, moderator.id))
        if n:
            await audit.record(conn, moderator.id, "reports.dismissed", {"reports": n, "reason": note}, story_id)
    return n
