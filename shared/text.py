"""Text hygiene every service applies to what people send.

`clean_for_display` is what is stored and shown: the author's characters, minus
control characters and bidirectional overrides (which can disguise text). Zero-width
joiners stay: emoji such as 👩‍❤️‍👩 are built with them. (What the screen reads is
moderation's own normalised copy.)
"""

from __future__ import annotations

import re
import unicodedata

from confusable_homoglyphs import categories, confusables

# Bidi embeddings, overrides and isolates: never stored.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_KEEP_WHITESPACE = frozenset("\n\t")
# What clean_for_display drops, as one character class: Unicode's Cc category is
# exactly U+0000-U+001F and U+007F-U+009F (newline and tab kept), Cs is the
# surrogates, plus the bidi controls. One regex pass instead of a Python-level loop
# over every character (a 300-word story: ~5 µs instead of ~700 µs); a test checks
# the class against unicodedata over every code point.
_DROP = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff"
                   + "".join(sorted(BIDI_CONTROLS)) + "]")


def clean_for_display(text: str) -> str:
    """Strip control (Cc, except newline and tab) and bidi-control characters;
    normalise line endings. Everything else the author wrote is kept."""
    return _DROP.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def clean_line(text: str) -> str:
    """A one-line field (title, pen name, tag): display-clean, whitespace folded."""
    return " ".join(clean_for_display(text).split())


# Letters that draw nothing: the Hangul fillers (general category Lo, but
# Default_Ignorable_Code_Point in Unicode's DerivedCoreProperties) and the blank
# braille pattern, used to make a name that looks empty.
INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_WORDS = re.compile(r"[\s\-_.,:;/·|+&()\[\]'\"]+")


def clean_label(text: str) -> str:
    """A pen name, tag or content warning: a clean line without format characters
    (Cf: zero-width spaces and joiners, soft hyphens, Unicode tag characters) or
    invisible letters. Stories and titles keep their joiners (emoji); labels, which
    readers compare and click, do not."""
    return clean_line("".join(ch for ch in text if ch not in INVISIBLE_LETTERS and unicodedata.category(ch) != "Cf"))


def label_problem(raw: str, cleaned: str) -> str | None:
    """Why a label cannot be used, or None: it was only invisible characters, or a
    word in it mixes look-alike letters of different scripts (a Cyrillic а in a Latin
    word: Unicode's confusables data, through confusable_homoglyphs). Words of
    different scripts side by side (`日本 Japan`) are fine."""
    if raw.strip() and not cleaned:
        return "is only invisible characters"
    for word in _WORDS.split(cleaned):
        letters = "".join(ch for ch in word if ch.isalpha())
        if letters and _look_alike(letters):
            return f"mixes look-alike letters from different alphabets in {word!r}"
    return None


def _look_alike(word: str) -> bool:
    """A word mixing scripts where a letter of one could pass for a letter of another
    script in the same word (Cyrillic а among Latin letters). confusable_homoglyphs'
    own is_dangerous also refuses `Mei林` or `Kimチ` (each Latin letter has look-alikes
    in some script), and pen names written across two scripts are this community's
    everyday: only a look-alike of a script the word itself uses counts."""
    scripts = {categories.alias(ch) for ch in word} - {"COMMON", "INHERITED"}
    if len(scripts) < 2:
        return False
    for found in confusables.is_confusable(word, greedy=True) or ():
        for glyph in found["homoglyphs"]:
            other = categories.alias(glyph["c"][0])
            if other != found["alias"] and other in scripts:
                return True
    return False
