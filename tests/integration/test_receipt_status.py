"""The receipt follows its story (services/submission/handlers.py `_set_status`): one
conditional UPDATE on a real PostgreSQL, with submission's own migrations. Each case
starts a receipt at a status and hands one event to submission's handler table."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.submission import handlers as submission
from shared.events import new_event
from tests.integration.schemas import service_pool

APPROVED = {"title": "t", "body": "b", "pen_name": None, "tags": [], "content_warnings": [],
            "published_on": "2026-03-01"}
EVENTS = {"StoryScreened": {"label": "clear"}, "StoryApproved": APPROVED,
          "StoryRejected": {"reason": "Not for here"}, "StoryUnpublished": {"reason": "Taken down"}}

# (status before, taken down, event) -> status after
CASES = [
    ("received", False, "StoryScreened", "in_review"),
    ("in_review", False, "StoryApproved", "published"),
    ("in_review", False, "StoryRejected", "rejected"),
    ("published", False, "StoryScreened", "published"),  # late, out of order
    ("published", False, "StoryUnpublished", "rejected"),  # a takedown is the one way back
    ("received", False, "StoryApproved", "published"),  # the screen's event comes later
    ("withdrawn", False, "StoryApproved", "withdrawn"),
    ("withdrawn", False, "StoryScreened", "withdrawn"),
    ("withdrawn", False, "StoryUnpublished", "withdrawn"),
    # An approval handled after its takedown (another consumer) does not publish it
    # again; after an appeal it does, unless the story was taken down.
    ("rejected", False, "StoryApproved", "rejected"),
    ("appealed", False, "StoryApproved", "published"),
    ("appealed", True, "StoryApproved", "appealed"),
    ("appealed", False, "StoryRejected", "rejected"),
]


@pytest.fixture
async def pool(pg_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await service_pool(pg_dsn, "submission", "receipt")
    yield pool
    await pool.close()


async def _receipt(pool: asyncpg.Pool, status: str, taken_down: bool = False, reason: str | None = None) -> str:
    story = uuid.uuid4()
    await pool.execute("INSERT INTO stories (story_id, receipt_lookup, receipt_hash, title, body, status,"
                       " taken_down, reason) VALUES ($1, $2, 'hash', 'Home', 'body', $3, $4, $5)",
                       story, story.hex, status, taken_down, reason)
    return str(story)


async def _handle(pool: asyncpg.Pool, story: str, event_type: str) -> asyncpg.Record:
    async with pool.acquire() as conn, conn.transaction():
        await submission.HANDLERS[event_type](conn, new_event(event_type, story_id=story, **EVENTS[event_type]))
    return await pool.fetchrow("SELECT status, reason FROM stories WHERE story_id = $1", uuid.UUID(story))


@pytest.mark.parametrize(("before", "taken_down", "event_type", "after"), CASES)
async def test_a_receipt_never_moves_backwards_but_a_takedown_turns_published_into_rejected(
        pool: asyncpg.Pool, before: str, taken_down: bool, event_type: str, after: str) -> None:
    story = await _receipt(pool, before, taken_down)
    assert (await _handle(pool, story, event_type))["status"] == after


async def test_a_repeated_rejection_keeps_the_first_reason(pool: asyncpg.Pool) -> None:
    story = await _receipt(pool, "rejected", reason="The first decision")
    assert tuple(await _handle(pool, story, "StoryRejected")) == ("rejected", "The first decision")


async def test_an_event_for_a_story_that_is_not_here_changes_nothing(pool: asyncpg.Pool) -> None:
    other = await _receipt(pool, "received")
    assert await _handle(pool, str(uuid.uuid4()), "StoryScreened") is None
    assert (await pool.fetchval("SELECT status FROM stories WHERE story_id = $1", uuid.UUID(other))) == "received"
