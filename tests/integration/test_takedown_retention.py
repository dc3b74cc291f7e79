"""Taken-down (`unpublished`) story text leaves moderation like rejected text:
RETENTION_DAYS after the takedown, not kept forever."""

from __future__ import annotations

import asyncio
import uuid

from braided.services import SERVICE_DIRS
from services.moderation import retention
from shared.db import create_pool, migrate, migration_files


def test_taken_down_text_is_purged_after_the_retention_days(pg_dsn: str) -> None:
    schema = f"takedown_{uuid.uuid4().hex[:8]}"

    async def go() -> tuple[int, list[str]]:
        await migrate(pg_dsn, schema, migration_files(SERVICE_DIRS["moderation"]))
        pool = await create_pool(pg_dsn, schema, max_size=1)
        try:
            for title, state, age in (("taken down 31", "unpublished", 31), ("taken down 29", "unpublished", 29),
                                      ("approved long ago", "approved", 400)):
                await pool.execute(
                    "INSERT INTO queue_items (story_id, title, body, label, state, decided_on, unpublished_on)"
                    " VALUES ($1, $2, 'text', 'unscreened', $3, current_date - 400,"
                    " CASE WHEN $3 = 'unpublished' THEN current_date - $4::int END)",
                    uuid.uuid4(), title, state, age)
            purged = await retention.purge(pool, 30)
            left = sorted(r["title"] for r in await pool.fetch("SELECT title FROM queue_items"))
            return purged, left
        finally:
            await pool.execute(f'DROP SCHEMA "{schema}" CASCADE')
            await pool.close()

    assert asyncio.run(go()) == (1, ["approved long ago", "taken down 29"])
