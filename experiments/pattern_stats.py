"""Statistics of the pattern suite: intervals, paired effects and the pass/fail rule.

Pure functions of arrays and DataFrames (no model, no files). Continuous measures are
compared on paired seeds with Student's t interval of the per-seed differences;
proportions get Wilson's score interval, differences of paired proportions Newcombe's
hybrid score interval (method 10 of Newcombe 1998, *Statistics in Medicine* 17:2635), so a
proportion stays in [0, 1] and a difference in [-1, 1] however few the runs.

:func:`evaluate` applies a :class:`~experiments.patterns.Pattern`'s checks to the table of
its runs (one row per arm, level and replication; see :func:`evaluate`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from experiments.intervals import Interval, mean_interval, wilson_bounds, wilson_interval
from experiments.patterns import Check, Condition, Criterion, Pattern

Estimate = Interval
"""A pattern's estimate: a mean (or proportion) with its 95% interval from ``n`` seeds."""

NAN = float("nan")


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


def slope(levels: Sequence[float], values: np.ndarray) -> Estimate:
    """OLS slope of ``values`` over ``levels``, with a t interval from the per-seed slopes.

    ``values`` is seeds x levels; seeds with a missing level are dropped. With every seed at
    every level the pooled OLS slope equals the mean of the per-seed slopes, so the
    interval is the t interval of those slopes (seeds, not runs, are independent).
    """
    x = np.asarray(levels, dtype=float)
    y = np.asarray(values, dtype=float)
    y = y[~np.isnan(y).any(axis=1)]
    if y.shape[0] == 0 or x.size < 2:
        return Estimate(NAN, NAN, NAN, 0)
    centred = x - x.mean()
    per_seed = (y - y.mean(axis=1, keepdims=True)) @ centred / float(centred @ centred)
    pooled = float(np.polyfit(np.tile(x, y.shape[0]), y.ravel(), 1)[0])
    spread = mean_interval(per_seed)
    return Estimate(pooled, pooled - (spread.mean - spread.low),
                    pooled + (spread.high - spread.mean), spread.n)


def interaction(hh: np.ndarray, hl: np.ndarray, lh: np.ndarray, ll: np.ndarray) -> np.ndarray:
    """Per-seed 2x2 interaction ``y(hh) - y(hl) - y(lh) + y(ll)`` (positive: complements)."""
    return np.asarray(hh) - np.asarray(hl) - np.asarray(lh) + np.asarray(ll)


# --- criteria ---------------------------------------------------------------------------------

_OPS = {">": float.__gt__, ">=": float.__ge__, "<": float.__lt__, "<=": float.__le__}


def holds(estimate: Estimate, condition: Condition) -> bool:
    """Whether ``estimate`` meets one condition (never with an undefined bound)."""
    if condition.on == "contains":
        return estimate.low <= condition.value <= estimate.high
    value = {"mean": estimate.mean, "lower": estimate.low, "upper": estimate.high,
             "abs_mean": abs(estimate.mean)}[condition.on]
    if math.isnan(value):
        return False
    return bool(_OPS[condition.op](float(value), condition.value))


def meets(estimate: Estimate, criterion: Criterion) -> bool:
    """Whether ``estimate`` meets all (or any, per its mode) of the criterion's conditions."""
    results = [holds(estimate, c) for c in criterion.conditions]
    return all(results) if criterion.mode == "all" else any(results)


def margin(estimate: Estimate, criterion: Criterion) -> float:
    """How far the estimate is inside (positive) or outside (negative) the criterion."""
    def one(c: Condition) -> float:
        if c.on == "contains":
            return min(c.value - estimate.low, estimate.high - c.value)
        value = {"mean": estimate.mean, "lower": estimate.low, "upper": estimate.high,
                 "abs_mean": abs(estimate.mean)}[c.on]
        return value - c.value if c.op in (">", ">=") else c.value - value

    values = [one(c) for c in criterion.conditions]
    values = [-math.inf if math.isnan(v) else v for v in values]
    return min(values) if criterion.mode == "all" else max(values)


def describe(criterion: Criterion | None) -> str:
    """The criterion in words, e.g. ``lower bound > 0``."""
    if criterion is None:
        return "reported only"
    names = {"mean": "mean", "lower": "lower bound", "upper": "upper bound",
             "abs_mean": "|mean|"}
    parts = [f"interval contains {c.value:g}" if c.on == "contains"
             else f"{names[c.on]} {c.op} {c.value:g}" for c in criterion.conditions]
    return (" and " if criterion.mode == "all" else " or ").join(parts)


# --- evaluating a pattern ---------------------------------------------------------------------

@dataclass
class CheckResult:
    """A check's estimates (one per level, pair of levels, or one across levels)."""

    check: Check
    estimates: list[tuple[str, Estimate]]
    passed: bool | None
    """None for a check that only reports."""
    worst: int = 0
    """Index of the estimate closest to failing (the one the summary shows)."""


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

    @property
    def passed(self) -> bool | None:
        """True if every deciding check passed and no run failed; None for a map."""
        if not self.pattern.gate:
            return None if not self.failed else False
        return not self.failed and all(c.passed is not False for c in self.checks)

    @property
    def status(self) -> str:
        """PASS, FAIL, FAIL (error) or MAP."""
        if self.failed:
            return "FAIL (error)"
        if self.passed is None:
            return "MAP"
        return "PASS" if self.passed else "FAIL"


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


def estimate_check(pattern: Pattern, check: Check, table: pd.DataFrame) -> CheckResult:
    """Estimate one check at every level (or across levels) and decide it."""
    keys = level_keys(pattern)
    out: list[tuple[str, Estimate]] = []
    kind = check.kind
    if kind in ("slope", "adjacent", "adjacent_proportion"):
        if len(pattern.levels) != 1:
            raise ValueError(f"{pattern.name}: a {kind} check needs exactly one level axis")
        series = [per_seed(table, check.arms[0], k, check.measure) for k in keys]
        if kind == "slope":
            matrix = pd.concat(series, axis=1, join="outer").to_numpy(dtype=float)
            out.append(("", slope([k[0] for k in keys], matrix)))
        else:
            for prev, nxt, a, b in zip(keys, keys[1:], series, series[1:], strict=False):
                later, earlier = _paired([b, a])
                est = (newcombe_paired(later, earlier) if kind == "adjacent_proportion"
                       else mean_interval(later - earlier))
                label = (f"{pattern.levels[0].keyword} {prev[0]:g} to {nxt[0]:g}")
                out.append((label, est))
    else:
        for key in keys:
            out.append((level_label(pattern, key), _at_level(check, table, key)))
    bounds = share_range(check)
    if bounds is not None:
        out = [(label, est.within(*bounds)) for label, est in out]
    if check.criterion is None:
        return CheckResult(check, out, None)
    margins = [margin(e, check.criterion) for _, e in out]
    worst = int(np.argmin(margins)) if margins else 0
    passed = bool(out) and all(meets(e, check.criterion) for _, e in out)
    return CheckResult(check, out, passed, worst)


def _at_level(check: Check, table: pd.DataFrame, key: tuple[Any, ...]) -> Estimate:
    kind, arms, measure = check.kind, check.arms, check.measure
    if kind == "proportion":
        values = per_seed(table, arms[0], key, measure).dropna().to_numpy()
        return wilson_interval(values > 0.5)
    if kind == "proportion_difference":
        if len(arms) == 1:
            left, right = split_measure(measure)
            if right is None:
                raise ValueError(f"{check.label}: one arm needs a measure 'a - b'")
            x, y = _paired([per_seed(table, arms[0], key, left),
                            per_seed(table, arms[0], key, right)])
        else:
            x, y = _paired([per_seed(table, arm, key, measure) for arm in arms[:2]])
        return newcombe_paired(x, y)
    series = [per_seed(table, arm, key, measure) for arm in arms]
    if kind == "mean":
        return mean_interval(series[0].to_numpy())
    aligned = _paired(series)
    if kind == "difference":
        return mean_interval(aligned[0] - aligned[1])
    if kind == "interaction":
        return mean_interval(interaction(*aligned))
    raise ValueError(f"unknown statistic {kind!r}")


def evaluate(pattern: Pattern, table: pd.DataFrame) -> PatternResult:
    """Decide a pattern from its runs.

    Args:
        pattern: the pattern.
        table: one row per run of this pattern with columns ``arm``, ``level`` (the tuple of
            level values, ``()`` without levels), ``replication``, ``ok``, ``error`` and the
            measures of :func:`experiments.patterns.measures`.

    """
    failed = table[~table["ok"]]
    error = str(failed["error"].iloc[0]).splitlines()[0] if len(failed) else ""
    checks = [estimate_check(pattern, check, table) for check in pattern.checks]
    result = PatternResult(pattern, checks, runs=len(table), failed=len(failed), error=error)
    for c in checks:
        if c.passed is False and any(e.n == 0 for _, e in c.estimates):
            result.notes.append(f"{c.check.label}: no runs to estimate it from at some level")
    return result
