"""Writing prompts (issue 15) as the services that show them keep them: moderation
publishes PromptPublished / PromptClosed; submission (the form offers open prompts)
and publishing (/prompts) each keep a `prompts` table of their own with the
columns below, fed by these handlers."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from shared.events import Event


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


async def on_prompt_published(conn: asyncpg.Connection, event: Event) -> None:
    d = event.data
    await conn.execute(
        "INSERT INTO prompts (prompt_id, title, description, opens_on, closes_on) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (prompt_id) DO UPDATE SET title = EXCLUDED.title, description = EXCLUDED.description,"
        " opens_on = EXCLUDED.opens_on, closes_on = EXCLUDED.closes_on",
        uuid.UUID(d["prompt_id"]), d["title"], d["description"], _day(d["opens_on"]), _day(d["closes_on"]))


async def on_prompt_closed(conn: asyncpg.Connection, event: Event) -> None:
    """Close the prompt. Each subject has its own consumer, so the close can come
    before the PromptPublished it follows: then a placeholder row keeps the close
    (PromptPublished's upsert fills it in and leaves closed_on alone). Its opens_on
    `infinity` keeps it off every list meanwhile (they show prompts opened by today;
    submission's, only unclosed ones)."""
    await conn.execute(
        "INSERT INTO prompts (prompt_id, title, opens_on, closed_on) VALUES ($1, '', 'infinity', $2)"
        " ON CONFLICT (prompt_id) DO UPDATE SET closed_on = EXCLUDED.closed_on",
        uuid.UUID(event.data["prompt_id"]), dt.date.fromisoformat(event.data["closed_on"]))


HANDLERS = {"PromptPublished": on_prompt_published, "PromptClosed": on_prompt_closed}
