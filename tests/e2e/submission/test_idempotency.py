"""Idempotency-Key on POST /api/stories over real HTTP: a retry whose first answer was
lost stores nothing new and gets the same receipt; a reused key for another story
is refused; a malformed key is a clear 400."""

from __future__ import annotations

import concurrent.futures
import uuid

import httpx

from tests.stack import Stack, db_fetch, wait_until


def _post(stack: Stack, story: dict, key: str | bytes | None) -> httpx.Response:
    # Bytes: a header may carry non-ASCII octets, and this test sends some.
    headers = {"Idempotency-Key": key.encode() if isinstance(key, str) else key} if key is not None else {}
    return httpx.post(stack.url("submission", "/api/stories"), json=story, headers=headers, timeout=30)


def _stored(stack: Stack, title: str) -> int:
    return len(db_fetch(stack.dsn, "SELECT 1 FROM submission.stories WHERE title = $1", title))


def test_a_retry_with_the_same_key_stores_one_story(stack: Stack) -> None:
    title = f"Idempotent {uuid.uuid4().hex[:8]}"
    story = {"title": title, "body": "Sent once, answered never, sent again."}
    key = uuid.uuid4().hex + uuid.uuid4().hex
    with concurrent.futures.ThreadPoolExecutor(4) as pool:  # at once, as a client retrying on a timeout might
        answers = list(pool.map(lambda _: _post(stack, story, key), range(4)))
    assert [r.status_code for r in answers] == [202] * 4, [r.text for r in answers]
    assert len({r.json()["receipt"] for r in answers}) == 1
    assert _stored(stack, title) == 1
    wait_until(lambda: db_fetch(stack.dsn, "SELECT 1 FROM moderation.queue_items WHERE title = $1", title), 60, 0.2,
               "the story queued")
    later = _post(stack, story, key)
    assert later.status_code == 202 and later.json()["receipt"] == answers[0].json()["receipt"]
    assert later.json()["status"] in ("received", "in_review")  # the story's real status now
    assert len(db_fetch(stack.dsn, "SELECT 1 FROM moderation.queue_items WHERE title = $1", title)) == 1
    assert stack.receipt_status(later.json()["receipt"])["status"] in ("received", "in_review")


def test_a_key_reused_for_another_story_is_refused(stack: Stack) -> None:
    key = uuid.uuid4().hex + uuid.uuid4().hex
    title = f"Key reuse {uuid.uuid4().hex[:8]}"
    assert _post(stack, {"title": title, "body": "The first story under this key."}, key).status_code == 202
    again = _post(stack, {"title": title, "body": "A second, different story, same key."}, key)
    assert again.status_code == 409
    assert "new key" in again.json()["errors"]["idempotency_key"]
    assert _stored(stack, title) == 1


def test_malformed_keys_are_a_clear_400_and_store_nothing(stack: Stack) -> None:
    title = f"Bad key {uuid.uuid4().hex[:8]}"
    # Under 128 bits: too short (the 16 characters once accepted), or a pattern.
    for key in ("short", "x" * 201, "spaces are not allowed here", "ключ-ключ-ключ-ключ", "aaaaaaaaaaaaaaaa",
                "Ab3-Ab3-Ab3-Ab3_Ab3", "a" * 40, "ab" * 20):
        r = _post(stack, {"title": title, "body": "This should not be stored at all."}, key)
        assert r.status_code == 400, (key, r.status_code)
        assert "Idempotency-Key must be" in r.json()["errors"]["idempotency_key"]
    assert _stored(stack, title) == 0
