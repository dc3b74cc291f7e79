"""Moderation's commands: `braided worker`, `add-moderator`, `moderator`,
`wordlist` and `fetch-model`. Audit rows written here carry no moderator: the
command line acted."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from services.moderation import auth, wordlists
from shared.config import Settings
from shared.db import connect, migrate, migration_files, with_database

HERE = Path(__file__).parent


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    subparsers.add_parser("worker", help="run one screening worker (needs DATABASE_URL and NATS_URL)"
                          ).set_defaults(handler=cmd_worker)
    p = subparsers.add_parser("add-moderator", help="create a moderator; the password is read from stdin")
    p.add_argument("username")
    p.add_argument("--role", choices=auth.ROLES, default="moderator")
    p.set_defaults(handler=cmd_add_moderator)
    p = subparsers.add_parser("moderator", help="list moderators, or disable, enable or reset one "
                              "(ends their sessions)")
    p.add_argument("action", choices=("list", "disable", "enable", "reset-password"))
    p.add_argument("username", nargs="?")
    p.set_defaults(handler=cmd_moderator)
    p = subparsers.add_parser("wordlist", help="show or edit the screen's banned and suspect terms")
    p.add_argument("action", choices=("list", "add", "remove"))
    p.add_argument("term", nargs="?")
    p.add_argument("--kind", choices=wordlists.KINDS, default="suspect")
    p.set_defaults(handler=cmd_wordlist)
    subparsers.add_parser("fetch-model", help="download and cache the screen's model (DETOXIFY_MODEL) under "
                          "DATA_DIR").set_defaults(handler=cmd_fetch_model)


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    import uvloop

    from services.moderation import worker

    try:
        # The event loop the web services run on (uvicorn's loop="uvloop"): the worker's
        # share of a submission is mostly socket writes to PostgreSQL and NATS, which
        # cost a third of its CPU on asyncio's own loop (py-spy, make bench-http).
        uvloop.run(worker.main(settings))
    except KeyboardInterrupt:
        pass
    return 0


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password (12+ characters): ")
        if getpass.getpass("Again: ") != first:
            raise SystemExit("The passwords differ; nothing was changed.")
        return first
    return sys.stdin.readline().rstrip("\n")


def _on_moderation(settings: Settings, command) -> int:  # noqa: ANN001 - a coroutine function of a connection
    """Run `command(conn)` on a migrated moderation schema; an AccountError or
    TermError is one line on stderr and exit status 2."""
    async def go(db_url: str) -> int:
        await migrate(db_url, "moderation", migration_files(HERE))
        conn = await connect(db_url, "moderation")
        try:
            return await command(conn)
        except (auth.AccountError, wordlists.TermError) as e:
            print(f"braided: {e}", file=sys.stderr)
            return 2
        finally:
            await conn.close()

    return with_database(settings, go)


def cmd_add_moderator(args: argparse.Namespace, settings: Settings) -> int:
    password = _read_password()

    async def add(conn) -> int:  # noqa: ANN001
        await auth.add_moderator(conn, args.username, password, args.role)
        print(f"Added {args.role} {args.username!r}.")
        return 0

    return _on_moderation(settings, add)


def cmd_moderator(args: argparse.Namespace, settings: Settings) -> int:
    async def act(conn) -> int:  # noqa: ANN001
        if args.action == "list":
            for r in await auth.list_moderators(conn):
                print(f"{r['username']}\t{r['role']}\t{'disabled' if r['disabled'] else 'active'}")
            return 0
        if not args.username:
            print("braided: give the username", file=sys.stderr)
            return 2
        if args.action == "reset-password":
            await auth.reset_password(conn, args.username, _read_password())
            print(f"New password set for {args.username!r}; their sessions ended.")
        else:
            await auth.set_disabled(conn, args.username, args.action == "disable")
            print(f"{'Disabled' if args.action == 'disable' else 'Enabled'} {args.username!r}"
                  + ("; their sessions ended." if args.action == "disable" else "."))
        return 0

    return _on_moderation(settings, act)


def cmd_wordlist(args: argparse.Namespace, settings: Settings) -> int:
    async def act(conn) -> int:  # noqa: ANN001
        if args.action == "list":
            for r in await wordlists.terms(conn):
                print(f"{r['kind']}\t{r['term']}")
            return 0
        if not args.term:
            print("braided: give the term", flush=True)
            return 2
        if args.action == "add":
            await wordlists.add_term(conn, args.term, args.kind)
            print(f"Added {args.kind} term.")
        elif not await wordlists.remove_term(conn, args.term):
            print("No such term.")
            return 1
        else:
            print("Removed.")
        return 0

    return _on_moderation(settings, act)


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
