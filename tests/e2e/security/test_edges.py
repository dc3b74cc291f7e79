"""The edges a stranger can reach, over real HTTP on the running stack: absolute
URLs never come from the Host header, cross-site state changes are refused on every
service, moderation's JSON check is a real media-type check and every moderation
answer says no-store."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.stack import Stack


def test_the_atom_feed_never_reflects_the_host_header(stack: Stack) -> None:
    r = httpx.get(stack.url("publishing", "/feed.atom"), headers={"Host": "evil.example"}, timeout=10)
    assert r.status_code == 200 and "<feed" in r.text
    assert "evil.example" not in r.text
    assert f"127.0.0.1:{stack.ports['publishing']}" in r.text  # from HOST and PUBLISHING_PORT


@pytest.mark.parametrize("service, path, kwargs", [
    ("submission", "/stories", {"data": {"title": "t", "body": "Cross-site story body text."}}),
    ("submission", "/status", {"data": {"receipt": "BR-00000-00000-00000-00000"}}),
    ("submission", "/api/stories", {"json": {"title": "t", "body": "Cross-site story body text."}}),
    ("submission", "/api/receipts/withdraw", {"json": {"receipt": "BR-00000-00000-00000-00000"}}),
    ("publishing", f"/stories/{uuid.uuid4()}/report", {"data": {"reason": "x"}}),
    ("publishing", f"/api/stories/{uuid.uuid4()}/reports", {"json": {"reason": "x"}}),
    ("moderation", "/login", {"data": {"username": "x", "password": "y"}}),
    ("moderation", "/api/session", {"json": {"username": "x", "password": "y"}}),
])
def test_cross_site_state_changes_are_refused(stack: Stack, service: str, path: str, kwargs: dict) -> None:
    url = stack.url(service, path)
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}):
        r = httpx.post(url, headers=headers, timeout=10, **kwargs)
        assert r.status_code == 403, (headers, r.status_code, r.text[:200])


def test_a_text_plain_body_is_not_json_anywhere(stack: Stack, admin: httpx.Client) -> None:
    body = b'{"decision": "approve"}'
    for content_type in ("text/plain", "text/plain; application/json", "application/jsonp"):
        r = admin.post(f"/api/queue/{uuid.uuid4()}/decision", content=body, headers={"Content-Type": content_type})
        assert r.status_code == 415, content_type
        r = httpx.post(stack.url("submission", "/api/stories"), timeout=10, headers={"Content-Type": content_type},
                       content=b'{"title": "t", "body": "A body long enough to be a story."}')
        assert r.status_code == 415, content_type


def test_every_moderation_answer_says_no_store(stack: Stack, admin: httpx.Client) -> None:
    anonymous = httpx.Client(base_url=stack.url("moderation"), timeout=10)
    try:
        answers = [anonymous.get(p) for p in ("/login", "/healthz", "/static/mod.css", "/api/queue", "/nothing")]
        answers.append(anonymous.post("/api/session", json={"username": "nobody", "password": "wrong"}))
    finally:
        anonymous.close()
    answers += [admin.get(p) for p in ("/api/queue", "/api/queue/counts", "/queue", "/api/resources")]
    for r in answers:
        assert r.headers.get("cache-control") == "no-store", (r.request.url.path, r.headers.get("cache-control"))
