import pytest

from services.submission.validation import BODY_MAX, TITLE_MAX, FormState, Invalid, validate_form, validate_story

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


def test_labels_lose_format_and_tag_characters() -> None:
    s = validate_story({"title": "t", "body": BODY, "pen_name": "Mi\u200bn\u00adh\U000E0041",
                        "tags": ["Fili\u200dpino", "Ta\ufeffmil"], "content_warnings": ["grief\u2060"]})
    assert s.pen_name == "Minh" and s.tags == ["Filipino", "Tamil"] and s.content_warnings == ["grief"]


@pytest.mark.parametrize("field, value", [
    ("pen_name", "\u3164"), ("pen_name", "\u200b\u200b"), ("pen_name", "\u115f\u1160 \uffa0"),
    ("pen_name", "\u2800"), ("tags", ["\u3164"]), ("content_warnings", ["\U000E0041\U000E0042"]),
])
def test_invisible_only_labels_are_refused(field: str, value) -> None:
    with pytest.raises(Invalid) as e:
        validate_story({"title": "t", "body": BODY, field: value})
    assert "invisible" in e.value.errors[field]


@pytest.mark.parametrize("field, value", [
    ("pen_name", "Braided moder\u0430tors"),  # Cyrillic а in a Latin word
    ("pen_name", "\u0410n\u0430"), ("tags", ["\u0421hina Town"]), ("content_warnings", ["viol\u0435nce"]),
    ("pen_name", "M\u0430i\u6797"),  # a Cyrillic а hiding in a Latin+Han name is still caught
])
def test_mixed_script_look_alikes_are_refused(field: str, value) -> None:
    with pytest.raises(Invalid) as e:
        validate_story({"title": "t", "body": BODY, field: value})
    assert "look-alike" in e.value.errors[field]


def test_real_names_in_any_script_and_scripts_side_by_side_pass() -> None:
    names = ["Anák 🌸", "Наташа", "日本 Japan", "Việt Nam", "한국계 미국인", "Ελληνικά", "half-日本", "Қазақ Kazakh",
             # one word across two scripts: mixed heritage names are written this way
             "Mei林", "Kimチ", "Haru春", "Ana的"]
    for name in names:
        assert validate_story({"title": "t", "body": BODY, "pen_name": name}).pen_name == name
    tags = [n for n in names if "🌸" not in n]  # tags are words, not pictures
    assert validate_story({"title": "t", "body": BODY, "tags": tags}).tags == tags


def test_the_forms_comma_lists_split_on_chinese_and_japanese_commas_too() -> None:
    story = validate_form(FormState(title="t", body=BODY, heritage="菲律宾，韩国、Scottish, 日本",
                                    cw_other="grief，racism"))
    assert story.tags == ["菲律宾", "韩国", "Scottish", "日本"]
    assert story.content_warnings == ["grief", "racism"]
