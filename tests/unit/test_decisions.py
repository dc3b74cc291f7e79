"""Parsing a moderator's decision: reasons, content warnings, and tag edits, which
follow the same rule as the submission form's tags."""

from __future__ import annotations

import pytest

from services.moderation.decisions import Decision
from services.moderation.views.decisions import parse_decision
from services.submission.validation import Invalid, validate_story
from shared.taxonomy import TAG_MAX


def test_a_rejection_needs_a_reason_or_a_template() -> None:
    assert "reason" in parse_decision({"decision": "reject"})
    assert parse_decision({"decision": "reject", "template": "3"}, {"3": "Off topic."}) == Decision(
        "reject", "Off topic.", [], None)
    assert parse_decision({"decision": "maybe"}) == {"decision": "Choose approve or reject."}


def test_content_warnings_are_cleaned_and_deduplicated() -> None:
    parsed = parse_decision({"decision": "approve", "content_warnings": "racism, racism,  " + "x" * 60})
    assert isinstance(parsed, Decision) and parsed.content_warnings == ["racism", "x" * 60]


def test_an_over_long_content_warning_is_refused_as_the_form_refuses_it() -> None:
    # It used to be cut at 60 characters without a word; the form refuses it.
    parsed = parse_decision({"decision": "approve", "content_warnings": "racism, " + "x" * 61})
    assert parsed == {"content_warnings": "Each content warning can be up to 60 characters."}
    with pytest.raises(Invalid) as refused:
        validate_story({"title": "A title", "body": "A body that is long enough.", "content_warnings": ["x" * 61]})
    assert refused.value.errors["content_warnings"] == parsed["content_warnings"]


@pytest.mark.parametrize("tag", ["a" * (TAG_MAX + 1), "<script>", "tag\u202e"[:-1] + "!"])
def test_tag_edits_refuse_what_the_submission_form_refuses(tag: str) -> None:
    with pytest.raises(Invalid):
        validate_story({"title": "A title", "body": "A body that is long enough.", "tags": [tag]})
    errors = parse_decision({"decision": "approve", "tags": f"family, {tag}"})
    assert isinstance(errors, dict) and "tags" in errors


def test_tag_edits_keep_what_the_form_keeps() -> None:
    tags = ["Filipino-Chinese", "lola’s kitchen", "हिन्दी", "a" * TAG_MAX]
    story = validate_story({"title": "A title", "body": "A body that is long enough.", "tags": tags})
    parsed = parse_decision({"decision": "approve", "tags": tags})
    assert isinstance(parsed, Decision) and parsed.tags == story.tags == tags


def test_moderators_labels_follow_the_forms_rule() -> None:
    parsed = parse_decision({"decision": "approve", "tags": "hapa\u200b, q\U000e0041ueer"})
    assert isinstance(parsed, Decision) and parsed.tags == ["hapa", "queer"]
    lookalike = parse_decision({"decision": "approve", "content_warnings": "r\u0430cism"})  # Cyrillic а
    assert "look-alike" in lookalike["content_warnings"]
    assert "invisible" in parse_decision({"decision": "approve", "tags": "\u3164"})["tags"]
