"""Login throttling over a fake NATS key-value store with the real KV's answers
(KeyNotFoundError, KeyWrongLastSequenceError on a stale revision): only failures
count, both counters block, and a NATS outage never locks moderators out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import nats.errors
import nats.js.errors

from services.moderation.throttle import LoginThrottle


@dataclass
class Entry:
    value: bytes
    revision: int


class FakeKV:
    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}
        self.revision = 0

    async def get(self, key: str) -> Entry:
        if key not in self.entries:
            raise nats.js.errors.KeyNotFoundError()
        return self.entries[key]

    async def create(self, key: str, value: bytes) -> int:
        if key in self.entries:
            raise nats.js.errors.KeyWrongLastSequenceError()
        return self._put(key, value)

    async def update(self, key: str, value: bytes, last: int) -> int:
        if self.entries[key].revision != last:
            raise nats.js.errors.KeyWrongLastSequenceError()
        return self._put(key, value)

    def _put(self, key: str, value: bytes) -> int:
        self.revision += 1
        self.entries[key] = Entry(value, self.revision)
        return self.revision


class FakeJetStream:
    def __init__(self, down: bool = False) -> None:
        self.buckets: dict[str, FakeKV] = {}
        self.down = down

    async def key_value(self, name: str) -> FakeKV:
        if self.down:
            raise nats.errors.NoServersError()
        if name not in self.buckets:
            raise nats.js.errors.BucketNotFoundError()
        return self.buckets[name]

    async def create_key_value(self, config: Any) -> FakeKV:
        return self.buckets.setdefault(config.bucket, FakeKV())


async def test_five_failures_for_a_name_block_it_and_nothing_stores_the_client() -> None:
    js = FakeJetStream()
    throttle = LoginThrottle(js)  # type: ignore[arg-type]
    for _ in range(5):
        assert await throttle.check("Alex", "198.51.100.7") is None
        await throttle.failed("Alex", "198.51.100.7")
    blocked = await throttle.check("alex", "203.0.113.9")  # any client, any case
    assert blocked is not None and 1 <= blocked.retry_after <= 900
    assert await throttle.check("sam", "203.0.113.9") is None
    keys = " ".join(k for kv in js.buckets.values() for k in kv.entries)
    assert "198.51.100.7" not in keys and "alex" not in keys.lower()  # only keyed hashes


async def test_one_client_failing_for_many_names_is_blocked_too() -> None:
    throttle = LoginThrottle(FakeJetStream(), client_failures=3)  # type: ignore[arg-type]
    for n in range(3):
        await throttle.failed(f"name{n}", "198.51.100.7")
    assert await throttle.check("someone-else", "198.51.100.7") is not None
    assert await throttle.check("someone-else", "198.51.100.8") is None


async def test_with_nats_down_logins_are_not_blocked() -> None:
    assert await LoginThrottle(FakeJetStream(down=True)).check("alex", "198.51.100.7") is None  # type: ignore[arg-type]
