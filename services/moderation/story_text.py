"""A story's text as the screen reads it: the title, a blank line, the body.

One value owns that layout and the way back from offsets in the combined text to
offsets in the title or the body that moderators see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class StoryText:
    title: str
    body: str

    SEPARATOR: ClassVar[str] = "\n\n"

    @property
    def text(self) -> str:
        """What the screen reads: title and body as one text."""
        return self.title + self.SEPARATOR + self.body

    @property
    def body_at(self) -> int:
        """Where the body starts in `text`."""
        return len(self.title) + len(self.SEPARATOR)

    @classmethod
    def into_body(cls, title_length: int, end: int) -> int:
        """How far a span of `text` that starts in the title and ends at `end` runs
        into the body (0 or less: it does not)."""
        return end - title_length - len(cls.SEPARATOR)

    def by_field(self, spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Spans with offsets into `text` → spans with a "field" (title or body) and
        offsets into it. A span (a model window) over both becomes one piece in each."""
        title_len, body_at = len(self.title), self.body_at
        out = []
        for span in spans:
            if span["start"] >= body_at:
                out.append(span | {"field": "body", "start": span["start"] - body_at, "end": span["end"] - body_at})
            elif span["end"] <= title_len:
                out.append(span | {"field": "title"})
            else:
                if span["start"] < title_len:
                    out.append(span | {"field": "title", "end": title_len})
                if span["end"] > body_at:
                    out.append(span | {"field": "body", "start": 0, "end": span["end"] - body_at})
        return out
