"""`braided backup FILE` / `braided restore FILE`: the three service schemas
(submission, moderation, publishing) as one pg_dump archive in custom format.

One pg_dump is one snapshot, so the three schemas in a backup agree with each other:
no story is half-way between two services. What is (and is not) in it: README,
"Backups". The archive is written beside FILE and renamed into place, mode 0600.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

import asyncpg

from braided.services import SERVICES

SCHEMAS = tuple(s.NAME for s in SERVICES)


class BackupError(RuntimeError):
    """A backup or restore could not be done; the message says why."""


def pg_tool(name: str) -> str:
    """pg_dump / pg_restore: pgserver's (PostgreSQL 16, the embedded server's own,
    and new enough for any server up to 16), else the one on PATH."""
    try:
        import pgserver

        bundled = Path(pgserver.__file__).parent / "pginstall" / "bin" / name
        if bundled.exists():
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: install the PostgreSQL client tools")
    return found


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        # pg_dump names the server version it cannot handle, a refused connection, ...
        raise BackupError(f"{Path(argv[0]).name} failed: {done.stderr.strip()[-600:]}")


def backup(dsn: str, path: Path) -> Path:
    """Dump the three schemas to `path` (custom format, compressed)."""
    path = path.absolute()
    tmp = path.with_name(path.name + ".partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    try:
        _run([pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              *(f"--schema={s}" for s in SCHEMAS), f"--file={tmp}", f"--dbname={dsn}"])
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


async def _existing(dsn: str) -> list[str]:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        rows = await conn.fetch("SELECT DISTINCT table_schema FROM information_schema.tables"
                                " WHERE table_schema = ANY($1) ORDER BY 1", list(SCHEMAS))
        return [r["table_schema"] for r in rows]
    finally:
        await conn.close()


def restore(dsn: str, path: Path) -> None:
    """Restore a backup into a database that has none of the three schemas yet, in
    one transaction: it lands whole or not at all."""
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    existing = asyncio.run(_existing(dsn))
    if existing:
        raise BackupError(f"the database already has {', '.join(existing)}: restore goes into an empty "
                          "database (RUNBOOK.md, 'Restoring PostgreSQL')")
    _run([pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
          f"--dbname={dsn}", str(path)])
