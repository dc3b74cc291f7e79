"""The screening worker: consumes stories.submitted, screens, files into the queue.

Several workers can share the one durable consumer; each story is screened and
filed once (the inbox and ON CONFLICT make a redelivery a no-op). Inference runs
in a thread; while it runs, the messages get in-progress acks so JetStream does
not redeliver them to another worker mid-inference.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from pathlib import Path
from typing import Any

import asyncpg

from services.moderation.handlers import file_story
from services.moderation.screen import (
    ModelLoadError,
    Policy,
    ScreenModel,
    ScreenResult,
    compile_terms,
    screen_texts,
)
from shared import bus
from shared.config import Settings
from shared.events import BadEvent, decode
from shared.runtime import open_runtime

log = logging.getLogger("braided.worker")
HERE = Path(__file__).parent
DURABLE = "moderation-screen"


class ModelHolder:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model: ScreenModel | None = None
        self.state = "loading"
        self.detail = ""
        self.load_seconds: float | None = None

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


async def _keep_alive(msgs: list, ack_wait: float) -> None:
    """In-progress acks while a batch is screened: JetStream then redelivers a story
    only when the worker holding it has died, never mid-inference."""
    while True:
        await asyncio.sleep(ack_wait / 3)
        for m in msgs:
            with contextlib.suppress(Exception):
                await m.in_progress()


def _story_text(data: dict) -> tuple[str, int]:
    """Title and body screened as one text; returns it and where the body starts."""
    return data["title"] + "\n\n" + data["body"], len(data["title"]) + 2


def _split_offsets(result: ScreenResult, body_at: int) -> ScreenResult:
    """Offsets into the combined text → offsets into the displayed title or body.
    A passage (a model window) that spans both becomes one piece in each."""
    title_len = body_at - 2

    def split(items: list[dict]) -> list[dict]:
        out = []
        for item in items:
            if item["start"] >= body_at:
                out.append(item | {"field": "body", "start": item["start"] - body_at, "end": item["end"] - body_at})
            elif item["end"] <= title_len:
                out.append(item | {"field": "title"})
            else:
                if item["start"] < title_len:
                    out.append(item | {"field": "title", "end": title_len})
                if item["end"] > body_at:
                    out.append(item | {"field": "body", "start": 0, "end": item["end"] - body_at})
        return out

    result.passages, result.term_hits = split(result.passages), split(result.term_hits)
    return result


class Worker:
    def __init__(self, rt, holder: ModelHolder, batch: int = 8) -> None:
        self.rt, self.holder, self.batch = rt, holder, batch
        self.ack_wait = rt.settings.screen_ack_wait
        self.policy = Policy.from_settings(rt.settings)
        self.consumer = bus.Consumer(rt.js, rt.pool, DURABLE, "stories.submitted", {}, batch=batch,
                                     ack_wait=self.ack_wait)
        self._terms: tuple[float, list] = (0.0, [])

    async def terms(self) -> list:
        # Word lists change rarely; re-read them at most every few seconds.
        if time.monotonic() - self._terms[0] > 5:
            rows = await self.rt.pool.fetch("SELECT term, kind FROM word_terms")
            self._terms = (time.monotonic(), compile_terms([(r["term"], r["kind"]) for r in rows]))
        return self._terms[1]

    async def run_batch(self) -> int:
        """Screen every story waiting (up to `batch`) in one pass. Each story is
        filed and acked as soon as its own windows are scored, so short stories
        are not held back by a long one in the same batch."""
        msgs = await self.consumer.fetch(self.batch, wait=1.0)
        if not msgs:
            return 0
        todo = []
        for m in msgs:
            try:
                todo.append((m, decode(m.data)))
            except BadEvent:
                await self.consumer.handle(m)  # parks it
        seen = {str(r["event_id"]) for r in await self.rt.pool.fetch(
            "SELECT event_id FROM processed_events WHERE consumer = $1 AND event_id = ANY($2::uuid[])",
            DURABLE, [e.id for _, e in todo])}
        fresh = []
        for m, e in todo:
            if e.id in seen:  # already filed, or a second copy in this very batch
                await m.ack()
            else:
                seen.add(e.id)
                fresh.append((m, e))
        if not fresh:
            return len(msgs)
        texts = [_story_text(e.data) for _, e in fresh]
        terms = await self.terms()
        loop = asyncio.get_running_loop()
        # The inference thread reports each story as it finishes, then ("end", error).
        done: asyncio.Queue[tuple[int | str, Any]] = asyncio.Queue()

        def report(item: tuple[int | str, Any]) -> None:
            loop.call_soon_threadsafe(done.put_nowait, item)

        def infer() -> None:
            try:
                screen_texts(self.holder.model, [t for t, _ in texts], terms, self.policy,
                             lambda n, result: report((n, result)))
            except Exception as e:  # reported to the loop, which files the rest unscreened
                report(("end", e))
            else:
                report(("end", None))

        keep = asyncio.create_task(_keep_alive([m for m, _ in fresh], self.ack_wait))
        started = time.monotonic()
        log.info("screening", extra={"stories": [e.data["story_id"] for _, e in fresh]})
        pending = set(range(len(fresh)))
        try:
            inference = asyncio.ensure_future(asyncio.to_thread(infer))
            while True:
                n, result = await done.get()
                if n == "end":
                    break
                pending.discard(n)
                await self._file(fresh[n], _split_offsets(result, texts[n][1]), time.monotonic() - started)
            await inference
            if pending:
                # The model failed on these stories (a torch error, out of memory):
                # they still go to people, as `unscreened` (word lists still apply),
                # rather than failing open or crash-looping on redelivery.
                log.error("screen: inference failed (%s); filing %d stories as unscreened",
                          type(result).__name__, len(pending))
                rest = sorted(pending)
                for n, fallback in zip(rest, screen_texts(None, [texts[n][0] for n in rest], terms, self.policy),
                                       strict=True):
                    await self._file(fresh[n], _split_offsets(fallback, texts[n][1]), time.monotonic() - started)
        finally:
            keep.cancel()
        return len(msgs)

    async def _file(self, item: tuple, result: ScreenResult, seconds: float) -> None:
        m, event = item

        async def apply(conn, ev) -> None:  # noqa: ANN001 - the consumer's handler signature
            await file_story(conn, ev, result)

        await self.consumer.handle(m, apply=apply)
        self.rt.wake_relay()
        # The story id and label only: never its text.
        log.info("screened", extra={"story_id": event.data["story_id"], "label": result.label,
                                    "seconds": round(seconds, 2)})

    async def run(self) -> None:
        while True:
            try:
                await self.run_batch()
            except asyncio.CancelledError:
                raise
            except bus.NATS_DOWN as e:
                log.warning("worker: nats unavailable (%s)", type(e).__name__)
                await asyncio.sleep(0.5)
            except (*bus.DB_DOWN, asyncpg.PostgresError) as e:
                # Includes InternalClientError (a connection cut by a PostgreSQL
                # restart): wait and carry on rather than crash the worker.
                log.warning("worker: database unavailable (%s)", type(e).__name__)
                await asyncio.sleep(1)


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


async def main(settings: Settings | None = None) -> None:
    settings = settings or Settings.from_env()
    worker_id = f"{socket.gethostname()}-{os.getpid()}"
    holder = ModelHolder(settings)
    configure_torch(settings)
    async with open_runtime(settings, "moderation", HERE, pool_size=4) as rt:
        beat = asyncio.create_task(_heartbeat(rt.pool, worker_id, holder))
        await asyncio.to_thread(holder.load)
        await _report(rt.pool, worker_id, holder)  # /healthz tells the outcome at once
        try:
            await Worker(rt, holder).run()
        finally:
            beat.cancel()
            with contextlib.suppress(Exception):
                await rt.pool.execute("DELETE FROM screen_workers WHERE worker_id = $1", worker_id)
