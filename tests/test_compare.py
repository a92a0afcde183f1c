"""compare: a two-arm paired experiment on the experiments executor, its framings, its handout."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml

from experiments.comparison.compare import RunsFailedError, compare
from experiments.comparison.handout import figure_png, html_report, table_rows
from experiments.engine.executors import Executor, MissingRunsError
from experiments.engine.runner import Record, Task, replication_seed, run_tasks
from simulation import outcomes as reg
from simulation.errors import OutsideInError, ParameterError
from simulation.scenario import Scenario, ScenarioError
from simulation.scenario_files import load_scenario, parse_scenario

SMALL = """\
title: Small
description: A small turbulent market for fast tests.
teaches: Nothing beyond the test.
questions: ["Which organization does better?"]
steps: 24
seed: 3
market: {customers: 150, turbulence: 0.05}
firms: [{name: Focal}, {name: Rival, structure: outside_in}]
timeline: [{step: 8, event: shock}, {step: 16, event: entrant}]
"""


@pytest.fixture(scope="module")
def small() -> Scenario:
    return parse_scenario(SMALL)


def test_every_run_of_a_replication_shares_its_seed(small: Scenario) -> None:
    result = compare(small, name="small", reps=4)
    assert result.labels == ("inside_out", "outside_in")
    assert set(result.tables) == {"head-to-head", "swap"} and result.framing == "head-to-head"
    expected = [replication_seed(3, r) for r in range(4)]
    for (_framing, _org), runs in result.runs.groupby(["framing", "organization"]):
        assert list(runs.sort_values("rep")["seed"]) == expected


def test_table_matches_the_runs_by_hand(small: Scenario) -> None:
    result = compare(small, name="small", reps=4, framing="swap")
    assert result.framing == "swap"
    assert list(result.table["outcome"]) == list(reg.COMPARED)
    runs = result.runs[result.runs["framing"] == "swap"]
    a = runs[runs["organization"] == "inside_out"].sort_values("rep")
    b = runs[runs["organization"] == "outside_in"].sort_values("rep")
    row = result.table.set_index("outcome").loc["cumulative_profit"]
    d = b["cumulative_profit"].to_numpy() - a["cumulative_profit"].to_numpy()
    half = 3.182446305284263 * d.std(ddof=1) / 2  # money: a t interval
    assert row["diff_mean"] == pytest.approx(d.mean(), abs=1e-12)
    assert row["diff_low"] == pytest.approx(d.mean() - half, abs=1e-12)
    assert row["diff_high"] == pytest.approx(d.mean() + half, abs=1e-12)
    assert row["a_mean"] == pytest.approx(a["cumulative_profit"].mean(), abs=1e-12)
    assert row["pairs"] == 4


def test_compare_is_the_same_on_one_worker_two_workers_and_dask(small: Scenario) -> None:
    from distributed import LocalCluster

    from experiments.engine.executors.dask import DaskExecutor

    one = compare(small, name="small", reps=3, workers=1)
    two = compare(small, name="small", reps=3, workers=2)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp",
                      dashboard_address=None) as cluster, \
            DaskExecutor(cluster.scheduler_address) as dask:
        on_dask = compare(small, name="small", reps=3, executor=dask)
    for other in (two, on_dask):
        assert one.runs.equals(other.runs)
        for framing in one.tables:
            assert one.tables[framing].equals(other.tables[framing])
            assert one.paths_by_framing[framing].equals(other.paths_by_framing[framing])
    png = figure_png(one)
    assert png == figure_png(on_dask)
    assert html_report(one, png) == html_report(on_dask, figure_png(on_dask))
    other_seed = compare(small, name="small", reps=3, seed=4)
    assert not other_seed.runs["final_share"].equals(one.runs["final_share"])


def test_a_replication_has_the_same_seed_and_run_in_compare_and_in_a_sweep(
        small: Scenario, tmp_path: Path) -> None:
    from experiments.sweeps.spec import parse_spec
    from experiments.sweeps.store import read_runs
    from experiments.sweeps.sweep import run_sweep

    path = tmp_path / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    spec = parse_spec({"name": "two-arms", "base": str(path), "steps": small.steps,
                       "levers": {"structure": {"levels": ["inside_out", "outside_in"]}},
                       "replications": 3, "seed": small.seed})
    run_sweep(spec, tmp_path / "out", workers=1)
    swept = read_runs(tmp_path / "out").sort_values(["structure", "replication"])
    result = compare(small, name="small", reps=3, framing="swap")
    ours = result.runs[result.runs["framing"] == "swap"].sort_values(["organization", "rep"])
    assert list(swept["seed"]) == list(ours["seed"])
    assert list(swept["seed"])[:3] == [replication_seed(small.seed, r) for r in range(3)]
    # the same seed and the same firm: the same run
    assert np.allclose(swept["final_share"], ours["final_share"])
    assert np.allclose(swept["cumulative_profit"], ours["cumulative_profit"])


def test_pairing_narrows_the_difference_s_interval() -> None:
    # a stable market, the focal firm organized either way against the same rival: the
    # market each replication draws moves both arms alike, and pairing removes that
    scenario = load_scenario("stable-market")
    result = compare(scenario, name="stable-market", reps=8, steps=120, framing="swap")
    table = result.table.set_index("outcome")
    paired = table["diff_high"] - table["diff_low"]
    unpaired = table["unpaired_high"] - table["unpaired_low"]
    for outcome in ("final_share", "cumulative_profit", "mean_awareness_gap"):
        assert paired[outcome] < unpaired[outcome], (outcome, paired, unpaired)
    assert table.loc["final_share", "diff_mean"] == pytest.approx(
        table.loc["final_share", "unpaired_mean"])  # the same difference, a narrower interval


def test_paths_have_bands_and_events_are_scheduled(small: Scenario) -> None:
    result = compare(small, name="small", reps=3)
    share = result.paths[(result.paths["metric"] == "market_share")
                         & (result.paths["organization"] == "outside_in")]
    assert list(share["step"]) == list(range(small.steps + 1))
    assert (share["low"] <= share["mean"] + 1e-12).all()
    assert (share["mean"] <= share["high"] + 1e-12).all()
    assert result.scheduled == [(8, "shock"), (16, "entrant")]
    # every band stays within what its series can take: shares in [0, 1], gaps and counts >= 0
    paths = result.paths.dropna(subset=["low", "high"])
    shares = paths[paths["metric"].isin(["market_share", "entrants_share"])]
    assert shares["low"].between(0.0, 1.0).all() and shares["high"].between(0.0, 1.0).all()
    assert (paths.loc[paths["metric"].isin(["awareness_gap", "action_gap", "failures"]),
                      "low"] >= 0.0).all()


def test_handout_names_its_framing_and_is_self_contained(small: Scenario) -> None:
    result = compare(small, name="small", reps=3)
    png = figure_png(result)
    assert png.startswith(b"\x89PNG")
    page = html_report(result, png)
    assert "data:image/png;base64," in page and "<script" not in page
    assert "src=\"http" not in page and "<link" not in page
    assert "Framing: head-to-head: the two organizations compete in one market" in page
    assert "Which organization does better?" in page
    cells = table_rows(result)
    assert 0 < len(cells) <= len(reg.COMPARED) and all(len(c) == 4 for c in cells)


def test_handout_shows_both_framings_where_they_disagree_in_sign(small: Scenario) -> None:
    result = compare(small, name="small", reps=3)
    swap = result.tables["swap"].copy()
    h2h = result.tables["head-to-head"].set_index("outcome")
    row = swap["outcome"] == "final_share"
    flipped = -h2h.loc["final_share", "diff_mean"] or 1.0
    swap.loc[row, ["diff_mean", "diff_low", "diff_high"]] = [flipped, flipped, flipped]
    clash = dataclasses.replace(result, tables={**result.tables, "swap": swap})
    if h2h.loc["final_share", "diff_mean"] != 0:
        assert "final_share" in clash.disagreements()
        page = html_report(clash, b"")
        assert "Where the two framings disagree" in page
        assert page.count("<td>final share</td>") == 3  # the table and one row per framing
    same = html_report(dataclasses.replace(result, tables={**result.tables,
                                                           "swap": result.tables["head-to-head"]}),
                       b"")
    assert "Where the two framings disagree" not in same


def test_a_reorganizing_timeline_is_compared_by_swap_and_says_why() -> None:
    scenario = load_scenario("reorganization")
    result = compare(scenario, name="reorganization", reps=2, steps=80,
                     overrides={"customers": 100})
    assert result.framing == "swap" and set(result.tables) == {"swap"}
    assert any("Head-to-head is not shown" in n and "reorganizes" in n for n in result.notes)
    with pytest.raises(OutsideInError, match="head-to-head is not defined"):
        compare(scenario, reps=2, steps=80, framing="head-to-head")


def test_bad_arguments_are_named(small: Scenario) -> None:
    with pytest.raises(ParameterError, match="reps"):
        compare(small, reps=0)
    with pytest.raises(ParameterError, match="workers"):
        compare(small, reps=2, workers=0)
    with pytest.raises(ParameterError, match="customers"):
        compare(small, reps=2, overrides={"customers": 1})
    with pytest.raises(ParameterError, match="seed"):
        compare(small, reps=2, seed=-1)


class _Dropping(Executor):
    """Runs in this process but loses the last run, as a broken backend might."""

    def map_unordered(self, chunks: Iterator[list[Task]]) -> Iterator[list[Record]]:
        batches = [run_tasks(chunk) for chunk in chunks]
        batches[-1] = batches[-1][:-1]
        yield from batches


class _Failing(Executor):
    """Runs in this process; the second run comes back as a failure."""

    def map_unordered(self, chunks: Iterator[list[Task]]) -> Iterator[list[Record]]:
        for chunk in chunks:
            records = run_tasks(chunk)
            for record in records:
                if record.run_id == 1:
                    record.ok, record.error = False, "ValueError: broken on purpose"
            yield records


def test_a_lost_or_failed_run_is_an_error_not_a_smaller_table(small: Scenario) -> None:
    with pytest.raises(MissingRunsError, match="never came back"):
        compare(small, reps=2, executor=_Dropping())
    with pytest.raises(RunsFailedError, match="1 of 6 runs failed.*run 1 .*broken on purpose"):
        compare(small, reps=2, executor=_Failing())


def test_named_organizations_are_compared() -> None:
    scenario = load_scenario("partner-ecosystem")
    result = compare(scenario, reps=2, steps=6, overrides={"customers": 100})
    assert result.labels == ("alone", "partnered")
    assert set(result.runs["organization"]) == {"alone", "partnered"}


def _with_focal_levers(tmp_path: Path, compare_entries: object | None = None) -> Path:
    data: dict[str, object] = {
        "extends": "turbulent-market",
        "firms": [{"name": "Focal", "structure": "inside_out",
                   "levers": {"clout": 0.7, "coordination": 0.5}},
                  {"name": "Rival", "structure": "outside_in"}]}
    if compare_entries is not None:
        data["compare"] = compare_entries
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_compare_uses_the_focal_firm_s_own_levers(tmp_path: Path) -> None:
    scenario = load_scenario(_with_focal_levers(tmp_path))
    arms = scenario.arms()
    mine = next(a for a in arms if a.label == "inside_out")
    assert mine.focal_firm and mine.levers == {"clout": 0.7, "coordination": 0.5}
    # the arm is the firm `run` and the app build from the same file
    assert scenario.to_params(**mine.overrides()) == scenario.to_params()
    result = compare(scenario, name="mine", reps=2, steps=12, overrides={"customers": 100})
    assert any("inside-out is the scenario's own focal firm Focal" in n for n in result.notes)
    assert "clout 0.7" in html_report(result, b"")


def test_compare_refuses_to_drop_the_focal_firm_s_levers(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from simulation.cli import main

    path = _with_focal_levers(tmp_path, ["outside_in", {"label": "lean", "structure":
                                                        "outside_in", "levers": {"clout": 0.1}}])
    scenario = load_scenario(path)
    with pytest.raises(ScenarioError) as err:
        compare(scenario, name="mine", reps=2)
    assert err.value.field == "compare"
    assert "coordination=0.5, clout=0.7" in str(err.value) and "'inside_out'" in str(err.value)
    out = tmp_path / "out"
    assert main(["compare", str(path), "--reps", "2", "--out", str(out), "-q"]) == 2
    assert not out.exists()
    message = capsys.readouterr().err.strip()
    assert len(message.splitlines()) == 1
    assert f"{path}: compare: firms[0] (Focal) sets levers" in message


def test_every_compare_flag_reaches_the_library(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from distributed import LocalCluster

    from simulation.cli import main

    monkeypatch.setenv("COLUMNS", "200")
    path = tmp_path / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    args = ["compare", str(path), "--reps", "2", "--steps", "10", "--framing", "swap", "-q"]
    assert main([*args, "--workers", "1", "--out", str(tmp_path / "local")]) == 0
    printed = capsys.readouterr().out
    assert "swap: the focal firm organized one way or the other" in printed
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                      dashboard_address=None) as cluster:
        assert main([*args, "--scheduler", cluster.scheduler_address,
                     "--out", str(tmp_path / "dask")]) == 0
    local = (tmp_path / "local" / "small-table.csv").read_text()
    assert local == (tmp_path / "dask" / "small-table.csv").read_text()
    assert "head-to-head" in local and "swap" in local  # both framings' numbers are kept
    capsys.readouterr()
    assert main(["compare", str(path), "--framing", "sideways", "--out",
                 str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("--framing: 'sideways' is not one of head-to-head, swap")
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize("name", ["turbulent-market", "low-end-disruption", "partner-ecosystem",
                                  "reorganization"])
def test_a_role_read_from_its_twin_is_the_same_model_run(name: str) -> None:
    # twins() may skip a run only where the two roles build the very same model: run both
    # on one seed and compare their whole per-month tables.
    from experiments.comparison.compare import head_to_head_problem, role_model, roles, twins
    from simulation.model import OrgModel

    scenario = load_scenario(name)
    arms = scenario.arms(name)
    plan = roles(not head_to_head_problem(scenario, arms))
    found = twins(scenario, arms, plan, {"customers": 300})
    expected = {"turbulent-market": {0: 2}, "low-end-disruption": {1: 3},
                "partner-ecosystem": {}, "reorganization": {}}[name]
    assert found == expected
    for k, j in found.items():
        a, b = (OrgModel(rng=5, **role_model(scenario, arms, plan[i], {"customers": 300})[0])
                .run(60) for i in (k, j))
        assert np.array_equal(a._rows.data, b._rows.data)
        assert [f.name for f in a.firms] == [f.name for f in b.firms]


def test_reading_twins_gives_the_comparison_running_every_role_gives(
        small: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    import experiments.comparison.compare as module

    ran: list[int] = []
    real_run_all = module.run_all

    def counting(tasks: list[Task], **kw: object) -> list[Record]:
        ran.append(len(tasks))
        return real_run_all(tasks, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(module, "run_all", counting)
    read = compare(small, name="small", reps=3)
    monkeypatch.setattr(module, "twins", lambda *args: {})
    every = compare(small, name="small", reps=3)
    assert ran == [9, 12]  # the swap run of the focal firm's own organization is read
    assert read.runs.equals(every.runs) and read.encounters.equals(every.encounters)
    assert read.random_events == every.random_events
    for framing in every.tables:
        assert read.tables[framing].equals(every.tables[framing])
        assert read.paths_by_framing[framing].equals(every.paths_by_framing[framing])
