"""A story's text as the screen reads it, and the way back to title and body."""

from __future__ import annotations

from services.moderation.render import spans_for
from services.moderation.story_text import StoryText


def test_title_blank_line_body() -> None:
    story = StoryText("Home", "My lola's kitchen.")
    assert story.text == "Home\n\nMy lola's kitchen." and story.text[story.body_at:] == story.body


def test_spans_come_back_per_field_and_one_over_both_is_cut_in_two() -> None:
    story = StoryText("Home", "My lola's kitchen.")
    title_hit = {"term": "home", "start": 0, "end": 4}
    body_hit = {"term": "lola", "start": story.body_at + 3, "end": story.body_at + 7}
    window = {"label": "toxicity", "start": 2, "end": story.body_at + 2}
    title, body, first, second = story.by_field([title_hit, body_hit, window])
    assert (title["field"], story.title[title["start"]:title["end"]]) == ("title", "Home")
    assert (body["field"], story.body[body["start"]:body["end"]]) == ("body", "lola")
    assert (first["field"], first["start"], first["end"]) == ("title", 2, 4)
    assert (second["field"], second["start"], second["end"]) == ("body", 0, 2)


def test_the_queue_continues_a_title_passage_into_the_body_by_the_same_layout() -> None:
    story = StoryText("Home", "My lola's kitchen.")
    passage = {"label": "insult", "score": 0.9, "field": "title", "start": 0, "end": story.body_at + 2}
    assert spans_for("body", [passage], [], len(story.body), len(story.title))[0][:2] == (0, 2)
    assert StoryText.into_body(len(story.title), 4) <= 0
