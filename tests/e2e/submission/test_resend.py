"""A rejected author keeps her story (issue 14, point 1): the receipt shows her title
and text while it is hers to resend, "Edit and send again" files a new story, and
nothing is shown once it is published or withdrawn."""

from __future__ import annotations

import html
import re

import httpx

from tests.e2e.publishing.flow import approve, reject, unique
from tests.e2e.submission.test_form import Browser
from tests.stack import Stack, wait_until

BODY = "Tết at my aunt's flat: bánh chưng, and my girlfriend beside me for the first time."


def test_rejected_story_is_shown_to_its_code_and_can_be_sent_again(stack: Stack, admin: httpx.Client) -> None:
    title = unique("Tết flat ")
    receipt = stack.submit(title=title, body=BODY, tags=["Vietnamese", "food and festivals"],
                           content_warnings=["family rejection", "loud uncles"])
    waiting = stack.receipt_status(receipt)
    assert waiting["status"] in ("received", "in_review") and waiting["title"] == title and waiting["body"] == BODY
    reject(stack, admin, title, "Please leave out the street name, then send it again.")
    wait_until(lambda: stack.receipt_status(receipt)["status"] == "rejected", 20, what="rejected")
    api = stack.receipt_status(receipt)
    assert api["title"] == title and api["body"] == BODY and "street name" in api["reason"]

    b = Browser(stack)
    try:
        page = b.post("/status", {"receipt": receipt})
        text = html.unescape(page.text)
        assert page.status_code == 200 and 'id="your-story"' in page.text
        assert title in text and BODY in text and "Keep a copy of your text" in text
        assert 'id="resend"' in page.text
        again = b.post("/status", {"receipt": receipt, "action": "resend"})
        form = html.unescape(again.text)
        assert again.status_code == 200 and 'id="resend-note"' in again.text
        assert f'value="{title}"' in form and BODY in form
        assert 'value="Vietnamese"' in form and 'value="food and festivals" checked' in again.text
        assert 'value="family rejection" checked' in again.text and 'value="loud uncles"' in form
        hidden = r'<input type="hidden" name="(csrf|submission_key|resend)" value="([^"]*)"'
        fields = dict(re.findall(hidden, again.text))
        edited = BODY.replace("my aunt's flat", "home")
        sent = b.client.post("/stories", data=fields | {
            "title": title + " (edited)", "body": edited, "heritage": "Vietnamese", "themes": "food and festivals",
            "action": "send"})
        assert sent.status_code == 201 and 'id="resend-receipt"' in sent.text and "new code" in sent.text
        new_code = re.search(r'id="receipt">([^<]+)<', sent.text).group(1)
        assert new_code != receipt
        assert stack.receipt_status(new_code)["title"] == title + " (edited)"
        assert stack.receipt_status(receipt)["status"] == "rejected"  # the old code keeps the first decision
    finally:
        b.client.close()
    httpx.post(stack.url("submission", "/api/receipts/withdraw"), json={"receipt": receipt}, timeout=30)
    gone = stack.receipt_status(receipt)
    assert gone["status"] == "withdrawn" and "title" not in gone and "body" not in gone


def test_published_story_is_not_echoed(stack: Stack, admin: httpx.Client) -> None:
    title = unique("Echo ")
    receipt = stack.submit(title=title)
    approve(stack, admin, title)
    wait_until(lambda: stack.receipt_status(receipt)["status"] == "published", 20, what="published")
    assert "body" not in stack.receipt_status(receipt)


def test_receipt_page_says_keep_a_copy_of_the_text(stack: Stack) -> None:
    b = Browser(stack)
    try:
        sent = b.post("/stories", {"title": unique("Copy "), "body": BODY, "action": "send"})
        assert sent.status_code == 201 and "Keep a copy of your text too" in sent.text
        assert 'id="resend-receipt"' not in sent.text
    finally:
        b.client.close()
