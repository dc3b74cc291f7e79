"""An asyncpg pool that hands out connections in the order they were asked for.

asyncpg's pool keeps idle connections in an `asyncio.LifoQueue`. A released connection
goes to the first waiter, but that waiter only runs on a later turn of the event loop;
a request that arrives in between takes the connection first, and the waiter, finding
the queue empty again, queues anew *at the back* (MagicStack/asyncpg#1247, open). Under
a burst, a few requests wait again and again: `make bench-http`'s POST load (32
connections, pool of 10) measured the pool wait at p50 0.05 ms but p99 63 ms and max
136 ms, while the statement itself took p99 8 ms: the slowest hundredth of submissions
was that wait.

`FairPool` puts an `asyncio.Semaphore` of the pool's size in front. Since Python
3.11.1 a semaphore is first come, first served (a newcomer queues behind any waiter,
and a release is handed straight to the oldest), and whoever holds one of its places
always finds a connection, so the waits are served in order and the pool's own queue
never races. Measured on the same load: pool waits p99 63 → 38 ms, max 136 → 45 ms.
Handing a place over costs a turn of the event loop, during which the connection
idles, so a pool that is too small for its load loses throughput (POST req/s fell
about a quarter with 10 connections); submission therefore keeps 20
(SUBMISSION_DB_POOL_SIZE). asyncpg's `_acquire` is the one seam every acquisition
passes through (`acquire()`, `async with`, and `fetch`/`execute` on the pool); it is a
private method, so the asyncpg version is pinned and tests/integration/test_fairpool.py
fails if the order is lost.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy


class FairPool(asyncpg.Pool):
    def __init__(self, *args: Any, max_size: int, **kwargs: Any) -> None:
        super().__init__(*args, max_size=max_size, **kwargs)
        self._turns = asyncio.Semaphore(max_size)
        # The connections handed out through a place, so that a second release of the
        # same connection (asyncpg ignores it) gives back no second place.
        self._held: set[int] = set()

    # The two overrides keep asyncpg's own signatures, `timeout` included.
    async def _acquire(self, timeout: float | None) -> PoolConnectionProxy:  # noqa: ASYNC109
        if timeout is None:
            await self._turns.acquire()
        else:
            await asyncio.wait_for(self._turns.acquire(), timeout)
        try:
            # A place always finds a connection in asyncpg's queue: no wait, no race.
            proxy = await super()._acquire(timeout)
        except BaseException:
            self._turns.release()
            raise
        self._held.add(id(proxy))
        return proxy

    async def release(self, connection: PoolConnectionProxy, *,
                      timeout: float | None = None) -> None:  # noqa: ASYNC109
        try:
            await super().release(connection, timeout=timeout)
        finally:
            # After the connection is back in asyncpg's queue: the next in line finds it.
            if id(connection) in self._held:
                self._held.discard(id(connection))
                self._turns.release()


# asyncpg.create_pool's keyword defaults (Pool itself has none), read from it rather
# than copied, so a FairPool starts as asyncpg's would.
_DEFAULTS = {name: p.default for name, p in inspect.signature(asyncpg.create_pool).parameters.items()
             if p.kind is inspect.Parameter.KEYWORD_ONLY}


def create_fair_pool(dsn: str, **options: Any) -> FairPool:
    """`asyncpg.create_pool(dsn, **options)`, as a FairPool (await it, as asyncpg's)."""
    return FairPool(dsn, **(_DEFAULTS | options))
