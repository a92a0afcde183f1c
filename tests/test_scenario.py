"""The scenario schema: shipped scenarios, the mapping to model parameters, extends, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulation.errors import ParameterError
from simulation.params import PARAMETERS, FirmSpec, SegmentSpec
from simulation.scenario import SCENARIO_DIR, ScenarioError, scenario_names
from simulation.scenario_files import load_scenario, parse_scenario

REQUIRED = ["stable-market", "turbulent-market", "low-end-disruption", "new-market-disruption",
            "commodity-trap", "narrow-customer", "freeze-up", "partner-ecosystem",
            "reorganization"]

MINIMAL = """\
title: Minimal
description: A small market.
teaches: Nothing much.
questions: ["What happens?"]
firms:
  - name: Focal
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_required_scenarios_are_shipped() -> None:
    assert set(REQUIRED) <= set(scenario_names())
    assert all((SCENARIO_DIR / f"{n}.yaml").is_file() for n in REQUIRED)


@pytest.mark.parametrize("name", scenario_names())
def test_shipped_scenario_validates_and_round_trips(name: str, tmp_path: Path) -> None:
    scenario = load_scenario(name)
    assert scenario.title and scenario.description and scenario.teaches
    assert len(scenario.questions) >= 3
    assert all(q.rstrip().endswith("?") for q in scenario.questions)  # questions, not answers
    scenario.to_params()  # cross-field rules of the core hold
    for text in (scenario.dump(), scenario.dump_full()):
        again = load_scenario(write(tmp_path, text))
        assert again == scenario


@pytest.mark.parametrize("name", scenario_names())
def test_shipped_scenario_replays_with_either_preset(name: str) -> None:
    scenario = load_scenario(name)
    for preset in ("inside_out", "outside_in"):
        params = scenario.to_params(structure=preset)
        assert params.structure == preset
        assert all(getattr(params, lever) is None
                   for lever in ("coordination", "cooperation", "clout", "capability",
                                 "connections"))


def test_minimal_scenario_takes_model_defaults(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, MINIMAL))
    kwargs = scenario.to_model_kwargs()
    for name in ("turbulence", "customers", "switch_rate", "unit_cost", "entrant_rate",
                 "recovery_fraction", "departments", "rivals"):
        assert kwargs[name] == PARAMETERS[name].default, name
    assert kwargs["structure"] == "inside_out"
    assert kwargs["shock_steps"] == () and "reorganize_step" not in kwargs
    assert "firms" not in kwargs


def test_structure_override_replaces_the_preset_whole_and_levers_apply_on_top() -> None:
    scenario = load_scenario("freeze-up")
    assert scenario.focal.levers.values()["connections"] == 0.9
    plain = scenario.to_model_kwargs()
    assert plain["firms"][0].levers["clout"] == 0.1
    swapped = scenario.to_model_kwargs(structure="outside_in")
    assert swapped["structure"] == "outside_in"
    assert swapped["firms"][0] == FirmSpec(name="Focal", structure="outside_in", levers={})
    assert swapped["clout"] is None
    tuned = scenario.to_model_kwargs(structure="outside_in", clout=0.9, price=1.2)
    assert tuned["firms"][0].levers == {"clout": 0.9}
    assert tuned["firms"][0].price == 1.2 and tuned["clout"] == 0.9
    assert "price" not in tuned and "rivals" not in tuned   # per-firm keywords ride on firms
    kept = scenario.to_model_kwargs(clout=0.9)
    assert kept["firms"][0].levers["connections"] == 0.9 and kept["firms"][0].levers["clout"] \
        == 0.9
    assert scenario.to_model_kwargs(turbulence=0.3)["turbulence"] == 0.3


def test_unknown_override_is_named_with_a_suggestion() -> None:
    scenario = load_scenario("stable-market")
    with pytest.raises(ParameterError, match=r"turbulance.*did you mean 'turbulence'"):
        scenario.to_model_kwargs(turbulance=0.1)


def test_timeline_maps_to_event_steps_and_reorganization() -> None:
    kwargs = load_scenario("reorganization").to_model_kwargs()
    assert kwargs["entrant_steps"] == (36,) and kwargs["shock_steps"] == (60,)
    assert kwargs["new_segment_steps"] == ()
    assert kwargs["reorganize_step"] == 72 and kwargs["reorganize_to"] == "outside_in"
    assert kwargs["reorganize_cost"] == 2.0 and kwargs["transition_steps"] == 12
    levers = parse_scenario(MINIMAL + "timeline:\n  - {step: 5, event: reorganization, "
                            "to: {clout: 0.8}}\n").to_model_kwargs()
    assert levers["reorganize_to"] == {"clout": 0.8}


def test_listed_segments_map_to_segment_specs() -> None:
    kwargs = load_scenario("narrow-customer").to_model_kwargs()
    specs = kwargs["segment_specs"]
    assert all(isinstance(s, SegmentSpec) for s in specs)
    assert [s.emerging for s in specs] == [False, False, True, True]
    assert kwargs["segments"] == 2 and kwargs["emerging_segments"] == 2
    assert specs[0].ideal == (0.8, 0.4, 0.5, 0.6)


def test_single_firm_uses_competitors() -> None:
    text = MINIMAL.replace("  - name: Focal\n", "  - {name: Focal, price: 1.1}\n")
    text += "competitors: {count: 3, structure: outside_in, price: 0.9}\n"
    kwargs = parse_scenario(text).to_model_kwargs()
    assert (kwargs["rivals"], kwargs["rival_structure"], kwargs["rival_price"]) == (
        3, "outside_in", 0.9)
    assert kwargs["price"] == 1.1 and "firms" not in kwargs


def test_single_firm_cannot_have_its_own_cash(tmp_path: Path) -> None:
    err = error_of(tmp_path, MINIMAL.replace("  - name: Focal\n", "  - {name: Focal, cash: 3}\n"))
    assert err.field == "firms[0].cash" and "money.starting_cash" in str(err)


def test_a_firms_cash_has_the_bound_of_starting_cash(tmp_path: Path) -> None:
    bound = PARAMETERS["starting_cash"].metadata["bound"]
    text = MINIMAL + f"  - {{name: Rival, cash: {bound.high + 1}}}\n"
    err = error_of(tmp_path, text)
    assert err.field == "firms[1].cash"
    assert str(err).endswith(f"{bound.high + 1!r} is outside [{bound.low:g}, {bound.high:g}]")


def test_extends_changes_only_what_differs(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL + "market: {turbulence: 0.1, customers: 300}\n", "base.yaml")
    child = load_scenario(write(tmp_path, "extends: base\ntitle: Child\n"
                                "market: {turbulence: 0.2}\n", "child.yaml"))
    assert child.title == "Child" and child.market.turbulence == 0.2
    assert child.market.customers == 300 and child.firms[0].name == "Focal"


def test_extends_a_shipped_scenario_from_anywhere(tmp_path: Path) -> None:
    child = load_scenario(write(tmp_path, "extends: turbulent-market\nseed: 99\n"))
    parent = load_scenario("turbulent-market")
    assert child.seed == 99 and child.model_copy(update={"seed": parent.seed}) == parent


# --- bad input: one clear message naming file, line, field and what is allowed ---------------

def error_of(tmp_path: Path, text: str | bytes) -> ScenarioError:
    path = tmp_path / "bad.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)
    return info.value


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    err = error_of(tmp_path, MINIMAL + "market:\n  turbulance: 0.1\n")
    assert err.field == "market.turbulance" and err.line == 8
    assert "did you mean 'turbulence'" in str(err) and "allowed here" in str(err)


def test_unknown_top_level_key_suggests_extends(tmp_path: Path) -> None:
    err = error_of(tmp_path, MINIMAL + "extend: stable-market\n")
    assert err.field == "extend" and "did you mean 'extends'" in str(err)


def test_unknown_lever_suggests_the_lever(tmp_path: Path) -> None:
    err = error_of(tmp_path, MINIMAL.replace("- name: Focal", "- name: Focal\n    levers: "
                                             "{clout: 0.5, conections: 0.5}"))
    assert err.field == "firms[0].levers.conections" and "'connections'" in str(err)


def test_wrong_type_names_the_expected_kind_and_range(tmp_path: Path) -> None:
    err = error_of(tmp_path, MINIMAL + "market:\n  turbulence: high\n")
    assert err.field == "market.turbulence" and err.line == 8
    assert "expected a number in [0, 0.5]" in str(err)
    err = error_of(tmp_path, MINIMAL + "steps: 12.5\n")
    assert err.field == "steps" and "whole number" in str(err)
    err = error_of(tmp_path, MINIMAL + "market:\n  turbulence: '0.1'\n")
    assert "text" in str(err)  # quoted numbers are not silently converted


def test_out_of_range_names_the_range(tmp_path: Path) -> None:
    err = error_of(tmp_path, MINIMAL + "market:\n  turbulence: 2.0\n")
    assert str(err).endswith("market.turbulence: 2.0 is outside [0, 0.5]")
    err = error_of(tmp_path, MINIMAL + "timeline:\n  - {step: 500, event: shock}\n")
    assert err.field == "timeline[0].step" and "after the last month (240)" in str(err)


def test_nan_and_infinity_are_rejected(tmp_path: Path) -> None:
    for value in (".nan", ".inf", "-.inf"):
        err = error_of(tmp_path, MINIMAL + f"market:\n  shock_size: {value}\n")
        assert err.field == "market.shock_size" and "[0, 1]" in str(err)


def test_bad_event_kind_suggests(tmp_path: Path) -> None:
    err = error_of(tmp_path, MINIMAL + "timeline:\n  - {step: 3, event: shok}\n")
    assert err.field == "timeline[0].event" and "did you mean 'shock'" in str(err)
    assert err.line == 8


def test_bad_preset_suggests(tmp_path: Path) -> None:
    err = error_of(tmp_path, MINIMAL.replace("- name: Focal", "- {name: Focal, structure: "
                                             "outside-in}"))
    assert err.field == "firms[0].structure" and "did you mean 'outside_in'" in str(err)


def test_missing_required_field(tmp_path: Path) -> None:
    err = error_of(tmp_path, MINIMAL.replace("teaches: Nothing much.\n", ""))
    assert err.field == "teaches" and "is required" in str(err)


def test_segment_dimensions_must_match(tmp_path: Path) -> None:
    text = MINIMAL + ("market:\n  dimensions: 3\n  segments:\n    - {name: a, share: 1, "
                      "ideal: [0.1, 0.2], weights: [1, 1, 1]}\n")
    err = error_of(tmp_path, text)
    assert err.field == "market.segments[0].ideal" and "dimensions is 3" in str(err)
    assert err.line == 10


@pytest.mark.parametrize("text, reason", [
    ("", "is empty"), ("# only a comment\n\n", "is empty"), ("---\n", "is empty"),
    ("title: [unclosed\n", "not valid YAML"), ("a: b\n  c: d\n", "not valid YAML"),
    ("- just\n- a list\n", "must be a mapping"), ("42\n", "must be a mapping"),
    ("title: a\n---\ntitle: b\n", "not valid YAML"),
    ("title: a\ntitle: b\n", "written twice"),
    ("!!python/object:os.system {}\n", "not valid YAML"),
    ("? [a, b]\n: c\n", "not valid YAML"),
    ("1: x\n", "not a field name"),
])
def test_files_that_are_not_scenarios(tmp_path: Path, text: str, reason: str) -> None:
    assert reason in str(error_of(tmp_path, text))


def test_binary_and_non_utf8_files(tmp_path: Path) -> None:
    assert "binary" in str(error_of(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
    assert "UTF-8" in str(error_of(tmp_path, "title: caf\xe9\n".encode("latin-1")))


def test_absurd_sizes(tmp_path: Path) -> None:
    assert "at most" in str(error_of(tmp_path, MINIMAL + "#" * 300_000 + "\n"))
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True))
    assert "too large" in str(error_of(tmp_path, bomb))
    err = error_of(tmp_path, MINIMAL + "market:\n  customers: 1000000000000\n")
    assert "outside [50, 2e+06]" in str(err)


def test_missing_extends(tmp_path: Path) -> None:
    err = error_of(tmp_path, "extends: turbulent-markt\ntitle: x\n")
    assert err.field == "extends" and err.line == 1
    assert "did you mean 'turbulent-market'" in str(err)


def test_circular_extends(tmp_path: Path) -> None:
    write(tmp_path, "extends: b\n" + MINIMAL, "a.yaml")
    write(tmp_path, "extends: a\n", "b.yaml")
    with pytest.raises(ScenarioError, match=r"extends: circular extends: .*a.yaml -> "
                       r"b.yaml -> a.yaml"):
        load_scenario(tmp_path / "a.yaml")
    with pytest.raises(ScenarioError, match="circular"):
        load_scenario(write(tmp_path, "extends: self\n", "self.yaml"))


def test_error_in_the_parent_points_at_the_parent_file(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL + "market:\n  momentum: 7\n", "base.yaml")
    child = write(tmp_path, "extends: base\nseed: 3\n", "child.yaml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    assert info.value.source.endswith("base.yaml") and info.value.line == 8
    assert info.value.field == "market.momentum"


def test_reorganization_fields_only_on_reorganizations(tmp_path: Path) -> None:
    err = error_of(tmp_path, MINIMAL + "timeline:\n  - {step: 3, event: shock, to: "
                   "outside_in}\n")
    assert err.field == "timeline[0].to" and "only to a reorganization" in str(err)
    err = error_of(tmp_path, MINIMAL + "timeline:\n  - {step: 3, event: reorganization}\n"
                   "  - {step: 4, event: reorganization}\n")
    assert err.field == "timeline[1]" and "once" in str(err)


def test_competitors_and_several_firms_conflict(tmp_path: Path) -> None:
    text = MINIMAL + "  - name: Rival\ncompetitors: {count: 2}\n"
    assert error_of(tmp_path, text).field == "competitors"
    err = error_of(tmp_path, MINIMAL + "  - name: Focal\n")
    assert err.field == "firms[1].name" and "twice" in str(err)


def test_scenario_error_is_an_outsidein_error() -> None:
    from simulation.errors import OutsideInError

    assert issubclass(ScenarioError, OutsideInError)


@pytest.mark.parametrize("name", scenario_names())
def test_shipped_scenario_runs_20_steps(name: str) -> None:
    from simulation.model import OrgModel

    scenario = load_scenario(name)
    for label, overrides in scenario.organizations():
        model = OrgModel.from_scenario(scenario, rng=1, **overrides)
        model.run(20)
        results = model.results()
        assert results["step"].max() == 20, label
        assert results["firm"].iloc[0] == scenario.focal.name or len(scenario.firms) == 1
        summary = model.summary()
        assert 0.0 <= summary["final_share"] <= 1.0


def test_folders_devices_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="is a folder"):
        load_scenario(tmp_path)
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(tmp_path / "nothing.yaml")
    if Path("/dev/zero").exists():
        with pytest.raises(ScenarioError, match="not a regular file"):
            load_scenario("/dev/zero")


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    err = error_of(tmp_path, "title: " + "[" * 20000 + "]" * 20000 + "\n")
    assert "nested too deeply" in str(err)


def test_bounds_of_a_count_or_list_field(tmp_path: Path) -> None:
    err = error_of(tmp_path, MINIMAL + "market:\n  segments: 0\n")
    assert str(err).endswith("market.segments: 0 is outside [1, 12]")
    err = error_of(tmp_path, MINIMAL + "compare: [inside_out]\n")
    assert err.field == "compare" and "at least 2 items, not 1" in str(err)


def test_odd_keys_are_quoted_so_the_message_stays_one_line(tmp_path: Path) -> None:
    err = error_of(tmp_path, MINIMAL + '"\\n": 1\n')
    assert err.field == "'\\n'" and "unknown field" in str(err)


@pytest.mark.parametrize("extra, field", [
    ("compare: [insde_out, outside_in]\n", "compare[0]"),
    ("compare: [inside_out, {label: mine, structure: outsid_in}]\n", "compare[1].structure"),
    ("competitors: {structure: outsid_in}\n", "competitors.structure"),
    ("timeline: [{step: 3, event: reorganization, to: outsid_in}]\n", "timeline[0].to"),
])
def test_every_preset_name_is_checked_when_the_file_loads(extra: str, field: str,
                                                          tmp_path: Path) -> None:
    err = error_of(tmp_path, MINIMAL + extra)
    assert err.field == field and err.line == 7
    assert err.reason.startswith("'insde_out' is not a preset; did you mean 'inside_out'?"
                                 if "insde" in extra else
                                 "'outsid_in' is not a preset; did you mean 'outside_in'?")
