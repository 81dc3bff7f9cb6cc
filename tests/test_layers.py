"""One direction between the layers: each domain package writes its own records, health/ only reads them.

Every import of every module under include/game_analytics/ is read with ast (function-level and TYPE_CHECKING
imports included: a cycle hidden in a function is still a cycle). health/ may import nothing from daily/ or
ingest/ (the pipeline it watches), and the domain packages' import graph has no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import game_analytics

ROOT = Path(game_analytics.__file__).parent
PACKAGES = sorted(p.name for p in ROOT.iterdir() if (p / "__init__.py").exists())
# None left: health/ delivers through notify/, and the DAG-failure notifier that fires airflow_dag_failed through
# the alert lifecycle lives in health/ (dag_callbacks.py), so notify/ imports nothing back.
KNOWN_CYCLES: list[list[str]] = []


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names; relative imports resolved against its package)."""
    package = ".".join(("game_analytics", *path.relative_to(ROOT).parent.parts))
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def package_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "game_analytics" and parts[1] in PACKAGES else None


def package_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Domain package -> the other domain packages its modules import."""
    graph: dict[str, set[str]] = {name: set() for name in PACKAGES}
    for name in PACKAGES:
        for path in (root / name).rglob("*.py"):
            graph[name] |= {p for m in imported_modules(path) if (p := package_of(m)) and p != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each import cycle once (as the path from its first package back to it), by depth-first search."""
    found, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(path[path.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_health_imports_nothing_from_the_pipeline_it_watches():
    offenders = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in (ROOT / "health").rglob("*.py")
        for module in imported_modules(path)
        if package_of(module) in ("daily", "ingest")
    }
    assert offenders == set(), f"health/ must only read what daily/ and ingest/ write: {sorted(offenders)}"


def test_the_domain_packages_import_each_other_in_one_direction():
    assert "health" in PACKAGES and "daily" in PACKAGES and "ingest" in PACKAGES
    found = cycles(package_graph())
    assert [c for c in found if {"daily", "ingest"} & set(c)] == [], "the pipeline's layers import back"
    assert found == KNOWN_CYCLES


def test_a_cycle_and_a_hidden_import_are_found(tmp_path):
    """The checks can fail: a function-level import back is a cycle; a relative import resolves."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    module = tmp_path / "health" / "x.py"
    module.parent.mkdir()
    module.write_text("def f():\n    from game_analytics.daily.quality import SHOWN_ROWS\n")
    assert "game_analytics.daily.quality" in imported_modules_at(module, tmp_path)


def imported_modules_at(path: Path, root: Path) -> set[str]:
    """:func:`imported_modules` of a module laid out under ``root`` as if it were the package's."""
    global ROOT
    saved, ROOT = ROOT, root
    try:
        return imported_modules(path)
    finally:
        ROOT = saved
