"""Measured, not derived: the fastest lasting trend a firm's organization can follow.

Earlier versions derived this speed by hand from the decision rule; the rule is now a process
among departments (rights, acceptance, interdependence) with no closed form, so the speed is
measured: a firm of the given levers alone in a market whose needs keep one direction
(momentum 0.999, no transient noise, no events) either keeps its action gap settled or sees it
grow. :func:`followable_speed` finds, by bisection, the fastest trend at which the gap of
months 100-120 stays within 1.5 times that of months 40-60 in the median of three seeds.
Results are cached per organization and parameters, in memory only (the core writes no files).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np

from simulation.params import LEVERS

CALIBRATION_SEEDS: tuple[int, ...] = (101, 102, 103)
"""Seeds of the calibration runs (fixed: the same organization always gets the same speed)."""
GROWTH_LIMIT = 1.5
"""A late action gap beyond this multiple of the early one means the firm falls behind."""
_QUIET: dict[str, Any] = {"customers": 500, "rivals": 0, "momentum": 0.999,
                          "need_noise": 0.0, "shock_rate": 0.0, "entrant_rate": 0.0,
                          "new_segment_rate": 0.0}


def gap_growth(levers: Mapping[str, float], speed: float, seed: int,
               **params: Any) -> float:
    """Late over early action gap of a firm of ``levers`` alone, needs moving at ``speed``.

    Infinite if the firm failed within the 120 months (it fell behind for good).
    """
    from simulation.model import OrgModel  # deferred: Mesa (1.3 s), only when a gap is measured

    model = OrgModel(rng=seed, **{**_QUIET, **params}, structure="outside_in",
                     turbulence=speed, **{k: float(levers[k]) for k in LEVERS}).run(120)
    columns = model.columns()
    if not bool(columns["alive"][-1]):
        return float("inf")  # it could not keep up for long enough to stay in business
    gap = columns["action_gap"]
    early, late = float(np.mean(gap[40:61])), float(np.mean(gap[100:121]))
    return late / max(early, 1e-12)


def followable_speed(levers: Mapping[str, float], **params: Any) -> float:
    """The fastest lasting trend (distance per month) a firm with ``levers`` keeps up with.

    Measured by bisection between 0 and 0.2 (to 1e-4), see the module's text; ``params``
    are other model keywords (e.g. ``max_change``) the measurement runs at.
    """
    key = tuple(float(levers[k]) for k in LEVERS)
    return _measured(key, tuple(sorted(params.items())))


@lru_cache(maxsize=256)
def _measured(levers: tuple[float, ...], params: tuple[tuple[str, Any], ...]) -> float:
    values = dict(zip(LEVERS, levers, strict=True))
    extra = dict(params)

    def falls_behind(speed: float) -> bool:
        ratios = [gap_growth(values, speed, seed, **extra) for seed in CALIBRATION_SEEDS]
        return float(np.median(ratios)) > GROWTH_LIMIT

    low, high = 0.0, 0.2
    if not falls_behind(high):
        return high
    while high - low > 1e-4:
        middle = 0.5 * (low + high)
        if falls_behind(middle):
            high = middle
        else:
            low = middle
    return round(low, 4)
