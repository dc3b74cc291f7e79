"""The exchange fields of a story (issue 15): the prompt it answers, the published
story it responds to, the language of its text, the author's own second-language
version, and its glossary. Validation a person understands, and the checks that
need submission's own read models (open prompts; published story ids, which the
`stories` rows follow through StoryApproved / StoryUnpublished / withdrawal)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import asyncpg

from shared import prompts
from shared.i18n import gettext_later
from shared.text import clean_for_display, clean_label, clean_line, label_problem

LANG_MAX = 35
GLOSSARY_MAX = 20
TERM_MAX = 60
MEANING_MAX = 300
EXCHANGE_FIELDS = ("prompt_id", "in_response_to", "lang", "translation", "glossary")
# BCP 47, loosely: a 2–3 letter language, then subtags (script, region, variant).
_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


def _uuid(value: Any, field: str, what: str, errors: dict[str, str]) -> str | None:
    if value in (None, ""):
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        errors[field] = f"That is not a {what} we know."
        return None


def clean_lang(value: Any, field: str, errors: dict[str, str]) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > LANG_MAX or not _LANG.match(value.strip()):
        errors[field] = gettext_later("Give the language as a short tag such as en, tl, zh-Hant or ko.")
        return None
    return value.strip()


def validate_exchange(data: dict[str, Any], errors: dict[str, str], title_max: int, body_min: int,
                      body_max: int) -> dict[str, Any]:
    """The exchange fields, cleaned; a message per bad field lands in `errors`."""
    out: dict[str, Any] = {
        "prompt_id": _uuid(data.get("prompt_id"), "prompt_id", "writing prompt", errors),
        "in_response_to": _uuid(data.get("in_response_to"), "in_response_to", "published story", errors),
        "lang": clean_lang(data.get("lang"), "lang", errors),
        "translation": None, "glossary": [],
    }
    tr = data.get("translation")
    if tr not in (None, {}):
        if not isinstance(tr, dict) or set(tr) - {"lang", "title", "body"}:
            errors["translation"] = "Send the second-language version as {\"lang\", \"title\", \"body\"}."
        else:
            lang = clean_lang(tr.get("lang"), "translation", errors)
            title = clean_line(tr["title"]) if isinstance(tr.get("title"), str) else ""
            body = clean_for_display(tr["body"]).strip() if isinstance(tr.get("body"), str) else ""
            if "translation" in errors:
                pass
            elif not lang:
                errors["translation"] = gettext_later("Say which language the second version is in (such as en or tl).")
            elif out["lang"] and lang.casefold() == out["lang"].casefold():
                errors["translation"] = gettext_later("The second version needs a language other than the story's own.")
            elif not title or len(title) > title_max:
                errors["translation"] = gettext_later("Give the second version a title of up to %(max)s characters.",
                                                       max=title_max)
            elif not body_min <= len(body) <= body_max:
                errors["translation"] = (f"The second version needs {body_min} to {body_max:,} characters "
                                         f"(it has {len(body):,}).")
            else:
                out["translation"] = {"lang": lang, "title": title, "body": body}
    gl = data.get("glossary")
    if gl not in (None, []):
        if not isinstance(gl, list) or not all(isinstance(g, dict) for g in gl):
            errors["glossary"] = "Send the glossary as a list of {\"term\", \"meaning\"}."
        elif len(gl) > GLOSSARY_MAX:
            errors["glossary"] = gettext_later("Add up to %(max)s glossary terms.", max=GLOSSARY_MAX)
        else:
            seen: set[str] = set()
            for g in gl:
                raw = g["term"] if isinstance(g.get("term"), str) else ""
                term = clean_label(raw)  # a label, like tags and pen names (shared.text)
                meaning = clean_line(g["meaning"]) if isinstance(g.get("meaning"), str) else ""
                if problem := label_problem(raw, term):
                    errors["glossary"] = f"The term {raw.strip()[:40]!r} {problem}; please type it plainly."
                    break
                if not term or not meaning or set(g) - {"term", "meaning"}:
                    errors["glossary"] = gettext_later("Each glossary entry needs a term and its meaning.")
                    break
                if len(term) > TERM_MAX or len(meaning) > MEANING_MAX:
                    errors["glossary"] = (f"Keep each term to {TERM_MAX} characters and each meaning to "
                                          f"{MEANING_MAX}.")
                    break
                if term.casefold() not in seen:
                    seen.add(term.casefold())
                    out["glossary"].append({"term": term, "meaning": meaning})
    return out


def parse_glossary_lines(text: str) -> list[dict[str, str]] | str:
    """The form's glossary box: one `term: meaning` per line (a full-width colon or a
    dash works too) → entries, or a message."""
    entries = []
    for line in text.splitlines():
        if not line.strip():
            continue
        m = re.match(r"^\s*(.+?)\s*(?:[:：=]|\s[-–—]\s)\s*(.+)$", line)
        if not m:
            return gettext_later("Write each glossary term as “term: meaning”, one per line.")
        entries.append({"term": m.group(1), "meaning": m.group(2)})
    return entries


async def check_references(pool: asyncpg.Pool, prompt_id: str | None, in_response_to: str | None) -> dict[str, str]:
    """The prompt must be open and the story answered must be published (submission's
    own rows follow each story's status through events)."""
    errors: dict[str, str] = {}
    if prompt_id and not await pool.fetchval(
            "SELECT true FROM prompts WHERE prompt_id = $1 AND closed_on IS NULL"
            " AND (opens_on IS NULL OR opens_on <= current_date) AND (closes_on IS NULL OR closes_on >= current_date)",
            uuid.UUID(prompt_id)):
        errors["prompt_id"] = gettext_later("That writing prompt is not open; choose another or none.")
    if in_response_to and not await pool.fetchval(
            "SELECT true FROM stories WHERE story_id = $1 AND status = 'published'", uuid.UUID(in_response_to)):
        errors["in_response_to"] = gettext_later("You can respond only to a story that is published.")
    return errors


async def open_prompts(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT prompt_id, title, description, closes_on FROM prompts WHERE closed_on IS NULL"
        " AND (opens_on IS NULL OR opens_on <= current_date) AND (closes_on IS NULL OR closes_on >= current_date)"
        " ORDER BY opens_on DESC NULLS LAST, title")


async def published_title(pool: asyncpg.Pool, story_id: str | None) -> str | None:
    if not story_id:
        return None
    return await pool.fetchval("SELECT title FROM stories WHERE story_id = $1 AND status = 'published'",
                               uuid.UUID(story_id))


HANDLERS = prompts.HANDLERS
