"""The scenario <-> model-parameter mapping is declared once, on the fields, and both ways agree."""

from __future__ import annotations

from simulation.params import PARAMETERS
from simulation.scenario import SECTIONS, Competitors, field_parameters, parameter_paths
from simulation.scenario_files import load_scenario


def test_every_declared_field_maps_to_its_parameter_and_back() -> None:
    scenario = load_scenario("turbulent-market")
    kwargs = scenario.to_model_kwargs()
    paths = parameter_paths()
    checked = 0
    for section, model in SECTIONS.items():
        for name, param in field_parameters(model).items():
            assert param in PARAMETERS, (section, name)
            assert paths[param] == (section, name)  # parameter -> field
            if (section, name) != ("market", "emerging_segments"):  # a count of a list's
                assert kwargs[param] == getattr(getattr(scenario, section), name)
            checked += 1
    assert checked >= 40
    for name, param in field_parameters(Competitors).items():
        assert paths[param] == ("competitors", name)


def test_every_parameter_a_scenario_sets_has_a_field_to_point_at() -> None:
    paths = parameter_paths()
    settable = set(load_scenario("turbulent-market").to_model_kwargs()) - {"rng", "firms",
                                                                            "segment_specs"}
    assert settable <= set(paths), settable - set(paths)
    assert paths["starting_cash"] == ("money", "starting_cash")  # not a firm's own cash
    assert paths["clout"] == ("firms", 0, "levers", "clout")
