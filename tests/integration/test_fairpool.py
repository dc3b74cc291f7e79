"""shared/fairpool.py on a real PostgreSQL: connections go to whoever asked first."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from shared.db import create_pool
from shared.fairpool import FairPool

ARRIVALS = 300  # requests arriving faster than a pool of two serves them


async def _grant_order(make_pool: Callable[[], Awaitable[asyncpg.Pool]]) -> list[int]:
    """Both connections open from the start (a first connect would reorder grants by its
    own delay). Requests arrive one after another (as HTTP requests do, each on its own task) and
    each runs a statement on a pooled connection; returns the arrival numbers in the
    order they got their connection."""
    pool = await make_pool()
    granted: list[int] = []

    async def request(n: int) -> None:
        async with pool.acquire() as conn:
            granted.append(n)
            await conn.fetchval("SELECT $1::int", n)

    try:
        tasks = []
        for n in range(ARRIVALS):
            tasks.append(asyncio.create_task(request(n)))
            await asyncio.sleep(0)  # the next arrives a turn of the loop later
        await asyncio.gather(*tasks)
    finally:
        await pool.close()
    return granted


def _late(granted: list[int]) -> int:
    """How many requests got their connection after one that arrived later than them."""
    return sum(1 for i, n in enumerate(granted) if n < max(granted[:i], default=-1))


def test_connections_go_to_the_requests_in_the_order_they_arrived(pg_dsn: str) -> None:
    schema = f"t_{uuid.uuid4().hex[:8]}"
    granted = asyncio.run(_grant_order(lambda: create_pool(pg_dsn, schema, min_size=2, max_size=2)))
    assert sorted(granted) == list(range(ARRIVALS))
    assert _late(granted) == 0, f"{_late(granted)} requests were overtaken"


def test_asyncpgs_own_pool_lets_later_requests_overtake(pg_dsn: str) -> None:
    """Why FairPool exists (MagicStack/asyncpg#1247). If this fails, asyncpg has become
    fair by itself, and shared/fairpool.py can go."""
    granted = asyncio.run(_grant_order(lambda: asyncpg.create_pool(pg_dsn, min_size=2, max_size=2)))
    assert _late(granted) > ARRIVALS // 10


def test_a_place_is_given_back_once_whatever_happens(pg_dsn: str) -> None:
    """Released twice, failed, timed out or cancelled: the pool still serves its size."""
    async def main() -> None:
        pool = await create_pool(pg_dsn, f"t_{uuid.uuid4().hex[:8]}", max_size=2)
        assert isinstance(pool, FairPool)
        try:
            conn = await pool.acquire()
            await pool.release(conn)
            await pool.release(conn)  # asyncpg ignores the second; so must the places
            with pytest.raises(asyncpg.PostgresError):
                async with pool.acquire() as conn:
                    await conn.execute("SELECT 1/0")
            held = [await pool.acquire() for _ in range(2)]
            with pytest.raises(TimeoutError):
                await pool.acquire(timeout=0.2)  # both places taken: waits, then gives up
            async def take() -> asyncpg.pool.PoolConnectionProxy:
                return await pool.acquire()

            waiting = asyncio.create_task(take())
            await asyncio.sleep(0.05)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            for conn in held:
                await pool.release(conn)
            both = await asyncio.wait_for(asyncio.gather(take(), take()), 5)
            assert len({id(c) for c in both}) == 2
            for conn in both:
                await pool.release(conn)
        finally:
            pool.terminate()  # not close(): after a failed check it would wait for what is held

    asyncio.run(main())
