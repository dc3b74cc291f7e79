"""Community word lists in the screen: banned terms hold a story, suspect terms flag it.

Terms match whole words of the screen's normalised, case-folded copy; each hit is
reported as offsets into the text moderators see."""

from __future__ import annotations

import re
from typing import Any

from services.moderation.screen.normalise import cluster_end, normalise_for_screen

Terms = list[tuple[str, str, re.Pattern[str]]]


def compile_terms(terms: list[tuple[str, str]]) -> Terms:
    """Word-list terms as case-folded, word-bounded patterns."""
    out = []
    for term, kind in terms:
        folded = normalise_for_screen(term)[0].casefold().strip()
        if folded:
            out.append((term, kind, re.compile(r"(?<!\w)" + re.escape(folded) + r"(?!\w)")))
    return out


def find_terms(text: str, normal: tuple[str, list[int]], terms: Terms) -> list[dict[str, Any]]:
    """Every hit of `terms` in `normal` (the screen's copy of `text` with its map
    back), as {"term", "kind", "start", "end"} offsets into `text`."""
    if not terms:
        return []
    norm, back = normal
    # Case-fold per character, keeping the map to display offsets (ß → ss
    # changes lengths, so folding the whole string would shift every offset).
    chars: list[str] = []
    fold_back: list[int] = []
    for ch, at in zip(norm, back, strict=True):
        for c in ch.casefold():
            chars.append(c)
            fold_back.append(at)
    folded = "".join(chars)
    hits = []
    for term, kind, pattern in terms:
        for m in pattern.finditer(folded):
            if m.end() > m.start():
                hits.append({"term": term, "kind": kind, "start": fold_back[m.start()],
                             "end": cluster_end(text, fold_back[m.end() - 1] + 1)})
    return hits
