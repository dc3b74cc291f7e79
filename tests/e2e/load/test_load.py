"""1,000 submissions from 50 concurrent clients (rate limit off) → 1,000 queue items,
no duplicates. Figures are printed (run with -s) and kept in test-artifacts/load.json."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hardening import ScratchStack

REPO = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location("bench_load", REPO / "bench" / "load.py")
assert _spec is not None and _spec.loader is not None
bench_load = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_load)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="package")
def load_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScratchStack]:
    s = ScratchStack(tmp_path_factory.mktemp("load"))
    s.start()
    yield s
    s.stop()


def test_thousand_submissions_from_fifty_clients(load_stack: ScratchStack) -> None:
    assert load_stack.stack is not None
    figures = bench_load.run(load_stack.stack.url("submission", "/api/stories"), load_stack.dsn, 1000, 50)
    print(f"\n[load] {json.dumps(figures)}")
    (REPO / "test-artifacts").mkdir(exist_ok=True)
    (REPO / "test-artifacts" / "load.json").write_text(json.dumps(figures, indent=2))
    assert figures["statuses"] == {202: 1000}
    assert figures["in_queue"] == 1000 and figures["duplicates"] == 0
    # Generous: this is a shared 2-core machine; the point is no request hangs.
    assert figures["p99_ms"] < 30_000
