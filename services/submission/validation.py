"""Validation of a story as a member sends it: per-field messages a person understands."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from shared.text import clean_for_display, clean_line

TITLE_MAX = 120
BODY_MIN = 20
BODY_MAX = 20_000
PEN_NAME_MAX = 40
TAG_MAX = 40
TAGS_MAX = 12
CW_MAX = 60
CWS_MAX = 10

# Letters and marks of any script, digits, spaces, and a little punctuation.
_TAG_OK = re.compile(r"^[\w\s'’\-&/.]+$", re.UNICODE)


@dataclass(frozen=True)
class StoryInput:
    title: str
    body: str
    pen_name: str | None
    tags: list[str]
    content_warnings: list[str]


class Invalid(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def _as_list(value: Any, field: str, errors: dict[str, str]) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):  # the HTML form sends "a, b, c"
        value = [v for v in value.split(",")]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors[field] = "Send a list of words or short phrases."
        return []
    return value


def _dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item and item.casefold() not in seen:
            seen.add(item.casefold())
            out.append(item)
    return out


def validate_story(data: Any) -> StoryInput:
    """Raise Invalid with a message per field, or return the cleaned story."""
    if not isinstance(data, dict):
        raise Invalid({"story": "Send the story as a JSON object with a title and a body."})
    errors: dict[str, str] = {}
    unknown = set(data) - {"title", "body", "pen_name", "tags", "content_warnings"}
    if unknown:
        errors["story"] = f"Unknown field(s): {', '.join(sorted(map(str, unknown)))[:200]}."

    title_raw, body_raw, pen_raw = data.get("title"), data.get("body"), data.get("pen_name")
    title = body = ""
    pen_name = None
    if not isinstance(title_raw, str):
        errors["title"] = "Give your story a title."
    else:
        title = clean_line(title_raw)
        if not title:
            errors["title"] = "Give your story a title."
        elif len(title) > TITLE_MAX:
            errors["title"] = f"Keep the title to {TITLE_MAX} characters or fewer (it has {len(title)})."
    if not isinstance(body_raw, str):
        errors["body"] = "Write your story here."
    else:
        body = clean_for_display(body_raw).strip()
        if len(body) < BODY_MIN:
            errors["body"] = f"Your story needs at least {BODY_MIN} characters."
        elif len(body) > BODY_MAX:
            errors["body"] = f"Stories can be up to {BODY_MAX:,} characters; this one has {len(body):,}."
    if pen_raw is not None:
        if not isinstance(pen_raw, str):
            errors["pen_name"] = "A pen name is a short piece of text, or leave it empty."
        else:
            pen_name = clean_line(pen_raw) or None
            if pen_name and len(pen_name) > PEN_NAME_MAX:
                errors["pen_name"] = f"Keep the pen name to {PEN_NAME_MAX} characters or fewer."

    tags = _dedupe([clean_line(t) for t in _as_list(data.get("tags"), "tags", errors)])
    if "tags" not in errors:
        if len(tags) > TAGS_MAX:
            errors["tags"] = f"Use up to {TAGS_MAX} tags."
        elif any(len(t) > TAG_MAX for t in tags):
            errors["tags"] = f"Each tag can be up to {TAG_MAX} characters."
        elif any(not _TAG_OK.match(t) for t in tags):
            errors["tags"] = "Tags can use letters, numbers, spaces, hyphens and apostrophes."
    cws = _dedupe([clean_line(t) for t in _as_list(data.get("content_warnings"), "content_warnings", errors)])
    if "content_warnings" not in errors:
        if len(cws) > CWS_MAX:
            errors["content_warnings"] = f"Use up to {CWS_MAX} content warnings."
        elif any(len(c) > CW_MAX for c in cws):
            errors["content_warnings"] = f"Each content warning can be up to {CW_MAX} characters."
    if errors:
        raise Invalid(errors)
    return StoryInput(title, body, pen_name, tags, cws)
