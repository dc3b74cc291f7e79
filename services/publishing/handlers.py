"""Publishing's read model, fed by events."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from services.publishing import exchange
from shared.events import Event
from shared.outbox import erase_story_events


async def on_approved(conn: asyncpg.Connection, event: Event) -> None:
    d = event.data
    story_id = uuid.UUID(d["story_id"])
    if await conn.fetchval("SELECT true FROM gone_stories WHERE story_id = $1", story_id):
        return
    await conn.execute(
        "INSERT INTO stories (story_id, title, body, pen_name, tags, content_warnings, published_on)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (story_id) DO NOTHING",
        story_id, d["title"], d["body"], d["pen_name"], d["tags"], d["content_warnings"],
        dt.date.fromisoformat(d["published_on"]))
    await exchange.on_approved_extras(conn, event)


async def _gone(conn: asyncpg.Connection, story_id: str, why: str) -> None:
    sid = uuid.UUID(story_id)
    await conn.execute("DELETE FROM stories WHERE story_id = $1", sid)
    # Stories written in response keep no pointer to it (the links vanish either way).
    await conn.execute("UPDATE stories SET in_response_to = NULL WHERE in_response_to = $1", sid)
    await erase_story_events(conn, [sid])
    # Withdrawn wins over unpublished whichever of the two (separate consumers) is
    # handled last: the author's withdrawal is the story's final word.
    await conn.execute("INSERT INTO gone_stories (story_id, why) VALUES ($1, $2)"
                       " ON CONFLICT (story_id) DO UPDATE SET why = EXCLUDED.why"
                       " WHERE EXCLUDED.why = 'withdrawn'", sid, why)
    # Readers who reported it see that it is gone; the outcome rows let go of its id.
    await conn.execute("UPDATE report_outcomes SET outcome = CASE WHEN outcome = 'received' THEN 'removed'"
                       " ELSE outcome END, changed_on = current_date, story_id = NULL WHERE story_id = $1", sid)


async def on_withdrawn(conn: asyncpg.Connection, event: Event) -> None:
    await _gone(conn, event.data["story_id"], "withdrawn")


async def on_unpublished(conn: asyncpg.Connection, event: Event) -> None:
    await _gone(conn, event.data["story_id"], "unpublished")


async def on_resources_updated(conn: asyncpg.Connection, event: Event) -> None:
    """Keep the newest support resources; an older revision arriving late changes nothing."""
    d = event.data
    await conn.execute(
        "INSERT INTO site_resources (id, revision, intro, entries) VALUES (1, $1, $2, $3)"
        " ON CONFLICT (id) DO UPDATE SET revision = EXCLUDED.revision, intro = EXCLUDED.intro,"
        " entries = EXCLUDED.entries WHERE site_resources.revision < EXCLUDED.revision",
        d["revision"], d["intro"], d["entries"])


async def on_reports_resolved(conn: asyncpg.Connection, event: Event) -> None:
    d = event.data
    await conn.execute("UPDATE report_outcomes SET outcome = $2, changed_on = current_date"
                       " WHERE report_id = ANY($1::uuid[])", [uuid.UUID(i) for i in d["report_ids"]], d["outcome"])


HANDLERS = {
    "StoryApproved": on_approved,
    "StoryWithdrawn": on_withdrawn,
    "StoryUnpublished": on_unpublished,
    "ResourcesUpdated": on_resources_updated,
    "ReportsResolved": on_reports_resolved,
} | exchange.HANDLERS
