"""A session-end check: no process the test suite started may outlive it.

Servers a test starts (PostgreSQL, NATS, `braided run` and its children,
Chromium) must be stopped by their fixtures, also when a test fails, is
interrupted, or restarted a server inside the test. This plugin lists the
processes alive when the session starts, and at its end fails the run, naming
each process that is new and belongs to this run: a descendant of this pytest
process, or one whose command line, working folder or environment points into
this run's base temp folder (a daemon such as a restarted postmaster is
re-parented to init, but its data folder gives it away).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import psutil
import pytest

# Servers may still be shutting down when the last fixture returns.
GRACE_SECONDS = float(os.environ.get("LEAKCHECK_GRACE_SECONDS", "10"))

_before: set[int] = set()


def _ours(proc: psutil.Process, root: str, me: int) -> bool:
    try:
        if any(p.pid == me for p in proc.parents()):
            return True
        if any(root in part for part in proc.cmdline()):
            return True
        if proc.cwd().startswith(root):
            return True
        return any(root in value for value in proc.environ().values())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def leftovers(root: Path, before: set[int]) -> list[str]:
    """Processes of this run still alive: "pid command line" each."""
    me = os.getpid()
    found: dict[int, psutil.Process] = {}
    for proc in psutil.process_iter():
        if proc.pid in before or proc.pid == me:
            continue
        try:
            if proc.status() != psutil.STATUS_ZOMBIE and _ours(proc, str(root), me):
                found[proc.pid] = proc
        except psutil.Error:
            continue
    out = []
    for pid, proc in sorted(found.items()):
        try:
            if proc.ppid() in found:
                continue  # named through its parent (a postmaster's workers, say)
            out.append(f"{pid} {' '.join(proc.cmdline())[:200]}")
        except psutil.Error:
            continue
    return out


def pytest_sessionstart(session: pytest.Session) -> None:
    _before.update(psutil.pids())

    # SIGTERM (CI cancelling a job, `timeout`) would end pytest without tearing
    # fixtures down; as an interrupt it runs every finaliser, so servers stop.
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)


@pytest.hookimpl(trylast=True)  # after the runner has torn every fixture down
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None:
        return
    root = factory.getbasetemp()
    deadline = time.monotonic() + GRACE_SECONDS
    alive = leftovers(root, _before)
    while alive and time.monotonic() < deadline:
        time.sleep(0.5)
        alive = leftovers(root, _before)
    if alive:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = ["processes started by the test suite are still running after it:", *alive]
        if reporter is not None:
            reporter.section("leaked processes", sep="=", red=True, bold=True)
            for line in lines:
                reporter.write_line(line)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
