"""The pattern suite's statistics against hand computations, and its pass/fail rule."""

import math

import numpy as np
import pandas as pd
import pytest

from experiments.pattern_stats import (
    Estimate,
    evaluate,
    interaction,
    meets,
    newcombe_paired,
    slope,
)
from experiments.patterns import Arm, Check, Condition, Pattern, need
from experiments.runner import replication_seed


def test_newcombe_paired_difference_matches_a_hand_computation():
    # x all 1, y all 0 over 10 seeds: phi = 0 (empty margins), so the lower distance is
    # sqrt((1 - l1)^2 + (u2 - 0)^2) = 0.277533 * sqrt(2) and the upper one is 0.
    est = newcombe_paired([1] * 10, [0] * 10)
    assert est.mean == 1.0
    assert est.low == pytest.approx(1 - 0.277533 * math.sqrt(2), abs=1e-5)
    assert est.high == 1.0


def test_newcombe_paired_difference_stays_within_minus_one_and_one():
    rng = np.random.default_rng(1)
    for _ in range(50):
        x, y = rng.integers(0, 2, 6), rng.integers(0, 2, 6)
        est = newcombe_paired(x, y)
        assert -1.0 <= est.low <= est.mean <= est.high <= 1.0
    same = newcombe_paired([1, 0, 1, 1], [1, 0, 1, 1])
    assert same.mean == 0 and same.low < 0 < same.high


def test_slope_is_the_ols_slope_with_an_interval_from_per_seed_slopes():
    # per-seed slopes 1 and 2: mean 1.5, s.d. 0.7071, t(0.975, 1) = 12.7062
    est = slope([0, 1, 2], np.array([[0, 1, 2], [0, 2, 4]]))
    assert est.mean == pytest.approx(1.5)
    assert est.high - est.mean == pytest.approx(12.7062 * 0.70711 / math.sqrt(2), abs=1e-3)
    assert slope([0, 1, 2], np.array([[0, 1, np.nan], [0, 2, 4], [1, 2, 3]])).n == 2


def test_interaction_is_hh_minus_hl_minus_lh_plus_ll():
    assert interaction(np.array([4.0]), np.array([1.0]), np.array([2.0]),
                       np.array([0.5]))[0] == pytest.approx(1.5)


def test_criteria_read_the_right_bound_and_never_pass_undefined_estimates():
    est = Estimate(0.02, -0.01, 0.05, 8)
    assert meets(est, need(Condition("upper", ">=", 0)))
    assert not meets(est, need(Condition("lower", ">", 0)))
    assert meets(est, need(Condition("contains", value=0.0)))
    assert meets(est, need(Condition("lower", ">", 0), Condition("abs_mean", "<", 0.03),
                           mode="any"))
    assert not meets(Estimate(math.nan, math.nan, math.nan, 0), need(Condition("mean", "<", 1)))


def test_replication_seed_depends_only_on_root_and_replication():
    assert replication_seed(7, 3) == replication_seed(7, 3)
    assert len({replication_seed(7, r) for r in range(20)}) == 20
    assert replication_seed(7, 3) != replication_seed(8, 3)
    assert replication_seed(7, 3) != replication_seed(7, 3, (0,))  # a sweep's block 0


TWO_ARMS = Pattern("toy", "Toy", "seed 000: toy", "a beats b",
                   arms=(Arm("a"), Arm("b")),
                   checks=(Check("a - b", "difference", "y", ("a", "b"),
                                 need(Condition("lower", ">", 0))),))


def _table(rows):
    return pd.DataFrame([{"level": (), "error": "", "ok": True, **r} for r in rows])


def test_a_pattern_passes_when_paired_differences_meet_the_criterion():
    rows = [{"arm": arm, "replication": rep, "y": base + rep}
            for rep in range(5) for arm, base in (("a", 1.0 + 0.1 * (rep % 2)), ("b", 0.0))]
    result = evaluate(TWO_ARMS, _table(rows))
    assert result.status == "PASS" and result.passed
    assert result.checks[0].estimates[0][1].n == 5


def test_a_failed_run_makes_the_pattern_fail_with_its_first_error_line():
    rows = [{"arm": arm, "replication": rep, "y": 1.0 if arm == "a" else 0.0}
            for rep in range(4) for arm in ("a", "b")]
    rows.append({"arm": "b", "replication": 4, "ok": False,
                 "error": "ParameterError: need_noise: unknown\nmore"})
    result = evaluate(TWO_ARMS, _table(rows))
    assert result.status == "FAIL (error)" and result.passed is False
    assert result.error == "ParameterError: need_noise: unknown"


def test_a_lead_in_share_keeps_its_interval_within_what_a_lead_can_be():
    # Two seeds with leads 0.98 and 0.90: the t interval reaches past 1; a lead in share
    # cannot, so the interval is cut at 1 and the mean and lower bound are unchanged.
    from experiments.pattern_stats import estimate_check, share_range

    check = Check("OI - IO mean share", "mean", "f0_mean_share - f1_mean_share",
                  arms=("h2h",), criterion=None)
    pattern = Pattern("p", "title", "seed", "claim", arms=(Arm("h2h", {}),), checks=(check,))
    table = pd.DataFrame({"arm": "h2h", "level": [(), ()], "replication": [0, 1], "ok": True,
                          "f0_mean_share": [0.99, 0.95], "f1_mean_share": [0.01, 0.05]})
    (_, est), = estimate_check(pattern, check, table).estimates
    t_half = 12.706204736174698 * np.std([0.98, 0.90], ddof=1) / math.sqrt(2)
    assert est.mean == pytest.approx(0.94) and est.low == pytest.approx(0.94 - t_half)
    assert 0.94 + t_half > 1.0
    assert est.high == 1.0
    assert share_range(check) == (-1.0, 1.0)
    assert share_range(Check("x", "difference", "f0_profit", ("a", "b"), None)) is None
    assert share_range(Check("x", "interaction", "f0_mean_share", ("a", "b", "c", "d"),
                             None)) == (-2.0, 2.0)
