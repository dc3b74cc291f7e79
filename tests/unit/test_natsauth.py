"""The permission table against the code: every rate-limit scope a service opens
must be a bucket its NATS identity may use, or the limiter hangs on a refused
request (it did: the login throttle's and the receipt throttle's buckets were
missing, and every login timed out)."""

from __future__ import annotations

import ast
from pathlib import Path

from shared.natsauth import SERVICES

ROOT = Path(__file__).resolve().parents[2]


def scopes_opened(service: str) -> set[str]:
    """The scope strings passed to RateLimiter-like constructors in a service's code."""
    found = set()
    for path in (ROOT / "services" / service).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.endswith("Limiter")
                    and len(node.args) > 1 and isinstance(node.args[1], ast.Constant)):
                found.add(node.args[1].value)
    return found


def test_every_rate_limit_scope_is_in_its_identitys_buckets() -> None:
    table = {ident.user: set(ident.buckets) for ident in SERVICES}
    for service in ("submission", "moderation", "publishing"):
        opened = scopes_opened(service)
        assert opened, f"{service}: no limiter found; the scan is broken"
        assert opened <= table[service], (service, opened - table[service])


def test_the_readmes_permission_table_names_every_subject_an_identity_publishes() -> None:
    from shared.events import EVENT_TYPES

    rows = {line.split("|")[1].strip(" `"): line for line in (ROOT / "README.md").read_text().splitlines()
            if line.startswith("| `")}
    for ident in SERVICES:
        if ident.user == "moderation-worker":
            continue  # its row says "moderation's subjects"
        for event in ident.publishes:
            assert f"`{EVENT_TYPES[event].subject}`" in rows[ident.user], (ident.user, event)
