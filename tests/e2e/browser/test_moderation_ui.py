"""The moderator workspace in a real browser: log in, keyboard decisions, the
author's receipt, held content blurred until revealed, live new stories."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.browser import mod_fixtures
from tests.e2e.browser.mod_fixtures import shot
from tests.e2e.moderation.mod_helpers import PASSWORD, db_fetch, file_item, new_moderator
from tests.stack import Stack, wait_until

pytestmark = pytest.mark.browser
mod_browser = mod_fixtures.mod_browser  # the module's Chromium fixture


@pytest.fixture()
def page(stack: Stack, mod_browser):
    context = mod_browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    yield page
    context.close()
    # No CSP violations, no script errors (a wrong password's 401 page is expected).
    errors = [e for e in errors if "status of 401" not in e]
    assert not errors, errors


def _login(page, stack: Stack, role: str = "moderator") -> str:
    name = new_moderator(stack, role)
    page.goto(stack.url("moderation", "/login"))
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/queue$"))
    return name


def _state(stack: Stack, sid: str) -> str:
    return db_fetch(stack.dsn, "SELECT state FROM moderation.queue_items WHERE story_id = $1",
                    uuid.UUID(sid))[0]["state"]


def test_log_in(stack: Stack, page) -> None:
    page.goto(stack.url("moderation", "/queue"))
    assert page.url.endswith("/login")
    page.fill("#username", "nobody-" + uuid.uuid4().hex[:6])
    page.fill("#password", "wrong password here")
    page.click("button[type=submit]")
    assert "do not match" in page.inner_text("#login-error")
    name = _login(page, stack)
    assert page.inner_text("h1") == "Review queue"
    assert name in page.inner_text("header.site")
    shot(page, "queue")


def test_approve_with_the_keyboard(stack: Stack, page) -> None:
    _login(page, stack)
    # In the list: j selects, x ticks for bulk, ? shows the shortcuts.
    file_item(stack)
    page.goto(stack.url("moderation", "/queue"))
    page.keyboard.press("j")
    first = page.locator("article.item").first
    assert "selected" in first.get_attribute("class")
    page.keyboard.press("x")
    assert first.locator("input.select").is_checked()
    assert "1 selected" in page.inner_text("#bulk-count")
    page.keyboard.press("?")
    assert page.locator("#shortcuts").is_visible()
    shot(page, "shortcuts")
    page.keyboard.press("Escape")
    assert not page.locator("#shortcuts").is_visible()

    sid, title = file_item(stack, title=f"Keyboard approve {uuid.uuid4().hex[:6]}")
    page.goto(stack.url("moderation", f"/queue/{sid}"))
    page.keyboard.press("a")
    page.wait_for_url(re.compile(r"done="))
    assert "Story approved." in page.inner_text("#flash")
    assert _state(stack, sid) == "approved"
    shot(page, "approved")


def test_reject_with_a_reason_reaches_the_receipt(stack: Stack, page) -> None:
    _login(page, stack)
    title = f"Rejected kindly {uuid.uuid4().hex[:6]}"
    receipt = stack.submit(title=title, body="A story that names a real school, so it goes back to its author.")
    sid = wait_until(lambda: db_fetch(stack.dsn, "SELECT story_id FROM moderation.queue_items WHERE title = $1",
                                      title), 30, what="story in the queue")[0]["story_id"]
    page.goto(stack.url("moderation", f"/queue/{sid}"))
    page.keyboard.press("r")
    reason_box = page.locator(f"#rej-reason-{sid}")
    assert reason_box.evaluate("el => el === document.activeElement")
    # Picking a template fills the reason; the moderator edits it before sending.
    page.select_option(f"#rej-tpl-{sid}", label="Identifies someone")
    assert "could identify a real person" in reason_box.input_value()
    reason = "Your story names a real school. Please take the name out and share it again."
    reason_box.fill(reason)
    shot(page, "reject-reason")
    reason_box.press("Enter")
    page.wait_for_url(re.compile(r"done="))
    assert "Story rejected." in page.inner_text("#flash")
    status = wait_until(lambda: (s := stack.receipt_status(receipt))["status"] == "rejected" and s, 15,
                        what="receipt rejected")
    assert status["reason"] == reason


def test_held_item_is_blurred_until_revealed(stack: Stack, page, mod_browser) -> None:
    _login(page, stack)
    title = f"Held story {uuid.uuid4().hex[:6]}"
    stack.submit(title=title, body="Someone wrote zorblat zorblat at me on the bus and I want to tell you about it.")
    row = wait_until(lambda: db_fetch(stack.dsn, "SELECT story_id, label FROM moderation.queue_items"
                                                 " WHERE title = $1", title), 30, what="held story filed")[0]
    assert row["label"] == "held"
    sid = row["story_id"]
    page.goto(stack.url("moderation", f"/queue/{sid}"))
    story = page.locator(f"#story-{sid}")
    assert "blurred" in story.get_attribute("class")
    filt = story.evaluate("el => getComputedStyle(el).filter")
    assert "blur" in filt and "grayscale" in filt
    assert "It fired on:" in page.inner_text(f"#warn-{sid}")
    shot(page, "held-blurred")
    page.click("text=Show this story")
    page.wait_for_selector(f"#story-{sid}:not(.blurred)")
    assert story.evaluate("el => getComputedStyle(el).filter") == "none"
    assert page.locator(f"#warn-{sid}").count() == 0
    shot(page, "held-revealed")

    # Without JavaScript: the same reveal is a plain form.
    context = mod_browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    try:
        nojs = context.new_page()
        _login(nojs, stack)
        nojs.goto(stack.url("moderation", f"/queue/{sid}"))
        assert "blurred" in nojs.locator(f"#story-{sid}").get_attribute("class")
        nojs.click("text=Show this story")
        nojs.wait_for_load_state()
        assert "blurred" not in nojs.locator(f"#story-{sid}").get_attribute("class")
        shot(nojs, "held-revealed-nojs")
    finally:
        context.close()


def test_new_submission_appears_live(stack: Stack, page) -> None:
    _login(page, stack)
    page.goto(stack.url("moderation", "/queue"))
    before = int(page.inner_text("nav.tabs a[aria-current=page] .count"))
    assert page.locator("#live").is_hidden()
    page.wait_for_timeout(500)  # let the EventSource connect
    stack.submit(title=f"Live arrival {uuid.uuid4().hex[:6]}", body="A story that arrives while the queue is open.")
    page.wait_for_selector("#live:not([hidden])", timeout=30000)
    assert re.match(r"\d+ new stor(y|ies)", page.inner_text("#live-button"))
    shot(page, "live-new-story")
    page.click("#live-button")
    page.wait_for_load_state()
    after = int(page.inner_text("nav.tabs a[aria-current=page] .count"))
    assert after >= before + 1
    assert page.locator("#live").is_hidden()


def test_dashboard_audit_and_admin_pages_render_cleanly(stack: Stack, page) -> None:
    _login(page, stack, "admin")
    for path, name in (("/dashboard", "dashboard"), ("/audit", "audit"), ("/admin/moderators", "moderators"),
                       ("/admin/wordlists", "wordlists"), ("/admin/reasons", "reasons")):
        page.goto(stack.url("moderation", path))
        assert page.locator("h1").count() == 1
        shot(page, name)
    page.goto(stack.url("moderation", "/dashboard"))
    assert page.locator("svg.chart").count() == 4


@pytest.mark.parametrize("width", [360, 1280])
def test_workspace_pages_fit_the_screen(stack: Stack, page, width: int) -> None:
    """Volunteers moderate from phones too: no page scrolls sideways at 360 px (wide
    tables scroll inside their own box), and on a laptop the header is one line."""
    page.set_viewport_size({"width": width, "height": 900})
    _login(page, stack, "admin")
    for path in ("/queue", "/dashboard", "/audit", "/admin/moderators", "/admin/wordlists", "/admin/reasons"):
        page.goto(stack.url("moderation", path))
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
        if width >= 1280:
            header = page.locator("header.site .wrap").bounding_box()
            logout = page.locator("header.site .logout").bounding_box()
            assert logout["y"] < header["y"] + 20, f"{path}: the account and Log out wrapped to a second line"


def test_workspace_pages_have_no_serious_accessibility_violations(stack: Stack, page) -> None:
    """axe-core, as on the public pages: the moderators are users too."""
    from tests.e2e.browser.test_accessibility import _axe

    sid, _ = file_item(stack, label="held", severity=0.9, scores={"threat": 0.9})
    _login(page, stack, "admin")
    found = {}
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        for path in ("/queue", "/queue?label=held", "/dashboard", "/audit", "/admin/moderators", "/admin/wordlists",
                     "/admin/reasons", "/resources", f"/queue/{sid}", "/queue?state=appealed", "/me",
                     "/queue?sel=all&error=Give+the+author+a+reason."):
            page.goto(stack.url("moderation", path))
            if violations := _axe(page):
                found[f"{path} @{width}"] = violations
    assert found == {}, found
