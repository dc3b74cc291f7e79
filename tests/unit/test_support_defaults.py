"""A fresh install's /support lists something (issue 14, point 3)."""

from __future__ import annotations

from services.publishing.support import support_context


def test_fresh_install_lists_default_directories() -> None:
    ctx = support_context(None)
    assert ctx["default_resources"] and "Everywhere" in ctx["regions"]
    assert all(e["url"].startswith("https://") for items in ctx["regions"].values() for e in items)


def test_saved_resources_replace_the_defaults() -> None:
    ctx = support_context({"intro": "Ours.", "entries": [{"region": "Testland", "name": "Line", "contact": "1"}]})
    assert not ctx["default_resources"] and list(ctx["regions"]) == ["Testland"] and ctx["intro"] == "Ours."
