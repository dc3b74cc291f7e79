"""The privacy check before sending, over real HTTP (issue 14): the preview lists
what could identify someone; sending is never blocked."""

from __future__ import annotations

import html

from tests.e2e.publishing.flow import unique_letters
from tests.e2e.submission.test_form import Browser
from tests.stack import Stack

BODY = ("I grew up above the shop at 12 Jalan Besar Road. Text me on +65 6123 4567 or write to "
        "lin.tan@example.com; my cousin Wei Ling Tan still lives there.")


def test_preview_lists_identifying_details_and_sending_still_works(stack: Stack) -> None:
    b = Browser(stack)
    try:
        title = unique_letters("Above the shop ")
        fields = {"title": title, "body": BODY, "pen_name": "@lin_writes"}
        preview = b.post("/stories", fields | {"action": "preview"})
        assert preview.status_code == 200 and 'id="privacy-check"' in preview.text
        text = html.unescape(preview.text)
        for detail, label in (("+65 6123 4567", "a phone number"), ("lin.tan@example.com", "an email address"),
                              ("12 Jalan Besar Road", "a street address"), ("Wei Ling Tan", "full name"),
                              ("@lin_writes", "a social media handle")):
            assert f"<mark>{detail}</mark>" in text and label in text, detail
        assert text.count('class="button secondary small finding-edit"') == 5
        assert "never\n  stops you sending" in text or "never stops you sending" in text
        sent = b.post("/stories", fields | {"action": "send"})
        assert sent.status_code == 201  # advice only: nothing is blocked
        # A fixed title: a preview stores nothing, and a random hex suffix is all digits
        # in about 2% of runs, which the check rightly reads as a phone number.
        clean = b.post("/stories", {"title": "Plain kitchen", "body": "Our kitchen smelled of star anise.",
                                    "action": "preview"})
        assert 'id="privacy-clear"' in clean.text
    finally:
        b.client.close()
