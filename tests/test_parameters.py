"""Every parameter of OrgModel changes the run (a parameter that does nothing is a defect)."""

import pandas as pd
import pytest

from simulation import PARAMETERS, FirmSpec, OrgModel, SegmentSpec

SEGMENTS = (
    SegmentSpec("a", 2.0, 1.0, (0.3, 0.6, 0.5, 0.5), (0.4, 0.2, 0.2, 0.2)),
    SegmentSpec("b", 1.0, 1.5, (0.8, 0.4, 0.5, 0.2), (0.1, 0.3, 0.3, 0.3), 0.5),
    SegmentSpec("c", 1.0, 1.0, (0.2, 0.2, 0.9, 0.9), (0.25,) * 4, emerging=True),
)
FIRMS = (FirmSpec("us", "inside_out", {"clout": 0.7}, 1.1, 4.0), FirmSpec("them", "outside_in"))

ANSWERING = {"entrant_steps": (2,), "entrant_price": 0.3, "entrant_capacity": 0.3}
"""A disruptor the incumbents notice early, so that their low-cost answer runs."""

# parameter -> (changed value, context needed for the parameter to matter)
CHANGES = {
    "structure": ("inside_out", {}),
    "rival_structure": ("outside_in", {}),
    "rivals": (2, {}),
    "coordination": (0.05, {}),
    "cooperation": (0.1, {}),
    "clout": (0.1, {}),
    "capability": (0.1, {}),
    "connections": (0.1, {}),
    "departments": (12, {}),
    "price": (1.3, {}),
    "rival_price": (0.8, {}),
    "starting_cash": (0.1, {"fixed_cost": 0.6}),
    "firms": (FIRMS, {}),
    "customers": (700, {}),
    "segments": (2, {}),
    "emerging_segments": (0, {"new_segment_steps": (3,)}),
    "dimensions": (3, {}),
    "segment_specs": (SEGMENTS, {}),
    "turbulence": (0.1, {}),
    "momentum": (0.2, {"turbulence": 0.05}),
    "need_noise": (0.2, {}),
    "shock_rate": (0.5, {}),
    "shock_size": (0.8, {"shock_steps": (3,)}),
    "shock_steps": ((4,), {}),
    "new_segment_rate": (0.5, {}),
    "new_segment_steps": ((4,), {}),
    "entrant_rate": (0.5, {}),
    "entrant_steps": ((4,), {}),
    "entrant_price": (0.3, {"entrant_steps": (2,)}),
    "entrant_capacity": (0.3, {"entrant_steps": (2,)}),
    "entrant_growth": (0.5, {"entrant_steps": (2,)}),
    "entrant_improvement": (0.1, {"entrant_steps": (2,)}),
    "entrant_performance": (0.9, {"entrant_steps": (2,)}),
    "entrant_cash": (0.01, {"entrant_steps": (2,), "entrant_price": 0.3}),
    "entrant_overhead": (1.0, {"entrant_steps": (2,), "entrant_price": 0.3}),
    "entrant_unit_cost": (2.0, {"entrant_steps": (2,)}),
    "switch_rate": (0.5, {}),
    "loyalty": (5.0, {}),
    "fit_sensitivity": (30.0, {}),
    "price_sensitivity": (6.0, {"rival_price": 0.8}),  # only price differences matter
    "outside_option": (0.5, {}),
    "sense_noise": (0.6, {}),
    "hear_current": (0.0, {}),
    "belief_gain": (0.05, {}),
    "trend_noise": (3.0, {"turbulence": 0.05}),
    "anticipation_months": (20.0, {"turbulence": 0.05}),
    "noise_filter": (8.0, {}),
    "execution_noise": (2.0, {}),
    "borrowed_capability": (1.0, {}),
    "silo_lag": (1.0, {"turbulence": 0.05}),
    "detect_share": (0.9, {"entrant_steps": (2,)}),
    "interdependence": (0.0, {}),
    "answer_rate": (0.5, ANSWERING),
    "answer_spend": (2.0, ANSWERING),
    "cost_floor": (0.0, ANSWERING),
    "serve_share": (0.01, {"new_segment_steps": (2,)}),
    "roadmap_speed": (0.05, {}),
    "max_change": (0.3, {"turbulence": 0.05}),
    "unit_cost": (0.9, {}),
    "fixed_cost": (0.9, {}),
    "lever_cost": (0.3, {}),
    "change_cost": (20.0, {}),
    "variety_cost": (4.0, {}),
    "reorganize_step": (3, {}),
    "reorganize_to": ({"clout": 1.0}, {"reorganize_step": 3}),
    "reorganize_cost": (20.0, {"reorganize_step": 3}),
    "transition_steps": (2, {"reorganize_step": 3}),
    "transition_disruption": (1.0, {"reorganize_step": 3}),
    "recovery_fraction": (1.0, {"shock_steps": (5,), "shock_size": 0.6}),
}


def test_every_parameter_has_a_change():
    assert set(CHANGES) == set(PARAMETERS)


def outputs(**kwargs) -> tuple[pd.DataFrame, ...]:
    quiet = {"customers": 500, "shock_rate": 0.0, "entrant_rate": 0.0, "new_segment_rate": 0.0}
    model = OrgModel(rng=3, **{**quiet, **kwargs}).run(25)
    return model.results(), model.resilience(), model.disruptions(), model.emergences()


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_parameter_changes_the_run(name):
    value, context = CHANGES[name]
    base = outputs(**context)
    changed = outputs(**{**context, name: value})
    same = all(a.shape == b.shape and a.reset_index(drop=True).equals(b.reset_index(drop=True))
               for a, b in zip(base, changed, strict=True))
    assert not same, f"{name}={value!r} changed nothing"
