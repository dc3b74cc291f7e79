"""deploy/compose.yaml against the Compose Specification's JSON schema (vendored in
tests/deploy/compose-spec/ with its source and licence), and against what Braided and NATS really accept: every
command is a real `braided` command, the NATS config with generated secrets passes
`nats-server -t`, every secret the file names is one deploy/make-secrets.sh writes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import yaml

from shared.config import nats_servers
from shared.infra import nats_server_binary
from tests.deploy.conftest import REPO, need
from tests.deploy.test_image import cli_accepts

COMPOSE = REPO / "deploy" / "compose.yaml"
# Vendored with its source and licence (compose-spec/SOURCE.md).
SCHEMA = Path(__file__).parent / "compose-spec" / "compose-spec.json"
AUTH_CONF = REPO / "deploy" / "nats" / "auth.conf"
BRAIDED = ("migrate", "submission", "moderation", "publishing", "worker")


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _schema_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(need("check-jsonschema")), "--schemafile", str(SCHEMA), str(path)],
                          capture_output=True, text=True, timeout=120)


def test_compose_file_matches_the_compose_specification(tmp_path: Path) -> None:
    ok = _schema_check(COMPOSE)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # ...and the check can fail: a misspelt key is refused.
    bad = tmp_path / "compose.yaml"
    bad.write_text(COMPOSE.read_text().replace("    restart: unless-stopped\n", "    restarts: unless-stopped\n", 1))
    assert _schema_check(bad).returncode != 0


def test_the_shape_the_issue_asks_for() -> None:
    services = compose()["services"]
    assert {"postgres", "nats-1", "nats-2", "nats-3", "caddy", *BRAIDED} <= set(services)
    replicas = {name: services[name]["deploy"]["replicas"] for name in ("submission", "publishing", "moderation",
                                                                         "worker")}
    assert replicas == {"submission": 2, "publishing": 2, "moderation": 1, "worker": 2}
    env = compose()["x-braided-env"]
    assert env["STREAM_REPLICAS"] == "3"
    assert nats_servers(env["NATS_URL"]) == [f"nats://nats-{i}:4222" for i in (1, 2, 3)]


def test_every_braided_command_exists_in_the_image_cli() -> None:
    services = compose()["services"]
    for name in BRAIDED:
        command = services[name]["command"]
        assert command[0] == "braided", (name, command)
        assert cli_accepts(command[1:]), (name, command)


def test_each_service_connects_as_its_own_nats_identity() -> None:
    services = compose()["services"]
    auth = AUTH_CONF.read_text()
    for name in ("submission", "moderation", "publishing", "worker"):
        user = services[name]["environment"]["NATS_USER"]
        assert re.search(rf"{{ user: {re.escape(user)}, password: \$", auth), user
        mounted = {s["target"]: s["source"] for s in services[name]["secrets"] if isinstance(s, dict)}
        assert mounted["NATS_PASSWORD"] == user.upper().replace("-", "_") + "_NATS_PASSWORD"
    # Least privilege: a worker gets no SESSION_SECRET, the migration no NATS password.
    assert "SESSION_SECRET" not in services["worker"]["secrets"]
    assert services["migrate"]["secrets"] == ["DATABASE_URL"]


def test_braided_containers_are_hardened() -> None:
    services = compose()["services"]
    for name in BRAIDED:
        s = services[name]
        assert s["read_only"] is True and s["user"] == "10001:10001" and s["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in s["security_opt"], name


def test_secrets_are_generated_and_the_nats_config_is_valid(tmp_path: Path) -> None:
    """make-secrets.sh writes every secret compose.yaml reads; nats-server accepts the
    node config with them in its environment (as the entrypoint sets them)."""
    secrets = tmp_path / "secrets"
    out = subprocess.run(["sh", str(REPO / "deploy" / "make-secrets.sh"), str(secrets)], capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    declared = {Path(s["file"]).name for s in compose()["secrets"].values()}
    assert declared == {p.name for p in secrets.iterdir()}
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in secrets.iterdir())
    url = (secrets / "DATABASE_URL").read_text()
    assert url == f"postgresql://braided:{(secrets / 'postgres_password').read_text()}@postgres:5432/braided"
    # Running it again rotates nothing.
    before = {p.name: p.read_text() for p in secrets.iterdir()}
    subprocess.run(["sh", str(REPO / "deploy" / "make-secrets.sh"), str(secrets)], check=True, capture_output=True)
    assert before == {p.name: p.read_text() for p in secrets.iterdir()}

    conf = tmp_path / "nats"
    shutil.copytree(REPO / "deploy" / "nats", conf)
    env = {"PATH": os.environ["PATH"]} | {p.name: p.read_text() for p in secrets.iterdir() if p.name.isupper()}
    check = subprocess.run([str(nats_server_binary()), "-t", "-c", str(conf / "nats.conf")], env=env,
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    # Without the passwords the config is refused: the check can fail.
    env.pop("SUBMISSION_NATS_PASSWORD")
    assert subprocess.run([str(nats_server_binary()), "-t", "-c", str(conf / "nats.conf")], env=env,
                          capture_output=True, timeout=30).returncode != 0


def test_caddy_keeps_no_access_log_and_fences_moderation() -> None:
    caddy = (REPO / "deploy" / "Caddyfile").read_text()
    directives = [line.strip().split()[0] for line in caddy.splitlines() if line.strip() and
                  not line.strip().startswith("#")]
    assert "log" not in directives
    moderation = caddy[caddy.index("moderate.{$BRAIDED_DOMAIN"):]
    assert "not remote_ip" in moderation and "respond @outsiders 403" in moderation
    assert "dynamic a submission 8001" in caddy and "dynamic a publishing 8003" in caddy
