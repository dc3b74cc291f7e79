"""PostgreSQL helpers: one pool per service pinned to its own schema, and migrations."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg

from shared.config import Settings
from shared.fairpool import create_fair_pool

log = logging.getLogger("braided.db")

COMMON_SQL = Path(__file__).parent / "sql"

# Failures that mean "PostgreSQL is not answering right now" (as opposed to a bug or
# a poison message): a refused or dropped connection, "the database system is
# shutting down / starting up" (OperatorInterventionError: AdminShutdown,
# CrashShutdown, CannotConnectNow), too many connections, a pool timeout, and
# asyncpg's InternalClientError ("cannot switch to state …"), which a connection cut
# mid-query by a shutdown raises on its next use.
DB_DOWN: tuple[type[Exception], ...] = (
    TimeoutError, OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError, asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.InternalClientError,
)


async def init_connection(conn: asyncpg.Connection) -> None:
    # JSON columns come back as Python objects, not strings.
    for typ in ("json", "jsonb"):
        await conn.set_type_codec(typ, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def keep_session(conn: asyncpg.Connection) -> None:
    """The pool's reset on release: nothing to send.

    asyncpg's default sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL` on every release, a round trip and a statement per request (8% of the
    submission process's CPU under load, py-spy). Braided's pooled connections keep
    no session state to undo: no session SET (only SET LOCAL), LISTEN, advisory lock
    or held cursor; migrations and the page cache's listener use connections of their
    own (tests/unit/test_architecture.py holds the code to that). asyncpg still rolls
    back a transaction left open and drops the Python-side listeners before this."""


async def create_pool(dsn: str, schema: str, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """A pool whose search_path is the service's own schema, so its SQL cannot
    reach another service's tables by accident."""
    # Connections in the order they were asked for (shared/fairpool.py).
    return await create_fair_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        server_settings={"search_path": schema, "application_name": f"braided-{schema}"},
        init=init_connection,
        reset=keep_session,
        # A PostgreSQL outage should fail requests quickly (503), not hang them.
        timeout=5,
        command_timeout=30,
    )


def migration_files(service_dir: Path) -> list[Path]:
    """The shared messaging tables (000_*) first, then the service's own, by name."""
    files = sorted(COMMON_SQL.glob("*.sql")) + sorted((service_dir / "migrations").glob("*.sql"))
    names = [f.name for f in files]
    if len(set(names)) != len(names):
        raise RuntimeError(f"duplicate migration names in {service_dir}")
    return files


async def migrate(dsn: str, schema: str, files: list[Path]) -> list[str]:
    """Apply unapplied migrations in order, under an advisory lock so that replicas
    starting together do not race. Returns the names applied."""
    conn = await asyncpg.connect(dsn, timeout=10)
    applied: list[str] = []
    try:
        await conn.execute("SELECT pg_advisory_lock(hashtext($1))", f"braided-migrate:{schema}")
        try:
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            await conn.execute(f'SET search_path TO "{schema}"')
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
            for f in files:
                if f.name in done:
                    continue
                async with conn.transaction():
                    await conn.execute(f.read_text())
                    await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", f.name)
                applied.append(f.name)
                log.info("migrated", extra={"schema": schema, "migration": f.name})
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", f"braided-migrate:{schema}")
    finally:
        await conn.close()
    return applied


def with_database(settings: Settings, command: Callable[[str], Awaitable[int]]) -> int:
    """Run a one-off command against DATABASE_URL, or against the embedded server
    under DATA_DIR (attaching to it if `braided run` has it running)."""
    if settings.database_url:
        return asyncio.run(command(settings.database_url))
    from shared.infra import EmbeddedPostgres

    pg = EmbeddedPostgres(settings.data_dir)
    try:
        return asyncio.run(command(pg.start()))
    finally:
        pg.stop()


async def connect(dsn: str, schema: str) -> asyncpg.Connection:
    """One connection pinned to `schema`, JSON decoded (for one-off commands)."""
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    await init_connection(conn)
    return conn
