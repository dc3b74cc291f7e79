"""The privacy check's findings (issue 14)."""

from __future__ import annotations

import pytest

from services.submission.privacy_check import check

BODY = ("My name is Maria Santos and I live at 42 Abbey Road, London NW8 9AY. Call 020 7946 0958, "
        "+81 3-1234-5678 or 090-1234-5678. Email maria.s@example.com, see https://example.org/me and @maria_s. "
        "I was born on 12 March 1994. Lola cooked for New Year with Auntie Lin. In 2019 I had 1200 reasons.")


def _found(text: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in check("A title", text, None):
        out.setdefault(f.kind, set()).add(f.text)
    return out


def test_every_kind_is_found() -> None:
    found = _found(BODY)
    assert found["email"] == {"maria.s@example.com"} and found["url"] == {"https://example.org/me"}
    assert found["handle"] == {"@maria_s"} and found["address"] == {"42 Abbey Road"}
    assert found["postcode"] == {"NW8 9AY"} and found["birth_date"] == {"born on 12 March 1994"}
    assert found["phone"] == {"020 7946 0958", "+81 3-1234-5678", "090-1234-5678"}  # UK, Japan (+ and local)
    assert found["name"] == {"Maria Santos"}


@pytest.mark.parametrize("text", [
    "Lunar New Year at my grandmother's, 2019. We ate 1200 dumplings.",
    "中秋节的晚上，我和女朋友一起吃月饼。",
    "The Trevor Project helped me when I was 16.",
])
def test_ordinary_stories_have_no_findings(text: str) -> None:
    assert _found(text) == {}


def test_pen_name_and_title_are_checked_too() -> None:
    kinds = {(f.field, f.kind) for f in check("Call me on +44 20 7946 0958", "A story.", "jane.doe@example.org")}
    assert kinds == {("title", "phone"), ("pen_name", "email")}
