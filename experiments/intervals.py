"""Confidence intervals, one definition each, for every face that shows one.

A mean gets Student's t interval, a proportion of runs Wilson's score interval (it stays in
[0, 1] even at 0 or n of n), a bounded outcome a percentile bootstrap (it stays in its
range); :func:`interval_for` picks by the outcome's kind in the registry. Pure functions of
arrays: ``compare``, the pattern suite, sweep analysis and the reports all use these.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri, stdtrit  # Student's t quantile; scipy.stats costs 0.5 s to import

from simulation import outcomes as reg

CONFIDENCE = 0.95
"""Every interval is a two-sided 95% interval unless a caller asks for another."""


@dataclass(frozen=True)
class Interval:
    """A mean (or proportion) and its two-sided confidence interval over ``n`` values.

    Which interval depends on what was measured (see :func:`interval_for`); NaN bounds
    where it is undefined (too few values).
    """

    mean: float
    low: float
    high: float
    n: int

    def within(self, low: float, high: float) -> Interval:
        """The interval cut to ``[low, high]``, the values the estimated quantity can take.

        The cut keeps every possible value, so the interval's coverage: for a t interval of
        a few values of a bounded quantity, which can reach past its bounds.
        """
        if math.isnan(self.low):
            return self
        return Interval(self.mean, max(self.low, low), min(self.high, high), self.n)

    def text(self, digits: int = 3) -> str:
        """``mean [low, high]`` with ``digits`` significant digits."""
        def fmt(v: float) -> str:
            return "n/a" if math.isnan(v) else f"{v:.{digits}g}"
        return f"{fmt(self.mean)} [{fmt(self.low)}, {fmt(self.high)}]"


def _finite(values: Sequence[float] | np.ndarray,
            least: int = 2) -> tuple[np.ndarray, Interval | None]:
    """The finite values, and the interval to return already if there are too few of them."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return x, Interval(math.nan, math.nan, math.nan, 0)
    if x.size < least:
        return x, Interval(float(x.mean()), math.nan, math.nan, int(x.size))
    return x, None


def mean_interval(values: Sequence[float] | np.ndarray,
                  confidence: float = CONFIDENCE) -> Interval:
    """Mean and t-based confidence interval of the finite values (NaN are left out).

    With fewer than two values the interval is undefined (NaN bounds); with no spread it is
    the mean itself.
    """
    x, short = _finite(values)
    if short is not None:
        return short
    n, mean = int(x.size), float(x.mean())
    half = float(stdtrit(n - 1, 0.5 + confidence / 2) * x.std(ddof=1) / math.sqrt(n))
    return Interval(mean, mean - half, mean + half, n)


def wilson_interval(values: Sequence[float] | np.ndarray,
                    confidence: float = CONFIDENCE) -> Interval:
    """A proportion over runs and its Wilson score interval, in [0, 1] even at 0 or n of n.

    The finite values are the runs (0 or 1; a head-to-head mean of two places may be 0.5);
    their mean is the proportion.
    """
    x, short = _finite(values, least=1)
    if short is not None:
        return short
    n, p = int(x.size), float(x.mean())
    return Interval(p, *wilson_bounds(p, n, confidence), n)


def wilson_bounds(p: float, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson's score interval of a proportion ``p`` of ``n`` runs (within [0, 1])."""
    z = float(ndtri(0.5 + confidence / 2))
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # the interval holds p; at 0 or n of n rounding would put a bound a hair beyond it
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


BOOTSTRAP_DRAWS = 4000
"""Resamples of a percentile bootstrap interval (fixed seed: the same numbers every time)."""


def bootstrap_interval(values: Sequence[float] | np.ndarray,
                       confidence: float = CONFIDENCE) -> Interval:
    """Mean of the finite values and its percentile bootstrap interval.

    The interval is made of means of resampled runs, so it never leaves the range the values
    can take (a share stays in [0, 1], months stay >= 0). The resampling has a fixed seed, so
    the same values give the same interval.
    """
    x, short = _finite(values)
    if short is not None:
        return short
    rng = np.random.default_rng(0)
    return _percentile(float(x.mean()), _resampled_means(x, rng), int(x.size), confidence)


def _resampled_means(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """:data:`BOOTSTRAP_DRAWS` means of ``x`` resampled with replacement."""
    return x[rng.integers(0, x.size, size=(BOOTSTRAP_DRAWS, x.size))].mean(axis=1)


def _percentile(mean: float, draws: np.ndarray, n: int, confidence: float) -> Interval:
    tail = (1 - confidence) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    return Interval(mean, float(low), float(high), n)


def interval_for(name: str, values: Sequence[float] | np.ndarray,
                 confidence: float = CONFIDENCE) -> Interval:
    """The interval made for the outcome's kind.

    Wilson for a proportion of runs, a bootstrap for a bounded outcome (it stays in range), a
    t interval for money, and for a column the registry does not know (a spec's own model).
    """
    kind = _kind(name)
    if kind is not None and kind.binary:
        return wilson_interval(values, confidence)
    if kind is not None and kind.bounded:
        return bootstrap_interval(values, confidence)
    return mean_interval(values, confidence)


def _kind(name: str) -> reg.Outcome | None:
    return reg.outcome(name) if name and reg.registered(name) else None


def paired_difference(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray,
                      confidence: float = CONFIDENCE, name: str = "") -> Interval:
    """Mean of ``b - a`` over the pairs where both are finite, with its interval.

    Pairs are replications on the same seed; a pair with a missing value (say no shock to
    recover from) is dropped whole, so both means are over the same runs. The interval is
    Student's t, or a bootstrap of the pairs when ``name`` is a bounded outcome or a
    proportion.
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"paired samples differ in length: {x.size} and {y.size}")
    keep = np.isfinite(x) & np.isfinite(y)
    kind = _kind(name)
    if kind is not None and (kind.bounded or kind.binary):
        # differences of bounded values are bounded too: a bootstrap of the pairs keeps them
        # in range (a survival difference stays in [-1, 1])
        return bootstrap_interval(y[keep] - x[keep], confidence)
    return mean_interval(y[keep] - x[keep], confidence)


def unpaired_difference(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray,
                        confidence: float = CONFIDENCE, name: str = "") -> Interval:
    """Mean of ``b`` minus mean of ``a`` as if the runs were independent.

    What the difference's interval would be without common random numbers; shown beside the
    paired interval so that the gain from pairing is visible. Welch's t interval, or, when
    ``name`` is a bounded outcome or a proportion, a bootstrap that resamples each group on
    its own (so a difference of shares or survival stays within [-1, 1]).
    """
    x, y = (np.asarray(v, dtype=float) for v in (a, b))
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    if x.size < 2 or y.size < 2:
        mean = float(y.mean() - x.mean()) if x.size and y.size else math.nan
        return Interval(mean, math.nan, math.nan, int(min(x.size, y.size)))
    mean = float(y.mean() - x.mean())
    kind = _kind(name)
    if kind is not None and (kind.bounded or kind.binary):
        rng = np.random.default_rng(0)
        diffs = _resampled_means(y, rng) - _resampled_means(x, rng)
        return _percentile(mean, diffs, int(min(x.size, y.size)), confidence)
    va, vb = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    if va + vb == 0:
        return Interval(mean, mean, mean, int(min(x.size, y.size)))
    dof = (va + vb) ** 2 / (va**2 / (x.size - 1) + vb**2 / (y.size - 1))
    half = float(stdtrit(dof, 0.5 + confidence / 2) * math.sqrt(va + vb))
    return Interval(mean, mean - half, mean + half, int(min(x.size, y.size)))


def band(matrix: np.ndarray, confidence: float = CONFIDENCE, least: int = 1
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over rows (runs) per column (step), with its t interval.

    The same numbers as :func:`mean_interval`, for all steps at once. NaN values are left
    out (a failed firm's gaps are no values); a step where fewer than ``least`` runs have a
    value (at most all of them) gets no mean and no interval.
    """
    n = np.isfinite(matrix).sum(axis=0)
    # A step where fewer than two runs have a value has no interval: numpy's warnings about
    # it say nothing more.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(np.where(np.isfinite(matrix), matrix, np.nan), axis=0)
        sd = np.nanstd(matrix, axis=0, ddof=1) if matrix.shape[0] > 1 else np.full_like(mean,
                                                                                       np.nan)
        t = stdtrit(np.maximum(n - 1, 1), 0.5 + confidence / 2)
        half = np.where(n >= 2, t * sd / np.sqrt(n), np.nan)
    mean = np.where(n >= min(least, matrix.shape[0]), mean, np.nan)
    return mean, mean - half, mean + half
