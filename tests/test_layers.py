"""The layers of CONTRIBUTING.md, read from the source: no import cycles, no layer breaks."""

from pathlib import Path

import pytest

from tests.import_graph import CORE, Edge, cycles, edges, layer_breaks, modules


@pytest.fixture(scope="module")
def graph() -> list[Edge]:
    return edges()


def test_the_project_modules_import_each_other_without_a_cycle(graph) -> None:
    assert cycles(graph) == []


def test_no_import_breaks_a_layer(graph) -> None:
    assert layer_breaks(graph) == []


def test_the_graph_sees_every_package_and_the_core(graph) -> None:
    # the rules above are only as good as the graph: it holds the wings, the faces and the core
    names = set(modules())
    assert names >= CORE
    assert {"experiments.engine.runner", "experiments.sweeps.sweep",
            "experiments.comparison.compare", "experiments.patterns.suite", "simulation.cli.run",
            "simulation.viz.server"} <= names
    pairs = {(e.source, e.target) for e in graph}
    assert ("experiments.sweeps.sweep", "experiments.engine.runner") in pairs
    assert ("simulation.params", "simulation.presets") in pairs


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_an_import_inside_a_function_still_closes_a_cycle(tmp_path) -> None:
    root = _project(tmp_path, {
        "simulation/__init__.py": "",
        "simulation/params.py": "def check():\n    from simulation.structures import PRESETS\n",
        "simulation/structures.py": "from simulation.params import check\n",
        "experiments/__init__.py": "",
    })
    found = edges(root)
    assert Edge("simulation.params", "simulation.structures", 2, True) in found
    assert cycles(found) == [["simulation.params", "simulation.structures"]]


def test_a_type_checking_import_is_no_edge_and_a_submodule_is_its_own(tmp_path) -> None:
    root = _project(tmp_path, {
        "simulation/__init__.py": "from typing import TYPE_CHECKING\n"
                                  "if TYPE_CHECKING:\n    from simulation.model import OrgModel\n",
        "simulation/model.py": "import simulation\n",
        "experiments/__init__.py": "",
        "experiments/engine/__init__.py": "",
        "experiments/engine/runner.py": "from experiments.engine import limits\n"
                                        "from . import outdir\n",
        "experiments/engine/limits.py": "",
        "experiments/engine/outdir.py": "",
    })
    found = edges(root)
    assert cycles(found) == []
    assert {(e.source, e.target) for e in found} == {
        ("simulation.model", "simulation"),
        ("experiments.engine.runner", "experiments.engine.limits"),
        ("experiments.engine.runner", "experiments.engine.outdir")}


@pytest.mark.parametrize(("source", "target", "rule"), [
    ("simulation.model", "experiments.engine.runner", "the core imports only the core"),
    ("simulation.levers", "simulation.provenance", "the core imports only the core"),
    ("simulation.scenario", "experiments.comparison.compare", "only the CLI of simulation"),
    ("experiments.sweeps.sweep", "simulation.cli.sweep", "nothing below the faces"),
    ("simulation.scenario", "simulation.viz.server", "nothing below the faces"),
])
def test_each_forbidden_import_is_named_with_its_rule(source, target, rule) -> None:
    broken = layer_breaks([Edge(source, target, 7, False)])
    assert len(broken) == 1 and broken[0].startswith(f"{source}:7 imports {target}: {rule}")


@pytest.mark.parametrize(("source", "target"), [
    ("simulation.cli.compare", "experiments.comparison.compare"),
    ("simulation.model", "simulation.outcomes"),
    ("experiments.engine.runner", "simulation.model"),
    ("simulation.viz.server", "simulation.viz.scenarios"),
])
def test_allowed_imports_are_not_breaks(source, target) -> None:
    assert layer_breaks([Edge(source, target, 1, False)]) == []
