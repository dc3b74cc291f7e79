"""Submission's event handlers: the receipt follows the story's life."""

from __future__ import annotations

import uuid

import asyncpg

from shared.events import Event

_RANK = {"received": 0, "in_review": 1, "published": 2, "rejected": 2, "appealed": 2, "withdrawn": 3}


async def _set_status(conn: asyncpg.Connection, story_id: str, status: str, reason: str | None = None) -> None:
    row = await conn.fetchrow("SELECT status, taken_down FROM stories WHERE story_id = $1 FOR UPDATE",
                              uuid.UUID(story_id))
    if row is None or row["status"] == "withdrawn":
        return
    current = row["status"]
    if status == "published" and row["taken_down"]:
        return  # an approval handled after its takedown (or after an appeal that followed it)
    # Never move backwards (an out-of-order in_review after a decision), except a
    # takedown, which turns `published` into `rejected`.
    if _RANK[status] < _RANK[current] or (status == current == "rejected"):
        return
    # Each subject has its own consumer, so a takedown (stories.unpublished) can be
    # handled before the approval it undoes (stories.approved). A story is published
    # again after a rejection only through an appeal (`appealed`, set here before
    # StoryAppealed is sent), and a first decision is final: so an approval that finds
    # `rejected` is older than that rejection, and must not undo the takedown.
    if status == "published" and current == "rejected":
        return
    await conn.execute(
        "UPDATE stories SET status = $2, reason = COALESCE($3, reason), status_changed_on = current_date"
        " WHERE story_id = $1", uuid.UUID(story_id), status, reason)


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
