"""Submission's share of retention: rejected stories (and the events that carried
their text) leave this schema RETENTION_DAYS after the rejection reached it."""

from __future__ import annotations

import asyncpg

from shared.outbox import erase_story_events


async def purge(pool: asyncpg.Pool, days: int) -> int:
    async with pool.acquire() as conn, conn.transaction():
        # Only once every event about the story has been published: the outbox must
        # never lose an event it still owes the other services.
        ids = [r["story_id"] for r in await conn.fetch(
            "DELETE FROM stories s WHERE s.status = 'rejected' AND s.status_changed_on <= current_date - $1::int"
            " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.story_id = s.story_id AND o.published_on IS NULL)"
            " RETURNING s.story_id", days)]
        if ids:
            await erase_story_events(conn, ids)
    return len(ids)
