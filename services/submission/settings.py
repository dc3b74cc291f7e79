"""Submission's settings."""

from __future__ import annotations

from shared.config import Setting, at_least_one, parse_rate

SETTINGS: tuple[Setting, ...] = (
    Setting("SUBMISSION_RATE_LIMIT", "10/hour", "Per-client submission limit (N/second|minute|hour|day); "
            "`off` disables it.", parse_rate),
    Setting("RECEIPT_RATE_LIMIT", "30/hour", "Per-client limit on receipt look-ups (the status page and "
            "/api/receipts/*), answered 429 with Retry-After; `off` disables it.", parse_rate),
    Setting("APPEAL_DAYS", "30", "Days after a rejection during which its author may appeal it once, with the "
            "receipt code alone.", at_least_one),
)
