"""Moderator wellbeing: a moderator's own exposure to held stories (shown to her
alone on the dashboard) and the optional break reminder after N held stories
read in one session. Held stories stay blurred and grey until revealed (mod.css)."""

from __future__ import annotations

from typing import Any

import asyncpg

BREAK_MAX = 500


async def exposure(pool: asyncpg.Pool, moderator_id: int) -> dict[str, Any]:
    """How many held stories this moderator chose to read: this session, 7 and 30 days."""
    row = await pool.fetchrow(
        "SELECT count(*) FILTER (WHERE r.revealed_at >= coalesce((SELECT max(created_at) FROM sessions"
        "   WHERE moderator_id = $1), now())) AS session,"
        " count(*) FILTER (WHERE r.revealed_at >= now() - interval '7 days') AS week,"
        " count(*) FILTER (WHERE r.revealed_at >= now() - interval '30 days') AS month,"
        " (SELECT break_after FROM moderators WHERE id = $1) AS break_after"
        " FROM reveals r WHERE r.moderator_id = $1", moderator_id)
    return dict(row)


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
