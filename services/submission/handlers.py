"""Submission's event handlers: the receipt follows the story's life."""

from __future__ import annotations

import json
import uuid

import asyncpg

from shared.events import Event

_RANK = {"received": 0, "in_review": 1, "published": 2, "rejected": 2, "appealed": 2, "withdrawn": 3}
_RANKS = json.dumps(_RANK)

# One statement, so the receipt follows its story without a SELECT … FOR UPDATE
# round trip first (this runs in the process that answers POST /api/stories).
# The rules, in order:
# - a withdrawn receipt never changes (its rank is above every other);
# - a receipt never moves backwards (an out-of-order in_review after a decision),
#   except a takedown, which turns `published` into `rejected`; a repeated
#   rejection changes nothing;
# - each subject has its own consumer, so a takedown (stories.unpublished) can be
#   handled before the approval it undoes (stories.approved). A story is published
#   again after a rejection only through an appeal (`appealed`, set before
#   StoryAppealed is sent), and a first decision is final: so an approval that
#   finds `rejected` is older than that rejection, and must not undo the takedown;
#   nor does an approval handled after a takedown, even after an appeal.
_SET_STATUS = """
UPDATE stories SET status = $2, reason = COALESCE($3, reason), status_changed_on = current_date
 WHERE story_id = $1
   AND ($4::text::jsonb ->> status)::int <= ($4::text::jsonb ->> $2::text)::int
   AND NOT ($2 = 'rejected' AND status = 'rejected')
   AND NOT ($2 = 'published' AND (taken_down OR status = 'rejected'))
"""


async def _set_status(conn: asyncpg.Connection, story_id: str, status: str, reason: str | None = None) -> None:
    await conn.execute(_SET_STATUS, uuid.UUID(story_id), status, reason, _RANKS)


async def on_screened(conn: asyncpg.Connection, event: Event) -> None:
    await _set_status(conn, event.data["story_id"], "in_review")


async def on_approved(conn: asyncpg.Connection, event: Event) -> None:
    await _set_status(conn, event.data["story_id"], "published")


async def on_rejected(conn: asyncpg.Connection, event: Event) -> None:
    await _set_status(conn, event.data["story_id"], "rejected", event.data["reason"])


async def on_unpublished(conn: asyncpg.Connection, event: Event) -> None:
    await _set_status(conn, event.data["story_id"], "rejected", event.data["reason"])
    await conn.execute("UPDATE stories SET taken_down = true WHERE story_id = $1 AND status <> 'withdrawn'",
                       uuid.UUID(event.data["story_id"]))


HANDLERS = {
    "StoryScreened": on_screened,
    "StoryApproved": on_approved,
    "StoryRejected": on_rejected,
    "StoryUnpublished": on_unpublished,
}
