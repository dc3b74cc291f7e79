"""Appeal with the receipt code alone (issue 14), end to end over HTTP: submission's
POST /api/receipts/appeal, the `appealed` queue state, a different moderator decides,
the receipt follows, the audit records both decisions."""

from __future__ import annotations

import httpx

from tests.e2e.moderation.mod_helpers import api_client, close_clients  # noqa: F401 - close_clients is a fixture
from tests.e2e.publishing.flow import reject, unique
from tests.stack import Stack, db_fetch, wait_until


def _appeal(stack: Stack, receipt: str, message: str = "It was my own street; I took the name out.") -> httpx.Response:
    return httpx.post(stack.url("submission", "/api/receipts/appeal"), json={"receipt": receipt, "message": message},
                      timeout=30)


def _rejected(stack: Stack, admin: httpx.Client, title: str, reason: str) -> tuple[str, str]:
    receipt = stack.submit(title=title, body="Tết on Lê Lợi street, the year I told my aunt about her.")
    sid = reject(stack, admin, title, reason)
    wait_until(lambda: stack.receipt_status(receipt)["status"] == "rejected", 20, what="rejected")
    return receipt, sid


def _appealed_item(mod: httpx.Client, sid: str) -> dict | None:
    r = mod.get("/api/queue", params={"state": "appealed"})
    assert r.status_code == 200, r.text
    return next((i for i in r.json()["items"] if i["id"] == sid), None)


def test_appeal_reaches_another_moderator_who_publishes_it(stack: Stack, admin: httpx.Client) -> None:
    title = unique("Appealed ")
    receipt, sid = _rejected(stack, admin, title, "Please leave out the street name.")
    assert _appeal(stack, "BR-00000-00000-00000-00000").status_code == 404
    assert _appeal(stack, receipt, "  ").status_code == 422
    r = _appeal(stack, receipt)
    assert r.status_code == 202 and r.json() == {"status": "appealed"}
    again = _appeal(stack, receipt)
    assert again.status_code == 409 and again.json()["reason"] == "already"
    assert stack.receipt_status(receipt)["status"] == "appealed"

    item = wait_until(lambda: _appealed_item(admin, sid), 20, what="appeal in the queue")
    assert item["state"] == "appealed" and item["title"] == title
    assert item["appeal"]["message"] == "It was my own street; I took the name out."
    assert item["appeal"]["first_decision"]["reason"] == "Please leave out the street name."
    # The moderator who rejected it cannot decide the appeal.
    same = admin.post(f"/api/queue/{sid}/decision", json={"decision": "approve"})
    assert same.status_code == 409 and "different moderator" in same.json()["error"]
    other = api_client(stack)
    ok = other.post(f"/api/queue/{sid}/decision", json={"decision": "approve"})
    assert ok.status_code == 200 and ok.json()["state"] == "approved"
    wait_until(lambda: stack.receipt_status(receipt)["status"] == "published", 20, what="published after appeal")
    wait_until(lambda: stack.published(title), 20, what="on the feed")
    actions = [r["action"] for r in db_fetch(
        stack.dsn, "SELECT action FROM moderation.audit_log WHERE story_id = $1::text::uuid ORDER BY id", sid)]
    assert actions == ["story.rejected", "story.appealed", "story.appeal_approved"]


def test_appeal_upheld_shows_the_new_reason_and_cannot_be_repeated(stack: Stack, admin: httpx.Client) -> None:
    title = unique("Upheld ")
    receipt, sid = _rejected(stack, admin, title, "Please leave out the street name.")
    assert _appeal(stack, receipt).status_code == 202
    wait_until(lambda: _appealed_item(admin, sid), 20, what="appeal in the queue")
    other = api_client(stack)
    r = other.post(f"/api/queue/{sid}/decision", json={"decision": "reject", "reason": "The street still names you."})
    assert r.status_code == 200
    status = wait_until(lambda: (s := stack.receipt_status(receipt))["status"] == "rejected" and s, 20,
                        what="upheld")
    assert status["reason"] == "The street still names you."
    assert _appeal(stack, receipt).status_code == 409


def test_appeal_only_for_a_rejection_and_in_time(stack: Stack, admin: httpx.Client) -> None:
    waiting = stack.submit(title=unique("Not yet decided "))
    r = _appeal(stack, waiting)
    assert r.status_code == 409 and r.json()["reason"] == "not_rejected"
    receipt, sid = _rejected(stack, admin, unique("Too late "), "Not for here.")
    db_fetch(stack.dsn, "UPDATE submission.stories SET status_changed_on = current_date - 31"
             " WHERE story_id = $1::text::uuid RETURNING 1", sid)
    late = _appeal(stack, receipt)
    assert late.status_code == 409 and late.json()["reason"] == "too_late"
