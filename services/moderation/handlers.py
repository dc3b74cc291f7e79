"""Moderation's event handlers: the table the consumers call, one handler per event."""

from __future__ import annotations

import uuid

import asyncpg

from services.moderation import audit, exchange
from services.moderation.screen.policy import ScreenResult
from shared import outbox
from shared.events import Event, new_event
from shared.outbox import erase_story_events


async def file_story(conn: asyncpg.Connection, event: Event, result: ScreenResult) -> None:
    """StorySubmitted, once screened (the screening workers' consumer prepares each
    batch with the screen): into the queue, and tell the author's receipt it is in review."""
    d = event.data
    screened = new_event("StoryScreened", story_id=d["story_id"], label=result.label)
    # One statement (one round trip per story under a burst, not three): filed unless
    # withdrawn meanwhile or filed before, and its StoryScreened only if it was filed.
    inserted = await conn.fetchval(
        "WITH item AS (INSERT INTO queue_items (story_id, title, body, pen_name, tags, content_warnings, label,"
        " severity, scores, passages, term_hits, model)"
        " SELECT $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16"
        " WHERE NOT EXISTS (SELECT 1 FROM withdrawn_stories WHERE story_id = $5)"
        " ON CONFLICT (story_id) DO NOTHING RETURNING story_id),"
        f" event AS (INSERT INTO outbox ({outbox.COLUMNS}) SELECT $1, $2, {outbox.PAYLOAD}, $4 FROM item)"
        " SELECT true FROM item",
        *outbox.row(screened), uuid.UUID(d["story_id"]), d["title"], d["body"], d["pen_name"], d["tags"],
        d["content_warnings"], result.label, result.severity, result.scores, result.passages, result.term_hits,
        result.model)
    if inserted:
        await exchange.file_extras(conn, d)


async def on_reported(conn: asyncpg.Connection, event: Event) -> None:
    """A reader reported a published story: into the reported queue, with the reason."""
    d = event.data
    story_id = uuid.UUID(d["story_id"])
    if await conn.fetchval("SELECT true FROM withdrawn_stories WHERE story_id = $1", story_id):
        return
    await conn.execute(
        "INSERT INTO reports (report_id, story_id, reason) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        uuid.UUID(d["report_id"]), story_id, d["reason"][:2000])


async def on_withdrawn(conn: asyncpg.Connection, event: Event) -> None:
    """The author withdrew: delete the story and every event copy we hold."""
    story_id = uuid.UUID(event.data["story_id"])
    await conn.execute("INSERT INTO withdrawn_stories (story_id) VALUES ($1) ON CONFLICT DO NOTHING", story_id)
    await conn.execute("DELETE FROM queue_items WHERE story_id = $1", story_id)
    await conn.execute("UPDATE queue_items SET in_response_to = NULL WHERE in_response_to = $1", story_id)
    await erase_story_events(conn, [story_id])
    # Reports quote the story; they go with it.
    await conn.execute("DELETE FROM reports WHERE story_id = $1", story_id)
    await conn.execute("DELETE FROM reveals WHERE story_id = $1", story_id)


async def on_appealed(conn: asyncpg.Connection, event: Event) -> None:
    """The author appealed a rejection with her receipt code: back into the queue as
    `appealed`, with the first decision kept beside it and her message."""
    story_id = uuid.UUID(event.data["story_id"])
    message = event.data["message"][:2000]
    done = await conn.fetchval(
        "UPDATE queue_items SET state = 'appealed', appeal_message = $2, appealed_on = current_date,"
        " first_decided_by = decided_by, first_reason = reason WHERE story_id = $1 AND state = 'rejected'"
        " RETURNING true", story_id, message)
    if done:
        await audit.record(conn, None, "story.appealed", {"message": message}, story_id)


HANDLERS = {"StorySubmitted": file_story, "StoryWithdrawn": on_withdrawn, "StoryReported": on_reported,
            "StoryAppealed": on_appealed}
# StorySubmitted is handled by the screening workers' consumer, which screens each
# batch first (worker.py); the web app's consumer handles the rest.
SCREENED = "StorySubmitted"
