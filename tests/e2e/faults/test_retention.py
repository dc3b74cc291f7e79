"""Retention: rejected stories leave every schema after RETENTION_DAYS. The package's
stack runs with RETENTION_DAYS=0 and a one-second sweep, so "after N days" is "now"."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from braided.services import SERVICE_DIRS
from services.moderation import retention as moderation_retention
from services.submission import retention as submission_retention
from shared.db import create_pool, migrate, migration_files
from tests.hardening import ScratchStack, stream_messages, table_rows, wait_queued
from tests.stack import db_fetch, wait_until

pytestmark = pytest.mark.slow


def _holding(dsn: str, marker: str) -> list[str]:
    """Tables (any schema) with a row that mentions `marker`."""
    return sorted({table for table, row in table_rows(dsn) if marker in row})


def test_rejected_story_purged_from_every_schema(scratch: ScratchStack, scratch_mod: httpx.Client) -> None:
    stack, dsn = scratch.stack, scratch.dsn
    markers = {k: f"{k}-{uuid.uuid4().hex}" for k in ("rejected", "approved", "pending")}
    receipts = {k: stack.submit(title=f"retention {m}", body=f"A story that carries the marker {m} in its body.")
                for k, m in markers.items()}
    wait_queued(dsn, [f"retention {m}" for m in markers.values()])
    ids = {k: db_fetch(dsn, "SELECT story_id FROM moderation.queue_items WHERE title = $1",
                       f"retention {m}")[0]["story_id"] for k, m in markers.items()}
    assert scratch_mod.post(f"/api/queue/{ids['rejected']}/decision",
                            json={"decision": "reject", "reason": "Off topic for this space."}).status_code == 200
    assert scratch_mod.post(f"/api/queue/{ids['approved']}/decision",
                            json={"decision": "approve"}).status_code == 200
    # Before the sweep the rejected story is in both schemas that ever held it.
    wait_until(lambda: _holding(dsn, markers["rejected"]) == [], 30, 0.5, "the rejected story purged everywhere")
    # ... and from the event stream: the events that carried its text were erased.
    wait_until(lambda: not any(markers["rejected"] in m for _, _, m in stream_messages(scratch.nats.admin_url)),
               30, 0.5,
               "the rejected story's events erased from the stream")
    assert any(markers["approved"] in m for _, _, m in stream_messages(scratch.nats.admin_url))
    assert stack.receipt_status(receipts["rejected"]) == {
        "errors": {"receipt": "We could not find a story with that receipt code. Check it and try again."}}
    # Stories that were not rejected are untouched.
    assert {t.split(".")[0].strip('"') for t in _holding(dsn, markers["approved"])} >= {
        "submission", "moderation", "publishing"}
    assert _holding(dsn, markers["pending"])
    # The decision itself stays in the append-only audit log, without the text.
    audit = db_fetch(dsn, "SELECT detail FROM moderation.audit_log WHERE story_id = $1", ids["rejected"])
    assert audit and markers["rejected"] not in str(audit)
    purged = httpx.get(stack.url("submission", "/metrics"), timeout=5).text
    assert 'braided_retention_purged_total{schema="submission"}' in purged


def test_purge_respects_the_number_of_days(scratch: ScratchStack) -> None:
    """RETENTION_DAYS=30: rejected 29 days ago stays, 31 days ago goes. Run on fresh
    copies of the two schemas (same migrations), away from the running stack's sweep."""
    run = uuid.uuid4().hex[:8]

    async def go() -> dict[str, tuple[int, list[str]]]:
        out = {}
        for service, purge, insert in (
            ("submission", submission_retention.purge,
             "INSERT INTO stories (story_id, receipt_lookup, receipt_hash, title, body, status, status_changed_on)"
             " VALUES ($1, $2, 'x', $2, 'body', 'rejected', current_date - $3::int)"),
            ("moderation", moderation_retention.purge,
             "INSERT INTO queue_items (story_id, title, body, label, state, decided_on)"
             " VALUES ($1, $2, 'body', 'unscreened', 'rejected', current_date - $3::int)"),
        ):
            schema = f"retention_{service}_{run}"
            await migrate(scratch.dsn, schema, migration_files(SERVICE_DIRS[service]))
            pool = await create_pool(scratch.dsn, schema, max_size=1)
            try:
                for age in (29, 31):
                    await pool.execute(insert, uuid.uuid4(), f"aged-{age}", age)
                purged = await purge(pool, 30)
                table = "stories" if service == "submission" else "queue_items"
                left = [r["title"] for r in await pool.fetch(f"SELECT title FROM {table}")]
                out[service] = (purged, left)
                await pool.execute(f'DROP SCHEMA "{schema}" CASCADE')
            finally:
                await pool.close()
        return out

    assert asyncio.run(go()) == {"submission": (1, ["aged-29"]), "moderation": (1, ["aged-29"])}
