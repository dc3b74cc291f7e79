"""The exchange on the public side (issue 15): writing prompts and their stories,
stories in response, "this resonated with me", the author's second-language
version and the living glossary. Everything is read from publishing's own read
model; a withdrawn or taken-down story's row is deleted, so it drops out of every
list, link, count and glossary entry here with no extra work."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import asyncpg
from markupsafe import Markup, escape

from services.publishing import pagecache
from shared import prompts as shared_prompts
from shared.events import Event

Q_MAX = 200


# --- Events ---------------------------------------------------------------------------

async def on_approved_extras(conn: asyncpg.Connection, event: Event) -> None:
    """StoryApproved's exchange fields onto the row on_approved wrote."""
    d = event.data
    if not any(d.get(k) for k in ("prompt_id", "in_response_to", "lang", "translation", "glossary")):
        return
    # The story it answers may be gone already (its withdrawal or takedown arrives on
    # another subject, so possibly first): then keep no pointer to it, as _gone does
    # for responses already here.
    await conn.execute(
        "UPDATE stories SET prompt_id = $2, lang = $4, translation = $5, glossary = $6,"
        " in_response_to = CASE WHEN EXISTS (SELECT 1 FROM gone_stories g WHERE g.story_id = $3::uuid)"
        " THEN NULL ELSE $3::uuid END WHERE story_id = $1", uuid.UUID(d["story_id"]), d.get("prompt_id"),
        d.get("in_response_to"), d.get("lang"), d.get("translation"), d.get("glossary") or [])


HANDLERS = shared_prompts.HANDLERS


# --- Reading ----------------------------------------------------------------------------

# Columns every story query selects (alias s): the story, its exchange fields, and its
# links — only to stories still published, since gone ones have no row.
COLUMNS = (
    "s.story_id, s.seq, s.title, s.body, s.pen_name, s.tags, s.content_warnings, s.published_on,"
    " s.lang, s.translation, s.glossary, s.resonance, s.prompt_id,"
    " (SELECT json_build_object('id', p.prompt_id, 'title', p.title) FROM prompts p"
    "   WHERE p.prompt_id = s.prompt_id) AS prompt,"
    " (SELECT json_build_object('id', r.story_id, 'title', r.title) FROM stories r"
    "   WHERE r.story_id = s.in_response_to) AS parent,"
    " (SELECT coalesce(json_agg(json_build_object('id', r.story_id, 'title', r.title) ORDER BY r.seq), '[]')"
    "   FROM stories r WHERE r.in_response_to = s.story_id) AS responses"
)
# The second-language version and glossary, searched as substrings (any script).
SEARCH_EXTRA = ("(coalesce(s.translation->>'title', '') || ' ' || coalesce(s.translation->>'body', '') || ' '"
                " || s.glossary::text)")


def rounded(n: int) -> int:
    """Counts above 20 are published to the nearest 5, so a count cannot be watched
    press by press to time a reader."""
    return n if n <= 20 else int(5 * round(n / 5))


def story_extras(row: asyncpg.Record) -> dict[str, Any]:
    keys = row.keys()
    if "resonance" not in keys:
        return {}
    out: dict[str, Any] = {"resonance": rounded(row["resonance"])}
    if row["prompt"]:
        out["prompt"] = {"id": str(row["prompt"]["id"]), "title": row["prompt"]["title"]}
    if row["parent"]:
        out["in_response_to"] = {"id": str(row["parent"]["id"]), "title": row["parent"]["title"]}
    out["responses"] = [{"id": str(r["id"]), "title": r["title"]} for r in row["responses"] or []]
    if row["lang"]:
        out["lang"] = row["lang"]
    if row["translation"]:
        out["translation"] = row["translation"]
    if row["glossary"]:
        out["glossary"] = list(row["glossary"])
    return out


def prompt_open(row: asyncpg.Record, today: dt.date | None = None) -> bool:
    today = today or dt.date.today()
    return (row["closed_on"] is None and (row["opens_on"] is None or row["opens_on"] <= today)
            and (row["closes_on"] is None or row["closes_on"] >= today))


async def prompts(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    """Prompts that have opened, with how many published stories answer each."""
    return await pool.fetch(
        "SELECT p.prompt_id, p.title, p.description, p.opens_on, p.closes_on, p.closed_on,"
        " (SELECT count(*) FROM stories s WHERE s.prompt_id = p.prompt_id) AS stories"
        " FROM prompts p WHERE p.opens_on IS NULL OR p.opens_on <= current_date"
        " ORDER BY p.closed_on IS NOT NULL, p.seq DESC")


async def prompt(pool: asyncpg.Pool, prompt_id: uuid.UUID) -> asyncpg.Record | None:
    return await pool.fetchrow(
        "SELECT prompt_id, title, description, opens_on, closes_on, closed_on FROM prompts WHERE prompt_id = $1"
        " AND (opens_on IS NULL OR opens_on <= current_date)", prompt_id)


def prompt_json(row: asyncpg.Record) -> dict[str, Any]:
    return {"id": str(row["prompt_id"]), "title": row["title"], "description": row["description"],
            "opens_on": row["opens_on"].isoformat() if row["opens_on"] else None,
            "closes_on": row["closes_on"].isoformat() if row["closes_on"] else None,
            "open": prompt_open(row), "stories": row["stories"] if "stories" in row.keys() else None}


async def resonate(pool: asyncpg.Pool, story_id: uuid.UUID) -> int | None:
    """One more press; the published (rounded) count, or None when there is no such story."""
    async with pool.acquire() as conn, conn.transaction():
        n = await conn.fetchval("UPDATE stories SET resonance = resonance + 1 WHERE story_id = $1"
                                " RETURNING resonance", story_id)
        if n is not None:  # the count shows on the story page: every replica's cached copy goes
            await pagecache.notify(conn)
    return None if n is None else rounded(n)


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def glossary(pool: asyncpg.Pool, q: str | None = None) -> list[dict[str, Any]]:
    """Every term of a published story, grouped (case-insensitively), each with its
    meanings and the stories that use it; `q` matches a term or a meaning."""
    args: list[Any] = []
    where = ""
    if q:
        args.append(_like(q))
        where = "WHERE g->>'term' ILIKE $1 OR g->>'meaning' ILIKE $1"
    rows = await pool.fetch(
        "SELECT g->>'term' AS term, g->>'meaning' AS meaning, s.story_id, s.title, s.lang"
        f" FROM stories s, jsonb_array_elements(s.glossary) g {where}"
        " ORDER BY lower(g->>'term'), s.seq DESC", *args)
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        entry = out.setdefault(r["term"].casefold(), {"term": r["term"], "uses": []})
        entry["uses"].append({"meaning": r["meaning"], "story": {"id": str(r["story_id"]), "title": r["title"]}})
    return list(out.values())


def with_glossary(text: str, terms: list[dict[str, str]], prefix: str = "gl") -> Markup:
    """`text`, escaped, with the first use of each glossary term made a link to its
    definition below the story (`<a href="#gl-N"><abbr title=meaning>`): reachable by
    keyboard, and read out by screen readers."""
    if not terms:
        return escape(text)
    index = {t["term"].casefold(): n for n, t in enumerate(terms)}
    pattern = re.compile("|".join(re.escape(t["term"]) for t in sorted(terms, key=lambda t: -len(t["term"]))),
                         re.IGNORECASE)
    parts: list[str] = []
    done: set[int] = set()
    last = 0
    for m in pattern.finditer(text):
        n = index.get(m.group(0).casefold())
        if n is None or n in done:
            continue
        done.add(n)
        parts.append(str(escape(text[last:m.start()])))
        parts.append(f'<a class="gloss" href="#{prefix}-{n}" aria-describedby="{prefix}-{n}-meaning">'
                     f'<abbr title="{escape(terms[n]["meaning"])}">{escape(m.group(0))}</abbr></a>')
        last = m.end()
    parts.append(str(escape(text[last:])))
    return Markup("".join(parts))
