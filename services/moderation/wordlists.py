"""Community word lists: banned terms hold a story, suspect terms flag it.

They ship empty: no default list may flag identity words."""

from __future__ import annotations

import asyncpg

from services.moderation import audit

KINDS = ("banned", "suspect")
TERM_MAX = 100


class TermError(ValueError):
    pass


def clean_term(term: str) -> str:
    term = " ".join(term.split())
    if not term or len(term) > TERM_MAX:
        raise TermError(f"A term is 1–{TERM_MAX} characters.")
    return term


async def add_term(conn: asyncpg.Connection, term: str, kind: str, actor_id: int | None = None) -> None:
    if kind not in KINDS:
        raise TermError(f"kind must be one of {', '.join(KINDS)}")
    term = clean_term(term)
    async with conn.transaction():
        await conn.execute("INSERT INTO word_terms (term, kind) VALUES ($1, $2)"
                           " ON CONFLICT (term) DO UPDATE SET kind = EXCLUDED.kind", term, kind)
        await audit.record(conn, actor_id, "wordlist.added", {"term": term, "kind": kind})


async def remove_term(conn: asyncpg.Connection, term: str, actor_id: int | None = None) -> bool:
    async with conn.transaction():
        removed = await conn.fetchval("DELETE FROM word_terms WHERE term = $1 RETURNING true", term)
        if removed:
            await audit.record(conn, actor_id, "wordlist.removed", {"term": term})
    return bool(removed)


async def terms(pool: asyncpg.Pool | asyncpg.Connection) -> list[asyncpg.Record]:
    """Every term, banned first, then suspect, each alphabetical."""
    return await pool.fetch("SELECT term, kind, added_at FROM word_terms ORDER BY kind, term")
