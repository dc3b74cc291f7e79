"""One story travels form → screen → queue → approve → feed, on real servers."""

from __future__ import annotations

import html
import re
import time
import uuid
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from tests.stack import Stack, wait_until


def _post_through_form(stack: Stack, title: str, body: str, tags: str) -> str:
    with httpx.Client(base_url=stack.url("submission"), timeout=30) as browser:
        form = browser.get("/")
        assert form.status_code == 200
        key = re.search(r'name="submission_key" value="([^"]+)"', form.text).group(1)
        r = browser.post("/stories", data={"submission_key": key, "title": title, "body": body, "tags": tags})
        assert r.status_code == 201, r.text
        receipt = re.search(r'id="receipt">([^<]+)<', r.text).group(1)
        assert receipt not in str(r.url)  # never in a URL
        return receipt


def _approve_and_publish(stack: Stack, mod: httpx.Client, title: str, receipt: str) -> dict:
    item = wait_until(lambda: stack.queue_item(mod, title), 30, what="story in the queue")
    wait_until(lambda: stack.receipt_status(receipt)["status"] == "in_review", 10, what="receipt in_review")
    approved_at = time.monotonic()
    r = mod.post(f"/api/queue/{item['id']}/decision", json={"decision": "approve"})
    assert r.status_code == 200, r.text
    story = wait_until(lambda: stack.published(title), 5, 0.05, "story on the feed")
    item["feed_latency"] = time.monotonic() - approved_at
    assert story["id"] == item["id"]
    feed = httpx.get(stack.url("publishing", "/"), timeout=10).text
    assert title in html.unescape(feed)
    wait_until(lambda: stack.receipt_status(receipt)["status"] == "published", 10, what="receipt published")
    # A second decision on the same item is refused.
    again = mod.post(f"/api/queue/{item['id']}/decision", json={"decision": "reject", "reason": "late"})
    assert again.status_code == 409
    return item


@pytest.mark.slow
def test_fresh_embedded_stack_without_model(tmp_path_factory: pytest.TempPathFactory) -> None:
    """`braided run` with neither DATABASE_URL nor NATS_URL: embedded servers. No
    model can be loaded here, so the story is filed `unscreened` and /healthz says
    the screen is degraded while the service stays healthy."""
    data_dir = tmp_path_factory.mktemp("fresh")
    stack = Stack(data_dir, {"DETOXIFY_CHECKPOINT": str(data_dir / "missing.ckpt")})
    try:
        stack.start()
        assert (data_dir / "pg" / "PG_VERSION").exists() and (data_dir / "nats").is_dir()
        assert stack.add_moderator("first-admin", "a long enough passphrase", "admin").returncode == 0
        with closing(stack.moderator("first-admin", "a long enough passphrase")) as mod:
            title = f"Two grandmothers' dumplings {uuid.uuid4().hex[:6]}"
            receipt = _post_through_form(stack, title, "My lola and my halmeoni both made dumplings.",
                                         "Filipino, Korean")
            item = _approve_and_publish(stack, mod, title, receipt)
            assert item["screen"]["label"] == "unscreened"
            health = httpx.get(stack.url("moderation", "/healthz"), timeout=5)
            assert health.status_code == 200
            assert health.json()["screen"]["state"] == "degraded"
            assert "missing.ckpt" in health.json()["screen"]["workers"][0]["detail"]
            assert item["feed_latency"] < 5
    finally:
        assert stack.stop() == 0, stack.log_tail()
    # Everything it started has stopped: the embedded PostgreSQL too.
    assert not (data_dir / "pg" / "postmaster.pid").exists()
    log = stack.log_path.read_text()
    assert log.count("no model loaded") >= 1


def test_flow_on_configured_servers(stack: Stack) -> None:
    """DATABASE_URL / NATS_URL point at servers the tests started; the screen runs
    the tiny model and labels a benign story `clear`."""
    name = f"mod-{uuid.uuid4().hex[:6]}"
    assert stack.add_moderator(name, "another long passphrase").returncode == 0
    with closing(stack.moderator(name, "another long passphrase")) as mod:
        title = f"Coming out in two languages {uuid.uuid4().hex[:6]}"
        receipt = stack.submit(title=title, body="I told my mother in Tagalog and my father in Japanese.",
                               tags=["Filipino", "Japanese", "coming out"])
        item = _approve_and_publish(stack, mod, title, receipt)
        assert item["screen"]["label"] == "clear"
        assert item["feed_latency"] < 5
        health = httpx.get(stack.url("moderation", "/healthz"), timeout=5).json()
        assert health["screen"]["state"] == "ok"


def test_every_service_has_health_and_metrics(stack: Stack) -> None:
    for service in ("submission", "moderation", "publishing"):
        h = httpx.get(stack.url(service, "/healthz"), timeout=5)
        assert h.status_code == 200 and h.json()["checks"] == {"database": "ok", "nats": "ok"}
        # Metrics on the private listener only (tests/e2e/security/test_private_metrics.py).
        m = httpx.get(f"http://127.0.0.1:{stack.metrics_ports[service]}/metrics", timeout=5)
        assert m.status_code == 200 and "braided_http_request_seconds" in m.text


def test_logs_hold_no_client_address(stack: Stack) -> None:
    httpx.get(stack.url("publishing", "/"), headers={"User-Agent": "Distinctive-UA/9.9"}, timeout=5)
    httpx.post(stack.url("submission", "/api/stories"), json={"title": "", "body": ""},
               headers={"User-Agent": "Distinctive-UA/9.9", "X-Forwarded-For": "203.0.113.77"}, timeout=5)
    log = Path(stack.log_path).read_text()
    assert "Distinctive-UA" not in log and "203.0.113.77" not in log
    assert "HTTP/1.1" not in log and '"GET /' not in log  # no access-log lines at all
