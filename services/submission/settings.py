"""Submission's settings."""

from __future__ import annotations

from shared.config import Setting, at_least_one, between, parse_rate

SETTINGS: tuple[Setting, ...] = (
    Setting("SUBMISSION_RATE_LIMIT", "10/hour", "Per-client submission limit (N/second|minute|hour|day); "
            "`off` disables it.", parse_rate),
    Setting("RECEIPT_RATE_LIMIT", "30/hour", "Per-client limit on receipt look-ups (the status page and "
            "/api/receipts/*), answered 429 with Retry-After; `off` disables it.", parse_rate),
    Setting("APPEAL_DAYS", "30", "Days after a rejection during which its author may appeal it once, with the "
            "receipt code alone.", at_least_one),
    Setting("SUBMISSION_DB_POOL_SIZE", "20", "Database connections per submission process (the other services keep "
            "10, a screening worker 4). Each submission's commit waits for the disk, and more connections let "
            "PostgreSQL flush many together; beyond them requests wait in line, first come first served. Every "
            "process's connections count against PostgreSQL's max_connections (100 by default).", between(2, 100)),
)
