"""Issue 14, point 9, the readers' side over HTTP: no links to empty theme pages,
previous/next on story pages, the footer's feed link explains itself."""

from __future__ import annotations

import html
import re

import httpx

from shared.taxonomy import THEMES
from tests.e2e.publishing.flow import publish, unique
from tests.stack import Stack


def test_theme_tags_without_stories_are_not_links(stack: Stack) -> None:
    page = html.unescape(httpx.get(stack.url("publishing", "/tags"), timeout=10).text)
    assert "(0)" not in page
    for theme in THEMES:
        linked = f'href="/tags/{theme.replace(" ", "%20")}"' in page
        assert linked or f"{theme} <span class=\"muted\">(none yet)</span>" in page, theme


def test_story_pages_link_to_newer_and_older(stack: Stack, admin: httpx.Client) -> None:
    ids = [publish(stack, admin, title=unique(f"Neighbour {i} "))[0] for i in range(3)]
    middle = httpx.get(stack.url("publishing", f"/stories/{ids[1]}"), timeout=10).text
    assert re.search(rf'href="/stories/{ids[2]}" rel="prev" id="newer-story"', middle)
    assert re.search(rf'href="/stories/{ids[0]}" rel="next" id="older-story"', middle)


def test_footer_feed_link_leads_to_an_explanation(stack: Stack) -> None:
    front = httpx.get(stack.url("publishing", "/"), timeout=10).text
    footer = front[front.index('<footer class="site">'):]
    assert "feed.atom" not in footer and "/feeds\">Follow in a feed reader" in footer
    page = httpx.get(stack.url("publishing", "/feeds"), timeout=10)
    assert page.status_code == 200 and "/feed.atom</p>" in page.text and "feed reader" in page.text
