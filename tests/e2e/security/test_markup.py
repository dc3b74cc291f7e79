"""Markup and script in every field are stored as text and rendered inert on every
page that shows them: feed, story page, tag page, search, Atom feed, JSON API and
the moderator queue."""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET

import httpx

from tests.stack import Stack, db_fetch, wait_until

ATOM = "{http://www.w3.org/2005/Atom}"
DANGEROUS = ["<script", "<img", "<svg", "<iframe", "<b onmouseover"]
# A real element (not escaped text) with an event handler or a javascript: URL.
LIVE_ATTRIBUTE = re.compile(r"<[a-z][^<>]*\s(on\w+\s*=|(href|src)\s*=\s*[\"']?\s*javascript:)", re.I)


# The site's own elements: its local scripts and the score bars it draws.
OWN = re.compile(r'<script src="/static/[\w.-]+\.js" defer></script>|<svg class="bar" viewBox="[\d ]+"')


def _inert(html: str, where: str) -> None:
    low = OWN.sub("", html).lower()
    found = [d for d in DANGEROUS if d in low] + LIVE_ATTRIBUTE.findall(OWN.sub("", html))
    assert found == [], f"{where}: live markup {found}"


def _queue_page_listing(admin: httpx.Client, text: str) -> httpx.Response:
    """The pending queue's page that lists a story with `text` (earlier tests on the
    shared stack may have filled the first pages), or the last page."""
    params: dict[str, str] = {}
    while True:
        page = admin.get("/queue", params=params)
        more = re.search(r'&amp;cursor=([\w-]+)" id="next-page"', page.text)
        if page.status_code != 200 or text in page.text or not more:
            return page
        params = {"cursor": more.group(1)}


def test_markup_in_every_field_is_stored_as_text_and_rendered_inert(stack: Stack, admin: httpx.Client) -> None:
    run = uuid.uuid4().hex[:8]
    story = {
        "title": f'<script>alert("t")</script> Markup {run}',
        "body": f'<img src=x onerror=alert(1)> and <iframe src="javascript:alert(2)"></iframe> {run} body',
        "pen_name": "<b onmouseover=alert(3)>pen</b>",
        "tags": [f"Inert{run}"],
        "content_warnings": ["<svg onload=alert(4)>"],
    }
    r = httpx.post(stack.url("submission", "/api/stories"), json=story, timeout=30)
    assert r.status_code == 202, r.text
    # Markup cannot hide in a tag: tags are words.
    r = httpx.post(stack.url("submission", "/api/stories"), json=story | {"tags": ["<script>"]}, timeout=30)
    assert r.status_code == 422 and "tags" in r.json()["errors"]

    item = wait_until(lambda: stack.queue_item(admin, story["title"]), 60, what="markup story queued")
    # The moderator UI shows it as text, before and after the decision.
    page = _queue_page_listing(admin, f"Markup {run}")
    assert page.status_code == 200 and "&lt;script&gt;alert" in page.text
    _inert(page.text, "moderator queue")
    r = admin.post(f"/api/queue/{item['id']}/decision",
                   json={"decision": "approve", "content_warnings": ['"><script>alert(5)</script>']})
    assert r.status_code == 200, r.text
    published = wait_until(lambda: stack.published(story["title"]), 30, what="markup story published")

    # Stored as the author wrote it, in every schema.
    assert db_fetch(stack.dsn, "SELECT title, body, pen_name FROM publishing.stories WHERE story_id = $1",
                    uuid.UUID(item["id"])) == [{k: story[k] for k in ("title", "body", "pen_name")}]
    assert published["title"] == story["title"] and published["body"] == story["body"]
    assert published["pen_name"] == story["pen_name"]

    pages = {
        "feed": httpx.get(stack.url("publishing", "/"), timeout=10),
        "story": httpx.get(stack.url("publishing", f"/stories/{item['id']}"), timeout=10),
        "tag": httpx.get(stack.url("publishing", f"/tags/Inert{run}"), timeout=10),
        "search": httpx.get(stack.url("publishing", "/"), params={"q": "<script>alert(9)</script>"}, timeout=10),
        "report": httpx.get(stack.url("publishing", f"/stories/{item['id']}/report"), timeout=10),
        "decided queue": admin.get("/queue", params={"state": "approved"}),
    }
    for name, page in pages.items():
        assert page.status_code == 200, (name, page.status_code)
        _inert(page.text, name)
        assert "&lt;script&gt;alert" in page.text or name == "tag" and "&lt;img" in page.text, name
    assert "text/html" in pages["story"].headers["content-type"]
    api = httpx.get(stack.url("publishing", f"/api/stories/{item['id']}"), timeout=10)
    assert api.headers["content-type"].startswith("application/json")

    atom = httpx.get(stack.url("publishing", "/feed.atom"), timeout=10)
    assert atom.headers["content-type"].startswith("application/atom+xml")
    _inert(atom.text, "atom")
    entries = {e.find(f"{ATOM}id").text: e for e in ET.fromstring(atom.content).iter(f"{ATOM}entry")}
    entry = entries[f"urn:uuid:{item['id']}"]
    assert entry.find(f"{ATOM}title").text == story["title"]  # text, not markup, once parsed
    assert entry.find(f"{ATOM}author/{ATOM}name").text == story["pen_name"]
    # The story carries a content warning, so the feed holds only the warning (issue 14):
    # the markup in the warning is text there, and the body stays on its page.
    summary = entry.find(f"{ATOM}summary")
    assert entry.find(f"{ATOM}content") is None and story["body"] not in atom.text
    assert summary.get("type") == "text" and story["content_warnings"][0] in summary.text
