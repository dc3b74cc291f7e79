"""Members and readers in a real browser (Debian Chromium), with and without JavaScript,
at phone (360 px) and desktop (1280 px) widths. Screenshots land in test-artifacts/."""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

import httpx
import pytest

from tests.e2e.browser.conftest import NEUTRAL, shot
from tests.e2e.publishing.flow import publish, unique
from tests.stack import Stack, wait_until

pytestmark = pytest.mark.browser

STORY = ("My grandmother in Manila taught me the word anák; my grandmother in Osaka taught me 娘. "
         "Between them I learned that a word can hold you. 👩‍❤️‍👩")


def _fill_form(page: Any, title: str) -> None:
    page.fill("#title", title)
    page.fill("#body", STORY)
    page.fill("#pen_name", "Kalayaan 🌸")
    page.fill("#heritage", "Filipino, Japanese")
    page.check("input[name=themes][value='language']")
    page.check("input[name=themes][value='family and tradition']")
    page.check("input[name=cw][value='homophobia']")
    page.fill("#cw_other", "a difficult dinner")


@pytest.mark.parametrize("js, width", [(False, 360), (True, 1280)])
def test_share_preview_receipt_status_withdraw(stack: Stack, new_page: Any, js: bool, width: int) -> None:
    mode = f"{'js' if js else 'nojs'}-{width}"
    page = new_page(js=js, width=width)
    page.goto(stack.url("submission", "/"))
    shot(page, f"form-{mode}")
    # Errors first: an empty send names each field and links to it.
    page.click("button[value=send]")
    assert page.locator("#title-error").inner_text() == "Give your story a title."
    assert page.get_attribute("#title", "aria-describedby") == "title-error"
    shot(page, f"form-errors-{mode}")

    title = unique(f"Two grandmothers {mode} ")
    _fill_form(page, title)
    if js:  # the live counter counts code points, as the server does
        assert re.match(r"^\d+ of 20,000 characters$", page.inner_text("#body-count"))
        page.fill("#body", "short")
        assert "at least 20 needed" in page.inner_text("#body-count")
        page.fill("#body", STORY)
    page.click("button[value=preview]")
    preview = page.locator("#preview")
    assert "preview — not sent yet" in preview.inner_text().lower()
    assert title in preview.inner_text()
    preview.locator("summary").click()  # its content warning is collapsed, as on the feed
    assert "👩‍❤️‍👩" in preview.locator(".story-body").inner_text()
    assert page.input_value("#body") == STORY  # the form comes back filled
    shot(page, f"preview-{mode}")

    page.click("button[value=send]")
    receipt = page.inner_text("#receipt").strip()
    assert re.fullmatch(r"BR(-[0-9A-Z]{5}){4}", receipt)
    assert receipt not in page.url
    copy = page.locator("button[data-copy=receipt]")
    if js:
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        copy.click()
        page.wait_for_function("document.getElementById('receipt-copied').textContent.length > 0")
        assert "Copied" in page.inner_text("#receipt-copied")
        assert page.evaluate("navigator.clipboard.readText()") == receipt
    else:
        assert not copy.is_visible()
    shot(page, f"receipt-{mode}")

    page.click("nav[aria-label=Site] >> text=Check a receipt")
    page.fill("#receipt", receipt)
    page.click("text=Check status")
    assert page.inner_text("#status") in ("Received — waiting to be read", "Waiting for a moderator")
    shot(page, f"status-{mode}")
    page.click("text=Withdraw my story…")
    page.click("text=Withdraw and delete")  # without the tick: refused, tied to the box
    assert page.locator("#confirm-error").is_visible()
    page.check("#confirm")
    page.click("text=Withdraw and delete")
    assert "Your story has been withdrawn" in page.inner_text("main")
    shot(page, f"withdrawn-{mode}")
    assert stack.receipt_status(receipt)["status"] == "withdrawn"


@pytest.fixture(scope="module")
def stories(stack: Stack, admin: Any) -> dict[str, Any]:
    tag = unique("Zainichi-")
    out = {"tag": tag}
    for key, title, body, cws in [
        ("zh", unique("月饼 "), "中秋节的晚上，我和女朋友一起吃月饼，妈妈终于笑了。", []),
        ("ja", unique("味噌汁 "), "東京の祖母は私の恋人に初めて会った日、黙って味噌汁を出してくれた。", ["homophobia"]),
        ("en", unique("Lola's kitchen "), "मेरी नानी, my lola, and a kitchen full of Tagalog — pagkâ, anák. 👩🏽‍🍳",
         ["grief and loss"]),
    ]:
        sid, _ = publish(stack, admin, title=title, body=body, tags=[tag, "food and festivals"],
                         content_warnings=cws)
        out[key] = {"id": sid, "title": title, "body": body}
    return out


@pytest.mark.parametrize("width", [360, 1280])
def test_read_feed_tag_search_and_content_warning(stack: Stack, stories: dict, new_page: Any, width: int) -> None:
    page = new_page(js=width == 1280, width=width)
    page.goto(stack.url("publishing", "/"))
    assert stories["en"]["title"] in page.inner_text("main")
    shot(page, f"feed-{width}")
    page.goto(stack.url("publishing", "/tags"))
    page.click(f"a[href='/tags/{urllib.parse.quote(stories['tag'])}']")
    main = page.inner_text("main")
    assert f"Heritage: {stories['tag']}" in main
    assert main.index(stories["en"]["title"]) < main.index(stories["ja"]["title"]) < main.index(stories["zh"]["title"])
    shot(page, f"tag-{width}")

    for q, key in (("味噌汁", "ja"), ("女朋友", "zh")):
        page.goto(stack.url("publishing", "/"))
        page.fill("#q", q)
        page.click("form[role=search] button")
        main = page.inner_text("main")
        assert stories[key]["title"] in main
        assert stories["zh" if key == "ja" else "ja"]["title"] not in main
    shot(page, f"search-{width}")

    page.goto(stack.url("publishing", f"/stories/{stories['ja']['id']}"))
    body = page.locator("details.cw .story-body")
    assert not body.is_visible()  # collapsed until the reader chooses
    page.click("details.cw summary")
    assert body.is_visible() and stories["ja"]["body"] in body.inner_text()
    shot(page, f"story-cw-open-{width}")


def test_report_a_story(stack: Stack, stories: dict, new_page: Any) -> None:
    page = new_page(js=False, width=360)
    page.goto(stack.url("publishing", f"/stories/{stories['zh']['id']}"))
    page.click("text=Report this story")
    page.click("text=Send report")  # no reason: refused, tied to the field
    assert page.locator("#reason-error").is_visible()
    assert "reason-error" in page.get_attribute("#reason", "aria-describedby")
    page.fill("#reason", "这个故事提到了一个学校的名字。")
    page.click("text=Send report")
    assert "A moderator will look at this story" in page.inner_text("main")
    shot(page, "report-sent-360")


@pytest.mark.parametrize("how", ["button", "escape-twice"])
def test_quick_exit_leaves_nothing_to_go_back_to(stack: Stack, stories: dict, new_page: Any, how: str) -> None:
    page = new_page(js=True, width=360)
    page.goto(stack.url("publishing", f"/stories/{stories['en']['id']}"))
    if how == "button":
        page.click("#quick-exit")
    else:
        page.keyboard.press("Escape")
        page.keyboard.press("Escape")
    page.wait_for_url(NEUTRAL)
    assert "Weather forecast" in page.content()
    page.go_back()
    assert not page.url.startswith("http://127.0.0.1"), page.url  # Back does not return to the story


def test_quick_exit_without_javascript_is_a_plain_link(stack: Stack, new_page: Any) -> None:
    page = new_page(js=False, width=360)
    page.goto(stack.url("submission", "/"))
    assert page.locator("#quick-exit").is_visible()
    page.click("#quick-exit")
    page.wait_for_url(NEUTRAL)


def test_gone_story_page_says_so(stack: Stack, admin: Any, new_page: Any) -> None:
    title = unique("Soon gone ")
    sid, receipt = publish(stack, admin, title=title)
    httpx.post(stack.url("submission", "/api/receipts/withdraw"), json={"receipt": receipt}, timeout=30)
    wait_until(lambda: httpx.get(stack.url("publishing", f"/stories/{sid}"), timeout=10).status_code == 410, 20)
    page = new_page(js=False, width=360)
    response = page.goto(stack.url("publishing", f"/stories/{sid}"))
    assert response.status == 410 and "no longer here" in page.inner_text("h1")
