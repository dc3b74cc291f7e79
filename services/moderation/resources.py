"""Support resources (crisis lines and the like), edited by admins.

Moderation owns the list; each save bumps a revision and sends ResourcesUpdated in
the same transaction (outbox), and publishing keeps its own copy for /support. So
no service reads another's tables, and a lost or repeated event is harmless: the
highest revision wins.

The HTML form takes one resource per line: `Region | Name | How to reach them |
https://website | Note` (website and note optional).
"""

from __future__ import annotations

from typing import Any

import asyncpg

from services.moderation import audit
from shared import outbox
from shared.events import new_event
from shared.outbox import enqueue
from shared.text import clean_for_display, clean_line

MAX_ENTRIES = 200
FIELD_MAX = {"region": 80, "name": 120, "contact": 200, "url": 300, "note": 300}
INTRO_MAX = 2000


def parse_entries(data: Any) -> tuple[list[dict[str, str]], str | None]:
    """Validate a list of {region, name, contact?, url?, note?}; (entries, error)."""
    if not isinstance(data, list) or len(data) > MAX_ENTRIES:
        return [], f"Send a list of up to {MAX_ENTRIES} resources."
    out = []
    for i, raw in enumerate(data, 1):
        if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
            return [], f"Resource {i}: each field is text."
        e = {k: clean_line(raw.get(k, "")) for k in FIELD_MAX}
        if not e["region"] or not e["name"]:
            return [], f"Resource {i}: give a region and a name."
        if not e["contact"] and not e["url"]:
            return [], f"Resource {i}: give a way to reach them (a number, or a website)."
        if e["url"] and not (e["url"].startswith("https://") or e["url"].startswith("http://")) or " " in e["url"]:
            return [], f"Resource {i}: the website must start with https://."
        for k, limit in FIELD_MAX.items():
            if len(e[k]) > limit:
                return [], f"Resource {i}: keep the {k} to {limit} characters."
        out.append(e)
    return out, None


def parse_lines(text: str) -> tuple[list[dict[str, str]], str | None]:
    rows = []
    for line in clean_for_display(text).splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")] + [""] * 5
        url = parts[3] if parts[3].startswith(("http://", "https://")) else ""
        note = parts[4] if url else " ".join(p for p in parts[3:5] if p)
        rows.append({"region": parts[0], "name": parts[1], "contact": parts[2], "url": url, "note": note})
    return parse_entries(rows)


def as_lines(entries: list[dict[str, str]]) -> str:
    return "\n".join(" | ".join(e.get(k, "") for k in FIELD_MAX).rstrip(" |") for e in entries)


async def current(pool: asyncpg.Pool) -> dict[str, Any]:
    row = await pool.fetchrow("SELECT revision, intro, entries FROM site_resources WHERE id = 1")
    return {"revision": row["revision"], "intro": row["intro"], "entries": list(row["entries"])} if row else {
        "revision": 0, "intro": "", "entries": []}


async def save(pool: asyncpg.Pool, moderator_id: int, intro: str, entries: list[dict[str, str]]) -> int:
    async with outbox.transaction(pool) as conn:
        revision = await conn.fetchval(
            "INSERT INTO site_resources (id, revision, intro, entries, updated_by) VALUES (1, 1, $1, $2, $3)"
            " ON CONFLICT (id) DO UPDATE SET revision = site_resources.revision + 1, intro = EXCLUDED.intro,"
            " entries = EXCLUDED.entries, updated_by = EXCLUDED.updated_by, updated_at = now()"
            " RETURNING revision", intro, entries, moderator_id)
        await audit.record(conn, moderator_id, "resources.update", {"revision": revision, "entries": len(entries)})
        await enqueue(conn, new_event("ResourcesUpdated", revision=revision, intro=intro, entries=entries))
    return revision


def parse_intro(raw: Any) -> tuple[str, str | None]:
    if raw is None:
        return "", None
    if not isinstance(raw, str):
        return "", "The introduction is text."
    intro = clean_for_display(raw).strip()
    return intro, (f"Keep the introduction to {INTRO_MAX} characters." if len(intro) > INTRO_MAX else None)
