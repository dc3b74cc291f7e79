"""Scale proof on one machine: three clustered nats-server processes, an R3 stream,
two submission replicas and two screening workers, each process with its own NATS
identity from deploy/nats/auth.conf and NATS_URL listing every node.

A NATS node (the stream's leader) and a worker are SIGKILLed mid-burst: every
accepted story still reaches the queue exactly once. Stories/s screened with one
worker and with two are printed (run with -s; `make bench-cluster` runs more).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import nats
import nats.errors
import pytest

from tests.e2e.cluster.harness import Cluster, Replica, screening_rate, wait_loaded, worker_ids
from tests.hardening import submit_many, titles
from tests.stack import db_fetch, wait_until

pytestmark = pytest.mark.slow

BACKLOG = 40  # stories per screening-rate phase (make bench-cluster runs more)
BURST = 100  # stories in the kill test


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, marker_model) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("cluster"), marker_model)
    try:
        c.start()
        c.serve("submission-1", "submission")
        c.serve("submission-2", "submission")
        yield c
    finally:
        c.stop()


def _submit_both(cluster: Cluster, names: list[str], concurrency: int = 4) -> dict[str, str]:
    """Half the stories through each submission replica, both at once."""
    out: dict[str, str] = {}
    errors: list[BaseException] = []

    def run(replica: str, mine: list[str]) -> None:
        try:
            out.update(submit_many(Replica(cluster, replica), mine, concurrency))
        except BaseException as e:  # surfaced after join
            errors.append(e)

    threads = [threading.Thread(target=run, args=(r, names[i::2])) for i, r in enumerate(("submission-1",
                                                                                          "submission-2"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors, errors
    return out


def _duplicates(cluster: Cluster, names: list[str]) -> int:
    return db_fetch(cluster.dsn, "SELECT count(*) - count(DISTINCT title) AS n FROM moderation.queue_items"
                                 " WHERE title = ANY($1)", names)[0]["n"]


def test_each_identity_publishes_only_what_its_service_owns(cluster: Cluster) -> None:
    """The permission table is live: submission's identity cannot publish a decision,
    and a client without an identity is refused."""
    async def go() -> None:
        nc = await nats.connect(servers=cluster.nats.servers(), **{
            "user": "submission", "password": cluster.nats.passwords["submission"]})
        try:
            with pytest.raises(nats.errors.Error):
                await nc.jetstream().publish("stories.approved", b"{}", timeout=2)
        finally:
            await nc.close()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(nats.connect(servers=cluster.nats.servers(), max_reconnect_attempts=-1), 3)
    asyncio.run(go())
    assert cluster.nats.stream_replicas() == 3


def test_screening_rate_with_one_worker_then_two(cluster: Cluster) -> None:
    rates = {}
    for n_workers in (1, 2):
        names = titles(f"backlog-{n_workers}", BACKLOG)
        workers = [f"rate-worker-{n_workers}-{i}" for i in range(n_workers)]
        rates[n_workers] = screening_rate(cluster, workers, lambda t: _submit_both(cluster, t), names)
        assert cluster.queued(names) == BACKLOG and _duplicates(cluster, names) == 0
        for w in workers:
            cluster.procs.stop(w)
    print(f"\n[cluster] stories/s screened: one worker {rates[1]:.1f}, two workers {rates[2]:.1f} "
          f"(x{rates[2] / rates[1]:.2f}; {BACKLOG}-story backlog each, tiny test model, 2 cores shared)")


def test_nats_node_and_worker_sigkilled_mid_burst(cluster: Cluster) -> None:
    before = worker_ids(cluster)
    cluster.worker("worker-a")
    cluster.worker("worker-b")
    wait_loaded(cluster, ["worker-a", "worker-b"], before)
    names = titles("cluster-kill", BURST)
    done: dict[str, dict[str, str]] = {}
    t = threading.Thread(target=lambda: done.update(receipts=_submit_both(cluster, names)))
    t.start()
    stored = lambda: db_fetch(cluster.dsn, "SELECT count(*) AS n FROM submission.stories WHERE title = ANY($1)",  # noqa: E731
                              names)[0]["n"]
    wait_until(lambda: stored() >= BURST // 4, 120, 0.05, "the burst under way")
    leader = cluster.nats.stream_leader()
    cluster.nats.node(leader).kill()  # SIGKILL the stream's leader
    cluster.procs.kill("worker-a")  # and a worker, holding whatever it had fetched
    killed_at = (stored(), cluster.queued(names))
    t.join(300)
    assert not t.is_alive()
    accepted = len(done["receipts"])
    wait_until(lambda: cluster.queued(names) >= accepted, 180, 0.5, f"{accepted} stories in the queue")
    queued, dupes = cluster.queued(names), _duplicates(cluster, names)
    print(f"\n[cluster] NATS node {leader} (stream leader) and a worker SIGKILLed with {killed_at[0]} stored, "
          f"{killed_at[1]} queued: accepted {accepted}, queued {queued}, duplicates {dupes}")
    assert accepted == len(names) == queued
    assert dupes == 0
