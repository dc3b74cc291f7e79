"""A member whose browser refuses every cookie (Chromium's own "block all cookies"
preference, in a profile of its own) can share, preview, get a receipt, check it and
withdraw, with and without JavaScript; no public page tries to set a cookie. The test
first proves the browser refuses: moderation's login page offers a cookie and none is
kept. (Playwright's `response.headers` hides Set-Cookie, so offers are read with httpx.)
Screenshots in /work/wt/notes/shots/trustedge/ (or test-artifacts/)."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.browser.conftest import ARGS, CHROMIUM, NEUTRAL, NEUTRAL_HTML
from tests.e2e.browser.test_front_door import _fill_form
from tests.e2e.publishing.flow import unique
from tests.stack import Stack

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("BRAIDED_SHOTS", Path(__file__).resolve().parents[3] / "test-artifacts"))


@pytest.fixture()
def cookieless(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A page in a Chromium profile whose preferences block all cookies."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    home = tempfile.mkdtemp(prefix="braided-chromium-nocookies-")
    profile = Path(home) / "profile"
    (profile / "Default").mkdir(parents=True)
    # chrome://settings/cookies → "Block all cookies" is this preference.
    (profile / "Default" / "Preferences").write_text(json.dumps(
        {"profile": {"default_content_setting_values": {"cookies": 2}}}))
    env = os.environ | {"HOME": home, "XDG_CONFIG_HOME": f"{home}/.config", "XDG_CACHE_HOME": f"{home}/.cache"}
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=ARGS, env=env,
            java_script_enabled=request.param, viewport={"width": 1280, "height": 900})
        ctx.route(NEUTRAL + "**", lambda route: route.fulfill(status=200, body=NEUTRAL_HTML,
                                                              content_type="text/html; charset=utf-8"))
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        yield page
        ctx.close()


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("cookieless", [False, True], ids=["nojs", "js"], indirect=True)
def test_the_member_form_works_with_cookies_disabled(stack: Stack, cookieless: Any, request: Any) -> None:
    page = cookieless
    # The browser really refuses cookies: moderation's login page offers one, and none is kept.
    assert httpx.get(stack.url("moderation", "/login"), timeout=10).headers.get("set-cookie")
    page.goto(stack.url("moderation", "/login"))
    assert page.context.cookies() == []

    page.goto(stack.url("submission", "/"))
    title = unique("No cookies ")
    _fill_form(page, title)
    page.click("button[value=preview]")
    assert title in page.locator("#preview").inner_text()
    page.click("button[value=send]")
    receipt = page.inner_text("#receipt").strip()
    assert re.fullmatch(r"BR(-[0-9A-Z]{5}){4}", receipt), page.inner_text("main")[:500]
    _shot(page, f"nocookies-receipt-{request.node.callspec.id}")
    page.click("nav[aria-label=Site] >> text=Check a receipt")
    page.fill("#receipt", receipt)
    page.click("text=Check status")
    assert page.inner_text("#status") in ("Received — waiting to be read", "Waiting for a moderator")
    page.click("text=Withdraw my story…")
    page.check("#confirm")
    page.click("text=Withdraw and delete")
    assert "Your story has been withdrawn" in page.inner_text("main")
    _shot(page, f"nocookies-withdrawn-{request.node.callspec.id}")
    assert stack.receipt_status(receipt)["status"] == "withdrawn"
    page.goto(stack.url("publishing", "/"))
    assert page.context.cookies() == []
    # What the browser was served offered no cookie either.
    for url in (stack.url("submission", "/"), stack.url("submission", "/status"), stack.url("publishing", "/")):
        assert httpx.get(url, timeout=10).headers.get_list("set-cookie") == [], url
