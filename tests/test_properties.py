"""Invariants over random lever settings, structures and seeds (hypothesis)."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation import LEVERS, OrgModel

lever = st.floats(0.0, 1.0, allow_nan=False)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(levers=st.fixed_dictionaries({name: lever for name in LEVERS}),
       structure=st.sampled_from(["inside_out", "outside_in"]),
       seed=st.integers(0, 2**32 - 1),
       turbulence=st.floats(0.0, 0.2),
       shock_rate=st.floats(0.0, 0.3),
       entrant_rate=st.floats(0.0, 0.3),
       starting_cash=st.floats(0.0, 3.0))
def test_invariants(levers, structure, seed, turbulence, shock_rate, entrant_rate,
                    starting_cash):
    model = OrgModel(rng=seed, customers=300, structure=structure, turbulence=turbulence,
                     shock_rate=shock_rate, entrant_rate=entrant_rate,
                     starting_cash=starting_cash, **levers).run(30)
    results = model.results()
    numeric = results.select_dtypes("number").to_numpy()
    assert np.isfinite(numeric).all()
    assert results["market_share"].between(0.0, 1.0).all()
    no_purchase = model.datacollector.get_model_vars_dataframe()["no_purchase"].to_numpy()
    totals = results.groupby("step")["market_share"].sum().to_numpy() + no_purchase
    assert np.allclose(totals, 1.0)
    assert (results[["awareness_gap", "action_gap"]] >= 0.0).all().all()
    assert results["satisfaction"].between(0.0, 1.0).all()
    for _, firm in results.groupby("firm"):
        alive = firm["alive"].to_numpy()
        if not alive.all():
            first_dead = int(np.argmin(alive))
            assert not alive[first_dead:].any()                      # dead firms stay dead
            assert (firm["market_share"].to_numpy()[first_dead:] == 0.0).all()
    resilience = model.resilience()
    assert (resilience["depth"].between(0.0, 1.0)).all()
    assert (resilience["loss_area"] >= 0.0).all()
