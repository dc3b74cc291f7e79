"""Text hygiene shared by the services.

`clean_for_display` is what is stored and shown: the author's characters, minus
control characters and bidirectional overrides (which can disguise text). Zero-width
joiners stay: emoji such as 👩‍❤️‍👩 are built with them.

`normalise_for_screen` is what the screen reads: NFKC (fullwidth letters become
ASCII), every format character removed (zero-width spaces, joiners, soft hyphens,
bidi marks), so spelling tricks read like the word they hide.
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


def normalise_for_screen(text: str) -> tuple[str, list[int]]:
    """The screen's copy of `text`, and for each of its characters the offset of the
    display character it came from (so a passage found in the screen copy maps back
    to the text moderators see)."""
    out: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        if unicodedata.category(ch) == "Cf":
            continue
        for n in unicodedata.normalize("NFKC", ch):
            if unicodedata.category(n) == "Cf":
                continue
            out.append(n)
            offsets.append(i)
    return "".join(out), offsets
