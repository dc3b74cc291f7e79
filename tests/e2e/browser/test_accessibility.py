"""axe-core (bundled by the axe-playwright-python package, so no npm) on every public
page, light and dark, phone and desktop: zero serious or critical violations."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.browser.conftest import shot
from tests.e2e.publishing.flow import publish, reject, unique
from tests.stack import Stack, wait_until

pytestmark = pytest.mark.browser


def _axe(page: Any) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.fixture(scope="module")
def published(stack: Stack, admin: Any) -> dict[str, str]:
    title = unique("Axe story ")
    sid, receipt = publish(stack, admin, title=title, tags=["Vietnamese", "solidarity"],
                           content_warnings=["racism"], body="Every word of this story is here to be checked. 越南")
    gone_title = unique("Axe gone ")
    gone_id, gone_receipt = publish(stack, admin, title=gone_title)
    import httpx

    httpx.post(stack.url("submission", "/api/receipts/withdraw"), json={"receipt": gone_receipt}, timeout=30)
    rejected_title = unique("Axe rejected ")
    rejected_receipt = stack.submit(title=rejected_title, body="A story a moderator sends back, with its reason.")
    reject(stack, admin, rejected_title, "Please take out the street name and send it again.")
    wait_until(lambda: stack.receipt_status(rejected_receipt)["status"] == "rejected", 20, what="rejected")
    return {"id": sid, "receipt": receipt, "gone": gone_id, "rejected": rejected_receipt}


def _pages(stack: Stack, p: dict[str, str]) -> list[tuple[str, str, Any]]:
    """(name, url, action to reach the state) for every public page and state."""
    sub, pub = stack.url("submission").rstrip("/"), stack.url("publishing").rstrip("/")

    def errors(page: Any) -> None:
        page.click("button[value=send]")

    def preview(page: Any) -> None:
        page.fill("#title", "Checking the preview")
        page.fill("#body", "A body long enough to preview, with 中文 and हिंदी.")
        page.check("input[name=cw][value='racism']")
        page.click("button[value=preview]")

    def receipt(page: Any) -> None:
        preview(page)
        page.click("button[value=send]")

    def status(page: Any) -> None:
        page.fill("#receipt", p["receipt"])
        page.click("text=Check status")
        page.click("text=Withdraw my story…")
        page.click("text=Withdraw and delete")  # unticked: shows the error state

    def privacy_findings(page: Any) -> None:
        page.fill("#title", "Checking the privacy check")
        page.fill("#body", "Call Maria Santos on +44 20 7946 0958 or write to maria@example.com.")
        page.click("button[value=preview]")

    def status_rejected(page: Any) -> None:
        page.fill("#receipt", p["rejected"])
        page.click("text=Check status")

    def report_error(page: Any) -> None:
        page.click("text=Send report")

    return [
        ("form", f"{sub}/", None), ("form-errors", f"{sub}/", errors), ("preview", f"{sub}/", preview),
        ("receipt", f"{sub}/", receipt), ("privacy", f"{sub}/privacy", None),
        ("guidelines", f"{sub}/guidelines", None), ("status", f"{sub}/status", None),
        ("status-withdraw", f"{sub}/status", status), ("sub-404", f"{sub}/nowhere", None),
        ("feed", f"{pub}/", None), ("search", f"{pub}/?q=越南", None), ("tags", f"{pub}/tags", None),
        ("tag", f"{pub}/tags/solidarity", None), ("story", f"{pub}/stories/{p['id']}", None),
        ("report", f"{pub}/stories/{p['id']}/report", report_error), ("support", f"{pub}/support", None),
        ("gone", f"{pub}/stories/{p['gone']}", None), ("pub-404", f"{pub}/nowhere", None),
        ("preview-privacy", f"{sub}/", privacy_findings), ("status-rejected", f"{sub}/status", status_rejected),
        ("feeds", f"{pub}/feeds", None),
        ("report-outcome", f"{pub}/reports/RP-00000-00000", None),
    ]


@pytest.mark.parametrize("dark, width", [(False, 1280), (True, 360)])
def test_no_serious_violations_on_any_public_page(stack: Stack, published: dict, new_page: Any,
                                                  dark: bool, width: int) -> None:
    failures = {}
    for name, url, action in _pages(stack, published):
        page = new_page(js=True, width=width, dark=dark)
        page.goto(url)
        if action:
            action(page)
        page.wait_for_load_state()
        found = _axe(page)
        if found:
            failures[name] = found
        if dark or name in ("support", "privacy", "tags", "gone", "guidelines"):
            shot(page, f"axe-{name}-{'dark' if dark else 'light'}-{width}")
        page.context.close()
    assert failures == {}, failures


def test_focus_is_visible_and_in_order(stack: Stack, new_page: Any) -> None:
    page = new_page(js=True, width=1280)
    page.goto(stack.url("submission", "/"))
    order = []
    for _ in range(12):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))
    assert order[0] == "Skip to content"
    # Skip link, brand, then the quick exit, the site links, the privacy link, then the form.
    assert order.index("quick-exit") == 2 and order.index("quick-exit") < order.index("title")
    for _ in range(12):
        if page.evaluate("document.activeElement.id") == "title":
            break
        page.keyboard.press("Shift+Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
