"""Login throttling: failed logins are counted per username and per client.

Both counters use the shared NATS-KV limiter (shared/ratelimit.py), so they are
shared by every replica, expire on their own, and key the client by an HMAC
with a rotating in-memory key: no address is ever stored. Only failures count,
so a moderator who logs in often is never slowed; once a counter is full, even
the right password is refused until the window ends, or guessing would go on.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

import nats.js.errors
from nats.js import JetStreamContext

from shared.bus import NATS_DOWN
from shared.ratelimit import RateLimiter

USER_FAILURES, CLIENT_FAILURES, WINDOW = 5, 20, 900


class _PeekableLimiter(RateLimiter):
    async def used(self, key: str) -> int:
        """How many hits `key` has in the current window, without adding one."""
        keys, counts = await self._buckets()
        secret = await self._key(keys)
        window = int(time.time()) // self.period
        digest = hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()[:32]
        try:
            entry = await counts.get(f"{digest}.{window}")
        except nats.js.errors.KeyNotFoundError:
            return 0
        return int(entry.value or b"0")

    def retry_after(self) -> int:
        now = int(time.time())
        return max(1, (now // self.period + 1) * self.period - now)


@dataclass(frozen=True)
class Blocked:
    retry_after: int


class LoginThrottle:
    def __init__(self, js: JetStreamContext, user_failures: int = USER_FAILURES,
                 client_failures: int = CLIENT_FAILURES, window: int = WINDOW) -> None:
        self.by_user = _PeekableLimiter(js, "login_user", user_failures, window)
        self.by_client = _PeekableLimiter(js, "login_client", client_failures, window)

    async def check(self, username: str, client: str) -> Blocked | None:
        """Blocked when either counter is full. Fails open if NATS is down: the
        argon2id cost still slows guessing, and moderators must be able to work."""
        try:
            for limiter, key in ((self.by_user, username.casefold()), (self.by_client, client)):
                if await limiter.used(key) >= limiter.limit:
                    return Blocked(limiter.retry_after())
        except NATS_DOWN:
            return None
        return None

    async def failed(self, username: str, client: str) -> None:
        await self.by_user.hit(username.casefold())
        await self.by_client.hit(client)
