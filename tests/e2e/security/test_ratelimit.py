"""Rate limiting across replicas: two `braided serve submission` processes on the
same PostgreSQL and NATS share one per-client limit; the key that hashes client
addresses lives only in NATS memory storage."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import nats
import pytest

from shared.infra import EmbeddedNats, free_port
from tests.hardening import stream_storage, table_rows
from tests.natskv import kv_keys
from tests.stack import REPO, loopback_source, wait_until

pytestmark = pytest.mark.slow

LIMIT = 4


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory, pg_dsn: str,
             nats_server: EmbeddedNats) -> Iterator[list[str]]:
    data_dir = tmp_path_factory.mktemp("replicas")
    env = {k: v for k, v in os.environ.items()} | {
        "DATABASE_URL": pg_dsn, "NATS_URL": nats_server.url, "DATA_DIR": str(data_dir),
        **nats_server.credentials("submission"),
        "SUBMISSION_RATE_LIMIT": f"{LIMIT}/hour",
        "RECEIPT_RATE_LIMIT": f"{LIMIT}/hour", "SESSION_SECRET": uuid.uuid4().hex}
    procs, urls = [], []
    try:
        for i in range(2):
            port = free_port()
            with open(data_dir / f"replica-{i}.log", "ab") as log:
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "braided", "serve", "submission", "--port", str(port)],
                    env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT))
            urls.append(f"http://127.0.0.1:{port}")
        for url, proc in zip(urls, procs, strict=True):
            def healthy(url: str = url, proc: subprocess.Popen = proc) -> bool:
                assert proc.poll() is None, (data_dir / "replica-0.log").read_text()[-2000:]
                try:
                    return httpx.get(url + "/healthz", timeout=2).status_code == 200
                except httpx.HTTPError:
                    return False
            wait_until(healthy, 60, 0.2, f"replica {url}")
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _client(source: str) -> httpx.Client:
    return httpx.Client(timeout=30, transport=httpx.HTTPTransport(local_address=source))


def _story(i: int) -> dict[str, str]:
    return {"title": f"Rate limit {uuid.uuid4().hex[:6]} {i}", "body": "A story sent to test the shared limit."}


def test_two_replicas_share_one_limit(replicas: list[str], pg_dsn: str, nats_server: EmbeddedNats) -> None:
    # Stay inside one hourly window: if it is about to roll over, wait for the next.
    if 3600 - time.time() % 3600 < 60:
        time.sleep(3600 - time.time() % 3600 + 1)
    a, b = loopback_source(), loopback_source()
    statuses = []
    with _client(a) as client:
        for i in range(LIMIT + 2):
            r = client.post(replicas[i % 2] + "/api/stories", json=_story(i))  # alternate replicas
            statuses.append(r.status_code)
            if r.status_code == 429:
                retry_after = int(r.headers["retry-after"])
                assert 0 < retry_after <= 3600
                assert "wait" in r.json()["errors"]["rate"]
        # The HTML form is limited too, with a page a person can read.
        form = client.get(replicas[1] + "/")
        key = re.search(r'name="submission_key" value="([^"]+)"', form.text).group(1)
        r = client.post(replicas[1] + "/stories", data={"submission_key": key} | _story(99))
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        assert "Please wait a while" in r.text
    assert statuses == [202] * LIMIT + [429, 429], statuses
    # Another client has its own allowance, on either replica.
    with _client(b) as client:
        assert [client.post(u + "/api/stories", json=_story(i)).status_code for i, u in enumerate(replicas)] == [
            202, 202]
    print(f"\n[ratelimit] {LIMIT}/hour across 2 replicas: {statuses} (+ form 429) for one client; "
          f"another client 202, 202")

    # Where the limiter keeps its state: two KV buckets in memory storage, and the
    # hashing key nowhere on disk or in the database.
    storage = stream_storage(nats_server.admin_url)
    assert storage["KV_ratelimit_submission"] == "memory"
    assert storage["KV_ratelimit_keys_submission"] == "memory"
    key = _current_key(nats_server.admin_url)
    on_disk = [p for p in Path(nats_server.store).rglob("*") if p.is_file() and key in p.read_bytes()]
    assert on_disk == []
    assert not any(key.hex() in row for _, row in table_rows(pg_dsn))
    counters = _counters(nats_server.admin_url)
    assert sorted(counters.values())[-1] == LIMIT  # one client's count, shared by both replicas
    assert not any(a in k or b in k for k in counters)  # keys are HMACs, not addresses


def test_receipt_look_ups_are_limited_per_client(replicas: list[str]) -> None:
    """A guesser gets LIMIT receipt look-ups per hour (API and status form alike, on
    every replica), then 429 with Retry-After; another client keeps its own."""
    if 3600 - time.time() % 3600 < 60:
        time.sleep(3600 - time.time() % 3600 + 1)
    bogus = {"receipt": "BR-00000-00000-00000-00000"}
    statuses = []
    with _client(loopback_source()) as client:
        for i in range(LIMIT):
            statuses.append(client.post(replicas[i % 2] + "/api/receipts/status", json=bogus).status_code)
        for path in ("/api/receipts/status", "/api/receipts/withdraw"):
            r = client.post(replicas[1] + path, json=bogus)
            statuses.append(r.status_code)
            assert 0 < int(r.headers["retry-after"]) <= 3600 and "wait" in r.json()["errors"]["rate"]
        r = client.post(replicas[0] + "/status", data=bogus | {"action": "status"})
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0 and "Please wait" in r.text
    assert statuses == [404] * LIMIT + [429, 429], statuses
    with _client(loopback_source()) as client:
        assert client.post(replicas[0] + "/api/receipts/status", json=bogus).status_code == 404


def _current_key(url: str) -> bytes:
    import asyncio

    async def go() -> bytes:
        nc = await nats.connect(url)
        try:
            kv = await nc.jetstream().key_value("ratelimit_keys_submission")
            names = await kv_keys(nc.jetstream(), "ratelimit_keys_submission")
            return (await kv.get(sorted(names)[-1])).value
        finally:
            await nc.close()
    return asyncio.run(go())


def _counters(url: str) -> dict[str, int]:
    import asyncio

    async def go() -> dict[str, int]:
        nc = await nats.connect(url)
        try:
            kv = await nc.jetstream().key_value("ratelimit_submission")
            return {k: int((await kv.get(k)).value) for k in await kv_keys(nc.jetstream(), "ratelimit_submission")}
        finally:
            await nc.close()
    return asyncio.run(go())
