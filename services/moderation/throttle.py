"""Login throttling: every attempt is counted *before* its password is checked.

Two counters, both in NATS KV (memory storage, expiring on their own, shared by
every replica), both keyed by an HMAC of the client with the rotating in-memory key
of the shared limiter (shared/ratelimit.py): no address is ever stored.

- Per (account, client): the first PAIR_FREE attempts go through at once; after
  that each attempt must wait, twice as long as the one before (30 s, 1 min,
  2 min, …, at most the window). The slot is taken with compare-and-set before the password is
  verified, so a burst of parallel guesses gets PAIR_FREE evaluations, not one per
  request. A successful login clears it.
- Per client across accounts: LOGIN_CLIENT_FAILURES attempts per window (a
  successful login gives its attempt back), so one address cannot spray every
  account.

Nothing is counted per account alone: a stranger's failures from her own address
never lock a moderator out of her account from another address.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import time
from dataclasses import dataclass

import nats.js.errors
from nats.js import JetStreamContext

from shared.bus import NATS_DOWN
from shared.ratelimit import RateLimiter
from shared.retry import retrying

PAIR_FREE, CLIENT_FAILURES, WINDOW = 5, 20, 900
FIRST_WAIT = 30  # seconds, after the free attempts; doubled at each further attempt


@dataclass(frozen=True)
class Blocked:
    retry_after: int


class _KeyedLimiter(RateLimiter):
    """The shared limiter's buckets and rotating HMAC key, with the counter's
    entry name exposed (to read, refund or clear it)."""

    async def entry_name(self, key: str, windowed: bool = True) -> str:
        keys, _ = await self._buckets()
        secret = await self._key(keys)
        digest = hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{digest}.{int(time.time()) // self.period}" if windowed else digest

    async def refund(self, key: str) -> None:
        """Give one counted hit back (a successful login is not a guess)."""
        _, counts = await self._buckets()
        name = await self.entry_name(key)

        async def once() -> None:
            try:
                entry = await counts.get(name)
            except nats.js.errors.KeyNotFoundError:
                return
            count = int(entry.value or b"0")
            if count > 0:
                await counts.update(name, str(count - 1).encode(), last=entry.revision)

        try:
            await retrying(once, errors=(nats.js.errors.KeyWrongLastSequenceError,), what=None, attempts=20, wait=0)
        except (nats.js.errors.KeyWrongLastSequenceError, *NATS_DOWN):
            pass

    async def take_slot(self, key: str, free: int) -> Blocked | None:
        """Count one attempt for `key` unless it must still wait; growing waits
        after `free` attempts. Compare-and-set: of several parallel attempts that
        read the same state, one wins and the others read again."""
        _, counts = await self._buckets()
        name = await self.entry_name(key, windowed=False)

        async def once() -> Blocked | None:
            try:
                entry = await counts.get(name)
            except nats.js.errors.KeyNotFoundError:
                entry = None
            state = json.loads(entry.value) if entry is not None and entry.value else {"n": 0, "next": 0}
            now = time.time()
            if now < state["next"]:
                return Blocked(max(1, math.ceil(state["next"] - now)))
            n = state["n"] + 1
            wait = 0 if n < free else min(FIRST_WAIT * 2 ** (n - free), self.period)
            value = json.dumps({"n": n, "next": now + wait}).encode()
            if entry is None:
                await counts.create(name, value)
            else:
                await counts.update(name, value, last=entry.revision)
            return None

        try:
            return await retrying(once, errors=(nats.js.errors.KeyWrongLastSequenceError,), what=None,
                                  attempts=50, wait=0)
        except nats.js.errors.KeyWrongLastSequenceError:
            return Blocked(1)  # heavy contention on one pair: it is being hammered

    async def clear(self, key: str) -> None:
        _, counts = await self._buckets()
        try:
            await counts.delete(await self.entry_name(key, windowed=False))
        except (nats.js.errors.KeyNotFoundError, *NATS_DOWN):
            pass


class LoginThrottle:
    def __init__(self, js: JetStreamContext, pair_free: int = PAIR_FREE,
                 client_failures: int = CLIENT_FAILURES, window: int = WINDOW) -> None:
        self.pair_free = pair_free
        self.by_pair = _KeyedLimiter(js, "login_pair", pair_free, window)
        self.by_client = _KeyedLimiter(js, "login_client", client_failures, window)

    @staticmethod
    def _pair(username: str, client: str) -> str:
        return f"{username.casefold()}\x00{client}"

    async def attempt(self, username: str, client: str) -> Blocked | None:
        """Count this attempt, before the password is checked; Blocked when the
        pair must still wait or the client has used its attempts. Fails open if
        NATS is down: argon2id still slows guessing, and moderators must work."""
        try:
            blocked = await self.by_pair.take_slot(self._pair(username, client), self.pair_free)
            if blocked is not None:
                return blocked
            verdict = await self.by_client.hit(client)
            return None if verdict.allowed else Blocked(max(1, verdict.retry_after))
        except NATS_DOWN:
            return None

    async def succeeded(self, username: str, client: str) -> None:
        """The right password: the pair starts afresh and the client gets its attempt back."""
        try:
            await self.by_pair.clear(self._pair(username, client))
            await self.by_client.refund(client)
        except NATS_DOWN:
            pass
