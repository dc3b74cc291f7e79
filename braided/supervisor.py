"""`braided run`'s process supervisor: each service's web app and the other
processes a service asks for (moderation's screening workers) as child processes,
a child that dies restarted, all stopped on SIGINT or SIGTERM."""

from __future__ import annotations

import logging
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from braided.services import SERVICES
from shared.config import Settings
from shared.natsauth import credentials, identity_for

log = logging.getLogger("braided.supervisor")


def first_moderator_hint(settings: Settings) -> str:
    """How to add the first moderator to THIS installation: with the DATA_DIR (or
    database) in force, since the command run from another directory or without the
    variable would start a second embedded database of its own, add the admin
    there, and the login here would then fail."""
    if settings.database_url:
        where = "  (with the same DATABASE_URL as this server, which is set in its environment)\n"
        command = ".venv/bin/braided add-moderator YOUR_NAME --role admin"
    else:
        where = ""
        command = (f"DATA_DIR={shlex.quote(str(settings.data_dir))}"
                   " .venv/bin/braided add-moderator YOUR_NAME --role admin")
    return ("\nCreate the first moderator (the password is read from standard input):\n"
            f"  {command}\n{where}")


def port(settings: Settings, service: str) -> int:
    return getattr(settings, f"{service}_port")


def _wait_healthy(port: int, host: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


class Supervisor:
    def __init__(self, settings: Settings, env: dict[str, str]) -> None:
        self.settings, self.env = settings, env
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.stopping = False
        # name → the braided command that runs it
        self.commands: dict[str, list[str]] = {s.NAME: ["serve", s.NAME] for s in SERVICES}
        for s in SERVICES:
            self.commands |= s.processes(settings)

    def child_env(self, name: str) -> dict[str, str]:
        """The environment of one child: with a NATS password folder, its own NATS
        identity (shared/natsauth.py), unless credentials were given for all."""
        folder = self.env.get("NATS_SECRETS_DIR")
        user = identity_for(self.commands[name])
        if not folder or user is None or any(self.env.get(k) for k in ("NATS_CREDS", "NATS_USER")):
            return self.env
        return self.env | credentials(Path(folder), user)

    def start(self, name: str) -> None:
        self.children[name] = subprocess.Popen([sys.executable, "-m", "braided", *self.commands[name]],
                                               env=self.child_env(name))

    def stop(self, *_: object) -> None:
        self.stopping = True

    def shutdown(self) -> None:
        for proc in self.children.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 15
        for proc in self.children.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        for name in self.commands:
            self.start(name)
        s = self.settings
        for svc in SERVICES:
            if not _wait_healthy(port(s, svc.NAME), s.host, self.children[svc.NAME]):
                log.error("%s did not become healthy; stopping", svc.NAME)
                self.shutdown()
                return 1
        print("\nBraided is running:", flush=True)
        for svc in SERVICES:
            print(f"  {svc.NAME:<11} http://{s.host}:{port(s, svc.NAME)}/", flush=True)
        print(f"  WEB_CONCURRENCY={s.web_concurrency} (processes per web service)", flush=True)
        print(first_moderator_hint(s) + "Stop with Ctrl-C.\n", flush=True)
        restarts: dict[str, float] = {}
        while not self.stopping:
            for name, proc in list(self.children.items()):
                if proc.poll() is not None and not self.stopping:
                    # Back off if a child keeps dying, so a broken config does not spin.
                    wait = 1.0 if time.monotonic() - restarts.get(name, 0) > 30 else 5.0
                    log.warning("%s exited with %s; restarting in %.0fs", name, proc.returncode, wait)
                    time.sleep(wait)
                    restarts[name] = time.monotonic()
                    if not self.stopping:
                        self.start(name)
            time.sleep(0.2)
        self.shutdown()
        return 0
