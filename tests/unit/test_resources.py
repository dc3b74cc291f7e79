"""Support resources as admins type them: validation and the one-per-line form."""

from __future__ import annotations

from services.moderation.resources import as_lines, parse_entries, parse_intro, parse_lines


def test_lines_become_entries_and_back() -> None:
    text = ("Everywhere | Switchboard | 0300 330 0630 | https://switchboard.lgbt | LGBT+ helpline\n\n"
            "Philippines | Lola's line | text 1234 | open evenings\n")
    entries, error = parse_lines(text)
    assert error is None
    assert entries[0] == {"region": "Everywhere", "name": "Switchboard", "contact": "0300 330 0630",
                          "url": "https://switchboard.lgbt", "note": "LGBT+ helpline"}
    assert entries[1]["url"] == "" and entries[1]["note"] == "open evenings"  # no website: the 4th part is a note
    assert parse_lines(as_lines(entries)) == (entries, None)


def test_each_entry_needs_a_region_a_name_and_a_way_to_reach_them() -> None:
    assert parse_entries([{"region": "", "name": "x", "contact": "1"}])[1] == "Resource 1: give a region and a name."
    assert "a way to reach them" in parse_entries([{"region": "r", "name": "n"}])[1]
    assert "must start with https://" in parse_entries([{"region": "r", "name": "n", "url": "javascript:x"}])[1]
    assert "keep the name to 120" in parse_entries([{"region": "r", "name": "n" * 121, "contact": "1"}])[1]
    assert "each field is text" in parse_entries([{"region": 1}])[1]
    assert "up to 200" in parse_entries([{}] * 201)[1] and "up to 200" in parse_entries("nope")[1]


def test_control_and_bidi_characters_never_reach_the_support_page() -> None:
    entries, _ = parse_lines("Every\u202ewhere | Name\x07 | 123")
    assert entries[0]["region"] == "Everywhere" and entries[0]["name"] == "Name"


def test_the_introduction_is_text_of_bounded_length() -> None:
    assert parse_intro(None) == ("", None)
    assert parse_intro(" Hello ") == ("Hello", None)
    assert parse_intro(3)[1] == "The introduction is text."
    assert "2000" in parse_intro("x" * 2001)[1]
