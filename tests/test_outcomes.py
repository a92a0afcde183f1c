"""The outcome registry: every outcome and event any face shows is defined there, once."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from simulation import OrgModel
from simulation import outcomes as reg
from simulation.model import RESULT_COLUMNS
from simulation.params import LEVERS

SPECS = sorted((Path(__file__).resolve().parent.parent / "experiments" / "specs").glob("*.yaml"))

STATE_COLUMNS = {"step", "firm", "structure", "alive", "in_transition", *LEVERS}
"""Columns of the per-step table that identify a row or hold the firm's state, not a measure."""


def _shown() -> dict[str, set[str]]:
    """Every outcome name a table, handout, report or app panel uses, by who uses it."""
    from experiments.sweeps.spec import load_spec
    from simulation.agents import METRICS
    from simulation.figures import PANELS  # what the run figure draws
    from simulation.model import FOCAL_REPORTERS
    from simulation.viz.controller import METRICS as APP_METRICS
    from simulation.viz.texts import METRIC_TEXT

    model = OrgModel(customers=200, rng=1)
    model.run(3)
    reports = {n for path in SPECS for n in load_spec(path).analysis.outcomes}
    return {
        "model summary": set(model.summary()),
        "per-step table": set(RESULT_COLUMNS) - STATE_COLUMNS,
        "firm metrics": set(METRICS),
        "model reporters": set(FOCAL_REPORTERS),
        "compare table": set(reg.COMPARED),
        "handout figure": set(reg.TRAJECTORIES),
        "run figure": set(PANELS),
        "app panels": set(METRIC_TEXT) | set(APP_METRICS),
        "sweep reports": reports,
    }


def test_every_outcome_shown_anywhere_is_registered_with_a_label_and_a_unit() -> None:
    for face, names in _shown().items():
        for name in names:
            found = reg.outcome(name)  # raises KeyError naming it if it is not registered
            assert found.name == name, face
            assert found.label and found.title and found.unit, (face, name)
            assert found.better in ("higher", "lower", "neither"), (face, name)


def test_the_registry_is_the_model_s_whole_vocabulary() -> None:
    shown = _shown()
    assert shown["model summary"] == set(reg.OUTCOMES)  # nothing unregistered, nothing stale
    assert shown["per-step table"] == set(reg.SERIES)
    assert not set(reg.OUTCOMES) & set(reg.SERIES)  # a name means one thing


def test_every_event_the_model_records_is_registered() -> None:
    from simulation.figures import EVENT_STYLE

    model = OrgModel(customers=200, rng=1, shock_steps=(2,), entrant_steps=(2,),
                     new_segment_steps=(2,), emerging_segments=1, reorganize_step=3,
                     starting_cash=0.0)
    model.run(6)
    kinds = {e["kind"] for e in model.events}
    assert {"shock", "entrant", "new_segment", "reorganization"} <= kinds
    assert kinds <= set(reg.EVENTS)
    from simulation.viz.texts import EVENT_TEXT, METRIC_UNITS

    assert set(EVENT_STYLE) == set(reg.EVENTS) and set(EVENT_TEXT) <= set(reg.EVENTS)
    assert all(e.label and e.colour.startswith("#") and e.description
               for e in reg.EVENTS.values())
    assert all(METRIC_UNITS[name] == reg.SERIES[name].scale != "" for name in reg.PANELS)


def test_an_undefined_outcome_says_why_and_is_nan_everywhere() -> None:
    from experiments.comparison.compare import compare
    from experiments.comparison.handout import html_report
    from experiments.engine.runner import org_model
    from simulation.scenario_files import parse_scenario

    undefined = {n for n, o in reg.OUTCOMES.items() if o.undefined}
    assert undefined == {"mean_time_to_recover", "share_in_business"}
    doomed = OrgModel(rng=1, customers=150, starting_cash=0.1, fixed_cost=2.0).run(20)
    assert doomed.summary()["months_in_business"] < 12
    assert math.isnan(doomed.summary()["share_in_business"])  # failed in the warm-up
    calm = {"customers": 150, "shock_rate": 0.0, "new_segment_rate": 0.0, "entrant_rate": 0.0}
    model = OrgModel(rng=2, **calm)
    model.run(12)
    assert model.summary()["shocks"] == 0
    assert math.isnan(model.summary()["mean_time_to_recover"])  # not 0.0
    swept, _ = org_model(calm, 2, steps=12)
    assert math.isnan(swept["mean_time_to_recover"])
    scenario = parse_scenario(
        "title: Calm\ndescription: d\nteaches: t\nquestions: [q]\nsteps: 12\n"
        "market: {customers: 150, shock_rate: 0.0, new_segment_rate: 0.0}\n"
        "entrants: {rate: 0.0}\nfirms: [{name: A}, {name: B, structure: outside_in}]\n")
    result = compare(scenario, reps=2)
    row = result.table.set_index("outcome").loc["mean_time_to_recover"]
    assert row["undefined"] == 4 and math.isnan(row["a_mean"]) and row["pairs"] == 0
    page = html_report(result, b"")
    assert "months to recover: no needs shock happened in any run, so there is nothing to " \
        "measure" in page  # the row is hidden and the reason given in words
    assert "<td>months to recover" not in page


@pytest.mark.parametrize("name", ["final_share", "market_share", "shock"])
def test_labels_come_from_the_registry(name: str) -> None:
    assert reg.label(name) in {o.label for o in (*reg.OUTCOMES.values(), *reg.SERIES.values())} \
        | {e.label for e in reg.EVENTS.values()}
    with pytest.raises(KeyError, match="not a registered outcome"):
        reg.outcome("final_shares")


def test_a_spec_s_outcomes_are_checked_against_the_registry() -> None:
    from experiments.sweeps.spec import SpecError, parse_spec

    spec = {"name": "t", "base": {"customers": 200}, "analysis": {"outcomes": ["final_shar"]},
            "levers": {"structure": {"levels": ["inside_out", "outside_in"]}}}
    with pytest.raises(SpecError, match="analysis.outcomes: 'final_shar' is not an outcome"):
        parse_spec(spec)


def test_every_per_run_outcome_and_encounter_says_how_it_is_computed() -> None:
    for name, found in {**reg.OUTCOMES, **reg.ENCOUNTERS}.items():
        assert len(found.computed.split()) >= 5, name


def test_one_name_per_encounter_in_the_model_compare_and_the_pattern_measures() -> None:
    from experiments.comparison.compare import _encounters
    from experiments.patterns.catalog import MEASURES

    model = OrgModel(customers=200, rng=1, entrant_steps=(2,), new_segment_steps=(2,),
                     emerging_segments=1)
    model.run(6)
    noticed, served = model.disruptions(), model.emergences()
    assert {"time_to_notice", "time_to_answer"} <= set(noticed.columns)
    assert "time_to_serve" in served.columns
    kinds = {key.split("/")[0] for key in _encounters(model, model.focal.name)}
    assert kinds == {"entry", "emerge", *reg.ENCOUNTERS}
    assert {"f0_time_to_notice", "f0_time_to_serve"} <= set(MEASURES)
    every_name = {*noticed.columns, *served.columns, *MEASURES}
    assert not [n for n in every_name if "detect" in n]


def test_the_run_summary_refuses_an_outcome_the_registry_does_not_name(monkeypatch) -> None:
    import simulation.metrics as metrics

    model = OrgModel(customers=200, rng=1).run(3)
    fewer = {k: v for k, v in reg.OUTCOMES.items() if k != "share_advantage"}
    monkeypatch.setattr(metrics, "OUTCOMES", fewer)
    with pytest.raises(KeyError, match="share_advantage"):
        model.summary()
