"""Moderator wellbeing (issue 14): held stories blurred and grey, content warnings
collapsed in the queue, the break reminder after N held stories, and a moderator's
own exposure on the dashboard (hers only)."""

from __future__ import annotations

import html
import re
import urllib.parse
import uuid
from pathlib import Path

from tests.e2e.moderation.mod_helpers import (  # noqa: F401 - close_clients is a fixture
    close_clients,
    csrf,
    file_item,
    html_login,
    new_moderator,
)
from tests.stack import REPO, Stack, db_fetch


def test_held_stories_are_blurred_and_grey() -> None:
    css = (Path(REPO) / "services/moderation/static/mod.css").read_text()
    rule = re.search(r"\.story\.blurred \{([^}]*)\}", css).group(1)
    assert "blur(" in rule and "grayscale(1)" in rule


def test_content_warnings_are_collapsed_in_the_queue(stack: Stack) -> None:
    mod = html_login(stack, new_moderator(stack))
    sid, _ = file_item(stack, label="held", severity=0.9999)
    db_fetch(stack.dsn, "UPDATE moderation.queue_items SET content_warnings = '{suicide}' WHERE story_id = $1"
             " RETURNING 1", uuid.UUID(sid))
    # The queue's first page may be full of other tests' items (one shared stack): the
    # held tab, most severe first, has this one at its top.
    page = mod.get("/queue?label=held").text
    item = page[page.index(f'id="item-{sid}"'):]
    assert re.match(r'(?s).*?<details class="cw"><summary class="cw-line">Content warning: suicide', item)


def test_break_reminder_after_n_held_stories_and_own_exposure(stack: Stack) -> None:
    name = new_moderator(stack)
    mod = html_login(stack, name)
    other = html_login(stack, new_moderator(stack))
    assert mod.post("/me", data={"csrf": csrf(mod, "/me"), "break_after": "2"}).status_code == 303
    held = [file_item(stack, label="held", severity=0.99)[0] for _ in range(2)]
    flashes = []
    for sid in held:
        r = mod.post(f"/queue/{sid}/reveal", data={"csrf": csrf(mod), "next": "/queue", "action": "reveal"})
        assert r.status_code == 303
        flashes.append(urllib.parse.parse_qs(urllib.parse.urlsplit(r.headers["location"]).query).get("done"))
    assert flashes[0] is None and "take a break" in flashes[1][0]
    mine = html.unescape(mod.get("/dashboard").text)
    assert re.search(r"<strong>2</strong> this session", mine)
    theirs = html.unescape(other.get("/dashboard").text)
    assert re.search(r"<strong>0</strong> this session", theirs)  # hers only, never another's
    assert other.post("/me", data={"csrf": csrf(other, "/me"), "break_after": "9999"}).status_code == 422
