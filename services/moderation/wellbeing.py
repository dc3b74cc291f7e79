"""Moderator wellbeing: a moderator's own exposure to held stories (shown to her
alone on the dashboard) and the optional break reminder after N held stories
read in one session. Held stories stay blurred and grey until revealed (mod.css)."""

from __future__ import annotations

from typing import Any

import asyncpg

BREAK_MAX = 500


async def exposure(pool: asyncpg.Pool, moderator_id: int) -> dict[str, Any]:
    """How many held stories this moderator chose to read: this session, 7 and 30
    days (counted by day, with no story id beside them: migration 182)."""
    row = await pool.fetchrow(
        "SELECT coalesce((SELECT held_read FROM sessions WHERE moderator_id = $1"
        "   ORDER BY created_at DESC LIMIT 1), 0) AS session,"
        " coalesce(sum(n) FILTER (WHERE day > current_date - 7), 0)::int AS week,"
        " coalesce(sum(n) FILTER (WHERE day > current_date - 30), 0)::int AS month,"
        " (SELECT break_after FROM moderators WHERE id = $1) AS break_after"
        " FROM exposure WHERE moderator_id = $1", moderator_id)
    return dict(row)


async def count_read(conn: asyncpg.Connection, moderator_id: int) -> None:
    """One more held story read: today's count and her latest session's."""
    await conn.execute(
        "INSERT INTO exposure (moderator_id, n) VALUES ($1, 1)"
        " ON CONFLICT (moderator_id, day) DO UPDATE SET n = exposure.n + 1", moderator_id)
    await conn.execute(
        "UPDATE sessions SET held_read = held_read + 1 WHERE token_hash ="
        " (SELECT token_hash FROM sessions WHERE moderator_id = $1 ORDER BY created_at DESC LIMIT 1)",
        moderator_id)


async def break_due(pool: asyncpg.Pool, moderator_id: int) -> str | None:
    """The reminder to show after a reveal, when this session's count reaches a
    multiple of the moderator's own N; else None."""
    e = await exposure(pool, moderator_id)
    n = e["break_after"]
    if n and e["session"] and e["session"] % n == 0:
        return (f"You have read {e['session']} held stories this session. Please take a break: step away, "
                "drink some water, talk to someone. The queue will wait.")
    return None


async def set_break_after(pool: asyncpg.Pool, moderator_id: int, n: int) -> None:
    await pool.execute("UPDATE moderators SET break_after = $2 WHERE id = $1", moderator_id, n)
