"""Event handlers with a fake connection: what each writes, and that a repeat or a
late event changes nothing."""

from __future__ import annotations

import uuid

from services.moderation.handlers import on_withdrawn
from services.submission import handlers as submission
from shared.events import new_event
from tests.unit.fakes import FakeConnection

STORY = str(uuid.uuid4())


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
