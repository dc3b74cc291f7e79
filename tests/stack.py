"""Test harness: real PostgreSQL and NATS, and Braided started as `make run` starts it."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx

from shared.infra import free_port
from shared.natsauth import password_var

REPO = Path(__file__).resolve().parent.parent


def db_fetch(dsn: str, sql: str, *args: Any) -> list[dict[str, Any]]:
    async def go() -> list[dict[str, Any]]:
        conn = await asyncpg.connect(dsn)
        try:
            return [dict(r) for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()
    return asyncio.run(go())


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class Stack:
    """`braided run` in a child process on free ports, like `make run`."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.ports = {name: free_port() for name in ("submission", "moderation", "publishing")}
        self.metrics_ports = {name: free_port() for name in self.ports}
        base = {k: v for k, v in os.environ.items()
                if k not in ("DATABASE_URL", "NATS_URL", "NATS_SECRETS_DIR", "NATS_USER", "NATS_PASSWORD",
                             "NATS_CREDS")}
        self.env = base | {
            "DATA_DIR": str(data_dir),
            "SUBMISSION_PORT": str(self.ports["submission"]),
            "MODERATION_PORT": str(self.ports["moderation"]),
            "PUBLISHING_PORT": str(self.ports["publishing"]),
            "SUBMISSION_METRICS_PORT": str(self.metrics_ports["submission"]),
            "MODERATION_METRICS_PORT": str(self.metrics_ports["moderation"]),
            "PUBLISHING_METRICS_PORT": str(self.metrics_ports["publishing"]),
            "SUBMISSION_RATE_LIMIT": "off",
            # Tests look receipts up many times from 127.0.0.1; the limit has its own
            # test (tests/e2e/security/test_ratelimit.py).
            "RECEIPT_RATE_LIMIT": "off",
            # Every test logs in from 127.0.0.1; the per-client throttle is tested on
            # its own limiter (tests/e2e/moderation/test_auth_accounts.py).
            "LOGIN_CLIENT_FAILURES": "100000",
            "SESSION_SECRET": "test-secret-" + os.urandom(8).hex(),
        } | (env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / "braided-run.log"

    def url(self, service: str, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.ports[service]}{path}"

    @property
    def nats_admin_url(self) -> str:
        """NATS_URL with the operator's credentials (tests publish and inspect as it)."""
        url = self.env.get("NATS_URL") or ""
        folder = self.env.get("NATS_SECRETS_DIR") or str(self.data_dir / "nats-secrets")
        password = Path(folder, password_var("admin"))
        if not url or not password.exists():
            return url
        return url.replace("nats://", f"nats://admin:{quote(password.read_text().strip(), safe='')}@", 1)

    @property
    def dsn(self) -> str:
        return self.env.get("DATABASE_URL") or f"postgresql://postgres@/postgres?host={self.data_dir / 'pg'}"

    def start(self, timeout: float = 120) -> Stack:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as logfile:
            self.proc = subprocess.Popen([sys.executable, "-m", "braided", "run"], env=self.env, cwd=REPO,
                                         stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_healthy(timeout)
        except BaseException:
            self.stop()  # a fixture that never yields is never torn down
            raise
        return self

    def _wait_healthy(self, timeout: float) -> None:
        started = time.monotonic()
        for name in self.ports:
            def healthy(name: str = name) -> bool:
                if self.proc.poll() is not None:
                    raise AssertionError(f"braided run exited {self.proc.returncode}:\n{self.log_tail()}")
                try:
                    return httpx.get(self.url(name, "/healthz"), timeout=2).status_code == 200
                except httpx.HTTPError:
                    return False
            wait_until(healthy, timeout - (time.monotonic() - started), 0.2, f"{name} healthy")
        self.started_in = time.monotonic() - started

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(40)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode

    # --- conveniences ---------------------------------------------------------------

    def add_moderator(self, username: str, password: str, role: str = "moderator") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "braided", "add-moderator", username, "--role", role],
                              input=password + "\n", text=True, capture_output=True, env=self.env_with_db(),
                              cwd=REPO, timeout=60)

    def env_with_db(self) -> dict[str, str]:
        return self.env | {"DATABASE_URL": self.dsn}

    def env_as(self, service: str) -> dict[str, str]:
        """The environment for one more `braided serve <service>` beside the stack: its
        own NATS identity (the embedded server refuses anonymous clients) and a free
        metrics port."""
        from shared.natsauth import credentials

        folder = self.env.get("NATS_SECRETS_DIR") or str(self.data_dir / "nats-secrets")
        return self.env_with_db() | credentials(Path(folder), service) | {f"{service.upper()}_METRICS_PORT": "0"}

    def moderator(self, username: str, password: str) -> httpx.Client:
        client = httpx.Client(base_url=self.url("moderation"), timeout=10)
        r = client.post("/api/session", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return client

    def submit(self, **story: Any) -> str:
        story = {"title": "A story", "body": "Long enough body for a story about home."} | story
        r = httpx.post(self.url("submission", "/api/stories"), json=story, timeout=30)
        assert r.status_code == 202, r.text
        return r.json()["receipt"]

    def receipt_status(self, receipt: str) -> dict[str, Any]:
        return httpx.post(self.url("submission", "/api/receipts/status"), json={"receipt": receipt},
                          timeout=30).json()

    def queue_item(self, mod: httpx.Client, title: str, state: str = "pending") -> dict[str, Any] | None:
        cursor = None
        while True:
            r = mod.get("/api/queue", params={"state": state} | ({"cursor": cursor} if cursor else {}))
            assert r.status_code == 200, r.text
            body = r.json()
            for item in body["items"]:
                if item["title"] == title:
                    return item
            cursor = body["next"]
            if not cursor:
                return None

    def published(self, title: str) -> dict[str, Any] | None:
        r = httpx.get(self.url("publishing", "/api/stories"), params={"q": title}, timeout=10)
        for item in r.json()["items"]:
            if item["title"] == title:
                return item
        return None


def publish_raw(nats_url: str, subject: str, payload: dict[str, Any], msg_id: str) -> None:
    """Publish an envelope directly (for duplicate-delivery tests)."""
    import nats

    async def go() -> None:
        nc = await nats.connect(nats_url)
        try:
            await nc.jetstream().publish(subject, json.dumps(payload).encode(), headers={"Nats-Msg-Id": msg_id})
        finally:
            await nc.close()
    asyncio.run(go())


def loopback_source(rng: random.Random | None = None) -> str:
    """A random 127.x.y.z address to send requests from: the whole 127/8 block is
    loopback, so a test can be a distinct client (rate limits, anonymity scans)."""
    r = rng or random.Random()
    return f"127.{r.randint(10, 250)}.{r.randint(10, 250)}.{r.randint(10, 250)}"
