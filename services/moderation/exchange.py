"""The exchange (issue 15) on the moderation side: writing prompts admins publish,
and a story's exchange fields (prompt, story answered, language, second-language
version, glossary) kept beside the queue item, shown to moderators, editable like
tags (the glossary) and carried on into StoryApproved."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg

from shared import outbox
from shared.events import Event, new_event
from shared.outbox import enqueue
from shared.text import clean_for_display, clean_label, clean_line, label_problem

PROMPT_TITLE_MAX = 160
PROMPT_DESCRIPTION_MAX = 2000
GLOSSARY_MAX = 20
TERM_MAX = 60
MEANING_MAX = 300


async def file_extras(conn: asyncpg.Connection, data: dict[str, Any]) -> None:
    """StorySubmitted's exchange fields onto its freshly filed queue item."""
    if not any(data.get(k) for k in ("prompt_id", "in_response_to", "lang", "translation", "glossary")):
        return
    await conn.execute(
        "UPDATE queue_items SET prompt_id = $2, in_response_to = $3, lang = $4, translation = $5, glossary = $6"
        " WHERE story_id = $1", uuid.UUID(data["story_id"]), data.get("prompt_id"), data.get("in_response_to"),
        data.get("lang"), data.get("translation"), data.get("glossary") or [])


async def approved_extras(conn: asyncpg.Connection, story_id: uuid.UUID,
                          glossary: list[dict[str, str]] | None) -> dict[str, Any]:
    """The exchange fields StoryApproved carries; a moderator's glossary edit replaces the author's."""
    if glossary is not None:
        await conn.execute("UPDATE queue_items SET glossary = $2 WHERE story_id = $1", story_id, glossary)
    row = await conn.fetchrow("SELECT prompt_id, in_response_to, lang, translation, glossary FROM queue_items"
                              " WHERE story_id = $1", story_id)
    return {"prompt_id": str(row["prompt_id"]) if row["prompt_id"] else None,
            "in_response_to": str(row["in_response_to"]) if row["in_response_to"] else None,
            "lang": row["lang"], "translation": row["translation"], "glossary": list(row["glossary"] or [])}


def parse_glossary(value: Any) -> list[dict[str, str]] | str:
    """A moderator's glossary edit: a list of {"term", "meaning"} (JSON) or `term: meaning`
    lines (the form); an empty list removes every term. A message when it is wrong."""
    if isinstance(value, str):
        items = []
        for line in value.splitlines():
            if line.strip():
                term, sep, meaning = line.partition(":")
                if not sep:
                    return "Write each term as “term: meaning”, one per line."
                items.append({"term": term, "meaning": meaning})
        value = items
    if not isinstance(value, list) or not all(isinstance(g, dict) for g in value) or len(value) > GLOSSARY_MAX:
        return f"Give up to {GLOSSARY_MAX} terms, each {{\"term\", \"meaning\"}}."
    out, seen = [], set()
    for g in value:
        raw = g.get("term") if isinstance(g.get("term"), str) else ""
        term = clean_label(raw)  # a label like tags and pen names: invisible characters go
        if problem := label_problem(raw, term):
            return f"The term {raw.strip()[:40]!r} {problem}; please type it plainly."
        meaning = clean_line(g.get("meaning")) if isinstance(g.get("meaning"), str) else ""
        if not term or not meaning or len(term) > TERM_MAX or len(meaning) > MEANING_MAX:
            return f"Each term needs a meaning; terms up to {TERM_MAX} characters, meanings up to {MEANING_MAX}."
        if term.casefold() not in seen:
            seen.add(term.casefold())
            out.append({"term": term, "meaning": meaning})
    return out


def item_extras(row: asyncpg.Record) -> dict[str, Any]:
    """What the queue's JSON adds for the exchange."""
    keys = row.keys()
    if "lang" not in keys:
        return {}
    out: dict[str, Any] = {"lang": row["lang"], "translation": row["translation"],
                           "glossary": list(row["glossary"] or [])}
    if row["prompt_id"]:
        out["prompt"] = {"id": str(row["prompt_id"]), "title": row["prompt_title"]}
    if row["in_response_to"]:
        out["in_response_to"] = str(row["in_response_to"])
    return out


# --- Prompts -----------------------------------------------------------------------------

def _day(value: Any, field: str, errors: dict[str, str]) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errors[field] = "Give a day as YYYY-MM-DD."
        return None


def parse_prompt(data: Any) -> tuple[dict[str, Any], dict[str, str]]:
    if not isinstance(data, dict):
        return {}, {"prompt": "Send {\"title\", \"description\"?, \"opens_on\"?, \"closes_on\"?}."}
    errors: dict[str, str] = {}
    title = clean_line(data["title"]) if isinstance(data.get("title"), str) else ""
    description = clean_for_display(data["description"]).strip() if isinstance(data.get("description"), str) else ""
    if not title or len(title) > PROMPT_TITLE_MAX:
        errors["title"] = f"Give the prompt a title of up to {PROMPT_TITLE_MAX} characters."
    if len(description) > PROMPT_DESCRIPTION_MAX:
        errors["description"] = f"Keep the description to {PROMPT_DESCRIPTION_MAX} characters."
    opens, closes = _day(data.get("opens_on"), "opens_on", errors), _day(data.get("closes_on"), "closes_on", errors)
    if opens and closes and closes < opens:
        errors["closes_on"] = "The closing day comes after the opening day."
    return {"title": title, "description": description, "opens_on": opens, "closes_on": closes}, errors


async def publish_prompt(pool: asyncpg.Pool, moderator_id: int, prompt: dict[str, Any]) -> str:
    prompt_id = uuid.uuid4()
    async with outbox.transaction(pool) as conn:
        await conn.execute(
            "INSERT INTO prompts (prompt_id, title, description, opens_on, closes_on, created_by)"
            " VALUES ($1, $2, $3, $4, $5, $6)", prompt_id, prompt["title"], prompt["description"],
            prompt["opens_on"], prompt["closes_on"], moderator_id)
        await enqueue(conn, new_event(
            "PromptPublished", prompt_id=str(prompt_id), title=prompt["title"], description=prompt["description"],
            opens_on=prompt["opens_on"].isoformat() if prompt["opens_on"] else None,
            closes_on=prompt["closes_on"].isoformat() if prompt["closes_on"] else None))
    return str(prompt_id)


async def close_prompt(pool: asyncpg.Pool, prompt_id: uuid.UUID) -> bool:
    async with outbox.transaction(pool) as conn:
        closed = await conn.fetchval("UPDATE prompts SET closed_on = current_date WHERE prompt_id = $1"
                                     " AND closed_on IS NULL RETURNING closed_on", prompt_id)
        if closed is None:
            return False
        await enqueue(conn, new_event("PromptClosed", prompt_id=str(prompt_id), closed_on=closed.isoformat()))
    return True


async def list_prompts(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT prompt_id, title, description, opens_on, closes_on, closed_on, created_on"
                            " FROM prompts ORDER BY closed_on IS NOT NULL, created_on DESC, title")


def prompt_json(row: asyncpg.Record) -> dict[str, Any]:
    return {"id": str(row["prompt_id"]), "title": row["title"], "description": row["description"],
            "opens_on": row["opens_on"].isoformat() if row["opens_on"] else None,
            "closes_on": row["closes_on"].isoformat() if row["closes_on"] else None,
            "closed": row["closed_on"] is not None}


async def on_filed(conn: asyncpg.Connection, event: Event) -> None:
    await file_extras(conn, event.data)
