"""clean_for_display's one-regex form drops exactly what the per-character rule dropped."""

from __future__ import annotations

import sys
import timeit
import unicodedata

from shared.text import BIDI_CONTROLS, clean_for_display


def _dropped_by_rule(ch: str) -> bool:
    return ch in BIDI_CONTROLS or (ch not in "\n\t" and unicodedata.category(ch) in ("Cc", "Cs"))


def test_same_characters_dropped_over_every_code_point() -> None:
    everything = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c) != "\r")
    kept = "".join(ch for ch in everything if not _dropped_by_rule(ch))
    assert clean_for_display(everything) == kept


def test_story_sized_text_is_cleaned_in_microseconds() -> None:
    body = "My grandmother's kitchen, 祖母の味噌汁, 👩‍❤️‍👩 and the rain. " * 60  # ~3,000 characters
    per_call = min(timeit.repeat(lambda: clean_for_display(body), number=200, repeat=3)) / 200
    assert per_call < 100e-6, f"{per_call * 1e6:.0f} µs per call"
