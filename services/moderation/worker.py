"""The screening worker: consumes stories.submitted, screens, files into the queue.

Several workers can share the one durable consumer; each story is screened and
filed once (the inbox and ON CONFLICT make a redelivery a no-op). Inference runs
in a thread; while it runs, the consumer sends in-progress acks so JetStream does
not redeliver the batch to another worker mid-inference.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg

from services.moderation import wordlists
from services.moderation.handlers import HANDLERS, SCREENED
from services.moderation.screen import ModelLoadError, Policy, ScreenModel, ScreenResult, compile_terms
from services.moderation.screen.calibration import overrides
from services.moderation.screen.rescreen import rescreen_unscreened
from services.moderation.screen.status import retry_presses
from services.moderation.screen.terms import Terms
from services.moderation.screen_parts import screen_events
from shared import natsauth
from shared.config import Settings
from shared.consumer import BATCH, consumers
from shared.events import Event
from shared.runtime import Runtime, open_runtime

log = logging.getLogger("braided.worker")
HERE = Path(__file__).parent
IDENTITY = natsauth.identity("moderation-worker")
# Its one durable consumer (stories.submitted): named by the permission table.
[DURABLE] = IDENTITY.durables()


class ModelHolder:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model: ScreenModel | None = None
        self.state = "loading"
        self.detail = ""
        self.load_seconds: float | None = None

    @property
    def loaded(self) -> bool:
        return self.model is not None

    def load(self) -> None:
        if not self.settings.screen_enabled:
            self.state, self.detail = "disabled", "SCREEN_ENABLED=false"
        else:
            try:
                self.model = ScreenModel.load(self.settings)
                self.state, self.load_seconds = "loaded", self.model.load_seconds
                # What an operator needs to read speed and drift figures against.
                self.detail = f"precision {self.model.precision}, {torch_threads(self.settings)} torch threads"
                log.info("screen model loaded", extra={"model": self.settings.detoxify_model,
                                                       "seconds": round(self.load_seconds, 2),
                                                       "precision": self.model.precision,
                                                       "threads": torch_threads(self.settings)})
                return
            except ModelLoadError as e:
                self.state, self.detail = "unavailable", str(e)
            except Exception as e:  # anything else still must not stop stories being filed
                self.state, self.detail = "unavailable", f"{type(e).__name__}: {str(e)[:200]}"
        log.error("screen: no model loaded (%s); stories will be filed as `unscreened` for moderators",
                  self.detail)


async def _report(pool: asyncpg.Pool, worker_id: str, holder: ModelHolder) -> None:
    with contextlib.suppress(asyncpg.PostgresError, OSError):
        await pool.execute(
            "INSERT INTO screen_workers (worker_id, model, state, detail, load_seconds, heartbeat_at)"
            " VALUES ($1, $2, $3, $4, $5, now()) ON CONFLICT (worker_id) DO UPDATE SET model = $2,"
            " state = $3, detail = $4, load_seconds = $5, heartbeat_at = now()",
            worker_id, holder.settings.detoxify_model, holder.state, holder.detail, holder.load_seconds)


async def _heartbeat(pool: asyncpg.Pool, worker_id: str, holder: ModelHolder) -> None:
    while True:
        await _report(pool, worker_id, holder)
        await asyncio.sleep(5)


class Worker:
    """One screening worker: the moderation handler table's StorySubmitted, on its own
    durable consumer in batch mode, each batch prepared by the screen (`screen`)."""

    def __init__(self, rt: Runtime, holder: ModelHolder, batch: int = BATCH) -> None:
        self.rt, self.holder = rt, holder
        self.policy = Policy.from_settings(rt.settings)
        [self.consumer] = consumers(rt.js, rt.pool, IDENTITY, {SCREENED: HANDLERS[SCREENED]}, batch=batch,
                                        ack_wait=rt.settings.screen_ack_wait, prepare=self.screen)
        self._terms: tuple[float, Terms] = (0.0, [])
        self.batches = 0

    async def terms(self) -> Terms:
        # Word lists change rarely; re-read them at most every few seconds.
        if time.monotonic() - self._terms[0] > 5:
            rows = await wordlists.terms(self.rt.pool)
            self._terms = (time.monotonic(), compile_terms([(r["term"], r["kind"]) for r in rows]))
            # So do the flag thresholds an admin applied from the calibration table.
            with contextlib.suppress(asyncpg.PostgresError):
                base = Policy.from_settings(self.rt.settings)
                self.policy = Policy(base.hold, base.flag | await overrides(self.rt.pool))
        return self._terms[1]

    async def screen(self, events: list[Event]) -> AsyncIterator[tuple[int, ScreenResult]]:
        """Screen a batch of StorySubmitted in one pass; each result comes (and its
        story is filed and acked by the consumer) as soon as its windows are scored."""
        started = time.monotonic()
        # No story id in any log line (a log line has a time; issue 10): an opaque
        # per-process batch number is what an operator follows instead.
        self.batches += 1
        batch = self.batches
        log.info("screening", extra={"batch": batch, "stories": len(events)})
        # Every part readers will see (story, second-language version, glossary): screen_parts.py
        async for n, result in screen_events(self.holder.model, events, await self.terms(), self.policy):
            yield n, result
            # Filed by now. The story id and label only: never its text.
            log.info("screened", extra={"batch": batch, "label": result.label,
                                        "seconds": round(time.monotonic() - started, 2)})

    async def run_batch(self) -> int:
        return await self.consumer.run_once()

    async def run(self) -> None:
        await self.consumer.run()

    async def rescreen(self) -> int:
        """Once a model is loaded: the stories filed `unscreened` meanwhile, screened now."""
        if self.holder.model is None:
            return 0
        await self.terms()  # the word lists and any applied thresholds, current
        return await rescreen_unscreened(self.rt.pool, self.holder.model, self.terms, self.policy)


RETRY_FIRST, RETRY_MAX = 5.0, 300.0  # seconds between load attempts: doubling, capped


async def keep_loading(pool: asyncpg.Pool, worker_id: str, holder: ModelHolder,
                       on_loaded: Callable[[], Awaitable[object]],
                       first: float = RETRY_FIRST, cap: float = RETRY_MAX, poll: float = 1.0) -> None:
    """Until a model loads: wait (doubling from `first` up to `cap` seconds, or less
    when an admin presses "Retry loading the model") and try again; then call
    `on_loaded` (which screens the stories filed without a model). Stories keep
    being filed `unscreened` meanwhile: nobody waits for the model."""
    delay = first
    while holder.settings.screen_enabled:
        if holder.loaded:
            try:
                await on_loaded()
            except Exception as e:  # the stories stay `unscreened`, read in full by people
                log.error("screen: screening again the unscreened stories failed (%s)", type(e).__name__)
            return
        reason = holder.detail
        holder.detail = f"{reason}; next try within {delay:.0f} s"
        await _report(pool, worker_id, holder)
        seen = await _presses(pool)
        waited = 0.0
        while waited < delay:
            await asyncio.sleep(poll)
            waited += poll
            if await _presses(pool) != seen:
                log.info("screen: an admin asked to retry loading the model")
                break
        holder.detail = reason
        await asyncio.to_thread(holder.load)
        await _report(pool, worker_id, holder)
        delay = min(delay * 2, cap)


async def _presses(pool: asyncpg.Pool) -> int | None:
    with contextlib.suppress(asyncpg.PostgresError, OSError):
        return await retry_presses(pool)
    return None


def torch_threads(settings: Settings) -> int:
    """SCREEN_THREADS, or each worker process's share of the cores: oversubscribing
    threads across processes makes every one of them slower."""
    if settings.screen_threads > 0:
        return settings.screen_threads
    return max(1, (os.cpu_count() or 1) // max(1, settings.screen_workers))


def configure_torch(settings: Settings) -> None:
    with contextlib.suppress(ImportError):
        import torch

        torch.set_num_threads(torch_threads(settings))
        with contextlib.suppress(RuntimeError):  # only settable before the first parallel work
            torch.set_num_interop_threads(1)


async def main(settings: Settings) -> None:
    # Opaque: /healthz lists workers, and must show no host name or pid (issue 10).
    worker_id = f"worker-{secrets.token_hex(4)}"
    holder = ModelHolder(settings)
    if settings.screen_enabled:  # importing torch alone costs seconds of a core; no model, no torch
        configure_torch(settings)
    async with open_runtime(settings, "moderation", HERE, pool_size=4) as rt:
        beat = asyncio.create_task(_heartbeat(rt.pool, worker_id, holder))
        await asyncio.to_thread(holder.load)
        await _report(rt.pool, worker_id, holder)  # /healthz tells the outcome at once
        worker = Worker(rt, holder)
        recover = asyncio.create_task(keep_loading(rt.pool, worker_id, holder, worker.rescreen))
        try:
            await worker.run()
        finally:
            beat.cancel()
            recover.cancel()
            with contextlib.suppress(Exception):
                await rt.pool.execute("DELETE FROM screen_workers WHERE worker_id = $1", worker_id)
