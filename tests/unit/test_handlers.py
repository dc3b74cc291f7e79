"""Event handlers with a fake connection: what each writes, and that a repeat or a
late event changes nothing."""

from __future__ import annotations

import json
import uuid

from services.moderation.handlers import file_story, on_withdrawn
from services.moderation.screen.policy import ScreenResult
from services.submission import handlers as submission
from shared.events import new_event
from tests.unit.fakes import FakeConnection

STORY = str(uuid.uuid4())


def _submitted() -> object:
    return new_event("StorySubmitted", story_id=STORY, title="Home", body="My lola's kitchen.", pen_name=None,
                     tags=["Filipino"], content_warnings=[])


async def test_a_screened_story_is_filed_and_its_receipt_told() -> None:
    conn = FakeConnection({"INSERT INTO queue_items": True})
    await file_story(conn, _submitted(), ScreenResult("flagged", 2.6, {"insult": 0.6}))  # type: ignore[arg-type]
    [row] = conn.statements("INSERT INTO queue_items")
    assert row[0] == uuid.UUID(STORY) and row[6:8] == ("flagged", 2.6)
    [outbox] = conn.statements("INSERT INTO outbox")
    assert outbox[1] == "stories.screened" and json.loads(outbox[2])["data"] == {"story_id": STORY, "label": "flagged"}


async def test_a_story_filed_twice_or_after_its_withdrawal_sends_nothing() -> None:
    again = FakeConnection({"INSERT INTO queue_items": None})  # ON CONFLICT DO NOTHING
    await file_story(again, _submitted(), ScreenResult("clear", 0.1))  # type: ignore[arg-type]
    withdrawn = FakeConnection({"SELECT true FROM withdrawn_stories": True})
    await file_story(withdrawn, _submitted(), ScreenResult("clear", 0.1))  # type: ignore[arg-type]
    assert again.statements("INSERT INTO outbox") == [] and withdrawn.statements("INSERT INTO queue_items") == []


async def test_a_withdrawal_deletes_the_story_its_reports_and_marks_its_events() -> None:
    conn = FakeConnection()
    await on_withdrawn(conn, new_event("StoryWithdrawn", story_id=STORY))  # type: ignore[arg-type]
    tables = [sql.split(" FROM ")[-1].split()[0] for sql, _ in conn.sent if sql.startswith("DELETE")]
    assert {"queue_items", "reports", "reveals", "outbox"} <= set(tables)
    assert conn.statements("INSERT INTO withdrawn_stories") == [(uuid.UUID(STORY),)]


async def test_a_receipt_never_moves_backwards_but_a_takedown_turns_published_into_rejected() -> None:
    async def status_after(current: str | None, event_type: str, taken_down: bool = False, **data: str) -> list[tuple]:
        row = None if current is None else {"status": current, "taken_down": taken_down}
        conn = FakeConnection({"SELECT status, taken_down FROM stories": row})
        await submission.HANDLERS[event_type](conn, new_event(event_type, story_id=STORY, **data))  # type: ignore[arg-type]
        return [args[1] for args in conn.statements("UPDATE stories SET status")]

    assert await status_after("received", "StoryScreened", label="clear") == ["in_review"]
    assert await status_after("published", "StoryScreened", label="clear") == []  # late, out of order
    assert await status_after("published", "StoryUnpublished", reason="r") == ["rejected"]
    assert await status_after("rejected", "StoryRejected", reason="r") == []
    assert await status_after("withdrawn", "StoryApproved", title="t", body="b", pen_name=None, tags=[],
                              content_warnings=[], published_on="2026-03-01") == []
    assert await status_after(None, "StoryScreened", label="clear") == []
    # An approval handled after its takedown (another consumer) does not publish it again;
    # after an appeal it does.
    approved = {"title": "t", "body": "b", "pen_name": None, "tags": [], "content_warnings": [],
                "published_on": "2026-03-01"}
    assert await status_after("rejected", "StoryApproved", **approved) == []
    assert await status_after("appealed", "StoryApproved", **approved) == ["published"]
    # ... unless the story was taken down: a takedown is never undone by a late approval.
    assert await status_after("appealed", "StoryApproved", taken_down=True, **approved) == []
