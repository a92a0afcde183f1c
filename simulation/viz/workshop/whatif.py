"""The debrief's "what if": each team's own decisions replayed in many futures.

The log makes a workshop a function of its seed and its records; replayed with another seed,
the same records (every team's decisions, the facilitator's shocks, disruptors, grants and
research at the same months) give another future of the same class. Run over many seeds,
a team's final share and cash become a distribution, and where the room's actual result
falls in it says how much was luck: a team far above its own median was lucky, a team whose
whole distribution sits above the others' was good.

:func:`replay` is a model function of the project's experiment runner (``fn(params, seed,
*, steps, ...)``), so the futures are run by the one engine that runs many models, with its
seed rule; the page is handed that engine (:data:`Runner`) by the command that serves it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import TypeAdapter

from simulation.viz.workshop.records import Record, Start
from simulation.viz.workshop.session import Market, Workshop, _load_scenario

MODEL = "simulation.viz.workshop.whatif:replay"
"""The model function the runner resolves in each worker."""

FUTURES = 200
"""Seeds the debrief replays each team's decisions in."""

Runner = Callable[[str, Mapping[str, Any], int, int], list[dict[str, Any]]]
"""``run(model, params, root_seed, runs)``: the outcomes of ``runs`` runs of ``model`` with
``params``, in run order, each run's seed derived from ``root_seed`` and its number."""

REPLAYED = ("join", "submit", "advance", "shock", "disruptor", "lock", "reopen", "remove",
            "practice", "reset", "grant", "research")
"""The records that move a market (the others only say things)."""

_RECORDS: TypeAdapter[Any] = TypeAdapter(list[Record])


def replay_params(shop: Workshop) -> dict[str, Any]:
    """What a future needs: the start, the scenario's file, the records since the practice.

    Before the last reset only the joins and removals matter (a reset rebuilds the market
    and the teams' decisions), so the practice rounds are not run again in every future.
    """
    with shop.lock:
        records = list(shop.records)
    last = max((i for i, r in enumerate(records) if r.kind == "reset"), default=-1)
    kept = [r for i, r in enumerate(records) if r.kind in REPLAYED
            and (i >= last or r.kind in ("join", "remove"))]
    return {"start": shop.start.model_dump(mode="json"), "scenario": shop.start.scenario,
            "records": [r.model_dump(mode="json") for r in kept]}


def replay(params: Mapping[str, Any], seed: int, *, steps: int = 0, series_every: int = 0,
           series_columns: Sequence[str] = ()) -> dict[str, float]:
    """One future: the workshop's records applied to its market built with ``seed``.

    Returns each team's final ``share|TEAM``, ``cash|TEAM`` (months of revenue) and
    ``alive|TEAM`` (1 or 0), from its last round (``steps`` and the series are unused).
    """
    start = Start.model_validate(params["start"]).model_copy(update={"seed": int(seed)})
    scenario = _load_scenario(Path(params["scenario"]) if params.get("scenario") else None)
    market = Market(start, scenario)
    for record in _RECORDS.validate_python(params["records"]):
        market.apply(record)
    out: dict[str, float] = {}
    for team, rows in market.history.items():
        if rows:
            out[f"share|{team}"] = rows[-1].share if rows[-1].alive else 0.0
            out[f"cash|{team}"] = rows[-1].cash
            out[f"alive|{team}"] = float(rows[-1].alive)
    return out


@dataclass(eq=False)
class Futures:
    """One team's results in the futures, beside the room's actual result."""

    team: str
    share: np.ndarray
    cash: np.ndarray
    alive: np.ndarray
    actual_share: float
    actual_cash: float

    @property
    def share_percentile(self) -> float:
        """The share of futures in which the team did worse than in the room (0 to 1)."""
        return float(np.mean(self.share < self.actual_share)) if self.share.size else math.nan

    @property
    def cash_percentile(self) -> float:
        """The share of futures in which the team ended with less cash than in the room."""
        return float(np.mean(self.cash < self.actual_cash)) if self.cash.size else math.nan


@dataclass(eq=False)
class WhatIf:
    """The futures of every team: the root seed, the number of runs, the shop's version."""

    root_seed: int
    runs: int
    teams: dict[str, Futures]
    version: int = -1
    """The workshop's version the futures replayed (a later change makes them stale)."""


def what_if(shop: Workshop, run: Runner, runs: int = FUTURES,
            root_seed: int | None = None) -> WhatIf:
    """Every team's decisions replayed in ``runs`` futures by ``run`` (the runner).

    The same ``root_seed`` (default: the workshop's seed) gives the same futures.
    """
    root = shop.start.seed if root_seed is None else root_seed
    with shop.lock:
        version, params, history = shop.version, replay_params(shop), shop.history()
    outcomes = run(MODEL, params, root, runs)
    teams: dict[str, Futures] = {}
    for team, rows in history.items():
        if not rows:
            continue
        def column(kind: str, team: str = team) -> np.ndarray:
            return np.array([o.get(f"{kind}|{team}", math.nan) for o in outcomes], dtype=float)
        last = rows[-1]
        teams[team] = Futures(team, column("share"), column("cash"), column("alive"),
                              last.share if last.alive else 0.0, last.cash)
    return WhatIf(root, runs, teams, version)
