"""One stack for the fault suite, on PostgreSQL and NATS this package owns (so it
can kill and restart them), torn down when the package is done."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.hardening import ScratchStack


@pytest.fixture(scope="package")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScratchStack]:
    s = ScratchStack(tmp_path_factory.mktemp("faults"), {
        # The retention test in this package needs rejected stories purged at once.
        "RETENTION_DAYS": "0", "RETENTION_SWEEP_SECONDS": "1",
    })
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="package")
def scratch_mod(scratch: ScratchStack) -> Iterator[httpx.Client]:
    assert scratch.stack is not None
    name, password = f"faults-{uuid.uuid4().hex[:6]}", "a long enough fault passphrase"
    result = scratch.stack.add_moderator(name, password, "admin")
    assert result.returncode == 0, result.stderr
    client = scratch.stack.moderator(name, password)
    yield client
    client.close()
