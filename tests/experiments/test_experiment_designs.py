import math

import numpy as np
import pytest

from experiments.sweeps import analysis
from experiments.sweeps.designs import planned_samples, sample
from experiments.sweeps.spec import parse_spec
from experiments.sweeps.sweep import run_sweep
from experiments.sweeps.testfunctions import ishigami_indices
from simulation.params import LEVERS


def lever_spec(kind: str, **design):
    return parse_spec({
        "name": "d", "base": {"customers": 300},
        "levers": {name: {"range": [0.1, 0.9]} for name in LEVERS[:3]},
        "conditions": {"structure": {"levels": ["inside_out", "outside_in"]},
                       "rivals": {"range": [1, 3]}},
        "design": {"kind": kind, **design}, "seed": 5})


@pytest.mark.parametrize(("kind", "design", "count"), [
    ("lhs", {"samples": 40}, 40),
    ("sobol", {"samples": 16}, 16 * (2 * 5 + 2)),
    ("sobol", {"samples": 16, "second_order": False}, 16 * (5 + 2)),
    ("morris", {"trajectories": 6, "levels": 4}, 6 * (5 + 1)),
])
def test_sampled_designs_have_the_right_count_and_stay_in_bounds(kind, design, count):
    spec = lever_spec(kind, **design)
    frame = sample(spec)
    assert len(frame) == count == planned_samples(spec)
    for name in LEVERS[:3]:
        assert frame[name].between(0.1, 0.9).all()
    assert set(frame["structure"]) == {"inside_out", "outside_in"}
    # rivals is an integer parameter of the model: draws are rounded into its range
    assert frame["rivals"].dtype.kind == "i"
    assert frame["rivals"].between(1, 3).all()


def test_grid_crosses_every_level_and_range_point():
    spec = parse_spec({
        "name": "g", "base": {"customers": 300},
        "levers": {"structure": {"levels": ["inside_out", "outside_in"]}},
        "conditions": {"turbulence": {"range": [0.0, 0.2], "points": 5},
                       "rivals": {"levels": [1, 2, 3]}},
        "replications": 2})
    frame = sample(spec)
    assert len(frame) == 2 * 5 * 3 == planned_samples(spec)
    assert sorted(frame["turbulence"].unique()) == pytest.approx([0, 0.05, 0.1, 0.15, 0.2])
    assert len(frame.drop_duplicates()) == len(frame)
    assert list(frame.iloc[0]) == ["inside_out", 0.0, 1]


def test_samples_depend_on_the_root_seed_only():
    spec = lever_spec("lhs", samples=20)
    same = sample(spec)
    assert same.equals(sample(spec))
    other = sample(spec.model_copy(update={"seed": 6}))
    assert not np.allclose(same["coordination"], other["coordination"])


def ishigami_spec(n: int):
    return parse_spec({
        "name": "ishigami", "model": "experiments.sweeps.testfunctions:ishigami",
        "conditions": {k: {"range": [-math.pi, math.pi]} for k in ("x1", "x2", "x3")},
        "design": {"kind": "sobol", "samples": n}, "seed": 11,
        "analysis": {"outcomes": ["y"]}})


def test_sobol_indices_of_ishigami_match_the_analytic_values(tmp_path):
    spec = ishigami_spec(2048)
    result = run_sweep(spec, tmp_path / "out", workers=1)
    assert result.completed == result.planned == 2048 * 8
    exp = analysis.load(tmp_path / "out")
    indices = analysis.sensitivity(exp, "y")
    known = ishigami_indices()
    table = indices["first_total"]
    for factor in ("x1", "x2", "x3"):
        assert table.loc[factor, "S1"] == pytest.approx(known["S1"][factor], abs=0.05)
        assert table.loc[factor, "ST"] == pytest.approx(known["ST"][factor], abs=0.05)
        assert table.loc[factor, "S1_conf"] < 0.1
    second = indices["second"].set_index(["factor_a", "factor_b"])["S2"]
    assert second[("x1", "x3")] == pytest.approx(known["S2"]["x1,x3"], abs=0.1)
    assert abs(second[("x1", "x2")]) < 0.1
    assert abs(second[("x2", "x3")]) < 0.1


def test_morris_ranks_ishigami_inputs(tmp_path):
    spec = parse_spec({
        "name": "ishigami_morris", "model": "experiments.sweeps.testfunctions:ishigami",
        "conditions": {k: {"range": [-math.pi, math.pi]} for k in ("x1", "x2", "x3")},
        "design": {"kind": "morris", "trajectories": 200, "levels": 6}, "seed": 3,
        "analysis": {"outcomes": ["y"]}})
    run_sweep(spec, tmp_path / "out", workers=1)
    table = analysis.sensitivity(analysis.load(tmp_path / "out"), "y")["morris"]
    # x1 acts mainly through its interaction with x3: a sigma as large as its mu_star
    assert table.loc["x1", "sigma"] > 0.5 * table.loc["x1", "mu_star"]
    # x2 enters as sin^2, non-monotonic: mu (signed) far below mu_star
    assert abs(table.loc["x2", "mu"]) < 0.5 * table.loc["x2", "mu_star"]
    assert table["mu_star"].min() > 0


def test_sobol_analysis_refuses_an_incomplete_design(tmp_path):
    spec = ishigami_spec(64)
    run_sweep(spec, tmp_path / "out", workers=1, max_runs=100)
    with pytest.raises(analysis.AnalysisError, match="need every one of 512 samples"):
        analysis.sensitivity(analysis.load(tmp_path / "out"), "y")


def test_grouped_sobol_apportions_ishigami_to_its_groups_as_the_analytic_values(tmp_path):
    # x1 and x3 act together (sin x1 and x3^4 sin x1), x2 alone and additively: as a group,
    # {x1, x3} holds S1 = ST = 1 - S1(x2), and x2 its own S1 = ST
    spec = parse_spec({
        "name": "ishigami_groups", "model": "experiments.sweeps.testfunctions:ishigami",
        "conditions": {k: {"range": [-math.pi, math.pi]} for k in ("x1", "x2", "x3")},
        "design": {"kind": "sobol", "samples": 1024, "second_order": False,
                   "groups": {"sine": ["x1", "x3"], "square": ["x2"]}},
        "seed": 11, "analysis": {"outcomes": ["y"]}})
    assert planned_samples(spec) == 1024 * (2 + 2)
    result = run_sweep(spec, tmp_path / "out", workers=1)
    assert result.completed == 1024 * 4
    table = analysis.sensitivity(analysis.load(tmp_path / "out"), "y")["first_total"]
    assert list(table.index) == ["sine", "square"]
    s2 = ishigami_indices()["S1"]["x2"]
    for column in ("S1", "ST"):
        assert table.loc["sine", column] == pytest.approx(1 - s2, abs=0.06)
        assert table.loc["square", column] == pytest.approx(s2, abs=0.06)


@pytest.mark.parametrize(("design", "word"), [
    ({"kind": "lhs", "samples": 8, "groups": {"g": ["x1", "x2", "x3"]}}, "only a sobol"),
    ({"kind": "sobol", "samples": 8, "second_order": False,
      "groups": {"g": ["x1", "x2"]}}, "x3 in no group"),
    ({"kind": "sobol", "samples": 8, "second_order": False,
      "groups": {"g": ["x1", "x2", "x3"], "h": ["x1"]}}, "in both"),
    ({"kind": "sobol", "samples": 8, "second_order": False,
      "groups": {"g": ["x1", "x2", "x3", "x9"]}}, "'x9' is not a lever or condition"),
    ({"kind": "sobol", "samples": 8, "groups": {"g": ["x1", "x2", "x3"]}}, "second-order"),
])
def test_a_wrong_grouping_is_refused_with_what_is_wrong(design, word):
    from experiments.sweeps.spec import SpecError

    with pytest.raises(SpecError, match=word):
        parse_spec({"name": "g", "model": "experiments.sweeps.testfunctions:ishigami",
                    "conditions": {k: {"range": [-1, 1]} for k in ("x1", "x2", "x3")},
                    "design": design})


def test_a_spec_without_groups_keeps_its_digest():
    # the digest of a spec written before designs had groups (a stored sweep resumes)
    import hashlib
    import json

    spec = ishigami_spec(16)
    dump = spec.model_dump(mode="json")
    assert dump["design"].pop("groups") is None
    dump["model"] = "experiments.testfunctions:ishigami"  # the function's name when written
    expected = hashlib.sha256(json.dumps(dump, sort_keys=True).encode()).hexdigest()[:16]
    assert spec.digest() == expected
