"""The session-end leak check fails a run that leaves a process behind, and names it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.stack import REPO

LEAKY = '''
import subprocess


def test_leaves_a_server_behind():
    subprocess.Popen(["sleep", "300"], start_new_session=True)  # never stopped
'''

TIDY = '''
import subprocess


def test_stops_what_it_starts():
    p = subprocess.Popen(["sleep", "300"], start_new_session=True)
    p.terminate()
    p.wait()
'''


def _inner_run(tmp_path: Path, name: str, source: str) -> subprocess.CompletedProcess[str]:
    folder = tmp_path / name
    folder.mkdir()
    (folder / f"test_{name}.py").write_text(source)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.leakcheck", "-p", "no:cacheprovider", "-q",
         "--rootdir", str(folder), "-c", os.devnull, "--basetemp", str(folder / "tmp"), str(folder)],
        env=os.environ | {"PYTHONPATH": str(REPO), "LEAKCHECK_GRACE_SECONDS": "1"},
        capture_output=True, text=True, timeout=120, cwd=folder)


def test_a_leaked_process_fails_the_run_and_is_named(tmp_path: Path) -> None:
    run = _inner_run(tmp_path, "leaky", LEAKY)
    leaked = [line for line in run.stdout.splitlines() if line.split(" ", 1)[-1] == "sleep 300"]
    try:
        assert run.returncode == 1, run.stdout
        assert "leaked processes" in run.stdout and len(leaked) == 1, run.stdout
    finally:
        for line in leaked:
            os.kill(int(line.split()[0]), signal.SIGKILL)


def test_a_tidy_run_passes(tmp_path: Path) -> None:
    run = _inner_run(tmp_path, "tidy", TIDY)
    assert run.returncode == 0, run.stdout
    assert "leaked processes" not in run.stdout
