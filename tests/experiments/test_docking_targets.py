"""Docking targets decide exactly as stated, and the studies run on the one engine."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.docking.references import expected_peaks_random
from experiments.docking.studies import MARCH_MODEL, march_spec, nk_spec
from experiments.docking.targets import every_run, gap, level, values
from experiments.engine.runner import replication_seed
from experiments.sweeps.spec import ExperimentSpec
from experiments.sweeps.store import read_runs
from experiments.sweeps.sweep import run_sweep


def table(cells: dict[float, list[float]], name: str = "code_score") -> pd.DataFrame:
    rows = [{"p1": p1, "replication": r, name: v}
            for p1, vs in cells.items() for r, v in enumerate(vs)]
    return pd.DataFrame(rows)


def test_a_level_passes_within_its_tolerance_and_fails_outside():
    runs = table({0.1: [0.9, 1.0, 0.95, 0.95]})
    inside = level(runs, name="x", claim="", source="", outcome_name="code_score",
                   where={"p1": 0.1}, published=0.97, tolerance=0.03)
    outside = level(runs, name="x", claim="", source="", outcome_name="code_score",
                    where={"p1": 0.1}, published=0.99, tolerance=0.03)
    assert inside.measured.mean == pytest.approx(0.95) and inside.passed
    assert not outside.passed
    assert -1 <= inside.measured.low <= inside.measured.high <= 1
    assert inside.row()["verdict"] == "PASS" and outside.row()["verdict"] == "FAIL"


def test_a_gap_needs_the_paired_interval_above_zero():
    runs = table({0.1: [0.9, 0.8, 0.7, 0.95, 0.85], 0.9: [0.8, 0.7, 0.6, 0.85, 0.75]})
    wins = gap(runs, name="g", claim="", source="", outcome_name="code_score",
               better={"p1": 0.1}, worse={"p1": 0.9})
    assert wins.passed and wins.measured.mean == pytest.approx(0.1)
    assert wins.measured.low == pytest.approx(0.1), "the same gap in every pair: no spread"
    ties = table({0.1: [0.9, 0.8, 0.7, 0.6], 0.9: [0.8, 0.9, 0.6, 0.7]})
    assert not gap(ties, name="g", claim="", source="", outcome_name="code_score",
                   better={"p1": 0.1}, worse={"p1": 0.9}).passed
    reversed_ = gap(runs, name="g", claim="", source="", outcome_name="code_score",
                    better={"p1": 0.9}, worse={"p1": 0.1})
    assert not reversed_.passed


def test_every_run_fails_on_a_single_exception_and_reports_the_share():
    runs = table({0: [1, 1, 1, 2]}, name="peaks").rename(columns={"p1": "k"})
    result = every_run(runs, name="e", claim="", source="", outcome_name="peaks",
                       where={"k": 0}, holds=lambda v: v == 1, target="1")
    assert not result.passed and result.measured.mean == 0.75
    assert 0 <= result.measured.low <= 0.75 <= result.measured.high <= 1


def test_a_target_that_reads_an_empty_cell_raises():
    with pytest.raises(ValueError, match="no runs"):
        values(table({0.1: [1.0]}), "code_score", {"p1": 0.5})


def test_the_expected_peaks_of_a_random_landscape():
    assert expected_peaks_random(10) == pytest.approx(1024 / 11)
    assert round(expected_peaks_random(10), 1) == 93.1


def test_the_studies_plan_the_documented_runs():
    assert march_spec(True).run_count() == 3 * 3 * 200
    assert march_spec(False).run_count() == 9 * 3 * 2 * 2000
    assert nk_spec(True).run_count() == 2 * 100
    assert nk_spec(False).run_count() == 10 * 1000
    assert march_spec(True, 5).seed == 5
    assert set(march_spec(True).paired_factors) == {"p1", "p2", "algorithm"}


def test_a_docking_sweep_gives_the_same_numbers_with_one_worker_or_two(tmp_path):
    spec = ExperimentSpec.model_validate({
        "name": "tiny-march", "model": MARCH_MODEL, "base": {"m": 12, "n": 15},
        "steps": 5_000, "levers": {"p1": {"levels": [0.2, 0.8]}}, "replications": 6,
        "seed": 3})
    run_sweep(spec, tmp_path / "one", workers=1)
    run_sweep(spec, tmp_path / "two", workers=2)
    one, two = read_runs(tmp_path / "one"), read_runs(tmp_path / "two")
    columns = ["run_id", "p1", "seed", "code_score", "periods"]
    pd.testing.assert_frame_equal(one[columns], two[columns])
    assert one["seed"].tolist()[:6] == [replication_seed(3, r) for r in range(6)]
    # paired levers: replication r of each p1 starts from the same seed
    assert one.groupby("replication")["seed"].nunique().eq(1).all()
    assert not math.isnan(float(np.mean(one["code_score"])))


BRIDGE = Path(__file__).resolve().parents[2] / "experiments" / "docking" / "specs"


@pytest.mark.parametrize("name", ["bridge_march", "bridge_coordination"])
def test_the_bridge_specs_load_and_their_first_and_last_runs_succeed(name):
    from experiments.engine.runner import run_task
    from experiments.sweeps.spec import load_spec
    from experiments.sweeps.sweep import make_plan

    spec = load_spec(BRIDGE / f"{name}.yaml")
    plan = make_plan(spec)
    tasks = list(plan.tasks())
    # the first and the last sample: every factor at its first and at its last level
    for task in (tasks[0], tasks[-1]):
        shorter = dataclasses.replace(task, steps=min(task.steps, 12))
        record = run_task(shorter)
        assert record.ok, record.error
        assert set(spec.analysis.outcomes) <= set(record.outcomes)
