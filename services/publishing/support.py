"""What /support lists: the admins' resources, or, until they save any, a short
default list of long-standing international directories and lines, so a fresh
install never shows "not listed yet" under a story warned for suicide."""

from __future__ import annotations

from typing import Any

DEFAULT_INTRO = ("These are well-known international directories and lines, listed until the Braided admins add "
                 "ones checked for their own community.")

DEFAULT_ENTRIES: tuple[dict[str, str], ...] = (
    {"region": "Everywhere", "name": "Find A Helpline", "contact": "", "url": "https://findahelpline.com/",
     "note": "Free, confidential helplines in more than 130 countries, with an LGBTQ+ filter."},
    {"region": "Everywhere", "name": "Befrienders Worldwide", "contact": "", "url": "https://befrienders.org/",
     "note": "Emotional support centres around the world; search by country."},
    {"region": "United States", "name": "988 Suicide & Crisis Lifeline", "contact": "Call or text 988",
     "url": "https://988lifeline.org/", "note": ""},
    {"region": "United States", "name": "The Trevor Project (LGBTQ+ young people)", "contact": "1-866-488-7386",
     "url": "https://www.thetrevorproject.org/", "note": ""},
    {"region": "United Kingdom", "name": "Samaritans", "contact": "116 123", "url": "https://www.samaritans.org/",
     "note": ""},
    {"region": "United Kingdom", "name": "Switchboard LGBT+ Helpline", "contact": "0800 0119 100",
     "url": "https://switchboard.lgbt/", "note": ""},
)


def support_context(row: Any) -> dict[str, Any]:
    """The template's intro, regions and whether the list is the default one.
    `row` is publishing's site_resources row, or None when nothing was ever saved."""
    if row is None:
        intro, entries, default = DEFAULT_INTRO, list(DEFAULT_ENTRIES), True
    else:
        intro, entries, default = row["intro"], list(row["entries"]), False
    regions: dict[str, list[dict[str, Any]]] = {}
    for e in entries:
        regions.setdefault(e.get("region") or "Everywhere", []).append(e)
    return {"intro": intro, "regions": regions, "default_resources": default}
