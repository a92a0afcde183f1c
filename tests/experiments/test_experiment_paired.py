"""Paired sweeps: the levers share seeds per market setting; the analysis pairs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments.sweeps import analysis, report
from experiments.sweeps.spec import parse_spec
from experiments.sweeps.sweep import run_sweep

SPEC = {
    "name": "paired", "base": {"customers": 200, "rivals": 1}, "steps": 30,
    "levers": {"structure": {"levels": ["inside_out", "outside_in"]}},
    "conditions": {"turbulence": {"levels": [0.02, 0.1]}},
    "replications": 4, "seed": 5,
    "analysis": {"outcomes": ["final_share", "cumulative_profit"]},
}


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> analysis.Experiment:
    out = tmp_path_factory.mktemp("paired") / "out"
    run_sweep(parse_spec(SPEC), out, workers=1)
    return analysis.load(out)


def test_the_analysis_pairs_the_lever_s_levels_run_by_run(swept: analysis.Experiment) -> None:
    table = analysis.paired_differences(swept)
    assert list(table["outcome"]) == ["final_share", "cumulative_profit"]
    row = table.iloc[0]
    assert (row["factor"], row["level"], row["versus"], row["pairs"]) == (
        "structure", "outside_in", "inside_out", 8)  # 2 market settings x 4 replications
    runs = swept.runs
    keys = ["turbulence", "replication"]
    a = runs[runs["structure"] == "inside_out"].set_index(keys)["final_share"]
    b = runs[runs["structure"] == "outside_in"].set_index(keys)["final_share"]
    differences = (b - a.loc[b.index]).to_numpy()
    assert row["mean"] == pytest.approx(float(differences.mean()))
    # the interval is the paired one that compare gives a share: a bootstrap of the per-seed
    # differences, so it stays within [-1, 1]
    from experiments.intervals import bootstrap_interval

    boot = bootstrap_interval(differences)
    assert (row["low"], row["high"]) == pytest.approx((boot.low, boot.high))
    assert -1.0 <= row["low"] <= row["mean"] <= row["high"] <= 1.0
    # money is not bounded: Student's t on the per-seed differences
    from scipy.stats import t

    money = table.iloc[1]
    a = runs[runs["structure"] == "inside_out"].set_index(keys)["cumulative_profit"]
    b = runs[runs["structure"] == "outside_in"].set_index(keys)["cumulative_profit"]
    differences = (b - a.loc[b.index]).to_numpy()
    half = t.ppf(0.975, differences.size - 1) * differences.std(ddof=1) / differences.size ** 0.5
    assert (money["low"], money["high"]) == pytest.approx(
        (money["mean"] - half, money["mean"] + half))
    assert "paired differences" in report.build(swept).tables


def test_a_spec_can_unpair_its_levers(tmp_path: Path) -> None:
    from experiments.sweeps.store import read_runs

    run_sweep(parse_spec({**SPEC, "paired": [], "replications": 1}), tmp_path / "out",
              workers=1)
    runs = read_runs(tmp_path / "out")
    assert runs["seed"].is_unique  # every sample its own random numbers


@pytest.mark.parametrize("ratio", [0.3, 0.99, 1.0, 1.7])
def test_the_noise_note_never_reports_a_share_above_100_percent(ratio: float) -> None:
    text = report.noise_text("final_share", ratio)
    assert "%" not in text or int(text.split("%")[0].split()[-1]) <= 100
    assert ("as much as all runs do" in text) == (ratio >= 1)
