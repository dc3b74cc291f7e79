"""The `braided` command: run everything, serve one service, migrate; each service
adds its own commands (moderation: worker, add-moderator, moderator, wordlist,
fetch-model)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from braided.services import BY_NAME, SERVICES
from braided.settings import Settings
from braided.supervisor import Supervisor, port
from shared import logs
from shared.config import ConfigError
from shared.db import migrate, migration_files, with_database

log = logging.getLogger("braided.cli")


@contextmanager
def infrastructure(settings: Settings) -> Iterator[tuple[str, str]]:
    """DATABASE_URL and NATS_URL: configured ones, or embedded servers started here
    and stopped when the block ends."""
    from shared.infra import EmbeddedNats, EmbeddedPostgres

    pg = nats = None
    try:
        db_url = settings.database_url
        if not db_url:
            pg = EmbeddedPostgres(settings.data_dir)
            db_url = pg.start()
            log.info("embedded postgresql ready", extra={"pgdata": str(pg.pgdata)})
        nats_url = settings.nats_url
        if not nats_url:
            nats = EmbeddedNats(settings.data_dir)
            nats_url = nats.start()
            log.info("embedded nats ready", extra={"url": nats_url})
        yield db_url, nats_url
    finally:
        if nats is not None:
            nats.stop()
        if pg is not None:
            pg.stop()


async def _migrate_all(db_url: str) -> None:
    for s in SERVICES:
        await migrate(db_url, s.NAME, migration_files(s.DIR))


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    with infrastructure(settings) as (db_url, nats_url):
        asyncio.run(_migrate_all(db_url))
        env = dict(os.environ, DATABASE_URL=db_url, NATS_URL=nats_url, SESSION_SECRET=settings.secret(),
                   DATA_DIR=str(settings.data_dir))
        if not settings.nats_url:  # the embedded server: each child gets its own identity from its secrets
            env["NATS_SECRETS_DIR"] = str(settings.data_dir / "nats-secrets")
        code = Supervisor(settings, env).run()
    print("Braided stopped.", flush=True)
    return code


def _uvicorn_options(settings: Settings, service: str, port_: int | None) -> dict[str, object]:
    # uvloop and httptools (pinned in pyproject.toml), named so a missing one fails loudly
    # instead of uvicorn quietly falling back to asyncio and h11.
    return dict(host=settings.host, port=port_ or port(settings, service), loop="uvloop", http="httptools",
                access_log=False, log_config=None, proxy_headers=False, server_header=False,
                lifespan="on", timeout_graceful_shutdown=5)


def serve_app():  # noqa: ANN201 - a Starlette app, built in each worker process uvicorn starts
    """The app of the service named in BRAIDED_SERVE (WEB_CONCURRENCY > 1: uvicorn's
    workers import this factory, each building its own app, pool and consumers)."""
    service = os.environ["BRAIDED_SERVE"]
    settings = Settings.from_env()
    logs.setup(service, settings.log_level)
    return BY_NAME[service].create_app(settings)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    options = _uvicorn_options(settings, args.service, args.port)
    if settings.web_concurrency > 1:
        # One listening socket, WEB_CONCURRENCY processes accepting on it.
        os.environ["BRAIDED_SERVE"] = args.service
        uvicorn.run("braided.cli:serve_app", factory=True, workers=settings.web_concurrency, **options)
    else:
        uvicorn.run(BY_NAME[args.service].create_app(settings), **options)
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    async def go(db_url: str) -> int:
        await _migrate_all(db_url)
        print("Migrations applied.")
        return 0

    return with_database(settings, go)


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    """`braided backup FILE` / `braided restore FILE` (braided/backup.py)."""
    from braided import backup

    def go(db_url: str) -> int:
        try:
            if args.command == "backup":
                print(f"Backed up {', '.join(backup.SCHEMAS)} to {backup.backup(db_url, Path(args.file))}")
            else:
                backup.restore(db_url, Path(args.file))
                print(f"Restored {args.file}.")
        except backup.BackupError as e:
            print(f"braided: {e}", file=sys.stderr)
            return 1
        return 0

    async def run(db_url: str) -> int:  # with_database runs a coroutine function; pg_dump is a process
        return await asyncio.to_thread(go, db_url)

    return with_database(settings, run)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="braided", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start everything (embedded PostgreSQL/NATS unless configured)"
                   ).set_defaults(handler=cmd_run)
    p = sub.add_parser("serve", help="serve one service (needs DATABASE_URL and NATS_URL)")
    p.add_argument("service", choices=list(BY_NAME))
    p.add_argument("--port", type=int)
    p.set_defaults(handler=cmd_serve)
    sub.add_parser("migrate", help="apply database migrations for every service").set_defaults(handler=cmd_migrate)
    p = sub.add_parser("backup", help="pg_dump the three schemas to FILE (custom format)")
    p.add_argument("file")
    p.set_defaults(handler=cmd_backup)
    p = sub.add_parser("restore", help="pg_restore FILE into an empty database")
    p.add_argument("file")
    p.set_defaults(handler=cmd_backup)
    for s in SERVICES:
        s.register_cli(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as e:
        print(f"braided: {e}", file=sys.stderr)
        return 2
    process = args.service if args.command == "serve" else f"braided-{args.command}"
    logs.setup(process, settings.log_level)
    return args.handler(args, settings)
