"""Text hygiene every service applies to what people send.

`clean_for_display` is what is stored and shown: the author's characters, minus
control characters and bidirectional overrides (which can disguise text). Zero-width
joiners stay: emoji such as 👩‍❤️‍👩 are built with them. (What the screen reads is
moderation's own normalised copy.)
"""

from __future__ import annotations

import unicodedata

# Bidi embeddings, overrides and isolates: never stored.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_KEEP_WHITESPACE = frozenset("\n\t")


def clean_for_display(text: str) -> str:
    """Strip control (Cc, except newline and tab) and bidi-control characters;
    normalise line endings. Everything else the author wrote is kept."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        ch for ch in text
        if ch not in BIDI_CONTROLS
        and (ch in _KEEP_WHITESPACE or unicodedata.category(ch) not in ("Cc", "Cs"))
    )


def clean_line(text: str) -> str:
    """A one-line field (title, pen name, tag): display-clean, whitespace folded."""
    return " ".join(clean_for_display(text).split())
