"""Accent folding for search (issue 14, point 6)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from shared.fold import FOLD_FROM, FOLD_TO, fold

MIGRATION = Path(__file__).resolve().parents[2] / "services/publishing/migrations/180_search_fold.sql"


def test_fold_drops_latin_accents_and_keeps_other_scripts() -> None:
    assert fold("Tết") == "Tet" and fold("ozōni") == "ozoni" and fold("Nguyễn Đức") == "Nguyen Duc"
    assert fold("anák, pagkâ, ñ") == "anak, pagka, n"
    assert fold(unicodedata.normalize("NFD", "Tết")) == "Tet"  # typed with combining marks
    assert fold("味噌汁 女朋友 मेरी") == "味噌汁 女朋友 मेरी"


def test_migration_holds_the_same_table() -> None:
    sql = MIGRATION.read_text(encoding="utf-8")
    assert f"'{FOLD_FROM}'" in sql and f"'{FOLD_TO}'" in sql
    assert len(FOLD_FROM) == len(FOLD_TO) and "'" not in FOLD_FROM
