"""Receipts are stored as a SHA-256 of the whole code and found with one index
probe, no slow hash; rows stored the old way (half the code in clear, argon2id of
the whole) keep working and move to the digest at their first look-up."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from pathlib import Path

import pytest

from services.submission import receipts, stories
from services.submission.validation import StoryInput
from shared.db import create_pool, migrate, migration_files

SUBMISSION_DIR = Path(stories.__file__).parent


def _story(title: str) -> StoryInput:
    return StoryInput(title=title, body="A story about receipts and how they are kept.", pen_name=None,
                      tags=[], content_warnings=[])


def test_new_codes_are_kept_only_as_a_digest_and_old_rows_keep_working(pg_dsn: str, monkeypatch) -> None:
    schema = f"receipts_{uuid.uuid4().hex[:8]}"
    files = migration_files(SUBMISSION_DIR)
    before = [f for f in files if not f.name.startswith("120_")]
    assert len(before) < len(files)
    slow_hashes: list[str] = []
    real_verify = receipts.verify

    async def counting_verify(stored: str, code: str) -> bool:
        slow_hashes.append(code)
        return await real_verify(stored, code)

    monkeypatch.setattr(receipts, "verify", counting_verify)

    async def go() -> None:
        # A row stored before the digest existed: first half in clear, argon2id of the whole.
        await migrate(pg_dsn, schema, before)
        pool = await create_pool(pg_dsn, schema, max_size=2)
        try:
            old_code, old_id = receipts.new_code(), uuid.uuid4()
            await pool.execute(
                "INSERT INTO stories (story_id, receipt_lookup, receipt_hash, title, body)"
                " VALUES ($1, $2, $3, 'old', 'old body')",
                old_id, receipts.lookup_key(old_code), receipts._HASHER.hash(old_code))
        finally:
            await pool.close()
        await migrate(pg_dsn, schema, files)
        pool = await create_pool(pg_dsn, schema, max_size=2)
        try:
            # New stories: only the digest of the whole code; nothing of the code in clear.
            done = await stories.submit_story(pool, _story("new"))
            row = await pool.fetchrow("SELECT * FROM stories WHERE title = 'new'")
            assert row["receipt_lookup"] is None and row["receipt_hash"] is None
            assert bytes(row["receipt_digest"]) == hashlib.sha256(
                b"braided-receipt-lookup\x00" + done.code.encode()).digest()
            assert not any(part in str(dict(row)) for part in done.code.split("-")[1:])
            found = await stories.find_by_receipt(pool, done.code.lower())
            assert found is not None and found["story_id"] == row["story_id"]
            # Wrong codes: a miss on the index, never a slow hash.
            for _ in range(20):
                assert await stories.find_by_receipt(pool, receipts.new_code()) is None
            assert slow_hashes == []
            # A submission key's retry lands on the same story.
            code = receipts.code_for_key("k", "retry-key-" + "x" * 20)
            first = await stories.submit_story(pool, _story("keyed"), code)
            again = await stories.submit_story(pool, _story("keyed"), code)
            assert again.replayed and again.code == first.code
            with pytest.raises(stories.KeyReused):
                await stories.submit_story(pool, _story("another"), code)

            # The old row still answers its code (one slow hash), and moves to the digest.
            found = await stories.find_by_receipt(pool, old_code)
            assert found is not None and found["story_id"] == old_id and len(slow_hashes) == 1
            moved = await pool.fetchrow("SELECT * FROM stories WHERE story_id = $1", old_id)
            assert moved["receipt_lookup"] is None and moved["receipt_hash"] is None
            assert bytes(moved["receipt_digest"]) == receipts.digest(old_code)
            assert (await stories.find_by_receipt(pool, old_code))["story_id"] == old_id
            assert len(slow_hashes) == 1
        finally:
            await pool.execute(f'DROP SCHEMA "{schema}" CASCADE')
            await pool.close()

    asyncio.run(go())
