"""Calibration from decisions: per label, how the screen's scores of stories
moderators approved compare with those they rejected over the last 90 days, and
the flag threshold at which the label would have flagged fewer than 5% of the
approved ones. A suggestion only: an admin applies it with a button (it then
overrides SCREEN_FLAG for that label); it is never applied by itself."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.moderation.screen.policy import SCORE_LABELS

DAYS = 90
TARGET = 0.05  # the largest share of approved stories a suggested threshold may flag
BINS = 10
MIN_APPROVED = 20  # fewer approved stories than this say too little for a suggestion


def share_at_or_above(scores: list[float], t: float) -> float:
    return sum(s >= t for s in scores) / len(scores) if scores else 0.0


def suggest(approved: list[float], target: float = TARGET) -> float | None:
    """The lowest threshold (in steps of 0.01) at which fewer than `target` of the
    approved scores would flag; None without enough approved stories."""
    if len(approved) < MIN_APPROVED:
        return None
    for step in range(1, 101):
        t = step / 100
        if share_at_or_above(approved, t) < target:
            return t
    return 1.0


def histogram(scores: list[float]) -> list[int]:
    counts = [0] * BINS
    for s in scores:
        counts[min(BINS - 1, max(0, int(s * BINS)))] += 1
    return counts


async def overrides(pool: Any) -> dict[str, float]:
    rows = await pool.fetch("SELECT label, threshold FROM screen_flag_overrides")
    return {r["label"]: float(r["threshold"]) for r in rows}


async def set_override(conn: asyncpg.Connection, label: str, threshold: float | None, moderator_id: int) -> None:
    if threshold is None:
        await conn.execute("DELETE FROM screen_flag_overrides WHERE label = $1", label)
    else:
        await conn.execute(
            "INSERT INTO screen_flag_overrides (label, threshold, set_by) VALUES ($1, $2, $3) ON CONFLICT (label)"
            " DO UPDATE SET threshold = $2, set_by = $3, set_on = current_date", label, threshold, moderator_id)


async def calibration(pool: Any, flag: dict[str, float]) -> list[dict[str, Any]]:
    """Per label: the approved and rejected score histograms (tenths), the flag
    threshold in force, the share of approved and rejected it flags, and the
    suggested threshold with the same two shares."""
    rows = await pool.fetch(
        "SELECT state, scores FROM queue_items WHERE model IS NOT NULL AND decided_on IS NOT NULL"
        " AND decided_on >= current_date - $1::int AND state IN ('approved', 'unpublished', 'rejected')", DAYS)
    applied = await overrides(pool)
    out = []
    for label in SCORE_LABELS:
        ok = [float(r["scores"].get(label, 0.0)) for r in rows if r["state"] != "rejected" and r["scores"]]
        bad = [float(r["scores"].get(label, 0.0)) for r in rows if r["state"] == "rejected" and r["scores"]]
        current = applied.get(label, flag.get(label))
        t = suggest(ok)
        # Only ever suggest raising a threshold that flags too many approved stories:
        # the lowest under-5% threshold of well-separated scores can be near 0, and
        # lowering a threshold is not what approved stories argue for.
        keep = t is not None and current is not None and share_at_or_above(ok, current) < TARGET
        if keep:
            t = None
        out.append({
            "label": label, "approved": len(ok), "rejected": len(bad),
            "approved_bins": histogram(ok), "rejected_bins": histogram(bad),
            "threshold": current, "overridden": label in applied,
            "approved_flagged": share_at_or_above(ok, current) if current is not None else None,
            "rejected_flagged": share_at_or_above(bad, current) if current is not None else None,
            "suggested": t, "keep": keep,
            "suggested_approved": share_at_or_above(ok, t) if t is not None else None,
            "suggested_rejected": share_at_or_above(bad, t) if t is not None else None,
        })
    return out
