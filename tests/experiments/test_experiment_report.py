"""The analysis report as a researcher publishes from it: Morris and Sobol sweeps."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.sweeps import analysis, plots, report
from experiments.sweeps.spec import parse_spec
from experiments.sweeps.sweep import run_sweep

PI = math.pi


def _sweep(tmp_path: Path, design: dict[str, object]) -> Path:
    spec = parse_spec({
        "name": f"small-{design['kind']}", "model": "experiments.sweeps.testfunctions:ishigami",
        "seed": 7, "design": design,
        "levers": {"x1": {"range": [-PI, PI]}},
        "conditions": {"x2": {"range": [-PI, PI]}, "x3": {"range": [-PI, PI]}},
        "analysis": {"outcomes": ["y"], "discovery": {"outcome": "y", "below": 0.0}}})
    out = tmp_path / str(design["kind"])
    result = run_sweep(spec, out, workers=1)
    assert result.completed == result.planned
    return out


def _html(out: Path) -> tuple[str, Path]:
    built = report.build(analysis.load(out), command=f"outsidein analyze {out}")
    path = report.write(built, out / "report")
    return path.read_text(encoding="utf-8"), out / "report"


def _common(page: str, folder: Path) -> None:
    assert "PRIM peeling trajectory" in page
    assert "happens mostly where" in page or "PRIM found no box" in page
    assert "outsidein analyze" in page and "root seed 7" in page and "numpy" in page
    for png in (folder / "figures").glob("*.png"):  # every figure also as vector files
        assert png.with_suffix(".svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
        assert png.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    assert not re.search(r"<tr>\s*<th>0</th>", page)  # no raw 0, 1, 2 index column
    text = re.sub(r"data:image/png;base64,[^\"]+", "", page)
    assert "e+0" not in text and "e-0" not in text  # plain numbers, no e-notation
    assert "lever × condition" in page and "condition × condition" in page


def test_a_morris_report_sorts_by_mu_star_and_plots_mu_star_against_sigma(
        tmp_path: Path) -> None:
    out = _sweep(tmp_path, {"kind": "morris", "trajectories": 6, "levels": 4})
    page, folder = _html(out)
    _common(page, folder)
    assert "Morris mu-star against sigma" in page and "<th>mu_star" not in page
    assert (folder / "figures" / "y__morris_mu_star_against_sigma.svg").exists()
    mu = pd.read_csv(folder / "tables" / "y__morris_indices.csv")["mu_star"]
    assert list(mu) == sorted(mu, reverse=True)
    assert page.count("<tr") < 60  # the summary is one row, not one per sample


def test_a_sobol_report_warns_on_indices_it_cannot_tell_from_zero(tmp_path: Path) -> None:
    out = _sweep(tmp_path, {"kind": "sobol", "samples": 8, "second_order": False})
    page, folder = _html(out)
    _common(page, folder)
    assert "Sobol indices" in page
    assert "add samples" in page  # 8 samples: x3's first-order index is noise


def test_a_constant_outcome_is_left_out_with_a_note() -> None:
    from experiments.sweeps.analysis import Experiment

    spec = parse_spec({"name": "c", "model": "experiments.sweeps.testfunctions:ishigami",
                       "design": {"kind": "lhs", "samples": 20},
                       "levers": {"x1": {"range": [0, 1]}, "x2": {"range": [0, 1]}},
                       "analysis": {"outcomes": ["y", "survived"]}})
    rng = np.random.default_rng(0)
    runs = pd.DataFrame({"run_id": range(20), "sample_id": range(20), "replication": 0,
                         "x1": rng.uniform(size=20), "x2": rng.uniform(size=20),
                         "y": rng.normal(size=20), "survived": 1.0})
    built = report.build(Experiment(spec, {}, runs, pd.DataFrame(), pd.DataFrame()))
    assert any(n.startswith("survival (%) is the same (100.0) in every run: left out")
               for n in built.notes)
    assert not any("survived" in name for name in built.tables)


def test_heatmap_labels_read_on_dark_and_light_cells() -> None:
    runs = pd.DataFrame({"a": [0, 0, 1, 1], "b": [0, 1, 0, 1],
                         "final_share": [0.0, 0.3, 0.6, 1.0]})
    fig = plots.heatmap(runs, "a", "b", "final_share")
    texts = {t.get_text(): t.get_color() for t in fig.axes[0].texts}
    assert texts == {"0": "white", "30.0": "white", "60.0": "black", "100.0": "black"}
    assert fig.axes[0].get_title() == "mean final share (%)"
    assert plots.plain_number(17000.0) == "17,000" and plots.plain_number(0.5) == "0.50"


@pytest.mark.parametrize("kinds", [("x1", "x2", "lever × condition")])
def test_interactions_are_named_for_what_they_are(kinds: tuple[str, str, str]) -> None:
    from experiments.sweeps.analysis import Experiment, interaction_kind

    spec = parse_spec({"name": "k", "model": "experiments.sweeps.testfunctions:ishigami",
                       "design": {"kind": "lhs", "samples": 4},
                       "levers": {"x1": {"range": [0, 1]}},
                       "conditions": {"x2": {"range": [0, 1]}, "x3": {"range": [0, 1]}}})
    exp = Experiment(spec, {}, pd.DataFrame(), pd.DataFrame(), pd.DataFrame())
    assert interaction_kind(exp, kinds[0], kinds[1]) == kinds[2]
    assert interaction_kind(exp, "x2", "x3") == "condition × condition"


def test_main_effects_draw_the_interval_made_for_each_outcome_kind() -> None:
    from experiments.intervals import bootstrap_interval, mean_interval, wilson_interval
    from experiments.sweeps.plots import main_effects

    survived = np.array([1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0])  # 7 of 8 at one level
    runs = pd.DataFrame({"turbulence": [0.0] * 8 + [0.1] * 8,
                         "survived": np.concatenate([survived, np.ones(8)]),
                         "final_share": np.linspace(0.0, 1.0, 16),
                         "money": np.linspace(-5.0, 5.0, 16)})
    for outcome, rule in (("survived", wilson_interval), ("final_share", bootstrap_interval)):
        fig = main_effects(runs, ["turbulence"], outcome)
        bars = fig.axes[0].containers[0]
        low, high = bars.lines[1][0].get_ydata(), bars.lines[1][1].get_ydata()
        for i, level in enumerate((0.0, 0.1)):
            want = rule(runs.loc[runs["turbulence"] == level, outcome].to_numpy())
            assert (low[i], high[i]) == pytest.approx((want.low, want.high)), outcome
        assert low.min() >= 0.0 and high.max() <= 1.0  # a proportion stays a proportion
    # a column the registry does not know (a spec's own model) gets Student's t
    fig = main_effects(runs, ["turbulence"], "money")
    bars = fig.axes[0].containers[0]
    want = mean_interval(runs["money"].to_numpy()[:8])
    assert bars.lines[1][0].get_ydata()[0] == pytest.approx(want.low)


def test_shares_are_shown_in_percent_as_their_labels_say() -> None:
    wide = pd.DataFrame({("final_share", "mean"): [0.25], ("final_share", "count"): [4],
                         ("cumulative_profit", "mean"): [3.5]})
    wide.columns = pd.MultiIndex.from_tuples(wide.columns)
    shown = report.in_percent(wide)
    assert shown[("final_share", "mean")].tolist() == [25.0]
    assert shown[("final_share", "count")].tolist() == [4]  # counts stay counts
    assert shown[("cumulative_profit", "mean")].tolist() == [3.5]
    long = pd.DataFrame({"outcome": ["survived", "cumulative_profit"], "mean": [0.5, 2.0],
                         "low": [0.25, 1.0], "high": [0.75, 3.0], "pairs": [8, 8]})
    shown = report.in_percent(long)
    assert shown["mean"].tolist() == [50.0, 2.0] and shown["low"].tolist() == [25.0, 1.0]
    assert shown["pairs"].tolist() == [8, 8]
    assert "survival (%)" in report.readable(long)["outcome"].tolist()
    # a sampled design's summary: an outcome per row, in the index
    sampled = pd.DataFrame({"mean": [0.3, 2.0], "std": [0.1, 1.0], "count": [8, 8]},
                           index=pd.Index(["final_share", "cumulative_profit"], name="outcome"))
    shown = report.in_percent(sampled)
    assert shown["mean"].tolist() == [30.0, 2.0] and shown["std"].tolist() == [10.0, 1.0]
    assert shown["count"].tolist() == [8, 8]


def test_a_report_of_part_of_a_design_says_so() -> None:
    from experiments.sweeps.analysis import Experiment

    spec = parse_spec({"name": "c", "model": "experiments.sweeps.testfunctions:ishigami",
                       "design": {"kind": "lhs", "samples": 20},
                       "levers": {"x1": {"range": [0, 1]}, "x2": {"range": [0, 1]}},
                       "analysis": {"outcomes": ["y"]}})
    rng = np.random.default_rng(0)
    runs = pd.DataFrame({"run_id": range(20), "sample_id": range(20), "replication": 0,
                         "x1": rng.uniform(size=20), "x2": rng.uniform(size=20),
                         "y": rng.normal(size=20)})
    whole = report.build(Experiment(spec, {}, runs, pd.DataFrame(), pd.DataFrame()))
    assert not any("Only part of the design" in n for n in whole.notes)
    part = report.build(Experiment(spec, {"selection": "--max-runs 20: 20 of 80 runs"}, runs,
                                   pd.DataFrame(), pd.DataFrame()))
    assert any(n.startswith("Only part of the design was run (--max-runs 20: 20 of 80 runs)")
               for n in part.notes)
