"""The pattern suite's statistics against hand computations, and its verdict rule."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from experiments.engine.runner import replication_seed
from experiments.patterns.catalog import Arm, Check, Pattern, at_least, equivalent, no_worse
from experiments.patterns.stats import (
    Estimate,
    claim_p_value,
    decide,
    evaluate,
    holm,
    interaction,
    newcombe_paired,
    seeds_for_power,
    slope,
    t_p_value,
    wins_for_power,
)


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
    est, per_seed = slope([0, 1, 2], np.array([[0, 1, 2], [0, 2, 4]]))
    assert est.mean == pytest.approx(1.5) and list(per_seed) == pytest.approx([1.0, 2.0])
    assert est.high - est.mean == pytest.approx(12.7062 * 0.70711 / math.sqrt(2), abs=1e-3)
    assert slope([0, 1, 2], np.array([[0, 1, np.nan], [0, 2, 4], [1, 2, 3]]))[0].n == 2


def test_interaction_is_hh_minus_hl_minus_lh_plus_ll():
    assert interaction(np.array([4.0]), np.array([1.0]), np.array([2.0]),
                       np.array([0.5]))[0] == pytest.approx(1.5)


def test_replication_seed_depends_only_on_root_and_replication():
    assert replication_seed(7, 3) == replication_seed(7, 3)
    assert len({replication_seed(7, r) for r in range(20)}) == 20
    assert replication_seed(7, 3) != replication_seed(8, 3)
    assert replication_seed(7, 3) != replication_seed(7, 3, (0,))  # a sweep's block 0


# --- tests, power and multiplicity by hand ---------------------------------------------------

def test_the_one_sided_t_test_matches_a_hand_computation():
    # 1..5: mean 3, s.d. 1.5811, s.e. 0.7071, t = 4.2426 on 4 degrees of freedom: p = 0.00662
    assert t_p_value(np.arange(1.0, 6.0), 0.0) == pytest.approx(0.0066178, abs=1e-6)
    assert t_p_value(np.arange(1.0, 6.0), 0.0, greater=False) == pytest.approx(1 - 0.0066178,
                                                                              abs=1e-6)
    assert math.isnan(t_p_value(np.array([2.0, 2.0]), 0.0))      # no spread: no test


def test_a_decrease_claim_tests_the_effect_with_its_sign_turned():
    values = -np.arange(1.0, 6.0)
    why = "a hand example"
    assert claim_p_value(values, at_least(1.0, why, "decrease")) == pytest.approx(0.0066178,
                                                                                   abs=1e-6)
    # non-inferiority at margin 1: H0 mean <= -1; t = (3 + 1) / 0.7071 = 5.657, p = 0.00241
    assert claim_p_value(-values, no_worse(1.0, why)) == pytest.approx(0.0024063, abs=1e-6)


def test_tost_is_the_larger_of_the_two_one_sided_p_values():
    values = np.array([-0.01, 0.0, 0.01, 0.02, 0.03])       # mean 0.01, s.e. 0.007071
    margin = 0.05
    low = t_p_value(values, -margin)                         # t = 8.485
    high = t_p_value(values, margin, greater=False)          # t = -5.657
    assert claim_p_value(values, equivalent(margin, "a hand example")) == max(low, high)
    assert max(low, high) == pytest.approx(0.0024063, abs=1e-6)


def test_holm_matches_a_hand_computed_example():
    # sorted: 0.005 x 4 = 0.02, 0.01 x 3 = 0.03, 0.03 x 2 = 0.06, 0.04 x 1 = 0.04 -> 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    adjusted = holm([0.01, math.nan, 0.02])           # a degenerate check counts in m
    assert adjusted[0] == pytest.approx(0.03) and adjusted[2] == pytest.approx(0.04)
    assert math.isnan(adjusted[1])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


@given(st.lists(st.floats(0, 1), min_size=1, max_size=30))
def test_holm_never_lowers_a_p_value_and_keeps_their_order(p_values):
    adjusted = holm(p_values)
    assert all(raw <= adj <= 1.0 for raw, adj in zip(p_values, adjusted, strict=True))
    order = np.argsort(p_values, kind="stable")
    ranked = [adjusted[i] for i in order]
    assert ranked == sorted(ranked)


def test_seeds_for_power_match_the_normal_approximation_by_hand():
    why = "a hand example"
    # ((1.6449 + 0.8416) * 1 / 0.5)^2 = 24.7 -> 25
    assert seeds_for_power(1.0, at_least(0.5, why), alpha=0.05, power=0.8) == 25
    # equivalence: power split over two sides, z(0.9) = 1.2816: ((1.6449 + 1.2816) / 0.5)^2
    assert seeds_for_power(1.0, equivalent(0.5, why), alpha=0.05, power=0.8) == 35
    assert seeds_for_power(0.0, at_least(0.5, why), alpha=0.05, power=0.8) == 2
    # 1 - 0.9^n >= 0.8 first at n = 16
    assert wins_for_power(0.1, 0.8) == 16


# --- synthetic patterns: what passes, fails and is inconclusive ------------------------------

WHY = "a synthetic size"


def _pattern(criterion):
    return Pattern("toy", "Toy", "seed 000: toy", "a beats b", arms=(Arm("a"), Arm("b")),
                   checks=(Check("a - b", "difference", "y", ("a", "b"), criterion),))


def _table(a, b):
    rows = [{"arm": arm, "replication": rep, "y": float(v)}
            for arm, values in (("a", a), ("b", b)) for rep, v in enumerate(values)]
    return pd.DataFrame([{"level": (), "error": "", "ok": True, **r} for r in rows])


def _verdict(pattern, table):
    result = evaluate(pattern, table)
    decide([result])
    return result


def test_a_true_effect_below_its_minimum_effect_fails_however_clear():
    rng = np.random.default_rng(5)
    b = rng.normal(0.5, 0.05, 40)
    a = b + 0.004 + rng.normal(0, 0.001, 40)             # real, tiny: 0.004 < 0.01
    result = _verdict(_pattern(at_least(0.01, WHY)), _table(a, b))
    check = result.checks[0]
    assert check.p_adjusted < 1e-10                       # beyond doubt, yet too small
    assert check.verdict == "FAIL" and result.status == "FAIL"
    big = _verdict(_pattern(at_least(0.01, WHY)), _table(b + 0.03, b))
    assert big.status == "INCONCLUSIVE"                   # a constant shift: no spread
    noisy = _verdict(_pattern(at_least(0.01, WHY)),
                     _table(b + 0.03 + rng.normal(0, 0.005, 40), b))
    assert noisy.status == "PASS"


def test_arms_both_degenerate_are_inconclusive_never_pass():
    dead = [240.0] * 8                                   # alive throughout in both arms
    for criterion in (at_least(6, WHY), no_worse(6, WHY), equivalent(6, WHY)):
        result = _verdict(_pattern(criterion), _table(dead, dead))
        assert result.status == "INCONCLUSIVE", criterion.claim
        assert "identically 0" in result.notes[0]
        assert math.isnan(result.checks[0].p_raw)


def test_an_invariance_with_a_wide_interval_fails_its_equivalence_test():
    rng = np.random.default_rng(2)
    b = rng.normal(0.5, 0.1, 8)
    wide = _verdict(_pattern(equivalent(0.02, WHY)), _table(b + rng.normal(0, 0.08, 8), b))
    est = wide.checks[0].tests[0].estimate
    assert est.low < -0.02 and est.high > 0.02 and est.low < 0 < est.high
    assert wide.status == "FAIL"                          # "contains 0" is no longer a pass
    narrow = _verdict(_pattern(equivalent(0.02, WHY)), _table(b + rng.normal(0, 0.005, 8), b))
    assert narrow.status == "PASS"


def test_fewer_seeds_make_a_non_inferiority_claim_harder_not_easier():
    rng = np.random.default_rng(3)
    b = rng.normal(10, 2, 40)
    a = b + rng.normal(0, 3, 40)                          # no true difference
    p = [evaluate(_pattern(no_worse(2.0, WHY)), _table(a[:n], b[:n])).checks[0].p_raw
         for n in (4, 40)]
    assert p[0] > 0.05 > p[1]


def test_a_check_must_hold_at_every_level_its_p_value_is_the_largest():
    pattern = Pattern("lv", "Levels", "seed 000: toy", "a beats b at both levels",
                      arms=(Arm("a"), Arm("b")), levels=(),
                      checks=(Check("a - b", "difference", "y", ("a", "b"),
                                    at_least(0.01, WHY)),))
    rng = np.random.default_rng(4)
    table = _table(0.05 + rng.normal(0, 0.01, 10), np.zeros(10))
    result = evaluate(pattern, table)
    assert result.checks[0].p_raw == result.checks[0].tests[0].p


def test_a_failed_run_makes_the_pattern_fail_with_its_first_error_line():
    table = _table([1.0, 1.1, 1.2, 1.0], [0.0, 0.0, 0.1, 0.0])
    broken = pd.DataFrame([{"arm": "b", "replication": 4, "level": (), "ok": False,
                            "error": "ParameterError: need_noise: unknown\nmore"}])
    result = _verdict(_pattern(at_least(0.01, WHY)), pd.concat([table, broken]))
    assert result.status == "FAIL (error)" and result.passed is False
    assert result.error == "ParameterError: need_noise: unknown"


def test_a_criterion_needs_a_positive_size_and_its_reason():
    with pytest.raises(ValueError, match="positive"):
        at_least(0.0, WHY)
    with pytest.raises(ValueError, match="why"):
        equivalent(0.1, " ")
    with pytest.raises(ValueError, match="cannot decide"):
        Check("x", "proportion_difference", "a - b", ("h",), no_worse(0.1, WHY))


def test_a_lead_in_share_keeps_its_interval_within_what_a_lead_can_be():
    # Two seeds with leads 0.98 and 0.90: the t interval reaches past 1; a lead in share
    # cannot, so the interval is cut at 1 and the mean and lower bound are unchanged.
    from experiments.patterns.stats import estimate_check, share_range

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
    assert isinstance(est, Estimate)
