"""Submission's settings."""

from __future__ import annotations

from shared.config import Setting, parse_rate

SETTINGS: tuple[Setting, ...] = (
    Setting("SUBMISSION_RATE_LIMIT", "10/hour", "Per-client submission limit (N/second|minute|hour|day); "
            "`off` disables it.", parse_rate),
    Setting("RECEIPT_RATE_LIMIT", "30/hour", "Per-client limit on receipt look-ups (the status page and "
            "/api/receipts/*), answered 429 with Retry-After; `off` disables it.", parse_rate),
)
