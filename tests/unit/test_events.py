import json
import uuid

import pytest

from shared.events import EVENT_TYPES, BadEvent, decode, new_event


def _story(**over):
    return {"story_id": str(uuid.uuid4()), "title": "t", "body": "b", "pen_name": None, "tags": [],
            "content_warnings": []} | over


def test_round_trip_keeps_id_type_and_data() -> None:
    e = new_event("StorySubmitted", **_story(title="家族の話 👩‍❤️‍👩"))
    back = decode(e.to_json())
    assert back == e
    assert back.subject == "stories.submitted"


def test_envelopes_carry_only_a_day() -> None:
    e = new_event("StoryWithdrawn", story_id=str(uuid.uuid4()))
    assert len(e.occurred_on) == 10  # YYYY-MM-DD, no time of day


def test_every_event_name_is_past_tense_and_on_the_stories_stream() -> None:
    for name, t in EVENT_TYPES.items():
        assert name.endswith(("ed", "Withdrawn")) and t.subject.startswith("stories.")


@pytest.mark.parametrize("raw", [
    b"not json",
    b'{"type": "StoryNuked", "version": 1, "id": "x", "occurred_on": "", "data": {}}',
    json.dumps({"type": "StoryWithdrawn", "version": 2, "id": str(uuid.uuid4()), "occurred_on": "2026-01-01",
                "data": {"story_id": "a"}}).encode(),
    json.dumps({"type": "StoryWithdrawn", "version": 1, "id": "not-a-uuid", "occurred_on": "2026-01-01",
                "data": {"story_id": "a"}}).encode(),
    json.dumps({"type": "StoryRejected", "version": 1, "id": str(uuid.uuid4()), "occurred_on": "2026-01-01",
                "data": {"story_id": "a", "reason": 5}}).encode(),
])
def test_bad_envelopes_are_refused(raw: bytes) -> None:
    with pytest.raises(BadEvent):
        decode(raw)


def test_new_event_checks_its_fields() -> None:
    with pytest.raises(BadEvent):
        new_event("StoryRejected", story_id="x")
