"""Forged events on the real bus: a StoryApproved sent on a subject publishing may
use (stories.reported), and a StoryApproved on its own subject with a payload that
is not valid, are parked by the consumers that see them and never published. Each
service reads only the subjects it consumes, so the first is seen (and parked) by
moderation's consumer of stories.reported alone: publishing never reads it."""

from __future__ import annotations

import json
import uuid

import httpx

from shared.events import new_event
from tests.stack import Stack, db_fetch, publish_raw, wait_until


def _parked(stack: Stack, needle: str, schema: str = "publishing") -> list[dict]:
    return db_fetch(stack.dsn, f"SELECT consumer, subject, error FROM {schema}.parked_messages"
                               " WHERE strpos(payload, $1) > 0", needle)


def test_forged_approvals_are_parked_not_published(stack: Stack) -> None:
    title = f"Forged {uuid.uuid4().hex[:8]}"
    sid = str(uuid.uuid4())
    forged = new_event("StoryApproved", story_id=sid, title=title, body="Forged body.", pen_name="Braided moderators",
                       tags=[], content_warnings=[], published_on="2026-01-01")
    payload = json.loads(forged.to_json())
    publish_raw(stack.nats_admin_url, "stories.reported", payload, forged.id)
    bad = payload | {"id": str(uuid.uuid4()), "data": payload["data"] | {"story_id": "../" + title}}
    publish_raw(stack.nats_admin_url, "stories.approved", bad, bad["id"])

    [wrong_subject] = wait_until(lambda: _parked(stack, title, "moderation"), 20, 0.2,
                                 what="the forgery on stories.reported parked by moderation")
    assert wrong_subject["consumer"] == "moderation-reported"
    assert "StoryApproved on stories.reported" in wrong_subject["error"]
    [invalid] = wait_until(lambda: _parked(stack, title), 20, 0.2, what="the invalid approval parked by publishing")
    assert invalid["consumer"] == "publishing-approved" and "not a UUID" in invalid["error"]
    assert stack.published(title) is None
    assert httpx.get(stack.url("publishing", f"/api/stories/{sid}"), timeout=10).status_code == 404
