"""Reports with an outcome (issue 14): the report returns a short code, and
/reports/{code} says "received", then "reviewed — no change" or "— story removed".
The code is not stored; nothing about the reader is."""

from __future__ import annotations

import httpx

from tests.e2e.publishing.flow import publish, unique
from tests.stack import Stack, db_fetch, wait_until


def _report(stack: Stack, sid: str, **body: str) -> httpx.Response:
    return httpx.post(stack.url("publishing", f"/api/stories/{sid}/reports"), json=body, timeout=10)


def _outcome(stack: Stack, code: str) -> str:
    r = httpx.get(stack.url("publishing", f"/api/reports/{code}"), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["outcome"]


def test_report_code_follows_dismissal_and_takedown(stack: Stack, admin: httpx.Client) -> None:
    sid, _ = publish(stack, admin, title=unique("Reported twice "))
    r = _report(stack, sid, kind="missing_warning", reason="It talks about self-harm without a warning.")
    assert r.status_code == 202
    code = r.json()["report"]
    assert code.startswith("RP-") and r.json()["outcome_url"] == f"/reports/{code}"
    assert _outcome(stack, code) == "received"
    assert _outcome(stack, code.lower().replace("-", " ")) == "received"  # typed loosely
    page = httpx.get(stack.url("publishing", f"/reports/{code}"), timeout=10)
    assert page.status_code == 200 and "Received" in page.text
    assert httpx.get(stack.url("publishing", "/reports/RP-00000-00000"), timeout=10).status_code == 404
    # The code itself is stored nowhere.
    for schema in ("publishing", "moderation"):
        assert not db_fetch(stack.dsn, f"SELECT 1 FROM {schema}.outbox WHERE payload::text LIKE $1", f"%{code}%")
    # The moderators read the chosen kind with the reader's words.
    wait_until(lambda: db_fetch(stack.dsn, "SELECT reason FROM moderation.reports WHERE story_id = $1::text::uuid",
                                sid), 20, what="report in moderation")
    reason = db_fetch(stack.dsn, "SELECT reason FROM moderation.reports WHERE story_id = $1::text::uuid", sid)[0]
    assert reason["reason"].startswith("Missing content warning: ")

    dismiss = admin.get("/queue?state=reported")
    assert dismiss.status_code == 200
    import re

    token = re.search(r'name="csrf" value="([^"]+)"', dismiss.text).group(1)
    assert admin.post(f"/queue/{sid}/dismiss", data={"csrf": token}).status_code in (200, 303)
    wait_until(lambda: _outcome(stack, code) == "no_change", 20, what="no change")

    second = _report(stack, sid, kind="identifies")
    assert second.status_code == 202
    code2 = second.json()["report"]
    wait_until(lambda: db_fetch(stack.dsn, "SELECT 1 FROM moderation.reports WHERE story_id = $1::text::uuid"
                                " AND resolved_on IS NULL", sid), 20, what="second report")
    assert admin.post(f"/api/queue/{sid}/takedown", json={"reason": "It names a school."}).status_code == 200
    wait_until(lambda: _outcome(stack, code2) == "removed", 20, what="removed")
    assert _outcome(stack, code) == "no_change"


def test_report_needs_a_kind_or_words(stack: Stack, admin: httpx.Client) -> None:
    sid, _ = publish(stack, admin, title=unique("Report kinds "))
    assert _report(stack, sid).status_code == 422
    assert _report(stack, sid, kind="nonsense").status_code == 422
    assert _report(stack, sid, kind="other").status_code == 422
    assert _report(stack, sid, kind="spam").status_code == 202
