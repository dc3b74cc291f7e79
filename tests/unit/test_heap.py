"""shared/heap.py: a full collection no longer walks what start-up made."""

from __future__ import annotations

import gc
import time

from shared import heap


def _full_collection_seconds() -> float:
    started = time.perf_counter()
    gc.collect()
    return time.perf_counter() - started


def test_a_full_collection_skips_the_startup_heap_once_frozen(monkeypatch) -> None:
    monkeypatch.setattr(heap, "_frozen", False)
    startup = [{"n": i, "tags": [str(i)]} for i in range(300_000)]  # as modules, templates, catalogs
    try:
        before = min(_full_collection_seconds() for _ in range(3))
        heap.freeze_startup_heap()
        assert gc.get_freeze_count() >= 600_000
        after = min(_full_collection_seconds() for _ in range(3))
        assert after * 5 < before, (before, after)
        # Only the first start-up freezes (a test process starts apps many times).
        count = gc.get_freeze_count()
        heap.freeze_startup_heap()
        assert gc.get_freeze_count() == count
    finally:
        gc.unfreeze()
    assert startup
