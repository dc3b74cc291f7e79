"""Helpers to get a story onto the public feed the way a member and a moderator do."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.stack import Stack, wait_until


def unique(prefix: str = "") -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


_NO_DIGITS = str.maketrans("0123456789", "ghijklmnop")


def unique_letters(prefix: str = "") -> str:
    """`unique` without digits: for text the privacy check reads, where a hex suffix
    that happens to be all digits (about 2% of runs) is rightly taken for a phone
    number and adds a finding the test did not write."""
    return prefix + unique().translate(_NO_DIGITS)


def approve(stack: Stack, mod: httpx.Client, title: str, **decision: Any) -> str:
    """Wait for the story in the queue, approve it, wait until the feed shows it; its id."""
    item = wait_until(lambda: stack.queue_item(mod, title), 60, 0.2, f"{title!r} in the queue")
    r = mod.post(f"/api/queue/{item['id']}/decision", json={"decision": "approve"} | decision)
    assert r.status_code == 200, r.text
    wait_until(lambda: stack.published(title), 20, 0.1, f"{title!r} on the feed")
    return item["id"]


def reject(stack: Stack, mod: httpx.Client, title: str, reason: str) -> str:
    item = wait_until(lambda: stack.queue_item(mod, title), 60, 0.2, f"{title!r} in the queue")
    r = mod.post(f"/api/queue/{item['id']}/decision", json={"decision": "reject", "reason": reason})
    assert r.status_code == 200, r.text
    return item["id"]


def publish(stack: Stack, mod: httpx.Client, **story: Any) -> tuple[str, str]:
    """Submit through the JSON API and approve: (story id, receipt)."""
    receipt = stack.submit(**story)
    return approve(stack, mod, story["title"]), receipt
