"""Moderators' decisions: approve, reject, take down, dismiss reports. Each is one
transaction holding the change, its event (outbox) and its audit row; of two
moderators racing on one item exactly one wins (the other gets Conflict)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

from services.moderation import audit, exchange
from services.moderation.auth import Moderator
from shared import outbox
from shared.events import new_event
from shared.outbox import enqueue

DECISIONS = ("approve", "reject")
PAST = {"approve": "approved", "reject": "rejected"}
REASON_MAX = 500


class Conflict(Exception):
    """The item was already decided (or is gone)."""

    def __init__(self, state: str | None) -> None:
        super().__init__(state)
        self.state = state


@dataclass(frozen=True)
class Decision:
    decision: str
    reason: str | None
    content_warnings: list[str]
    tags: list[str] | None = None  # replaces the author's tags when given (approve only)
    glossary: list[dict[str, str]] | None = None  # replaces the author's glossary when given (approve only)


def _stem(word: str) -> str:
    w = word.casefold().strip(".,;:!?-")
    for suffix in ("ation", "ing", "al", "ed", "s"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 4:
            return w[: -len(suffix)]
    return w


def merge_warnings(existing: list[str], added: list[str]) -> list[str]:
    """The author's warnings in her order, then the moderator's new ones; a warning
    is left out when one already there is the same or a near-duplicate of it (same
    words but for case and endings, or the same leading word of five letters or
    more: "suicidal thoughts" beside "suicidal ideation", "Self-harm" beside
    "self harm")."""
    out: list[str] = []
    keys: list[tuple[str, str]] = []
    for w in [*existing, *added]:
        words = [_stem(x) for x in w.replace("-", " ").split() if x.strip()]
        if not words:
            continue
        full, lead = " ".join(words), words[0] if len(words[0]) >= 5 else ""
        if any(full == k or (lead and lead == kl) for k, kl in keys):
            continue
        keys.append((full, lead))
        out.append(w)
    return out


class SameModerator(Conflict):
    """An appeal or a proposed rejection must be decided by another moderator than
    the one who made the first decision."""


# A decision's audit action, by the item's state before it and the decision.
_ACTIONS = {
    ("pending", "approve"): "story.approved",
    ("pending", "reject"): "story.rejected",
    ("appealed", "approve"): "story.appeal_approved",
    ("appealed", "reject"): "story.appeal_upheld",
    ("awaiting_confirmation", "approve"): "story.rejection_overturned",
    ("awaiting_confirmation", "reject"): "story.rejection_confirmed",
}
SECOND_LOOK = ("appealed", "awaiting_confirmation")


async def decide(pool: asyncpg.Pool, story_id: uuid.UUID, moderator: Moderator, decision: Decision,
                 confirmations: int = 1) -> str:
    """Record a decision and its event in one transaction. Raises Conflict when the
    item is not waiting for one: exactly one of two racing moderators wins.

    An appealed item, or a rejection awaiting confirmation (REJECT_CONFIRMATIONS=2),
    is decided like a pending one, but only by a different moderator than the one
    who decided first (SameModerator). With `confirmations` 2, rejecting a pending
    item only proposes the rejection: no event until a second moderator confirms."""
    async with outbox.transaction(pool) as conn:
        # The row lock is the referee: of two moderators racing, the second waits
        # here, then finds the item no longer waiting.
        current = await conn.fetchrow(
            "SELECT state, decided_by, content_warnings FROM queue_items WHERE story_id = $1 FOR UPDATE", story_id)
        if current is None or current["state"] not in ("pending", *SECOND_LOOK):
            raise Conflict(current["state"] if current else None)
        before = current["state"]
        if before in SECOND_LOOK and current["decided_by"] == moderator.id:
            raise SameModerator(before)
        proposing = decision.decision == "reject" and before == "pending" and confirmations >= 2
        new_state = "awaiting_confirmation" if proposing else PAST[decision.decision]
        row = await conn.fetchrow(
            "UPDATE queue_items SET state = $2, decided_on = current_date, decided_seq = nextval('decision_seq'),"
            " decided_by = $3, reason = $4,"
            " content_warnings = $5::text[],"
            " tags = COALESCE($6::text[], tags),"
            " first_decided_by = CASE WHEN $7 = 'awaiting_confirmation' THEN decided_by ELSE first_decided_by END,"
            " first_reason = CASE WHEN $7 = 'awaiting_confirmation' THEN reason ELSE first_reason END"
            " WHERE story_id = $1 AND state = $7"
            " RETURNING story_id, title, body, pen_name, tags, content_warnings",
            story_id, new_state, moderator.id, decision.reason,
            merge_warnings(list(current["content_warnings"]), decision.content_warnings),
            decision.tags if decision.decision == "approve" else None, before)
        if proposing:
            event_type = None
        elif decision.decision == "approve":
            event = new_event(
                "StoryApproved", story_id=str(row["story_id"]), title=row["title"], body=row["body"],
                pen_name=row["pen_name"], tags=list(row["tags"]), content_warnings=list(row["content_warnings"]),
                published_on=dt.datetime.now(dt.UTC).date().isoformat(),
                **await exchange.approved_extras(conn, row["story_id"], decision.glossary))
        else:
            event = new_event("StoryRejected", story_id=str(row["story_id"]),
                              reason=decision.reason or "It did not fit the community guidelines.")
        if not proposing:
            await enqueue(conn, event)
            event_type = event.type
        await audit.record(
            conn, moderator.id, "story.rejection_proposed" if proposing else _ACTIONS[(before, decision.decision)],
            {"reason": decision.reason, "content_warnings": decision.content_warnings}
            | ({"tags": decision.tags} if decision.tags is not None and decision.decision == "approve" else {})
            | ({"glossary": decision.glossary} if decision.glossary is not None and decision.decision == "approve"
               else {}),
            story_id)
        if decision.decision == "reject" and not proposing:
            await conn.execute("DELETE FROM reveals WHERE story_id = $1", story_id)
    return event_type or "RejectionProposed"


async def _tell_reporters(conn: asyncpg.Connection, story_id: uuid.UUID, report_ids: list[uuid.UUID],
                          outcome: str) -> None:
    """Publishing answers each reader's report code with the outcome."""
    if report_ids:
        await enqueue(conn, new_event("ReportsResolved", story_id=str(story_id),
                                      report_ids=[str(i) for i in report_ids], outcome=outcome))


async def takedown(pool: asyncpg.Pool, story_id: uuid.UUID, moderator: Moderator, reason: str) -> None:
    """Unpublish an approved story: publishing deletes it (410) and the author's
    receipt shows the reason. Open reports on it are resolved. Raises Conflict
    when the story is not published (already taken down, or never approved)."""
    async with outbox.transaction(pool) as conn:
        done = await conn.fetchval(
            "UPDATE queue_items SET state = 'unpublished', unpublished_on = current_date, unpublished_by = $2,"
            " unpublished_reason = $3 WHERE story_id = $1 AND state = 'approved' RETURNING true",
            story_id, moderator.id, reason)
        if not done:
            state = await conn.fetchval("SELECT state FROM queue_items WHERE story_id = $1", story_id)
            raise Conflict(state)
        await enqueue(conn, new_event("StoryUnpublished", story_id=str(story_id), reason=reason))
        resolved = await conn.fetch(
            "UPDATE reports SET resolved_on = current_date, resolved_by = $2, resolution = 'taken_down'"
            " WHERE story_id = $1 AND resolved_on IS NULL RETURNING report_id", story_id, moderator.id)
        await _tell_reporters(conn, story_id, [r["report_id"] for r in resolved], "removed")
        await audit.record(conn, moderator.id, "story.unpublished", {"reason": reason}, story_id)


async def dismiss_reports(pool: asyncpg.Pool, story_id: uuid.UUID, moderator: Moderator, note: str | None) -> int:
    """Keep the story published and close its open reports. Returns how many."""
    async with outbox.transaction(pool) as conn:
        resolved = await conn.fetch(
            "UPDATE reports SET resolved_on = current_date, resolved_by = $2, resolution = 'dismissed'"
            " WHERE story_id = $1 AND resolved_on IS NULL RETURNING report_id", story_id, moderator.id)
        n = len(resolved)
        await _tell_reporters(conn, story_id, [r["report_id"] for r in resolved], "no_change")
        if n:
            await audit.record(conn, moderator.id, "reports.dismissed", {"reports": n, "reason": note}, story_id)
    return n
