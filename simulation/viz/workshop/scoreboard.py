"""A workshop's scoreboard: the leaderboard's balanced scorecard and its ranks.

Each team is ranked on share, cash, satisfaction and the share lost after the last shock,
and the teams are ordered by their mean rank. A failed firm's figures are the outcome
registry's (:func:`simulation.viz.workshop.market.standing`).
"""

from __future__ import annotations

import math
from typing import Any

from simulation.viz.workshop.market import Market, standing

__all__ = ["leaderboard"]


def leaderboard(market: Market) -> list[dict[str, Any]]:
    """The balanced scorecard: per team share, cash, satisfaction, resilience and ranks.

    Resilience is the share lost after the last shock (months of pre-shock share; lower
    is better; ``nan`` before any shock). A failed firm has no satisfaction (``nan``, as
    in its history: :func:`~simulation.viz.workshop.market.standing`); a ``nan`` ranks
    last. ``rank`` orders the teams by their mean rank.
    """
    model = market.model
    shocks = [e["step"] for e in model.events if e["kind"] == "shock"]
    loss: dict[str, float] = {}
    if shocks and market.month >= max(shocks):
        table = model.resilience()
        last = table[table["shock_step"] == max(shocks)]
        loss = {str(r["firm"]): float(r["loss_area"]) for _, r in last.iterrows()}
    rows: list[dict[str, Any]] = []
    for team in [t for t in market.teams.values() if not t.removed]:
        firm = market.firm(team.firm)
        m = standing(firm)
        rows.append({"team": team.name, "firm": team.firm, "alive": bool(firm.alive),
                     "share": m["market_share"],
                     "cash": firm.cash_months,
                     "satisfaction": m["satisfaction"],
                     "resilience": loss.get(team.firm, math.nan),
                     "submitted": team.submitted})
    for column, best_high in (("share", True), ("cash", True), ("satisfaction", True),
                              ("resilience", False)):
        _rank(rows, column, best_high)
    for row in rows:
        row["score"] = sum(row[f"{c}_rank"] for c in
                           ("share", "cash", "satisfaction", "resilience")) / 4
    ordered = sorted(rows, key=lambda r: (r["score"], r["team"].casefold()))
    for i, row in enumerate(ordered):
        row["rank"] = i + 1
    return ordered


def _rank(rows: list[dict[str, Any]], column: str, best_high: bool) -> None:
    """Give each row ``column_rank`` (1 best; ties share a rank; ``nan`` ties for last)."""
    values = [r[column] for r in rows]
    known = sorted({v for v in values if v == v}, reverse=best_high)
    for row in rows:
        value = row[column]
        row[f"{column}_rank"] = known.index(value) + 1 if value == value else len(known) + 1


