"""Statistics of the pattern suite: intervals, tests of claims, power and multiplicity.

Pure functions of arrays and DataFrames (no model, no files). Continuous measures are
compared on paired seeds: Student's t interval and one-sided t tests of the per-seed
differences (a superiority claim against 0 plus a minimum effect the estimate must reach;
a non-inferiority claim against its margin; an equivalence claim by TOST, both one-sided
tests at the margin). Proportions get Wilson's score interval, differences of paired
proportions Newcombe's hybrid score interval (method 10 of Newcombe 1998, *Statistics in
Medicine* 17:2635); those differences only report, because 0 = 0 when both arms always fail.
An estimate whose per-seed values are all equal (an effect identically 0) is degenerate:
its check is INCONCLUSIVE, never PASS.

Each check's p-value is the largest of its levels' (an intersection-union test: it must
hold at each). :func:`decide` adjusts the p-values of every deciding check of the suite
together by Holm's step-down method (family-wise error rate at
:data:`~experiments.patterns.catalog.ALPHA`). :func:`seeds_for_power` says how many paired seeds a
check needs for :data:`~experiments.patterns.catalog.POWER` at its minimum effect or margin.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtri, stdtr, stdtrit

from experiments.intervals import Interval, mean_interval, wilson_bounds, wilson_interval
from experiments.patterns.catalog import ALPHA, POWER, Check, Criterion, Pattern

Estimate = Interval
"""A pattern's estimate: a mean (or proportion) with its 95% interval from ``n`` seeds."""

NAN = float("nan")
SAME = 1e-9
"""Per-seed values whose spread is below this (relative to their size) are the same value:
floating-point rounding of a difference that does not vary is not a spread to test."""


def newcombe_paired(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> Estimate:
    """Difference of paired proportions ``mean(x) - mean(y)`` with Newcombe's interval.

    ``x`` and ``y`` are 0/1 outcomes of the same seeds (pairs with a NaN are dropped). The
    interval combines each proportion's Wilson interval with the correlation ``phi`` of
    the pairs (Newcombe 1998, method 10), and stays in [-1, 1].
    """
    a_x, a_y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = ~(np.isnan(a_x) | np.isnan(a_y))
    bx, by = a_x[keep] > 0.5, a_y[keep] > 0.5
    n = int(bx.size)
    if n == 0:
        return Estimate(NAN, NAN, NAN, 0)
    a, b = int(np.sum(bx & by)), int(np.sum(bx & ~by))
    c, d = int(np.sum(~bx & by)), int(np.sum(~bx & ~by))
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson_bounds(p1, n)
    l2, u2 = wilson_bounds(p2, n)
    denominator = (a + b) * (c + d) * (a + c) * (b + d)
    phi = (a * d - b * c) / math.sqrt(denominator) if denominator > 0 else 0.0
    theta = p1 - p2
    d_low = math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2)
                          + (u2 - p2) ** 2))
    d_up = math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2)
                         + (p2 - l2) ** 2))
    return Estimate(theta, max(-1.0, theta - d_low), min(1.0, theta + d_up), n)


def slope(levels: Sequence[float], values: np.ndarray) -> tuple[Estimate, np.ndarray]:
    """OLS slope of ``values`` over ``levels``, with a t interval from the per-seed slopes.

    ``values`` is seeds x levels; seeds with a missing level are dropped. With every seed at
    every level the pooled OLS slope equals the mean of the per-seed slopes, so the
    interval is the t interval of those slopes (seeds, not runs, are independent). Returns
    the estimate and the per-seed slopes.
    """
    x = np.asarray(levels, dtype=float)
    y = np.asarray(values, dtype=float)
    y = y[~np.isnan(y).any(axis=1)]
    if y.shape[0] == 0 or x.size < 2:
        return Estimate(NAN, NAN, NAN, 0), np.array([])
    centred = x - x.mean()
    per_seed = (y - y.mean(axis=1, keepdims=True)) @ centred / float(centred @ centred)
    spread = mean_interval(per_seed)
    return spread, per_seed


def interaction(hh: np.ndarray, hl: np.ndarray, lh: np.ndarray, ll: np.ndarray) -> np.ndarray:
    """Per-seed 2x2 interaction ``y(hh) - y(hl) - y(lh) + y(ll)`` (positive: complements)."""
    return np.asarray(hh) - np.asarray(hl) - np.asarray(lh) + np.asarray(ll)


# --- tests of a claim -------------------------------------------------------------------------

VERDICTS = ("PASS", "FAIL", "INCONCLUSIVE")
"""What a deciding check can end as; a check without a criterion is ``reported``."""


@dataclass(frozen=True)
class Test:
    """One estimate of a check (at one level, pair of levels, or across levels) and its test.

    ``p`` is the one-sided p-value of the claim's null hypothesis (for equivalence, the
    larger of TOST's two), NaN when the estimate is degenerate or the check only reports.
    ``degenerate`` says why no test is possible (every seed gave the same value: both arms
    dead or alive throughout, an effect identically 0), empty otherwise. ``sd`` is the
    spread of the per-seed values the test is made of; ``needed`` the seeds that give
    :data:`~experiments.patterns.catalog.POWER` for the criterion's size at the level the test was
    planned for.
    """

    label: str
    estimate: Estimate
    p: float = NAN
    degenerate: str = ""
    big_enough: bool = True
    """Superiority only: whether the estimate reaches the minimum effect."""
    sd: float = NAN
    needed: int = 0

    def verdict(self, level: float) -> str:
        """PASS, FAIL or INCONCLUSIVE for this estimate alone, its p-value read at ``level``."""
        if self.degenerate:
            return "INCONCLUSIVE"
        return "PASS" if self.p <= level and self.big_enough else "FAIL"


def t_p_value(values: np.ndarray, null: float, greater: bool = True) -> float:
    """One-sided p-value of Student's t test of the mean of ``values`` against ``null``.

    ``greater``: the alternative is mean > null (else mean < null). NaN with fewer than two
    values or no spread.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size < 2:
        return NAN
    sd = float(x.std(ddof=1))
    if not sd > 0:
        return NAN
    t = (float(x.mean()) - null) / (sd / math.sqrt(x.size))
    upper_tail = float(1.0 - stdtr(x.size - 1, t))
    return upper_tail if greater else float(stdtr(x.size - 1, t))


def claim_p_value(values: np.ndarray, criterion: Criterion) -> float:
    """The p-value of a criterion's null hypothesis from paired per-seed values.

    Superiority: H0 effect <= 0 in the claimed direction. Non-inferiority: H0 effect <=
    -margin (in the claimed direction). Equivalence (TOST): the larger of the p-values of
    H0 effect <= -margin and H0 effect >= +margin.
    """
    x = criterion.sign * np.asarray(values, dtype=float)
    if criterion.claim == "superiority":
        return t_p_value(x, 0.0)
    if criterion.claim == "noninferiority":
        return t_p_value(x, -criterion.size)
    low, high = t_p_value(x, -criterion.size), t_p_value(x, criterion.size, greater=False)
    return max(low, high)


def proportion_p_value(successes: int, n: int) -> float:
    """One-sided exact binomial p-value of H0 "the proportion is 0": 0 with one success."""
    if n == 0:
        return NAN
    return 0.0 if successes > 0 else 1.0


def seeds_for_power(sd: float, criterion: Criterion, *, alpha: float, power: float) -> int:
    """Paired seeds a t test needs for ``power`` at one-sided level ``alpha`` (normal approx.).

    The suite asks for these only while a check is not yet :func:`decided`.

    Superiority: the true effect is the minimum effect, the null 0. Non-inferiority: the true
    effect is 0, the null the margin. Equivalence: the true effect 0, both nulls at the
    margin (each side tested at ``alpha``, power split between them). Two seeds at least.
    """
    if not (math.isfinite(sd) and sd > 0):
        return 2
    z_alpha = float(ndtri(1 - alpha))
    z_power = float(ndtri(power if criterion.claim != "equivalence" else (1 + power) / 2))
    return max(2, math.ceil(((z_alpha + z_power) * sd / criterion.size) ** 2))


def wins_for_power(minimum: float, power: float) -> int:
    """Runs that show one success or more with ``power`` if the true proportion is ``minimum``."""
    return max(2, math.ceil(math.log(1 - power) / math.log(1 - minimum)))


def test_values(label: str, estimate: Estimate, values: np.ndarray | None,
                criterion: Criterion | None, *, kind: str, alpha: float, power: float) -> Test:
    """Test one estimate made of per-seed ``values`` (0/1 runs for a proportion)."""
    if criterion is None or values is None:
        return Test(label, estimate)
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if kind == "proportion":
        if x.size == 0:
            return Test(label, estimate, degenerate="no runs to estimate it from")
        wins = int(np.sum(x > 0.5))
        return Test(label, estimate, proportion_p_value(wins, int(x.size)),
                    big_enough=wins / x.size >= criterion.size,
                    sd=float(np.sqrt(estimate.mean * (1 - estimate.mean))),
                    needed=wins_for_power(criterion.size, power))
    if x.size < 2:
        return Test(label, estimate, degenerate=f"{x.size} seed(s) with a value: no test")
    sd = float(x.std(ddof=1))
    if not sd > SAME * (1.0 + abs(float(x.mean()))):
        what = "identically 0" if np.all(x == 0) else f"the same ({x[0]:.4g}) in every seed"
        return Test(label, estimate, degenerate=f"the effect is {what}: the arms do not "
                    "differ in any seed (both dead or alive throughout, or the lever inert)",
                    sd=0.0)
    big = criterion.claim != "superiority" or criterion.sign * float(x.mean()) >= criterion.size
    needed = int(x.size) if decided(x, criterion, alpha) else seeds_for_power(
        sd, criterion, alpha=alpha, power=power)
    return Test(label, estimate, claim_p_value(x, criterion), big_enough=big, sd=sd,
                needed=needed)


def decided(values: np.ndarray, criterion: Criterion, alpha: float) -> bool:
    """Whether more seeds could not change the verdict: the interval is narrow enough.

    The two-sided ``1 - 2 alpha`` interval of the effect (in the claimed direction) lies
    wholly on one side of every boundary the verdict depends on: 0 and the minimum effect
    (superiority), the margin (non-inferiority), both margins (equivalence). ``alpha`` is
    the level seeds are planned at (Holm's strictest).
    """
    x = criterion.sign * np.asarray(values, dtype=float)
    n = x.size
    half = float(stdtrit(n - 1, 1 - alpha) * x.std(ddof=1) / math.sqrt(n))
    low, high = float(x.mean()) - half, float(x.mean()) + half
    if criterion.claim == "superiority":
        edges = [0.0, criterion.size]
    elif criterion.claim == "noninferiority":
        edges = [-criterion.size]
    else:
        edges = [-criterion.size, criterion.size]
    return all(low > e or high < e for e in edges)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (Holm 1979), in the input's order.

    The smallest of ``m`` p-values is multiplied by ``m``, the next by ``m - 1``, and so on,
    each kept at least as large as the one before and at most 1; rejecting where the
    adjusted p-value is at most alpha controls the family-wise error rate at alpha. NaN
    p-values (degenerate checks) count in ``m`` and stay NaN.
    """
    p = np.asarray(p_values, dtype=float)
    m = p.size
    out = np.full(m, NAN)
    defined = np.flatnonzero(~np.isnan(p))
    order = defined[np.argsort(p[defined], kind="stable")]
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * float(p[index])))
        out[index] = running
    return [float(v) for v in out]


def describe(criterion: Criterion | None, unit: str = "") -> str:
    """The criterion in words, e.g. ``increase of at least 0.01 share of the market``."""
    if criterion is None:
        return "reported only"
    size = f"{criterion.size:.3g}" + (f" {unit}" if unit else "")
    if criterion.claim == "superiority":
        return f"{criterion.direction} of at least {size}"
    if criterion.claim == "noninferiority":
        worse = "decrease" if criterion.direction == "increase" else "increase"
        return f"no {worse} beyond {size}"
    return f"within ±{size} (TOST)"


# --- evaluating a pattern ---------------------------------------------------------------------

@dataclass
class CheckResult:
    """A check's tests (one per level, pair of levels, or one across levels) and verdict."""

    check: Check
    tests: list[Test]
    p_raw: float = NAN
    """The check's p-value: the largest of its tests' (intersection-union)."""
    p_adjusted: float = NAN
    """After Holm's adjustment across the suite's deciding checks."""
    verdict: str = "reported"
    worst: int = 0
    """Index of the test closest to failing (the one the summary shows)."""
    needed: int = 0
    """Seeds for power (the most any of its tests needs)."""

    @property
    def estimates(self) -> list[tuple[str, Estimate]]:
        """(label, estimate) of every test."""
        return [(t.label, t.estimate) for t in self.tests]

    @property
    def passed(self) -> bool | None:
        """True for PASS, False for FAIL and INCONCLUSIVE, None for a reported check."""
        return None if self.verdict == "reported" else self.verdict == "PASS"

    def decide(self, alpha: float) -> None:
        """Set the verdict from the Holm-adjusted p-value and the estimates.

        FAIL if an estimate misses the minimum effect, INCONCLUSIVE if one is degenerate,
        else PASS when the adjusted p-value is at most ``alpha`` (FAIL otherwise).
        """
        if self.check.criterion is None:
            return
        if not self.tests:
            self.verdict = "INCONCLUSIVE"
            return
        small = [i for i, t in enumerate(self.tests) if not t.degenerate and not t.big_enough]
        degenerate = [i for i, t in enumerate(self.tests) if t.degenerate]
        if small:
            self.verdict, self.worst = "FAIL", small[0]
        elif degenerate:
            self.verdict, self.worst = "INCONCLUSIVE", degenerate[0]
        else:
            self.verdict = "PASS" if self.p_adjusted <= alpha else "FAIL"
            self.worst = max(range(len(self.tests)), key=lambda i: self.tests[i].p)


@dataclass
class PatternResult:
    """What a pattern's runs showed."""

    pattern: Pattern
    checks: list[CheckResult]
    runs: int
    failed: int
    error: str = ""
    """The first failed run's error line, if any run failed."""
    notes: list[str] = field(default_factory=list)
    seeds: int = 0
    """Paired replications per arm and level the verdict rests on."""
    needed: int = 0
    """Replications the power rule asked for (before the cap)."""

    @property
    def passed(self) -> bool | None:
        """True if every deciding check passed and no run failed; None for a map."""
        if not self.pattern.gate:
            return None if not self.failed else False
        return not self.failed and all(c.passed is not False for c in self.checks)

    @property
    def status(self) -> str:
        """PASS, FAIL, INCONCLUSIVE, FAIL (error) or MAP."""
        if self.failed:
            return "FAIL (error)"
        if not self.pattern.gate:
            return "MAP"
        verdicts = {c.verdict for c in self.checks}
        if "FAIL" in verdicts:
            return "FAIL"
        return "INCONCLUSIVE" if "INCONCLUSIVE" in verdicts else "PASS"


def split_measure(measure: str) -> tuple[str, str | None]:
    """``"a - b"`` to ``("a", "b")``; ``"a"`` to ``("a", None)``."""
    left, sep, right = measure.partition(" - ")
    return left.strip(), (right.strip() if sep else None)


def level_keys(pattern: Pattern) -> list[tuple[Any, ...]]:
    """Every combination of the pattern's levels, in order (one empty key if none)."""
    keys: list[tuple[Any, ...]] = [()]
    for axis in pattern.levels:
        keys = [(*k, v) for k in keys for v in axis.values]
    return keys


def level_label(pattern: Pattern, key: tuple[Any, ...]) -> str:
    """``turbulence 0.016, momentum 0.95`` for a level key (empty without levels)."""
    return ", ".join(f"{axis.keyword} {value:g}" if isinstance(value, float | int)
                     else f"{axis.keyword} {value}" for axis, value in zip(pattern.levels, key,
                                                                          strict=True))


def per_seed(table: pd.DataFrame, arm: str, key: tuple[Any, ...], measure: str) -> pd.Series:
    """The measure (or the within-run difference) of one arm at one level, by replication."""
    same_level = np.array([level == key for level in table["level"]], dtype=bool)
    rows = table[(table["arm"] == arm).to_numpy() & same_level & table["ok"].to_numpy()]
    left, right = split_measure(measure)
    values = _column(rows, left)
    if right is not None:
        values = values - _column(rows, right)
    return pd.Series(values.to_numpy(dtype=float), index=rows["replication"].to_numpy())


def _column(rows: pd.DataFrame, name: str) -> pd.Series:
    if name in rows.columns:
        return rows[name].astype(float)
    return pd.Series(np.nan, index=rows.index)


def _paired(series: Sequence[pd.Series]) -> list[np.ndarray]:
    """Align series on their replications; keep seeds where all are defined."""
    frame = pd.concat(list(series), axis=1, join="outer").dropna()
    return [frame.iloc[:, i].to_numpy(dtype=float) for i in range(frame.shape[1])]


_SPAN = {"mean": 1, "difference": 2, "adjacent": 2, "interaction": 4}
"""How many share-ranges wide a statistic of one share can be: a mean of a share lies in
[0, 1], a difference of two in [-1, 1], an interaction (a - b - c + d) in [-2, 2]."""


def share_range(check: Check) -> tuple[float, float] | None:
    """The values a check's statistic can take when its measure is made of market shares.

    A t interval of shares over a few seeds can reach past them (0.68 [0.08, 1.28] for a lead
    in share over 2 seeds); the statistic cannot, so its interval is cut to this range: the
    cut keeps every value the statistic can take, and so the interval's coverage.
    """
    parts = [p for p in split_measure(check.measure) if p is not None]
    if check.kind not in _SPAN or not all(p.endswith("share") for p in parts):
        return None
    if check.kind == "mean" and len(parts) == 1:
        return 0.0, 1.0
    half = _SPAN[check.kind] * len(parts) / 2
    return -half, half


def check_values(pattern: Pattern, check: Check, table: pd.DataFrame
                 ) -> list[tuple[str, Estimate, np.ndarray | None]]:
    """Each estimate of a check with the per-seed values it is made of.

    One per level (``slope``: one across the levels; ``adjacent*``: one per pair of
    neighbouring levels). The values are paired per-seed effects (per-seed slopes for a
    slope, 0/1 runs for a proportion); None for a Newcombe difference of proportions,
    which only reports.
    """
    keys = level_keys(pattern)
    out: list[tuple[str, Estimate, np.ndarray | None]] = []
    kind = check.kind
    if kind in ("slope", "adjacent", "adjacent_proportion"):
        if len(pattern.levels) != 1:
            raise ValueError(f"{pattern.name}: a {kind} check needs exactly one level axis")
        series = [per_seed(table, check.arms[0], k, check.measure) for k in keys]
        if kind == "slope":
            matrix = pd.concat(series, axis=1, join="outer").to_numpy(dtype=float)
            est, slopes = slope([k[0] for k in keys], matrix)
            out.append(("", est, slopes))
        else:
            for prev, nxt, a, b in zip(keys, keys[1:], series, series[1:], strict=False):
                later, earlier = _paired([b, a])
                label = f"{pattern.levels[0].keyword} {prev[0]:g} to {nxt[0]:g}"
                if kind == "adjacent_proportion":
                    out.append((label, newcombe_paired(later, earlier), None))
                else:
                    out.append((label, mean_interval(later - earlier), later - earlier))
    else:
        for key in keys:
            est, found = _at_level(check, table, key)
            out.append((level_label(pattern, key), est, found))
    bounds = share_range(check)
    if bounds is not None:
        out = [(label, est.within(*bounds), values) for label, est, values in out]
    return out


def estimate_check(pattern: Pattern, check: Check, table: pd.DataFrame, *,
                   alpha: float = ALPHA, power: float = POWER, family: int = 1) -> CheckResult:
    """Estimate and test one check at every level (or across levels); no verdict yet.

    ``family`` is the number of deciding checks the suite adjusts for: seeds for power are
    planned at Holm's strictest level, ``alpha / family``.
    """
    tests = [test_values(label, est, values, check.criterion, kind=check.kind,
                         alpha=alpha / max(1, family), power=power)
             for label, est, values in check_values(pattern, check, table)]
    result = CheckResult(check, tests)
    if check.criterion is not None:
        ps = [t.p for t in tests if not t.degenerate]
        result.p_raw = max(ps) if ps and len(ps) == len(tests) else NAN
        result.needed = max((t.needed for t in tests), default=0)
    return result


def _at_level(check: Check, table: pd.DataFrame, key: tuple[Any, ...]
              ) -> tuple[Estimate, np.ndarray | None]:
    kind, arms, measure = check.kind, check.arms, check.measure
    if kind == "proportion":
        values = per_seed(table, arms[0], key, measure).dropna().to_numpy()
        return wilson_interval(values > 0.5), (values > 0.5).astype(float)
    if kind == "proportion_difference":
        if len(arms) == 1:
            left, right = split_measure(measure)
            if right is None:
                raise ValueError(f"{check.label}: one arm needs a measure 'a - b'")
            x, y = _paired([per_seed(table, arms[0], key, left),
                            per_seed(table, arms[0], key, right)])
        else:
            x, y = _paired([per_seed(table, arm, key, measure) for arm in arms[:2]])
        return newcombe_paired(x, y), None
    series = [per_seed(table, arm, key, measure) for arm in arms]
    if kind == "mean":
        values = series[0].dropna().to_numpy(dtype=float)
        return mean_interval(values), values
    aligned = _paired(series)
    if kind == "difference":
        values = aligned[0] - aligned[1]
    elif kind == "interaction":
        values = interaction(*aligned)
    else:
        raise ValueError(f"unknown statistic {kind!r}")
    return mean_interval(values), values


def evaluate(pattern: Pattern, table: pd.DataFrame, *, alpha: float = ALPHA,
             power: float = POWER, family: int = 1) -> PatternResult:
    """Estimate and test a pattern's checks from its runs (verdicts: :func:`decide`).

    Args:
        pattern: the pattern.
        table: one row per run of this pattern with columns ``arm``, ``level`` (the tuple of
            level values, ``()`` without levels), ``replication``, ``ok``, ``error`` and the
            measures of :func:`experiments.patterns.catalog.measures`.
        alpha: the suite's family-wise level.
        power: the power seeds are planned for.
        family: how many deciding checks the suite adjusts for.

    """
    failed = table[~table["ok"]]
    error = str(failed["error"].iloc[0]).splitlines()[0] if len(failed) else ""
    checks = [estimate_check(pattern, check, table, alpha=alpha, power=power, family=family)
              for check in pattern.checks]
    seeds = int(table["replication"].nunique()) if len(table) else 0
    result = PatternResult(pattern, checks, runs=len(table), failed=len(failed), error=error,
                           seeds=seeds, needed=max((c.needed for c in checks), default=0))
    for c in checks:
        for t in c.tests:
            if t.degenerate:
                result.notes.append(f"{c.check.label}"
                                    f"{' at ' + t.label if t.label else ''}: {t.degenerate}")
    return result


def decide(results: Sequence[PatternResult], alpha: float = ALPHA) -> None:
    """Holm-adjust the deciding checks of gated patterns together and set every verdict.

    The family is every deciding check of every gated pattern in ``results``; a degenerate
    check counts in it (conservatively) and is INCONCLUSIVE.
    """
    family = [c for r in results if r.pattern.gate for c in r.checks
              if c.check.criterion is not None]
    for check, adjusted in zip(family, holm([c.p_raw for c in family]), strict=True):
        check.p_adjusted = adjusted
        check.decide(alpha)


def family_size(patterns: Sequence[Pattern]) -> int:
    """How many deciding checks the gated ``patterns`` have (Holm's ``m``)."""
    return sum(1 for p in patterns if p.gate for c in p.checks if c.criterion is not None)
