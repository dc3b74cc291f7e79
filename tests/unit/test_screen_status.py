"""The screen's status (banner, /healthz, gauge) and the worker's retry loop, with
fakes: the back-off doubles up to its cap, an admin's press cuts the wait short,
and the stories filed without a model are screened once one loads."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from prometheus_client import REGISTRY

from services.moderation.screen.status import screen_status
from services.moderation.worker import keep_loading
from tests.unit.fakes import FakePool

WORKERS = "SELECT worker_id"


def _worker(state: str, detail: str = "") -> dict:
    return {"worker_id": "w1", "model": "unbiased", "state": state, "detail": detail, "load_seconds": None}


def gauge() -> float | None:
    return REGISTRY.get_sample_value("braided_screen_up")


@pytest.mark.parametrize(("workers", "state", "off"), [
    ([], "no worker", True),
    ([_worker("loading")], "loading", True),
    ([_worker("unavailable", "the checkpoint /m/x.ckpt does not exist")], "degraded", True),
    ([_worker("disabled", "SCREEN_ENABLED=false")], "degraded", True),
    ([_worker("unavailable", "oops"), _worker("loaded")], "ok", False),
])
def test_the_screen_is_off_whenever_no_worker_has_a_model(workers: list, state: str, off: bool) -> None:
    screen = asyncio.run(screen_status(FakePool({WORKERS: workers})))
    assert screen["state"] == state and screen["off"] is off
    assert gauge() == (0 if off else 1)
    if off:
        assert screen["reason"]
    if state == "degraded":
        assert workers[0]["detail"] in screen["reason"]  # the banner says why


class Holder:
    """A model holder whose loads fail until `works_after` attempts."""

    def __init__(self, works_after: int) -> None:
        self.settings = SimpleNamespace(screen_enabled=True, detoxify_model="unbiased")
        self.state, self.detail, self.load_seconds, self.attempts = "unavailable", "no file", None, 0
        self.works_after, self.model = works_after, None

    @property
    def loaded(self) -> bool:
        return self.model is not None

    def load(self) -> None:
        self.attempts += 1
        if self.attempts >= self.works_after:
            self.model, self.state, self.detail = object(), "loaded", "precision fp32"


def _run(holder: Holder, presses: list[int], first: float, cap: float, limit: float) -> tuple[list, float]:
    pool = FakePool({"SELECT retry_presses": lambda: presses[0]})
    rescreened: list[bool] = []

    async def on_loaded() -> None:
        rescreened.append(True)

    async def go() -> float:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.wait_for(keep_loading(pool, "w1", holder, on_loaded, first=first, cap=cap, poll=0.01), limit)
        return loop.time() - started

    return rescreened, asyncio.run(go())


def test_retries_with_doubling_back_off_then_screens_again() -> None:
    holder = Holder(works_after=3)
    rescreened, took = _run(holder, [0], first=0.05, cap=0.08, limit=5)
    assert holder.attempts == 3 and rescreened == [True]
    assert 0.05 + 0.08 <= took < 2  # waited 0.05, then 0.1 capped at 0.08


def test_a_press_retries_at_once() -> None:
    holder = Holder(works_after=1)  # the file is there now (`make models` ran)
    presses = [0]

    async def press_soon() -> None:
        await asyncio.sleep(0.1)
        presses[0] += 1

    async def go() -> tuple[list, float]:
        task = asyncio.ensure_future(press_soon())
        result = await asyncio.to_thread(_run, holder, presses, 60, 60, 5)
        await task
        return result

    rescreened, took = asyncio.run(go())
    assert holder.attempts == 1 and rescreened == [True] and took < 3  # not the 60 s back-off


def test_the_wait_is_in_the_reason_the_banner_shows() -> None:
    holder = Holder(works_after=99)
    pool = FakePool({"SELECT retry_presses": 0})

    async def go() -> None:
        task = asyncio.ensure_future(keep_loading(pool, "w1", holder, lambda: asyncio.sleep(0), first=30, poll=0.01))
        await asyncio.sleep(0.05)
        reported = pool.statements("INSERT INTO screen_workers")
        task.cancel()
        assert reported and "next try within 30 s" in reported[-1][3]

    asyncio.run(go())


def test_a_disabled_screen_does_not_retry() -> None:
    holder = Holder(works_after=1)
    holder.settings.screen_enabled = False
    rescreened, _ = _run(holder, [0], first=0.01, cap=0.01, limit=1)
    assert holder.attempts == 0 and rescreened == []
