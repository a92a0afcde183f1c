"""Robustness metrics: how well an organization does across futures it cannot predict.

Each function takes a table of values with a row per candidate organization and a column
per future (the mean over that future's replications; every candidate ran in every future
with the same random numbers) and returns one number per candidate. They are the two
families of McPhail et al. (2018) that the EMA Workbench leaves to its users:

- **regret** (Savage 1951): in each future, how far a candidate falls short of the best
  candidate in that future; a candidate is robust when its worst regret is small
  (*minimax regret*). Regret needs the other candidates, so it cannot be a per-candidate
  function of the kind EMA's ``robust_optimize`` accepts.
- **satisficing** (Starr 1963's domain criterion): the share of futures in which a candidate
  meets every requirement (survival at least 90%, cash at least zero).

And the plain statistics a search optimizes per candidate: the mean, the worst and a
percentile over futures. Nothing here prints or changes its inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

Direction = Literal["maximize", "minimize"]


def regret(values: pd.DataFrame, direction: Direction) -> pd.DataFrame:
    """Regret of each candidate (row) in each future (column): the best value there minus its own.

    For ``minimize`` it is its own value minus the best (lowest). Always ``>= 0``; the best
    candidate of a future has regret 0 there. Missing values (a future not run) stay missing.
    """
    if direction == "maximize":
        return values.max(axis=0) - values
    return values - values.min(axis=0)


def max_regret(values: pd.DataFrame, direction: Direction) -> pd.Series:
    """Each candidate's worst regret over the futures (minimax regret picks the lowest)."""
    return regret(values, direction).max(axis=1)


def mean_regret(values: pd.DataFrame, direction: Direction) -> pd.Series:
    """Each candidate's mean regret over the futures."""
    return regret(values, direction).mean(axis=1)


@dataclass(frozen=True)
class Requirement:
    """What an outcome must do in a future for a candidate to satisfy it there."""

    outcome: str
    at_least: float | None = None
    at_most: float | None = None

    def met(self, values: pd.DataFrame) -> pd.DataFrame:
        """Where (candidate, future) the requirement holds; a missing value never does."""
        ok = pd.DataFrame(True, index=values.index, columns=values.columns)
        if self.at_least is not None:
            ok &= values >= self.at_least
        if self.at_most is not None:
            ok &= values <= self.at_most
        return ok & values.notna()

    def text(self) -> str:
        """The requirement in words, for a report."""
        parts = []
        if self.at_least is not None:
            parts.append(f"at least {self.at_least:g}")
        if self.at_most is not None:
            parts.append(f"at most {self.at_most:g}")
        return f"{self.outcome} {' and '.join(parts)}"


def satisficing(tables: Mapping[str, pd.DataFrame],
                requirements: Sequence[Requirement]) -> pd.Series:
    """The share of futures in which each candidate meets every requirement.

    ``tables`` maps an outcome to its candidates x futures table; all share rows and columns.
    With no requirements every future counts as satisfied (1.0).
    """
    first = next(iter(tables.values()))
    ok = pd.DataFrame(True, index=first.index, columns=first.columns)
    for requirement in requirements:
        ok &= requirement.met(tables[requirement.outcome])
    return ok.mean(axis=1)


def statistic(values: pd.DataFrame, how: Literal["mean", "worst", "percentile"],
              direction: Direction, percentile: float = 10.0) -> pd.Series:
    """One number per candidate over the futures.

    ``mean``; ``worst`` (the lowest value for maximize, the highest for minimize); or the
    ``percentile``-th percentile from the bad side (the 10th for maximize, the 90th for
    minimize), linear interpolation between futures.
    """
    if how == "mean":
        return values.mean(axis=1)
    if how == "worst":
        return values.min(axis=1) if direction == "maximize" else values.max(axis=1)
    q = percentile if direction == "maximize" else 100.0 - percentile
    return pd.Series(np.nanpercentile(values.to_numpy(dtype=float), q, axis=1),
                     index=values.index)


def pareto_mask(scores: pd.DataFrame, directions: Mapping[str, Direction]) -> pd.Series:
    """Which candidates (rows) no other candidate dominates on the ``directions`` columns.

    A candidate dominates another if it is at least as good on every objective and better on
    one. Candidates with equal scores are all kept.
    """
    signs = np.array([1.0 if directions[c] == "maximize" else -1.0 for c in directions])
    x = scores[list(directions)].to_numpy(dtype=float) * signs
    keep = np.ones(len(x), dtype=bool)
    for i in range(len(x)):
        others = np.delete(x, i, axis=0)
        dominated = np.all(others >= x[i], axis=1) & np.any(others > x[i], axis=1)
        keep[i] = not dominated.any()
    return pd.Series(keep, index=scores.index)


__all__ = ["Requirement", "max_regret", "mean_regret", "pareto_mask", "regret",
           "satisficing", "statistic"]
