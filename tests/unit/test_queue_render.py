"""Highlighting by the screen's offsets, without a server."""

from __future__ import annotations

from services.moderation.render import highlight, spans_for


def test_passage_running_from_title_into_body_is_marked_in_both() -> None:
    title, body = "On the bus", "Someone shouted at me. I went home."
    passage = {"label": "toxicity", "score": 0.9, "start": 3, "end": len(title) + 2 + 21, "field": "title"}
    t = highlight(title, spans_for("title", [passage], [], len(title), None))
    b = highlight(body, spans_for("body", [passage], [], len(body), len(title)))
    assert str(t) == 'On <mark class="hl hl-passage" title="toxicity 0.90">the bus</mark>'
    assert str(b).startswith('<mark class="hl hl-passage" title="toxicity 0.90">Someone shouted at me</mark>.')


def test_offsets_out_of_range_are_clamped_and_text_is_escaped() -> None:
    body = "<b>hi</b> there"
    hits = [{"term": "there", "kind": "suspect", "start": 10, "end": 999, "field": "body"}]
    out = str(highlight(body, spans_for("body", [], hits, len(body))))
    assert out == '&lt;b&gt;hi&lt;/b&gt; <mark class="hl hl-suspect" title="suspect term: there">there</mark>'
    assert str(highlight("plain", spans_for("body", [], [{"start": 7, "end": 3}], 5))) == "plain"
