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
    to the text moderators see).

    Format characters go first, then NFKC runs over each base character with the
    combining marks after it, so that `e` + U+0301 (or `e`, a zero-width space,
    U+0301) reads as `é`, as the precomposed letter does. Each character of a
    cluster points at the cluster's first display character."""
    kept = [(i, ch) for i, ch in enumerate(text) if unicodedata.category(ch) != "Cf"]
    out: list[str] = []
    offsets: list[int] = []
    k = 0
    while k < len(kept):
        j = k + 1
        while j < len(kept) and unicodedata.category(kept[j][1])[0] == "M":
            j += 1
        for n in unicodedata.normalize("NFKC", "".join(ch for _, ch in kept[k:j])):
            if unicodedata.category(n) != "Cf":
                out.append(n)
                offsets.append(kept[k][0])
        k = j
    return "".join(out), offsets


def cluster_end(text: str, end: int) -> int:
    """`end` moved past any combining marks (and format characters) that belong to
    the character before it: where a highlight of `text[:end]` should stop."""
    while end < len(text) and (unicodedata.category(text[end])[0] == "M" or unicodedata.category(text[end]) == "Cf"):
        end += 1
    return end
