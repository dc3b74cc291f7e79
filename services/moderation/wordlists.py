"""Community word lists: banned terms hold a story, suspect terms flag it.

They ship empty: no default list may flag identity words."""

from __future__ import annotations

import argparse

import asyncpg

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
        await conn.execute("INSERT INTO audit_log (moderator_id, action, detail) VALUES ($1, 'wordlist.added', $2)",
                           actor_id, {"term": term, "kind": kind})


async def remove_term(conn: asyncpg.Connection, term: str, actor_id: int | None = None) -> bool:
    async with conn.transaction():
        removed = await conn.fetchval("DELETE FROM word_terms WHERE term = $1 RETURNING true", term)
        if removed:
            await conn.execute(
                "INSERT INTO audit_log (moderator_id, action, detail) VALUES ($1, 'wordlist.removed', $2)",
                actor_id, {"term": term})
    return bool(removed)


async def run_cli(db_url: str, args: argparse.Namespace) -> int:
    from shared.db import init_connection

    conn = await asyncpg.connect(db_url, server_settings={"search_path": "moderation"})
    await init_connection(conn)
    try:
        if args.action == "list":
            for r in await conn.fetch("SELECT term, kind FROM word_terms ORDER BY kind, term"):
                print(f"{r['kind']}\t{r['term']}")
            return 0
        if not args.term:
            print("braided: give the term", flush=True)
            return 2
        try:
            if args.action == "add":
                await add_term(conn, args.term, args.kind)
                print(f"Added {args.kind} term.")
            elif not await remove_term(conn, args.term):
                print("No such term.")
                return 1
            else:
                print("Removed.")
        except TermError as e:
            print(f"braided: {e}")
            return 2
        return 0
    finally:
        await conn.close()
