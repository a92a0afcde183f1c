"""Regret, satisficing and the per-candidate statistics against values worked by hand."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from experiments.sweeps.robustness import (
    Requirement,
    max_regret,
    mean_regret,
    pareto_mask,
    regret,
    satisficing,
    statistic,
)

# three organizations (rows) in three futures (columns): final share
SHARE = pd.DataFrame([[0.50, 0.30, 0.10],
                      [0.40, 0.35, 0.30],
                      [0.20, 0.20, 0.45]],
                     index=["A", "B", "C"], columns=["calm", "shaken", "disrupted"])
# survival in the same futures
SURVIVAL = pd.DataFrame([[1.0, 0.9, 0.5],
                         [1.0, 1.0, 0.9],
                         [0.8, 0.8, 1.0]], index=SHARE.index, columns=SHARE.columns)


def test_regret_is_the_shortfall_from_the_best_in_each_future():
    # best per future: 0.50, 0.35, 0.45
    expected = pd.DataFrame([[0.00, 0.05, 0.35],
                             [0.10, 0.00, 0.15],
                             [0.30, 0.15, 0.00]], index=SHARE.index, columns=SHARE.columns)
    pd.testing.assert_frame_equal(regret(SHARE, "maximize"), expected, atol=1e-12)
    # minimax regret: A 0.35, B 0.15, C 0.30 -> B is the robust choice, not the best on average
    pd.testing.assert_series_equal(max_regret(SHARE, "maximize"),
                                   pd.Series([0.35, 0.15, 0.30], index=SHARE.index),
                                   atol=1e-12)
    pd.testing.assert_series_equal(mean_regret(SHARE, "maximize"),
                                   pd.Series([0.40 / 3, 0.25 / 3, 0.45 / 3],
                                             index=SHARE.index), atol=1e-12)


def test_regret_of_an_outcome_to_minimize_counts_upward():
    loss = pd.DataFrame([[2.0, 5.0], [3.0, 1.0]], index=["A", "B"], columns=["f1", "f2"])
    pd.testing.assert_frame_equal(regret(loss, "minimize"),
                                  pd.DataFrame([[0.0, 4.0], [1.0, 0.0]], index=loss.index,
                                               columns=loss.columns))
    assert max_regret(loss, "minimize").tolist() == [4.0, 1.0]


def test_satisficing_is_the_share_of_futures_where_every_requirement_holds():
    survive = Requirement("survived", at_least=0.9)
    share = Requirement("final_share", at_least=0.25)
    tables = {"final_share": SHARE, "survived": SURVIVAL}
    # survival >= 0.9: A calm, shaken; B all three; C disrupted
    assert satisficing(tables, [survive]).tolist() == pytest.approx([2 / 3, 1.0, 1 / 3])
    # and share >= 0.25: A calm, shaken; B all three; C disrupted (0.45); A's disrupted
    # future fails both
    assert satisficing(tables, [survive, share]).tolist() == pytest.approx([2 / 3, 1.0, 1 / 3])
    assert satisficing(tables, [share]).tolist() == pytest.approx([2 / 3, 1.0, 1 / 3])
    strict = Requirement("final_share", at_least=0.32)  # A calm; B calm, shaken; C disrupted
    assert satisficing(tables, [survive, strict]).tolist() == pytest.approx([1 / 3, 2 / 3,
                                                                            1 / 3])
    assert satisficing(tables, []).tolist() == [1.0, 1.0, 1.0]
    band = Requirement("final_share", at_least=0.2, at_most=0.4)
    assert satisficing(tables, [band]).tolist() == pytest.approx([1 / 3, 1.0, 2 / 3])
    assert band.text() == "final_share at least 0.2 and at most 0.4"


def test_a_missing_value_never_satisfies():
    share = SHARE.copy()
    share.loc["B", "calm"] = np.nan
    got = satisficing({"final_share": share}, [Requirement("final_share", at_least=0.0)])
    assert got.tolist() == pytest.approx([1.0, 2 / 3, 1.0])


def test_statistics_over_futures():
    assert statistic(SHARE, "mean", "maximize").tolist() == pytest.approx([0.3, 0.35, 0.85 / 3])
    assert statistic(SHARE, "worst", "maximize").tolist() == [0.10, 0.30, 0.20]
    assert statistic(SHARE, "worst", "minimize").tolist() == [0.50, 0.40, 0.45]
    # 10th percentile of A's (0.10, 0.30, 0.50), linear: 0.10 + 0.2 * 0.20 = 0.14
    assert statistic(SHARE, "percentile", "maximize").tolist() == pytest.approx(
        [0.14, 0.31, 0.20])
    # for minimize, the bad side is the top: the 90th percentile of A is 0.50 - 0.04 = 0.46
    assert statistic(SHARE, "percentile", "minimize")["A"] == pytest.approx(0.46)


def test_the_pareto_set_keeps_what_nothing_dominates():
    scores = pd.DataFrame({"share": [0.3, 0.35, 0.2, 0.35], "cost": [1.0, 2.0, 0.5, 3.0]},
                          index=["A", "B", "C", "D"])
    mask = pareto_mask(scores, {"share": "maximize", "cost": "minimize"})
    assert mask.tolist() == [True, True, True, False]  # D: B has its share at lower cost
    same = pd.DataFrame({"share": [0.3, 0.3]}, index=["x", "y"])
    assert pareto_mask(same, {"share": "maximize"}).tolist() == [True, True]


@settings(max_examples=60, deadline=None)
@given(arrays(float, st.tuples(st.integers(1, 6), st.integers(1, 5)),
              elements=st.floats(-10, 10, allow_nan=False)))
def test_regret_is_never_negative_and_zero_for_the_best_in_each_future(data):
    values = pd.DataFrame(data)
    for direction in ("maximize", "minimize"):
        r = regret(values, direction)
        assert (r.to_numpy() >= 0).all()
        assert np.allclose(r.min(axis=0), 0.0)
        assert (max_regret(values, direction) >= mean_regret(values, direction) - 1e-12).all()
