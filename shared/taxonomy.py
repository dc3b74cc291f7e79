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


def N_(label: str) -> str:  # noqa: N802 (gettext's own name for this marker)
    """Marks a fixed theme or content warning for the catalogs (babel.cfg): the stored
    value stays English, pages show it in the reader's language (`translate`)."""
    return label


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
    N_("sharing experiences"),
    N_("family and tradition"),
    N_("food and festivals"),
    N_("language"),
    N_("coming out"),
    N_("stereotypes"),
    N_("visibility"),
    N_("resilience and support"),
    N_("solidarity"),
    N_("intersectionality"),
)

CONTENT_WARNINGS: tuple[str, ...] = (
    N_("racism"),
    N_("homophobia"),
    N_("family rejection"),
    N_("violence"),
    N_("self-harm"),
    N_("suicide"),
    N_("sexual violence"),
    N_("abuse"),
    N_("eating disorders"),
    N_("grief and loss"),
    N_("mental health"),
)

_THEME_KEYS = {t.casefold() for t in THEMES}


def is_theme(tag: str) -> bool:
    return tag.casefold() in _THEME_KEYS
