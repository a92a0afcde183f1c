"""Analysis: scenario discovery with PRIM, interactions, tables and the report."""

import base64

import numpy as np
import pandas as pd
import pytest

from experiments.sweeps import analysis
from experiments.sweeps.analysis import AnalysisError, Experiment, discover, interactions
from experiments.sweeps.spec import load_spec, parse_spec
from experiments.sweeps.store import read_runs
from experiments.sweeps.sweep import run_sweep
from tests.experiments.exp_helpers import REPO, run_cli

ISHIGAMI = "experiments.sweeps.testfunctions:ishigami"


def test_prim_finds_a_known_box():
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.uniform(size=(1000, 4)), columns=["a", "b", "c", "d"])
    x["d"] = x["d"] * 0.5  # a decoy on another scale
    y = ((x["a"] > 0.6) & (x["b"] < 0.3)).to_numpy()
    found = discover(x, y, question="a > 0.6 and b < 0.3")
    box = found.box.set_index("factor")
    assert set(box.index) == {"a", "b"}
    assert box.loc["a", "low"] == pytest.approx(0.6, abs=0.03)
    assert box.loc["b", "high"] == pytest.approx(0.3, abs=0.03)
    assert found.coverage > 0.9 and found.density > 0.9
    assert found.mass == pytest.approx(0.4 * 0.3, abs=0.03)
    assert found.cases == int(y.sum()) and found.runs == 1000


def test_prim_keeps_the_levels_of_a_named_condition():
    rng = np.random.default_rng(1)
    x = pd.DataFrame({"market": rng.choice(["calm", "choppy", "wild"], 1500),
                      "rate": rng.uniform(size=1500)})
    y = ((x["market"] == "wild") & (x["rate"] > 0.5)).to_numpy()
    box = discover(x, y).box.set_index("factor")
    assert box.loc["market", "levels"] == ["wild"]
    assert box.loc["rate", "low"] == pytest.approx(0.5, abs=0.05)


def test_prim_with_no_case_of_interest_says_so():
    x = pd.DataFrame({"a": np.linspace(0, 1, 50)})
    with pytest.raises(AnalysisError, match="no run meets the condition"):
        discover(x, np.zeros(50, dtype=bool), question="never")


def synthetic(y_of, n=400, seed=0):
    rng = np.random.default_rng(seed)
    runs = pd.DataFrame({"run_id": range(n), "sample_id": range(n),
                         "coordination": rng.uniform(size=n),
                         "cooperation": rng.uniform(size=n),
                         "clout": rng.uniform(size=n)})
    runs["y"] = y_of(runs) + rng.normal(0, 0.01, n)
    spec = parse_spec({"name": "s", "model": ISHIGAMI, "design": {"kind": "lhs", "samples": n},
                       "levers": {k: {"range": [0, 1]} for k in
                                  ("coordination", "cooperation", "clout")},
                       "analysis": {"outcomes": ["y"]}})
    return Experiment(spec, {}, runs, pd.DataFrame(), pd.DataFrame())


def test_interactions_tell_complements_from_substitutes():
    exp = synthetic(lambda r: r["coordination"] * r["cooperation"] - r["coordination"]
                    * r["clout"])
    table = interactions(exp, "y").set_index(["factor_a", "factor_b"])
    assert table.loc[("coordination", "cooperation"), "verdict"] == "complements"
    assert table.loc[("coordination", "clout"), "verdict"] == "substitutes"
    assert table.loc[("cooperation", "clout"), "verdict"] == "no clear sign"


def test_summary_table_groups_by_levels():
    runs = pd.DataFrame({"run_id": range(4), "sample_id": [0, 0, 1, 1],
                         "structure": ["inside_out"] * 2 + ["outside_in"] * 2,
                         "y": [1.0, 3.0, 5.0, 9.0]})
    spec = parse_spec({"name": "t", "model": ISHIGAMI, "analysis": {"outcomes": ["y"]},
                       "levers": {"structure": {"levels": ["inside_out", "outside_in"]}}})
    table = analysis.summary_table(Experiment(spec, {}, runs, pd.DataFrame(),
                                              pd.DataFrame()))
    assert table.loc["inside_out", ("y", "mean")] == 2.0
    assert table.loc["outside_in", ("y", "mean")] == 7.0
    assert table.loc["outside_in", ("y", "count")] == 2


@pytest.fixture(scope="module")
def crossover(tmp_path_factory):
    """The shipped crossover spec, shrunk: 2 structures x 7 turbulences, 4 steps apart."""
    spec = load_spec(REPO / "experiments" / "specs" / "crossover.yaml").model_copy(update={
        "base": {"customers": 300, "rivals": 1, "rival_structure": "inside_out"},
        "steps": 24, "replications": 2})
    spec = spec.model_copy(update={"conditions": {
        "turbulence": spec.conditions["turbulence"], "shock_rate":
        spec.conditions["shock_rate"].model_copy(update={"levels": [0.0, 0.05]})}})
    out = tmp_path_factory.mktemp("crossover") / "out"
    result = run_sweep(spec, out, workers=2)
    assert result.completed == result.planned == 2 * 7 * 2 * 2
    return out


def test_analyze_writes_a_self_contained_report(crossover, tmp_path):
    result = run_cli("analyze", str(crossover), "--out", str(tmp_path / "report"))
    assert result.exit_code == 0, result.output
    html = (tmp_path / "report" / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 5
    first = html.split("data:image/png;base64,")[1].split('"')[0]
    assert base64.b64decode(first)[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Scenario discovery (PRIM)" in html or "scenario discovery:" in html
    assert "share_advantage over turbulence x structure" in html
    assert "market_share over time" in html
    assert (tmp_path / "report" / "tables" / "summary.csv").exists()
    assert "report:" in result.stdout


def test_crossover_summary_has_one_row_per_cell(crossover):
    exp = analysis.load(crossover)
    table = analysis.summary_table(exp, ["share_advantage"])
    assert len(table) == 2 * 7 * 2
    assert (table[("share_advantage", "count")] == 2).all()
    assert len(read_runs(crossover)) == 56


def test_shipped_sobol_and_morris_specs_run_through_sweep_and_analysis(tmp_path):
    for name in ("levers_sobol", "market_morris"):
        spec = load_spec(REPO / "experiments" / "specs" / f"{name}.yaml")
        small = spec.model_copy(update={
            # the shock's window ends when the entrant enters: months 4 ... 19
            "steps": 24, "replications": 1,
            "base": {**spec.base, "customers": 300, "shock_steps": [4],
                     "entrant_steps": [20]} if name == "levers_sobol" else
            {**spec.base, "customers": 300},
            "design": spec.design.model_copy(update={"samples": 2} if name == "levers_sobol"
                                             else {"trajectories": 2})})
        out = tmp_path / name
        result = run_sweep(small, out, workers=1)
        assert result.completed == result.planned
        exp = analysis.load(out)
        indices = analysis.sensitivity(exp, small.analysis.outcomes[0])
        table = indices["first_total"] if name == "levers_sobol" else indices["morris"]
        assert sorted(table.index) == sorted(small.factors)


def replicated(values_by_sample):
    rows = [{"run_id": i, "sample_id": s, "x": float(s), "y": float(v)}
            for i, (s, v) in enumerate((s, v) for s, vs in enumerate(values_by_sample)
                                       for v in vs)]
    spec = parse_spec({"name": "r", "model": ISHIGAMI, "replications": 2,
                       "design": {"kind": "morris", "trajectories": 2, "levels": 4},
                       "conditions": {"x": {"range": [0, 1]}},
                       "analysis": {"outcomes": ["y"]}})
    return Experiment(spec, {}, pd.DataFrame(rows), pd.DataFrame(), pd.DataFrame())


def test_noise_share_is_the_within_sample_share_of_the_variance():
    exp = replicated([[0, 2], [10, 12], [0, 2], [10, 12]])
    # total variance (ddof=1) of 0,2,10,12,0,2,10,12 is 208/7; within each pair it is 2
    assert analysis.noise_share(exp, "y") == pytest.approx(2 / (208 / 7))
    assert analysis.noise_share(replicated([[1, 1], [1, 1], [1, 1], [1, 1]]), "y") is None


def test_an_outcome_that_never_varies_has_no_indices():
    exp = replicated([[1, 1], [1, 1], [1, 1], [1, 1]])
    with pytest.raises(AnalysisError, match="y is the same \\(1\\) for every sample"):
        analysis.sensitivity(exp, "y")
