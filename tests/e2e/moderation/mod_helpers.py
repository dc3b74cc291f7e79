"""Helpers for the moderation workspace tests: accounts, HTML sessions with
their CSRF token, and queue items filed straight into the database (for pages
that need a known label, scores or offsets)."""

from __future__ import annotations

import json
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.stack import Stack
from tests.stack import db_fetch as _db_fetch


def db_fetch(dsn: str, sql: str, *args: Any) -> list[dict[str, Any]]:
    """tests.stack.db_fetch in a worker thread: Playwright's sync API keeps an
    event loop running in the test's own thread, where asyncio.run() refuses."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(_db_fetch, dsn, sql, *args).result()

PASSWORD = "a long enough passphrase for tests"
_OPEN: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def close_clients():
    """Import into a test module: closes every client the helpers opened."""
    yield
    while _OPEN:
        _OPEN.pop().close()


def _track(client: httpx.Client) -> httpx.Client:
    _OPEN.append(client)
    return client


def new_moderator(stack: Stack, role: str = "moderator", password: str = PASSWORD) -> str:
    name = f"{role[:3]}-{uuid.uuid4().hex[:8]}"
    result = stack.add_moderator(name, password, role)
    assert result.returncode == 0, result.stderr
    return name


def login_api(stack: Stack, username: str, password: str = PASSWORD) -> httpx.Client:
    """An API session for an existing account, closed after the test even when it fails
    (an unclosed client's socket warns in whichever later test collects it)."""
    return _track(stack.moderator(username, password))


def api_client(stack: Stack, role: str = "moderator") -> httpx.Client:
    return login_api(stack, new_moderator(stack, role))


def html_login(stack: Stack, username: str, password: str = PASSWORD) -> httpx.Client:
    """Log in through the HTML form, as a browser without JavaScript would."""
    client = _track(httpx.Client(base_url=stack.url("moderation"), timeout=15))
    page = client.get("/login")
    r = client.post("/login", data={"csrf": csrf_of(page.text), "username": username, "password": password})
    assert r.status_code == 303 and r.headers["location"] == "/queue", r.text
    return client


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF field on the page"
    return m.group(1)


def csrf(client: httpx.Client, path: str = "/queue") -> str:
    return csrf_of(client.get(path).text)


def file_item(stack: Stack, *, title: str | None = None, body: str = "A story about two kitchens.",
              label: str = "clear", severity: float | None = None, scores: dict[str, float] | None = None,
              passages: list[dict[str, Any]] | None = None, term_hits: list[dict[str, Any]] | None = None,
              state: str = "pending", tags: list[str] | None = None) -> tuple[str, str]:
    """A queue item filed directly (as the screening worker would). Returns (id, title)."""
    sid = str(uuid.uuid4())
    title = title or f"Item {sid[:8]}"
    rank = {"clear": 0, "unscreened": 1, "flagged": 2, "held": 3}[label]
    db_fetch(stack.dsn,
             "INSERT INTO moderation.queue_items (story_id, title, body, pen_name, tags, label, severity, scores,"
             " passages, term_hits, state, decided_seq) VALUES ($1, $2, $3, NULL, $4, $5, $6, $7::jsonb, $8::jsonb,"
             " $9::jsonb, $10, CASE WHEN $10 <> 'pending' THEN nextval('moderation.decision_seq') END)"
             " RETURNING story_id",
             uuid.UUID(sid), title, body, tags or [], label, severity if severity is not None else rank,
             json.dumps(scores or {}), json.dumps(passages or []), json.dumps(term_hits or []), state)
    return sid, title
