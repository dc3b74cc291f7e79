"""A member whose browser keeps no cookie can share, preview, get a receipt, check it
and withdraw, with and without JavaScript; no public page even tries to set a cookie.

Chromium's "block all cookies" preference, written into a fresh profile, was not
honoured under Playwright's persistent context here (the moderation cookie was still
stored), so the browser's cookie jar is cut off at the network instead: every
response loses its Set-Cookie and every request its Cookie header. The test first
proves the cut on moderation's login page, which does offer a cookie.
Screenshots in /work/wt/notes/shots/trustedge/ (or test-artifacts/)."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
        set_cookies: list[str] = []

        def no_cookies(route: Any) -> None:
            headers = {k: v for k, v in route.request.headers.items() if k.lower() != "cookie"}
            response = route.fetch(headers=headers)
            kept = {}
            for k, v in response.headers.items():
                if k.lower() == "set-cookie":
                    set_cookies.append(f"{route.request.url} {v}")
                else:
                    kept[k] = v
            route.fulfill(response=response, headers=kept)

        ctx.route("http://127.0.0.1*/**", no_cookies)
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        yield page, set_cookies
        ctx.close()


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("cookieless", [False, True], ids=["nojs", "js"], indirect=True)
def test_the_member_form_works_with_cookies_disabled(stack: Stack, cookieless: Any, request: Any) -> None:
    page, offered = cookieless
    # The browser really refuses cookies: moderation's login page offers one, and none is kept.
    page.goto(stack.url("moderation", "/login"))
    assert any("braided_csrf" in c for c in offered)
    assert page.context.cookies() == []
    offered.clear()

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
    # The publishing pages too; and nothing anywhere tried to set a cookie.
    page.goto(stack.url("publishing", "/"))
    assert page.context.cookies() == []
    assert offered == []
