"""Property-based tests of services/submission/validation.py: whatever arrives, the
validator either returns a clean story within every limit or raises Invalid with
a message per field — never another exception."""

from __future__ import annotations

import unicodedata
from dataclasses import asdict
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.submission import validation as v
from services.submission.exchange import EXCHANGE_FIELDS
from shared import taxonomy
from shared.text import BIDI_CONTROLS

# A story's fields, the exchange's included (a generated dict can hold "prompt_id").
FIELDS = ("title", "body", "pen_name", "tags", "content_warnings", *EXCHANGE_FIELDS)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
# Text that leans towards the awkward: controls, bidi, zero-width, surrogates, emoji.
awkward_text = st.text(alphabet=st.characters(codec=None, categories=None), max_size=200) | st.text(
    alphabet=st.sampled_from(list("\x00\x07\x1b\r\n\t \u202e\u2066\u200b\u200d\ufeff\ud800a<>&'\"é👩")),
    max_size=60)
story_like = st.fixed_dictionaries({}, optional={
    "title": awkward_text | json_values, "body": awkward_text | st.text(min_size=20, max_size=400) | json_values,
    "pen_name": st.none() | awkward_text, "tags": st.lists(awkward_text, max_size=15) | awkward_text | json_values,
    "content_warnings": st.lists(awkward_text, max_size=12) | json_values,
})


def _outcome(data: Any) -> v.StoryInput | v.Invalid:
    try:
        return v.validate_story(data)
    except v.Invalid as e:
        return e


def _clean(text: str, one_line: bool) -> bool:
    if any(ch in BIDI_CONTROLS for ch in text):
        return False
    allowed = set() if one_line else {"\n", "\t"}
    return all(ch in allowed or unicodedata.category(ch) not in ("Cc", "Cs") for ch in text)


@settings(max_examples=400, deadline=None)
@given(json_values | story_like)
def test_anything_gives_a_story_or_field_messages(data: Any) -> None:
    result = _outcome(data)
    if isinstance(result, v.Invalid):
        assert result.errors and all(isinstance(m, str) and m for m in result.errors.values())
        assert set(result.errors) <= set(FIELDS) | {"story"}


@settings(max_examples=400, deadline=None)
@given(story_like)
def test_accepted_stories_are_clean_and_within_limits(data: dict[str, Any]) -> None:
    story = _outcome(data)
    if isinstance(story, v.Invalid):
        return
    assert 1 <= len(story.title) <= v.TITLE_MAX and _clean(story.title, one_line=True)
    assert v.BODY_MIN <= len(story.body) <= v.BODY_MAX and _clean(story.body, one_line=False)
    assert story.pen_name is None or (0 < len(story.pen_name) <= v.PEN_NAME_MAX and _clean(story.pen_name, True))
    assert len(story.tags) <= taxonomy.TAGS_MAX
    assert all(0 < len(t) <= taxonomy.TAG_MAX and _clean(t, True) for t in story.tags)
    assert len({t.casefold() for t in story.tags}) == len(story.tags)
    assert all(taxonomy.tag_ok(t) for t in story.tags)
    assert len(story.content_warnings) <= taxonomy.CONTENT_WARNINGS_MAX
    assert all(0 < len(c) <= taxonomy.CONTENT_WARNING_MAX and _clean(c, True) for c in story.content_warnings)
    # Cleaning is idempotent: the stored story validates to itself.
    assert v.validate_story(asdict(story)) == story


@settings(max_examples=200, deadline=None)
@given(title=st.text(min_size=1, max_size=v.TITLE_MAX).filter(lambda t: t.strip().isprintable() and t.strip()),
       body=st.text(alphabet=st.characters(categories=["L", "N", "P", "Zs", "So"]), min_size=v.BODY_MIN,
                    max_size=2000).filter(lambda b: len(b.strip()) >= v.BODY_MIN))
def test_ordinary_stories_in_any_script_are_accepted(title: str, body: str) -> None:
    """Printable text in any script is never refused for its characters."""
    story = v.validate_story({"title": title, "body": body})
    assert story.body == body.strip()
