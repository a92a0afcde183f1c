"""Run-level outputs computed from the per-step arrays: resilience and a run summary.

Resilience follows the resilience triangle of Bruneau et al. (2003): after a shock, how deep
performance falls, how long it takes to come back to a stated fraction of its pre-shock level,
and the area of performance lost meanwhile. Performance here is market share, the quantity the
customers decide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from simulation.outcomes import EVENTS, IN_BUSINESS_ONLY, OUTCOMES

PRE_SHOCK_MONTHS = 6
"""Months before a shock whose mean performance is the level to recover."""

WARM_UP_MONTHS = 12
"""Months at the start that time-resolved summaries leave out: customers have just been
assigned and the firms' first moves settle (the early and late windows split what follows)."""

RESILIENCE_COLUMNS = ["shock_step", "firm", "pre_level", "depth", "time_to_recover",
                      "loss_area", "recovered", "window"]


def shock_response(series: np.ndarray, shock: int, end: int, recovery_fraction: float
                   ) -> dict[str, float | bool]:
    """Resilience of one performance series to one shock.

    Args:
        series: performance indexed by step (index 0 is the state before the first step).
        shock: the step at which the shock hit.
        end: the last step of the window (the step before the next disturbance, or the last
            step).
        recovery_fraction: share of the pre-shock level that counts as recovered.

    Returns:
        ``pre_level``; ``depth``, the largest drop as a share of the pre-shock level;
        ``time_to_recover``, months from the shock until the series is back at
        ``recovery_fraction`` of the pre-shock level after its trough (NaN if it never is);
        ``loss_area``, the months of lost performance, in units of the pre-shock level, until
        recovery or the end of the window; ``recovered``; ``window``, its length in months.

    """
    pre = float(np.mean(series[max(0, shock - PRE_SHOCK_MONTHS):shock]))
    window = series[shock:end + 1]
    if pre <= 0.0 or window.size == 0:
        return {"pre_level": pre, "depth": 0.0, "time_to_recover": 0.0, "loss_area": 0.0,
                "recovered": True, "window": float(window.size)}
    trough = int(np.argmin(window))
    depth = max(0.0, (pre - float(window[trough])) / pre)
    back = np.flatnonzero(window[trough:] >= recovery_fraction * pre)
    recovered = back.size > 0
    months = trough + int(back[0]) if recovered else window.size
    loss = float(np.clip(1.0 - window[:months] / pre, 0.0, None).sum())
    return {"pre_level": pre, "depth": depth,
            "time_to_recover": float(months) if recovered else float("nan"),
            "loss_area": loss, "recovered": bool(recovered), "window": float(window.size)}


DISTURBANCES: tuple[str, ...] = tuple(kind for kind in EVENTS if kind != "failure")
"""Kinds of event that move a firm's share from outside its recovery: each ends the window of
the shock before it, so a share lost to a disruptor that entered later is not counted as the
shock's. Every registered kind but a firm's failure (it moves customers, but it is nobody's
disturbance)."""


def firm_resilience(steps: np.ndarray, share: np.ndarray, alive: np.ndarray,
                    shocks: Sequence[int], disturbances: Sequence[int], last: int,
                    recovery_fraction: float) -> list[dict[str, float | bool]]:
    """One firm's response to each shock it was alive for, from its rows of the table.

    A shock's window ends the month before the next disturbance (``disturbances``: months of
    any event of :data:`DISTURBANCES`, the shocks among them) or at ``last``.
    Returns rows of ``RESILIENCE_COLUMNS`` without the firm; ``steps`` ascending.
    """
    series = np.zeros(last + 1)
    series[steps] = share
    alive_at = dict(zip(steps.tolist(), alive.tolist(), strict=True))
    shocks = sorted(set(shocks))
    cuts = np.array(sorted(set(shocks) | set(disturbances)), dtype=np.int64)
    rows = []
    for shock in shocks:
        if shock > last or not alive_at.get(shock - 1, False):
            continue
        later = cuts[cuts > shock]
        end = int(later[0]) - 1 if later.size else last
        rows.append({"shock_step": shock,
                     **shock_response(series, shock, end, recovery_fraction)})
    return rows


def run_summary(results: Mapping[str, Any], resilience: Sequence[Mapping[str, Any]],
                focal: str, rivals: Sequence[str], n_shocks: int, n_entrants: int
                ) -> dict[str, float]:
    """Per-run outcomes of the focal firm, for sweeps and comparisons (flat floats).

    Exactly the outcomes of :data:`simulation.outcomes.OUTCOMES` (each one's ``computed`` says
    in words what is computed here), by the registry's names and no other.

    Args:
        results: the per-step table's columns (``OrgModel.columns()``; a ``results()``
            DataFrame reads the same).
        resilience: the focal firm's (or every firm's) resilience rows.
        focal: the focal firm's name.
        rivals: the rival incumbents' names.
        n_shocks: shocks in the run.
        n_entrants: disruptors that entered.

    """
    col = {name: np.asarray(results[name]) for name in (
        "step", "firm", "market_share", "profit", "cash", "alive", "satisfaction",
        "awareness_gap", "action_gap")}
    step, firm = col["step"], col["firm"]
    mine = (firm == focal) & (step > 0)
    final = np.flatnonzero(step == step.max())
    at_end = {str(firm[i]): int(i) for i in final}
    rival_shares = [float(col["market_share"][at_end[r]]) for r in rivals if r in at_end]
    best_rival = max(rival_shares) if rival_shares else 0.0
    end = at_end[focal]
    focal_final = float(col["market_share"][end])
    res = [r for r in resilience if r["firm"] == focal]
    loss = np.array([r["loss_area"] for r in res])
    depth = np.array([r["depth"] for r in res])
    censored = np.array([r["time_to_recover"] if r["recovered"] else r["window"] for r in res])

    in_business = mine & col["alive"].astype(bool)
    last = int(step.max())
    warm = mine & (step > WARM_UP_MONTHS)
    middle = WARM_UP_MONTHS + (last - WARM_UP_MONTHS) / 2.0
    dead = mine & ~col["alive"].astype(bool)
    failed_at = int(step[dead].min()) if dead.any() else last
    share = col["market_share"]

    def window(rows: np.ndarray) -> float:
        return float(share[rows].mean()) if rows.any() else float("nan")

    def mean(name: str) -> float:
        # a failed firm's gaps and satisfaction are no values (see IN_BUSINESS_ONLY)
        rows = in_business if name in IN_BUSINESS_ONLY else mine
        return float(col[name][rows].mean()) if rows.any() else float("nan")

    values = {
        "final_share": focal_final,
        "mean_share": mean("market_share"),
        "cumulative_profit": float(col["profit"][mine].sum()),
        "final_cash": float(col["cash"][end]),
        "survived": float(bool(col["alive"][end])),
        "months_in_business": float(failed_at),
        "share_in_business": window(warm & in_business),
        "early_share": window(warm & (step <= middle)),
        "late_share": window(warm & (step > middle)),
        "mean_satisfaction": mean("satisfaction"),
        "mean_awareness_gap": mean("awareness_gap"),
        "mean_action_gap": mean("action_gap"),
        "resilience_loss": float(loss.mean()) if res else 0.0,
        "resilience_depth": float(depth.mean()) if res else 0.0,
        # no shock while in business: undefined (see simulation.outcomes.NO_SHOCK), not 0
        "mean_time_to_recover": float(censored.mean()) if res else float("nan"),
        "shocks": float(n_shocks),
        "entrants": float(n_entrants),
        "rival_final_share": best_rival,
        "share_advantage": focal_final - best_rival,
    }
    if values.keys() != OUTCOMES.keys():  # one vocabulary: the registry's, no other name
        raise KeyError(f"run_summary and the outcome registry differ: "
                       f"{sorted(values.keys() ^ OUTCOMES.keys())}")
    return values
