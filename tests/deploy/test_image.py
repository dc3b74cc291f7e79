"""The image: hadolint and checkov on deploy/Dockerfile, and its entrypoint run for
real (secret files become settings, a baked model is found). No Docker daemon here,
so the image itself is never built in the tests."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.deploy.checkov import run_checkov
from tests.deploy.conftest import REPO, need

DOCKERFILE = REPO / "deploy" / "Dockerfile"
ENTRYPOINT = REPO / "deploy" / "docker-entrypoint.sh"


def test_hadolint_finds_nothing_above_info() -> None:
    out = subprocess.run([str(need("hadolint")), "--no-fail", "-f", "json", str(DOCKERFILE)],
                         capture_output=True, text=True, timeout=60)
    findings = json.loads(out.stdout or "[]")
    print(f"\n[deploy] hadolint: {len(findings)} finding(s): {[(f['code'], f['level']) for f in findings]}")
    assert [f for f in findings if f["level"] in ("error", "warning")] == []


def test_checkov_passes_the_dockerfile() -> None:
    summary = run_checkov(DOCKERFILE, "dockerfile")
    assert summary["failed"] == [], summary["failed"]
    assert summary["passed"] > 0


def test_the_image_runs_as_a_non_root_user_and_keeps_data_in_a_volume() -> None:
    text = DOCKERFILE.read_text()
    assert "USER 10001:10001" in text and 'VOLUME ["/data"]' in text and "DATA_DIR=/data" in text
    assert "--index-url https://download.pytorch.org/whl/cpu torch==2.13.0" in text


def _entrypoint(tmp_path: Path, env: dict[str, str], *cmd: str) -> dict[str, str]:
    out = subprocess.run(["sh", str(ENTRYPOINT), *cmd], capture_output=True, text=True, timeout=30,
                         env={"PATH": os.environ["PATH"], "BRAIDED_SECRETS_DIR": str(tmp_path / "secrets"),
                              "BRAIDED_MODEL_DIR": str(tmp_path / "model")} | env)
    assert out.returncode == 0, out.stderr
    return dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)


def test_entrypoint_turns_secret_files_into_settings(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "NATS_PASSWORD").write_text("s3cret")
    (secrets / "DATABASE_URL").write_text("postgresql://braided:pw@postgres:5432/braided")
    (secrets / "postgres_password").write_text("not a setting")  # lower case: left alone
    (secrets / "SESSION_SECRET").write_text("from-file")
    env = _entrypoint(tmp_path, {"SESSION_SECRET": "explicit"}, "env")
    assert env["NATS_PASSWORD"] == "s3cret"
    assert env["DATABASE_URL"].startswith("postgresql://braided:pw@")
    assert env["SESSION_SECRET"] == "explicit"  # the environment wins over a file
    assert "postgres_password" not in env
    assert "DETOXIFY_CHECKPOINT" not in env  # no model baked in


def test_entrypoint_points_the_screen_at_a_baked_model(tmp_path: Path) -> None:
    model = tmp_path / "model"
    (model / "hf-config").mkdir(parents=True)
    (model / "checkpoint.ckpt").write_bytes(b"x")
    (model / "MODEL").write_text("unbiased-small")
    env = _entrypoint(tmp_path, {}, "env")
    assert env["DETOXIFY_CHECKPOINT"] == str(model / "checkpoint.ckpt")
    assert env["DETOXIFY_HF_CONFIG"] == str(model / "hf-config")
    assert env["DETOXIFY_MODEL"] == "unbiased-small"
    # An operator's own checkpoint wins.
    assert _entrypoint(tmp_path, {"DETOXIFY_CHECKPOINT": "/models/mine.ckpt"}, "env")["DETOXIFY_CHECKPOINT"] \
        == "/models/mine.ckpt"


@pytest.mark.parametrize("argv", [["serve", "submission"], ["serve", "moderation"], ["serve", "publishing"],
                                  ["worker"], ["migrate"], ["backup", "x.dump"], ["restore", "x.dump"]])
def test_every_role_the_deployments_name_is_a_braided_command(argv: list[str]) -> None:
    assert cli_accepts(argv)


def test_an_unknown_role_is_refused() -> None:
    """The check above can fail."""
    assert not cli_accepts(["serve", "screening"]) and not cli_accepts(["scheduler"])


def cli_accepts(argv: list[str]) -> bool:
    """True when `braided ARGV` parses with the real CLI (its --help exits 0; an
    unknown command or service exits 2)."""
    from braided import cli

    try:
        cli.main([*argv, "--help"])
    except SystemExit as e:
        return e.code == 0
    return False
