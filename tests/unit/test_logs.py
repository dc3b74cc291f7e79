"""No log line carries a story id, at any level: the JSON formatter replaces every
UUID (story, event, report ids) in the message, the fields and the traceback."""

from __future__ import annotations

import json
import logging
import uuid

from shared.logs import JsonFormatter


def _line(level: int, msg: str, *args: object, exc: bool = False, **extra: object) -> str:
    record = logging.LogRecord("braided.test", level, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    if exc:
        try:
            raise ValueError(f"duplicate key (story_id)=({extra['story']})")
        except ValueError:
            import sys

            record.exc_info = sys.exc_info()
    return JsonFormatter("test").format(record)


def test_story_ids_never_reach_a_log_line_at_any_level() -> None:
    sid = uuid.uuid4()
    for level in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL):
        line = _line(level, "handled %s", str(sid), story=str(sid), ids=[sid.hex], exc=True)
        doc = json.loads(line)
        assert str(sid) not in line and sid.hex not in line and str(sid).upper() not in line.upper()
        assert doc["msg"] == "handled <id>" and doc["story"] == "<id>" and "<id>" in doc["exc"]


def test_what_is_not_an_id_is_kept() -> None:
    doc = json.loads(_line(logging.INFO, "screened", batch=7, label="flagged", seconds=0.25))
    assert (doc["msg"], doc["batch"], doc["label"], doc["seconds"]) == ("screened", 7, "flagged", 0.25)
