"""The member's front door over real HTTP: the form, preview, receipt, status, privacy."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from shared.taxonomy import CONTENT_WARNINGS, THEMES
from tests.e2e.publishing.flow import approve, reject, unique
from tests.stack import Stack, db_fetch, wait_until

SAMPLES = {
    "japanese": "祖母の台所で、私は初めて自分の言葉を見つけた。",
    "chinese": "我在两种文化之间长大，终于找到了属于我的地方。",
    "devanagari": "मेरी नानी की कहानियाँ हिंदी में थीं।",
    "tagalog": "Ang lola ko ay nagsabi: “Mahal kita, anák.” Pagkâ at ñ.",
    "emoji": "👩‍❤️‍👩 🏳️‍🌈 👩🏽‍🍳",
}


class Browser:
    """A client that fills the form as a browser without JS would (public pages set
    no cookie: a story carries the key minted into the form, nothing else)."""

    def __init__(self, stack: Stack) -> None:
        self.client = httpx.Client(base_url=stack.url("submission"), timeout=30)

    def key(self) -> str:
        page = self.client.get("/")
        assert page.status_code == 200 and not page.headers.get_list("set-cookie")
        return re.search(r'name="submission_key" value="([^"]+)"', page.text).group(1)

    def post(self, path: str, data: dict) -> httpx.Response:
        return self.client.post(path, data=({"submission_key": self.key()} if path == "/stories" else {}) | data)


@pytest.fixture()
def browser(stack: Stack):
    b = Browser(stack)
    yield b
    b.client.close()


def _rows(stack: Stack, title: str) -> list[dict]:
    return db_fetch(stack.dsn, "SELECT * FROM submission.stories WHERE title = $1", title)


def test_form_offers_every_part_of_the_issue(stack: Stack, browser: Browser) -> None:
    page = browser.client.get("/")
    assert page.status_code == 200
    text = html.unescape(page.text)
    for name in ("title", "body", "pen_name", "heritage", "cw_other"):
        assert re.search(rf'<label for="{name}"', page.text), name
    for theme in THEMES:
        assert f'name="themes" value="{theme}"' in text
    for cw in CONTENT_WARNINGS:
        assert f'name="cw" value="{cw}"' in text
    assert 'data-counter="body-count"' in page.text and 'data-max="20000"' in page.text
    assert "Community guidelines" in text and 'value="preview"' in page.text
    # Quick exit as a plain link (works without JS) to the configured neutral address.
    assert 'id="quick-exit" href="https://www.bbc.com/weather"' in page.text
    # Strict CSP holds: no inline scripts or styles anywhere on the page.
    assert "<script>" not in page.text and "style=" not in page.text and "<style" not in page.text
    assert "<title>Share · Braided</title>" in page.text
    assert page.headers["cache-control"] == "no-store"


def test_preview_stores_nothing_then_send_stores_the_merged_tags(stack: Stack, browser: Browser) -> None:
    title = unique("Preview first ")
    fields = {"title": title, "body": SAMPLES["japanese"] + " " + SAMPLES["emoji"] + " and more words here.",
              "heritage": "Japanese, Scottish", "themes": ["language", "food and festivals"],
              "cw": ["racism"], "cw_other": "loud uncles"}
    preview = browser.post("/stories", fields | {"action": "preview"})
    assert preview.status_code == 200
    text = html.unescape(preview.text)
    assert "Preview — not sent yet" in text and SAMPLES["emoji"] in text and title in text
    assert "Content warning: racism, loud uncles" in text
    assert 'value="language" checked' in preview.text  # the form comes back as it was
    assert _rows(stack, title) == []

    sent = browser.post("/stories", fields | {"action": "send"})
    assert sent.status_code == 201
    receipt = re.search(r'id="receipt">([^<]+)<', sent.text).group(1)
    assert re.fullmatch(r"BR(-[0-9A-Z]{5}){4}", receipt)
    assert 'data-copy="receipt" hidden' in sent.text  # copy button appears only with JS
    [row] = _rows(stack, title)
    assert row["tags"] == ["Japanese", "Scottish", "language", "food and festivals"]
    assert row["content_warnings"] == ["racism", "loud uncles"]
    assert SAMPLES["emoji"] in row["body"]  # ZWJ sequences intact
    assert receipt not in str(row)


@pytest.mark.parametrize("fields, field, message", [
    ({"title": "", "body": "x" * 30}, "title", "Give your story a title."),
    ({"title": "Short", "body": "too short"}, "body", "at least 20 characters"),
    ({"title": "Long", "body": "y" * 20_001}, "body", "up to 20,000 characters; this one has 20,001"),
    ({"title": "Tags", "body": "z" * 30, "heritage": "<b>bold</b>"}, "tags", "Tags can use letters"),
    ({"title": "Themes", "body": "z" * 30, "themes": ["not a theme"]}, "themes", "Choose themes from the list"),
])
def test_errors_are_tied_to_their_field(browser: Browser, fields: dict, field: str, message: str) -> None:
    r = browser.post("/stories", fields | {"action": "send"})
    assert r.status_code == 422
    assert message in html.unescape(r.text)
    assert f'id="{field}-error"' in r.text
    # The field (or its fieldset) points at its error, and the summary links to it.
    assert re.search(rf'aria-describedby="[^"]*\b{field}-error\b', r.text)
    assert 'class="card error-summary"' in r.text
    if field != "themes":  # what was typed comes back
        assert html.escape(fields["title"]) in r.text


def test_expired_form_keeps_the_text(stack: Stack) -> None:
    with httpx.Client(base_url=stack.url("submission"), timeout=10) as c:
        r = c.post("/stories", data={"submission_key": "forged", "title": "Kept",
                                     "body": "Nothing is lost here at all."})
    assert r.status_code == 400 and "This form expired" in r.text and "Nothing is lost here at all." in r.text


def test_every_script_round_trips(stack: Stack, browser: Browser) -> None:
    title = unique("Scripts ") + " " + SAMPLES["chinese"][:6]
    body = "\n".join(SAMPLES.values())
    r = browser.post("/stories", {"title": title, "body": body, "pen_name": "Anák 🌸",
                                  "heritage": "日本人, हिंदी, Tagalog", "action": "send"})
    assert r.status_code == 201, r.text
    [row] = _rows(stack, title)
    assert row["body"] == body and row["pen_name"] == "Anák 🌸"
    assert row["tags"] == ["日本人", "हिंदी", "Tagalog"]


def test_privacy_and_guidelines_pages(stack: Stack) -> None:
    privacy = httpx.get(stack.url("submission", "/privacy"), timeout=10)
    assert privacy.status_code == 200
    text = html.unescape(privacy.text)
    # {% trans %} collapses the template's line breaks (shared/i18n.py).
    for words in ("No address", "No browser details", "No account", "30 days after the decision",
                  "How to withdraw"):
        assert words in text
    guidelines = httpx.get(stack.url("submission", "/guidelines"), timeout=10)
    assert guidelines.status_code == 200 and "Community guidelines" in guidelines.text
    missing = httpx.get(stack.url("submission", "/nowhere"), timeout=10)
    assert missing.status_code == 404 and "There is nothing at this address" in missing.text


def test_status_shows_the_rejection_reason_and_withdraw_needs_confirmation(stack: Stack, admin: httpx.Client,
                                                                           browser: Browser) -> None:
    title = unique("Not this time ")
    receipt = stack.submit(title=title)
    reject(stack, admin, title, "Please leave out your school's name — it could identify you.")
    wait_until(lambda: stack.receipt_status(receipt)["status"] == "rejected", 20, what="rejected")
    r = browser.post("/status", {"receipt": receipt.lower().replace("-", " ")})
    assert r.status_code == 200
    text = html.unescape(r.text)
    assert "Not published" in text and "leave out your school's name" in text
    # Withdraw asks first, then refuses without the tick, then deletes.
    ask = browser.post("/status", {"receipt": receipt, "action": "confirm-withdraw"})
    assert 'name="confirm"' in ask.text and "cannot be undone" in ask.text
    unticked = browser.post("/status", {"receipt": receipt, "action": "withdraw"})
    assert unticked.status_code == 422 and 'aria-describedby="confirm-error"' in unticked.text
    done = browser.post("/status", {"receipt": receipt, "action": "withdraw", "confirm": "yes"})
    assert done.status_code == 200 and "has been withdrawn" in done.text
    assert stack.receipt_status(receipt)["status"] == "withdrawn"
    wrong = browser.post("/status", {"receipt": "BR-00000-00000-00000-00000"})
    assert wrong.status_code == 404 and 'id="receipt-error"' in wrong.text


def test_heritage_suggestions_come_from_published_stories_only(stack: Stack, admin: httpx.Client) -> None:
    published_tag, rejected_tag = unique("Hakka "), unique("Rejectedtag ")
    t1, t2 = unique("Suggest "), unique("Nosuggest ")
    stack.submit(title=t1, tags=[published_tag, "language"])
    stack.submit(title=t2, tags=[rejected_tag])
    approve(stack, admin, t1)
    reject(stack, admin, t2, "not for here")
    wait_until(lambda: published_tag in httpx.get(stack.url("submission", "/"), timeout=10).text, 20,
               what="suggestion on the form")
    form = httpx.get(stack.url("submission", "/"), timeout=10).text
    assert f'name="heritage_pick" value="{published_tag}"' in form
    assert rejected_tag not in form
    assert 'name="heritage_pick" value="language"' not in form  # themes have their own boxes


def test_a_form_sent_twice_stores_one_story_and_shows_the_same_receipt(stack: Stack, browser: Browser) -> None:
    """A retry after a lost answer, a double click, or Back and send again: the form's
    submission key makes them one story. Back, edit and send is a new story."""
    page = browser.client.get("/")
    key = re.search(r'name="submission_key" value="([^"]+)"', page.text).group(1)
    other = re.search(r'name="submission_key" value="([^"]+)"', browser.client.get("/").text).group(1)
    assert key != other and len(key) >= 32  # a fresh key for every form shown
    title = unique("Sent twice ")
    fields = {"title": title, "body": "The connection dropped just as I pressed send.", "submission_key": key}
    preview = browser.post("/stories", fields | {"action": "preview"})
    assert f'name="submission_key" value="{key}"' in preview.text  # kept across the preview
    first, second = (browser.post("/stories", fields | {"action": "send"}) for _ in range(2))
    assert first.status_code == second.status_code == 201
    codes = [re.search(r'id="receipt">([^<]+)<', r.text).group(1) for r in (first, second)]
    assert codes[0] == codes[1]
    assert len(_rows(stack, title)) == 1
    assert stack.receipt_status(codes[0])["status"] in ("received", "in_review")
    edited = browser.post("/stories", fields | {"action": "send", "body": "A different story from the same page."})
    assert edited.status_code == 201
    assert re.search(r'id="receipt">([^<]+)<', edited.text).group(1) != codes[0]
    assert len(_rows(stack, title)) == 2
    forged = browser.post("/stories", fields | {"action": "send", "submission_key": "short"})
    assert forged.status_code == 400 and "This form expired" in forged.text
    assert 'name="submission_key" value="short"' not in forged.text
    # Two stories (the first sent twice, then the edited one): two queue items, not three.
    wait_until(lambda: len(db_fetch(stack.dsn, "SELECT 1 FROM moderation.queue_items WHERE title = $1", title)) == 2,
               60, 0.2, "both stories queued")
