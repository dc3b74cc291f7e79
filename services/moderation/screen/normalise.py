"""What the screen reads: a normalised copy of the author's text.

NFKC (fullwidth letters become ASCII) and every format character removed
(zero-width spaces, joiners, soft hyphens, bidi marks), so spelling tricks read
like the word they hide. Each character of the copy remembers the offset of the
display character it came from, so a passage found in the copy maps back to the
text moderators see.
"""

from __future__ import annotations

import unicodedata


def normalise_for_screen(text: str) -> tuple[str, list[int]]:
    """The screen's copy of `text`, and for each of its characters the offset of the
    display character it came from.

    Format characters go first, then NFKC runs over each base character with the
    combining marks after it, so that `e` + U+0301 (or `e`, a zero-width space,
    U+0301) reads as `é`, as the precomposed letter does. Each character of a
    cluster points at the cluster's first display character."""
    if text.isascii():
        # ASCII has no format characters and NFKC leaves it as it is: the copy is the
        # text (a story in English or another ASCII-only writing costs microseconds, not
        # a loop per character).
        return text, list(range(len(text)))
    return _by_cluster(text)


def _by_cluster(text: str) -> tuple[str, list[int]]:
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
