"""Issue 14's moderator side in a real browser: `a` can be undone, "select all",
the dashboard and audit log at 360 px (points 7 and 8)."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import pytest

from tests.e2e.browser import mod_fixtures
from tests.e2e.browser.mod_fixtures import shot
from tests.e2e.moderation.mod_helpers import PASSWORD, db_fetch, file_item, new_moderator
from tests.stack import Stack

pytestmark = pytest.mark.browser
mod_browser = mod_fixtures.mod_browser
NOTES = Path("/work/wt/notes/shots/members")


def note_shot(page, name: str) -> None:
    shot(page, name)
    if NOTES.is_dir():
        page.screenshot(path=str(NOTES / f"{name}.png"), full_page=True)


@pytest.fixture()
def login(stack: Stack, mod_browser):
    contexts = []

    def make(width: int = 1280, role: str = "moderator"):
        context = mod_browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.errors = errors
        page.goto(stack.url("moderation", "/login"))
        page.fill("#username", new_moderator(stack, role))
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/queue$"))
        return page

    yield make
    for c in contexts:
        c.close()


def _state(stack: Stack, sid: str) -> str:
    return db_fetch(stack.dsn, "SELECT state FROM moderation.queue_items WHERE story_id = $1",
                    uuid.UUID(sid))[0]["state"]


def test_a_can_be_undone(stack: Stack, login) -> None:
    page = login()
    sid, _ = file_item(stack)
    page.goto(stack.url("moderation", f"/queue/{sid}"))
    page.keyboard.press("a")
    assert page.locator("#undo-toast").is_visible()
    page.keyboard.press("u")
    time.sleep(6)
    assert _state(stack, sid) == "pending"
    assert page.locator("#undo-toast").count() == 0
    assert not page.errors, page.errors


def test_select_all_ticks_every_story(stack: Stack, login) -> None:
    page = login()
    file_item(stack)
    file_item(stack)
    page.goto(stack.url("moderation", "/queue"))
    page.click("#select-all")
    boxes = page.locator("input.select")
    assert boxes.count() >= 2 and all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    assert f"{boxes.count()} selected" in page.inner_text("#bulk-count")
    page.click("#select-all")
    assert not any(boxes.nth(i).is_checked() for i in range(boxes.count()))


def test_dashboard_and_audit_at_360(stack: Stack, login) -> None:
    file_item(stack, title="Averyveryveryverylongunbrokenpennamewithoutanyspaces" + uuid.uuid4().hex[:6])
    page = login(width=360)
    page.goto(stack.url("moderation", "/dashboard"))
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('svg.chart .tick')).fontSize)")
    scale = page.evaluate("document.querySelector('svg.chart').getBoundingClientRect().width / 560")
    assert size * scale >= 9.5, (size, scale)  # drawn at least ~10 px on the phone
    ticks = page.eval_on_selector_all("svg.chart text.tick[text-anchor=end]", "els => els.map(e => e.textContent)")
    assert not [t for t in ticks if re.fullmatch(r"\d+\.\d", t)], ticks  # no fractional counts
    note_shot(page, "dashboard-360")
    page.goto(stack.url("moderation", "/audit"))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert page.locator("table.audit td[data-label=What]").first.is_visible()
    note_shot(page, "audit-360")
    page.goto(stack.url("moderation", "/queue"))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_appeal_in_the_queue(stack: Stack, login) -> None:
    sid, title = file_item(stack, title=f"Tết at my aunt's {uuid.uuid4().hex[:6]}",
                           body="Bánh chưng, the street I grew up on, and my girlfriend beside me.")
    db_fetch(stack.dsn, "UPDATE moderation.queue_items SET state = 'appealed', decided_on = current_date,"
             " decided_seq = nextval('decision_seq'),"
             " reason = 'Please leave out the street name.', appeal_message = 'It was my own street; I took the"
             " name out of the second half.', appealed_on = current_date WHERE story_id = $1 RETURNING 1",
             uuid.UUID(sid))
    page = login(width=1280)
    page.goto(stack.url("moderation", "/queue?state=appealed"))
    box = page.locator(f"#appeal-{sid}")
    assert "Please leave out the street name." in box.inner_text()
    assert "It was my own street" in box.inner_text()
    assert page.locator(f"#item-{sid} .approve-form").is_visible()
    page.locator(f"#item-{sid}").screenshot(path=str(NOTES / "appeal-in-queue.png")) if NOTES.is_dir() else None
    note_shot(page, "appeal-queue-full")
