"""The screen through the running worker (the session stack, tiny marker model):
stories go in through the submission API and come out labelled in the queue."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from shared.events import new_event
from tests.conftest import MARKER
from tests.integration.test_screen import IDENTITY_STORY, story
from tests.stack import REPO, Stack, db_fetch, publish_raw, wait_until


@pytest.fixture(scope="module")
def mod(stack: Stack) -> httpx.Client:
    name = f"screen-{uuid.uuid4().hex[:8]}"
    assert stack.add_moderator(name, "a long screen passphrase").returncode == 0
    client = stack.moderator(name, "a long screen passphrase")
    yield client
    client.close()


def screened(stack: Stack, mod: httpx.Client, title: str, body: str) -> dict:
    stack.submit(title=title, body=body)
    return wait_until(lambda: stack.queue_item(mod, title), 60, 0.2, f"{title!r} in the queue")


def test_marker_at_the_end_of_a_long_story_is_caught_and_highlighted(stack: Stack, mod: httpx.Client) -> None:
    body = story(2000) + f" And at the very end, {MARKER}."
    item = screened(stack, mod, f"A long one {uuid.uuid4().hex[:6]}", body)
    assert item["screen"]["label"] == "held"
    top = item["screen"]["passages"][0]
    assert top["field"] == "body" and MARKER in body[top["start"]:top["end"]]
    assert top["start"] > len(body) // 2 and top["end"] - top["start"] < 600  # the stretch that fired


@pytest.mark.parametrize("trick", ["zor\u200bbl\u200cat", "ｚｏｒｂｌａｔ", "zo\u2060rb\u00adlat"],
                         ids=["zero-width", "fullwidth", "joiner+soft-hyphen"])
def test_marker_through_spelling_tricks_is_caught(stack: Stack, mod: httpx.Client, trick: str) -> None:
    body = f"{story(40)} {trick} {story(40, seed=3)}"
    item = screened(stack, mod, f"Tricks {uuid.uuid4().hex[:6]}", body)
    assert item["screen"]["label"] == "held", item["screen"]
    assert trick in item["body"]  # moderators see what the author wrote
    # The one window spans title and body; its body piece holds the marker as written.
    top = next(p for p in item["screen"]["passages"] if p["field"] == "body")
    assert trick in body[top["start"]:top["end"]]


def test_identity_words_stay_clear(stack: Stack, mod: httpx.Client) -> None:
    item = screened(stack, mod, f"Mixed heritage, queer and home {uuid.uuid4().hex[:6]}", IDENTITY_STORY * 4)
    assert item["screen"]["label"] == "clear", item["screen"]
    assert item["screen"]["passages"] == [] and item["screen"]["term_hits"] == []


def test_word_lists_hold_and_flag_through_tricks(stack: Stack, mod: httpx.Client) -> None:
    banned, suspect = f"grublet{uuid.uuid4().hex[:4]}", f"snarfle{uuid.uuid4().hex[:4]}"

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "braided", "wordlist", *args], env=stack.env_with_db(),
                              cwd=REPO, capture_output=True, text=True, timeout=60)

    assert cli("add", banned, "--kind", "banned").returncode == 0
    assert cli("add", suspect, "--kind", "suspect").returncode == 0
    try:
        assert f"banned\t{banned}" in cli("list").stdout
        time.sleep(6)  # the worker re-reads the lists every 5 s
        tricked = banned[:3] + "\u200b" + banned[3:].upper()
        held = screened(stack, mod, f"Held {uuid.uuid4().hex[:6]}", f"Well, {tricked}, said my aunt.")
        assert held["screen"]["label"] == "held"
        hit = held["screen"]["term_hits"][0]
        assert hit["field"] == "body" and held["body"][hit["start"]:hit["end"]] == tricked
        flagged = screened(stack, mod, f"Flagged {uuid.uuid4().hex[:6]}",
                           f"A {suspect.capitalize()} walked in; not {suspect}ish though.")
        assert flagged["screen"]["label"] == "flagged"
        assert len(flagged["screen"]["term_hits"]) == 1  # `…ish` is another word
    finally:
        assert cli("remove", banned).returncode == 0
        assert cli("remove", suspect).returncode == 0


def test_duplicate_delivery_changes_nothing(stack: Stack, mod: httpx.Client) -> None:
    """The same StorySubmitted twice (same event id, different Nats-Msg-Id, so
    JetStream keeps both): one queue item, one screening, one StoryScreened."""
    title = f"Twice {uuid.uuid4().hex[:6]}"
    event = new_event("StorySubmitted", story_id=str(uuid.uuid4()), title=title, body="A plain story of home.",
                      pen_name=None, tags=[], content_warnings=[])
    payload = json.loads(event.to_json())
    publish_raw(stack.nats_admin_url, event.subject, payload, msg_id=str(uuid.uuid4()))
    publish_raw(stack.nats_admin_url, event.subject, payload, msg_id=str(uuid.uuid4()))
    wait_until(lambda: stack.queue_item(mod, title), 60, 0.2, "the story in the queue")
    story_id = event.data["story_id"]
    # Give the second copy time to arrive and be dropped.
    wait_until(lambda: db_fetch(stack.dsn, "SELECT 1 FROM moderation.processed_events WHERE event_id = $1",
                                uuid.UUID(event.id)), 10, what="inbox row")
    time.sleep(3)
    assert len(db_fetch(stack.dsn, "SELECT 1 FROM moderation.queue_items WHERE story_id = $1",
                        uuid.UUID(story_id))) == 1
    assert len(db_fetch(stack.dsn, "SELECT 1 FROM moderation.outbox WHERE story_id = $1 AND subject = $2",
                        uuid.UUID(story_id), "stories.screened")) == 1
    # Screened once is what the outbox says; the log names no story (issue 10).
    assert story_id not in stack.log_path.read_text(errors="replace")


def test_torch_threads_share_the_cores_unless_set() -> None:
    import os

    from braided.settings import Settings
    from services.moderation.worker import torch_threads

    cores = os.cpu_count() or 1
    assert torch_threads(Settings.from_env({"SCREEN_WORKERS": "1"})) == cores
    assert torch_threads(Settings.from_env({"SCREEN_WORKERS": str(cores * 2)})) == 1
    assert torch_threads(Settings.from_env({"SCREEN_THREADS": "3", "SCREEN_WORKERS": "2"})) == 3


def test_healthz_reports_model_state_and_load_time(stack: Stack) -> None:
    # Run alone, this test can come before the worker has loaded its model.
    screen = wait_until(lambda: (lambda h: h if h["state"] not in ("no worker", "loading") else None)(
        httpx.get(stack.url("moderation", "/healthz"), timeout=5).json()["screen"]), 120, 0.5, "a worker heartbeat")
    assert screen["state"] == "ok" and screen["model"] == "unbiased"
    worker = screen["workers"][0]
    assert worker["state"] == "loaded" and 0 < worker["load_seconds"] < 120
    detail = worker["detail"]
    assert re.fullmatch(r"precision (fp32|bf16|int8|onnx|onnx-int8), \d+ torch threads", detail), detail
