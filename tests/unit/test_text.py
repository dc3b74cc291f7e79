"""The normaliser: what the screen reads, and what readers see."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.moderation.screen.normalise import _by_cluster, cluster_end, normalise_for_screen
from shared.text import BIDI_CONTROLS, clean_for_display, clean_line

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
# Text with the characters that matter here mixed in among ordinary ones.
tricky = st.text(alphabet=st.one_of(
    st.characters(codec="utf-8"),
    st.sampled_from(list(ZERO_WIDTH) + sorted(BIDI_CONTROLS) + list("\x00\x07\x1b\r\n\t") +
                    ["Ｚ", "ｏ", "ｒ", "ﬁ", "①", "👩", "❤", "\ufe0f", "ß", "İ"]),
), max_size=200)


@given(tricky)
@settings(max_examples=300, deadline=None)
def test_normalise_is_idempotent(text: str) -> None:
    once, _ = normalise_for_screen(text)
    assert normalise_for_screen(once)[0] == once


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=300))
@settings(max_examples=300, deadline=None)
def test_the_ascii_shortcut_reads_as_the_character_by_character_copy(text: str) -> None:
    assert normalise_for_screen(text) == _by_cluster(text)


@given(tricky)
@settings(max_examples=300, deadline=None)
def test_clean_for_display_is_idempotent(text: str) -> None:
    once = clean_for_display(text)
    assert clean_for_display(once) == once


@given(tricky)
@settings(max_examples=300, deadline=None)
def test_offsets_point_inside_the_display_text_in_order(text: str) -> None:
    display = clean_for_display(text)
    norm, back = normalise_for_screen(display)
    assert len(back) == len(norm)
    assert all(0 <= i < len(display) for i in back)
    assert back == sorted(back)
    # Each screened character comes from the display character it points at, with
    # the combining marks (and format characters) up to the next one screened.
    for k, (ch, i) in enumerate(zip(norm, back, strict=True)):
        nxt = next((j for j in back[k:] if j > i), len(display))
        cluster = "".join(c for c in display[i:nxt] if unicodedata.category(c) != "Cf")
        assert ch in unicodedata.normalize("NFKC", cluster)


@given(tricky)
@settings(max_examples=300, deadline=None)
def test_format_characters_never_reach_the_screen(text: str) -> None:
    norm, _ = normalise_for_screen(text)
    assert not any(unicodedata.category(ch) == "Cf" for ch in norm)


@given(tricky)
@settings(max_examples=300, deadline=None)
def test_display_drops_controls_and_bidi_overrides(text: str) -> None:
    shown = clean_for_display(text)
    assert not any(ch in BIDI_CONTROLS for ch in shown)
    assert not any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\t" for ch in shown)
    assert "\r" not in shown


@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40))
def test_fullwidth_letters_read_as_ascii(word: str) -> None:
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in word)  # U+FF01..U+FF5E mirror ASCII
    assert normalise_for_screen(fullwidth)[0] == word


@given(st.text(alphabet=st.characters(codec="ascii", categories=["Ll", "Lu"]), min_size=2, max_size=20),
       st.lists(st.sampled_from(ZERO_WIDTH), min_size=1, max_size=5))
def test_zero_width_characters_inside_a_word_are_removed(word: str, hidden: list[str]) -> None:
    tricked = word[0] + "".join(hidden) + word[1:]
    norm, back = normalise_for_screen(tricked)
    assert norm == word
    assert back[0] == 0 and back[1] == 1 + len(hidden)


@pytest.mark.parametrize("tricked", ["cafe\u0301", "cafe\u200b\u0301", "ｃａｆｅ\u0301", "café"])
def test_decomposed_accents_read_as_the_composed_letter(tricked: str) -> None:
    norm, back = normalise_for_screen(tricked)
    assert norm == "café"
    assert back == [0, 1, 2, 3]
    assert cluster_end(tricked, back[-1] + 1) == len(tricked)  # a highlight keeps the accent


def test_emoji_built_with_joiners_survive_display() -> None:
    for emoji in ("👩\u200d❤\ufe0f\u200d👩", "🏳\ufe0f\u200d🌈", "🏳\ufe0f\u200d⚧\ufe0f", "👨🏽\u200d👩🏽\u200d👧🏽"):
        text = f"Our family {emoji} at the festival"
        assert clean_for_display(text) == text
        assert clean_line(text) == text


def test_bidi_override_and_controls_are_removed_for_display() -> None:
    assert clean_for_display("abc\u202edcba\u202c ok\x00\x1b") == "abcdcba ok"
    assert clean_for_display("one\r\ntwo\rthree") == "one\ntwo\nthree"
    assert clean_for_display("tab\tand\nnewline") == "tab\tand\nnewline"


def test_screen_copy_maps_back_across_expansions() -> None:
    # "ﬁ" (one display character) is two screened characters; both point back to it.
    norm, back = normalise_for_screen("a ﬁne day")
    assert norm == "a fine day"
    assert back[2] == back[3] == 2 and back[4] == 3
