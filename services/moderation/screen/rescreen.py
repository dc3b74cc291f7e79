"""Screening again what was filed without a model.

While no model loads, stories are filed `unscreened` and moderators read them in
full. When a model loads, every story still pending with that label is screened in
the background and its label, scores and passages are updated in place; a
StoryScreened event tells the moderators' live pages. A story a moderator has
decided meanwhile is never touched (the update is conditional on `pending`)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable

import asyncpg

from services.moderation.screen.model import ScreenModel
from services.moderation.screen.policy import Policy
from services.moderation.screen.terms import Terms
from services.moderation.screen_parts import screen_data
from shared import outbox
from shared.events import new_event
from shared.outbox import enqueue

log = logging.getLogger("braided.screen")


async def rescreen_unscreened(pool: asyncpg.Pool, model: ScreenModel, terms: Callable[[], Awaitable[Terms]],
                              policy: Policy, batch: int = 8) -> int:
    """Screen every pending `unscreened` story with `model`, a batch at a time (in
    story-id order, so each is tried once); returns how many changed label."""
    changed, after = 0, uuid.UUID(int=0)
    while True:
        rows = await pool.fetch(
            "SELECT story_id, title, body, translation, glossary FROM queue_items"
            " WHERE state = 'pending' AND label = 'unscreened' AND story_id > $1 ORDER BY story_id LIMIT $2",
            after, batch)
        if not rows:
            break
        after = rows[-1]["story_id"]
        # Every part readers will see: the story, its second-language version, its glossary.
        stories = [dict(r) for r in rows]
        async for n, result in screen_data(model, stories, await terms(), policy):
            if result.label == "unscreened":  # the model failed on it: it stays for people to read
                continue
            async with outbox.transaction(pool) as conn:
                updated = await conn.fetchval(
                    "UPDATE queue_items SET label = $2, severity = $3, scores = $4, passages = $5, term_hits = $6,"
                    " model = $7 WHERE story_id = $1 AND state = 'pending' AND label = 'unscreened'"
                    " RETURNING true", rows[n]["story_id"], result.label, result.severity, result.scores,
                    result.passages, result.term_hits, result.model)
                if updated:
                    await enqueue(conn, new_event("StoryScreened", story_id=str(rows[n]["story_id"]),
                                                  label=result.label))
                    changed += 1
    if changed:
        log.info("screened again the stories filed without a model", extra={"stories": changed})
    return changed
