"""Migrations 100 (every schema's messaging tables) and 101 (moderation) on a schema
that already holds rows: times become days, and the order the times gave is kept as
sequence numbers (queue, decisions, reports, outbox)."""

from __future__ import annotations

import uuid

from braided.services import SERVICE_DIRS
from shared.db import connect, migrate, migration_files


async def test_existing_rows_keep_their_order_and_lose_their_time(pg_dsn: str) -> None:
    schema = f"days_{uuid.uuid4().hex[:8]}"
    files = migration_files(SERVICE_DIRS["moderation"])
    old = [f for f in files if not f.name.startswith(("100_", "101_"))]
    await migrate(pg_dsn, schema, old)
    conn = await connect(pg_dsn, schema)
    try:
        ids = [uuid.uuid4() for _ in range(3)]
        # Filed newest-first by id but oldest-first by time: the time order must win.
        for n, sid in enumerate(ids):
            await conn.execute(
                "INSERT INTO queue_items (story_id, title, body, label, state, queued_at, decided_at)"
                " VALUES ($1, 't', 'b', 'clear', $2, now() - make_interval(hours => $3),"
                " CASE WHEN $2 = 'approved' THEN now() - make_interval(mins => $3) END)",
                sid, "approved" if n else "pending", 10 - n)
            await conn.execute("INSERT INTO reports (report_id, story_id, reason, received_at)"
                               " VALUES ($1, $2, 'r', now() - make_interval(hours => $3))", uuid.uuid4(), sid, 10 - n)
            await conn.execute("INSERT INTO outbox (event_id, subject, payload, story_id, created_at)"
                               " VALUES ($1, 's', '{}', $2, now() - make_interval(hours => $3))",
                               uuid.uuid4(), sid, 10 - n)
            await conn.execute("INSERT INTO audit_log (action, story_id) VALUES ('story.approved', $1)", sid)
        await migrate(pg_dsn, schema, files)

        rows = await conn.fetch("SELECT story_id, queue_seq, decided_seq, queued_on, decided_on FROM queue_items"
                                " ORDER BY queue_seq")
        assert [r["story_id"] for r in rows] == ids
        assert [r["decided_seq"] for r in rows] == [None, 1, 2]
        assert all(type(r["queued_on"]).__name__ == "date" for r in rows)
        assert [r["story_id"] for r in await conn.fetch("SELECT story_id FROM reports ORDER BY seq")] == ids
        assert [r["story_id"] for r in await conn.fetch("SELECT story_id FROM outbox ORDER BY seq")] == ids
        # New rows come after the old ones.
        new = uuid.uuid4()
        await conn.execute("INSERT INTO queue_items (story_id, title, body, label) VALUES ($1, 't', 'b', 'clear')",
                           new)
        assert await conn.fetchval("SELECT story_id FROM queue_items ORDER BY queue_seq DESC LIMIT 1") == new
        timed = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1"
            " AND data_type LIKE 'time%' AND table_name IN ('queue_items', 'reports', 'audit_log', 'outbox',"
            " 'processed_events', 'parked_messages', 'reveals')", schema)
        assert [tuple(r) for r in timed] == []
    finally:
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()
