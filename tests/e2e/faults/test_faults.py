"""Faults with real processes: NATS SIGKILLed, a screening worker SIGKILLed,
PostgreSQL restarted, the outbox relay killed between commit and publish, an
event delivered twice. Each time every accepted story reaches the queue exactly
once and every approved story is published exactly once.

Figures (stories in / queued / published / duplicates) are printed; run with -s.
"""

from __future__ import annotations

import asyncio
import json
import signal
import threading
import time
import uuid

import httpx
import nats
import nats.js.errors
import pytest

from shared.events import new_event
from shared.natsauth import identity
from tests.hardening import (
    ScratchStack,
    approve_all,
    queue_counts,
    stream_messages,
    submit_many,
    titles,
    wait_published,
    wait_queued,
)
from tests.stack import db_fetch, publish_raw, wait_until

[DURABLE] = identity("moderation-worker").durables()  # the screening workers' one consumer

pytestmark = pytest.mark.slow


def _stored(dsn: str, names: list[str]) -> int:
    return db_fetch(dsn, "SELECT count(*) AS n FROM submission.stories WHERE title = ANY($1)", names)[0]["n"]


def _parked(dsn: str) -> int:
    return sum(db_fetch(dsn, f"SELECT count(*) AS n FROM {schema}.parked_messages")[0]["n"]
               for schema in ("submission", "moderation", "publishing"))


def _report(fault: str, accepted: int, counts: dict[str, int]) -> None:
    print(f"\n[fault] {fault}: stories in {accepted}, in queue {counts['queued']}, "
          f"published {counts['published']}, duplicates {counts['duplicates']}")


def _ack_pending(url: str, durable: str) -> int:
    """Messages a durable consumer has delivered and not had acked (0 until its
    first subscriber creates it)."""
    async def go() -> int:
        nc = await nats.connect(url)
        try:
            return (await nc.jetstream().consumer_info("STORIES", durable)).num_ack_pending or 0
        except nats.js.errors.NotFoundError:
            return 0
        finally:
            await nc.close()
    return asyncio.run(go())


def _in_background(fn, *args) -> tuple[threading.Thread, dict]:
    out: dict = {}

    def run() -> None:
        try:
            out["result"] = fn(*args)
        except BaseException as e:  # surfaced by the test after join
            out["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


def _join(t: threading.Thread, out: dict, timeout: float = 180):
    t.join(timeout)
    assert not t.is_alive(), "background work did not finish"
    if "error" in out:
        raise out["error"]
    return out.get("result")


def test_nats_sigkilled_during_submissions_and_approvals(scratch: ScratchStack, scratch_mod: httpx.Client) -> None:
    stack, dsn = scratch.stack, scratch.dsn
    names = titles("nats-kill", 120)
    t, out = _in_background(submit_many, stack, names, 8)
    wait_until(lambda: _stored(dsn, names) >= 30, 60, 0.05, "30 stories stored")
    scratch.nats.kill()  # SIGKILL mid-stream: the API keeps accepting (outbox)
    time.sleep(3)
    scratch.nats.start()
    receipts = _join(t, out)
    assert len(receipts) == len(names) == _stored(dsn, names)
    counts = wait_queued(dsn, names, 120)
    # Approvals, with NATS killed again half way.
    t, out = _in_background(approve_all, stack, scratch_mod, dsn, names)
    wait_until(lambda: db_fetch(dsn, "SELECT count(*) AS n FROM moderation.queue_items WHERE title = ANY($1)"
                                     " AND state = 'approved'", names)[0]["n"] >= 40, 60, 0.05, "40 approvals")
    scratch.nats.kill()
    time.sleep(2)
    scratch.nats.start()
    _join(t, out)
    counts = wait_published(dsn, names, 120)
    _report("NATS SIGKILLed twice", len(receipts), counts)
    assert counts == {"queued": 120, "published": 120, "duplicates": 0}


def test_screening_worker_sigkilled_mid_batch(scratch: ScratchStack, scratch_mod: httpx.Client) -> None:
    stack, dsn = scratch.stack, scratch.dsn
    workers = scratch.children("worker")
    assert len(workers) == 1, workers
    old_pid = workers[0].pid
    names = titles("worker-kill", 100)
    t, out = _in_background(submit_many, stack, names, 10)
    # Mid-batch: freeze the worker while it holds fetched, unacked messages, confirm it
    # still holds them, then SIGKILL it. JetStream redelivers them (after the
    # consumer's ack wait) to the successor the supervisor starts.
    held = 0
    for _ in range(2000):
        if _ack_pending(scratch.nats.admin_url, DURABLE):
            workers[0].suspend()
            held = _ack_pending(scratch.nats.admin_url, DURABLE)
            if held:
                break
            workers[0].resume()
        time.sleep(0.01)
    assert held, "never caught the worker holding a batch"
    workers[0].send_signal(signal.SIGKILL)
    filed_before_kill = queue_counts(dsn, names)["queued"]
    receipts = _join(t, out)
    wait_until(lambda: [p for p in scratch.children("worker") if p.pid != old_pid], 30, 0.2, "worker restarted")
    counts = wait_queued(dsn, names, 150)
    approve_all(stack, scratch_mod, dsn, names)
    counts = wait_published(dsn, names, 60)
    # The `held` messages were never acked by the dead worker, so every one of them
    # reached the queue through a redelivery to its successor.
    _report(f"screening worker SIGKILLed holding {held} fetched, unacked messages ({filed_before_kill} filed "
            "before the kill)", len(receipts), counts)
    assert counts == {"queued": 100, "published": 100, "duplicates": 0}


def test_postgres_restarted_mid_flow(scratch: ScratchStack, scratch_mod: httpx.Client) -> None:
    stack, dsn = scratch.stack, scratch.dsn
    names = titles("pg-restart", 80)
    t, out = _in_background(submit_many, stack, names, 8)
    wait_until(lambda: _stored(dsn, names) >= 25, 60, 0.05, "25 stories stored")
    scratch.pg_stop()
    try:
        # While PostgreSQL is down every route that needs it answers 503 quickly.
        probes = {
            ("submission", "POST", "/api/stories"): {"title": "During the outage", "body": "x" * 40},
            ("submission", "POST", "/api/receipts/status"): {"receipt": "BR-00000-00000-00000-00000"},
            ("publishing", "GET", "/"): None,
            ("publishing", "GET", "/api/stories"): None,
            ("publishing", "GET", "/feed.atom"): None,
            ("publishing", "GET", f"/stories/{uuid.uuid4()}"): None,
            ("moderation", "GET", "/api/queue"): None,
            ("moderation", "POST", "/api/session"): {"username": "x", "password": "y"},
        }
        seen = {}
        public = httpx.Client(timeout=30)
        for (service, method, path), body in probes.items():
            started = time.monotonic()
            client = scratch_mod if service == "moderation" else public
            r = client.request(method, stack.url(service, path), json=body)
            seen[(service, path)] = (r.status_code, round(time.monotonic() - started, 2))
            assert r.status_code == 503, (service, path, r.status_code, r.text[:300])
            assert r.headers.get("retry-after")
            assert time.monotonic() - started < 10
        public.close()
        print(f"\n[fault] requests while PostgreSQL is down: {seen}")
        health = httpx.get(stack.url("submission", "/healthz"), timeout=10)
        assert health.status_code == 503 and "database" in health.json()["checks"]
    finally:
        scratch.pg_start()
    receipts = _join(t, out)
    assert len(receipts) == len(names) == _stored(dsn, names)
    wait_queued(dsn, names, 120)
    approve_all(stack, scratch_mod, dsn, names)
    counts = wait_published(dsn, names, 60)
    _report("PostgreSQL stopped and restarted mid-flow", len(receipts), counts)
    assert counts == {"queued": 80, "published": 80, "duplicates": 0}
    assert db_fetch(dsn, "SELECT count(*) AS n FROM moderation.parked_messages")[0]["n"] == 0


def test_relay_killed_between_commit_and_publish(scratch: ScratchStack, scratch_mod: httpx.Client) -> None:
    stack, dsn = scratch.stack, scratch.dsn
    names = titles("relay-kill", 50)
    scratch.nats.kill()
    try:
        receipts = submit_many(stack, names, 8)
        # Committed, with their events waiting in the outbox: nothing could publish them.
        waiting = db_fetch(dsn, "SELECT count(*) AS n FROM submission.outbox o JOIN submission.stories s"
                                " ON s.story_id = o.story_id WHERE s.title = ANY($1) AND o.published_on IS NULL",
                           names)[0]["n"]
        assert waiting == len(names)
        (service,) = scratch.children("serve submission")
        service.send_signal(signal.SIGKILL)
    finally:
        time.sleep(1)
        scratch.nats.start()
    wait_until(lambda: [p for p in scratch.children("serve submission") if p.pid != service.pid], 30, 0.2,
               "submission restarted")
    counts = wait_queued(dsn, names, 120)
    approve_all(stack, scratch_mod, dsn, names)
    counts = wait_published(dsn, names, 60)
    _report("outbox relay SIGKILLed with 50 events unpublished", len(receipts), counts)
    assert counts == {"queued": 50, "published": 50, "duplicates": 0}


def test_same_event_delivered_twice(scratch: ScratchStack, scratch_mod: httpx.Client) -> None:
    """Re-publish real events under new Nats-Msg-Ids, so JetStream stores every copy
    and only the consumers' inboxes stand between a copy and a duplicate."""
    stack, dsn, url = scratch.stack, scratch.dsn, scratch.nats.admin_url
    names = titles("twice", 20)
    submit_many(stack, names, 5)
    wait_queued(dsn, names)
    submitted = db_fetch(dsn, "SELECT o.subject, o.payload FROM submission.outbox o JOIN submission.stories s"
                              " ON s.story_id = o.story_id WHERE s.title = ANY($1)", names)
    assert len(submitted) == 20
    # A never-seen event, delivered three times.
    extra = new_event("StorySubmitted", story_id=str(uuid.uuid4()), title=f"twice extra {uuid.uuid4().hex[:6]}",
                      body="A story whose event arrives three times.", pen_name=None, tags=[],
                      content_warnings=[])
    for _ in range(3):
        publish_raw(url, extra.subject, json.loads(extra.to_json()), str(uuid.uuid4()))
    parked_before = _parked(dsn)
    for row in submitted:
        publish_raw(url, row["subject"], json.loads(row["payload"]), str(uuid.uuid4()))
    names.append(extra.data["title"])
    approve_all(stack, scratch_mod, dsn, names)
    wait_published(dsn, names)
    approved = db_fetch(dsn, "SELECT o.subject, o.payload FROM moderation.outbox o JOIN moderation.queue_items q"
                             " ON q.story_id = o.story_id WHERE q.title = ANY($1) AND o.subject = 'stories.approved'",
                        names)
    assert len(approved) == 21
    for row in approved:
        for _ in range(2):
            publish_raw(url, row["subject"], json.loads(row["payload"]), str(uuid.uuid4()))
    # Give the consumers time to see every copy, then count.
    time.sleep(3)
    counts = queue_counts(dsn, names)
    _report("every StorySubmitted delivered twice (one three times), every StoryApproved three times", 21, counts)
    assert counts == {"queued": 21, "published": 21, "duplicates": 0}
    # Receipts still say published: a late StoryScreened copy did not move them back.
    statuses = db_fetch(dsn, "SELECT status, count(*) AS n FROM submission.stories WHERE title = ANY($1)"
                             " GROUP BY status", names)
    assert statuses == [{"status": "published", "n": 20}]
    # Every copy was a well-formed event that the inboxes absorbed, none was parked.
    assert _parked(dsn) == parked_before
    # ...and the stream really holds every copy (the server did not deduplicate them).
    stored = [body for _, _, body in stream_messages(url)]
    assert sum(extra.id in b for b in stored) >= 3
    assert all(sum(json.loads(r["payload"])["id"] in b for b in stored) >= 3 for r in approved)
