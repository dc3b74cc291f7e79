"""The exchange's pages (issue 15) in a real browser at 360 px, with and without
JavaScript: axe-core finds no serious or critical violation, "this resonated with
me" works both ways (the browser remembers its own press), the glossary terms are
reachable by keyboard. Screenshots of each page go to SHOTS (look at them)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.browser.test_accessibility import _axe
from tests.e2e.publishing.flow import publish, unique
from tests.stack import Stack, db_fetch, wait_until

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("EXCHANGE_SHOTS", Path(__file__).resolve().parents[3] / "test-artifacts" / "exchange"))
BODY = "Ang lola ko ay gumagawa ng 饺子 tuwing Bagong Taon, at natutunan ko ito sa kanya."


@pytest.fixture(scope="module")
def exchange(stack: Stack, admin: Any) -> dict[str, str]:
    r = admin.post("/api/prompts", json={"title": unique("The word you have no translation for "),
                                         "description": "One word, and the story around it."})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    pub = stack.url("publishing").rstrip("/")
    wait_until(lambda: any(p["id"] == pid for p in httpx.get(f"{pub}/api/prompts", timeout=10).json()["items"]),
               20, 0.2, "prompt published")
    sid, _ = publish(stack, admin, title=unique("Dalawang kusina "), body=BODY, lang="tl", prompt_id=pid,
                     translation={"lang": "en", "title": "Two kitchens",
                                  "body": "My lola made 饺子 every New Year, and I learned it from her."},
                     glossary=[{"term": "饺子", "meaning": "dumplings, folded at New Year with my Ma"},
                               {"term": "lola", "meaning": "grandmother"}])
    wait_until(lambda: db_fetch(stack.dsn, "SELECT status FROM submission.stories WHERE story_id = $1",
                                uuid.UUID(sid))[0]["status"] == "published", 20, 0.2, "answerable")
    child, _ = publish(stack, admin, title=unique("An answer "), body="Your story made me call my own lola.",
                       in_response_to=sid)
    return {"prompt": pid, "story": sid, "child": child}


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("js", [True, False])
def test_exchange_pages_at_360px(stack: Stack, exchange: dict[str, str], new_page: Any, js: bool) -> None:
    pub, sub = stack.url("publishing").rstrip("/"), stack.url("submission").rstrip("/")
    pages = {
        "prompts": f"{pub}/prompts", "prompt": f"{pub}/prompts/{exchange['prompt']}",
        "glossary": f"{pub}/glossary", "glossary-search": f"{pub}/glossary?q=grand",
        "story": f"{pub}/stories/{exchange['story']}",
        "story-translation": f"{pub}/stories/{exchange['story']}?version=translation",
        "story-response": f"{pub}/stories/{exchange['child']}",
        "form-response": f"{sub}/?in_response_to={exchange['story']}",
        "form-prompt": f"{sub}/?prompt={exchange['prompt']}",
    }
    failures = {}
    for name, url in pages.items():
        page = new_page(js=js, width=360)
        response = page.goto(url)
        page.wait_for_load_state()
        assert response is not None and response.status == 200, name
        if js:
            # axe and the layout check run scripts in the page: with JavaScript off
            # page.evaluate never returns, so those run on the JS pass (same HTML).
            if found := _axe(page):
                failures[name] = found
            # No sideways scrolling on a phone.
            assert page.evaluate("document.documentElement.scrollWidth") <= 360, name
            _shot(page, f"{name}-360")
        else:
            assert page.locator("main h1").count() >= 1, name  # the page is there without scripts
        page.close()
    assert failures == {}, failures


def test_resonance_with_javascript_remembers_the_press(stack: Stack, exchange: dict[str, str],
                                                      new_page: Any) -> None:
    page = new_page(js=True, width=360)
    url = stack.url("publishing", f"/stories/{exchange['child']}")
    page.goto(url)
    before = httpx.get(stack.url("publishing", f"/api/stories/{exchange['child']}"), timeout=10).json()["resonance"]
    page.click("form.resonate button")
    page.wait_for_selector("text=felt the same, you included")
    assert page.url == url  # stayed on the page
    assert page.evaluate(f"localStorage.getItem('braided.resonated.{exchange['child']}')") == "1"
    _shot(page, "story-resonated-js-360")
    page.reload()
    assert page.is_disabled("form.resonate button")  # the browser remembers; the server does not
    after = httpx.get(stack.url("publishing", f"/api/stories/{exchange['child']}"), timeout=10).json()["resonance"]
    assert after == before + 1
    assert page.context.cookies() == []


def test_resonance_without_javascript_says_thank_you(stack: Stack, exchange: dict[str, str], new_page: Any) -> None:
    page = new_page(js=False, width=360)
    page.goto(stack.url("publishing", f"/stories/{exchange['story']}"))
    page.click("form.resonate button")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Thank you"
    _shot(page, "resonated-nojs-360")
    assert page.context.cookies() == []


def test_glossary_terms_are_reachable_by_keyboard(stack: Stack, exchange: dict[str, str], new_page: Any) -> None:
    page = new_page(js=True, width=360)
    page.goto(stack.url("publishing", f"/stories/{exchange['story']}"))
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('gloss')"):
            break
    else:
        pytest.fail("no glossary term took the keyboard focus")
    # The first term in reading order ("lola") is the glossary's second entry.
    target = page.evaluate("document.activeElement.getAttribute('href')")
    assert target and target.startswith("#gl-"), target
    page.keyboard.press("Enter")
    # Playwright learns of a same-page (#fragment) navigation from an event that can
    # arrive after press() returns: wait for it rather than read page.url at once.
    page.wait_for_url(lambda url: url.endswith(target), timeout=5000)
    assert page.evaluate("document.activeElement.getAttribute('aria-describedby')") in (f"{target[1:]}-meaning", None)
