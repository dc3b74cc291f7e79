"""Submission's use cases, called by its routes: store a story, find it by receipt,
withdraw it, suggest tags."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass

import asyncpg

from services.submission import receipts
from services.submission.validation import StoryInput
from shared.events import new_event
from shared.outbox import enqueue, erase_story_events
from shared.taxonomy import is_theme


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
    code_hash = await receipts.hash_code(code)
    event = new_event("StorySubmitted", story_id=story_id, **asdict(story))
    async with pool.acquire() as conn, conn.transaction():
        # ON CONFLICT waits for a concurrent insert of the same code to commit or
        # roll back, so two copies of one retry cannot both be stored.
        stored = await conn.fetchval(
            "INSERT INTO stories (story_id, receipt_lookup, receipt_hash, title, body, pen_name, tags,"
            " content_warnings, prompt_id, in_response_to, lang, translation, glossary)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
            " ON CONFLICT (receipt_lookup) DO NOTHING RETURNING story_id",
            story_id, receipts.lookup_key(code), code_hash, story.title, story.body, story.pen_name,
            story.tags, story.content_warnings, story.prompt_id, story.in_response_to, story.lang,
            story.translation, story.glossary)
        if stored is not None:
            await enqueue(conn, event)
            return Submitted(code, "received", replayed=False)
        row = await conn.fetchrow("SELECT receipt_hash, status, title, body FROM stories WHERE receipt_lookup = $1",
                                  receipts.lookup_key(code))
    if row is not None and (row["title"], row["body"]) == (story.title, story.body) \
            and await receipts.verify(row["receipt_hash"], code):
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
    """The story a receipt belongs to, or None; every wrong code costs the same."""
    code = receipts.normalise(raw_code) if isinstance(raw_code, str) else None
    if code is None:
        return None
    row = await pool.fetchrow(
        "SELECT story_id, receipt_hash, status, reason FROM stories WHERE receipt_lookup = $1",
        receipts.lookup_key(code))
    if row is None:
        # Spend the same time as a real check so timing does not reveal which
        # lookup keys exist.
        await receipts.verify(_DUMMY_HASH, code)
        return None
    return row if await receipts.verify(row["receipt_hash"], code) else None


_DUMMY_HASH = receipts._HASHER.hash("BR-00000-00000-00000-00000")


async def withdraw(pool: asyncpg.Pool, story_id: uuid.UUID) -> bool:
    """Delete the story's content here, keep a tombstone so the receipt still
    answers `withdrawn`, and tell the other services to delete their copies."""
    async with pool.acquire() as conn, conn.transaction():
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
