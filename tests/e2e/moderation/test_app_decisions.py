"""Decisions over real HTTP: races, bulk, takedowns, reader reports, reasons
the author sees."""

from __future__ import annotations

import threading
import uuid

import httpx

from shared.events import new_event
from tests.e2e.moderation.mod_helpers import api_client, close_clients, csrf, file_item, html_login, new_moderator  # noqa: F401 - close_clients is a fixture
from tests.stack import Stack, db_fetch, publish_raw, wait_until


def test_two_moderators_deciding_at_once_exactly_one_wins(stack: Stack) -> None:
    a, b = api_client(stack), api_client(stack)
    for round_ in range(6):
        sid, _ = file_item(stack)
        barrier = threading.Barrier(2)
        results: dict[str, httpx.Response] = {}

        def go(name: str, client: httpx.Client, body: dict, sid: str = sid, barrier: threading.Barrier = barrier,
               results: dict[str, httpx.Response] = results) -> None:
            barrier.wait()
            results[name] = client.post(f"/api/queue/{sid}/decision", json=body)

        threads = [threading.Thread(target=go, args=("a", a, {"decision": "approve"})),
                   threading.Thread(target=go, args=("b", b, {"decision": "reject", "reason": "Not for here."}))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        codes = sorted(r.status_code for r in results.values())
        assert codes == [200, 409], (round_, {k: (r.status_code, r.text) for k, r in results.items()})
        loser = next(r for r in results.values() if r.status_code == 409)
        assert "Another moderator already" in loser.json()["error"]
        winner = next(r for r in results.values() if r.status_code == 200).json()["state"]
        assert loser.json()["state"] == winner
        # Exactly one decision was recorded and one event sent.
        audit = db_fetch(stack.dsn, "SELECT action FROM moderation.audit_log WHERE story_id = $1", uuid.UUID(sid))
        assert len(audit) == 1
        events = db_fetch(stack.dsn, "SELECT subject FROM moderation.outbox WHERE story_id = $1", uuid.UUID(sid))
        assert len(events) == 1


def test_second_decision_through_the_form_gets_a_clear_409(stack: Stack) -> None:
    first, second = html_login(stack, new_moderator(stack)), html_login(stack, new_moderator(stack))
    sid, _ = file_item(stack)
    r = first.post(f"/queue/{sid}/decision", data={"csrf": csrf(first), "decision": "approve"})
    assert r.status_code == 303
    r = second.post(f"/queue/{sid}/decision", data={"csrf": csrf(second), "decision": "reject", "reason": "x"})
    assert r.status_code == 409
    assert "Another moderator already approved this story; nothing was changed." in r.text


def test_form_without_csrf_token_is_refused(stack: Stack) -> None:
    client = html_login(stack, new_moderator(stack))
    sid, _ = file_item(stack)
    r = client.post(f"/queue/{sid}/decision", data={"decision": "approve"})
    assert r.status_code == 400 and "expired" in r.text
    r = client.post(f"/queue/{sid}/decision", data={"csrf": "forged-token", "decision": "approve"})
    assert r.status_code == 400
    assert db_fetch(stack.dsn, "SELECT state FROM moderation.queue_items WHERE story_id = $1",
                    uuid.UUID(sid))[0]["state"] == "pending"


def test_reject_with_template_reason_reaches_the_receipt(stack: Stack) -> None:
    client = html_login(stack, new_moderator(stack))
    title = f"Template reason {uuid.uuid4().hex[:6]}"
    receipt = stack.submit(title=title, body="A story that will be turned down kindly, for the test.")
    mod = api_client(stack)
    item = wait_until(lambda: stack.queue_item(mod, title), 30, what="story in the queue")
    template = db_fetch(stack.dsn, "SELECT id, body FROM moderation.reason_templates WHERE title = 'Off topic'")[0]
    r = client.post(f"/queue/{item['id']}/decision",
                    data={"csrf": csrf(client), "decision": "reject", "template": str(template["id"]), "reason": ""})
    assert r.status_code == 303
    status = wait_until(lambda: (s := stack.receipt_status(receipt))["status"] == "rejected" and s, 15,
                        what="receipt rejected")
    assert status["reason"] == template["body"]


def test_reject_needs_a_reason(stack: Stack) -> None:
    mod = api_client(stack)
    sid, _ = file_item(stack)
    r = mod.post(f"/api/queue/{sid}/decision", json={"decision": "reject"})
    assert r.status_code == 422 and "reason" in r.json()["errors"]


def test_approve_with_content_warnings_and_new_tags(stack: Stack) -> None:
    client = html_login(stack, new_moderator(stack))
    title = f"Tags adjusted {uuid.uuid4().hex[:6]}"
    stack.submit(title=title, body="Moon cakes and a quiet argument at the table.", tags=["food"])
    mod = api_client(stack)
    item = wait_until(lambda: stack.queue_item(mod, title), 30, what="story in the queue")
    r = client.post(f"/queue/{item['id']}/decision", data={
        "csrf": csrf(client), "decision": "approve", "content_warnings": "family conflict",
        "tags": "Chinese, food, festivals"})
    assert r.status_code == 303
    story = wait_until(lambda: stack.published(title), 15, what="published")
    assert story["tags"] == ["Chinese", "food", "festivals"]
    assert "family conflict" in story["content_warnings"]


def test_bulk_approve_and_reject_from_the_list(stack: Stack) -> None:
    client = html_login(stack, new_moderator(stack))
    ids = [file_item(stack)[0] for _ in range(3)]
    other = api_client(stack)
    assert other.post(f"/api/queue/{ids[2]}/decision", json={"decision": "approve"}).status_code == 200
    r = client.post("/queue/bulk", data={"csrf": csrf(client), "decision": "reject", "ids": ids,
                                         "reason": "Please share it again without the names.", "next": "/queue"})
    assert r.status_code == 303
    assert "2+stories+rejected" in r.headers["location"] and "1+had+already+been+decided" in r.headers["location"]
    states = {str(r["story_id"]): r["state"] for r in db_fetch(
        stack.dsn, "SELECT story_id, state FROM moderation.queue_items WHERE story_id = ANY($1::uuid[])",
        [uuid.UUID(i) for i in ids])}
    assert states == {ids[0]: "rejected", ids[1]: "rejected", ids[2]: "approved"}
    page = client.get(r.headers["location"])
    assert "2 stories rejected." in page.text
    # Nothing selected: a clear message, not a 500.
    r = client.post("/queue/bulk", data={"csrf": csrf(client), "decision": "approve"})
    assert r.status_code == 422 and "Select at least one story" in r.text


def test_takedown_removes_the_story_and_tells_the_author(stack: Stack) -> None:
    mod = api_client(stack)
    title = f"Taken down later {uuid.uuid4().hex[:6]}"
    receipt = stack.submit(title=title, body="A story that is published and then taken down.")
    item = wait_until(lambda: stack.queue_item(mod, title), 30, what="story in the queue")
    assert mod.post(f"/api/queue/{item['id']}/decision", json={"decision": "approve"}).status_code == 200
    wait_until(lambda: stack.published(title), 15, what="published")
    assert httpx.get(stack.url("publishing", f"/stories/{item['id']}"), timeout=10).status_code == 200

    client = html_login(stack, new_moderator(stack))
    reason = "It names a real person; please share it again without the name."
    r = client.post(f"/queue/{item['id']}/takedown", data={"csrf": csrf(client), "reason": reason,
                                                           "next": f"/queue/{item['id']}"})
    assert r.status_code == 303
    wait_until(lambda: httpx.get(stack.url("publishing", f"/stories/{item['id']}"), timeout=10).status_code == 410,
               15, what="410 from publishing")
    status = wait_until(lambda: (s := stack.receipt_status(receipt))["status"] == "rejected" and s, 15,
                        what="receipt shows the takedown")
    assert status["reason"] == reason
    audit = db_fetch(stack.dsn, "SELECT action, detail FROM moderation.audit_log WHERE story_id = $1 ORDER BY id",
                     uuid.UUID(item["id"]))
    assert [a["action"] for a in audit] == ["story.approved", "story.unpublished"]
    # A second takedown: 409 with a clear message.
    again = mod.post(f"/api/queue/{item['id']}/takedown", json={"reason": "again"})
    assert again.status_code == 409 and "took down" in again.json()["error"]
    # It is listed under "Taken down" with its reason.
    page = client.get("/queue?state=unpublished")
    assert title in page.text and "Taken down: It names a real person" in page.text


def test_takedown_of_a_pending_story_is_refused(stack: Stack) -> None:
    mod = api_client(stack)
    sid, _ = file_item(stack)
    r = mod.post(f"/api/queue/{sid}/takedown", json={"reason": "no"})
    assert r.status_code == 409 and "not been decided" in r.json()["error"]
    r = mod.post(f"/api/queue/{sid}/takedown", json={})
    assert r.status_code == 422


def test_reader_report_lands_in_the_reported_queue(stack: Stack) -> None:
    mod = api_client(stack)
    sid, title = file_item(stack, state="approved")
    db_fetch(stack.dsn, "UPDATE moderation.queue_items SET decided_on = current_date WHERE story_id = $1 RETURNING 1",
             uuid.UUID(sid))
    reason = f"This names my cousin's school {uuid.uuid4().hex[:6]}"
    event = new_event("StoryReported", story_id=sid, report_id=str(uuid.uuid4()), reason=reason)
    payload = {"id": event.id, "type": event.type, "version": event.version, "occurred_on": event.occurred_on,
               "data": event.data}
    publish_raw(stack.nats_admin_url, event.subject, payload, event.id)
    publish_raw(stack.nats_admin_url, event.subject, payload, event.id + "-redelivered")  # handled once

    def reported() -> dict | None:
        r = mod.get("/api/queue", params={"state": "reported"})
        return next((i for i in r.json()["items"] if i["id"] == sid), None)

    item = wait_until(reported, 15, what="story in the reported queue")
    assert item["title"] == title and item["reports"] == [reason]
    client = html_login(stack, new_moderator(stack))
    page = client.get("/queue?state=reported")
    assert reason.replace("'", "&#39;") in page.text and "Keep it published" in page.text
    r = client.post(f"/queue/{sid}/dismiss", data={"csrf": csrf(client), "next": "/queue?state=reported"})
    assert r.status_code == 303
    assert reported() is None
    assert db_fetch(stack.dsn, "SELECT count(*) AS n FROM moderation.audit_log WHERE story_id = $1"
                    " AND action = 'reports.dismissed'", uuid.UUID(sid))[0]["n"] == 1
