"""The community word lists: what a term may be, and that every change is audited
in its own transaction."""

from __future__ import annotations

import pytest

from services.moderation.wordlists import TermError, add_term, clean_term, remove_term
from tests.unit.fakes import FakeConnection

AUDIT = "INSERT INTO audit_log"


def test_a_term_is_one_to_a_hundred_characters_with_spaces_folded() -> None:
    assert clean_term("  two   words ") == "two words"
    for bad in ("", "   ", "x" * 101):
        with pytest.raises(TermError):
            clean_term(bad)


async def test_adding_a_term_stores_it_and_audits_who_did() -> None:
    conn = FakeConnection()
    await add_term(conn, " Grublet ", "banned", actor_id=7)  # type: ignore[arg-type]
    assert conn.statements("INSERT INTO word_terms") == [("Grublet", "banned")]
    assert conn.statements(AUDIT) == [(7, "wordlist.added", None, {"term": "Grublet", "kind": "banned"})]
    assert conn.transactions == 1


async def test_an_unknown_kind_is_refused_before_anything_is_written() -> None:
    conn = FakeConnection()
    with pytest.raises(TermError, match="banned, suspect"):
        await add_term(conn, "grublet", "odd")  # type: ignore[arg-type]
    assert conn.sent == []


async def test_removing_audits_only_what_was_there() -> None:
    gone = FakeConnection({"DELETE FROM word_terms": True})
    assert await remove_term(gone, "grublet", actor_id=1)  # type: ignore[arg-type]
    assert gone.statements(AUDIT) == [(1, "wordlist.removed", None, {"term": "grublet"})]
    missing = FakeConnection({"DELETE FROM word_terms": None})
    assert not await remove_term(missing, "nothing")  # type: ignore[arg-type]
    assert missing.statements(AUDIT) == []
