"""A tiny stand-in with the model's interface, for the app's tests until the core lands."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

LEVERS = ("coordination", "cooperation", "clout", "capability", "connections")
PRESET = {"inside_out": 0.2, "outside_in": 0.8, "entrant": 0.5}


class StubModel:
    def __init__(self, scenario: Any = None, rng: int = 1, structure: str = "outside_in",
                 rival_structure: str = "inside_out", turbulence: float = 0.02,
                 entrant_rate: float = 0.0, **levers: float) -> None:
        self.rng = np.random.default_rng(rng)
        self.params = SimpleNamespace(turbulence=turbulence, entrant_rate=entrant_rate)
        self.steps = 0
        self.events: list[dict[str, Any]] = []
        self.rows: list[dict[str, Any]] = []
        self.pending: list[tuple[str, Any]] = []
        self.market = SimpleNamespace(
            ideal=self.rng.random((3, 4)), active=[True, True, False],
            segment_names=["mainstream", "budget", "emerging"],
            dimension_names=["performance", "price", "convenience", "service"],
            sizes=[100, 100, 0])
        self.firms = [self._firm("Firm A", structure, levers),
                      self._firm("Firm B", rival_structure, {})]

    def _firm(self, name: str, structure: str, levers: dict[str, float]) -> SimpleNamespace:
        lv = {k: float(levers.get(k, PRESET[structure])) for k in LEVERS}
        deps = [SimpleNamespace(role=r, customer_facing=r in ("sales", "service"),
                                belief_error=float(self.rng.random()), clout_weight=1 / 4)
                for r in ("sales", "service", "R&D", "operations")]
        links = np.ones((4, 4)) - np.eye(4)
        return SimpleNamespace(name=name, structure=structure, levers=lv, alive=True,
                               cash=6.0, offering=self.rng.random((3, 4)), links=links,
                               departments=deps)

    def inject_shock(self) -> None:
        self.pending.append(("shock", None))

    def add_entrant(self) -> None:
        self.pending.append(("entrant", None))

    def reorganize(self, firm: int = 0, to: Any = "outside_in") -> None:
        if isinstance(to, dict) and any(not 0 <= v <= 1 for v in to.values()):
            raise ValueError("reorganize_to: lever outside [0, 1]")
        self.pending.append(("reorganization", (firm, to)))

    def step(self) -> None:
        self.steps += 1
        for kind, arg in self.pending:
            if kind == "entrant":
                name = f"Entrant {sum(1 for f in self.firms if f.structure == 'entrant') + 1}"
                self.firms.append(self._firm(name, "entrant", {}))
                self.events.append({"step": self.steps, "kind": kind, "firm": name})
            elif kind == "reorganization":
                firm, to = arg
                f = self.firms[firm]
                if isinstance(to, str):
                    f.structure = to
                    f.levers = {k: PRESET[to] for k in LEVERS}
                else:
                    f.levers = dict(to)
                self.events.append({"step": self.steps, "kind": kind, "firm": f.name})
            else:
                self.market.ideal = np.clip(self.market.ideal + 0.2, 0, 1)
                self.events.append({"step": self.steps, "kind": kind, "firm": None})
        self.pending = []
        n = len(self.firms)
        for f in self.firms:
            self.rows.append({"step": self.steps, "firm": f.name, "structure": f.structure,
                              "market_share": 1 / n, "satisfaction": 0.5 + 0.01 * self.steps,
                              "awareness_gap": 0.1, "action_gap": 0.2, "cash": f.cash,
                              "alive": f.alive})

    def results(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)


def stub_factory(scenario: Any, **kwargs: Any) -> StubModel:
    return StubModel(scenario, **kwargs)
