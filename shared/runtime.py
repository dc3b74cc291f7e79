"""What a running service holds: settings, its pool, NATS, relay and consumers.

`lifespan(...)` builds the Starlette lifespan for a service: migrate under an
advisory lock, open the pool and NATS, ensure the stream, start the outbox relay
and the service's consumers, and yield them as `request.state.rt`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from shared import bus, heap
from shared.config import Settings
from shared.consumer import Consumer
from shared.db import create_pool, migrate, migration_files
from shared.metrics_listener import MetricsListener
from shared.outbox import Relay
from shared.retention import Purge, run_purges
from shared.retry import retrying

log = logging.getLogger("braided.runtime")


@dataclass
class Runtime:
    settings: Settings
    schema: str
    pool: asyncpg.Pool
    nc: NATS
    js: JetStreamContext
    relay: Relay | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


async def _connect(settings: Settings, schema: str) -> tuple[NATS, JetStreamContext]:
    """NATS and the one stream, waiting (up to half a minute each) while they start."""
    # nats-py raises several types when nothing listens yet.
    nc = await retrying(lambda: bus.connect_with(settings, f"braided-{schema}"), errors=(Exception,),
                        what="nats", attempts=60)
    js = nc.jetstream()
    await retrying(lambda: bus.ensure_stream(js, settings.stream_replicas, settings.stream_max_age_days),
                   errors=bus.NATS_DOWN, what="jetstream", attempts=60)
    return nc, js


@contextlib.asynccontextmanager
async def open_runtime(settings: Settings, schema: str, service_dir: Path, *, with_relay: bool = True,
                       consumers: Callable[[Runtime], list[Consumer]] = lambda rt: [],
                       pool_size: int = 10, purge: Purge | None = None,
                       housekeeping: bool = False) -> AsyncIterator[Runtime]:
    if not settings.database_url or not settings.nats_url:
        raise RuntimeError("DATABASE_URL and NATS_URL must be set (`braided run` sets them for its services)")
    await migrate(settings.database_url, schema, migration_files(service_dir))
    pool = await create_pool(settings.database_url, schema, max_size=pool_size)
    nc, js = await _connect(settings, schema)
    rt = Runtime(settings=settings, schema=schema, pool=pool, nc=nc, js=js)
    if with_relay:
        rt.relay = Relay(pool, js, schema)
        rt.tasks.append(asyncio.create_task(rt.relay.run(), name=f"{schema}-relay"))
    for consumer in consumers(rt):
        rt.tasks.append(asyncio.create_task(consumer.run(), name=consumer.durable))
    if housekeeping:
        # One sweeper per schema: the web app runs it; extra workers on the schema do not.
        rt.tasks.append(asyncio.create_task(
            run_purges(pool, schema, purge, settings.retention_days, settings.retention_sweep_seconds,
                       settings.stream_max_age_days), name=f"{schema}-retention"))
    # Everything start-up made lives as long as the process: out of the collector's way.
    heap.freeze_startup_heap()
    try:
        yield rt
    finally:
        for t in rt.tasks:
            t.cancel()
        await asyncio.gather(*rt.tasks, return_exceptions=True)
        # Close, not drain: the consumers are already stopped and ack as they go,
        # and draining a pull subscription waits on a queue nobody reads any more.
        with contextlib.suppress(Exception):
            await nc.close()
        try:
            await asyncio.wait_for(pool.close(), 5)
        except (TimeoutError, OSError):
            pool.terminate()


def lifespan(schema: str, service_dir: Path, settings: Settings, **kw: Any):  # noqa: ANN201 - a Starlette lifespan
    """A Starlette lifespan for a service (state: `rt`)."""

    @contextlib.asynccontextmanager
    async def _lifespan(app: Any) -> AsyncIterator[dict[str, Any]]:
        # Metrics on their own private listener, never on the public port.
        listener = MetricsListener(settings.metrics_host, getattr(settings, f"{schema}_metrics_port"))
        listener.start()
        try:
            async with open_runtime(settings, schema, service_dir, housekeeping=True, **kw) as rt:
                rt.extra["metrics_port"] = listener.port
                yield {"rt": rt}
        finally:
            listener.stop()

    return _lifespan
