"""Validation of a story as a member sends it: per-field messages a person understands."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from services.submission.exchange import EXCHANGE_FIELDS, parse_glossary_lines, validate_exchange
from shared.i18n import gettext_later
from shared.taxonomy import CONTENT_WARNINGS, THEMES, content_warnings_problem, tags_problem
from shared.text import clean_for_display, clean_label, clean_line, label_problem

TITLE_MAX = 120
BODY_MIN = 20
BODY_MAX = 20_000
PEN_NAME_MAX = 40

# The form's comma lists, typed in any script: the fullwidth comma (，) and the
# ideographic one (、) of Chinese and Japanese keyboards separate as "," does.
_LIST_SEPARATORS = re.compile(r"[,，、]")


@dataclass(frozen=True)
class StoryInput:
    title: str
    body: str
    pen_name: str | None
    tags: list[str]
    content_warnings: list[str]
    # The exchange (issue 15; see exchange.py).
    prompt_id: str | None = None
    in_response_to: str | None = None
    lang: str | None = None
    translation: dict[str, str] | None = None
    glossary: list[dict[str, str]] = field(default_factory=list)


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
        errors[field] = gettext_later("Send a list of words or short phrases.")
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


def _labels(raw: list[str], field: str, what: str, errors: dict[str, str]) -> list[str]:
    """Tags or content warnings, cleaned (shared.text.clean_label); an invisible or
    look-alike one is an error on the field."""
    cleaned = [clean_label(t) for t in raw]
    for r, c in zip(raw, cleaned, strict=True):
        if field not in errors and (problem := label_problem(r, c)):
            errors[field] = f"{what} {problem}; please type it plainly."
    return _dedupe(cleaned)


def validate_story(data: Any) -> StoryInput:
    """Raise Invalid with a message per field, or return the cleaned story."""
    if not isinstance(data, dict):
        raise Invalid({"story": "Send the story as a JSON object with a title and a body."})
    errors: dict[str, str] = {}
    unknown = set(data) - {"title", "body", "pen_name", "tags", "content_warnings", *EXCHANGE_FIELDS}
    if unknown:
        errors["story"] = f"Unknown field(s): {', '.join(sorted(map(str, unknown)))[:200]}."

    title_raw, body_raw, pen_raw = data.get("title"), data.get("body"), data.get("pen_name")
    title = body = ""
    pen_name = None
    if not isinstance(title_raw, str):
        errors["title"] = gettext_later("Give your story a title.")
    else:
        title = clean_line(title_raw)
        if not title:
            errors["title"] = gettext_later("Give your story a title.")
        elif len(title) > TITLE_MAX:
            errors["title"] = gettext_later("Keep the title to %(max)s characters or fewer (it has %(count)s).",
                                            max=TITLE_MAX, count=len(title))
    if not isinstance(body_raw, str):
        errors["body"] = gettext_later("Write your story here.")
    else:
        body = clean_for_display(body_raw).strip()
        if len(body) < BODY_MIN:
            errors["body"] = gettext_later("Your story needs at least %(min)s characters.", min=BODY_MIN)
        elif len(body) > BODY_MAX:
            errors["body"] = gettext_later("Stories can be up to %(max)s characters; this one has %(count)s.",
                                           max=f"{BODY_MAX:,}", count=f"{len(body):,}")
    if pen_raw is not None:
        if not isinstance(pen_raw, str):
            errors["pen_name"] = gettext_later("A pen name is a short piece of text, or leave it empty.")
        else:
            pen_name = clean_label(pen_raw) or None
            if pen_name and len(pen_name) > PEN_NAME_MAX:
                errors["pen_name"] = gettext_later("Keep the pen name to %(max)s characters or fewer.",
                                                   max=PEN_NAME_MAX)
            elif problem := label_problem(pen_raw, pen_name or ""):
                errors["pen_name"] = f"The pen name {problem}; please type it plainly."

    tags = _labels(_as_list(data.get("tags"), "tags", errors), "tags", "A tag", errors)
    if "tags" not in errors and (problem := tags_problem(tags)):
        errors["tags"] = problem
    cws = _labels(_as_list(data.get("content_warnings"), "content_warnings", errors), "content_warnings",
                  "A content warning", errors)
    if "content_warnings" not in errors and (problem := content_warnings_problem(cws)):
        errors["content_warnings"] = problem
    exchange = validate_exchange(data, errors, TITLE_MAX, BODY_MIN, BODY_MAX)
    if errors:
        raise Invalid(errors)
    return StoryInput(title, body, pen_name, tags, cws, **exchange)


# --- The HTML form: separate widgets, folded into the API's shape ---------------------

# Where a per-field error sends the reader (the error summary links to these ids).
FORM_ANCHORS = {"tags": "heritage", "content_warnings": "cw_other", "themes": "themes-group", "story": "title",
                "translation": "tr_title", "in_response_to": "exchange-group"}


@dataclass
class FormState:
    """What the member typed, kept to show the form again (after a preview or an error)."""

    title: str = ""
    body: str = ""
    pen_name: str = ""
    heritage: str = ""
    heritage_pick: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    cw: tuple[str, ...] = ()
    cw_other: str = ""
    # Minted into the form when it is first shown and kept across previews, so a
    # form sent twice (a retry, a double click, Back and send) stores one story.
    submission_key: str = ""
    # The exchange (issue 15).
    prompt_id: str = ""
    in_response_to: str = ""
    lang: str = ""
    tr_lang: str = ""
    tr_title: str = ""
    tr_body: str = ""
    glossary: str = ""


def _text(form: Any, name: str, limit: int = BODY_MAX * 2) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def _many(form: Any, name: str) -> tuple[str, ...]:
    return tuple(v[:200] for v in form.getlist(name) if isinstance(v, str))[:50]


def read_form(form: Any) -> FormState:
    """The form's fields as sent (a starlette FormData or anything with get/getlist)."""
    return FormState(
        title=_text(form, "title", 2000), body=_text(form, "body"), pen_name=_text(form, "pen_name", 2000),
        # `tags` is the skeleton form's field name; scripted posters may still send it.
        heritage=_text(form, "heritage", 4000) or _text(form, "tags", 4000), heritage_pick=_many(form, "heritage_pick"),
        themes=_many(form, "themes"), cw=_many(form, "cw"), cw_other=_text(form, "cw_other", 4000),
        submission_key=_text(form, "submission_key", 400),
        prompt_id=_text(form, "prompt_id", 100), in_response_to=_text(form, "in_response_to", 100),
        lang=_text(form, "lang", 100), tr_lang=_text(form, "tr_lang", 100), tr_title=_text(form, "tr_title", 2000),
        tr_body=_text(form, "tr_body"), glossary=_text(form, "glossary", 40_000))


def validate_form(state: FormState) -> StoryInput:
    """The form's widgets → the same validation as the JSON API, errors keyed by field."""
    errors: dict[str, str] = {}
    themes = {t.casefold(): t for t in THEMES}
    unknown = [t for t in state.themes if t.casefold() not in themes]
    if unknown:
        errors["themes"] = gettext_later("Choose themes from the list.")
    chosen_themes = [themes[t.casefold()] for t in state.themes if t.casefold() in themes]
    warnings = {c.casefold(): c for c in CONTENT_WARNINGS}
    cws = [warnings.get(c.casefold(), c) for c in state.cw]
    cws += _LIST_SEPARATORS.split(state.cw_other)
    tags = _LIST_SEPARATORS.split(state.heritage) + list(state.heritage_pick)
    glossary = parse_glossary_lines(state.glossary)
    if isinstance(glossary, str):
        errors["glossary"], glossary = glossary, []
    translation = None
    if state.tr_title.strip() or state.tr_body.strip():
        translation = {"lang": state.tr_lang, "title": state.tr_title, "body": state.tr_body}
    try:
        story = validate_story({"title": state.title, "body": state.body, "pen_name": state.pen_name,
                                "tags": [t for t in tags if t.strip()] + chosen_themes,
                                "content_warnings": [c for c in cws if c.strip()],
                                "prompt_id": state.prompt_id or None, "in_response_to": state.in_response_to or None,
                                "lang": state.lang or None, "translation": translation, "glossary": glossary})
    except Invalid as e:
        errors = e.errors | errors
        raise Invalid(errors) from None
    if errors:
        raise Invalid(errors)
    return story
