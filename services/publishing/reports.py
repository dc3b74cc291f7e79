"""Reader reports: a reader tells the moderators what is wrong with a published
story; the report leaves as a StoryReported event (publishing keeps no copy of
the reason). The reader gets a short report code to see the outcome later at
/reports/{code}: only a report id derived from the code is kept, with the outcome."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid

import asyncpg

from shared import outbox
from shared.events import new_event
from shared.i18n import gettext_later
from shared.outbox import enqueue

REASON_MAX = 1000
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32, as receipt codes
_SHAPE = re.compile(r"^RP-[0-9A-Z]{5}-[0-9A-Z]{5}$")

# What a reader may choose besides writing; the choice leads the reason moderators read.
KINDS = {
    "missing_warning": gettext_later("Missing content warning"),
    "identifies": gettext_later("It could identify someone"),
    "hateful": gettext_later("Hateful or harmful"),
    "spam": gettext_later("Advertising or spam"),
    "other": gettext_later("Something else"),
}

OUTCOMES = {
    "received": gettext_later("Received — a moderator has not looked at it yet."),
    "no_change": gettext_later(
        "Reviewed — no change: a moderator read the story and your report and kept it as it is."),
    "changed": gettext_later("Reviewed — story changed: a moderator changed the story after your report."),
    "removed": gettext_later("Reviewed — story removed: the story is no longer published."),
}


def new_code() -> str:
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(10))  # 50 random bits
    return f"RP-{chars[:5]}-{chars[5:]}"


def normalise(raw: str) -> str | None:
    c = "".join(ch for ch in raw.upper() if ch.isascii() and ch.isalnum())
    if c.startswith("RP") and len(c) == 12:
        c = c[2:]
    c = c.replace("O", "0").replace("I", "1").replace("L", "1")
    code = f"RP-{c[:5]}-{c[5:]}"
    return code if len(c) == 10 and _SHAPE.match(code) and all(ch in _ALPHABET for ch in c) else None


def report_id_for(code: str) -> uuid.UUID:
    """The report's id: a hash of its code, so the code itself is never stored."""
    return uuid.UUID(bytes=hashlib.sha256(b"braided-report\x00" + code.encode()).digest()[:16])


async def report(pool: asyncpg.Pool, story_id: uuid.UUID, reason: str) -> str:
    """Send the report; the reader's report code."""
    code = new_code()
    report_id = report_id_for(code)
    async with outbox.transaction(pool) as conn:
        await conn.execute("INSERT INTO report_outcomes (report_id, story_id) VALUES ($1, $2)", report_id, story_id)
        await enqueue(conn, new_event("StoryReported", story_id=str(story_id), report_id=str(report_id),
                                      reason=reason))
    return code


async def outcome(pool: asyncpg.Pool, raw_code: str) -> str | None:
    code = normalise(raw_code) if isinstance(raw_code, str) and len(raw_code) <= 40 else None
    if code is None:
        return None
    return await pool.fetchval("SELECT outcome FROM report_outcomes WHERE report_id = $1", report_id_for(code))
