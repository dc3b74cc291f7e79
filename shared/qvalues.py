"""Accept-* headers (RFC 9110 quality values), read the same way by the language
choice (shared/i18n.py) and the page cache's encoding choice."""

from __future__ import annotations


def quality_list(header: str, limit: int | None = None) -> list[tuple[str, float]]:
    """The header's items with their q-values, in the client's order; `limit` bounds
    how many are read. A q that is not a number counts as 0 (refused)."""
    items = []
    for item in header.split(",")[:limit]:
        token, _, params = item.strip().partition(";")
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        items.append((token.strip(), q))
    return items
