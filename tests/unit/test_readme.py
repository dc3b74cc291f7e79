"""The README's architecture section shows every event (its settings table is
checked beside the settings, in test_config.py)."""

from __future__ import annotations

import re
from pathlib import Path

from shared.events import EVENT_TYPES

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_event_is_in_the_architecture_section() -> None:
    text = README.read_text()
    section = text[text.index("## Architecture"):text.index("### Layout")]
    missing = [t.name for t in EVENT_TYPES.values()
               if not re.search(rf"^\| `{t.name}` \| `{re.escape(t.subject)}` \|", section, re.M)]
    assert missing == []
    sketch = section[section.index("```"):section.index("```", section.index("```") + 3)]
    for t in EVENT_TYPES.values():
        assert t.subject.rpartition(".")[2] in sketch, t.subject
