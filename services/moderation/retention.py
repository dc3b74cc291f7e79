"""Moderation's share of retention: rejected queue items (title, body, scores,
passages) and the events that carried their text leave this schema RETENTION_DAYS
after the decision; taken-down (`unpublished`) ones RETENTION_DAYS after the
takedown, like rejected text. The audit log keeps the decision (story id, reason) — it is
append-only and never held the story's text."""

from __future__ import annotations

import asyncpg

from shared.outbox import erase_story_events


async def purge(pool: asyncpg.Pool, days: int) -> int:
    async with pool.acquire() as conn, conn.transaction():
        # Not before the StoryRejected event has left the outbox: submission must
        # still hear of the rejection.
        ids = [r["story_id"] for r in await conn.fetch(
            "DELETE FROM queue_items q WHERE ("
            "(q.state = 'rejected' AND q.decided_on <= current_date - $1::int)"
            " OR (q.state = 'unpublished' AND q.unpublished_on <= current_date - $1::int))"
            " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.story_id = q.story_id AND o.published_on IS NULL)"
            " RETURNING q.story_id", days)]
        if ids:
            await erase_story_events(conn, ids)
    return len(ids)
