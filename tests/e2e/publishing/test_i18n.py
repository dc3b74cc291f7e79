"""The public pages in the request's language, through HTTP against the real stack
(issue 15 point 6): ?lang= wins and is carried on links, Accept-Language otherwise,
English for anything else; no cookie; the page cache keeps languages apart."""

from __future__ import annotations

import re

import httpx

from tests.stack import Stack


def _get(stack: Stack, service: str, path: str, **headers: str) -> httpx.Response:
    return httpx.get(stack.url(service, path), headers=headers, timeout=10)


def _lang(r: httpx.Response) -> str:
    m = re.search(r'<html lang="([^"]+)">', r.text)
    assert m, r.text[:200]
    return m.group(1)


def test_lang_query_wins_and_is_carried_on_links(stack: Stack) -> None:
    for service, path in (("publishing", "/tags"), ("submission", "/privacy")):
        r = _get(stack, service, path + "?lang=ja", **{"Accept-Language": "ko"})
        assert r.status_code == 200 and _lang(r) == "ja"
        assert "set-cookie" not in r.headers
        assert "Accept-Language" in r.headers.get("vary", "")
        # Internal links keep the explicit choice (no cookie remembers it).
        assert re.search(r'href="[^"]*/support\?lang=ja"', r.text), service
        assert 'hreflang="zh-Hant"' in r.text and 'lang="ko"' in r.text


def test_accept_language_and_fallback(stack: Stack) -> None:
    r = _get(stack, "publishing", "/tags", **{"Accept-Language": "ko-KR,ko;q=0.9"})
    assert _lang(r) == "ko" and "?lang=" not in r.text.split('class="languages"')[0]
    assert _lang(_get(stack, "publishing", "/tags?lang=xx")) == "en"
    assert _lang(_get(stack, "submission", "/", **{"Accept-Language": "de"})) == "en"
    assert "set-cookie" not in _get(stack, "submission", "/?lang=vi").headers


def test_page_cache_serves_each_language_its_own_page(stack: Stack) -> None:
    seen = {}
    for accept in ("ja", "ko", "ja", "en", "ko"):
        r = _get(stack, "publishing", "/tags", **{"Accept-Language": accept})
        assert _lang(r) == accept
        # The cache may answer compressed (the same tag with -br or -gz): compare the base.
        etag = re.sub(r'-(br|gz)"$', '"', r.headers["etag"])
        seen.setdefault(accept, etag)
        assert seen[accept] == etag
    assert len(set(seen.values())) == 3


def test_fixed_themes_and_content_warnings_read_in_the_language_but_keep_their_values(stack: Stack) -> None:
    """The form's theme and content-warning boxes, and the themes on /tags, show the
    page's language; what is posted and linked stays the stored English value."""
    form = _get(stack, "submission", "/?lang=ja").text
    assert "家族と伝統" in form and "人種差別" in form
    assert 'value="family and tradition"' in form and 'value="racism"' in form
    tags = _get(stack, "publishing", "/tags?lang=zh-Hant").text
    assert "美食與節慶" in tags
    theme = _get(stack, "publishing", "/tags/food%20and%20festivals?lang=ja").text
    assert re.search(r"<h1>[^<]*食べ物とお祭り", theme), theme[:400]
