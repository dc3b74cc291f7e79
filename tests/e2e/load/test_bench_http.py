"""`make bench-http --quick`: the harness starts Braided and the bare app, seeds, loads
every path and prints every ratio (the figures of a one-second run mean nothing)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PATHS = ["feed", "story page", "tag page", "search", "/api/stories", "/feed.atom", "POST /api/stories"]

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("generator", ["wrk", "python"])
def test_bench_http_quick_prints_every_ratio(generator: str) -> None:
    args = [sys.executable, str(REPO / "bench" / "http.py"), "--quick", "--connections", "4", "--sizes", "40,80"]
    if generator == "python":
        args.append("--python-load")
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    table = out[out.index("## Braided vs"):out.index("## Braided's public pages")]
    for name in PATHS:
        row = next((line for line in table.splitlines() if line.startswith(name + " ")), None)
        assert row is not None, f"no row for {name}:\n{table}"
        ratios = [float(r) for r in re.findall(r"(\d+\.\d\d)x", row)]
        if name.startswith("POST"):
            assert len(ratios) == 1, row  # Braided (submission has no page cache)
        else:
            assert len(ratios) == 2 and all(r > 0 for r in ratios), row  # Braided, then cache off
    scale = out[out.index("## Braided's public pages"):]
    assert re.search(r"^\s+40\s", scale, re.M) and re.search(r"^\s+80\s", scale, re.M), scale
    assert len(re.findall(r"\d+\.\d\dx off\s+\d+\.\d\dx", scale)) == 2 * 6, scale
