"""The reader's side over real HTTP: search in several scripts, tags, caching, Atom, support."""

from __future__ import annotations

import html
import time
import urllib.parse
import xml.etree.ElementTree as ET

import httpx
import pytest

from tests.e2e.publishing.flow import publish, unique
from tests.stack import Stack, db_fetch, loopback_source, wait_until

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def corpus(stack: Stack, admin: httpx.Client) -> dict[str, dict]:
    """Three published stories in English, Japanese and Chinese, sharing a unique tag."""
    tag = unique("Nikkei-")
    stories = {
        "en": {"title": unique("Grandmothers cooking "), "tags": [tag, "food and festivals"],
               "body": "Both of my grandmothers cooked for every festival, and argued about the rice."},
        "ja": {"title": unique("祖母 "), "tags": [tag, "language"], "content_warnings": ["homophobia"],
               "body": "東京の祖母は私の恋人に初めて会った日、黙って味噌汁を出してくれた。"},
        "zh": {"title": unique("中秋 "), "tags": [tag],
               "body": "中秋节的晚上，我和女朋友一起吃月饼，妈妈终于笑了。"},
    }
    for s in stories.values():
        s["id"], s["receipt"] = publish(stack, admin, **s)
    return {"tag": tag} | stories


def _search(stack: Stack, q: str) -> list[str]:
    r = httpx.get(stack.url("publishing", "/api/stories"), params={"q": q}, timeout=10)
    assert r.status_code == 200, r.text
    return [i["title"] for i in r.json()["items"]]


def test_search_english_with_stemming(stack: Stack, corpus: dict) -> None:
    # "grandmother cook" matches "grandmothers cooked" only through stemming.
    assert corpus["en"]["title"] in _search(stack, "grandmother cook festivals")
    assert corpus["en"]["title"] not in _search(stack, "zebra grandmother")


@pytest.mark.parametrize("lang, q", [("ja", "味噌汁"), ("ja", "恋人に初めて"), ("zh", "月饼"), ("zh", "女朋友")])
def test_search_cjk_by_substring(stack: Stack, corpus: dict, lang: str, q: str) -> None:
    found = _search(stack, q)
    assert corpus[lang]["title"] in found
    other = "zh" if lang == "ja" else "ja"
    assert corpus[other]["title"] not in found
    page = httpx.get(stack.url("publishing", "/"), params={"q": q}, timeout=10)
    assert page.status_code == 200 and corpus[lang]["title"] in html.unescape(page.text)


def test_search_indexes(stack: Stack) -> None:
    """FTS always; the trigram index exactly when the server offers pg_trgm (the
    embedded pgserver build does not; Debian's PostgreSQL 15 does)."""
    names = {r["indexname"] for r in db_fetch(
        stack.dsn, "SELECT indexname FROM pg_indexes WHERE schemaname = 'publishing' AND tablename = 'stories'")}
    trgm = db_fetch(stack.dsn, "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    assert "stories_search_en" in names
    assert ("stories_search_trgm" in names) == bool(trgm)


def test_tag_pages_heritage_and_theme(stack: Stack, corpus: dict) -> None:
    tag = corpus["tag"]
    page = httpx.get(stack.url("publishing", "/tags/" + urllib.parse.quote(tag)), timeout=10)
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert f"Heritage: {tag}" in text and all(corpus[k]["title"] in text for k in ("en", "ja", "zh"))
    # Newest first.
    assert text.index(corpus["zh"]["title"]) < text.index(corpus["ja"]["title"]) < text.index(corpus["en"]["title"])
    theme = html.unescape(httpx.get(stack.url("publishing", "/tags/language"), timeout=10).text)
    assert "Theme: language" in theme and corpus["ja"]["title"] in theme
    index = html.unescape(httpx.get(stack.url("publishing", "/tags"), timeout=10).text)
    assert tag in index and "intersectionality" in index


def test_content_warning_is_collapsed(stack: Stack, corpus: dict) -> None:
    page = html.unescape(httpx.get(stack.url("publishing", f"/stories/{corpus['ja']['id']}"), timeout=10).text)
    assert '<details class="cw"><summary>Content warning: homophobia' in page
    assert "<details class=\"cw\" open" not in page
    assert "<title>Story · Braided</title>" in page  # the title never names the story


def test_atom_per_tag(stack: Stack, corpus: dict) -> None:
    r = httpx.get(stack.url("publishing", "/feed.atom"), params={"tag": corpus["tag"]}, timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(r.content)
    titles = [e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")]
    assert titles == [corpus[k]["title"] for k in ("zh", "ja", "en")]


def test_http_caching(stack: Stack, corpus: dict) -> None:
    for path in ("/", f"/tags/{urllib.parse.quote(corpus['tag'])}", f"/stories/{corpus['en']['id']}",
                 "/feed.atom", "/api/stories", f"/api/stories/{corpus['en']['id']}", "/support"):
        first = httpx.get(stack.url("publishing", path), timeout=10)
        assert first.status_code == 200, path
        etag = first.headers["etag"]
        assert first.headers["cache-control"] == "no-cache"
        again = httpx.get(stack.url("publishing", path), headers={"If-None-Match": etag}, timeout=10)
        assert again.status_code == 304 and again.content == b"", path
        changed = httpx.get(stack.url("publishing", path), headers={"If-None-Match": '"other"'}, timeout=10)
        assert changed.status_code == 200
    story = httpx.get(stack.url("publishing", f"/stories/{corpus['en']['id']}"), timeout=10)
    lm = story.headers["last-modified"]
    assert lm.endswith("00:00:00 GMT")  # only the day is ever revealed
    assert httpx.get(stack.url("publishing", f"/stories/{corpus['en']['id']}"),
                     headers={"If-Modified-Since": lm}, timeout=10).status_code == 304


def test_report_with_reason(stack: Stack, corpus: dict) -> None:
    sid = corpus["zh"]["id"]
    empty = httpx.post(stack.url("publishing", f"/api/stories/{sid}/reports"), json={"reason": "  "}, timeout=10)
    assert empty.status_code == 422
    ok = httpx.post(stack.url("publishing", f"/api/stories/{sid}/reports"),
                    json={"reason": "It names a school."}, timeout=10)
    assert ok.status_code == 202


def test_reports_are_rate_limited_per_client(stack: Stack, corpus: dict) -> None:
    """REPORT_RATE_LIMIT (default 10/hour): the eleventh report from one address gets
    429 with Retry-After, on the API and the form; another address is not affected."""
    if 3600 - time.time() % 3600 < 60:  # stay inside one hourly window
        time.sleep(3600 - time.time() % 3600 + 1)
    sid = corpus["en"]["id"]
    url = stack.url("publishing", f"/api/stories/{sid}/reports")
    first, second = loopback_source(), loopback_source()
    with httpx.Client(timeout=10, transport=httpx.HTTPTransport(local_address=first)) as client:
        statuses = [client.post(url, json={"reason": f"Report {i} names a place."}).status_code for i in range(11)]
        assert statuses == [202] * 10 + [429], statuses
        again = client.post(url, json={"reason": "One more."})
        assert again.status_code == 429 and 0 < int(again.headers["retry-after"]) <= 3600
        assert "try again later" in again.json()["errors"]["reason"]
        form = client.post(stack.url("publishing", f"/stories/{sid}/report"), data={"reason": "x"})
        assert form.status_code == 429 and int(form.headers["retry-after"]) > 0
        assert "try again later" in form.text
    with httpx.Client(timeout=10, transport=httpx.HTTPTransport(local_address=second)) as client:
        assert client.post(url, json={"reason": "A different reader."}).status_code == 202


def test_support_page_placeholder_then_admin_edit(stack: Stack, admin: httpx.Client) -> None:
    page = httpx.get(stack.url("publishing", "/support"), timeout=10)
    assert page.status_code == 200
    if "resources-placeholder" in page.text:  # nothing saved yet in this database
        assert "not listed yet" in page.text
    name = unique("Test line ")
    bad = admin.put("/api/resources", json={"entries": [{"region": "Testland", "name": name}]})
    assert bad.status_code == 422
    r = admin.put("/api/resources", json={"intro": "Checked by the admins.", "entries": [
        {"region": "Testland", "name": name, "contact": "Call the number on the card", "url": "https://example.org/"}]})
    assert r.status_code == 200, r.text
    wait_until(lambda: name in httpx.get(stack.url("publishing", "/support"), timeout=10).text, 20,
               what="resources on /support")
    anonymous = httpx.put(stack.url("moderation", "/api/resources"), json={"entries": []}, timeout=10)
    assert anonymous.status_code == 401


def test_unknown_pages_and_bad_queries_are_4xx(stack: Stack) -> None:
    assert httpx.get(stack.url("publishing", "/nope"), timeout=10).status_code == 404
    assert httpx.get(stack.url("publishing", "/stories/not-a-uuid"), timeout=10).status_code == 404
    assert httpx.get(stack.url("publishing", "/"), params={"cursor": "x"}, timeout=10).status_code == 400
    assert httpx.get(stack.url("publishing", "/"), params={"q": "q" * 201}, timeout=10).status_code == 400
    assert httpx.get(stack.url("publishing", "/tags/" + "t" * 150), timeout=10).status_code == 400
    assert httpx.get(stack.url("publishing", "/feed.atom"), params={"tag": "t" * 150}, timeout=10).status_code == 422
