"""Content warnings keep the author's order and drop near-duplicates (issue 14, point 9)."""

from __future__ import annotations

from services.moderation.decisions import merge_warnings


def test_author_order_is_kept_and_new_ones_follow() -> None:
    assert merge_warnings(["racism", "family rejection"], ["violence"]) == ["racism", "family rejection", "violence"]


def test_near_duplicates_are_left_out() -> None:
    assert merge_warnings(["suicidal ideation"], ["suicidal thoughts", "Suicidal ideation"]) == ["suicidal ideation"]
    assert merge_warnings(["self-harm"], ["Self harm", "self-harming"]) == ["self-harm"]
    assert merge_warnings(["eating disorders"], ["eating disorder"]) == ["eating disorders"]


def test_different_warnings_stay() -> None:
    assert merge_warnings(["suicide"], ["suicidal ideation", "grief and loss"]) == [
        "suicide", "suicidal ideation", "grief and loss"]
