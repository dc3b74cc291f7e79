"""Per-client limits without remembering clients.

The client address is never stored: a counter is keyed by HMAC(key, address).
The key is random, lives only in NATS memory storage (a KV bucket with a TTL), and
is replaced when it expires, so yesterday's counters cannot be linked to today's
addresses. Counters live in a second memory-storage bucket with a TTL, shared by
every replica; increments use compare-and-set so replicas never lose a count.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import time
from dataclasses import dataclass

import nats.js.errors
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.kv import KeyValue

from shared.bus import NATS_DOWN
from shared.retry import retrying

log = logging.getLogger("braided.ratelimit")


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until the window resets


class RateLimiter:
    def __init__(self, js: JetStreamContext, scope: str, limit: int, period: int) -> None:
        self.js, self.scope, self.limit, self.period = js, scope, limit, period
        self._keys: KeyValue | None = None
        self._counts: KeyValue | None = None
        self._key_cache: tuple[int, bytes] | None = None

    async def _buckets(self) -> tuple[KeyValue, KeyValue]:
        if self._keys is None or self._counts is None:
            # The key rotates at least daily, and never more often than the window.
            key_ttl = max(self.period, 86400)
            self._keys = await self._bucket(f"ratelimit_keys_{self.scope}", key_ttl)
            self._counts = await self._bucket(f"ratelimit_{self.scope}", self.period + 5)
        return self._keys, self._counts

    async def _bucket(self, name: str, ttl: int) -> KeyValue:
        try:
            return await self.js.key_value(name)
        except nats.js.errors.BucketNotFoundError:
            try:
                return await self.js.create_key_value(KeyValueConfig(
                    bucket=name, ttl=ttl, storage=StorageType.MEMORY, history=1))
            except nats.js.errors.BadRequestError:  # another replica created it first
                return await self.js.key_value(name)

    async def _key(self, keys: KeyValue) -> bytes:
        epoch = int(time.time()) // max(self.period, 86400)
        if self._key_cache and self._key_cache[0] == epoch:
            return self._key_cache[1]
        name = f"k{epoch}"
        try:
            value = (await keys.get(name)).value
        except nats.js.errors.KeyNotFoundError:
            try:
                await keys.create(name, os.urandom(32))
            except nats.js.errors.KeyWrongLastSequenceError:
                pass  # another replica made this epoch's key
            value = (await keys.get(name)).value
        assert value is not None
        self._key_cache = (epoch, value)
        return value

    async def hit(self, client_address: str) -> Verdict:
        """Count one request; fail open (allow) if NATS is unavailable, because a
        story must not be refused for an infrastructure fault — it is still
        pre-moderated."""
        try:
            keys, counts = await self._buckets()
            key = await self._key(keys)
            now = int(time.time())
            window = now // self.period
            digest = hmac.new(key, client_address.encode(), hashlib.sha256).hexdigest()[:32]
            name = f"{digest}.{window}"
            retry_after = (window + 1) * self.period - now
            async def count_one() -> Verdict:
                # Compare-and-set: another replica's increment in between is retried.
                try:
                    entry = await counts.get(name)
                except nats.js.errors.KeyNotFoundError:
                    await counts.create(name, b"1")
                    return Verdict(True, retry_after)
                count = int(entry.value or b"0")
                if count >= self.limit:
                    return Verdict(False, max(retry_after, 1))
                await counts.update(name, str(count + 1).encode(), last=entry.revision)
                return Verdict(True, retry_after)

            try:
                return await retrying(count_one, errors=(nats.js.errors.KeyWrongLastSequenceError,), what=None,
                                      attempts=20, wait=0)
            except nats.js.errors.KeyWrongLastSequenceError:
                return Verdict(False, 1)  # heavy contention on one client's key: ask it to retry
        except NATS_DOWN as e:
            log.warning("rate limiter unavailable (%s); allowing", type(e).__name__)
            return Verdict(True, 0)
