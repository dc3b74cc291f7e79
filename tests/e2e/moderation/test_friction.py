"""Moderator friction from issue 14 (points 7 and 8), without JavaScript: a refused
rejection keeps the ticked stories, the story page leads on after a decision,
history and audit read as words, and the audit names stories by title."""

from __future__ import annotations

import html
import re
import urllib.parse
import uuid

from tests.e2e.moderation.mod_helpers import (  # noqa: F401 - close_clients is a fixture
    close_clients,
    csrf,
    file_item,
    html_login,
    new_moderator,
)
from tests.stack import Stack, db_fetch


def _state(stack: Stack, sid: str) -> str:
    rows = db_fetch(stack.dsn, "SELECT state FROM moderation.queue_items WHERE story_id = $1", uuid.UUID(sid))
    return rows[0]["state"]


def test_bulk_reject_without_a_reason_keeps_the_ticked_stories(stack: Stack) -> None:
    mod = html_login(stack, new_moderator(stack))
    a, _ = file_item(stack, severity=0.99)
    b, _ = file_item(stack, severity=0.99)
    r = mod.post("/queue/bulk", data={"csrf": csrf(mod), "next": "/queue", "decision": "reject", "reason": "",
                                      "ids": [a, b]})
    assert r.status_code == 303
    location = r.headers["location"]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    assert set(query["sel"]) == {a, b} and "reason" in query["error"][0]
    page = mod.get(location)
    assert page.status_code == 200 and 'role="alert" id="decide-error"' in page.text
    for sid in (a, b):
        assert re.search(rf'id="sel-{sid}"[^>]* checked', page.text), sid
    assert 'id="bulk-reason"' in page.text and 'aria-describedby="decide-error"' in page.text
    assert "2 selected" in page.text
    assert _state(stack, a) == _state(stack, b) == "pending"
    # "Select all" without JS: every pending story on the page comes back ticked.
    everything = mod.get("/queue?sel=all")
    assert everything.text.count('class="select" name="ids"') == everything.text.count(" checked>") > 0


def test_single_reject_without_a_reason_returns_to_the_story(stack: Stack) -> None:
    mod = html_login(stack, new_moderator(stack))
    sid, _ = file_item(stack)
    r = mod.post(f"/queue/{sid}/decision", data={"csrf": csrf(mod), "next": f"/queue/{sid}", "decision": "reject"})
    assert r.status_code == 303 and r.headers["location"].startswith(f"/queue/{sid}?error=")
    assert r.headers["location"].endswith(f"#rej-reason-{sid}")
    page = mod.get(r.headers["location"])
    assert 'id="decide-error"' in page.text and f'id="rej-reason-{sid}"' in page.text
    assert _state(stack, sid) == "pending"


def test_after_a_decision_next_story_published_link_and_readable_history(stack: Stack) -> None:
    mod = html_login(stack, new_moderator(stack))
    sid, title = file_item(stack, severity=0.0)
    file_item(stack, severity=0.98)  # something still waiting
    r = mod.post(f"/queue/{sid}/decision", data={"csrf": csrf(mod), "next": f"/queue/{sid}", "decision": "approve"})
    assert r.status_code == 303
    page = mod.get(r.headers["location"])
    text = html.unescape(page.text)
    assert 'id="next-story"' in page.text and f'href="/queue/{sid}"' not in re.search(
        r'<a class="button" href="[^"]+" id="next-story"', page.text).group(0)
    assert f'/stories/{sid}" id="published-link"' in page.text
    assert "approved the story" in text and "· story.approved" not in text
    audit = html.unescape(mod.get("/audit", params={"story": sid}).text)
    assert "approved the story" in audit and title[:40] in audit and f">{sid[:8]}<" not in audit
