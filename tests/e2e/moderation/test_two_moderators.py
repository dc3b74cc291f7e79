"""REJECT_CONFIRMATIONS=2 (issue 14), end to end over HTTP: a second moderation web
app with the setting, on the same database and NATS as the test stack (its
consumers share the durable `moderation-*` consumers with the stack's own app)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.moderation.mod_helpers import PASSWORD, new_moderator
from tests.e2e.publishing.flow import unique
from tests.stack import REPO, Stack, db_fetch, free_port, wait_until


@pytest.fixture(scope="module")
def two_step(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("two-step") / "moderation.log"
    env = stack.env_as("moderation") | {"MODERATION_PORT": str(port), "REJECT_CONFIRMATIONS": "2"}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "braided", "serve", "moderation"], env=env, cwd=REPO,
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
        try:
            return httpx.get(url + "/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(healthy, 90, 0.3, "second moderation app")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _client(stack: Stack, url: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=15)
    r = client.post("/api/session", json={"username": new_moderator(stack), "password": PASSWORD})
    assert r.status_code == 200, r.text
    return client


def _queued(stack: Stack, title: str) -> str:
    return str(wait_until(lambda: db_fetch(stack.dsn, "SELECT story_id FROM moderation.queue_items WHERE title = $1",
                                           title), 60, 0.2, "story in the queue")[0]["story_id"])


def test_a_rejection_waits_for_a_second_moderator(stack: Stack, two_step: str) -> None:
    first, second = _client(stack, two_step), _client(stack, two_step)
    try:
        title = unique("Two to reject ")
        receipt = stack.submit(title=title)
        sid = _queued(stack, title)
        r = first.post(f"/api/queue/{sid}/decision", json={"decision": "reject", "reason": "Names a school."})
        assert r.status_code == 200 and r.json()["state"] == "awaiting_confirmation"
        waiting = first.get("/api/queue", params={"state": "awaiting_confirmation"}).json()["items"]
        item = next(i for i in waiting if i["id"] == sid)
        assert item["proposed"]["reason"] == "Names a school."
        assert stack.receipt_status(receipt)["status"] in ("received", "in_review")  # nothing sent yet
        same = first.post(f"/api/queue/{sid}/decision", json={"decision": "reject", "reason": "Names a school."})
        assert same.status_code == 409
        ok = second.post(f"/api/queue/{sid}/decision", json={"decision": "reject", "reason": "Names a school."})
        assert ok.status_code == 200 and ok.json()["state"] == "rejected"
        status = wait_until(lambda: (s := stack.receipt_status(receipt))["status"] == "rejected" and s, 20,
                            what="rejected")
        assert status["reason"] == "Names a school."
        actions = [a["action"] for a in db_fetch(
            stack.dsn, "SELECT action FROM moderation.audit_log WHERE story_id = $1 ORDER BY id", uuid.UUID(sid))]
        assert actions == ["story.rejection_proposed", "story.rejection_confirmed"]

        title2 = unique("Overturned ")
        receipt2 = stack.submit(title=title2)
        sid2 = _queued(stack, title2)
        assert first.post(f"/api/queue/{sid2}/decision",
                          json={"decision": "reject", "reason": "Too raw."}).status_code == 200
        back = second.post(f"/api/queue/{sid2}/decision", json={"decision": "approve"})
        assert back.status_code == 200 and back.json()["state"] == "approved"
        wait_until(lambda: stack.receipt_status(receipt2)["status"] == "published", 20, what="published")
    finally:
        first.close()
        second.close()
