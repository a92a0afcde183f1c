"""Run-level outputs computed from the per-step table: resilience and a run summary.

Resilience follows the resilience triangle of Bruneau et al. (2003): after a shock, how deep
performance falls, how long it takes to come back to a stated fraction of its pre-shock level,
and the area of performance lost meanwhile. Performance here is market share, the quantity the
customers decide.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

PRE_SHOCK_MONTHS = 6
"""Months before a shock whose mean performance is the level to recover."""

RESILIENCE_COLUMNS = ["shock_step", "firm", "pre_level", "depth", "time_to_recover",
                      "loss_area", "recovered", "window"]


def shock_response(series: np.ndarray, shock: int, end: int, recovery_fraction: float
                   ) -> dict[str, float | bool]:
    """Resilience of one performance series to one shock.

    Args:
        series: performance indexed by step (index 0 is the state before the first step).
        shock: the step at which the shock hit.
        end: the last step of the window (the step before the next shock, or the last step).
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


def resilience_table(results: pd.DataFrame, shocks: Sequence[int], recovery_fraction: float
                     ) -> pd.DataFrame:
    """One row per (shock, firm alive at the shock) from a model's ``results()`` table."""
    rows = []
    shocks = sorted(set(shocks))
    last = int(results["step"].max()) if len(results) else 0
    for firm, group in results.groupby("firm", sort=False):
        steps = group["step"].to_numpy()
        series = np.zeros(last + 1)
        series[steps] = group["market_share"].to_numpy()
        alive = dict(zip(steps, group["alive"].to_numpy(), strict=True))
        for i, shock in enumerate(shocks):
            if shock > last or not alive.get(shock - 1, False):
                continue
            end = shocks[i + 1] - 1 if i + 1 < len(shocks) else last
            rows.append({"shock_step": shock, "firm": firm,
                         **shock_response(series, shock, end, recovery_fraction)})
    table = pd.DataFrame(rows, columns=RESILIENCE_COLUMNS)
    return table.sort_values(["shock_step"], kind="stable").reset_index(drop=True)


def run_summary(results: pd.DataFrame, resilience: pd.DataFrame, focal: str,
                rivals: Sequence[str], n_shocks: int, n_entrants: int) -> dict[str, float]:
    """Per-run outcomes of the focal firm, for sweeps and comparisons (flat floats)."""
    mine = results[(results["firm"] == focal) & (results["step"] > 0)]
    last_step = results["step"].max()
    final = results[results["step"] == last_step].set_index("firm")
    rival_shares = [float(final.loc[r, "market_share"]) for r in rivals if r in final.index]
    best_rival = max(rival_shares) if rival_shares else 0.0
    focal_final = float(final.loc[focal, "market_share"])
    res = resilience[resilience["firm"] == focal]
    censored = np.where(res["recovered"], res["time_to_recover"], res["window"])
    return {
        "final_share": focal_final,
        "mean_share": float(mine["market_share"].mean()),
        "cumulative_profit": float(mine["profit"].sum()),
        "final_cash": float(final.loc[focal, "cash"]),
        "survived": float(bool(final.loc[focal, "alive"])),
        "mean_satisfaction": float(mine["satisfaction"].mean()),
        "mean_awareness_gap": float(mine["awareness_gap"].mean()),
        "mean_action_gap": float(mine["action_gap"].mean()),
        "resilience_loss": float(res["loss_area"].mean()) if len(res) else 0.0,
        "resilience_depth": float(res["depth"].mean()) if len(res) else 0.0,
        # no shock while in business: undefined (see simulation.outcomes.NO_SHOCK), not 0
        "mean_time_to_recover": float(np.mean(censored)) if len(res) else float("nan"),
        "shocks": float(n_shocks),
        "entrants": float(n_entrants),
        "rival_final_share": best_rival,
        "share_advantage": focal_final - best_rival,
    }
