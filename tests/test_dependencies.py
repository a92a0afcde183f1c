"""Dependencies are declared exactly as used, and constraints.txt agrees with the pins."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

NOT_IMPORTED = {
    "solara": "the meta package: brings the server's starlette extra",
    "solara-server": "uvicorn loads its ASGI app by name (simulation/viz/server.py)",
    "solara-assets": "the app's front end, served offline instead of from a CDN",
}
"""Declared distributions the code needs at run time without importing them."""


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for requirement in requirements:
        name, _, version = requirement.partition("==")
        assert version, f"{requirement} is not pinned with =="
        pins[_canonical(name.split("[")[0])] = version.strip()
    return pins


def _imported_modules() -> set[str]:
    """Top-level third-party modules imported anywhere in the two packages."""
    found: set[str] = set()
    for path in [*ROOT.glob("simulation/**/*.py"), *ROOT.glob("experiments/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names
            and m not in ("simulation", "experiments")}


def _providers() -> dict[str, set[str]]:
    owners = metadata.packages_distributions()
    return {m: {_canonical(d) for d in owners.get(m, [])} for m in _imported_modules()}


STUDIES_ONLY = {"numba": "simulation/kernels.py, which only studies import (the fallback: numpy)"}
"""Imported modules whose distribution is an extra, not a dependency (``studies``)."""


def test_every_imported_package_is_declared() -> None:
    declared = set(_pins(PROJECT["dependencies"]))
    assert set(STUDIES_ONLY) == set(_pins(PROJECT["optional-dependencies"]["studies"]))
    declared |= set(STUDIES_ONLY)
    undeclared = {m: sorted(d) for m, d in _providers().items() if not d & declared}
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


def test_every_declared_package_is_imported_or_needed_at_run_time() -> None:
    used = set().union(*_providers().values())
    unused = set(_pins(PROJECT["dependencies"])) - used
    assert unused == set(NOT_IMPORTED), f"declared but never imported: {sorted(unused)}"


def test_constraints_pin_what_pyproject_pins() -> None:
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    constraints = _pins([ln for ln in lines if ln.strip() and not ln.startswith("#")])
    wanted = _pins(PROJECT["dependencies"]) | _pins(PROJECT["optional-dependencies"]["test"]) \
        | _pins(PROJECT["optional-dependencies"]["studies"])
    differ = {n: (v, constraints.get(n)) for n, v in wanted.items() if constraints.get(n) != v}
    assert not differ, f"run 'make constraints': (pyproject, constraints.txt) {differ}"
