"""Migrations and the embedded PostgreSQL, on a real server."""

import asyncio
import json
import subprocess
import sys
import uuid
from pathlib import Path

import psutil

from shared.db import migrate
from shared.infra import EmbeddedPostgres
from tests.stack import db_fetch, wait_until


def test_concurrent_migrations_apply_once(pg_dsn: str, tmp_path: Path) -> None:
    schema = f"t_{uuid.uuid4().hex[:8]}"
    (tmp_path / "001_a.sql").write_text("CREATE TABLE a (id int PRIMARY KEY);")
    (tmp_path / "002_b.sql").write_text("INSERT INTO a VALUES (1);")
    files = sorted(tmp_path.glob("*.sql"))

    async def both():
        return await asyncio.gather(*(migrate(pg_dsn, schema, files) for _ in range(4)))

    results = asyncio.run(both())
    assert sorted(len(r) for r in results) == [0, 0, 0, 2]  # one runner applied both, the rest waited
    assert db_fetch(pg_dsn, f"SELECT count(*) AS n FROM {schema}.a")[0]["n"] == 1


def test_a_dead_handle_does_not_keep_embedded_postgres_alive(tmp_path: Path) -> None:
    """A SIGKILLed process leaves its pid in .handle_pids.json; the next start must
    forget it, or the server is never stopped."""
    pg = EmbeddedPostgres(tmp_path)
    pg.start()
    pid_file = tmp_path / "pg" / ".handle_pids.json"
    dead = 999_999
    assert not psutil.pid_exists(dead)
    pid_file.write_text(json.dumps(json.loads(pid_file.read_text()) + [dead]))
    pg._server.cleanup()  # pgserver's own clean-up, as a process that exits does it
    pg._server = None
    assert (tmp_path / "pg" / "postmaster.pid").exists()  # leaked, as pgserver alone would leave it
    # The next start is a new process, as after a crash.
    subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; from shared.infra import "
                    "EmbeddedPostgres as E; e = E(Path(sys.argv[1])); e.start(); e.stop()", str(tmp_path)],
                   check=True, timeout=60)
    assert not (tmp_path / "pg" / "postmaster.pid").exists()


def test_a_restarted_postgres_is_stopped_too(tmp_path: Path) -> None:
    """pgserver stops only the postmaster it saw at start; after `pg_ctl restart`
    (the fault suite does it) that process is gone and the new one was left running."""
    pg = EmbeddedPostgres(tmp_path)
    pg.start()
    import pgserver  # after EmbeddedPostgres has set XDG_RUNTIME_DIR, which pgserver reads on import

    before = int((tmp_path / "pg" / "postmaster.pid").read_text().splitlines()[0])
    pgserver.pg_ctl(["-w", "restart"], pgdata=pg.pgdata, user=getattr(pg._server, "system_user", None))
    after = int((tmp_path / "pg" / "postmaster.pid").read_text().splitlines()[0])
    assert after != before and psutil.pid_exists(after)
    # Until init reaps it, the old postmaster is a zombie that psutil calls running,
    # and pgserver then happens to stop the new one; in the fault suite it is long gone.
    wait_until(lambda: not psutil.pid_exists(before), 30, 0.1, "the first postmaster to be reaped")
    pg.stop()
    assert not (tmp_path / "pg" / "postmaster.pid").exists()
    wait_until(lambda: _gone(after), 10, 0.1, "the restarted postmaster to exit")


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE  # exited, not yet reaped by init
    except psutil.NoSuchProcess:
        return True
