"""`braided serve`: uvicorn with uvloop and httptools, no access log, and
WEB_CONCURRENCY worker processes sharing the port."""

from __future__ import annotations

from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette

from braided import cli
from braided.settings import Settings

BASE = {"DATABASE_URL": "postgresql://x@/db", "NATS_URL": "nats://127.0.0.1:4222", "SESSION_SECRET": "s"}


def _serve(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append((a, kw)))
    args = cli.parser().parse_args(["serve", "publishing", "--port", "24001"])
    assert cli.cmd_serve(args, Settings.from_env(BASE | env)) == 0
    assert len(calls) == 1
    return calls[0]


def test_one_process_by_default_on_uvloop_and_httptools(monkeypatch: pytest.MonkeyPatch) -> None:
    (app,), options = _serve(monkeypatch, {})
    assert isinstance(app, Starlette)
    assert options["loop"] == "uvloop" and options["http"] == "httptools"
    assert options["access_log"] is False and options["port"] == 24001 and "workers" not in options
    import httptools  # noqa: F401 - pinned in pyproject.toml: both must be installed
    import uvloop  # noqa: F401


def test_web_concurrency_starts_that_many_workers_from_a_factory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRAIDED_SERVE", "unset-again-after-the-test")  # cmd_serve sets it in os.environ
    monkeypatch.setattr(cli.logs, "setup", lambda *a: None)  # leave the suite's logging alone
    (target,), options = _serve(monkeypatch, {"WEB_CONCURRENCY": "2"})
    assert target == "braided.cli:serve_app" and options["factory"] is True and options["workers"] == 2
    assert options["loop"] == "uvloop" and options["access_log"] is False
    # What each worker process does with it: build the named service's app from the environment.
    for key, value in BASE.items():
        monkeypatch.setenv(key, value)
    assert isinstance(cli.serve_app(), Starlette)


def test_web_concurrency_must_be_a_whole_number() -> None:
    from shared.config import ConfigError

    with pytest.raises(ConfigError, match="WEB_CONCURRENCY"):
        Settings.from_env(BASE | {"WEB_CONCURRENCY": "two"})
    assert Settings.from_env(BASE | {"WEB_CONCURRENCY": "0"}).web_concurrency == 1
