"""Docking targets: a published result, the measured value beside it, and the verdict.

Each check reads a runs table (one row per run, as :func:`experiments.sweeps.store.read_runs` gives
it) and returns a :class:`TargetResult`. Three kinds of check:

- :func:`level`: a cell's mean lies within a stated absolute tolerance of a published value;
- :func:`gap`: one cell beats another, on paired seeds: the 95% interval of the per-seed
  difference lies above 0 (runs of different cells with the same replication share their
  seed, so the difference is the effect, not the draw);
- :func:`every_run`: a property holds exactly in every run (a theorem, not a tendency).

Intervals fit their kind: a mean of a bounded outcome gets a percentile bootstrap cut to the
outcome's range (:func:`experiments.intervals.bootstrap_interval`), a count Student's t.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from experiments.docking.outcomes import outcome
from experiments.intervals import Interval, bootstrap_interval, mean_interval, wilson_interval


@dataclass(frozen=True)
class TargetResult:
    """One docking target and what the runs gave.

    Attributes:
        name: a short identifier (``falls_with_p1_p2_0.9``).
        claim: the published result in words.
        source: where it is published.
        target: the published value or relation, as text.
        tolerance: the stated tolerance, as text.
        measured: the measured mean (or difference) with its 95% interval.
        passed: whether the runs meet the target.

    """

    name: str
    claim: str
    source: str
    target: str
    tolerance: str
    measured: Interval
    passed: bool

    def row(self) -> dict[str, Any]:
        """The target as a table row."""
        m = self.measured
        return {"target": self.name, "claim": self.claim, "source": self.source,
                "published": self.target, "tolerance": self.tolerance,
                "measured": _round(m.mean), "low": _round(m.low), "high": _round(m.high),
                "runs": m.n, "verdict": "PASS" if self.passed else "FAIL"}


def _round(value: float) -> float:
    return value if math.isnan(value) else round(float(value), 4)


def values(runs: pd.DataFrame, name: str, where: Mapping[str, Any]) -> pd.Series:
    """One outcome's values in the cell ``where`` (factor = level), indexed by replication.

    Raises ``ValueError`` if the cell has no runs (a target that reads nothing cannot pass).
    """
    mask = np.ones(len(runs), dtype=bool)
    for factor, level_value in where.items():
        column = runs[factor]
        mask &= np.isclose(column, level_value) if column.dtype.kind in "fi" \
            else (column == level_value).to_numpy()
    cell = runs[mask]
    if cell.empty:
        raise ValueError(f"no runs at {dict(where)}")
    return cell.set_index("replication")[name].sort_index()


def mean_of(name: str, series: pd.Series) -> Interval:
    """Mean and 95% interval of one outcome's values, fitting its kind."""
    kind = outcome(name)
    if kind.high is not None:
        return bootstrap_interval(series.to_numpy(dtype=float)).within(kind.low, kind.high)
    return mean_interval(series.to_numpy(dtype=float)).within(kind.low, math.inf)


def level(runs: pd.DataFrame, *, name: str, claim: str, source: str, outcome_name: str,
          where: Mapping[str, Any], published: float, tolerance: float) -> TargetResult:
    """The cell's mean is within ``tolerance`` of ``published`` (absolute)."""
    measured = mean_of(outcome_name, values(runs, outcome_name, where))
    ok = abs(measured.mean - published) <= tolerance
    return TargetResult(name, claim, source, f"{published:g}", f"± {tolerance:g}", measured,
                        ok)


def gap(runs: pd.DataFrame, *, name: str, claim: str, source: str, outcome_name: str,
        better: Mapping[str, Any], worse: Mapping[str, Any]) -> TargetResult:
    """Cell ``better`` beats cell ``worse`` on paired seeds (95% interval above 0)."""
    high = values(runs, outcome_name, better)
    low = values(runs, outcome_name, worse)
    pairs = high.index.intersection(low.index)
    difference = (high.loc[pairs] - low.loc[pairs]).to_numpy(dtype=float)
    kind = outcome(outcome_name)
    span = (kind.high - kind.low) if kind.high is not None else math.inf
    measured = bootstrap_interval(difference).within(-span, span)
    ok = bool(measured.low > 0)
    return TargetResult(name, claim, source, "difference > 0",
                        "95% interval of the paired difference above 0", measured, ok)


def every_run(runs: pd.DataFrame, *, name: str, claim: str, source: str, outcome_name: str,
              where: Mapping[str, Any], holds: Callable[[np.ndarray], np.ndarray],
              target: str) -> TargetResult:
    """``holds`` is true in every run of the cell: exact, no tolerance.

    The measured value is the share of runs in which it holds (its interval is Wilson's,
    so it stays in [0, 1]).
    """
    cell = values(runs, outcome_name, where).to_numpy(dtype=float)
    hits = np.asarray(holds(cell), dtype=float)
    measured = wilson_interval(hits)
    return TargetResult(name, claim, source, target, "none: every run", measured,
                        bool(hits.all()))
