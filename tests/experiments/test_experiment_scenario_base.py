"""A spec whose base is a shipped scenario: varied parameters go through the scenario."""

import pytest

from experiments.sweeps.spec import SpecError, parse_spec
from experiments.sweeps.store import read_runs
from experiments.sweeps.sweep import run_sweep
from simulation import OrgModel
from simulation.scenario_files import load_scenario

SPEC = {"name": "on_a_scenario", "base": "turbulent-market", "steps": 4,
        "levers": {"structure": {"levels": ["inside_out", "outside_in"]}},
        "conditions": {"customers": {"levels": [300]}}, "seed": 5}


def test_runs_on_a_scenario_equal_the_scenario_built_by_hand(tmp_path):
    result = run_sweep(parse_spec(SPEC), tmp_path / "out", workers=1)
    assert result.completed == result.planned == 2
    runs = read_runs(tmp_path / "out")
    scenario = load_scenario("turbulent-market")
    for row in runs.itertuples():
        model = OrgModel.from_scenario(scenario, rng=int(row.seed), structure=row.structure,
                                       customers=300)
        model.run(4)
        assert model.summary()["final_share"] == pytest.approx(row.final_share, rel=1e-12)


def test_an_unknown_scenario_or_override_names_the_field():
    with pytest.raises(SpecError, match="^s: base: "):
        parse_spec({**SPEC, "base": "no-such-market"}, source="s")
    with pytest.raises(SpecError, match="^s: conditions.customers: 10 is outside"):
        parse_spec({**SPEC, "conditions": {"customers": {"levels": [10]}}}, source="s")
