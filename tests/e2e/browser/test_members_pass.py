"""Issue 14 in a real browser: quick exit after several pages (point 4), the receipt
page of a rejected story (point 1), the admin's way to the support page (point 3).
Screenshots also go to /work/wt/notes/shots/members/ when that folder exists."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser.conftest import NEUTRAL, shot
from tests.e2e.publishing.flow import publish, reject, unique, unique_letters
from tests.stack import Stack, wait_until

pytestmark = pytest.mark.browser
NOTES = Path("/work/wt/notes/shots/members")


def note_shot(page: Any, name: str) -> None:
    shot(page, name)
    if NOTES.is_dir():
        page.screenshot(path=str(NOTES / f"{name}.png"), full_page=True)


def test_quick_exit_after_several_pages_leaves_no_braided_page_behind(stack: Stack, admin: Any,
                                                                     new_page: Any) -> None:
    title = unique("Exit path ")
    sid, _ = publish(stack, admin, title=title)
    page = new_page(js=True, width=360)
    page.goto(stack.url("publishing", "/"))
    page.click(f"a[href='/stories/{sid}']")
    page.wait_for_url(f"**/stories/{sid}")
    page.click("a[href='/support']")
    page.wait_for_url("**/support")
    page.click("#quick-exit")
    page.wait_for_url(NEUTRAL)
    page.go_back()
    assert not page.url.startswith("http://127.0.0.1"), page.url  # not the story, not the feed


def test_status_page_of_a_rejected_story(stack: Stack, admin: Any, new_page: Any) -> None:
    title = unique("Lunar new year ")
    body = "Tết with my aunt, bánh chưng, and the street I grew up on — I named it here."
    receipt = stack.submit(title=title, body=body)
    reject(stack, admin, title, "Thank you for writing. Please leave out the street name and send it again.")
    wait_until(lambda: stack.receipt_status(receipt)["status"] == "rejected", 20, what="rejected")
    page = new_page(js=True, width=360)
    page.goto(stack.url("submission", "/status"))
    page.fill("#receipt", receipt)
    page.click("text=Check status")
    assert page.inner_text("#status") == "Not published"
    assert page.inner_text("#your-story-title") == title and body in page.inner_text("#your-story-body")
    # The receipt code does not overflow at 360 px.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    note_shot(page, "status-rejected-360")
    page.click("#resend")
    assert page.input_value("#title") == title and page.input_value("#body") == body
    assert page.locator("#resend-note").is_visible()
    note_shot(page, "resend-form-360")


def test_admin_reaches_the_support_page_editor_from_the_nav(stack: Stack, admin: Any) -> None:
    page = admin.get("/queue")
    assert re.search(r'<a href="/resources"[^>]*>Support</a>', page.text)


def _begin(stack: Stack, new_page: Any, js: bool, title: str, body: str) -> Any:
    """A phone-width form with a title and text typed in."""
    page = new_page(js=js, width=360)
    page.goto(stack.url("submission", "/"))
    page.fill("#title", unique_letters(title))
    page.fill("#body", body)
    return page


def test_privacy_check_keep_and_edit(stack: Stack, new_page: Any) -> None:
    page = _begin(stack, new_page, True, "Above the shop ",
                  "I grew up at 12 Jalan Besar Road. Text me on +65 6123 4567 or lin.tan@example.com.")
    page.locator("#privacy-typing", has_text="an email address").wait_for()  # the CSP forbids eval
    assert "a phone number" in page.inner_text("#privacy-typing")
    page.click("button[value=preview]")
    findings = page.locator(".finding")
    assert findings.count() == 3
    note_shot(page, "privacy-check-preview-360")
    findings.nth(0).locator(".finding-keep").click()
    assert not findings.nth(0).is_visible()
    findings.nth(1).locator(".finding-edit").click()
    selected = page.evaluate("(() => { const b = document.getElementById('body');"
                             " return b.value.slice(b.selectionStart, b.selectionEnd); })()")
    assert selected and selected in page.input_value("#body") and page.evaluate(
        "document.activeElement.id") == "body"


def test_phone_layout_guidelines_first_and_long_pen_name_wraps(stack: Stack, admin: Any, new_page: Any) -> None:
    sid, _ = publish(stack, admin, title=unique("Long pen name "), pen_name="Z" * 40)
    page = new_page(js=False, width=360)
    page.goto(stack.url("publishing", "/"))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.goto(stack.url("publishing", f"/stories/{sid}"))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.goto(stack.url("submission", "/"))
    guidelines = page.locator("aside.guidelines").bounding_box()
    form = page.locator("form[action='/stories']").bounding_box()
    assert guidelines["y"] < form["y"]  # read the guidelines, then write
    desktop = new_page(js=False, width=1280)
    desktop.goto(stack.url("submission", "/"))
    assert desktop.locator("aside.guidelines").bounding_box()["x"] > desktop.locator(
        "form[action='/stories']").bounding_box()["x"]  # beside the form on a wide screen


def test_receipt_code_breaks_only_between_groups(stack: Stack, new_page: Any) -> None:
    page = _begin(stack, new_page, False, "Receipt wrap ", "A story long enough to be sent and get its receipt.")
    page.click("button[value=send]")
    code = page.inner_text("#receipt")
    lines = page.evaluate("""(() => { const el = document.getElementById('receipt'); const r = document.createRange();
        const t = el.firstChild; const tops = new Map();
        for (let i = 0; i < t.length; i++) { r.setStart(t, i); r.setEnd(t, i + 1);
          const top = Math.round(r.getBoundingClientRect().top); tops.set(top, (tops.get(top) || '') + t.data[i]); }
        return Array.from(tops.values()); })()""")
    assert "".join(lines).strip() == code.strip()
    for line in lines:  # every line is whole groups: a break only after a dash
        assert re.fullmatch(r"(BR-)?([0-9A-Z]{5}-?)*", line.strip()), lines
