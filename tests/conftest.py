"""Fixtures: embedded PostgreSQL and NATS started by the tests, a tiny trained
screen model, and one shared Braided stack pointed at them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.infra import EmbeddedNats, EmbeddedPostgres
from tests.stack import Stack

# Fails the run when a process the suite started outlives it (PostgreSQL, NATS, …).
pytest_plugins = ["tests.leakcheck"]

# Every process the tests start serves metrics on a free port of its own unless a test
# names one (tests.stack.Stack does): the defaults 9101-9103 would collide between
# replicas and with other stacks on this machine.
for _name in ("SUBMISSION_METRICS_PORT", "MODERATION_METRICS_PORT", "PUBLISHING_METRICS_PORT"):
    os.environ.setdefault(_name, "0")

MARKER = "zorblat"  # the made-up word the tiny test model is trained to flag


@pytest.fixture(scope="session")
def marker_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from services.moderation.checkpoints import train_marker_model

    return train_marker_model(tmp_path_factory.mktemp("model"), MARKER)


@pytest.fixture(scope="session")
def pg_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pg = EmbeddedPostgres(tmp_path_factory.mktemp("pg"))
    yield pg.start()
    pg.stop()


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNats]:
    server = EmbeddedNats(tmp_path_factory.mktemp("nats"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, pg_dsn: str, nats_server: EmbeddedNats,
          marker_model: tuple[Path, Path]) -> Iterator[Stack]:
    """Braided on the test's own PostgreSQL and NATS (the DATABASE_URL/NATS_URL path)."""
    ckpt, hf = marker_model
    s = Stack(tmp_path_factory.mktemp("stack"), {
        "DATABASE_URL": pg_dsn, "NATS_URL": nats_server.url, "NATS_SECRETS_DIR": str(nats_server.secrets_dir),
        "DETOXIFY_CHECKPOINT": str(ckpt), "DETOXIFY_HF_CONFIG": str(hf),
    }).start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def admin(stack: Stack):
    name, password = f"admin-{uuid.uuid4().hex[:8]}", "correct horse battery staple"
    result = stack.add_moderator(name, password, "admin")
    assert result.returncode == 0, result.stderr
    client = stack.moderator(name, password)
    yield client
    client.close()


def pytest_report_header(config: pytest.Config) -> list[str]:
    chromium = "/usr/bin/chromium"
    if os.path.exists(chromium):
        return [f"browser tests: chromium at {chromium}"]
    return [f"browser tests: SKIPPED, no {chromium} (apt-get install chromium)"]
