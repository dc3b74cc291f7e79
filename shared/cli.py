"""The `braided` command: run everything, serve one service, run a screening
worker, migrate, manage moderators and word lists."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shared import logs
from shared.config import ConfigError, Settings

log = logging.getLogger("braided.cli")

SERVICES = ("submission", "moderation", "publishing")
SERVICE_DIRS = {name: Path(__file__).resolve().parent.parent / "services" / name for name in SERVICES}


def _port(settings: Settings, service: str) -> int:
    return getattr(settings, f"{service}_port")


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
    from shared.db import migrate, migration_files

    for name in SERVICES:
        await migrate(db_url, name, migration_files(SERVICE_DIRS[name]))


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
    """Starts each service and the screening workers as child processes, restarts
    a child that dies, and stops them all (then the embedded servers) on SIGINT or
    SIGTERM."""

    def __init__(self, settings: Settings, env: dict[str, str]) -> None:
        self.settings, self.env = settings, env
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.stopping = False

    def _cmd(self, name: str) -> list[str]:
        if name.startswith("worker"):
            return [sys.executable, "-m", "shared.cli", "worker"]
        return [sys.executable, "-m", "shared.cli", "serve", name]

    def start(self, name: str) -> None:
        self.children[name] = subprocess.Popen(self._cmd(name), env=self.env)

    def names(self) -> list[str]:
        return list(SERVICES) + [f"worker-{i}" for i in range(self.settings.screen_workers)]

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
        for name in self.names():
            self.start(name)
        s = self.settings
        for name in SERVICES:
            if not _wait_healthy(_port(s, name), s.host, self.children[name]):
                log.error("%s did not become healthy; stopping", name)
                self.shutdown()
                return 1
        print("\nBraided is running:", flush=True)
        for name in SERVICES:
            print(f"  {name:<11} http://{s.host}:{_port(s, name)}/", flush=True)
        print("\nCreate the first moderator (the password is read from standard input):\n"
              "  .venv/bin/braided add-moderator YOUR_NAME --role admin\n"
              "Stop with Ctrl-C.\n", flush=True)
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


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    with infrastructure(settings) as (db_url, nats_url):
        asyncio.run(_migrate_all(db_url))
        env = dict(os.environ, DATABASE_URL=db_url, NATS_URL=nats_url, SESSION_SECRET=settings.secret(),
                   DATA_DIR=str(settings.data_dir))
        code = Supervisor(settings, env).run()
    print("Braided stopped.", flush=True)
    return code


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import importlib

    import uvicorn

    module = importlib.import_module(f"services.{args.service}.app")
    app = module.create_app(settings)
    uvicorn.run(app, host=settings.host, port=args.port or _port(settings, args.service),
                access_log=False, log_config=None, proxy_headers=False, server_header=False,
                lifespan="on", timeout_graceful_shutdown=5)
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from services.moderation import worker

    try:
        asyncio.run(worker.main(settings))
    except KeyboardInterrupt:
        pass
    return 0


def _with_db(settings: Settings, coro_fn) -> int:  # noqa: ANN001 - a coroutine function of the URL
    if settings.database_url:
        return asyncio.run(coro_fn(settings.database_url))
    from shared.infra import EmbeddedPostgres

    pg = EmbeddedPostgres(settings.data_dir)  # attaches if `make run` has it running
    try:
        return asyncio.run(coro_fn(pg.start()))
    finally:
        pg.stop()


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password (12+ characters): ")
        if getpass.getpass("Again: ") != first:
            raise SystemExit("The passwords differ; nothing was changed.")
        return first
    return sys.stdin.readline().rstrip("\n")


def cmd_add_moderator(args: argparse.Namespace, settings: Settings) -> int:
    from services.moderation import auth
    from shared.db import migrate, migration_files

    password = _read_password()

    async def go(db_url: str) -> int:
        import asyncpg

        await migrate(db_url, "moderation", migration_files(SERVICE_DIRS["moderation"]))
        conn = await asyncpg.connect(db_url, server_settings={"search_path": "moderation"})
        try:
            from shared.db import init_connection

            await init_connection(conn)
            await auth.add_moderator(conn, args.username, password, args.role)
        except auth.AccountError as e:
            print(f"braided: {e}", file=sys.stderr)
            return 2
        finally:
            await conn.close()
        print(f"Added {args.role} {args.username!r}.")
        return 0

    return _with_db(settings, go)


def cmd_moderator(args: argparse.Namespace, settings: Settings) -> int:
    from services.moderation import auth
    from shared.db import migrate, migration_files

    async def go(db_url: str) -> int:
        await migrate(db_url, "moderation", migration_files(SERVICE_DIRS["moderation"]))
        return await auth.run_cli(db_url, args.action, args.username, _read_password)

    return _with_db(settings, go)


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    async def go(db_url: str) -> int:
        await _migrate_all(db_url)
        print("Migrations applied.")
        return 0

    return _with_db(settings, go)


def cmd_wordlist(args: argparse.Namespace, settings: Settings) -> int:
    from services.moderation.wordlists import run_cli

    return _with_db(settings, lambda db_url: run_cli(db_url, args))


def cmd_fetch_model(args: argparse.Namespace, settings: Settings) -> int:
    """Download the screen's model into DATA_DIR ahead of time (air-gapped installs
    copy DATA_DIR/models and DATA_DIR/hf afterwards)."""
    from services.moderation.screen import ModelLoadError, fetch_model

    try:
        print(fetch_model(settings), flush=True)
    except ModelLoadError as e:
        print(f"braided: {e}", file=sys.stderr, flush=True)
        return 1
    return 0


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
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

    async def run(db_url: str) -> int:  # _with_db runs a coroutine function; pg_dump is a process
        return await asyncio.to_thread(go, db_url)

    return _with_db(settings, run)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="braided", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start everything (embedded PostgreSQL/NATS unless configured)")
    p = sub.add_parser("serve", help="serve one service (needs DATABASE_URL and NATS_URL)")
    p.add_argument("service", choices=SERVICES)
    p.add_argument("--port", type=int)
    sub.add_parser("worker", help="run one screening worker (needs DATABASE_URL and NATS_URL)")
    sub.add_parser("migrate", help="apply database migrations for every service")
    p = sub.add_parser("add-moderator", help="create a moderator; the password is read from stdin")
    p.add_argument("username")
    p.add_argument("--role", choices=("moderator", "admin"), default="moderator")
    p = sub.add_parser("moderator", help="list moderators, or disable, enable or reset one (ends their sessions)")
    p.add_argument("action", choices=("list", "disable", "enable", "reset-password"))
    p.add_argument("username", nargs="?")
    p = sub.add_parser("wordlist", help="show or edit the screen's banned and suspect terms")
    p.add_argument("action", choices=("list", "add", "remove"))
    p.add_argument("term", nargs="?")
    p.add_argument("--kind", choices=("banned", "suspect"), default="suspect")
    sub.add_parser("fetch-model", help="download and cache the screen's model (DETOXIFY_MODEL) under DATA_DIR")
    sub.add_parser("backup", help="pg_dump the three schemas to FILE (custom format)").add_argument("file")
    sub.add_parser("restore", help="pg_restore FILE into an empty database").add_argument("file")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as e:
        print(f"braided: {e}", file=sys.stderr)
        return 2
    service = args.service if args.command == "serve" else args.command
    logs.setup(service if service in SERVICES else f"braided-{service}", settings.log_level)
    handlers = {"run": cmd_run, "serve": cmd_serve, "worker": cmd_worker, "migrate": cmd_migrate,
                "add-moderator": cmd_add_moderator, "moderator": cmd_moderator, "wordlist": cmd_wordlist,
                "fetch-model": cmd_fetch_model, "backup": cmd_backup, "restore": cmd_backup}
    return handlers[args.command](args, settings)


if __name__ == "__main__":
    sys.exit(main())
