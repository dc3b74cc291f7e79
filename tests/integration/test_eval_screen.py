"""`make eval-screen`'s harness on the tiny marker checkpoint: every term of the
benign corpus gets a row, the tiny model flags none of them, the hostile set's
marker line is flagged, and a word-list term shows up in its term's row (so the
table counts what the screen does, not zeros by construction)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.eval_screen import SCRIPTS, TERMS, main
from tests.conftest import MARKER


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, marker_model: tuple[Path, Path]) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DETOXIFY_CHECKPOINT", str(marker_model[0]))
    monkeypatch.setenv("DETOXIFY_HF_CONFIG", str(marker_model[1]))
    monkeypatch.setenv("SCREEN_QUANTIZE", "none")


def test_eval_screen_prints_a_row_per_term(configured: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--hostile", f"You are a {MARKER} and everyone knows it."]) == 0
    out = capsys.readouterr().out
    for term in [t for t, _ in TERMS] + list(SCRIPTS):
        assert f"\n{term} " in out, term
    assert "hostile (each line)" in out and "all terms, reclaimed" in out


def test_eval_screen_counts_what_the_screen_does(configured: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json", "--suspect", "dyke", "--hostile", f"You are a {MARKER}."]) == 0
    doc = json.loads(capsys.readouterr().out)
    rows = {r["group"]: r for r in doc["benign"]}
    assert rows["dyke"]["flag"] == 1.0 and rows["dyke"]["hold"] == 0.0  # the suspect term flags every one
    assert all(r["flag"] == 0.0 for name, r in rows.items() if name != "dyke")
    hostile = doc["hostile"][0]
    n = hostile["stories"]
    assert hostile["hold"] == pytest.approx(1 / n) and hostile["labels"]["toxicity"] == pytest.approx(1 / n)


def test_eval_screen_says_when_there_is_no_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DETOXIFY_CHECKPOINT", str(tmp_path / "missing.ckpt"))
    assert main([]) == 2
    assert "make models" in capsys.readouterr().err
