"""--max-runs: runs spread across the design, every factor at two levels where N allows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.sweeps.designs import coverage_warnings
from experiments.sweeps.spec import load_spec, parse_spec
from experiments.sweeps.sweep import _level_keys, _pick_spread, make_plan

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
    from experiments.sweeps.spec import SpecError

    with pytest.raises(SpecError, match="paired: 'structur' is not a lever or condition"):
        parse_spec({"name": "t", "base": {"customers": 200}, "paired": ["structur"],
                    "levers": {"structure": {"levels": ["inside_out", "outside_in"]}}})


def _pick_one_at_a_time(units: list[list[int]], levels: dict[str, list[Any]],
                        order: np.ndarray, count: int) -> list[int]:
    """The selection rule as first written: rescore every unit left at every pick."""
    seen: dict[tuple[str, Any], int] = {}
    chosen: list[int] = []
    left = [int(i) for i in order]
    for _ in range(count):
        def score(unit: int) -> tuple[int, int]:
            keys = {(f, col[i]) for f, col in levels.items() for i in units[unit]}
            return (sum(seen.get(k, 0) for k in keys), -len(keys))
        best = min(left, key=score)
        left.remove(best)
        chosen.append(best)
        for f, col in levels.items():
            for i in units[best]:
                seen[(f, col[i])] = seen.get((f, col[i]), 0) + 1
    return chosen


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_the_incremental_pick_is_the_rule_as_first_written(data: st.DataObject) -> None:
    # the folder identity names the selection rule: a faster pick must choose the same runs
    samples = data.draw(st.integers(1, 30))
    width = data.draw(st.sampled_from([w for w in (1, 2, 3) if samples % w == 0]))
    factors = data.draw(st.integers(1, 3))
    levels = {f"f{j}": data.draw(st.lists(st.integers(0, 4), min_size=samples,
                                          max_size=samples)) for j in range(factors)}
    units = [list(range(u, u + width)) for u in range(0, samples, width)]
    order = np.random.default_rng(data.draw(st.integers(0, 99))).permutation(len(units))
    count = data.draw(st.integers(1, len(units)))
    assert _pick_spread(units, levels, order, count) == \
        _pick_one_at_a_time(units, levels, order, count)


def test_a_sampled_design_cut_down_keeps_the_runs_the_rule_as_first_written_kept() -> None:
    spec = parse_spec({
        "name": "t", "base": {"customers": 200, "rivals": 1}, "steps": 5, "paired": [],
        "design": {"kind": "sobol", "samples": 64},
        "levers": {"coordination": {"range": [0.0, 1.0]}, "cooperation": {"range": [0.0, 1.0]}},
        "conditions": {"turbulence": {"range": [0.0, 0.1]}}})
    plan = make_plan(spec, max_runs=300)
    assert plan.planned == 300 and len(plan.samples) == 512
    units = [[i] for i in range(len(plan.samples))]
    order = np.random.default_rng(spec.seed).permutation(len(units))
    levels = _level_keys(spec, plan.samples)
    assert sorted(_pick_one_at_a_time(units, levels, order, 300)) == sorted(plan.run_ids)
