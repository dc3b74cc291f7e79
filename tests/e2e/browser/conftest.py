"""A reusable Playwright launch of Debian's Chromium (never a downloaded browser).

`browser` is one Chromium for the session; `new_page(js=..., width=...)` opens a page
in a fresh context (fresh cookies and history), with the quick-exit neutral site
served locally because the tests have no internet. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
NEUTRAL = "https://www.bbc.com/weather"  # QUICK_EXIT_URL's default; intercepted below
NEUTRAL_HTML = "<!doctype html><title>Weather</title><h1>Weather forecast</h1>"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    home = tempfile.mkdtemp(prefix="braided-chromium-")
    env = os.environ | {"HOME": home, "XDG_CONFIG_HOME": f"{home}/.config", "XDG_CACHE_HOME": f"{home}/.cache"}
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS, env=env)
        yield b
        b.close()


@pytest.fixture()
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    contexts = []

    def make(js: bool = True, width: int = 1280, dark: bool = False) -> Any:
        ctx = browser.new_context(java_script_enabled=js, viewport={"width": width, "height": 900},
                                  color_scheme="dark" if dark else "light", reduced_motion="reduce")
        ctx.route(NEUTRAL + "**", lambda route: route.fulfill(status=200, body=NEUTRAL_HTML,
                                                              content_type="text/html; charset=utf-8"))
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    # The first screenful too: a long phone page shrinks to nothing when viewed whole.
    page.screenshot(path=str(ARTIFACTS / f"{name}-top.png"))
    return path
