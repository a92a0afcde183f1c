"""Every scenario field reaches the model and changes what comes out of it.

Each leaf field of the schema has a case here: the value it is changed to, and the base
scenario in which it matters. A field added to the schema without a case fails
``test_every_field_has_a_case`` (a field that changes nothing is a defect, cf. Mesa's
``citizen_vision``).
"""

from __future__ import annotations

import typing
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from experiments.comparison.handout import html_report
from simulation.model import OrgModel
from simulation.params import PARAMETERS
from simulation.scenario import Scenario
from simulation.scenario_files import parse_scenario

STEPS = 36

HEAD = """\
title: Field test
description: A small market.
teaches: Every field matters.
questions: ["Does it?"]
steps: 36
seed: 5
"""

# One focal firm, rivals from `competitors`, the generated market, every kind of event.
SINGLE = HEAD + """\
market: {customers: 200, segments: 2, emerging_segments: 2, turbulence: 0.03, shock_rate: 0.05,
         new_segment_rate: 0.05}
entrants: {rate: 0.05}
firms: [{name: Focal, structure: inside_out, levers: {clout: 0.5}}]
competitors: {count: 1, structure: outside_in, price: 1.0}
timeline:
  - {step: 6, event: shock}
  - {step: 8, event: entrant}
  - {step: 10, event: new_segment}
  - {step: 12, event: reorganization, to: outside_in, cost: 1.0, transition_steps: 6,
     transition_disruption: 0.5}
"""

# Explicit firms and explicit segments.
LISTED = HEAD + """\
market:
  customers: 200
  dimensions: 3
  segments:
    - {name: core, share: 0.7, value: 1.0, ideal: [0.6, 0.5, 0.4], weights: [1, 1, 1]}
    - {name: low end, share: 0.3, value: 0.8, ideal: [0.3, 0.7, 0.5], weights: [1, 2, 1],
       price_sensitivity: 1.5}
    - {name: latent, share: 0.3, value: 1.0, ideal: [0.2, 0.2, 0.9], weights: [1, 1, 2],
       emerging: true}
firms:
  - {name: Focal, structure: inside_out, levers: {clout: 0.5}, price: 1.0, cash: 6}
  - {name: Rival, structure: outside_in, levers: {cooperation: 0.5}, price: 1.0, cash: 6}
compare:
  - {label: mine, structure: inside_out, levers: {clout: 0.5}, reorganize: true}
  - outside_in
timeline:
  - {step: 6, event: shock}
  - {step: 8, event: entrant}
  - {step: 10, event: new_segment}
"""

# field path -> (base, change as {dotted path: new value})
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "steps": ("single", {"steps": 30}),
    "seed": ("single", {"seed": 6}),
    "market.customers": ("single", {"market.customers": 300}),
    "market.dimensions": ("single", {"market.dimensions": 3}),
    "market.segments": ("single", {"market.segments": 3}),
    "market.emerging_segments": ("single", {"market.emerging_segments": 0}),
    "market.turbulence": ("single", {"market.turbulence": 0.1}),
    "market.momentum": ("single", {"market.momentum": 0.2}),
    "market.shock_rate": ("single", {"market.shock_rate": 0.3}),
    "market.shock_size": ("single", {"market.shock_size": 0.8}),
    "market.new_segment_rate": ("single", {"market.new_segment_rate": 0.9}),
    "market.segments[].name": ("listed", {"market.segments.0.name": "heart"}),
    "market.segments[].share": ("listed", {"market.segments.0.share": 0.4}),
    "market.segments[].value": ("listed", {"market.segments.0.value": 1.5}),
    "market.segments[].ideal": ("listed", {"market.segments.0.ideal": [0.9, 0.5, 0.4]}),
    "market.segments[].weights": ("listed", {"market.segments.0.weights": [3, 1, 1]}),
    "market.segments[].price_sensitivity": ("listed",
                                            {"market.segments.1.price_sensitivity": 4.0}),
    "market.segments[].emerging": ("listed", {"market.segments.2.emerging": False}),
    "choice.switch_rate": ("single", {"choice.switch_rate": 0.3}),
    "choice.loyalty": ("single", {"choice.loyalty": 3.0}),
    "choice.fit_sensitivity": ("single", {"choice.fit_sensitivity": 2.0}),
    "choice.price_sensitivity": ("single", {"choice.price_sensitivity": 6.0}),
    "choice.outside_option": ("single", {"choice.outside_option": 0.5}),
    "firms[].name": ("listed", {"firms.1.name": "Other"}),
    "firms[].structure": ("listed", {"firms.1.structure": "inside_out"}),
    "firms[].levers.coordination": ("listed", {"firms.0.levers.coordination": 0.95}),
    "firms[].levers.cooperation": ("listed", {"firms.0.levers.cooperation": 0.95}),
    "firms[].levers.clout": ("listed", {"firms.0.levers.clout": 0.95}),
    "firms[].levers.capability": ("listed", {"firms.0.levers.capability": 0.05}),
    "firms[].levers.connections": ("listed", {"firms.0.levers.connections": 0.95}),
    "firms[].price": ("listed", {"firms.1.price": 1.3}),
    "firms[].cash": ("listed", {"firms.0.cash": 0.5}),
    "competitors.count": ("single", {"competitors.count": 2}),
    "competitors.structure": ("single", {"competitors.structure": "inside_out"}),
    "competitors.price": ("single", {"competitors.price": 1.4}),
    "organization.departments": ("single", {"organization.departments": 9}),
    "organization.sense_noise": ("single", {"organization.sense_noise": 0.6}),
    "organization.roadmap_speed": ("single", {"organization.roadmap_speed": 0.05}),
    "organization.hear_current": ("single", {"organization.hear_current": 0.0}),
    "organization.belief_gain": ("single", {"organization.belief_gain": 0.05}),
    "organization.trend_noise": ("single", {"organization.trend_noise": 3.0}),
    "organization.anticipation_months": ("single", {"organization.anticipation_months": 20}),
    "organization.noise_filter": ("single", {"organization.noise_filter": 8.0}),
    "organization.execution_noise": ("single", {"organization.execution_noise": 2.0}),
    "organization.borrowed_capability": ("single",
                                         {"organization.borrowed_capability": 1.0}),
    "organization.silo_lag": ("single", {"organization.silo_lag": 1.0}),
    "market.need_noise": ("single", {"market.need_noise": 0.2}),
    "entrants.performance": ("single", {"entrants.performance": 0.9}),
    "entrants.cash": ("single", {"entrants.cash": 0.01, "entrants.price": 0.3}),
    "entrants.overhead": ("single", {"entrants.overhead": 1.0, "entrants.price": 0.3}),
    "entrants.unit_cost": ("single", {"entrants.unit_cost": 2.0}),
    "metrics.detect_share": ("single", {"metrics.detect_share": 0.9}),
    "organization.interdependence": ("single", {"organization.interdependence": 0.0}),
    "money.answer_rate": ("single", {"money.answer_rate": 0.5}),
    "money.answer_spend": ("single", {"money.answer_spend": 2.0}),
    "money.cost_floor": ("single", {"money.cost_floor": 0.0}),
    "metrics.serve_share": ("single", {"metrics.serve_share": 0.01}),
    "organization.max_change": ("single", {"organization.max_change": 0.3}),
    "money.unit_cost": ("single", {"money.unit_cost": 0.9}),
    "money.fixed_cost": ("single", {"money.fixed_cost": 0.5}),
    "money.lever_cost": ("single", {"money.lever_cost": 0.2}),
    "money.change_cost": ("single", {"money.change_cost": 10.0}),
    "money.variety_cost": ("single", {"money.variety_cost": 2.0}),
    "money.starting_cash": ("single", {"money.starting_cash": 1.0}),
    "entrants.rate": ("single", {"entrants.rate": 0.3}),
    "entrants.price": ("single", {"entrants.price": 0.3}),
    "entrants.capacity": ("single", {"entrants.capacity": 0.2}),
    "entrants.growth": ("single", {"entrants.growth": 0.3}),
    "entrants.improvement": ("single", {"entrants.improvement": 0.1}),
    "timeline[].step": ("single", {"timeline.0.step": 7}),
    "timeline[].event": ("single", {"timeline.0.event": "entrant"}),
    "timeline[].to": ("single", {"timeline.3.to": "inside_out"}),
    **{f"timeline[].to.{lever}": ("single", {"timeline.3.to": {lever: 0.02}})
       for lever in ("coordination", "cooperation", "clout", "capability", "connections")},
    "timeline[].cost": ("single", {"timeline.3.cost": 20.0}),
    "timeline[].transition_steps": ("single", {"timeline.3.transition_steps": 20}),
    "timeline[].transition_disruption": ("single", {"timeline.3.transition_disruption": 1.0}),
    "metrics.recovery_fraction": ("single", {"metrics.recovery_fraction": 1.0}),
}

# Fields that change what `compare` runs or writes, not a single run.
COMPARE_CASES: dict[str, dict[str, Any]] = {
    "compare": {"compare": ["outside_in", "inside_out"]},
    "compare[].label": {"compare.0.label": "yours"},
    "compare[].structure": {"compare.0.structure": "outside_in"},
    "compare[].levers.coordination": {"compare.0.levers.coordination": 0.9},
    "compare[].levers.cooperation": {"compare.0.levers.cooperation": 0.9},
    "compare[].levers.clout": {"compare.0.levers.clout": 0.9},
    "compare[].levers.capability": {"compare.0.levers.capability": 0.9},
    "compare[].levers.connections": {"compare.0.levers.connections": 0.9},
    "compare[].reorganize": {"compare.0.reorganize": False},
}

# Text for the handout: each must appear in the HTML report.
TEXT_FIELDS = {"title", "description", "teaches", "questions"}
# What the handout shows beside each question (see test_answered_by_shows_where_to_look).
HANDOUT_FIELDS = {"answered_by"}


def leaf_fields(model: type[BaseModel] = Scenario, prefix: str = "") -> set[str]:
    """Dotted paths of every leaf field of the schema (``[]`` marks a list item)."""
    out: set[str] = set()
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        nested = [a for a in _flatten(info.annotation) if isinstance(a, type)
                  and issubclass(a, BaseModel)]
        is_list = any(typing.get_origin(a) is list for a in _flatten(info.annotation))
        if not nested:
            out.add(path)
            continue
        if any(not (isinstance(a, type) and issubclass(a, BaseModel)) and a is not type(None)
               for a in _direct(info.annotation)):
            out.add(path)  # a union with a plain value (a count, a preset name)
        for sub in nested:
            out |= leaf_fields(sub, f"{path}[]." if is_list else f"{path}.")
    return out


def _direct(annotation: Any) -> list[Any]:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Annotated, list):
        return _direct(args[0])
    if typing.get_origin(annotation) in (typing.Union, __import__("types").UnionType):
        return [x for a in args for x in _direct(a)]
    return [annotation]


def _flatten(annotation: Any) -> list[Any]:
    out = [annotation]
    for arg in typing.get_args(annotation):
        out += _flatten(arg)
    return out


def build(base: str, changes: dict[str, Any] | None = None) -> Scenario:
    data = yaml.safe_load(SINGLE if base == "single" else LISTED)
    for dotted, value in (changes or {}).items():
        *parents, last = dotted.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value
    return parse_scenario(yaml.safe_dump(data))


def fingerprint(scenario: Scenario) -> tuple[Any, ...]:
    model = OrgModel.from_scenario(scenario)
    model.run(scenario.steps)
    results = model.results()
    numbers = results.select_dtypes("number").to_numpy(dtype=float)
    return (tuple(results["firm"]), tuple(results["structure"]), numbers.round(12).tobytes(),
            model.resilience().round(12).to_csv(), tuple(map(str, model.events)),
            model.disruptions().to_csv(), model.emergences().to_csv(),
            tuple(model.market.segment_names))


BASE_PRINTS: dict[str, tuple[Any, ...]] = {}


def base_print(base: str) -> tuple[Any, ...]:
    if base not in BASE_PRINTS:
        BASE_PRINTS[base] = fingerprint(build(base))
    return BASE_PRINTS[base]


def test_every_field_has_a_case() -> None:
    covered = set(CASES) | set(COMPARE_CASES) | TEXT_FIELDS | HANDOUT_FIELDS
    assert leaf_fields() == covered


def test_every_model_parameter_is_reachable() -> None:
    reached = set(build("single").to_model_kwargs()) | set(build("listed").to_model_kwargs())
    assert set(PARAMETERS) <= reached


@pytest.mark.parametrize("field", sorted(CASES))
def test_field_changes_the_run(field: str) -> None:
    base, changes = CASES[field]
    changed = build(base, changes)
    assert changed != build(base)
    assert fingerprint(changed) != base_print(base), f"{field} changed nothing"


@pytest.mark.parametrize("field", sorted(COMPARE_CASES))
def test_compare_field_changes_the_organizations(field: str) -> None:
    assert build("listed", COMPARE_CASES[field]).organizations() != \
        build("listed").organizations()


def test_text_fields_reach_the_handout() -> None:
    from experiments.comparison.compare import compare

    scenario = build("listed")
    result = compare(scenario, reps=2, steps=8)
    page = html_report(result, b"png")
    for text in (scenario.title, scenario.description, scenario.teaches, *scenario.questions):
        assert text in page


def test_answered_by_shows_where_to_look() -> None:
    from experiments.comparison.compare import compare
    from simulation.outcomes import SUBJECTS

    scenario = build("listed", {"answered_by": [["notice", "cash"]]})
    page = html_report(compare(scenario, reps=2, steps=8), b"png")
    assert f"Look at: {SUBJECTS['notice']}; {SUBJECTS['cash']}" in page


def test_reorganization_can_be_skipped_per_organization() -> None:
    scenario = build("single", {"compare": [
        {"label": "stays", "structure": "inside_out", "levers": {"clout": 0.5},
         "reorganize": False},
        {"label": "moves", "structure": "inside_out", "levers": {"clout": 0.5}}]})
    (_, stays), (_, moves) = scenario.organizations()
    kinds = []
    for overrides in (stays, moves):
        model = OrgModel.from_scenario(scenario, **overrides)
        model.run(scenario.steps)
        kinds.append([e["kind"] for e in model.events])
    assert "reorganization" not in kinds[0] and "reorganization" in kinds[1]


def test_same_scenario_same_run() -> None:
    assert fingerprint(build("single")) == base_print("single")
