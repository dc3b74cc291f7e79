"""Cluster: Braided on three clustered nats-server processes (R3 stream, every process
with its own NATS identity from deploy/nats/auth.conf), two submission replicas.

    .venv/bin/python bench/cluster.py [--backlog 200] [--burst 300]

1. Stories/s screened by one worker, then by two, each draining a backlog of
   --backlog stories (workers loaded, then frozen while the backlog is submitted, then
   thawed together: the figure is screening, not start-up). The model is the tiny
   test checkpoint the suite trains (real Detoxify code path, small weights), so the
   ratio shows how the pipeline scales, not Detoxify's own speed (make bench-screen).
2. --burst stories through both replicas; mid-burst the stream's leader node and a
   worker are SIGKILLed; every accepted story must reach the queue exactly once.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.moderation.checkpoints import train_marker_model  # noqa: E402
from tests.e2e.cluster.harness import Cluster, Replica, screening_rate, wait_loaded  # noqa: E402
from tests.hardening import submit_many, titles  # noqa: E402
from tests.stack import db_fetch, wait_until  # noqa: E402


def submit_both(cluster: Cluster, names: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    threads = [threading.Thread(target=lambda r=r, mine=names[i::2]: out.update(
        submit_many(Replica(cluster, r), mine, 6))) for i, r in enumerate(("submission-1", "submission-2"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def duplicates(cluster: Cluster, names: list[str]) -> int:
    return db_fetch(cluster.dsn, "SELECT count(*) - count(DISTINCT title) AS n FROM moderation.queue_items"
                                 " WHERE title = ANY($1)", names)[0]["n"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backlog", type=int, default=200)
    parser.add_argument("--burst", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="braided-bench-cluster-") as tmp:
        root = Path(tmp)
        print("training the tiny test model...", flush=True)
        model = train_marker_model(root / "model", "zorblat")
        cluster = Cluster(root / "cluster", model)
        try:
            cluster.start()
            cluster.serve("submission-1", "submission")
            cluster.serve("submission-2", "submission")
            rates = {}
            for n in (1, 2):
                names = titles(f"bench-backlog-{n}", args.backlog)
                workers = [f"rate-{n}-{i}" for i in range(n)]
                rates[n] = screening_rate(cluster, workers, lambda t: submit_both(cluster, t), names, timeout=900)
                assert cluster.queued(names) == args.backlog and duplicates(cluster, names) == 0
                for w in workers:
                    cluster.procs.stop(w)
                print(f"{n} worker(s): {rates[n]:.1f} stories/s screened ({args.backlog}-story backlog)", flush=True)
            print(f"two workers / one worker: x{rates[2] / rates[1]:.2f}", flush=True)

            cluster.worker("worker-a")
            cluster.worker("worker-b")
            wait_loaded(cluster, ["worker-a", "worker-b"])
            names = titles("bench-kill", args.burst)
            done: dict = {}
            t = threading.Thread(target=lambda: done.update(r=submit_both(cluster, names)))
            started = time.monotonic()
            t.start()
            wait_until(lambda: db_fetch(cluster.dsn, "SELECT count(*) AS n FROM submission.stories"
                                                     " WHERE title = ANY($1)", names)[0]["n"] >= args.burst // 4,
                       300, 0.05, "the burst under way")
            leader = cluster.nats.stream_leader()
            cluster.nats.node(leader).kill()
            cluster.procs.kill("worker-a")
            t.join()
            accepted = len(done["r"])
            wait_until(lambda: cluster.queued(names) >= accepted, 600, 0.5, "every story queued")
            queued, dupes = cluster.queued(names), duplicates(cluster, names)
            print(f"NATS node {leader} (stream leader) and a worker SIGKILLed mid-burst: accepted {accepted}, "
                  f"queued {queued}, duplicates {dupes} ({time.monotonic() - started:.1f} s)", flush=True)
            return 0 if accepted == queued == args.burst and dupes == 0 else 1
        finally:
            cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
