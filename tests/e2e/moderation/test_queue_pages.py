"""The queue as moderators see it, without JavaScript: tabs and counts, keyset
pages, the item view (highlights, blur until revealed), live events, audit,
dashboard and word lists."""

from __future__ import annotations

import html
import re
import time
import uuid

import httpx

from tests.e2e.moderation.mod_helpers import (  # noqa: F401 - close_clients is a fixture
    api_client,
    close_clients,
    csrf,
    file_item,
    html_login,
    new_moderator,
)
from tests.stack import Stack, db_fetch


def _walk(mod: httpx.Client, **params: str) -> list[dict]:
    items, cursor, seen_pages = [], None, 0
    while True:
        r = mod.get("/api/queue", params=params | ({"cursor": cursor} if cursor else {}))
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["items"]) <= 25
        items += body["items"]
        seen_pages += 1
        cursor = body["next"]
        if not cursor:
            return items


def _severity_of(stack: Stack, ids: list[str]) -> dict[str, tuple[float, int]]:
    rows = db_fetch(stack.dsn, "SELECT story_id, severity, queue_seq FROM moderation.queue_items"
                               " WHERE story_id = ANY($1::uuid[])", [uuid.UUID(i) for i in ids])
    return {str(r["story_id"]): (r["severity"], r["queue_seq"]) for r in rows}


def test_keyset_pages_cover_the_queue_once_in_order(stack: Stack) -> None:
    mine = [file_item(stack, label="flagged", severity=2 + i / 100)[0] for i in range(30)]
    mod = api_client(stack)
    items = _walk(mod, label="flagged")
    ids = [i["id"] for i in items]
    assert len(ids) == len(set(ids)) and set(mine) <= set(ids)
    keys = _severity_of(stack, ids)
    ordered = [(-keys[i][0], keys[i][1], i) for i in ids]
    assert ordered == sorted(ordered)  # most severe first, then oldest
    oldest = [i["id"] for i in _walk(mod, label="flagged", order="oldest")]
    assert sorted(oldest) == sorted(ids)
    assert [keys[i][1] for i in oldest] == sorted(keys[i][1] for i in oldest)
    assert mod.get("/api/queue", params={"cursor": "not-a-cursor"}).status_code == 422
    assert mod.get("/api/queue", params={"state": "nonsense"}).status_code == 422


def test_tabs_show_counts(stack: Stack) -> None:
    file_item(stack, label="held", severity=3.2)
    client = html_login(stack, new_moderator(stack))
    page = client.get("/queue")
    assert page.status_code == 200
    counts = {(r["state"], r["label"]): r["n"] for r in db_fetch(
        stack.dsn, "SELECT state, label, count(*) AS n FROM moderation.queue_items GROUP BY 1, 2")}
    pending = sum(n for (s, _), n in counts.items() if s == "pending")
    held = counts.get(("pending", "held"), 0)
    text = re.sub(r"\s+", " ", page.text)
    assert f'Pending <span class="count">{pending}</span>' in text
    assert f'Held <span class="count">{held}</span>' in text
    for tab in ("Flagged", "Unscreened", "Reported", "Approved", "Rejected", "Taken down"):
        assert f"{tab} <span" in text
    assert "most severe first" in text and "order=oldest" in text
    # An unknown tab is a clear 400, not a 500.
    assert client.get("/queue?state=everything").status_code == 400


def test_item_view_highlights_passages_and_blurs_held_until_revealed(stack: Stack) -> None:
    body = "We cooked together. Then he said: you people are zorblat vermin. I left the kitchen."
    start = body.index("you people")
    end = body.index(" I left")
    sid, title = file_item(
        stack, label="held", severity=3.97, body=body, scores={"toxicity": 0.97, "insult": 0.61, "threat": 0.02},
        passages=[{"label": "toxicity", "score": 0.97, "start": start, "end": end, "field": "body"}],
        term_hits=[{"term": "vermin", "kind": "banned", "start": body.index("vermin"),
                    "end": body.index("vermin") + 6, "field": "body"}])
    reader = html_login(stack, new_moderator(stack))
    page = reader.get(f"/queue/{sid}")
    assert page.status_code == 200
    assert 'class="story blurred" inert aria-hidden="true"' in page.text
    assert "It fired on: toxicity, banned term." in page.text
    assert "Show this story" in page.text
    # Passages marked by their offsets; the banned term inside gets the stronger mark.
    assert '<mark class="hl hl-passage" title="toxicity 0.97">you people are zorblat </mark>' in page.text
    assert '<mark class="hl hl-banned" title="toxicity 0.97; banned term: vermin">vermin</mark>' in page.text
    assert re.search(r'<span class="score-name">toxicity</span>\s*<svg class="bar"', page.text)
    assert 'width="97.0"' in page.text  # the toxicity bar

    r = reader.post(f"/queue/{sid}/reveal", data={"csrf": csrf(reader), "action": "reveal",
                                                  "next": f"/queue/{sid}#item-{sid}"})
    assert r.status_code == 303 and r.headers["location"] == f"/queue/{sid}#item-{sid}"
    revealed = reader.get(f"/queue/{sid}")
    assert 'class="story"' in revealed.text and "blurred" not in revealed.text.split("<main")[1].split("<footer")[0] \
        .replace("Blur it again", "")
    # The reveal is per moderator: someone else still sees it blurred, and sees who is looking.
    other = html_login(stack, new_moderator(stack))
    page = other.get(f"/queue/{sid}")
    assert 'class="story blurred"' in page.text
    assert "is looking at this" in page.text
    # An open redirect through `next` is refused.
    r = reader.post(f"/queue/{sid}/reveal", data={"csrf": csrf(reader), "next": "//evil.example/"})
    assert r.headers["location"] == "/queue"


def test_titles_and_bodies_are_escaped(stack: Stack) -> None:
    sid, _ = file_item(stack, title="<script>alert(1)</script>", body="<img src=x onerror=alert(1)>")
    client = html_login(stack, new_moderator(stack))
    page = client.get(f"/queue/{sid}").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page


def test_new_stories_are_announced_by_server_sent_events(stack: Stack) -> None:
    mod = api_client(stack)
    with mod.stream("GET", "/events", timeout=httpx.Timeout(30, read=30)) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        lines = r.iter_lines()
        assert next(lines).startswith("retry:")
        stack.submit(title=f"Live {uuid.uuid4().hex[:6]}", body="A story that should appear live for moderators.")
        deadline = time.monotonic() + 30
        seen = []
        for line in lines:
            seen.append(line)
            if line == "event: new" or time.monotonic() > deadline:
                break
        assert "event: new" in seen, seen
        data = next(lines)
        assert data.startswith("data: ") and '"label"' in data and "Live" not in data  # never the title


def test_audit_log_filters_by_moderator_and_story(stack: Stack) -> None:
    name = new_moderator(stack)
    client = html_login(stack, name)
    sid, _ = file_item(stack)
    client.post(f"/queue/{sid}/decision", data={"csrf": csrf(client), "decision": "reject",
                                                "reason": "Audit me please"})
    other = api_client(stack)
    sid2, _ = file_item(stack)
    other.post(f"/api/queue/{sid2}/decision", json={"decision": "approve"})

    mine = client.get("/audit", params={"moderator": name})
    assert mine.status_code == 200
    assert "story.rejected" in mine.text and "Audit me please" in mine.text and sid2[:8] not in mine.text
    by_story = client.get("/audit", params={"story": sid2})
    assert "story.approved" in by_story.text and "Audit me please" not in by_story.text
    assert client.get("/audit", params={"story": "not-a-uuid"}).status_code == 400
    # Append-only: the database refuses an edit.
    try:
        db_fetch(stack.dsn, "UPDATE moderation.audit_log SET action = 'x' WHERE story_id = $1", uuid.UUID(sid))
        raise AssertionError("audit_log accepted an UPDATE")
    except Exception as e:  # asyncpg.RaiseError
        assert "append-only" in str(e)


def test_dashboard_draws_svg_charts(stack: Stack) -> None:
    client = html_login(stack, new_moderator(stack))
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert page.text.count('<svg class="chart"') == 4
    for title in ("Queue depth", "Decisions per day", "Median time to decision", "Screen labels"):
        assert title in page.text
    assert "style=" not in page.text and "<script>" not in page.text
    assert re.search(r"<polyline class=\"line\" fill=\"none\" points=\"[\d., ]+\"", page.text)


def test_word_list_page_adds_and_removes_terms(stack: Stack) -> None:
    admin = html_login(stack, new_moderator(stack, "admin"))
    term = f"slurword{uuid.uuid4().hex[:6]}"
    r = admin.post("/admin/wordlists", data={"csrf": csrf(admin, "/admin/wordlists"), "action": "add",
                                             "term": term, "kind": "banned"})
    assert r.status_code == 303
    page = admin.get("/admin/wordlists")
    assert html.escape(term) in page.text
    r = admin.post("/admin/wordlists", data={"csrf": csrf(admin, "/admin/wordlists"), "action": "add",
                                             "term": "x", "kind": "forbidden"})
    assert r.status_code == 422 and "kind must be one of" in r.text
    r = admin.post("/admin/wordlists", data={"csrf": csrf(admin, "/admin/wordlists"), "action": "remove",
                                             "term": term})
    assert r.status_code == 303 and term not in admin.get("/admin/wordlists").text
    actions = [r["action"] for r in db_fetch(
        stack.dsn, "SELECT action FROM moderation.audit_log WHERE detail->>'term' = $1 ORDER BY id", term)]
    assert actions == ["wordlist.added", "wordlist.removed"]
