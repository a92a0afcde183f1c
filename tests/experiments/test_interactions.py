import itertools

import numpy as np
import pandas as pd
import pytest

from experiments.sweeps.interactions import interaction_table
from simulation.params import LEVERS


def factorial(outcome, replications=4):
    rows = []
    for rep in range(replications):
        for levels in itertools.product([0.2, 0.8], repeat=len(LEVERS)):
            x = dict(zip(LEVERS, levels, strict=True))
            rows.append({**x, "turbulence": 0.01, "momentum": 0.9, "replication": rep,
                         "mean_share": outcome(x, rep)})
    return pd.DataFrame(rows)


def test_a_product_of_two_levers_is_a_complement_and_a_sum_no_interaction():
    noise = np.random.default_rng(0).normal(0, 0.001, 4)
    table = interaction_table(factorial(
        lambda x, r: x["coordination"] * x["cooperation"] + x["clout"] - x["clout"] * x[
            "capability"] + noise[r]))
    row = table.set_index("pair")
    # y11 - y10 - y01 + y00 of a*b at 0.2/0.8: 0.64 - 0.16 - 0.16 + 0.04 = 0.36
    assert row.loc["coordination x cooperation", "mean"] == pytest.approx(0.36)
    assert row.loc["coordination x cooperation", "sign"] == "complements"
    assert row.loc["clout x capability", "mean"] == pytest.approx(-0.36)
    assert row.loc["clout x capability", "sign"] == "substitutes"
    assert row.loc["coordination x clout", "mean"] == pytest.approx(0.0, abs=1e-12)
    assert row.loc["coordination x clout", "sign"] == "neither (n.s.)"
