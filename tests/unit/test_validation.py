import pytest

from services.submission.validation import BODY_MAX, TITLE_MAX, Invalid, validate_story

BODY = "A story long enough to be accepted by the form."


def test_clean_story_passes_and_keeps_the_authors_characters() -> None:
    s = validate_story({"title": " Lola’s kitchen ", "body": BODY + " 👩‍❤️‍👩 மொழி", "pen_name": "",
                        "tags": "Filipino, Tamil, filipino", "content_warnings": []})
    assert s.title == "Lola’s kitchen"
    assert "👩‍❤️‍👩" in s.body and s.pen_name is None
    assert s.tags == ["Filipino", "Tamil"]  # deduplicated case-insensitively


def test_bidi_overrides_and_controls_are_never_stored() -> None:
    s = validate_story({"title": "a\u202eb\x00c", "body": BODY + "\u2066x\x07"})
    assert s.title == "abc" and "\u2066" not in s.body and "\x07" not in s.body


@pytest.mark.parametrize("data, field", [
    ({"body": BODY}, "title"),
    ({"title": "x" * (TITLE_MAX + 1), "body": BODY}, "title"),
    ({"title": "t", "body": "short"}, "body"),
    ({"title": "t", "body": "x" * (BODY_MAX + 1)}, "body"),
    ({"title": "t", "body": BODY, "pen_name": 7}, "pen_name"),
    ({"title": "t", "body": BODY, "tags": [1, 2]}, "tags"),
    ({"title": "t", "body": BODY, "tags": ["<script>"]}, "tags"),
    ({"title": "t", "body": BODY, "content_warnings": "x" * 100}, "content_warnings"),
    ({"title": "t", "body": BODY, "evil": 1}, "story"),
    (["not", "an", "object"], "story"),
])
def test_each_problem_is_reported_on_its_field(data, field: str) -> None:
    with pytest.raises(Invalid) as e:
        validate_story(data)
    assert field in e.value.errors and e.value.errors[field]
