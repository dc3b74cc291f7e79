"""Withdrawing a story removes it from every schema and every public surface."""

from __future__ import annotations

import urllib.parse
import uuid

import httpx

from shared.infra import EmbeddedNats
from tests.e2e.publishing.flow import publish, unique
from tests.hardening import stream_messages
from tests.stack import Stack, db_fetch, wait_until

SCHEMAS = ("submission", "moderation", "publishing")
# Tables allowed to keep the story's id (never its text): the receipt's tombstone
# answers "withdrawn", the others stop a late event from bringing the story back.
# audit_log is append-only by design: it records that a decision was made on an id.
ID_ONLY_TABLES = {("submission", "stories"), ("publishing", "gone_stories"), ("moderation", "withdrawn_stories"),
                  ("moderation", "audit_log")}


def _tables(dsn: str) -> list[tuple[str, str]]:
    return [(r["table_schema"], r["table_name"]) for r in db_fetch(
        dsn, "SELECT table_schema, table_name FROM information_schema.tables"
        " WHERE table_schema = ANY($1) AND table_type = 'BASE TABLE'", list(SCHEMAS))]


def _rows_mentioning(dsn: str, needle: str) -> dict[str, int]:
    """Every table of the three schemas, each whole row as text (JSON payloads included)."""
    found = {}
    for schema, table in _tables(dsn):
        n = db_fetch(dsn, f'SELECT count(*) AS n FROM "{schema}"."{table}" t WHERE t::text LIKE $1',
                     f"%{needle}%")[0]["n"]
        if n:
            found[f"{schema}.{table}"] = n
    return found


def _in_stream(nats_url: str, needle: str) -> list[str]:
    """Subjects of the stream messages (KV buckets included) that carry `needle`."""
    return [subject for _, subject, payload in stream_messages(nats_url) if needle in payload]


def _published_for_submission(stack: Stack, story_id: str) -> bool:
    """Submission's own read model knows the story is published (so it may be answered)."""
    return db_fetch(stack.dsn, "SELECT status FROM submission.stories WHERE story_id = $1",
                    uuid.UUID(story_id))[0]["status"] == "published"


def test_withdraw_removes_the_story_from_every_schema_and_surface(stack: Stack, admin: httpx.Client,
                                                                  nats_server: EmbeddedNats) -> None:
    marker = unique("wdmark")
    tag = unique("Withdrawtag-")
    title = f"Withdraw me {marker}"
    pub = stack.url("publishing").rstrip("/")
    # The exchange (issue 15): it answers a prompt and a published story, carries a second-language
    # version and a glossary, resonated with a reader, and has a story written in response to it.
    r = admin.post("/api/prompts", json={"title": unique("Withdraw prompt ")})
    assert r.status_code == 201, r.text
    prompt = r.json()["id"]
    wait_until(lambda: any(p["id"] == prompt for p in httpx.get(f"{pub}/api/prompts", timeout=10).json()["items"]),
               20, 0.2, "prompt published")
    parent, _ = publish(stack, admin, title=unique("Withdraw parent "), body="A story others answer, long enough.")
    wait_until(lambda: _published_for_submission(stack, parent), 20, 0.2, "parent answerable")
    term = f"term{marker}"
    sid, receipt = publish(stack, admin, title=title, tags=[tag, "visibility"], content_warnings=["grief"],
                           body=f"A story that will be withdrawn, with its marker {marker} and 漢字 {marker}.",
                           prompt_id=prompt, in_response_to=parent, lang="en",
                           translation={"lang": "tl", "title": f"Bawiin {marker}", "body": f"Kuwento {marker} ito."},
                           glossary=[{"term": term, "meaning": f"meaning {marker}"}])
    assert httpx.post(f"{pub}/api/stories/{sid}/resonate", json={}, timeout=10).json() == {"resonance": 1}
    wait_until(lambda: _published_for_submission(stack, sid), 20, 0.2, "story answerable")
    child, _ = publish(stack, admin, title=unique("Withdraw child "), body="An answer to a withdrawn story.",
                       in_response_to=sid)
    assert httpx.get(f"{pub}/api/stories/{parent}", timeout=10).json()["responses"][0]["id"] == sid
    assert httpx.get(f"{pub}/api/stories/{child}", timeout=10).json()["in_response_to"]["id"] == sid
    assert term in httpx.get(f"{pub}/glossary", timeout=10).text
    # Before: visible everywhere, and its text sits in all three schemas (outboxes included).
    assert httpx.get(f"{pub}/stories/{sid}", timeout=10).status_code == 200
    assert httpx.post(f"{pub}/api/stories/{sid}/reports", json={"reason": f"report {marker}"},
                      timeout=10).status_code == 202
    before = wait_until(lambda: (lambda f: f if {"submission.stories", "moderation.queue_items",
                                                 "publishing.stories"} <= set(f) else None)(
        _rows_mentioning(stack.dsn, marker)), 20, what="story text in every schema")
    assert any(k.endswith(".outbox") for k in before), before
    # ... and in the event stream: submitted (submission), approved (moderation), reported (publishing).
    sent = set(_in_stream(nats_server.admin_url, marker))
    assert {"stories.submitted", "stories.approved", "stories.reported"} <= sent

    r = httpx.post(stack.url("submission", "/api/receipts/withdraw"), json={"receipt": receipt}, timeout=30)
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"

    # Every schema: not one row anywhere still holds its text.
    wait_until(lambda: _rows_mentioning(stack.dsn, marker) == {}, 30, 0.2, "text gone from every schema")
    # The stream: each service erased the events it had sent about the story.
    wait_until(lambda: _in_stream(nats_server.admin_url, marker) == [], 30, 0.2, "text gone from the stream")
    # Rows that still carry the id are the id-only tombstones.
    for schema, table in _tables(stack.dsn):
        cols = {r["column_name"] for r in db_fetch(
            stack.dsn, "SELECT column_name FROM information_schema.columns WHERE table_schema = $1"
            " AND table_name = $2", schema, table)}
        if table == "outbox":  # only the withdrawal notice itself may remain
            kinds = db_fetch(stack.dsn, f'SELECT payload->>\'type\' AS t FROM "{schema}".outbox WHERE story_id = $1',
                             uuid.UUID(sid))
            assert {k["t"] for k in kinds} <= {"StoryWithdrawn"}, f"{schema}.outbox: {kinds}"
        elif "story_id" in cols:
            n = db_fetch(stack.dsn, f'SELECT count(*) AS n FROM "{schema}"."{table}" WHERE story_id = $1',
                         uuid.UUID(sid))[0]["n"]
            assert n == 0 or (schema, table) in ID_ONLY_TABLES, f"{schema}.{table} still has {n} row(s)"
    [tomb] = db_fetch(stack.dsn, "SELECT * FROM submission.stories WHERE story_id = $1", uuid.UUID(sid))
    assert tomb["status"] == "withdrawn" and tomb["title"] is None and tomb["body"] is None and tomb["tags"] == []

    # Every public surface.
    assert httpx.get(f"{pub}/stories/{sid}", timeout=10).status_code == 410
    assert httpx.get(f"{pub}/api/stories/{sid}", timeout=10).status_code == 410
    assert httpx.get(f"{pub}/stories/{sid}/report", timeout=10).status_code == 410
    surfaces = ["/", f"/tags/{urllib.parse.quote(tag)}", "/tags/visibility", f"/?q={marker}", "/?q=漢字",
                "/feed.atom", f"/feed.atom?tag={urllib.parse.quote(tag)}", "/api/stories",
                f"/api/stories?q={marker}", f"/api/stories?tag={urllib.parse.quote(tag)}", "/tags"]
    for path in surfaces:
        page = httpx.get(pub + path, timeout=10)
        assert page.status_code == 200, path
        # (tag pages and searches echo the tag or query itself, so look for the story)
        text = page.text.replace("\\u6f22", "漢")
        assert title not in text and sid not in text and "A story that will be withdrawn" not in text, path
    assert tag not in httpx.get(f"{pub}/tags", timeout=10).text
    # The exchange: prompt pages, response links both ways, resonance, glossary.
    surfaces = [f"/prompts/{prompt}", "/prompts", f"/api/stories?prompt={prompt}", f"/stories/{parent}",
                f"/api/stories/{parent}", f"/stories/{child}", f"/api/stories/{child}", "/glossary",
                f"/glossary?q={term}", "/api/glossary", f"/api/glossary?q={term}", "/api/prompts"]
    for path in surfaces:
        page = httpx.get(pub + path, timeout=10)
        assert page.status_code == 200, path
        text = page.text.replace(f"in_response_to={child}", "").replace(f"q={term}", "").replace(
            f'value="{term}"', "").replace(f"“{term}”", "")
        assert title not in text and sid not in text and term not in text, path
    assert httpx.get(f"{pub}/api/stories/{parent}", timeout=10).json()["responses"] == []
    assert "in_response_to" not in httpx.get(f"{pub}/api/stories/{child}", timeout=10).json()
    assert httpx.post(f"{pub}/api/stories/{sid}/resonate", json={}, timeout=10).status_code == 410
    assert httpx.get(f"{pub}/api/glossary", params={"q": term}, timeout=10).json()["items"] == []
    # Not even the id stays beside another story (a response's pointer), outside the tombstones and
    # the outboxes' own events about other stories.
    left = {k: v for k, v in _rows_mentioning(stack.dsn, sid).items()
            if tuple(k.split(".")) not in ID_ONLY_TABLES and not k.endswith(".outbox")}
    assert left == {}, left
    # The receipt still answers, and the heritage tag is no longer suggested.
    assert stack.receipt_status(receipt)["status"] == "withdrawn"
    assert tag not in httpx.get(stack.url("submission", "/"), timeout=10).text
