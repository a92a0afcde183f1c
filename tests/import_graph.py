"""The import graph of the project's own modules, read from the source (nothing is imported).

Every ``import`` and ``from ... import`` statement of ``simulation`` and ``experiments`` is an
edge, wherever it sits (at the top of a module or inside a function: an import deferred into a
function still closes a cycle when it runs), except under ``if TYPE_CHECKING:``, which never
runs. ``from package import name`` is an edge to ``package.name`` when that is a module, else
to ``package``. Run as a script, it prints the graph's cycles, its layer breaks and, per
module, the imports deferred into functions:

    python tests/import_graph.py
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("simulation", "experiments")

CORE = frozenset(f"simulation.{name}" for name in (
    "agents", "errors", "kernels", "levers", "market", "metrics", "model", "organization",
    "outcomes", "params", "presets", "structures"))
"""The model itself (CONTRIBUTING.md, "Where each part lives") and the outcome registry it
reports in: pure, they import only each other."""

FACES = ("simulation.cli", "simulation.viz")
"""The CLI and the app (with the workshop): they call the layers below; nothing calls them."""


@dataclass(frozen=True)
class Edge:
    """One import statement: ``source`` imports ``target`` at ``line``."""

    source: str
    target: str
    line: int
    deferred: bool
    """Inside a function (runs when the function is first called), not at the module's top."""


def module_name(path: Path, root: Path = ROOT) -> str:
    """``simulation/cli/run.py`` -> ``simulation.cli.run``; a package's ``__init__`` is itself."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the project's packages, by dotted name."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            found[module_name(path, root)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _statements(nodes: list[ast.AST], deferred: bool = False) -> Iterator[tuple[ast.stmt, bool]]:
    """Import statements with whether each is inside a function; TYPE_CHECKING blocks skipped."""
    for node in nodes:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _statements(list(node.orelse), deferred)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, deferred
            continue
        inner = deferred or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        yield from _statements(list(ast.iter_child_nodes(node)), inner)


def _absolute(node: ast.ImportFrom, name: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = name.split(".") if is_package else name.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def edges(root: Path = ROOT) -> list[Edge]:
    """Every import of a project module by a project module (TYPE_CHECKING ones left out)."""
    known = modules(root)
    found: list[Edge] = []
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, deferred in _statements(tree.body):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                module = _absolute(node, name, path.name == "__init__.py")
                for alias in node.names:
                    sub = f"{module}.{alias.name}"
                    targets.append(sub if sub in known else module)
            for target in targets:
                # ``import a.b.c`` names a module; keep the longest known prefix
                while target and target not in known:
                    target = target.rpartition(".")[0]
                edge = Edge(name, target, node.lineno, deferred)
                if target and target != name and edge not in found:
                    found.append(edge)
    return found


def cycles(graph: list[Edge]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    succ: dict[str, set[str]] = {}
    for e in graph:
        succ.setdefault(e.source, set()).add(e.target)
        succ.setdefault(e.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(succ[v]):
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

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(succ):
        if v not in index:
            visit(v)
    return sorted(found)


def _in(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def layer_breaks(graph: list[Edge]) -> list[str]:
    """Imports that the layers forbid (CONTRIBUTING.md, "Where each part lives"), one line each."""
    broken = []
    for e in graph:
        where = f"{e.source}:{e.line} imports {e.target}"
        if e.source in CORE and e.target not in CORE:
            broken.append(f"{where}: the core imports only the core")
        elif e.target.startswith("experiments") and e.source.startswith("simulation") \
                and not _in(e.source, ("simulation.cli",)):
            broken.append(f"{where}: only the CLI of simulation imports experiments")
        elif _in(e.target, FACES) and not _in(e.source, FACES):
            broken.append(f"{where}: nothing below the faces imports the CLI or the app")
    return broken


def main() -> int:
    """Print cycles, layer breaks and deferred imports; exit 1 if there is a cycle or break."""
    graph = edges()
    found, broken = cycles(graph), layer_breaks(graph)
    print(f"{len(modules())} modules, {len(graph)} imports "
          f"({sum(e.deferred for e in graph)} inside functions)")
    print(f"cycles: {len(found)}")
    for component in found:
        print("  " + " <-> ".join(component))
    print(f"layer breaks: {len(broken)}")
    for line in broken:
        print("  " + line)
    print("inside functions:")
    for e in graph:
        if e.deferred:
            print(f"  {e.source}:{e.line} -> {e.target}")
    return 1 if found or broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
