"""Fuzzing the loader: whatever the file holds, it loads or raises ScenarioError, nothing else."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation.scenario import SCENARIO_DIR, Scenario, ScenarioError
from simulation.scenario_files import load_scenario

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

KEYS = ["title", "description", "teaches", "questions", "steps", "seed", "market", "firms",
        "timeline", "compare", "choice", "money", "entrants", "competitors", "organization",
        "metrics", "extends", "name", "structure", "levers", "clout", "step", "event", "to",
        "segments", "ideal", "weights", "share", "customers", "turbulence", "count", "label"]

scalars = (st.none() | st.booleans() | st.integers(-10**12, 10**12)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20)
           | st.sampled_from(["inside_out", "outside_in", "shock", "reorganization", "", "~"]))
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=6),
    max_leaves=40)

SHIPPED = {p.stem: yaml.safe_load(p.read_text(encoding="utf-8"))
           for p in sorted(SCENARIO_DIR.glob("*.yaml"))}


def load_or_error(path: Path) -> Scenario | ScenarioError:
    try:
        return load_scenario(path)
    except ScenarioError as exc:
        # one line per mistake, each naming its file (this one or one it extends)
        assert str(exc) and all(re.match(r"^\S+\.ya?ml(:\d+)?: ", line)
                                for line in str(exc).splitlines())
        return exc


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(document=values)
def test_arbitrary_yaml_documents(document: Any, folder: Path) -> None:
    path = folder / "doc.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    load_or_error(path)


@FUZZ
@given(raw=st.binary(max_size=400) | st.text(max_size=400).map(lambda t: t.encode()))
def test_arbitrary_bytes(raw: bytes, folder: Path) -> None:
    path = folder / "raw.yaml"
    path.write_bytes(raw)
    load_or_error(path)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, Any]:
    import copy

    name = draw(st.sampled_from(sorted(SHIPPED)))
    data = copy.deepcopy(SHIPPED[name])
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = data
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(KEYS) | st.text(max_size=8))] = draw(values)
        else:
            parent.append(draw(values))
    return name, data


@FUZZ
@given(case=mutated())
def test_mutated_shipped_scenarios(case: tuple[str, Any], folder: Path) -> None:
    name, data = case
    # beside the shipped files' names so that `extends: stable-market` still resolves
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = load_or_error(path)
    if isinstance(result, Scenario):
        result.to_params()  # whatever loads is a valid model


def test_fuzzing_reaches_both_outcomes(folder: Path) -> None:
    # the strategies are not vacuous: an unchanged shipped scenario loads, a mutation fails
    path = folder / "stable-market.yaml"
    path.write_text(yaml.safe_dump(SHIPPED["stable-market"]), encoding="utf-8")
    assert isinstance(load_or_error(path), Scenario)
    broken = dict(SHIPPED["stable-market"], steps="many")
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    assert isinstance(load_or_error(path), ScenarioError)
