"""The house rules, read from the code itself:

- shared/ imports no service, and does not even name one (no "services." or
  "services/" in its text: a string can load a module as well as an import);
- no module is over MAX_LINES lines;
- the project's modules import each other in no cycle (imports inside functions
  count: a late import hides a cycle, it does not remove it);
- every data file beside the code (migrations, templates, static files, configs)
  ships in the package (pyproject's package-data), so a non-editable install runs.
"""

from __future__ import annotations

import ast
import fnmatch
import re
import tomllib
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("braided", "shared", "services")
MAX_LINES = 400


@cache
def modules() -> dict[str, Path]:
    """Dotted module name → file, for every module of the project's packages."""
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imported(name: str, path: Path) -> set[str]:
    """The project modules `name` imports, anywhere in its code."""
    known = modules()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # `from a import b` imports the module a.b when there is one, else a name of a.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import a.b.c` also runs a/__init__; the module is the point
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def graph() -> dict[str, set[str]]:
    return {name: imported(name, path) for name, path in modules().items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_rules_read_the_whole_project() -> None:
    names = modules()
    assert {"braided.cli", "shared.bus", "services.moderation.app", "services.moderation.views.queue"} <= set(names)
    assert "shared.bus" in graph()["shared.outbox"]  # the import graph is really read


def test_shared_imports_no_service() -> None:
    offenders = {name: sorted(t for t in targets if t.startswith("services") or t.startswith("braided"))
                 for name, targets in graph().items() if name.startswith("shared")}
    assert {name: t for name, t in offenders.items() if t} == {}


def test_shared_does_not_name_a_service_even_in_a_string() -> None:
    offenders = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
                 for path in sorted((ROOT / "shared").rglob("*")) if path.is_file() and path.suffix != ".pyc"
                 for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
                 if re.search(r"\bservices[./]", line)]
    assert offenders == []


@pytest.mark.parametrize("name", sorted(modules()))
def test_no_module_is_over_the_limit(name: str) -> None:
    lines = len(modules()[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{modules()[name].relative_to(ROOT)} has {lines} lines; split it by concern"


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_cycles_are_found_when_there_are_some() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def _glob(relative: str, pattern: str) -> bool:
    """setuptools' glob: `*` never crosses a folder."""
    parts, wanted = relative.split("/"), pattern.split("/")
    return len(parts) == len(wanted) and all(fnmatch.fnmatch(a, b) for a, b in zip(parts, wanted, strict=True))


def test_every_data_file_ships_in_the_package() -> None:
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["*"]
    missing = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*")):
            if not path.is_file() or path.suffix in (".py", ".pyc", ".md"):
                continue
            # Relative to any package above it (pyproject finds namespace folders too).
            relative = [str(path.relative_to(parent)) for parent in path.parents if parent != ROOT
                        and ROOT in parent.parents]
            if not any(_glob(r, p) for r in relative for p in patterns):
                missing.append(str(path.relative_to(ROOT)))
    assert missing == []


# Statements whose effect outlives a transaction on the connection: shared/db.py's pool
# does not undo them on release (keep_session), so pooled code must not send them.
# (SQL is written in capitals here, which keeps prose such as "set DETOXIFY_MODEL" out.)
SESSION_STATE = re.compile(r"(?:^|;)\s*SET\s+(?!LOCAL\b)\w+\s*(?:=|TO\b)|\bLISTEN\s+\w|pg_advisory_lock|"
                           r"\bDECLARE\b[^;]*\bWITH HOLD\b|set_config\([^)]*,\s*false\)")
# Each of these sends such a statement on a connection of its own, never a pooled one.
OWN_CONNECTION = {"shared.db", "services.publishing.pagecache"}


def session_statements(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SESSION_STATE.search(node.value):
            found.append(node.value)
        if isinstance(node, ast.Attribute) and node.attr == "add_listener":
            found.append("add_listener")
    return found


def test_pooled_code_leaves_no_session_state_behind() -> None:
    offenders = {name: found for name, path in modules().items() if name not in OWN_CONNECTION
                 and (found := session_statements(path.read_text()))}
    assert offenders == {}


def test_session_statements_are_recognised() -> None:
    for sql in ("SET search_path TO x", "SET statement_timeout = 5", "LISTEN x", "SELECT pg_advisory_lock(1)",
                "DECLARE c CURSOR WITH HOLD FOR SELECT 1", "SELECT set_config('a', 'b', false)"):
        assert session_statements(f"q = {sql!r}"), sql
    for sql in ("SET LOCAL synchronous_commit = off", "UPDATE stories SET status = $2",
                "SELECT pg_advisory_xact_lock(1)", "SELECT set_config('a', 'b', true)"):
        assert not session_statements(f"q = {sql!r}"), sql
    assert session_statements("conn.add_listener('c', f)")
    assert "shared.db" in modules() and "services.publishing.pagecache" in modules()
