"""Benchmark: the pending queue page with 100,000 queued items.

Starts Braided as `make run` does (embedded PostgreSQL and NATS in a temporary
DATA_DIR, no screen model), seeds 100,000 pending items (plus 20,000 decided
ones) with COPY, logs in, and times the pending queue page over real HTTP:
median of repeated requests, first page and a page deep in the queue. Beside
it, the same page's query done the naive way (OFFSET, and without the
index) as a baseline. Target: median under 200 ms.

    make bench-queue            # or: .venv/bin/python bench/queue_page.py [--items N] [--requests N]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from tests.stack import Stack  # noqa: E402

PASSWORD = "benchmark passphrase, long enough"
TARGET_MS = 200.0
WORDS = ("grandmother kitchen language festival home mother father dumplings rice school city bus winter "
         "letter phone aunt cousin market temple church name story sister friend lantern tea song").split()
LABELS = [("clear", 0.60), ("flagged", 0.20), ("held", 0.10), ("unscreened", 0.10)]
RANK = {"clear": 0, "unscreened": 1, "flagged": 2, "held": 3}


def _records(n: int, decided: int, rng: random.Random) -> list[tuple]:
    now = dt.datetime.now(dt.UTC)
    labels, weights = zip(*LABELS, strict=True)
    out = []
    for i in range(n + decided):
        label = rng.choices(labels, weights)[0]
        top = rng.random() * (0.4 if label in ("clear", "unscreened") else 1.0)
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(120, 360)))
        scores = {k: round(rng.random() * top, 4) for k in ("toxicity", "insult", "threat", "identity_attack")}
        passages = [{"label": "toxicity", "score": top, "start": 10, "end": 120, "field": "body"}] \
            if label in ("flagged", "held") else []
        queued = now - dt.timedelta(seconds=rng.randint(0, 14 * 86400))
        state, decided_at = "pending", None
        if i >= n:
            state = rng.choice(("approved", "rejected"))
            decided_at = queued + dt.timedelta(seconds=rng.randint(60, 86400))
        out.append((uuid.uuid4(), f"Story {i}: " + " ".join(rng.choice(WORDS) for _ in range(5)), body, None,
                    ["Filipino", "food"], [], label, RANK[label] + top, json.dumps(scores), json.dumps(passages),
                    "[]", None, state, queued, decided_at))
    # The queue keeps days and sequence numbers only (migration 101): number the rows in
    # the order their times give, then keep the day.
    out.sort(key=lambda r: r[13])
    decided_order = {r[0]: n for n, r in enumerate(sorted((r for r in out if r[14]), key=lambda r: r[14]), 1)}
    return [(*r[:13], n, r[13].date(), decided_order.get(r[0]), r[14].date() if r[14] else None)
            for n, r in enumerate(out, 1)]


async def seed(dsn: str, n: int, decided: int) -> float:
    rng = random.Random(42)
    records = _records(n, decided, rng)
    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        await conn.copy_records_to_table(
            "queue_items", schema_name="moderation", records=records,
            columns=["story_id", "title", "body", "pen_name", "tags", "content_warnings", "label", "severity",
                     "scores", "passages", "term_hits", "model", "state", "queue_seq", "queued_on", "decided_seq",
                     "decided_on"])
        await conn.execute("SELECT setval(pg_get_serial_sequence('moderation.queue_items', 'queue_seq'), $1)",
                           len(records))
        elapsed = time.perf_counter() - started
        await conn.execute("VACUUM ANALYZE moderation.queue_items")  # what autovacuum would do shortly
        return elapsed
    finally:
        await conn.close()


def time_get(client: httpx.Client, path: str, requests: int) -> list[float]:
    client.get(path).raise_for_status()  # warm up
    out = []
    for _ in range(requests):
        started = time.perf_counter()
        r = client.get(path)
        out.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200 and 'class="card item' in r.text, r.status_code
    return out


async def sql_baselines(dsn: str, deep_cursor: tuple, depth: int, requests: int) -> dict[str, list[float]]:
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "moderation"})
    order = "ORDER BY severity DESC, queue_seq"
    cols = "story_id, title, body, label, severity, scores, passages, term_hits, queued_on"
    queries = {
        "keyset, first page": (f"SELECT {cols} FROM queue_items WHERE state = 'pending' {order} LIMIT 26", []),
        f"keyset, page at item {depth:,}": (
            f"SELECT {cols} FROM queue_items WHERE state = 'pending' AND severity <= $1::real AND"
            f" (severity < $1::real OR queue_seq > $2) {order} LIMIT 26", list(deep_cursor[:2])),
        f"OFFSET {depth:,} (baseline)": (
            f"SELECT {cols} FROM queue_items WHERE state = 'pending' {order} OFFSET {depth} LIMIT 26", []),
    }
    out: dict[str, list[float]] = {}
    try:
        for name, (sql, args) in queries.items():
            await conn.fetch(sql, *args)
            times = []
            for _ in range(requests):
                started = time.perf_counter()
                await conn.fetch(sql, *args)
                times.append((time.perf_counter() - started) * 1000)
            out[name] = times
        # The first page without the partial index (dropped inside a transaction, then rolled back).
        async with conn.transaction():
            await conn.execute("DROP INDEX queue_pending")
            sql, _ = queries["keyset, first page"]
            times = []
            for _ in range(max(3, requests // 5)):
                started = time.perf_counter()
                await conn.fetch(sql)
                times.append((time.perf_counter() - started) * 1000)
            out["first page without the index (baseline)"] = times
            raise _Rollback
    except _Rollback:
        pass
    finally:
        await conn.close()
    return out


class _Rollback(Exception):
    pass


def _row(name: str, times: list[float]) -> str:
    return (f"  {name:<46} median {statistics.median(times):8.1f} ms   p90 "
            f"{sorted(times)[int(len(times) * 0.9) - 1]:8.1f} ms   (n={len(times)})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--decided", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="braided-bench-") as tmp:
        stack = Stack(Path(tmp), {"SCREEN_ENABLED": "false", "SCREEN_WORKERS": "1", "LOG_LEVEL": "WARNING"})
        print("starting Braided (embedded PostgreSQL and NATS)…", flush=True)
        stack.start()
        try:
            print(f"seeding {args.items:,} pending + {args.decided:,} decided items with COPY…", flush=True)
            seconds = asyncio.run(seed(stack.dsn, args.items, args.decided))
            print(f"  COPY took {seconds:.1f} s", flush=True)
            assert stack.add_moderator("bench", PASSWORD, "moderator").returncode == 0
            client = stack.moderator("bench", PASSWORD)
            try:
                results = {"GET /queue (first page)": time_get(client, "/queue", args.requests)}
                # Walk to a page deep in the queue by its keyset cursors.
                cursor, pages = None, 0
                depth_pages = min(2000, args.items // 25 // 2)
                while pages < depth_pages:
                    body = client.get("/api/queue", params={"cursor": cursor} if cursor else {}).json()
                    cursor, pages = body["next"], pages + 1
                deep_path = f"/queue?cursor={cursor}"
                results[f"GET /queue (page {pages + 1}, item {pages * 25:,})"] = time_get(client, deep_path,
                                                                                         args.requests)
                results["GET /queue?label=held"] = time_get(client, "/queue?label=held", args.requests)
                results["GET /queue?order=oldest"] = time_get(client, "/queue?order=oldest", args.requests)
                from services.moderation.queue import decode_cursor

                deep_key = tuple(decode_cursor(cursor))
            finally:
                client.close()
            baselines = asyncio.run(sql_baselines(stack.dsn, deep_key, pages * 25, args.requests))
        finally:
            stack.stop()
    print(f"\nPending queue page, {args.items:,} queued items, real HTTP, logged in (25 items per page):")
    for name, times in results.items():
        print(_row(name, times))
    print("\nThe page's query alone, in SQL (keyset vs the naive ways):")
    for name, times in baselines.items():
        print(_row(name, times))
    median = statistics.median(results["GET /queue (first page)"])
    ok = all(statistics.median(t) < TARGET_MS for t in results.values())
    print(f"\nTarget: median under {TARGET_MS:.0f} ms for every page -> {'PASS' if ok else 'FAIL'}"
          f" (first page median {median:.1f} ms)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
