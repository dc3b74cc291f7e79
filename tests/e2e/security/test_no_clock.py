"""No clock beside a story (issue 10): after a story goes submit → approve → publish
(and a reader reports it), no row that contains its id, in any schema, has a value in a
column that holds a time of day, and no log line of any process contains its id."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import asyncpg
import httpx

from shared.infra import EmbeddedNats
from tests.e2e.publishing.flow import publish, unique
from tests.stack import Stack, wait_until

SCHEMAS = ("submission", "moderation", "publishing")
TIME_TYPES = ("timestamp without time zone", "timestamp with time zone", "time without time zone",
              "time with time zone")


async def _clocks_beside(dsn: str, story_id: str) -> tuple[list[str], set[str]]:
    """(table.column = value for every time-typed value in a row holding `story_id`,
    the tables where the id was found at all)."""
    conn = await asyncpg.connect(dsn)
    try:
        columns = await conn.fetch(
            "SELECT c.table_schema, c.table_name, c.column_name, c.data_type FROM information_schema.columns c"
            " JOIN information_schema.tables t USING (table_schema, table_name)"
            " WHERE c.table_schema = ANY($1) AND t.table_type = 'BASE TABLE'", list(SCHEMAS))
        tables: dict[tuple[str, str], list[str]] = {}
        for c in columns:
            cols = tables.setdefault((c["table_schema"], c["table_name"]), [])
            if c["data_type"] in TIME_TYPES:
                cols.append(c["column_name"])
        found, holding = [], set()
        for (schema, table), time_cols in tables.items():
            rows = await conn.fetch(f'SELECT to_jsonb(t) AS doc FROM "{schema}"."{table}" t'
                                    " WHERE strpos(t::text, $1) > 0", story_id)
            if rows:
                holding.add(f"{schema}.{table}")
            for r in rows:
                doc = json.loads(r["doc"]) if isinstance(r["doc"], str) else r["doc"]
                found += [f"{schema}.{table}.{col} = {doc[col]}" for col in time_cols if doc.get(col) is not None]
        return found, holding
    finally:
        await conn.close()


def test_no_time_of_day_beside_a_story_and_no_story_id_in_any_log(stack: Stack, admin: httpx.Client,
                                                                   nats_server: EmbeddedNats) -> None:
    title = unique("No clock ")
    story_id, receipt = publish(stack, admin, title=title, body="A story that must leave no clock behind it.")
    r = httpx.post(stack.url("publishing", f"/api/stories/{story_id}/reports"),
                   json={"reason": "Testing the reported path too."}, timeout=10)
    assert r.status_code in (201, 202), r.text
    # Submission heard of the approval (its receipt says published), moderation of the report.
    wait_until(lambda: stack.receipt_status(receipt).get("status") == "published", 20, what="receipt published")
    wait_until(lambda: admin.get("/api/queue", params={"state": "reported"}).json()["items"], 20,
               what="the report in moderation")

    clocks, holding = asyncio.run(_clocks_beside(stack.dsn, story_id))
    # The scan is real: the id is in the rows it must be in, outboxes and inboxes' sources included.
    assert {"submission.stories", "moderation.queue_items", "moderation.audit_log", "moderation.reports",
            "publishing.stories", "submission.outbox", "moderation.outbox", "publishing.outbox"} <= holding
    assert clocks == []

    logs = [stack.log_path, nats_server.store / "nats-server.log", *Path(stack.data_dir).rglob("*.log")]
    text = "\n".join(p.read_text(errors="replace") for p in logs if p.exists())
    assert "screened" in text  # the scan reads the worker's lines too
    assert story_id not in text and story_id.replace("-", "") not in text
