"""Moderation files a screened story (services/moderation/handlers.py `file_story`): one
statement on a real PostgreSQL, with moderation's own migrations."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg

from services.moderation.handlers import file_story, on_withdrawn
from services.moderation.screen.policy import ScreenResult
from shared.events import Event, new_event
from tests.integration.schemas import service_pool


def _submitted(story_id: str) -> Event:
    return new_event("StorySubmitted", story_id=story_id, title="Home", body="My lola's kitchen.", pen_name=None,
                     tags=["Filipino"], content_warnings=[])


async def _moderation(dsn: str) -> asyncpg.Pool:
    return await service_pool(dsn, "moderation", "filing")


async def _handle(pool: asyncpg.Pool, handler, event: Event, *prepared: object) -> None:  # noqa: ANN001
    async with pool.acquire() as conn, conn.transaction():
        await handler(conn, event, *prepared)


def test_a_screened_story_is_filed_with_its_label_and_its_receipt_told(pg_dsn: str) -> None:
    async def main() -> None:
        pool = await _moderation(pg_dsn)
        story = str(uuid.uuid4())
        try:
            await _handle(pool, file_story, _submitted(story), ScreenResult("flagged", 2.6, {"insult": 0.6}))
            [item] = await pool.fetch("SELECT story_id, title, tags, label, severity, scores FROM queue_items")
            assert (str(item["story_id"]), item["title"], item["tags"]) == (story, "Home", ["Filipino"])
            assert (item["label"], round(item["severity"], 3), item["scores"]) == ("flagged", 2.6, {"insult": 0.6})
            [sent] = await pool.fetch("SELECT subject, payload::text AS payload, story_id FROM outbox")
            assert sent["subject"] == "stories.screened" and str(sent["story_id"]) == story
            assert json.loads(sent["payload"])["data"] == {"story_id": story, "label": "flagged"}
        finally:
            await pool.close()

    asyncio.run(main())


def test_a_story_filed_twice_or_after_its_withdrawal_sends_nothing_more(pg_dsn: str) -> None:
    async def main() -> None:
        pool = await _moderation(pg_dsn)
        twice, withdrawn = str(uuid.uuid4()), str(uuid.uuid4())
        try:
            for _ in range(2):  # a redelivery that got past the inbox (another consumer's)
                await _handle(pool, file_story, _submitted(twice), ScreenResult("clear", 0.1))
            await _handle(pool, on_withdrawn, new_event("StoryWithdrawn", story_id=withdrawn))
            await _handle(pool, file_story, _submitted(withdrawn), ScreenResult("clear", 0.1))
            assert [str(r["story_id"]) for r in await pool.fetch("SELECT story_id FROM queue_items")] == [twice]
            events = await pool.fetch("SELECT subject, story_id FROM outbox ORDER BY seq")
            assert [(r["subject"], str(r["story_id"])) for r in events] == [("stories.screened", twice)]
        finally:
            await pool.close()

    asyncio.run(main())
