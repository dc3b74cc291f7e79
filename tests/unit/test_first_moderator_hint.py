"""`braided run`'s banner names the DATA_DIR in force (issue 14, point 5)."""

from __future__ import annotations

from pathlib import Path

from braided.settings import Settings
from braided.supervisor import first_moderator_hint


def test_hint_names_the_data_dir_in_force(tmp_path: Path) -> None:
    d = tmp_path / "my data"
    hint = first_moderator_hint(Settings.from_env({"DATA_DIR": str(d)}))
    assert f"DATA_DIR='{d}' .venv/bin/braided add-moderator YOUR_NAME --role admin" in hint


def test_hint_with_a_database_url_does_not_print_it() -> None:
    hint = first_moderator_hint(Settings.from_env({"DATABASE_URL": "postgresql://u:secret@db/braided"}))
    assert "secret" not in hint and "same DATABASE_URL" in hint
