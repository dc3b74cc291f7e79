"""Readers' side of issue 14: Atom keeps content warnings folded (point 2), search
ignores accents (point 6), a fresh install's support page lists help (point 3)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import pytest

from tests.e2e.publishing.flow import publish, unique

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def accented(stack, admin) -> dict:
    tag = unique("Kinh-")
    out = {"tag": tag}
    for key, title, body, cws in [
        ("tet", unique("Tết at home "), "Bánh chưng for Tết, and my mother finally asked about her.", []),
        ("ozoni", unique("New year "), "My obāchan's ozōni, the first year I brought him home.", []),
        ("warned", unique("Hard winter "), "The winter I stopped eating, and the friend who noticed.",
         ["suicidal ideation"]),
    ]:
        sid, _ = publish(stack, admin, title=title, body=body, tags=[tag], content_warnings=cws)
        out[key] = {"id": sid, "title": title, "body": body}
    return out


def _search(stack, q: str) -> list[str]:
    r = httpx.get(stack.url("publishing", "/api/stories"), params={"q": q}, timeout=10)
    assert r.status_code == 200, r.text
    return [i["title"] for i in r.json()["items"]]


@pytest.mark.parametrize("q, key", [("tet", "tet"), ("Tết", "tet"), ("banh chung", "tet"), ("ozoni", "ozoni"),
                                    ("obachan", "ozoni"), ("OZŌNI", "ozoni")])
def test_search_ignores_accents(stack, accented: dict, q: str, key: str) -> None:
    found = _search(stack, q)
    assert accented[key]["title"] in found
    assert accented["warned"]["title"] not in found


def test_atom_keeps_the_warned_story_folded(stack, accented: dict) -> None:
    r = httpx.get(stack.url("publishing", "/feed.atom"), params={"tag": accented["tag"]}, timeout=10)
    assert r.status_code == 200
    entries = {e.findtext(f"{ATOM}title"): e for e in ET.fromstring(r.content).findall(f"{ATOM}entry")}
    warned = entries[accented["warned"]["title"]]
    assert accented["warned"]["body"] not in r.text
    assert warned.find(f"{ATOM}content") is None
    assert "Content warning: suicidal ideation" in warned.findtext(f"{ATOM}summary")
    assert warned.find(f"{ATOM}link").get("href").endswith(f"/stories/{accented['warned']['id']}")
    plain = entries[accented["tet"]["title"]]
    assert plain.findtext(f"{ATOM}content") == accented["tet"]["body"]


def test_support_page_is_never_empty(stack) -> None:
    page = httpx.get(stack.url("publishing", "/support"), timeout=10)
    assert page.status_code == 200
    # Fresh (no save yet): the default directories; after an admin's save: theirs.
    assert 'id="resources"' in page.text and "not listed yet" not in page.text
