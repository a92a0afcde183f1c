"""Component tests of the app's state logic, without a browser (on a model stand-in)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simulation.viz import scenarios
from simulation.viz.controller import METRICS, RunController
from tests.viz.stub_model import LEVERS, PRESET, StubModel


class Factory:
    """Builds stand-in models and remembers what it was asked for."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, dict[str, Any]]] = []

    def __call__(self, scenario: Any, **kwargs: Any) -> StubModel:
        self.calls.append((scenario, kwargs))
        return StubModel(scenario, **kwargs)


def presets(name: str) -> dict[str, float]:
    return {k: PRESET[name] for k in LEVERS}


@pytest.fixture
def factory() -> Factory:
    return Factory()


@pytest.fixture
def run(factory: Factory) -> RunController:
    return RunController(model_factory=factory, presets=presets)


def test_starts_at_month_zero_with_controls_read_off_the_model(run: RunController) -> None:
    assert run.month == 0
    assert run.error is None
    assert run.settings.structures == ["outside_in", "inside_out"]
    assert run.settings.levers == {k: 0.8 for k in LEVERS}
    assert run.traces == {}


def test_step_records_one_value_per_firm_and_metric(run: RunController) -> None:
    run.step(3)
    assert run.month == 3
    assert set(run.traces) == {"Firm A", "Firm B"}
    for trace in run.traces.values():
        assert trace.steps == [1, 2, 3]
        assert all(len(trace.values[m]) == 3 for m in METRICS)
    assert run.traces["Firm A"].values["market_share"] == [0.5, 0.5, 0.5]


def test_every_change_bumps_the_version(run: RunController) -> None:
    v = run.version
    run.step()
    run.set_lever("clout", 0.3)
    run.set_seed("oops")
    assert run.version == v + 3


@pytest.mark.parametrize("value", [1.5, -0.1, math.nan, "x", True])
def test_an_impossible_lever_value_is_a_message_not_a_crash(run: RunController,
                                                           value: Any) -> None:
    run.set_lever("clout", value)
    assert run.error is not None
    assert run.error.startswith("clout:") and "[0, 1]" in run.error
    assert run.settings.levers["clout"] == 0.8


def test_unknown_lever_names_the_levers(run: RunController) -> None:
    run.set_lever("charisma", 0.5)
    assert run.error is not None and "charisma" in run.error and "coordination" in run.error


def test_a_good_value_clears_the_message(run: RunController) -> None:
    run.set_lever("clout", 2.0)
    run.set_lever("clout", 0.25)
    assert run.error is None and run.settings.levers["clout"] == 0.25


@pytest.mark.parametrize("text", ["abc", "-3", "1.5", ""])
def test_a_bad_seed_is_a_message(run: RunController, text: str) -> None:
    run.set_seed(text)
    assert run.error is not None and run.error.startswith("seed:")
    assert run.settings.seed == 1


def test_turbulence_and_disruptor_rate_outside_their_bounds_are_refused(
        run: RunController) -> None:
    run.set_turbulence(0.9)
    assert run.error == "turbulence: 0.9 is outside [0, 0.5]"
    run.set_entrant_rate(-1)
    assert run.error == "entrant_rate: -1 is outside [0, 1]"
    assert run.settings.turbulence == 0.02 and run.settings.entrant_rate == 0.003


def test_reset_builds_a_new_run_from_the_controls(run: RunController, factory: Factory) -> None:
    run.step(5)
    run.set_seed(" 42 ")
    run.set_structure(1, "outside_in")
    run.set_lever("cooperation", 0.35)
    run.set_turbulence(0.1)
    run.set_entrant_rate(0.02)
    run.reset()
    assert run.month == 0 and run.traces == {}
    _, kwargs = factory.calls[-1]
    assert kwargs["rng"] == 42
    assert kwargs["structure"] == "outside_in" and kwargs["rival_structure"] == "outside_in"
    assert kwargs["cooperation"] == 0.35 and kwargs["coordination"] == 0.8
    assert kwargs["turbulence"] == 0.1 and kwargs["entrant_rate"] == 0.02


def test_picking_a_preset_for_the_focal_firm_moves_its_sliders(run: RunController) -> None:
    run.set_structure(0, "inside_out")
    assert run.settings.levers == {k: 0.2 for k in LEVERS}
    run.set_structure(1, "outside_in")  # the rival's preset leaves the sliders alone
    assert run.settings.levers == {k: 0.2 for k in LEVERS}
    run.set_structure(0, "entrant")
    assert run.error is not None and "entrant" in run.error


def test_settings_wait_for_reset(run: RunController) -> None:
    model = run.model
    run.set_lever("clout", 0.1)
    run.step()
    assert run.model is model and model.firms[0].levers["clout"] == 0.8


def test_a_disruptor_enters_at_the_next_step_and_is_drawn(run: RunController) -> None:
    run.step()
    run.disruptor_now()
    assert run.notice is not None
    run.step()
    assert [c["name"] for c in run.firm_cards() if c["entrant"]] == ["Entrant 1"]
    assert run.traces["Entrant 1"].entrant and run.traces["Entrant 1"].steps == [2]
    assert [(e.step, e.kind) for e in run.events()] == [(2, "entrant")]
    chart = run.charts()["market_share"]
    assert 'data-event="entrant"' in chart and "stroke-dasharray=\"5,3\"" in chart


def test_a_shock_is_marked_on_every_chart(run: RunController) -> None:
    run.shock_now()
    run.step()
    assert all('data-event="shock"' in c for c in run.charts().values())


def test_reorganize_to_the_other_preset_or_to_the_sliders(run: RunController) -> None:
    run.reorganize_now(1, "other")
    run.step()
    assert run.model.firms[1].structure == "outside_in"
    run.set_lever("clout", 0.1)
    run.reorganize_now(0, "sliders")
    run.step()
    assert run.model.firms[0].levers["clout"] == 0.1
    assert [e.kind for e in run.events()] == ["reorganization", "reorganization"]


def test_reorganize_failures_are_messages(run: RunController) -> None:
    run.reorganize_now(5, "other")
    assert run.error == "firm: 5 is not an incumbent of this run"
    run.reorganize_now(0, "sideways")
    assert run.error is not None and "sideways" in run.error


def test_the_model_refusing_an_action_is_a_message(run: RunController,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    run.settings.levers["clout"] = 7.0  # as if something slipped past the slider
    run.reorganize_now(0, "sliders")
    assert run.error is not None and "reorganize_to" in run.error


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
    assert not run.choose_scenario(tmp_path / "odd.yaml")
    assert run.error is not None and "KeyError" in run.error


def test_a_good_scenario_starts_a_run_of_it(run: RunController, factory: Factory,
                                            tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    class Scenario:
        def to_model_kwargs(self, **overrides: Any) -> dict[str, Any]:
            return {}

    scenario = Scenario()
    monkeypatch.setattr(scenarios, "load", lambda path: scenario)
    run.set_seed("9")
    assert run.choose_scenario(tmp_path / "good.yaml")
    assert run.error is None and run.scenario is scenario
    assert factory.calls[-1] == (scenario, {"rng": 9})
    assert run.csv_name() == "outside-in-good-seed9-month0.csv"
    run.reset()
    assert factory.calls[-1][0] is scenario


def test_csv_has_a_row_per_firm_and_month(run: RunController) -> None:
    run.step(4)
    lines = run.csv().strip().splitlines()
    assert lines[0].startswith("step,firm,")
    assert len(lines) == 1 + 4 * 2


def test_network_and_market_views(run: RunController) -> None:
    net = run.network_svg(0)
    assert net.count("<circle") == 4 and net.count("<line") == 6
    market = run.market_svg(0, 2)
    assert market.count("data-segment=") == 3
    assert market.count('data-offering="Firm A"') == 2  # the latent segment gets no square
    assert "performance →" in market and "convenience →" in market


def test_failed_firm_breaks_its_lines(run: RunController) -> None:
    run.step()
    run.model.firms[1].alive = False
    run.model.firms[1].cash = -1.0
    run.step()
    values = run.traces["Firm B"].values["cash"]
    assert values[0] == 6.0 and math.isnan(values[1])


def test_two_controllers_are_two_independent_runs(factory: Factory) -> None:
    a = RunController(model_factory=factory, presets=presets)
    b = RunController(model_factory=factory, presets=presets)
    a.step(3)
    a.set_lever("clout", 0.1)
    assert b.month == 0 and b.settings.levers["clout"] == 0.8



def test_default_dimensions_are_where_segments_differ_most(run: RunController) -> None:
    run.model.market.ideal = np.array([[0.5, 0.1, 0.5, 0.9],
                                       [0.5, 0.9, 0.6, 0.1],
                                       [0.0, 0.0, 0.0, 0.0]])  # the third is latent
    assert run.default_dimensions() == (1, 3)


def test_scenario_text_for_the_class(run: RunController, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    assert run.scenario_text()["title"] == "The default market"

    class Scenario:
        title = "Freeze-up"
        description = "A firm that knows and does not act."
        teaches = "Awareness is not action."
        questions = ["Which gap is wide?"]

        def to_model_kwargs(self, **overrides: Any) -> dict[str, Any]:
            return {"rng": 17}

    monkeypatch.setattr(scenarios, "load", lambda path: Scenario())
    assert run.choose_scenario(tmp_path / "freeze-up.yaml")
    assert run.settings.seed == 17  # the scenario's own seed
    assert run.scenario_text() == {"title": "Freeze-up",
                                   "description": "A firm that knows and does not act.",
                                   "teaches": "Awareness is not action.",
                                   "questions": ["Which gap is wide?"]}


def test_a_new_preset_for_an_explicit_firm_comes_whole(factory: Factory, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from simulation.params import FirmSpec

    firms = (FirmSpec("Focal", "inside_out", {"connections": 0.9}),
             FirmSpec("Rival", "outside_in", {"clout": 0.5}))

    class Scenario:
        def to_model_kwargs(self, **overrides: Any) -> dict[str, Any]:
            return {"firms": firms, **overrides}

    seen: list[dict[str, Any]] = []

    def build(scenario: Any, **kwargs: Any) -> StubModel:
        seen.append(kwargs)
        return StubModel(None, rng=kwargs["rng"], structure="inside_out",
                         rival_structure="outside_in")

    monkeypatch.setattr(scenarios, "load", lambda path: Scenario())
    run = RunController(tmp_path / "s.yaml", model_factory=build, presets=presets)
    run.set_structure(1, "inside_out")
    run.set_lever("clout", 0.4)
    run.reset()
    focal, rival = seen[-1]["firms"]
    assert focal.structure == "inside_out" and focal.levers["clout"] == 0.4
    assert rival.structure == "inside_out" and dict(rival.levers) == {}


def test_a_second_reorganize_click_in_the_same_month_is_not_paid_twice() -> None:
    run = RunController()  # the real model
    run.step()
    run.reorganize_now(1, "other")
    run.reorganize_now(1, "other")
    assert run.error is None and run.notice is not None and "already" in run.notice
    assert [e["kind"] for e in run.model.events].count("reorganization") == 1
    run.step()
    run.reorganize_now(1, "other")  # a month later it is a new decision
    assert [e["kind"] for e in run.model.events].count("reorganization") == 2


def test_failed_firms_are_drawn_and_cannot_reorganize() -> None:
    from simulation import OrgModel

    run = RunController(model_factory=lambda scenario, **kw: OrgModel(
        starting_cash=0.5, fixed_cost=1.5, customers=600, **kw))
    run.step(5)
    assert [c["alive"] for c in run.firm_cards()] == [False, False]
    assert "<svg" in run.network_svg(0) and "<svg" in run.market_svg(0, 1)
    assert all(math.isnan(v) for v in run.traces["focal"].values["cash"][-3:])
    run.reorganize_now(0, "other")
    assert run.error == "firm: focal has failed and cannot reorganize"
