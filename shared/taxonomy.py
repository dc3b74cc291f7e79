"""The fixed theme tags and suggested content warnings, shared by submission (the
form offers them) and publishing (tag pages tell themes from heritage tags).

A story's `tags` list in events holds both kinds: a tag equal (case-insensitively)
to a theme below is a theme, anything else is a heritage tag the author wrote.
"""

from __future__ import annotations

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


def split_tags(tags: list[str]) -> tuple[list[str], list[str]]:
    """(heritage tags, theme tags), each in the author's order."""
    return [t for t in tags if not is_theme(t)], [t for t in tags if is_theme(t)]
