"""The deploy validation tools live in .venv-tools (`make tools`); kubectl (with its
kustomize) on PATH or from that venv. A missing tool skips its checks, and the
report header says which and why."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS_BIN = REPO / ".venv-tools" / "bin"
TOOL_NAMES = ("checkov", "kubernetes-validate", "hadolint", "check-jsonschema")


def tool(name: str) -> Path | None:
    path = TOOLS_BIN / name
    if path.exists():
        return path
    found = shutil.which(name) if name == "kubectl" else None
    return Path(found) if found else None


def need(name: str) -> Path:
    path = tool(name)
    if path is None:
        pytest.skip(f"{name} is not installed (make tools could not install it into .venv-tools); "
                    "this deploy check did not run")
    return path


def pytest_report_header(config: pytest.Config) -> list[str]:
    missing = [n for n in (*TOOL_NAMES, "kubectl") if tool(n) is None]
    if not missing:
        return ["deploy checks: checkov, kubernetes-validate, hadolint, check-jsonschema, kubectl all present"]
    return [f"deploy checks: SKIPPED for lack of {', '.join(missing)} (run `make tools`; see its message)"]
