"""Common-random-numbers comparison: its statistics, its determinism, its handout."""

from __future__ import annotations

import dataclasses
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from simulation.compare import (
    OUTCOMES,
    compare,
    mean_interval,
    paired_difference,
    replication_seeds,
)
from simulation.errors import ParameterError
from simulation.report import figure_png, html_report, table_rows
from simulation.scenario import Scenario, load_scenario, parse_scenario

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


def test_mean_interval_by_hand() -> None:
    # x = 1, 2, 3, 4, 5: mean 3, s = sqrt(2.5), t(0.975, 4) = 2.7764451051977987
    got = mean_interval([1, 2, 3, 4, 5])
    half = 2.7764451051977987 * math.sqrt(2.5) / math.sqrt(5)
    assert got.n == 5 and got.mean == 3.0
    assert got.low == pytest.approx(3 - half, abs=1e-12)
    assert got.high == pytest.approx(3 + half, abs=1e-12)


def test_paired_difference_by_hand() -> None:
    a = [0.30, 0.25, 0.40, 0.35]
    b = [0.38, 0.30, 0.41, 0.45]
    # d = 0.08, 0.05, 0.01, 0.10: mean 0.06; s^2 = (0.0004+0.0001+0.0025+0.0016)/3 = 0.0046/3
    # t(0.975, 3) = 3.182446305284263; half = t * sqrt(0.0046/3) / 2
    half = 3.182446305284263 * math.sqrt(0.0046 / 3) / 2
    got = paired_difference(a, b)
    assert got.n == 4
    assert got.mean == pytest.approx(0.06, abs=1e-12)
    assert (got.low, got.high) == (pytest.approx(0.06 - half, abs=1e-12),
                                   pytest.approx(0.06 + half, abs=1e-12))
    assert paired_difference(b, a).mean == pytest.approx(-0.06, abs=1e-12)  # b - a, not a - b


def test_pairs_with_a_missing_value_are_dropped_whole() -> None:
    got = paired_difference([1.0, np.nan, 3.0, 2.0], [2.0, 5.0, np.nan, 4.0])
    assert got.n == 2 and got.mean == pytest.approx(1.5)
    assert math.isnan(mean_interval([1.0]).low) and mean_interval([]).n == 0
    flat = mean_interval([2.0, 2.0, 2.0])
    assert (flat.low, flat.mean, flat.high) == (2.0, 2.0, 2.0)
    with pytest.raises(ValueError, match="differ in length"):
        paired_difference([1, 2], [1, 2, 3])


def test_seeds_come_from_the_root_seed_sequence() -> None:
    seeds = replication_seeds(7, 5)
    assert seeds == replication_seeds(7, 5) and len(set(seeds)) == 5
    assert replication_seeds(7, 3) == seeds[:3]  # more reps extend, never reshuffle
    assert replication_seeds(8, 5) != seeds
    assert seeds[0] == int(np.random.SeedSequence(7).spawn(1)[0].generate_state(1)[0])


def test_table_matches_the_runs_by_hand(small: Scenario) -> None:
    result = compare(small, name="small", reps=4)
    assert result.labels == ("inside_out", "outside_in")
    assert list(result.table["outcome"]) == list(OUTCOMES)
    a = result.runs[result.runs["organization"] == "inside_out"].sort_values("rep")
    b = result.runs[result.runs["organization"] == "outside_in"].sort_values("rep")
    assert list(a["seed"]) == list(b["seed"]) == replication_seeds(3, 4)  # common seeds
    row = result.table.set_index("outcome").loc["final_share"]
    d = b["final_share"].to_numpy() - a["final_share"].to_numpy()
    half = 3.182446305284263 * d.std(ddof=1) / 2
    assert row["diff_mean"] == pytest.approx(d.mean(), abs=1e-12)
    assert row["diff_low"] == pytest.approx(d.mean() - half, abs=1e-12)
    assert row["diff_high"] == pytest.approx(d.mean() + half, abs=1e-12)
    assert row["a_mean"] == pytest.approx(a["final_share"].mean(), abs=1e-12)
    assert row["pairs"] == 4


def test_same_seed_same_report_whatever_the_workers(small: Scenario) -> None:
    first = compare(small, name="small", reps=3)
    with ThreadPoolExecutor(2) as pool:  # another executor, another completion order
        second = compare(small, name="small", reps=3, executor=pool)
    assert first.runs.equals(second.runs) and first.table.equals(second.table)
    png = figure_png(first)
    assert png == figure_png(second)
    assert html_report(first, png) == html_report(second, figure_png(second))
    other = compare(small, name="small", reps=3, seed=4)
    assert not other.runs["final_share"].equals(first.runs["final_share"])


@pytest.mark.slow
# Python warns on any fork of a process with native threads (here OpenBLAS's pool, which
# re-initialises itself in the child); compare forks only when no Python thread runs.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_process_workers_give_the_same_numbers(small: Scenario) -> None:
    serial = compare(small, name="small", reps=4, workers=1)
    parallel = compare(small, name="small", reps=4, workers=2)
    assert serial.runs.equals(parallel.runs) and serial.paths.equals(parallel.paths)


def test_paths_have_bands_and_events_are_scheduled(small: Scenario) -> None:
    result = compare(small, name="small", reps=3)
    share = result.paths[(result.paths["metric"] == "market_share")
                         & (result.paths["organization"] == "outside_in")]
    assert list(share["step"]) == list(range(small.steps + 1))
    assert (share["low"] <= share["mean"] + 1e-12).all()
    assert (share["mean"] <= share["high"] + 1e-12).all()
    assert result.scheduled == [(8, "shock"), (16, "entrant")]


def test_handout_is_self_contained(small: Scenario) -> None:
    result = compare(small, name="small", reps=3)
    png = figure_png(result)
    assert png.startswith(b"\x89PNG")
    page = html_report(result, png)
    assert "data:image/png;base64," in page and "<script" not in page
    assert "src=\"http" not in page and "<link" not in page
    assert page.count("<tr>") == len(OUTCOMES) + 1 and "Which organization does better?" in page
    cells = table_rows(result)
    assert len(cells) == len(OUTCOMES) and all(len(c) == 5 for c in cells)


def test_bad_arguments_are_named(small: Scenario) -> None:
    with pytest.raises(ParameterError, match="reps"):
        compare(small, reps=0)
    with pytest.raises(ParameterError, match="workers"):
        compare(small, reps=2, workers=0)
    with pytest.raises(ParameterError, match="customers"):
        compare(small, reps=2, overrides={"customers": 1})


def test_a_lost_run_is_an_error_not_a_smaller_table(small: Scenario) -> None:
    class Lossy(ThreadPoolExecutor):
        """Hands back replication 0 in place of every third run, as a broken backend might."""

        def __init__(self) -> None:
            super().__init__(1)
            self.count = 0

        def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
            self.count += 1
            if self.count % 3 == 0:
                scenario, task = args
                args = (scenario, dataclasses.replace(task, rep=0))
            return super().submit(fn, *args, **kwargs)

    with Lossy() as pool, pytest.raises(RuntimeError, match="6 runs planned"):
        compare(small, reps=3, executor=pool)
    with pytest.raises(ParameterError, match="seed"):
        compare(small, reps=2, seed=-1)


def test_named_organizations_are_compared(tmp_path: Path) -> None:
    scenario = load_scenario("partner-ecosystem")
    result = compare(scenario, reps=2, steps=6, overrides={"customers": 100})
    assert result.labels == ("alone", "partnered")
    assert set(result.runs["organization"]) == {"alone", "partnered"}
