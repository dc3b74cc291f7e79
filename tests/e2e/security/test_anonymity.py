"""Anonymity: a member's and a reader's address and browser never reach storage or logs.

Requests come from a distinctive loopback source address (127.x.y.z), with a
distinctive User-Agent and X-Forwarded-For / Forwarded / X-Real-IP headers, through
every public route (submission, publishing, moderation login). Then every row of
every table of every schema, every message (payload, headers, subject) of every
JetStream stream and KV bucket, and every log line (services, NATS, PostgreSQL) is
scanned for them. Expected hits: zero.
"""

from __future__ import annotations

import random
import re
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from shared.infra import EmbeddedNats
from tests.hardening import scan, stream_messages, table_rows
from tests.stack import Stack, loopback_source, wait_until

pytestmark = pytest.mark.slow

R = random.Random()
SOURCE = loopback_source(R)
AGENT_TOKEN = f"AnonProbe{uuid.uuid4().hex[:12]}"
USER_AGENT = f"Mozilla/5.0 (X11; {AGENT_TOKEN}) Gecko/20100101 Firefox/140.0"
FORWARDED = f"198.51.100.{R.randint(10, 250)}"
REAL_IP = f"203.0.113.{R.randint(10, 250)}"
NEEDLES = [SOURCE, AGENT_TOKEN, FORWARDED, REAL_IP]


def _client(base_url: str) -> httpx.Client:
    return httpx.Client(
        base_url=base_url, timeout=30, transport=httpx.HTTPTransport(local_address=SOURCE),
        headers={"User-Agent": USER_AGENT, "X-Forwarded-For": f"{FORWARDED}, {REAL_IP}",
                 "Forwarded": f"for={FORWARDED};proto=https", "X-Real-IP": REAL_IP,
                 "X-Client-IP": REAL_IP})


def _csrf(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def _key(page: httpx.Response) -> str:
    return re.search(r'name="submission_key" value="([^"]+)"', page.text).group(1)


def _walk_every_public_route(stack: Stack, admin: httpx.Client) -> dict[str, int]:
    calls: dict[str, int] = {}

    def record(r: httpx.Response) -> httpx.Response:
        assert r.status_code < 500, (r.request.url, r.status_code, r.text[:300])
        calls[f"{r.request.method} {r.request.url.path}"] = r.status_code
        return r

    title = f"Anonymity walk {uuid.uuid4().hex[:8]}"
    with _client(stack.url("submission")) as sub:
        record(sub.get("/"))
        record(sub.get("/static/style.css"))
        form = record(sub.get("/"))
        page = record(sub.post("/stories", data={"submission_key": _key(form), "title": title,
                                                   "body": "Posted through the form from a distinctive address.",
                                                   "tags": "Vietnamese, Dutch"}))
        form_receipt = re.search(r'id="receipt">([^<]+)<', page.text).group(1)
        r = record(sub.post("/api/stories", json={"title": title + " api", "pen_name": "Probe",
                                                  "body": "Posted through the API from a distinctive address."}))
        api_receipt = r.json()["receipt"]
        record(sub.post("/api/receipts/status", json={"receipt": api_receipt}))
        record(sub.post("/api/receipts/status", json={"receipt": "BR-00000-00000-00000-00000"}))
        record(sub.get("/status"))
        record(sub.post("/status", data={"receipt": form_receipt}))
        record(sub.get("/healthz"))
    # A moderator (not the probe) approves the form story so the public story routes have something.
    item = wait_until(lambda: stack.queue_item(admin, title), 60, what="probe story queued")
    assert admin.post(f"/api/queue/{item['id']}/decision", json={"decision": "approve"}).status_code == 200
    story = wait_until(lambda: stack.published(title), 30, what="probe story published")
    with _client(stack.url("publishing")) as pub:
        record(pub.get("/"))
        record(pub.get("/", params={"q": "distinctive"}))
        record(pub.get("/tags/Vietnamese"))
        record(pub.get(f"/stories/{story['id']}"))
        record(pub.get("/feed.atom"))
        record(pub.get("/api/stories"))
        record(pub.get(f"/api/stories/{story['id']}"))
        record(pub.get(f"/stories/{story['id']}/report"))
        record(pub.post(f"/stories/{story['id']}/report", data={"reason": "Probe report via the form."}))
        record(pub.post(f"/api/stories/{story['id']}/reports", json={"reason": "Probe report via the API."}))
        record(pub.get("/healthz"))
    with _client(stack.url("moderation")) as mod:
        login = record(mod.get("/login"))
        record(mod.post("/login", data={"csrf": _csrf(login), "username": "nobody", "password": "wrong password"}))
        record(mod.post("/api/session", json={"username": "nobody", "password": "wrong password"}))
    with _client(stack.url("submission")) as sub:
        record(sub.post("/api/receipts/withdraw", json={"receipt": api_receipt}))
    # Let the events (withdrawal, reports) flow through every consumer before scanning.
    wait_until(lambda: stack.receipt_status(api_receipt).get("status") == "withdrawn", 20, what="withdrawn")
    return calls


def _pg_log(dsn: str) -> Path | None:
    host = parse_qs(urlparse(dsn).query).get("host", [None])[0]
    return Path(host) / "log" if host else None


def test_no_client_identifier_is_stored_or_logged(stack: Stack, admin: httpx.Client,
                                                  nats_server: EmbeddedNats) -> None:
    calls = _walk_every_public_route(stack, admin)
    wait_until(lambda: "Probe report via the API." in str(stream_messages(nats_server.admin_url)), 20,
               what="the report event in the stream")
    rows = table_rows(stack.dsn)
    messages = stream_messages(nats_server.admin_url)
    logs: list[str] = []
    for path in (stack.log_path, nats_server.store / "nats-server.log", _pg_log(stack.dsn)):
        if path is not None and path.exists():
            logs += path.read_text(errors="replace").splitlines()
    haystacks = [row for _, row in rows] + [f"{subject}\n{body}" for _, subject, body in messages] + logs
    hits = scan(haystacks, NEEDLES)
    tables = {t for t, _ in rows}
    streams = {s for s, _, _ in messages}
    print(f"\n[anonymity] {len(calls)} routes called from {SOURCE}; scanned {len(tables)} tables / "
          f"{sum(1 for _, r in rows if r)} rows, {len(streams)} streams+KV buckets / "
          f"{sum(1 for _, s, _ in messages if s)} messages, {len(logs)} log lines; hits: {len(hits)}")
    # The scan is real: the story text we sent is found where it should be.
    assert scan(haystacks, ["Posted through the form from a distinctive address."])
    assert len(tables) >= 15 and len(logs) > 20 and any(s.startswith("KV_") for s in streams)
    assert hits == []


PUBLIC_GETS = {
    "submission": ["/", "/status", "/static/style.css", "/healthz"],
    "publishing": ["/", "/tags/Korean", "/feed.atom", "/api/stories", f"/stories/{uuid.uuid4()}", "/healthz"],
    "moderation": ["/login"],
}


@pytest.mark.parametrize("service,path", [(s, p) for s, paths in PUBLIC_GETS.items() for p in paths])
def test_public_pages_send_strict_headers_and_no_tracking_cookies(stack: Stack, service: str, path: str) -> None:
    r = httpx.get(stack.url(service, path), timeout=10)
    assert r.status_code in (200, 404), r.text[:200]
    h = r.headers
    csp = h["content-security-policy"]
    for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'",
                      "base-uri 'none'", "form-action 'self'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "*" not in csp
    assert h["referrer-policy"] == "no-referrer"
    assert h["x-content-type-options"] == "nosniff"
    assert "camera=()" in h["permissions-policy"] and "interest-cohort=()" in h["permissions-policy"]
    assert "server" not in h  # no software banner
    cookies = h.get_list("set-cookie")
    if service == "moderation":  # the only service that sets cookies: the login form's CSRF token
        assert len(cookies) == 1 and cookies[0].startswith("braided_csrf="), cookies
        assert "HttpOnly" in cookies[0] and "SameSite=strict" in cookies[0]
    else:
        assert cookies == []  # public pages, forms included, set no cookie at all
    if "text/html" in h.get("content-type", ""):
        # No asset from another origin: no absolute URL in any src, nor in a <link>
        # (stylesheet, icon). Plain <a> links may leave the site: the quick exit
        # and the link between the two public services do, on purpose.
        assert not re.search(r'src="(https?:)?//', r.text)
        assert not re.search(r'<link[^>]*href="(https?:)?//', r.text)
        assert "<script>" not in r.text and " style=" not in r.text and "<style" not in r.text
