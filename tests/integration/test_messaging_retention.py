"""Messaging housekeeping (shared/retention.py) on a real PostgreSQL: old inbox ids,
sent outbox rows and parked messages go; anything still owed or recent stays."""

from __future__ import annotations

import json
import uuid

from shared.db import COMMON_SQL, create_pool, migrate
from shared.retention import tidy_messaging


async def test_tidy_keeps_what_is_owed_and_recent(pg_dsn: str) -> None:
    schema = f"tidy_{uuid.uuid4().hex[:8]}"
    await migrate(pg_dsn, schema, sorted(COMMON_SQL.glob("*.sql")))
    pool = await create_pool(pg_dsn, schema, max_size=1)
    try:
        ages = {"fresh": 1, "edge": 14, "old": 16, "ancient": 40}  # days; stream keeps 14, retention 30
        for name, days in ages.items():
            for published in (True, False):
                await pool.execute(
                    "INSERT INTO outbox (event_id, subject, payload, created_on, published_on)"
                    " VALUES ($1, $2, $3::jsonb, current_date - $4::int,"
                    " CASE WHEN $5 THEN current_date - $4::int END)",
                    uuid.uuid4(), f"{name}-{'sent' if published else 'owed'}", json.dumps({}), days, published)
            await pool.execute("INSERT INTO processed_events (consumer, event_id, processed_on)"
                               " VALUES ($1, $2, current_date - $3::int)", name, uuid.uuid4(), days)
            await pool.execute("INSERT INTO parked_messages (consumer, subject, payload, error, deliveries, parked_on)"
                               " VALUES ($1, 's', 'story text', 'e', 5, current_date - $2::int)",
                               name, days)

        deleted = await tidy_messaging(pool, stream_days=14, retention_days=30)

        assert deleted == {"processed_events": 2, "outbox": 2, "parked_messages": 1}
        outbox = {r["subject"] for r in await pool.fetch("SELECT subject FROM outbox")}
        # An event not yet sent is never dropped, however old: the relay still owes it.
        assert outbox == {"fresh-sent", "edge-sent", "fresh-owed", "edge-owed", "old-owed", "ancient-owed"}
        assert {r["consumer"] for r in await pool.fetch("SELECT consumer FROM processed_events")} == {"fresh", "edge"}
        assert {r["consumer"] for r in await pool.fetch("SELECT consumer FROM parked_messages")} == {
            "fresh", "edge", "old"}
        # A second sweep finds nothing more.
        assert await tidy_messaging(pool, 14, 30) == {"processed_events": 0, "outbox": 0, "parked_messages": 0}
        # With RETENTION_DAYS=0 parked messages still stay as long as the stream keeps events.
        assert (await tidy_messaging(pool, 14, 0))["parked_messages"] == 1
        assert {r["consumer"] for r in await pool.fetch("SELECT consumer FROM parked_messages")} == {"fresh", "edge"}
    finally:
        await pool.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await pool.close()
