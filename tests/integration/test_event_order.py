"""Each service reads every subject through its own durable consumer (shared/natsauth.py),
so events of different subjects can be handled in another order than the stream's.
On a real PostgreSQL, with each service's own migrations and handler table: every
order of the events about one story (or prompt) leaves the same final state."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import asyncpg
import pytest

from services.moderation import handlers as moderation
from services.moderation.screen.policy import ScreenResult
from services.publishing import exchange as publishing_exchange
from services.publishing.handlers import HANDLERS as PUBLISHING
from services.submission import exchange as submission_exchange
from services.submission import stories
from services.submission.app import CONSUMES as SUBMISSION
from shared.events import Event, new_event
from tests.integration.schemas import service_pool

STORY = str(uuid.uuid4())
PROMPT = str(uuid.uuid4())
REPORT = str(uuid.uuid4())

Handler = Callable[..., Any]


async def _schema(dsn: str, service: str) -> asyncpg.Pool:
    return await service_pool(dsn, service, f"order_{service}")


async def _snapshot(pool: asyncpg.Pool, tables: Iterable[str]) -> dict[str, list[tuple]]:
    """Every row of `tables`, without generated sequence columns (they follow arrival)."""
    out = {}
    for table in tables:
        generated = {r["column_name"] for r in await pool.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = $1 AND (is_identity = 'YES' OR column_default LIKE 'nextval%')", table)}
        rows = await pool.fetch(f"SELECT * FROM {table}")  # noqa: S608 (test's own table names)
        out[table] = sorted(tuple(repr(v) for k, v in r.items() if k not in generated) for r in rows)
    return out


async def _final_states(dsn: str, service: str, setup: str | None, handlers: dict[str, Handler],
                        events: list[Event], tables: tuple[str, ...]) -> list[dict]:
    """The tables' final state after each order of `events`, each on a fresh schema."""
    states = []
    for order in itertools.permutations(events):
        pool = await _schema(dsn, service)
        try:
            if setup:
                await pool.execute(setup, uuid.UUID(STORY))
            for event in order:
                async with pool.acquire() as conn, conn.transaction():
                    await handlers[event.type](conn, event)
            states.append(await _snapshot(pool, tables))
        finally:
            await pool.close()
    return states


def _story(**extra: Any) -> dict[str, Any]:
    return {"story_id": STORY, "title": "Home", "body": "My lola's kitchen.", "pen_name": None,
            "tags": ["Filipino"], "content_warnings": []} | extra


def _approved(**extra: Any) -> Event:
    return new_event("StoryApproved", **_story(published_on="2026-12-01"), **extra)


def _prompt_events() -> list[Event]:
    return [new_event("PromptPublished", prompt_id=PROMPT, title="Festival food", description="d",
                      opens_on=None, closes_on=None),
            new_event("PromptClosed", prompt_id=PROMPT, closed_on="2026-12-05")]


SUBMITTED_ROW = ("INSERT INTO stories (story_id, receipt_lookup, receipt_hash, title, body)"
                 " VALUES ($1, 'lookup', 'hash', 'Home', 'body')")


async def test_submission_a_takedown_is_final_whenever_the_approval_arrives(pg_dsn: str) -> None:
    """Screened, approved, unpublished, in any order: the receipt says rejected, with
    the takedown's reason (an approval handled after the takedown used to publish it again)."""
    events = [new_event("StoryScreened", story_id=STORY, label="clear"), _approved(),
              new_event("StoryUnpublished", story_id=STORY, reason="Taken down")]
    states = await _final_states(pg_dsn, "submission", SUBMITTED_ROW, SUBMISSION, events, ("stories",))
    assert all(s == states[0] for s in states)
    [row] = states[0]["stories"]
    assert "'rejected'" in row and "'Taken down'" in row


async def test_submission_a_rejection_is_final_whenever_the_screen_reports(pg_dsn: str) -> None:
    events = [new_event("StoryScreened", story_id=STORY, label="clear"),
              new_event("StoryRejected", story_id=STORY, reason="Not for here")]
    states = await _final_states(pg_dsn, "submission", SUBMITTED_ROW, SUBMISSION, events, ("stories",))
    assert states[0] == states[1] and "'rejected'" in states[0]["stories"][0]


async def test_submission_a_prompt_closed_before_it_arrives_stays_closed(pg_dsn: str) -> None:
    states = await _final_states(pg_dsn, "submission", None, SUBMISSION, _prompt_events(), ("prompts",))
    assert states[0] == states[1]
    [row] = states[0]["prompts"]
    assert "'Festival food'" in row and "datetime.date(2026, 12, 5)" in row


async def test_submission_never_offers_a_prompt_whose_close_came_first(pg_dsn: str) -> None:
    pool = await _schema(pg_dsn, "submission")
    try:
        published, closed = _prompt_events()
        async with pool.acquire() as conn:
            await SUBMISSION["PromptClosed"](conn, closed)
        assert await submission_exchange.open_prompts(pool) == []
        errors = await submission_exchange.check_references(pool, PROMPT, None)
        assert "prompt_id" in errors
        async with pool.acquire() as conn:
            await SUBMISSION["PromptPublished"](conn, published)
        assert await submission_exchange.open_prompts(pool) == []
    finally:
        await pool.close()


async def test_publishing_a_story_gone_stays_gone_and_withdrawal_wins(pg_dsn: str) -> None:
    """Approved, unpublished, withdrawn, in any order: no story, and the tombstone
    says withdrawn; a reader's report on it ends `removed` with the story's id let go."""
    events = [_approved(prompt_id=PROMPT), new_event("StoryUnpublished", story_id=STORY, reason="r"),
              new_event("StoryWithdrawn", story_id=STORY)]
    report = f"INSERT INTO report_outcomes (report_id, story_id) VALUES ('{REPORT}', $1)"
    states = await _final_states(pg_dsn, "publishing", report, PUBLISHING, events,
                                 ("stories", "gone_stories", "report_outcomes"))
    assert all(s == states[0] for s in states)
    assert states[0]["stories"] == []
    assert [r[1] for r in states[0]["gone_stories"]] == ["'withdrawn'"]
    assert "'removed'" in states[0]["report_outcomes"][0] and "None" in states[0]["report_outcomes"][0]


async def test_publishing_a_response_keeps_no_pointer_to_a_story_gone_first(pg_dsn: str) -> None:
    """A response approved after the story it answers was withdrawn (another subject,
    so either order) keeps no pointer to it, as when the withdrawal comes second."""
    parent = str(uuid.uuid4())
    parent_approved = new_event("StoryApproved", **_story(story_id=parent, published_on="2026-11-30"))
    events = [_approved(in_response_to=parent), new_event("StoryWithdrawn", story_id=parent)]
    states = []
    for order in (events, events[::-1]):
        pool = await _schema(pg_dsn, "publishing")
        try:
            for event in [parent_approved, *order]:
                async with pool.acquire() as conn, conn.transaction():
                    await PUBLISHING[event.type](conn, event)
            states.append(await _snapshot(pool, ("stories", "gone_stories")))
            assert await pool.fetchval("SELECT in_response_to FROM stories WHERE story_id = $1",
                                       uuid.UUID(STORY)) is None
        finally:
            await pool.close()
    assert states[0] == states[1]


async def test_publishing_a_takedown_and_its_reports_resolution_commute(pg_dsn: str) -> None:
    events = [new_event("StoryUnpublished", story_id=STORY, reason="r"),
              new_event("ReportsResolved", story_id=STORY, report_ids=[REPORT], outcome="no_change")]
    report = f"INSERT INTO report_outcomes (report_id, story_id) VALUES ('{REPORT}', $1)"
    states = await _final_states(pg_dsn, "publishing", report, PUBLISHING, events, ("report_outcomes",))
    assert states[0] == states[1]


async def test_publishing_prompts_in_any_order(pg_dsn: str) -> None:
    """A prompt closed before it arrives stays closed, and is never listed half-known;
    a story answering a prompt may arrive before the prompt."""
    events = _prompt_events() + [_approved(prompt_id=PROMPT)]
    states = await _final_states(pg_dsn, "publishing", None, PUBLISHING, events, ("prompts", "stories"))
    assert all(s == states[0] for s in states)
    pool = await _schema(pg_dsn, "publishing")
    try:
        async with pool.acquire() as conn:
            await PUBLISHING["PromptClosed"](conn, _prompt_events()[1])
        assert await publishing_exchange.prompts(pool) == []
        assert await publishing_exchange.prompt(pool, uuid.UUID(PROMPT)) is None
        async with pool.acquire() as conn:
            await PUBLISHING["PromptPublished"](conn, _prompt_events()[0])
        [row] = await publishing_exchange.prompts(pool)
        assert row["title"] == "Festival food" and row["closed_on"] is not None
    finally:
        await pool.close()


async def test_publishing_resources_keep_the_newest_revision(pg_dsn: str) -> None:
    events = [new_event("ResourcesUpdated", revision=n, intro=f"intro {n}", entries=[]) for n in (1, 2)]
    states = await _final_states(pg_dsn, "publishing", None, PUBLISHING, events, ("site_resources",))
    assert states[0] == states[1] and "'intro 2'" in states[0]["site_resources"][0]


async def test_moderation_a_withdrawal_wins_over_filing_reports_and_appeals(pg_dsn: str) -> None:
    """StorySubmitted (the workers' consumer), StoryReported, StoryAppealed and
    StoryWithdrawn (the web app's three), in any order: nothing of the story is left."""
    result = ScreenResult("clear", 0.1)

    async def filed(conn: asyncpg.Connection, event: Event, *_: Any) -> None:
        await moderation.file_story(conn, event, result)
        # A first decision (rejected), so that an appeal finds something to reopen.
        await conn.execute("UPDATE queue_items SET state = 'rejected' WHERE story_id = $1", uuid.UUID(STORY))

    table = moderation.HANDLERS | {"StorySubmitted": filed}
    events = [new_event("StorySubmitted", **_story()),
              new_event("StoryReported", story_id=STORY, report_id=REPORT, reason="spam"),
              new_event("StoryAppealed", story_id=STORY, message="Please look again"),
              new_event("StoryWithdrawn", story_id=STORY)]
    states = await _final_states(pg_dsn, "moderation", None, table, events,
                                 ("queue_items", "reports", "withdrawn_stories", "reveals"))
    assert all(s == states[0] for s in states)
    assert states[0]["queue_items"] == states[0]["reports"] == [] and len(states[0]["withdrawn_stories"]) == 1


async def test_submission_a_taken_down_story_cannot_be_appealed_nor_republished_by_a_late_approval(
        pg_dsn: str) -> None:
    """The takedown is handled first (its own consumer); the author then tries to
    appeal, and only then the approval arrives: the appeal is refused with its own
    reason, and the receipt still says rejected (it used to accept the appeal, which
    moderation never picked up, and the late approval then marked it published)."""
    pool = await _schema(pg_dsn, "submission")
    try:
        await pool.execute(SUBMITTED_ROW, uuid.UUID(STORY))
        for event in (new_event("StoryUnpublished", story_id=STORY, reason="Taken down"),):
            async with pool.acquire() as conn, conn.transaction():
                await SUBMISSION[event.type](conn, event)
        with pytest.raises(stories.AppealRefused) as refused:
            await stories.appeal(pool, uuid.UUID(STORY), "Please look again", days=30)
        assert refused.value.why == "taken_down"
        async with pool.acquire() as conn, conn.transaction():
            await SUBMISSION["StoryApproved"](conn, _approved())
        row = await pool.fetchrow("SELECT status, reason, appealed FROM stories WHERE story_id = $1",
                                  uuid.UUID(STORY))
        assert (row["status"], row["reason"], row["appealed"]) == ("rejected", "Taken down", False)
    finally:
        await pool.close()
