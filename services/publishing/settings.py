"""Publishing's settings."""

from __future__ import annotations

from shared.config import Setting, non_negative, parse_rate

SETTINGS: tuple[Setting, ...] = (
    Setting("REPORT_RATE_LIMIT", "10/hour", "Per-client limit on reader reports of published stories (same "
            "form as SUBMISSION_RATE_LIMIT).", parse_rate),
    Setting("PUBLISHING_PAGE_CACHE_MB", "64", "Memory each publishing process may keep rendered public pages and "
            "feeds in (with their gzip/brotli copies), emptied by every event that changes them; 0 turns the "
            "cache off.", non_negative),
    Setting("RESONANCE_RATE_LIMIT", "20/minute", "Per-client limit on \"this resonated with me\" presses (keyed hash "
            "in NATS KV with a TTL, never stored); stops floods, not readers.", parse_rate),
)
