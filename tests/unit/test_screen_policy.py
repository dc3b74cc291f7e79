"""The screen's policy and word lists without a model: thresholds and their
settings, labels, and terms matched through spelling tricks, with offsets into the
text moderators see."""

from __future__ import annotations

from pathlib import Path

import pytest

from braided.settings import Settings
from services.moderation.screen import compile_terms, screen_texts
from services.moderation.screen import loading as screen
from services.moderation.screen.policy import parse_thresholds
from shared.config import ConfigError


def test_auto_precision_takes_bf16_only_with_amx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(screen, "_cpu_flags", lambda: {"avx2", "avx512f", "amx_bf16", "amx_tile"})
    assert screen.resolve_precision("auto") == "bf16"
    monkeypatch.setattr(screen, "_cpu_flags", lambda: {"avx2", "avx512f", "avx512_bf16"})
    assert screen.resolve_precision("auto") == "none"
    assert [screen.resolve_precision(p) for p in ("none", "bf16", "int8")] == ["none", "bf16", "int8"]
    assert Settings.from_env({}).screen_quantize == "auto"


@pytest.mark.parametrize("raw", ["threat", "threat=high", "threat=1.5", "hate=0.5", "threat=0.5,,insult"])
def test_bad_thresholds_name_the_setting(raw: str) -> None:
    with pytest.raises(ConfigError, match="SCREEN_FLAG"):
        parse_thresholds("SCREEN_FLAG", raw)


@pytest.mark.parametrize("env", [{"SCREEN_QUANTIZE": "int4"}, {"SCREEN_THREADS": "-1"},
                                 {"SCREEN_WINDOW_OVERLAP": "400"}, {"SCREEN_ACK_WAIT": "0"}])
def test_bad_screen_settings_name_the_setting(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match=next(iter(env))):
        Settings.from_env(env)


def test_no_model_means_unscreened_never_clear() -> None:
    assert screen_texts(None, ["anything at all"], [])[0].label == "unscreened"


def test_banned_holds_and_suspect_flags_without_a_model() -> None:
    terms = compile_terms([("Grublet", "banned"), ("snarf", "suspect")])
    held, flagged, clear = screen_texts(None, ["a GRUBLET here", "some Snarf", "nothing"], terms)
    assert (held.label, flagged.label, clear.label) == ("held", "flagged", "unscreened")
    assert held.term_hits == [{"term": "Grublet", "kind": "banned", "start": 2, "end": 9}]


def test_terms_match_whole_words_only() -> None:
    terms = compile_terms([("ass", "banned")])
    assert screen_texts(None, ["a classic passage, massive"], terms)[0].term_hits == []
    assert screen_texts(None, ["what an ass."], terms)[0].label == "held"


def test_terms_match_through_zero_width_and_fullwidth_tricks() -> None:
    terms = compile_terms([("grublet", "banned")])
    for trick in ("gru\u200bblet", "ｇｒｕｂｌｅｔ", "G\u00adRUB\u2060LET", "gr\ufeffublet"):
        text = f"so {trick}!"
        result = screen_texts(None, [text], terms)[0]
        assert result.label == "held", trick
        hit = result.term_hits[0]
        assert text[hit["start"]:hit["end"]] == trick  # offsets into what moderators see


def test_case_folding_keeps_offsets_after_expanding_characters() -> None:
    terms = compile_terms([("strasse", "suspect")])
    text = "Die Straße: STRASSE."
    hits = screen_texts(None, [text], terms)[0].term_hits
    assert [text[h["start"]:h["end"]] for h in hits] == ["Straße", "STRASSE"]


def test_word_lists_ship_empty() -> None:
    migrations = Path(__file__).resolve().parents[2] / "services" / "moderation" / "migrations"
    sql = "\n".join(p.read_text() for p in migrations.glob("*.sql")).lower()
    assert "insert into word_terms" not in sql


def test_word_lists_see_through_decomposed_accents() -> None:
    """A banned term written with a combining accent (and a zero-width space before
    it) is the same word; the hit covers the whole word as the moderator sees it."""
    text = "We met at the cafe\u200b\u0301 on Sunday."
    [result] = screen_texts(None, [text], compile_terms([("café", "banned")]))
    assert result.label == "held"
    [hit] = result.term_hits
    assert text[hit["start"]:hit["end"]] == "cafe\u200b\u0301"
