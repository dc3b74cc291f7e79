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


def test_each_services_handler_table_is_what_its_identity_may_read() -> None:
    """The permission table's reads and the code's handler tables cannot drift: a
    handler with no permission would never get its events, a permission with no
    handler would let a service read what it does not consume."""
    from services.moderation import app as moderation_app
    from services.moderation.handlers import SCREENED
    from services.publishing.handlers import HANDLERS as PUBLISHING
    from services.submission import app as submission_app

    tables = {"submission": submission_app.CONSUMES, "moderation": moderation_app.CONSUMES,
              "moderation-worker": {SCREENED: None}, "publishing": PUBLISHING}
    assert {i.user: set(i.reads) for i in SERVICES} == {u: set(t) for u, t in tables.items()}


def test_each_durable_reads_one_subject_and_is_created_only_with_it_as_filter() -> None:
    from shared.events import EVENT_TYPES, STREAM

    names: set[str] = set()
    for ident in SERVICES:
        durables = ident.durables()
        assert sorted(durables.values()) == sorted({EVENT_TYPES[t].subject for t in ident.reads})
        assert not names & set(durables), "two identities share a durable"
        names |= set(durables)
        allowed = natsauth.allowed_publish(ident)
        creates = [s for s in allowed if ".CONSUMER." in s and "CREATE" in s]
        assert sorted(creates) == sorted(f"$JS.API.CONSUMER.CREATE.{STREAM}.{d}.{s}" for d, s in durables.items())
        assert not any(s.endswith(">") and "CONSUMER" in s for s in allowed)
        for d in durables:  # a valid NATS consumer name
            assert "." not in d and "*" not in d and ">" not in d and " " not in d
    assert natsauth.identity("moderation-worker").durables() == {"moderation-screen-submitted": "stories.submitted"}


def test_the_readmes_name_every_durable() -> None:
    for doc in (ROOT / "README.md", ROOT / "deploy" / "README.md"):
        text = doc.read_text()
        for ident in SERVICES:
            rows = [line for line in text.splitlines() if line.startswith(f"| `{ident.user}` |")]
            assert len(rows) == 1, (doc, ident.user)
            for d in ident.durables():
                assert f"`{d}`" in rows[0], (doc.name, ident.user, d)
