"""Accent folding for search: "tet" finds "Tết", "ozoni" finds "ozōni".

PostgreSQL's `unaccent` is a contrib extension the embedded pgserver build does not
ship (it has only plpgsql and vector), and a managed database may refuse
CREATE EXTENSION. So the fold is a plain `translate()` (immutable, so usable in a
stored generated column) whose two strings are built here from Unicode's own
decompositions, and queries fold the same way in Python before they reach SQL.
publishing/migrations/180_search_fold.sql holds these two strings; a unit test keeps
it equal to `FOLD_FROM`/`FOLD_TO`.
"""

from __future__ import annotations

import re
import unicodedata

# Letters with no decomposition that readers still type without their stroke.
_EXTRA = {"đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ħ": "h", "Ħ": "H", "ı": "i"}


def _table() -> tuple[str, str]:
    src, dst = [], []
    for cp in list(range(0x00C0, 0x0250)) + list(range(0x1E00, 0x1F00)):
        ch = chr(cp)
        if ch in _EXTRA:
            src.append(ch)
            dst.append(_EXTRA[ch])
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        if len(base) == 1 and base.isascii() and base.isalpha() and base != ch:
            src.append(ch)
            dst.append(base)
    return "".join(src), "".join(dst)


FOLD_FROM, FOLD_TO = _table()
_MAP = str.maketrans(FOLD_FROM, FOLD_TO)
_MARKS = re.compile("[\u0300-\u036f]")  # as the SQL's regexp_replace


def fold(text: str) -> str:
    """`text` with Latin diacritics removed, exactly as the stored column is folded.
    Combining marks typed separately (a decomposed "é") are composed first."""
    return _MARKS.sub("", unicodedata.normalize("NFC", text).translate(_MAP))
