"""Integration events: versioned JSON envelopes, defined once for every service.

An envelope is `{"id", "type", "version", "occurred_on", "data"}`. The id is also
sent as `Nats-Msg-Id`, so JetStream drops a re-publish inside its duplicate window,
and consumers record it so a redelivery changes nothing.

Envelopes carry no client information, and only a day (never a time) so that an
event cannot be matched to a request in some other record.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

STREAM = "STORIES"
STREAM_SUBJECTS = ["stories.>"]


@dataclass(frozen=True)
class EventType:
    name: str
    subject: str
    version: int
    fields: dict[str, type | tuple[type, ...]]
    # Fields a sender may leave out (added after version 1; older events lack them).
    optional: dict[str, type | tuple[type, ...]] = field(default_factory=dict)


_STORY = {
    "story_id": str,
    "title": str,
    "body": str,
    "pen_name": (str, type(None)),
    "tags": list,
    "content_warnings": list,
}
# The exchange (issue 15): what a story answers (a prompt, another story), the
# language of its text, the author's own second-language version and glossary.
_EXCHANGE = {
    "prompt_id": (str, type(None)),
    "in_response_to": (str, type(None)),
    "lang": (str, type(None)),
    "translation": (dict, type(None)),
    "glossary": list,
}
_PROMPT = {"prompt_id": str, "title": str, "description": str, "opens_on": (str, type(None)),
           "closes_on": (str, type(None))}

EVENT_TYPES: dict[str, EventType] = {
    t.name: t
    for t in (
        EventType("StorySubmitted", "stories.submitted", 1, _STORY, _EXCHANGE),
        EventType("StoryScreened", "stories.screened", 1, {"story_id": str, "label": str}),
        EventType("StoryApproved", "stories.approved", 1, _STORY | {"published_on": str}, _EXCHANGE),
        EventType("StoryRejected", "stories.rejected", 1, {"story_id": str, "reason": str}),
        EventType("StoryWithdrawn", "stories.withdrawn", 1, {"story_id": str}),
        EventType("StoryUnpublished", "stories.unpublished", 1, {"story_id": str, "reason": str}),
        EventType("StoryReported", "stories.reported", 1, {"story_id": str, "report_id": str, "reason": str}),
        # Not about one story, but it rides the one stream (subjects `stories.>`) so
        # every consumer already sees it; services without a handler ack and skip it.
        EventType("ResourcesUpdated", "stories.site.resources_updated", 1,
                  {"revision": int, "intro": str, "entries": list}),
        # Writing prompts (issue 15), published and closed by admins in moderation;
        # site-wide like ResourcesUpdated, so they ride the one stream too.
        EventType("PromptPublished", "stories.prompts.published", 1, _PROMPT),
        EventType("PromptClosed", "stories.prompts.closed", 1, {"prompt_id": str, "closed_on": str}),
        # The author of a rejected story asks, with her receipt code alone, for another look.
        EventType("StoryAppealed", "stories.appealed", 1, {"story_id": str, "message": str}),
        # Moderators resolved readers' reports: publishing tells each reader (by report code) the outcome.
        EventType("ReportsResolved", "stories.reports_resolved", 1,
                  {"story_id": str, "report_ids": list, "outcome": str}),
    )
}
SUBJECT_TO_TYPE = {t.subject: t for t in EVENT_TYPES.values()}


class BadEvent(ValueError):
    """An envelope that does not match its schema; parked, never half-applied."""


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    version: int
    occurred_on: str
    data: dict[str, Any]

    @property
    def subject(self) -> str:
        return EVENT_TYPES[self.type].subject

    @property
    def story_id(self) -> str | None:
        return self.data.get("story_id")

    def to_json(self) -> bytes:
        return json.dumps(
            {"id": self.id, "type": self.type, "version": self.version,
             "occurred_on": self.occurred_on, "data": self.data},
            ensure_ascii=False, separators=(",", ":"),
        ).encode()


def _check(etype: EventType, data: dict[str, Any]) -> None:
    missing = [k for k in etype.fields if k not in data]
    if missing:
        raise BadEvent(f"{etype.name}: missing {', '.join(missing)}")
    for k, want in etype.fields.items():
        if not isinstance(data[k], want):
            raise BadEvent(f"{etype.name}.{k}: wrong type {type(data[k]).__name__}")
    for k, want in etype.optional.items():
        if k in data and not isinstance(data[k], want):
            raise BadEvent(f"{etype.name}.{k}: wrong type {type(data[k]).__name__}")
    # Values, not only types: a forged event must not reach a handler with an id that is
    # no id, a time where a day belongs, or a list of something other than words.
    # (Optional fields and fields that may be null are checked when they hold a value.)
    for k, value in data.items():
        if value is None or (k not in etype.fields and k not in etype.optional):
            continue
        if k.endswith("_id") or k == "in_response_to":
            try:
                uuid.UUID(value)
            except (ValueError, AttributeError, TypeError):
                raise BadEvent(f"{etype.name}.{k}: not a UUID") from None
        elif k.endswith("_on") and not _is_day(value):
            raise BadEvent(f"{etype.name}.{k}: not a day (YYYY-MM-DD)")
        elif k in ("tags", "content_warnings") and not all(isinstance(v, str) for v in value):
            raise BadEvent(f"{etype.name}.{k}: not a list of strings")


def _is_day(value: object) -> bool:
    """YYYY-MM-DD and nothing more (no time of day)."""
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def new_event(type_name: str, **data: Any) -> Event:
    etype = EVENT_TYPES[type_name]
    _check(etype, data)
    return Event(str(uuid.uuid4()), etype.name, etype.version, dt.datetime.now(dt.UTC).date().isoformat(), data)


def decode(raw: bytes) -> Event:
    try:
        doc = json.loads(raw)
        etype = EVENT_TYPES[doc["type"]]
        if doc["version"] != etype.version:
            raise BadEvent(f"{etype.name}: unsupported version {doc['version']}")
        uuid.UUID(doc["id"])
        if not _is_day(doc["occurred_on"]):
            raise BadEvent(f"{etype.name}: occurred_on is not a day")
        if not isinstance(doc["data"], dict):
            raise BadEvent(f"{etype.name}: data is not an object")
        _check(etype, doc["data"])
        return Event(doc["id"], etype.name, doc["version"], doc["occurred_on"], doc["data"])
    except BadEvent:
        raise
    except (ValueError, KeyError, TypeError) as e:
        raise BadEvent(f"undecodable event: {e!r}") from None
