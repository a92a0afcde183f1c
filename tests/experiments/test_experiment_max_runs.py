"""--max-runs: runs spread across the design, every factor at two levels where N allows."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments.designs import coverage_warnings
from experiments.spec import load_spec, parse_spec
from experiments.sweep import make_plan

SPECS = sorted((Path(__file__).resolve().parents[2] / "experiments" / "specs").glob("*.yaml"))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
@pytest.mark.parametrize("max_runs", [2, 3, 10, 200])
def test_max_runs_keeps_every_factor_at_two_levels_on_the_shipped_specs(
        path: Path, max_runs: int) -> None:
    spec = load_spec(path)
    plan = make_plan(spec, max_runs=max_runs)
    assert 2 <= plan.planned <= max_runs
    kept = plan.kept_samples()
    for name in spec.factors:
        assert kept[name].nunique() >= 2, (name, plan.note)
    assert plan.note.startswith(f"--max-runs {max_runs}: {plan.planned} of ")
    assert not coverage_warnings(spec, kept, "the runs planned")


def test_max_runs_keeps_paired_runs_together_and_their_seeds() -> None:
    spec = load_spec(SPECS[0])  # crossover: structure paired across every market setting
    assert spec.paired_factors == ["structure"]
    full = {t.run_id: t.seed for t in make_plan(spec).tasks()}
    plan = make_plan(spec, max_runs=40)
    tasks = list(plan.tasks())
    assert all(full[t.run_id] == t.seed for t in tasks)  # shrinking never changes a run
    by_seed: dict[int, set[str]] = {}
    for task in tasks:
        by_seed.setdefault(task.seed, set()).add(str(task.params["structure"]))
    assert all(levels == {"inside_out", "outside_in"} for levels in by_seed.values())


def test_one_level_and_an_empty_where_are_warned_about() -> None:
    spec = parse_spec({
        "name": "t", "base": {"customers": 200, "rivals": 1}, "steps": 5,
        "levers": {"structure": {"levels": ["inside_out"]}},
        "conditions": {"turbulence": {"levels": [0.0, 0.1]}},
        "analysis": {"outcomes": ["final_share"],
                     "discovery": {"outcome": "final_share", "where": {"turbulence": 0.5}}}})
    warnings = coverage_warnings(spec, make_plan(spec).kept_samples(), "the 2 runs planned")
    assert warnings == [
        "warning: levers.structure has one level ('inside_out') in the 2 runs planned: its "
        "effect cannot be estimated",
        "warning: analysis.discovery.where {turbulence: 0.5} matches none of the 2 runs "
        "planned: scenario discovery will have no runs to search"]


def test_paired_names_a_factor() -> None:
    from experiments.spec import SpecError

    with pytest.raises(SpecError, match="paired: 'structur' is not a lever or condition"):
        parse_spec({"name": "t", "base": {"customers": 200}, "paired": ["structur"],
                    "levers": {"structure": {"levels": ["inside_out", "outside_in"]}}})
