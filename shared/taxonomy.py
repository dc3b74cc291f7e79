"""A story's tags and content warnings, as the event contract carries them.

The fixed theme tags and suggested content warnings are offered by submission's
form; publishing's tag pages tell themes from heritage tags. A story's `tags` list
in events holds both kinds: a tag equal (case-insensitively) to a theme below is a
theme, anything else is a heritage tag the author wrote.

One rule says what a tag may be (`tags_problem`): the submission form and API use
it, and so do moderators' tag edits, so no story carries a tag the other refuses.
"""

from __future__ import annotations

import unicodedata

TAG_MAX = 40
TAGS_MAX = 12
CONTENT_WARNING_MAX = 60
CONTENT_WARNINGS_MAX = 10

_TAG_PUNCTUATION = frozenset(" '’-&/._")


def tag_ok(tag: str) -> bool:
    """Letters, combining marks (Devanagari vowel signs, Tagalog accents), digits, spaces
    and a little punctuation, in any script; a regex word class misses combining marks."""
    return all(unicodedata.category(ch)[0] in "LMN" or ch in _TAG_PUNCTUATION for ch in tag)


def tags_problem(tags: list[str]) -> str | None:
    """What is wrong with these (cleaned, de-duplicated) tags, for a person; None if nothing."""
    if len(tags) > TAGS_MAX:
        return f"Use up to {TAGS_MAX} tags."
    if any(len(t) > TAG_MAX for t in tags):
        return f"Each tag can be up to {TAG_MAX} characters."
    if any(not tag_ok(t) for t in tags):
        return "Tags can use letters, numbers, spaces, hyphens and apostrophes."
    return None


def content_warnings_problem(warnings: list[str]) -> str | None:
    """What is wrong with these (cleaned, de-duplicated) content warnings, for a
    person; None if nothing. The form and moderators' edits both follow it."""
    if len(warnings) > CONTENT_WARNINGS_MAX:
        return f"Use up to {CONTENT_WARNINGS_MAX} content warnings."
    if any(len(c) > CONTENT_WARNING_MAX for c in warnings):
        return f"Each content warning can be up to {CONTENT_WARNING_MAX} characters."
    return None


THEMES: tuple[str, ...] = (
    "sharing experiences",
    "family and tradition",
    "food and festivals",
    "language",
    "coming out",
    "stereotypes",
    "visibility",
    "resilience and support",
    "solidarity",
    "intersectionality",
)

CONTENT_WARNINGS: tuple[str, ...] = (
    "racism",
    "homophobia",
    "family rejection",
    "violence",
    "self-harm",
    "suicide",
    "sexual violence",
    "abuse",
    "eating disorders",
    "grief and loss",
    "mental health",
)

_THEME_KEYS = {t.casefold() for t in THEMES}


def is_theme(tag: str) -> bool:
    return tag.casefold() in _THEME_KEYS
