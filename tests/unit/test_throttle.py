"""Login throttling over a fake NATS key-value store with the real KV's answers
(KeyNotFoundError, KeyWrongLastSequenceError on a stale revision) that lets other
tasks run between a read and a write: attempts are counted before they are
evaluated, per (account, client) with growing waits and per client across
accounts, and a NATS outage never locks moderators out."""

from __future__ import annotations

import asyncio
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
        await asyncio.sleep(0)  # a real get is a round trip: others run meanwhile
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

    async def delete(self, key: str) -> None:
        self.entries.pop(key, None)

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


CLIENT = "198.51.100.7"


async def test_a_burst_of_parallel_guesses_gets_only_the_free_attempts() -> None:
    js = FakeJetStream()
    throttle = LoginThrottle(js)  # type: ignore[arg-type]
    verdicts = await asyncio.gather(*(throttle.attempt("Alex", CLIENT) for _ in range(60)))
    assert sum(v is None for v in verdicts) == throttle.pair_free
    assert all(1 <= v.retry_after <= 900 for v in verdicts if v is not None)
    keys = " ".join(k for kv in js.buckets.values() for k in kv.entries)
    assert CLIENT not in keys and "alex" not in keys.lower()  # only keyed hashes


async def test_waits_grow_after_the_free_attempts(monkeypatch) -> None:
    now = [1_000_000.0]
    monkeypatch.setattr("services.moderation.throttle.time.time", lambda: now[0])
    throttle = LoginThrottle(FakeJetStream(), pair_free=2)  # type: ignore[arg-type]
    waits = []
    for _ in range(7):  # two free, then each waits twice as long as the one before
        while (blocked := await throttle.attempt("alex", CLIENT)) is not None:
            waits.append(blocked.retry_after)
            now[0] += blocked.retry_after
    assert waits == [30, 60, 120, 240, 480]


async def test_a_strangers_failures_do_not_lock_the_owner_out_from_her_address() -> None:
    throttle = LoginThrottle(FakeJetStream())  # type: ignore[arg-type]
    for _ in range(30):
        await throttle.attempt("alex", "203.0.113.66")
    assert await throttle.attempt("Alex", CLIENT) is None


async def test_a_success_starts_the_pair_afresh() -> None:
    throttle = LoginThrottle(FakeJetStream(), pair_free=3)  # type: ignore[arg-type]
    for _ in range(2):
        assert await throttle.attempt("alex", CLIENT) is None
    await throttle.succeeded("alex", CLIENT)
    assert [await throttle.attempt("alex", CLIENT) is None for _ in range(4)] == [True, True, True, False]


async def test_one_client_trying_many_names_is_blocked_too() -> None:
    throttle = LoginThrottle(FakeJetStream(), client_failures=3)  # type: ignore[arg-type]
    for n in range(3):
        assert await throttle.attempt(f"name{n}", CLIENT) is None
    assert await throttle.attempt("someone-else", CLIENT) is not None
    assert await throttle.attempt("someone-else", "198.51.100.8") is None
    # Successful logins give their attempt back: a shared office address is not locked out by use.
    throttle = LoginThrottle(FakeJetStream(), client_failures=3)  # type: ignore[arg-type]
    for n in range(10):
        assert await throttle.attempt(f"name{n}", CLIENT) is None
        await throttle.succeeded(f"name{n}", CLIENT)


async def test_with_nats_down_logins_are_not_blocked() -> None:
    assert await LoginThrottle(FakeJetStream(down=True)).attempt("alex", CLIENT) is None  # type: ignore[arg-type]
