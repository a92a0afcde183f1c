"""The model runs unchanged under mesa.batch_run, and our runner builds it the same way."""

import mesa
import pytest

from experiments.engine.runner import org_model
from simulation import OrgModel


def test_batch_run_and_our_runner_agree_on_the_same_parameters_and_seed():
    rows = mesa.batch_run(OrgModel, parameters={
        "customers": 300, "structure": ["inside_out", "outside_in"], "turbulence": 0.05},
        rng=[3, 4], max_steps=20, number_processes=1, display_progress=False)
    assert len(rows) == 4
    for row in rows:
        params = {"customers": 300, "structure": row["structure"], "turbulence": 0.05}
        summary, _ = org_model(params, row["rng"], steps=20)
        assert row["Step"] == 20
        assert summary["final_share"] == pytest.approx(row["market_share"], rel=1e-12)
