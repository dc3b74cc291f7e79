"""Submission's settings."""

from __future__ import annotations

from shared.config import Setting, parse_rate

SETTINGS: tuple[Setting, ...] = (
    Setting("SUBMISSION_RATE_LIMIT", "10/hour", "Per-client submission limit (N/second|minute|hour|day); "
            "`off` disables it.", parse_rate),
)
