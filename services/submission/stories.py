"""Submission's use cases, called by its routes: store a story, find it by receipt,
withdraw it, suggest tags."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass

import asyncpg

from services.submission import receipts
from services.submission.validation import StoryInput
from shared import outbox, relaywake
from shared.events import new_event
from shared.i18n import gettext_later
from shared.outbox import enqueue, erase_story_events
from shared.taxonomy import CONTENT_WARNINGS, is_theme


class KeyReused(Exception):
    """A submission key that already stands for a different story."""


@dataclass(frozen=True)
class Submitted:
    code: str
    status: str
    replayed: bool  # the key's story was already stored: nothing new was stored


async def submit_story(pool: asyncpg.Pool, story: StoryInput, code: str | None = None) -> Submitted:
    """Store the story and its StorySubmitted event in one transaction; return the
    receipt code (the only time it exists in clear).

    `code` comes from a submission key (receipts.code_for_key): if a story with it
    is already stored, this is a retry and nothing new is stored; if that story is
    a different one, KeyReused."""
    story_id = str(uuid.uuid4())
    code = code or receipts.new_code()
    event = new_event("StorySubmitted", story_id=story_id, **asdict(story))
    async with pool.acquire() as conn:
        # The story row and its outbox row in ONE statement (one round trip, atomic
        # without BEGIN/COMMIT): the event is written only if the story was. ON
        # CONFLICT waits for a concurrent insert of the same code to commit or roll
        # back, so two copies of one retry cannot both be stored.
        stored = await conn.fetchval(
            "WITH story AS (INSERT INTO stories (story_id, receipt_digest, title, body, pen_name, tags,"
            " content_warnings, prompt_id, in_response_to, lang, translation, glossary)"
            " VALUES ($5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
            " ON CONFLICT (receipt_digest) DO NOTHING RETURNING story_id),"
            f" event AS (INSERT INTO outbox ({outbox.COLUMNS}) SELECT $1, $2, {outbox.PAYLOAD}, $4 FROM story)"
            " SELECT story_id FROM story",
            *outbox.row(event), story_id, receipts.digest(code), story.title, story.body, story.pen_name,
            story.tags, story.content_warnings, story.prompt_id, story.in_response_to, story.lang,
            story.translation, story.glossary)
        if stored is not None:
            relaywake.committed(pool)  # the statement has committed: this process's relay sends it now
            return Submitted(code, "received", replayed=False)
        row = await conn.fetchrow("SELECT status, title, body FROM stories WHERE receipt_digest = $1",
                                  receipts.digest(code))
    if row is not None and (row["title"], row["body"]) == (story.title, story.body):
        return Submitted(code, row["status"], replayed=True)
    raise KeyReused


async def tag_suggestions(pool: asyncpg.Pool, limit: int = 30) -> list[str]:
    """Heritage tags of published stories, most used first, for the form to offer.

    Submission may not read publishing's tables, but its own `stories` rows follow
    each story through events (status `published` after StoryApproved, text and tags
    erased on withdrawal, `rejected` after a takedown), so published tags are already
    here. Only published stories count: a rejected story's tags never reach anyone.
    """
    rows = await pool.fetch(
        "SELECT min(t) AS tag, count(*) AS n FROM stories, unnest(tags) AS t"
        " WHERE status = 'published' GROUP BY lower(t) ORDER BY n DESC, lower(min(t)) LIMIT $1", limit * 2)
    return [r["tag"] for r in rows if not is_theme(r["tag"])][:limit]


async def find_by_receipt(pool: asyncpg.Pool, raw_code: object) -> asyncpg.Record | None:
    """The story a receipt belongs to, or None: one index probe on the code's digest.

    A row stored before the digest (its code's first half in clear, the whole code
    argon2id-hashed) is verified the old way and moved to the digest, so only a code
    whose first half matches such a row ever costs a slow hash."""
    code = receipts.normalise(raw_code) if isinstance(raw_code, str) else None
    if code is None:
        return None
    row = await pool.fetchrow("SELECT story_id, status, reason FROM stories WHERE receipt_digest = $1",
                              receipts.digest(code))
    if row is not None:
        return row
    legacy = await pool.fetchrow(
        "SELECT story_id, receipt_hash FROM stories WHERE receipt_lookup = $1 AND receipt_digest IS NULL",
        receipts.lookup_key(code))
    if legacy is None or not await receipts.verify(legacy["receipt_hash"], code):
        return None
    return await pool.fetchrow(
        "UPDATE stories SET receipt_digest = $2, receipt_lookup = NULL, receipt_hash = NULL"
        " WHERE story_id = $1 RETURNING story_id, status, reason", legacy["story_id"], receipts.digest(code))


async def withdraw(pool: asyncpg.Pool, story_id: uuid.UUID) -> bool:
    """Delete the story's content here, keep a tombstone so the receipt still
    answers `withdrawn`, and tell the other services to delete their copies."""
    async with outbox.transaction(pool) as conn:
        status = await conn.fetchval("SELECT status FROM stories WHERE story_id = $1 FOR UPDATE", story_id)
        if status is None or status == "withdrawn":
            return False
        await conn.execute(
            "UPDATE stories SET status = 'withdrawn', title = NULL, body = NULL, pen_name = NULL,"
            " tags = '{}', content_warnings = '{}', reason = NULL, status_changed_on = current_date,"
            " prompt_id = NULL, in_response_to = NULL, lang = NULL, translation = NULL, glossary = '[]'"
            " WHERE story_id = $1", story_id)
        await conn.execute("UPDATE stories SET in_response_to = NULL WHERE in_response_to = $1", story_id)
        # Events already sent hold the text in our outbox and in the stream: erase both.
        await erase_story_events(conn, [story_id])
        await enqueue(conn, new_event("StoryWithdrawn", story_id=str(story_id)))
    return True


# Statuses whose text the receipt holder may read back: the story is still hers to
# keep and resend. Never after withdrawal or purge (the text is gone), and not once
# published (it is on the stories page).
TEXT_VISIBLE = ("received", "in_review", "rejected", "appealed")


async def story_text(pool: asyncpg.Pool, story_id: uuid.UUID) -> asyncpg.Record | None:
    """Title, text and labels of a story the receipt holder may read back, or None."""
    row = await pool.fetchrow(
        "SELECT status, title, body, pen_name, tags, content_warnings, appealed, taken_down FROM stories"
        " WHERE story_id = $1",
        story_id)
    if row is None or row["status"] not in TEXT_VISIBLE or row["title"] is None or row["body"] is None:
        return None
    return row


def resend_state(row: asyncpg.Record) -> dict[str, object]:
    """The form's fields prefilled from a stored story (for "Edit and send again")."""
    themes = [t for t in row["tags"] if is_theme(t)]
    known_cw = {c.casefold() for c in CONTENT_WARNINGS}
    return {
        "title": row["title"], "body": row["body"], "pen_name": row["pen_name"] or "",
        "heritage": ", ".join(t for t in row["tags"] if not is_theme(t)),
        "themes": tuple(themes),
        "cw": tuple(c for c in row["content_warnings"] if c.casefold() in known_cw),
        "cw_other": ", ".join(c for c in row["content_warnings"] if c.casefold() not in known_cw),
    }


APPEAL_MESSAGE_MAX = 2000


class AppealRefused(Exception):
    """Why an appeal cannot be filed: `not_rejected`, `already`, `too_late`, or
    `taken_down` (published, then taken down: not appealable here)."""

    MESSAGES = {
        "not_rejected": gettext_later("Only a story that was not published can be appealed."),
        "already": gettext_later("This rejection was already appealed; each rejection can be appealed once."),
        "taken_down": gettext_later(
            "A story taken down after it was published cannot be appealed; you are welcome to edit it and send it "
            "again."),
        "too_late": gettext_later(
            "The time to appeal this rejection has passed; you are welcome to edit and send it again."),
    }

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why
        self.message = self.MESSAGES[why]  # for the member, in her language on the page


async def appeal(pool: asyncpg.Pool, story_id: uuid.UUID, message: str, days: int) -> None:
    """File the author's appeal of a rejection: once per story, within `days` of the
    rejection; the receipt then says `appealed` and moderation gets StoryAppealed."""
    async with outbox.transaction(pool) as conn:
        row = await conn.fetchrow(
            "SELECT status, appealed, taken_down, status_changed_on >= current_date - $2::int AS in_time FROM stories"
            " WHERE story_id = $1 FOR UPDATE", story_id, days)
        if row is not None and row["taken_down"]:
            raise AppealRefused("taken_down")
        if row is None or row["status"] != "rejected":
            raise AppealRefused("already" if row is not None and row["appealed"] else "not_rejected")
        if row["appealed"]:
            raise AppealRefused("already")
        if not row["in_time"]:
            raise AppealRefused("too_late")
        await conn.execute("UPDATE stories SET status = 'appealed', appealed = true, status_changed_on = current_date"
                           " WHERE story_id = $1", story_id)
        await enqueue(conn, new_event("StoryAppealed", story_id=str(story_id), message=message))
