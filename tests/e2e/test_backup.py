"""`braided backup` / `braided restore` with the real CLI and pg_dump/pg_restore:
a backup of the running stack, restored into an empty database, serves the same
feed; it holds no receipt code; restore refuses a database that has data."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import httpx

from braided.backup import pg_tool
from shared.infra import EmbeddedNats, free_port
from tests.stack import REPO, Stack, db_fetch, wait_until


def _braided(stack: Stack, dsn: str, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "braided", *argv], env=stack.env | {"DATABASE_URL": dsn},
                          cwd=REPO, capture_output=True, text=True, timeout=120)


def _publish(stack: Stack, admin: httpx.Client, title: str) -> str:
    receipt = stack.submit(title=title, body=f"A story kept safe in a backup: {title}.")
    item = wait_until(lambda: stack.queue_item(admin, title), 60, 0.3, f"{title} queued")
    r = admin.post(f"/api/queue/{item['id']}/decision",
                   json={"decision": "approve"})
    assert r.status_code == 200, r.text
    wait_until(lambda: stack.published(title), 60, 0.3, f"{title} published")
    return receipt


def test_backup_restores_into_an_empty_database_and_serves_the_same_feed(stack: Stack, admin: httpx.Client,
                                                                          tmp_path: Path) -> None:
    run = uuid.uuid4().hex[:6]
    receipts = [_publish(stack, admin, f"Backup {run} #{i}") for i in range(2)]
    feed = httpx.get(stack.url("publishing", "/api/stories"), timeout=10).json()

    dump = tmp_path / "braided.dump"
    done = _braided(stack, stack.dsn, "backup", str(dump))
    assert done.returncode == 0, done.stderr
    assert oct(dump.stat().st_mode & 0o777) == "0o600"

    # No receipt code is in the backup, in any spelling (the archive as plain SQL).
    sql = subprocess.run([pg_tool("pg_restore"), "--file=-", str(dump)], capture_output=True, text=True,
                         check=True).stdout
    assert f"Backup {run} #0" in sql  # the text is there, so the search below is real
    for code in receipts:
        assert code not in sql and code.replace("-", "") not in sql

    # An empty database on the same server, and a publishing service of its own on it.
    db = f"restored_{run}"
    db_fetch(stack.dsn, f'CREATE DATABASE "{db}"')
    restored_dsn = stack.dsn.replace("/postgres?", f"/{db}?")
    done = _braided(stack, restored_dsn, "restore", str(dump))
    assert done.returncode == 0, done.stderr
    again = _braided(stack, restored_dsn, "restore", str(dump))
    assert again.returncode == 1 and "already has" in again.stderr  # never over existing data

    nats = EmbeddedNats(tmp_path / "nats")
    nats.start()
    port = free_port()
    env = stack.env | {"DATABASE_URL": restored_dsn, "NATS_URL": nats.url, "DATA_DIR": str(tmp_path / "data")} \
        | nats.credentials("publishing")
    proc = subprocess.Popen([sys.executable, "-m", "braided", "serve", "publishing", "--port", str(port)],
                            env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _healthy(url), 60, 0.2, "restored publishing healthy")
        restored = httpx.get(f"{url}/api/stories", timeout=10).json()
        assert restored == feed
        for item in feed["items"][:2]:
            assert httpx.get(f"{url}/api/stories/{item['id']}", timeout=10).json() == \
                httpx.get(stack.url("publishing", f"/api/stories/{item['id']}"), timeout=10).json()
    finally:
        proc.terminate()
        proc.wait(20)
        nats.stop()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
