"""The confidence intervals every face shows, against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from experiments.intervals import (
    bootstrap_interval,
    interval_for,
    mean_interval,
    paired_difference,
    unpaired_difference,
    wilson_interval,
)


def test_mean_interval_by_hand() -> None:
    # x = 1, 2, 3, 4, 5: mean 3, s = sqrt(2.5), t(0.975, 4) = 2.7764451051977987
    got = mean_interval([1, 2, 3, 4, 5])
    half = 2.7764451051977987 * math.sqrt(2.5) / math.sqrt(5)
    assert got.n == 5 and got.mean == 3.0
    assert got.low == pytest.approx(3 - half, abs=1e-12)
    assert got.high == pytest.approx(3 + half, abs=1e-12)


def test_paired_difference_by_hand() -> None:
    a = [0.30, 0.25, 0.40, 0.35]
    b = [0.38, 0.30, 0.41, 0.45]
    # d = 0.08, 0.05, 0.01, 0.10: mean 0.06; s^2 = 0.0046/3; t(0.975, 3) = 3.182446305284263
    half = 3.182446305284263 * math.sqrt(0.0046 / 3) / 2
    got = paired_difference(a, b)
    assert got.n == 4
    assert got.mean == pytest.approx(0.06, abs=1e-12)
    assert (got.low, got.high) == (pytest.approx(0.06 - half, abs=1e-12),
                                   pytest.approx(0.06 + half, abs=1e-12))
    assert paired_difference(b, a).mean == pytest.approx(-0.06, abs=1e-12)  # b - a, not a - b
    loose = unpaired_difference(a, b)
    assert loose.mean == pytest.approx(0.06, abs=1e-12)
    assert loose.high - loose.low > got.high - got.low  # these pairs move together


def test_pairs_with_a_missing_value_are_dropped_whole() -> None:
    got = paired_difference([1.0, np.nan, 3.0, 2.0], [2.0, 5.0, np.nan, 4.0])
    assert got.n == 2 and got.mean == pytest.approx(1.5)
    assert math.isnan(mean_interval([1.0]).low) and mean_interval([]).n == 0
    flat = mean_interval([2.0, 2.0, 2.0])
    assert (flat.low, flat.mean, flat.high) == (2.0, 2.0, 2.0)
    with pytest.raises(ValueError, match="differ in length"):
        paired_difference([1, 2], [1, 2, 3])


def test_t_interval_drops_missing_values_and_needs_two_to_give_an_interval():
    assert mean_interval([2.0, float("nan")]).n == 1
    assert math.isnan(mean_interval([2.0]).low)
    assert mean_interval([]).n == 0


@pytest.mark.parametrize(("successes", "low", "high"), [
    (0, 0.0, 0.2775),    # hand: centre = half = (z²/2n)/(1 + z²/n) = 0.19207/1.38415
    (10, 0.7225, 1.0),   # the mirror image
    (9, 0.5958, 0.9821),  # (0.9 + 0.19207)/1.38415 ∓ 1.41601·√(0.009 + 0.0096037)
])
def test_wilson_interval_matches_the_hand_computation(successes: int, low: float,
                                                      high: float) -> None:
    got = wilson_interval([1.0] * successes + [0.0] * (10 - successes))
    assert got.mean == successes / 10 and got.n == 10
    assert got.low == pytest.approx(low, abs=1e-4)
    assert got.high == pytest.approx(high, abs=1e-4)


@pytest.mark.parametrize("n", range(1, 41))
def test_wilson_interval_holds_its_proportion_exactly_at_none_and_all(n: int) -> None:
    # at 0 or n of n, rounding once put the bound a hair inside (a negative error bar)
    none, every = wilson_interval([0.0] * n), wilson_interval([1.0] * n)
    assert none.low == 0.0 and every.high == 1.0
    assert none.low <= none.mean <= none.high and every.low <= every.mean <= every.high


def test_survival_gets_wilson_and_bounded_outcomes_stay_in_their_range() -> None:
    survived = [1.0] * 9 + [0.0]
    assert interval_for("survived", survived) == wilson_interval(survived)
    share = np.array([0.0, 0.0, 0.01, 0.0, 0.4, 0.0, 0.0, 0.0])  # a t interval goes below 0
    got = interval_for("final_share", share)
    assert 0.0 <= got.low <= got.mean <= got.high <= 1.0
    diff = paired_difference([1.0] * 9 + [0.0], [0.0] * 2 + [1.0] * 8, name="survived")
    assert -1.0 <= diff.low <= diff.mean <= diff.high <= 1.0
    assert bootstrap_interval(share) == bootstrap_interval(share)  # the same every time
    money = interval_for("cumulative_profit", [-3.0, 1.0, 2.0])
    assert money.low < -3.0  # money is unbounded: a t interval


def test_an_unpaired_difference_of_proportions_stays_within_minus_one_and_one() -> None:
    # 1 of 30 against 29 of 30: Welch's interval leaves [-1, 1]; the bootstrap of each arm
    # (what a share or a proportion gets) does not, and money keeps Welch's interval.
    a, b = [1.0] + [0.0] * 29, [1.0] * 29 + [0.0]
    got = unpaired_difference(b, a, name="survived")
    assert -1.0 <= got.low <= got.mean <= got.high <= 1.0 and got.mean == pytest.approx(-28 / 30)
    few = unpaired_difference([0.0, 0.0, 1.0], [1.0, 1.0, 1.0], name="survived")
    assert few.high <= 1.0 and few.low >= -1.0
    welch = unpaired_difference([0.0, 0.0, 1.0], [1.0, 1.0, 1.0])
    assert welch.high > 1.0  # the interval it replaces for proportions
    assert unpaired_difference(a, b, name="cumulative_profit") == unpaired_difference(a, b)


def test_a_band_leaves_out_missing_values_and_steps_with_too_few() -> None:
    from experiments.intervals import band

    matrix = np.array([[1.0, 1.0, np.nan], [3.0, np.nan, np.nan], [5.0, 3.0, 4.0]])
    mean, low, high = band(matrix)
    assert mean.tolist() == [3.0, 2.0, 4.0]
    assert math.isnan(low[2]) and math.isnan(high[2])  # one value: a mean, no interval
    some, _, _ = band(matrix, least=2)
    assert some[:2].tolist() == [3.0, 2.0] and math.isnan(some[2])
    one_run, _, _ = band(matrix[:1], least=5)  # fewer runs than least: one value is enough
    assert one_run[:2].tolist() == [1.0, 1.0] and math.isnan(one_run[2])
