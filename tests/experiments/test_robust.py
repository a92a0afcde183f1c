"""`outsidein robust`: the search finds the known optimum of a toy whose answer is exact,
scores every candidate on the same futures with the same random numbers, and resumes."""

import itertools

import numpy as np
import pandas as pd
import pytest

from experiments.engine.runner import replication_seed
from experiments.sweeps.robust import (
    candidate_upkeep,
    futures,
    load_robust_spec,
    parse_robust_spec,
    run_robust,
)
from experiments.sweeps.spec import SpecError, register_model
from experiments.sweeps.store import read_runs
from tests.experiments.exp_helpers import run_cli, write_spec

TOY = "tests.experiments.test_robust:robust_toy"
register_model(TOY)

U = [0.1, 0.2, 0.9]  # the futures: mean 0.4, midrange 0.5
GRID = [round(0.1 * i, 10) for i in range(11)]


def noise(seed: int) -> float:
    """Large against the differences between neighbours on the grid: without common random
    numbers it would reorder the candidates."""
    return 0.5 * (seed % 1000) / 1000


def robust_toy(params, seed, **_):
    """Two levers a, b and one uncertainty u: y = 1 - (a - u)^2 - (b - 0.3)^2 + noise."""
    a, b, u = float(params["a"]), float(params["b"]), float(params["u"])
    return {"y": 1 - (a - u) ** 2 - (b - 0.3) ** 2 + noise(seed), "cost": round(10 * (a + b))}


def toy_spec(**robust):
    return {"name": "toy", "model": TOY, "steps": 1,
            "levers": {"a": {"range": [0, 1], "points": 11}, "b": {"range": [0, 1], "points": 11}},
            "conditions": {"u": {"levels": U}}, "design": {"kind": "grid"},
            "replications": 2, "seed": 3,
            "robust": {"objectives": [{"outcome": "y", "direction": "maximize"}],
                       "search": {"nfe": 400, "population": 20, "seeds": [1, 2]}, **robust}}


def exact(statistic):
    """Every grid point's score, computed from the toy with the search's seeds."""
    scores = {}
    for a, b in itertools.product(GRID, GRID):
        per_future = [np.mean([robust_toy({"a": a, "b": b, "u": u},
                                          replication_seed(3, r, (f,)))["y"] for r in range(2)])
                      for f, u in enumerate(U)]
        scores[(a, b)] = statistic(per_future)
    return scores


def test_the_search_finds_the_exact_optimum_of_the_mean(tmp_path):
    result = run_robust(parse_robust_spec(toy_spec()), tmp_path / "out", workers=1)
    best = result.candidates.sort_values("mean y", ascending=False).iloc[0]
    scores = exact(np.mean)
    answer = max(scores, key=scores.__getitem__)
    assert answer == (0.4, 0.3)  # the mean of the futures, and b's own optimum
    assert (best["a"], best["b"]) == pytest.approx(answer, abs=1e-12)
    assert best["mean y"] == pytest.approx(scores[answer], abs=1e-12)
    assert result.pareto[["a", "b"]].round(10).values.tolist() == [[0.4, 0.3]]


def test_the_worst_case_search_finds_the_midrange_not_the_mean(tmp_path):
    spec = toy_spec(objectives=[{"outcome": "y", "direction": "maximize",
                                 "statistic": "worst"}])
    result = run_robust(parse_robust_spec(spec), tmp_path / "out", workers=1)
    scores = exact(min)
    answer = max(scores, key=scores.__getitem__)
    assert answer[0] != 0.4  # the worst future pulls a toward the far one
    best = result.candidates.sort_values("worst y", ascending=False).iloc[0]
    assert (best["a"], best["b"]) == pytest.approx(answer, abs=1e-12)


def test_every_candidate_meets_the_same_futures_with_the_same_seeds(tmp_path):
    run_robust(parse_robust_spec(toy_spec()), tmp_path / "out", workers=1)
    runs = read_runs(tmp_path / "out")
    assert runs.groupby(["u", "replication"])["seed"].nunique().eq(1).all()
    assert runs["seed"].nunique() == 6
    assert runs.groupby(["a", "b"]).size().eq(6).all()  # every candidate: 3 futures x 2
    for (u, r), seed in runs.groupby(["u", "replication"])["seed"].first().items():
        assert seed == replication_seed(3, r, (U.index(u),))


def test_two_objectives_find_the_exact_pareto_set(tmp_path):
    spec = toy_spec(objectives=[{"outcome": "y", "direction": "maximize"},
                                {"outcome": "cost", "direction": "minimize"}],
                    search={"nfe": 600, "population": 30, "seeds": [1, 2],
                            "epsilons": [0.001, 1]})
    result = run_robust(parse_robust_spec(spec), tmp_path / "out", workers=1)
    y = exact(np.mean)
    cost = {(a, b): round(10 * (a + b)) for a, b in y}
    front = {p for p in y if not any(
        y[q] >= y[p] and cost[q] <= cost[p] and (y[q] > y[p] or cost[q] < cost[p]) for q in y)}
    found = {(round(a, 10), round(b, 10)) for a, b in result.pareto[["a", "b"]].values}
    # cost k (a + b = k/10) buys the best mix of that cost: (0, 0), (.1, 0), (.1, .1) and
    # (.2, 0) tied, (.2, .1), (.2, .2) and (.3, .1) tied, (.3, .2), (.3, .3), (.4, .3)
    assert len(front) == 11 and (0.0, 0.0) in front and (0.4, 0.3) in front
    assert found == front


def test_regret_and_satisficing_of_the_search_match_the_toy(tmp_path):
    spec = toy_spec(constraints=[{"outcome": "y", "at_least": 1.0}], satisficing=True,
                    objectives=[{"outcome": "y", "direction": "maximize"}])
    result = run_robust(parse_robust_spec(spec), tmp_path / "out", workers=1)
    table = result.values["y"]
    best_by_future = table.max(axis=0)
    row = result.candidates.iloc[0]
    c = result.candidates.index[0]
    assert row["max regret y"] == pytest.approx(float((best_by_future - table.loc[c]).max()))
    assert row["satisficing"] == pytest.approx(float((table.loc[c] >= 1.0).mean()))
    assert 0.0 <= result.candidates["satisficing"].min() <= 1.0


def test_a_search_resumes_from_its_folder_without_running_again(tmp_path):
    spec = parse_robust_spec(toy_spec())
    first = run_robust(spec, tmp_path / "out", workers=1)
    again = run_robust(spec, tmp_path / "out", workers=1)
    assert first.ran_now == first.runs > 0
    assert again.ran_now == 0
    pd.testing.assert_frame_equal(again.candidates, first.candidates)


def test_a_folder_of_another_search_is_refused(tmp_path):
    run_robust(parse_robust_spec(toy_spec()), tmp_path / "out", workers=1)
    other = toy_spec()
    other["seed"] = 4
    result = run_cli("robust", str(write_spec(tmp_path / "other.yaml", other)), "--out",
                     str(tmp_path / "out"), "-q")
    assert result.exit_code == 2
    assert "holds another experiment" in result.stderr


def test_the_command_writes_the_pareto_set_the_figure_and_the_report(tmp_path):
    spec = write_spec(tmp_path / "toy.yaml", toy_spec(
        constraints=[{"outcome": "y", "at_least": 1.0}]))
    result = run_cli("robust", str(spec), "--out", str(tmp_path / "out"), "-q", "-w", "1")
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    pareto = pd.read_csv(out / "pareto.csv")
    assert pareto[["a", "b"]].round(10).values.tolist() == [[0.4, 0.3]]
    page = (out / "report" / "report.html").read_text()
    assert "Most robust by satisficing: a 0.40, b 0.30" in result.stdout
    assert "Least regret in y" in page and "<img" in page
    assert (out / "report" / "figures" / "pareto_set_in_parallel_coordinates.png").is_file()


@pytest.mark.parametrize(("change", "message"), [
    ({"robust": None}, "robust: "),
    ({"robust": {"objectives": []}}, "robust.objectives"),
    ({"robust": {"objectives": [{"outcome": "final_shar"}]}},
     "'final_shar' is not an outcome"),
    ({"robust": {"objectives": [{"outcome": "final_share"}], "satisficing": True}},
     "robust.satisficing: needs constraints"),
    ({"robust": {"objectives": [{"outcome": "final_share"}],
                 "constraints": [{"outcome": "survived"}]}}, "give at_least, at_most"),
    ({"robust": {"objectives": [{"outcome": "entrants"}]}}, "give maximize or minimize"),
    ({"robust": {"objectives": [{"outcome": "final_share"}],
                 "search": {"epsilons": [0.1, 0.1]}}}, "2 given for 1 objectives"),
    ({"design": {"kind": "morris", "trajectories": 4}}, "does not draw futures"),
])
def test_a_bad_robust_spec_is_one_line_and_exit_2(tmp_path, change, message):
    data = {"name": "bad", "base": {"customers": 60}, "steps": 3,
            "levers": {"coordination": {"range": [0, 1], "points": 3}},
            "conditions": {"turbulence": {"range": [0, 0.1]}},
            "design": {"kind": "lhs", "samples": 2},
            "robust": {"objectives": [{"outcome": "final_share"}]}}
    data.update(change)
    path = write_spec(tmp_path / "bad.yaml", data)
    result = run_cli("robust", str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_spec_without_a_robust_section_says_so(tmp_path):
    path = write_spec(tmp_path / "plain.yaml", {"name": "p", "levers": {"coordination": {
        "levels": [0.1]}}})
    with pytest.raises(SpecError, match="has no 'robust' section"):
        load_robust_spec(path)


def test_the_shipped_robust_spec_loads_and_its_futures_are_the_lhs_of_its_conditions():
    spec = load_robust_spec("robust_levers")
    frame = futures(spec)
    assert len(frame) == 12
    assert list(frame.columns) == ["turbulence", "shock_rate", "entrant_rate"]
    assert frame["turbulence"].between(0, 0.12).all()


def test_upkeep_is_the_levers_price_over_the_preset():
    spec = load_robust_spec("robust_levers")
    # outside-in preset: cooperation 0.8 and clout 0.8 stay; the three searched levers vary
    low = candidate_upkeep(spec, {"coordination": 0.0, "capability": 0.0, "connections": 0.0})
    high = candidate_upkeep(spec, {"coordination": 1.0, "capability": 1.0, "connections": 1.0})
    assert low == pytest.approx(0.03 * 1.6)
    assert high == pytest.approx(0.03 * 4.6)


def test_the_walkthroughs_sweep_spec_loads():
    from experiments.sweeps.spec import load_spec
    from tests.experiments.exp_helpers import REPO

    spec = load_spec(REPO / "docs" / "specs" / "lever_futures.yaml")
    assert spec.run_count() == 320
    assert spec.analysis.discovery is not None and spec.analysis.discovery.below == 0.2


FRAGILE = "tests.experiments.test_robust:fragile_toy"
register_model(FRAGILE)


def fragile_toy(params, seed, **kwargs):
    """The toy, but every run with a = 1 raises (one lever value the model cannot take)."""
    if float(params["a"]) == 1.0:
        raise ZeroDivisionError("a = 1 is the value that fails")
    return robust_toy(params, seed, **kwargs)


def test_a_failing_run_stops_the_search_with_exit_1_and_the_finished_runs_kept(tmp_path):
    spec = toy_spec()
    spec["model"] = FRAGILE
    path = write_spec(tmp_path / "fragile.yaml", spec)
    result = run_cli("robust", str(path), "--out", str(tmp_path / "out"), "-q", "-w", "1")
    assert result.exit_code == 1, result.output
    assert "a = 1 is the value that fails" in result.stderr
    assert "run the same command again" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert len(read_runs(tmp_path / "out")) > 0  # what ran before the failure is stored


def test_two_local_workers_take_the_same_path_as_one(tmp_path):
    spec = parse_robust_spec(toy_spec())
    one = run_robust(spec, tmp_path / "one", workers=1)
    two = run_robust(spec, tmp_path / "two", workers=2)
    pd.testing.assert_frame_equal(one.candidates, two.candidates)
    runs = [read_runs(tmp_path / d).drop(columns=["duration_s"]) for d in ("one", "two")]
    pd.testing.assert_frame_equal(*runs)


def test_the_progress_hook_counts_evaluations_up_to_the_plan(tmp_path):
    seen = []
    run_robust(parse_robust_spec(toy_spec()), tmp_path / "out", workers=1,
               progress=lambda done, planned: seen.append((done, planned)))
    assert all(planned == 800 for _, planned in seen)  # nfe 400 x 2 seeds
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[0] == 20 and done[-1] == 800
    assert (400, 800) in seen  # the first seed's search is complete


def unregistered_toy(params, seed, **kwargs):
    """The toy under a name no one registered: a spec may run it only with --allow-import."""
    return robust_toy(params, seed, **kwargs)


def test_every_option_reaches_the_search(tmp_path, monkeypatch):
    import experiments.engine.executors.dask as dask_backend
    from experiments.engine.outdir import FolderLock

    path = write_spec(tmp_path / "toy.yaml", toy_spec())
    out = str(tmp_path / "out")
    monkeypatch.setattr(dask_backend, "CONNECT_TIMEOUT", 0.5)
    result = run_cli("robust", str(path), "--scheduler", "tcp://127.0.0.1:1", "--out", out)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: cannot reach the Dask scheduler at tcp://127.0.0.1:1")
    result = run_cli("robust", str(path), "-w", "2", "--scheduler", "tcp://127.0.0.1:1")
    assert result.exit_code == 2 and "not both" in result.stderr
    with FolderLock(out):
        result = run_cli("robust", str(path), "--out", out, "-q", "-w", "1")
    assert result.exit_code == 2 and "give --wait" in result.stderr
    free = toy_spec()
    free["model"] = "tests.experiments.test_robust:unregistered_toy"
    path = write_spec(tmp_path / "free.yaml", free)
    result = run_cli("robust", str(path), "--out", str(tmp_path / "free"), "-q", "-w", "1")
    assert result.exit_code == 2 and "--allow-import" in result.stderr
    result = run_cli("robust", str(path), "--out", str(tmp_path / "free"), "-q", "-w", "1",
                     "--allow-import", "--wait")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "free" / "pareto.csv").is_file()
