"""Reader reports: a reader tells the moderators what is wrong with a published
story; the report leaves as a StoryReported event (publishing keeps no copy)."""

from __future__ import annotations

import uuid

import asyncpg

from shared.events import new_event
from shared.outbox import enqueue

REASON_MAX = 1000


async def report(pool: asyncpg.Pool, story_id: uuid.UUID, reason: str) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await enqueue(conn, new_event("StoryReported", story_id=str(story_id), report_id=str(uuid.uuid4()),
                                      reason=reason))
