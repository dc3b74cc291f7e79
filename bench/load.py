"""Load: N submissions from C concurrent clients against a fresh stack (rate limit
off, screen disabled so the queue fills as fast as stories arrive).

    .venv/bin/python bench/load.py [--stories 1000] [--clients 50]

Prints wall time, throughput and p50/p99 response times, and checks that every
story reached the queue exactly once. A receipt is stored as a SHA-256 of the
whole code (no argon2id since issue 10: it was most of each request's cost).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.hardening import ScratchStack, queue_counts, wait_queued  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def submit_load(url: str, titles: list[str], clients: int) -> dict:
    """Each client submits its share of `titles` one after another; all clients at once."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()

    async def client(mine: list[str]) -> None:
        async with httpx.AsyncClient(timeout=300) as c:
            for title in mine:
                started = time.perf_counter()
                r = await c.post(url, json={"title": title, "body": f"A story sent under load: {title}."})
                latencies.append(time.perf_counter() - started)
                statuses[r.status_code] += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(titles[i::clients]) for i in range(clients)))
    wall = time.perf_counter() - started
    return {
        "stories": len(titles), "clients": clients, "wall_seconds": round(wall, 2),
        "per_second": round(len(titles) / wall, 1),
        "p50_ms": round(percentile(latencies, 50) * 1000), "p99_ms": round(percentile(latencies, 99) * 1000),
        "mean_ms": round(statistics.fmean(latencies) * 1000), "statuses": dict(statuses),
    }


def run(stack_url: str, dsn: str, n: int, clients: int) -> dict:
    run_id = uuid.uuid4().hex[:6]
    titles = [f"load {run_id} #{i:05d}" for i in range(n)]
    figures = asyncio.run(submit_load(stack_url, titles, clients))
    started = time.perf_counter()
    wait_queued(dsn, titles, timeout=300)
    figures["queue_drained_seconds_after"] = round(time.perf_counter() - started, 2)
    counts = queue_counts(dsn, titles)
    figures["in_queue"], figures["duplicates"] = counts["queued"], counts["duplicates"]
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stories", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="braided-load-") as tmp:
        scratch = ScratchStack(Path(tmp))
        try:
            stack = scratch.start()
            figures = run(stack.url("submission", "/api/stories"), scratch.dsn, args.stories, args.clients)
        finally:
            scratch.stop()
    print(json.dumps(figures, indent=2))
    ok = figures["in_queue"] == args.stories and figures["duplicates"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
