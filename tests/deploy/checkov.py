"""Run checkov (from .venv-tools) on one file and summarise: passed count, failed
checks, skipped checks with the reason written beside each skip."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.deploy.conftest import need


def run_checkov(path: Path, framework: str) -> dict[str, Any]:
    # --skip-download: no network here; checkov otherwise asks its vendor for guidelines.
    out = subprocess.run([str(need("checkov")), "-f", str(path), "--framework", framework, "--compact",
                          "--skip-download", "-o", "json"], capture_output=True, text=True, timeout=300)
    assert out.stdout.strip(), out.stderr[-2000:]
    report = json.loads(out.stdout)
    results = report.get("results", {}) if isinstance(report, dict) else {}
    summary = {
        "passed": len(results.get("passed_checks", [])),
        "failed": [(c["check_id"], c["resource"]) for c in results.get("failed_checks", [])],
        "skipped": [(c["check_id"], c["resource"], (c.get("check_result") or {}).get("suppress_comment") or "")
                    for c in results.get("skipped_checks", [])],
    }
    print(f"\n[deploy] checkov {framework} {path.name}: passed {summary['passed']}, failed {len(summary['failed'])}, "
          f"skipped {len(summary['skipped'])}: {sorted({(i, r) for i, _, r in summary['skipped']})}")
    return summary
