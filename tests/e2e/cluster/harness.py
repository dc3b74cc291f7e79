"""A production-shaped Braided on loopback: three clustered nats-server processes on
deploy/nats/auth.conf (every process with its own NATS identity), one PostgreSQL,
and the services and workers started one process each, as Compose or Kubernetes
starts them (`braided serve ...`, `braided worker`), with NATS_URL listing every node.

Used by tests/cluster (the slow test) and bench/cluster.py (`make bench-cluster`).
Every process started here is stopped by `Cluster.stop()`, also after a failure.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import nats
import psutil

from shared.infra import EmbeddedNats, EmbeddedPostgres, free_port
from tests.stack import REPO, db_fetch, wait_until

AUTH_CONF = REPO / "deploy" / "nats" / "auth.conf"
# NATS identity → the environment variable its password is read from (auth.conf).
IDENTITIES = ("submission", "moderation", "moderation-worker", "publishing", "admin", "sys")


def password_var(identity: str) -> str:
    return identity.upper().replace("-", "_") + "_NATS_PASSWORD"


class NatsCluster:
    """Three nats-server processes clustered on loopback, JetStream on each, the
    accounts and permissions of deploy/nats/auth.conf."""

    def __init__(self, root: Path, size: int = 3) -> None:
        self.passwords = {i: secrets.token_urlsafe(24) for i in IDENTITIES}
        root.mkdir(parents=True, exist_ok=True)
        # The passwords are variables defined ahead of the table (a Compose or Kubernetes
        # nats-server reads them from its environment instead); the table is the file.
        conf = root / "node.conf"
        conf.write_text("".join(f'{password_var(i)}: "{p}"\n' for i, p in self.passwords.items())
                        + AUTH_CONF.read_text())
        cluster_ports = [free_port() for _ in range(size)]
        routes = ",".join(f"nats://127.0.0.1:{p}" for p in cluster_ports)
        self.nodes = [
            EmbeddedNats(root / f"n{i}", args=("-c", str(conf), "-n", f"n{i}", "--cluster_name", "braided",
                                              "--cluster", f"nats://127.0.0.1:{cluster_ports[i]}",
                                              "--routes", routes), auth=False)
            for i in range(size)
        ]

    def start(self) -> None:
        for node in self.nodes:
            node.start()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    @property
    def url(self) -> str:
        """NATS_URL as an operator writes it for the cluster."""
        return ", ".join(node.url for node in self.nodes)

    def servers(self) -> list[str]:
        return [node.url for node in self.nodes]

    def identity(self, name: str) -> dict[str, str]:
        return {"NATS_USER": name, "NATS_PASSWORD": self.passwords[name]}

    async def _admin(self):
        return await nats.connect(servers=self.servers(), user="admin", password=self.passwords["admin"],
                                  max_reconnect_attempts=-1, connect_timeout=2)

    def stream_leader(self) -> str:
        """Name (n0, n1, n2) of the node that leads the STORIES stream."""
        async def go() -> str:
            nc = await self._admin()
            try:
                info = await nc.jetstream().stream_info("STORIES")
                assert info.cluster is not None
                return info.cluster.leader
            finally:
                await nc.close()
        return asyncio.run(go())

    def stream_replicas(self) -> int:
        async def go() -> int:
            nc = await self._admin()
            try:
                return (await nc.jetstream().stream_info("STORIES")).config.num_replicas
            finally:
                await nc.close()
        return asyncio.run(go())

    def node(self, name: str) -> EmbeddedNats:
        return self.nodes[int(name.removeprefix("n"))]


class Processes:
    """Braided processes (`python -m braided ...`), each in its own session with a
    log file; `stop_all` ends every one still running."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        data_dir = self.root / name
        data_dir.mkdir(parents=True, exist_ok=True)
        with open(data_dir / "log", "ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", "braided", *argv], env=env | {"DATA_DIR": str(data_dir)},
                                    cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def log_tail(self, name: str, n: int = 30) -> str:
        try:
            return "\n".join((self.root / name / "log").read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)


class Cluster:
    """NATS cluster + PostgreSQL + Braided processes; `stop()` ends them all."""

    def __init__(self, root: Path, model: tuple[Path, Path] | None, ack_wait: int = 5) -> None:
        self.root = root
        self.nats = NatsCluster(root / "nats")
        self.pg = EmbeddedPostgres(root)
        self.procs = Processes(root / "procs")
        self.dsn = ""
        self.ports: dict[str, int] = {}
        self.model, self.ack_wait = model, ack_wait

    def env(self, identity: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "NATS_URL", "NATS_USER",
                                                                  "NATS_PASSWORD", "NATS_CREDS")}
        env = base | {
            "DATABASE_URL": self.dsn, "NATS_URL": self.nats.url, "STREAM_REPLICAS": "3",
            "SUBMISSION_RATE_LIMIT": "off",
            "RECEIPT_RATE_LIMIT": "off", "SESSION_SECRET": "cluster-test-" + self.nats.passwords["sys"],
            # A worker SIGKILLed holding stories: JetStream redelivers them after this.
            "SCREEN_ACK_WAIT": str(self.ack_wait), "SCREEN_THREADS": "1", "LOG_LEVEL": "WARNING",
        } | self.nats.identity(identity)
        if self.model:
            env |= {"DETOXIFY_CHECKPOINT": str(self.model[0]), "DETOXIFY_HF_CONFIG": str(self.model[1])}
        else:
            env |= {"SCREEN_ENABLED": "false"}
        return env

    def start(self) -> Cluster:
        self.nats.start()
        self.dsn = self.pg.start()
        migrate = subprocess.run([sys.executable, "-m", "braided", "migrate"], env=self.env("admin"), cwd=REPO,
                                 capture_output=True, text=True, timeout=120)
        assert migrate.returncode == 0, migrate.stderr
        return self

    def serve(self, name: str, service: str) -> None:
        """`braided serve SERVICE` as process `name`, on a port of its own; waits for /healthz."""
        port = self.ports[name] = free_port()
        proc = self.procs.start(name, ["serve", service, "--port", str(port)], self.env(service))

        def healthy() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited {proc.returncode}:\n{self.procs.log_tail(name)}")
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False
        wait_until(healthy, 120, 0.2, f"{name} healthy")

    def worker(self, name: str) -> None:
        self.procs.start(name, ["worker"], self.env("moderation-worker"))

    def url(self, name: str, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.ports[name]}{path}"

    def queued(self, titles: list[str]) -> int:
        return db_fetch(self.dsn, "SELECT count(*) AS n FROM moderation.queue_items WHERE title = ANY($1)",
                        titles)[0]["n"]

    def stop(self) -> None:
        try:
            self.procs.stop_all()
        finally:
            try:
                self.nats.stop()
            finally:
                self.pg.stop()


class Replica:
    """One submission replica, shaped like tests.stack.Stack for tests.hardening.submit_many."""

    def __init__(self, cluster: Cluster, name: str) -> None:
        self.cluster, self.name = cluster, name

    def url(self, service: str, path: str = "/") -> str:
        assert service == "submission"
        return self.cluster.url(self.name, path)


def wait_loaded(cluster: Cluster, workers: list[str], timeout: float = 120) -> None:
    """Until each worker process reports its model loaded (its heartbeat row)."""
    ids = [f"{socket.gethostname()}-{cluster.procs.procs[w].pid}" for w in workers]
    wait_until(lambda: db_fetch(cluster.dsn, "SELECT count(*) AS n FROM moderation.screen_workers"
                                             " WHERE worker_id = ANY($1) AND state = 'loaded'", ids)[0]["n"]
               == len(ids), timeout, 0.2, f"{workers} loaded")


def screening_rate(cluster: Cluster, workers: list[str], submit, titles: list[str], timeout: float = 300) -> float:
    """Stories filed per second by `workers` draining a backlog of `titles`.

    The workers are started and their model loaded first, then frozen (SIGSTOP) while
    `submit(titles)` fills the stream, then thawed together: the figure is screening,
    not start-up or the submission rate. A frozen worker's pending pull request expires
    within its 1 s fetch wait, so nothing is handed to it while it is frozen."""
    for w in workers:
        cluster.worker(w)
    wait_loaded(cluster, workers)
    frozen = [psutil.Process(cluster.procs.procs[w].pid) for w in workers]
    for p in frozen:
        p.suspend()
    time.sleep(1.5)
    try:
        submit(titles)
    finally:
        for p in frozen:
            p.resume()
    return _drain_rate(cluster, titles, timeout)


def _drain_rate(cluster: Cluster, titles: list[str], timeout: float) -> float:
    """From the first story filed to the last, polled every 50 ms."""
    deadline = time.monotonic() + timeout
    first: tuple[float, int] | None = None
    while time.monotonic() < deadline:
        n = cluster.queued(titles)
        now = time.monotonic()
        if n and first is None:
            first = (now, n)
        if n >= len(titles):
            assert first is not None
            elapsed = now - first[0]
            return (n - first[1]) / elapsed if elapsed > 0 else float("inf")
        time.sleep(0.05)
    raise AssertionError(f"only {cluster.queued(titles)} of {len(titles)} stories screened in {timeout}s")
