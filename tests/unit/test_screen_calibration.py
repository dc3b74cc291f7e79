"""Calibration from decisions: the suggested flag threshold is the lowest at which
fewer than 5% of approved stories would flag, shown beside what it still catches
of the rejected ones; applied thresholds override SCREEN_FLAG in the worker."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from services.moderation.screen.calibration import MIN_APPROVED, calibration, histogram, suggest
from services.moderation.worker import Worker
from tests.unit.fakes import FakePool


def test_the_suggestion_flags_fewer_than_5_percent_of_approved() -> None:
    approved = [i / 100 for i in range(100)]  # 0.00 … 0.99, evenly
    t = suggest(approved)
    assert t == 0.96  # 4 of 100 at or above 0.96; 5 at or above 0.95
    assert suggest(approved[:MIN_APPROVED - 1]) is None  # too few to say anything
    assert suggest([0.99] * 30) == 1.0


def test_histogram_in_tenths() -> None:
    assert histogram([0.0, 0.05, 0.5, 0.99, 1.0]) == [2, 0, 0, 0, 0, 1, 0, 0, 0, 2]


def test_calibration_per_label_from_decided_stories() -> None:
    rows = ([{"state": "approved", "scores": {"toxicity": 0.1 + i / 100}} for i in range(38)]
            + [{"state": "unpublished", "scores": {"toxicity": 0.7}}] * 2
            + [{"state": "rejected", "scores": {"toxicity": 0.9}}] * 5)
    pool = FakePool({"SELECT state, scores": rows, "SELECT label, threshold": []})
    table = {c["label"]: c for c in asyncio.run(calibration(pool, {"toxicity": 0.4}))}
    tox = table["toxicity"]
    assert tox["approved"] == 40 and tox["rejected"] == 5
    # At 0.4 it flagged 0.40 … 0.47 and the two 0.7s: 10 of 40 approved.
    assert tox["threshold"] == 0.4 and tox["approved_flagged"] == 0.25 and tox["rejected_flagged"] == 1.0
    # Two of 40 is 5%, not fewer: only above 0.7 does the share drop below.
    assert tox["suggested"] == 0.71 and tox["suggested_approved"] == 0.0 and tox["suggested_rejected"] == 1.0
    assert "current_date - $1::int" in pool.sent[0][0]  # the last 90 days, by day


def test_the_worker_screens_with_applied_thresholds() -> None:
    settings = SimpleNamespace(screen_hold={"threat": 0.7}, screen_flag={"toxicity": 0.5, "insult": 0.5},
                               screen_ack_wait=30)
    pool = FakePool({"SELECT label, threshold": [{"label": "toxicity", "threshold": 0.8}]})
    worker = Worker.__new__(Worker)
    worker.rt = SimpleNamespace(pool=pool, settings=settings)
    worker._terms = (0.0, [])
    asyncio.run(worker.terms())
    assert worker.policy.flag == {"toxicity": 0.8, "insult": 0.5} and worker.policy.hold == {"threat": 0.7}


def test_no_suggestion_lowers_a_threshold_that_already_flags_few_approved() -> None:
    rows = ([{"state": "approved", "scores": {"toxicity": 0.01}}] * 30
            + [{"state": "rejected", "scores": {"toxicity": 0.95}}] * 4)
    pool = FakePool({"SELECT state, scores": rows, "SELECT label, threshold": []})
    tox = {c["label"]: c for c in asyncio.run(calibration(pool, {"toxicity": 0.5}))}["toxicity"]
    assert tox["approved_flagged"] == 0.0 and tox["suggested"] is None and tox["keep"] is True
