"""Publishing's settings."""

from __future__ import annotations

from shared.config import Setting, parse_rate

SETTINGS: tuple[Setting, ...] = (
    Setting("REPORT_RATE_LIMIT", "10/hour", "Per-client limit on reader reports of published stories (same "
            "form as SUBMISSION_RATE_LIMIT).", parse_rate),
    Setting("RESONANCE_RATE_LIMIT", "20/minute", "Per-client limit on \"this resonated with me\" presses (keyed hash "
            "in NATS KV with a TTL, never stored); stops floods, not readers.", parse_rate),
)
