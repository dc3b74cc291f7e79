"""`braided run` gives each child process its own NATS identity from the password
folder, and the permission table is built from the event contract."""

from __future__ import annotations

import ast
from pathlib import Path

from braided.settings import Settings
from braided.supervisor import Supervisor
from shared import natsauth
from shared.natsauth import SERVICES


def test_each_child_gets_its_own_identity(tmp_path: Path) -> None:
    passwords = natsauth.ensure_passwords(tmp_path / "secrets")
    settings = Settings.from_env({"SCREEN_WORKERS": "2"})
    sup = Supervisor(settings, {"NATS_SECRETS_DIR": str(tmp_path / "secrets"), "PATH": "/bin"})
    users = {name: sup.child_env(name).get("NATS_USER") for name in sup.commands}
    assert users == {"submission": "submission", "moderation": "moderation", "publishing": "publishing",
                     "worker-0": "moderation-worker", "worker-1": "moderation-worker"}
    assert sup.child_env("worker-1")["NATS_PASSWORD"] == passwords["moderation-worker"]
    assert len(set(passwords.values())) == len(passwords)
    # Credentials given for everyone win; no folder, no identity.
    assert Supervisor(settings, {"NATS_SECRETS_DIR": str(tmp_path / "secrets"), "NATS_USER": "u",
                                 "NATS_PASSWORD": "p"}).child_env("submission")["NATS_USER"] == "u"
    assert "NATS_USER" not in Supervisor(settings, {}).child_env("submission")


def test_passwords_are_made_once_and_kept(tmp_path: Path) -> None:
    first = natsauth.ensure_passwords(tmp_path)
    assert natsauth.ensure_passwords(tmp_path) == first


def test_publish_permissions_follow_ownership() -> None:
    table = {i.user: natsauth.allowed_publish(i) for i in natsauth.SERVICES}
    owners = {}
    for user, subjects in table.items():
        for s in subjects:
            if s.startswith("stories."):
                owners.setdefault(s, set()).add(user)
    assert owners["stories.submitted"] == owners["stories.withdrawn"] == {"submission"}
    assert owners["stories.reported"] == {"publishing"}
    assert owners["stories.approved"] == {"moderation", "moderation-worker"}
    assert not any("STREAM.UPDATE" in s for subjects in table.values() for s in subjects)


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
