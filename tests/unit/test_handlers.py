"""Event handlers with a fake connection: what each writes, and that a repeat or a
late event changes nothing."""

from __future__ import annotations

import uuid

from services.moderation.handlers import on_withdrawn
from shared.events import new_event
from tests.unit.fakes import FakeConnection

STORY = str(uuid.uuid4())


async def test_a_withdrawal_deletes_the_story_its_reports_and_marks_its_events() -> None:
    conn = FakeConnection()
    await on_withdrawn(conn, new_event("StoryWithdrawn", story_id=STORY))  # type: ignore[arg-type]
    tables = [sql.split(" FROM ")[-1].split()[0] for sql, _ in conn.sent if sql.startswith("DELETE")]
    assert {"queue_items", "reports", "reveals", "outbox"} <= set(tables)
    assert conn.statements("INSERT INTO withdrawn_stories") == [(uuid.UUID(STORY),)]
