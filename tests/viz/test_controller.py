"""Component tests of the app's state logic, without a browser, on the real model."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simulation import OrgModel
from simulation import outcomes as reg
from simulation.params import DEFAULT_SEED, PARAMETERS, FirmSpec
from simulation.presets import PRESETS
from simulation.viz import scenarios
from simulation.viz.controller import METRICS, RunController
from tests.viz.browser import ROOT

SMALL = {"customers": 600}
OUTSIDE_IN = PRESETS["outside_in"].lever_values()
INSIDE_OUT = PRESETS["inside_out"].lever_values()


class Factory:
    """Builds small real models and remembers what it was asked for."""

    def __init__(self, **fixed: Any) -> None:
        self.fixed = {**SMALL, **fixed}
        self.calls: list[tuple[Any, dict[str, Any]]] = []

    def __call__(self, scenario: Any, **kwargs: Any) -> OrgModel:
        self.calls.append((scenario, kwargs))
        if scenario is not None:
            return OrgModel.from_scenario(scenario, **kwargs)
        return OrgModel(**{**self.fixed, **kwargs})


class Scenario:
    """A stand-in for a loaded scenario: what ``to_model_kwargs`` gives, plus its texts."""

    def __init__(self, title: str = "", **kwargs: Any) -> None:
        self.title = title
        self.description = self.teaches = ""
        self.questions: list[str] = []
        self.steps = 240  # a scenario's default length
        self.kwargs = {**SMALL, **kwargs}

    def scheduled_events(self) -> list[tuple[int, str]]:
        return []

    def to_model_kwargs(self, **overrides: Any) -> dict[str, Any]:
        return {**self.kwargs, **overrides}


@pytest.fixture
def factory() -> Factory:
    return Factory()


@pytest.fixture
def run(factory: Factory) -> RunController:
    return RunController(model_factory=factory)


def events(run: RunController) -> list[tuple[int, str]]:
    return [(e.step, e.kind) for e in run.events()]


def test_starts_at_month_zero_with_controls_read_off_the_model(run: RunController) -> None:
    assert run.month == 0
    assert run.error is None
    assert run.settings.structures == ["outside_in", "inside_out"]
    assert run.settings.levers[0] == OUTSIDE_IN
    assert set(run.traces) == {"focal", "rival"}
    assert run.traces["focal"].steps == [0]


def test_the_traces_are_the_models_own_table(run: RunController) -> None:
    # ... with money in months of revenue, as the handout shows it
    run.step(5)
    assert run.month == 5
    table = run.model.results()
    fair = run.model.fair_revenue
    for name, trace in run.traces.items():
        rows = table[table["firm"] == name]
        assert trace.steps == list(range(6)) == rows["step"].tolist()
        for metric in METRICS:
            scale = fair if reg.SERIES[metric].unit == "revenue-months" else 1.0
            assert trace.values[metric] == pytest.approx((rows[metric] / scale).tolist())
    assert any(reg.SERIES[m].unit == "revenue-months" for m in METRICS)
    card = run.firm_cards()[0]
    assert card["cash"] == pytest.approx(run.model.firms[0].cash / fair)


def test_every_change_bumps_the_version(run: RunController) -> None:
    v, sv = run.version, run.settings_version
    run.step()
    assert (run.version, run.settings_version) == (v + 1, sv)  # a month leaves the controls
    run.set_lever("clout", 0.3)
    run.set_seed("oops")
    assert (run.version, run.settings_version) == (v + 3, sv + 2)


@pytest.mark.parametrize("value", [1.5, -0.1, math.nan, "x", True])
def test_an_impossible_lever_value_is_a_message_not_a_crash(run: RunController,
                                                           value: Any) -> None:
    run.set_lever("clout", value)
    assert run.error is not None
    assert run.error.startswith("clout:") and "[0, 1]" in run.error
    assert run.settings.levers[0]["clout"] == OUTSIDE_IN["clout"]


def test_unknown_lever_names_the_levers(run: RunController) -> None:
    run.set_lever("charisma", 0.5)
    assert run.error is not None and "charisma" in run.error and "coordination" in run.error


def test_a_good_value_clears_the_message(run: RunController) -> None:
    run.set_lever("clout", 2.0)
    run.set_lever("clout", 0.25)
    assert run.error is None and run.settings.levers[0]["clout"] == 0.25


def test_the_default_market_starts_on_the_parameter_tables_seed(
        run: RunController, factory: Factory) -> None:
    assert run.settings.seed == run.applied_seed == DEFAULT_SEED == 42
    assert factory.calls[-1][1]["rng"] == DEFAULT_SEED


@pytest.mark.parametrize("text", ["abc", "-3", "1.5", ""])
def test_a_bad_seed_is_a_message(run: RunController, text: str) -> None:
    run.set_seed(text)
    assert run.error is not None and run.error.startswith("seed:")
    assert run.settings.seed == DEFAULT_SEED


def test_turbulence_and_disruptor_rate_outside_their_bounds_are_refused(
        run: RunController) -> None:
    run.set_turbulence(0.9)
    assert run.error == "turbulence: 0.9 is outside [0, 0.5]"
    run.set_entrant_rate(-1)
    assert run.error == "entrant_rate: -1 is outside [0, 1]"
    assert run.settings.turbulence == PARAMETERS["turbulence"].default
    assert run.settings.entrant_rate == PARAMETERS["entrant_rate"].default


def test_reset_builds_a_new_run_from_the_controls(run: RunController, factory: Factory) -> None:
    run.step(5)
    run.set_seed(" 42 ")
    run.set_structure(1, "outside_in")
    run.set_lever("cooperation", 0.35)
    run.set_turbulence(0.1)
    run.set_entrant_rate(0.02)
    run.reset()
    assert run.month == 0 and run.traces["focal"].steps == [0]
    _, kwargs = factory.calls[-1]
    assert kwargs["rng"] == 42
    focal_spec, rival_spec = kwargs["firms"]
    assert (focal_spec.name, focal_spec.structure) == ("focal", "outside_in")
    assert (rival_spec.name, rival_spec.structure) == ("rival", "outside_in")
    assert focal_spec.levers == {**OUTSIDE_IN, "cooperation": 0.35}
    assert kwargs["turbulence"] == 0.1 and kwargs["entrant_rate"] == 0.02
    focal, rival = run.model.firms
    assert focal.levers["cooperation"] == 0.35 and rival.structure == "outside_in"
    assert run.model.params.turbulence == 0.1


def assert_reset_replays(run: RunController, months: int) -> None:
    """Reset with unchanged settings repeats the run month for month."""
    run.step(months)
    first = run.csv()
    run.reset()
    run.step(months)
    assert run.csv() == first


def test_the_same_settings_give_the_same_run(run: RunController) -> None:
    assert_reset_replays(run, 6)


def test_picking_a_preset_for_the_focal_firm_moves_its_sliders(run: RunController) -> None:
    run.set_structure(0, "inside_out")
    assert run.settings.levers[0] == INSIDE_OUT
    run.set_structure(1, "outside_in")  # the rival's preset moves the rival's sliders only
    assert run.settings.levers[0] == INSIDE_OUT and run.settings.levers[1] == OUTSIDE_IN
    run.set_structure(0, "entrant")
    assert run.error is not None and "entrant" in run.error


def test_settings_wait_for_reset(run: RunController) -> None:
    model = run.model
    run.set_lever("clout", 0.1)
    run.step()
    assert run.model is model and model.firms[0].levers["clout"] == OUTSIDE_IN["clout"]


def test_a_disruptor_enters_and_is_drawn_dashed(run: RunController) -> None:
    run.step()
    run.disruptor_now()
    assert run.notice == "A disruptor enters the market."
    assert [c["name"] for c in run.firm_cards() if c["entrant"]] == ["entrant-1"]
    run.step()
    assert run.notice is None
    assert run.traces["entrant-1"].entrant and run.traces["entrant-1"].steps == [2]
    assert (2, "entrant") in events(run)
    chart = run.charts()["market_share"]
    assert 'data-event="entrant"' in chart and 'stroke-dasharray="5,3"' in chart


def test_a_shock_is_marked_on_every_chart(run: RunController) -> None:
    run.shock_now()
    run.step()
    assert (1, "shock") in events(run)
    assert [e.label for e in run.events() if e.kind == "shock"] == ["month 1: needs shock"]
    assert all('data-event="shock"' in c for c in run.charts().values())


def test_reorganize_to_the_other_preset_or_to_the_sliders(run: RunController) -> None:
    run.reorganize_now(1, "other")
    assert run.model.firms[1].transition.to_structure == "outside_in"
    run.step()
    run.set_lever("clout", 0.1)
    run.reorganize_now(0, "sliders")
    assert run.model.firms[0].transition.to_levers["clout"] == 0.1
    assert [k for _, k in events(run)].count("reorganization") == 2


def test_a_second_reorganize_click_in_the_same_month_is_not_paid_twice(
        run: RunController) -> None:
    run.step()
    run.reorganize_now(1, "other")
    run.reorganize_now(1, "other")
    assert run.error is None and run.notice is not None and "already" in run.notice
    assert [k for _, k in events(run)].count("reorganization") == 1
    run.step()
    run.reorganize_now(1, "other")  # a month later it is a new decision
    assert [k for _, k in events(run)].count("reorganization") == 2


def test_reorganize_failures_are_messages(run: RunController) -> None:
    run.reorganize_now(5, "other")
    assert run.error == "firm: 5 is not an incumbent of this run"
    run.reorganize_now(0, "sideways")
    assert run.error is not None and "sideways" in run.error


def test_the_model_refusing_an_action_is_a_message(run: RunController) -> None:
    run.settings.levers[0]["clout"] = 7.0  # as if something slipped past the slider
    run.reorganize_now(0, "sliders")
    assert run.error == "reorganize_to.clout: 7.0 is outside [0, 1]"


def test_failed_firms_are_drawn_and_cannot_reorganize() -> None:
    run = RunController(model_factory=Factory(starting_cash=0.5, fixed_cost=1.5))
    run.step(5)
    assert [c["alive"] for c in run.firm_cards()] == [False, False]
    assert "<svg" in run.network_svg(0) and "<svg" in run.market_svg(0, 1)
    assert all(math.isnan(v) for v in run.traces["focal"].values["cash"][-3:])
    run.reorganize_now(0, "other")
    assert run.error == "firm: focal has failed and cannot reorganize"


def test_a_broken_scenario_keeps_the_current_run(run: RunController, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(path: Path) -> Any:
        raise ValueError("turbulence: 2.0 is outside [0, 0.5]")

    monkeypatch.setattr(scenarios, "load", broken)
    run.step(2)
    model = run.model
    assert not run.choose_scenario(tmp_path / "bad.yaml")
    assert run.error == "Scenario bad.yaml could not be loaded: turbulence: 2.0 is outside [0, 0.5]"
    assert run.model is model and run.month == 2 and run.failed_loads == 1
    run.step()
    assert run.month == 3


def test_an_unexpected_failure_while_loading_is_still_a_message(
        run: RunController, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(path: Path) -> Any:
        raise KeyError("firms")

    monkeypatch.setattr(scenarios, "load", crash)
    version, settings_version = run.version, run.settings_version
    assert not run.choose_scenario(tmp_path / "odd.yaml")
    assert run.error == "Scenario odd.yaml could not be loaded: KeyError: 'firms'"
    assert run.failed_loads == 1
    assert (run.version, run.settings_version) == (version + 1, settings_version + 1)


def test_a_good_scenario_starts_a_run_of_it_with_its_seed_and_texts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = Scenario("Calm", rng=17, turbulence=0.0, structure="inside_out")
    scenario.description, scenario.teaches = "A calm market.", "Levers cost money."
    scenario.questions = ["Who wins?"]
    monkeypatch.setattr(scenarios, "load", lambda path: scenario)
    run = RunController(tmp_path / "calm.yaml")  # the default factory: OrgModel.from_scenario
    assert run.error is None and run.scenario is scenario
    assert run.settings.seed == 17 and run.settings.turbulence == 0.0
    assert run.settings.structures[0] == "inside_out" and run.settings.levers[0] == INSIDE_OUT
    assert run.scenario_text() == {"title": "Calm", "description": "A calm market.",
                                   "teaches": "Levers cost money.", "questions": ["Who wins?"]}
    assert run.csv_name() == "outside-in-calm-seed17-month0.csv"
    assert_reset_replays(run, 3)


def test_the_default_market_has_a_title(run: RunController) -> None:
    assert run.scenario_text()["title"] == "The default market"


def test_a_new_preset_for_an_explicit_firm_comes_whole(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    firms = (FirmSpec("Focal", "inside_out", {"connections": 0.9}),
             FirmSpec("Rival", "outside_in", {"clout": 0.5}))
    monkeypatch.setattr(scenarios, "load", lambda path: Scenario(firms=firms))
    factory = Factory()
    run = RunController(tmp_path / "s.yaml", model_factory=factory)
    assert run.settings.levers[0]["connections"] == 0.9
    run.set_structure(1, "inside_out")
    run.set_lever("clout", 0.4)
    run.reset()
    focal, rival = factory.calls[-1][1]["firms"]
    assert focal.structure == "inside_out" and focal.levers["clout"] == 0.4
    assert rival.structure == "inside_out" and dict(rival.levers) == INSIDE_OUT
    assert [f.levers["clout"] for f in run.model.firms] == [0.4, INSIDE_OUT["clout"]]


def test_csv_has_a_row_per_firm_and_month(run: RunController) -> None:
    run.step(4)
    lines = [line for line in run.csv().strip().splitlines() if not line.startswith("#")]
    assert lines[0].startswith("step,firm,") and lines[0].endswith(",events")
    assert len(lines) == 1 + 5 * 2
    # the table keeps the model's money; its header says how to read it as the charts do
    fair = f"divide by {run.model.fair_revenue:g}, one firm's fair share"
    assert any(line.startswith("# money") and fair in line for line in run.csv().splitlines())


def test_network_view_draws_every_department_and_link(run: RunController) -> None:
    for i, firm in enumerate(run.model.firms):
        links = np.asarray(firm.links)
        pairs = sum(1 for a in range(len(links)) for b in range(a + 1, len(links))
                    if max(links[a, b], links[b, a]) > 0)
        net = run.network_svg(i)
        assert net.count("<circle") == len(firm.departments)
        # every link drawn under the nodes and again, thin, over them: none is hidden
        assert net.count('data-link="under"') == net.count('data-link="over"') == pairs
    assert run.network_svg(0).count("<line") > run.network_svg(1).count("<line")  # silos


def test_market_view(run: RunController) -> None:
    m = run.model.market
    market = run.market_svg(0, 2)
    assert market.count("data-segment=") == len(m.segment_names)
    assert market.count('data-offering="focal"') == int(np.sum(m.active))
    names = run.dimension_names()
    assert f"{names[0]} →" in market and f"{names[2]} →" in market


def test_default_dimensions_are_where_segments_differ_most(run: RunController) -> None:
    m = run.model.market
    m.ideal = np.zeros_like(m.ideal)
    m.ideal[:, 1] = np.linspace(0, 1, len(m.ideal))
    m.ideal[:, 3] = np.linspace(1, 0.5, len(m.ideal))
    assert run.default_dimensions() == (1, 3)


def test_two_controllers_are_two_independent_runs(factory: Factory) -> None:
    a = RunController(model_factory=factory)
    b = RunController(model_factory=factory)
    a.step(3)
    a.set_lever("clout", 0.1)
    assert b.month == 0 and b.settings.levers[0]["clout"] == OUTSIDE_IN["clout"]


def test_reset_keeps_the_rivals_a_scenario_makes_from_competitors(tmp_path: Path) -> None:
    # One listed firm and three rivals from `competitors`: the controls set the first two;
    # a reset rebuilds the same market, all three rivals at the scenario's price.
    text = (ROOT / "scenarios" / "stable-market.yaml").read_text(encoding="utf-8")
    text = text.replace("  - name: Rival\n    structure: outside_in\n",
                        "competitors: {count: 3, structure: outside_in, price: 0.9}\n")
    (tmp_path / "three.yaml").write_text(text, encoding="utf-8")
    run = RunController(tmp_path / "three.yaml")
    assert run.error is None, run.error
    before = [(f.name, f.structure, f.price) for f in run.model.firms]
    run.reset()
    assert run.error is None, run.error
    assert [(f.name, f.structure, f.price) for f in run.model.firms] == before
    assert [f.price for f in run.model.firms[1:]] == [0.9, 0.9, 0.9]
    run.set_structure(1, "inside_out")
    run.reset()
    assert [f.structure for f in run.model.firms] == ["inside_out", "inside_out", "outside_in",
                                                      "outside_in"]


def test_a_scheduled_disruptor_is_drawn_from_its_first_month_not_from_zero() -> None:
    # It enters after month 2 is booked; its first month is 3. Drawing it at month 2 with
    # the zeros of a firm that has no figures yet made its lines jump up from 0.
    run = RunController(model_factory=Factory(entrant_steps=(3,)))
    for _ in range(2):
        run.step()
    assert [f.name for f in run.model.firms][-1] == "entrant-1"
    assert "entrant-1" not in run.traces
    run.step()
    trace = run.traces["entrant-1"]
    assert trace.steps == [3]
    table = run.model.results()
    first = table[table["firm"] == "entrant-1"].iloc[0]
    assert first["step"] == 3 and trace.values["satisfaction"] == [first["satisfaction"]] != [0]
