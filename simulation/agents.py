"""Firms and their departments, the agents of the model.

A firm is a Mesa agent made of Department agents. Each month its departments *sense* customers
(or hear partners), *share* what they know along the structure's links and *propose* a change
of the offering; the firm *decides* by weighing the proposals with each department's clout,
within what its capability allows, and *pays*. The behaviour of all departments of all firms
runs as one array operation per step in :mod:`simulation.organization`; a Department agent is
its row there (role, belief, clout), and a Firm agent holds what is the firm's alone: its name,
price, cash, capacity, a reorganization under way, and this month's results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from simulation.outcomes import FIRM_METRICS, in_revenue_months
from simulation.params import LEVERS
from simulation.structures import CUSTOMER_FACING

if TYPE_CHECKING:
    from simulation.model import OrgModel

METRICS: tuple[str, ...] = FIRM_METRICS
"""What a firm reports each month besides its cash, levers and status (the registry's)."""


FULL = 0.8
"""A disruptor adds capacity (``entrant_growth`` a month) only while it uses this much of it."""


@dataclass
class Transition:
    """A reorganization under way: levers and links move from one setting to another."""

    start: int
    length: int
    from_levers: dict[str, float]
    to_levers: dict[str, float]
    from_links: np.ndarray
    to_links: np.ndarray
    to_structure: str


class Department(mesa.Agent):
    """One department of a firm: a role, a belief about customers, a share of power."""

    def __init__(self, model: OrgModel, firm: Firm, local: int, role: str) -> None:
        super().__init__(model)
        self.firm = firm
        self.local = local
        self.role = role

    @property
    def row(self) -> int:
        """The department's row in the organization table (rows move when a firm fails)."""
        return self.model.org.row(self.firm.index, self.local)

    @property
    def customer_facing(self) -> bool:
        """Whether the department meets customers (and so can sense them directly)."""
        return self.role in CUSTOMER_FACING

    @property
    def belief(self) -> np.ndarray:
        """(S, D) what this department believes each segment needs."""
        return self.model.org.beliefs[self.row]

    @property
    def clout_weight(self) -> float:
        """The weight of this department's proposal in the firm's decision."""
        return float(self.model.org.decision_weights()[self.row])

    @property
    def belief_error(self) -> float:
        """How wrong the department is about customers (weighted distance, active segments)."""
        market = self.model.market
        return float(market.active_weights @ market.gap(self.belief))


class Firm(mesa.Agent):
    """A firm: departments, an offering per segment, a price, cash."""

    def __init__(self, model: OrgModel, name: str, structure: str, levers: dict[str, float],
                 roles: tuple[str, ...], links: np.ndarray, price: float, cash: float,
                 offering: np.ndarray, beliefs: np.ndarray, capacity: float = np.inf,
                 ceiling: float = np.inf, improvement: float = 0.0, growth: float = 0.0,
                 entrant: bool = False, unit_cost: float | None = None,
                 overhead: float = 1.0) -> None:
        super().__init__(model)
        self.name = name
        self.structure = structure
        self.entrant = entrant
        self.roles = roles
        self.cash = cash
        self.capacity = capacity
        self.growth = growth
        self.overhead = overhead
        self.pending_cost = 0.0
        self.failed_step: int | None = None
        self.transition: Transition | None = None
        self.index = model.org.add_firm(
            levers, roles, links, offering, beliefs, ceiling, improvement, price,
            model.params.unit_cost if unit_cost is None else unit_cost)
        # A disruptor that enters between months has no figures until its first month: an
        # empty dict, not zeros a chart would draw (an incumbent starts with the market).
        self.metrics: dict[str, float] = {} if entrant else dict.fromkeys(METRICS, 0.0)
        self.departments = list(Department.create_agents(
            model, len(roles), firm=self, local=list(range(len(roles))), role=list(roles)))
        model.firms.append(self)

    # --- views on the organization table ----------------------------------------------------
    @property
    def alive(self) -> bool:
        """Whether the firm is still in business (a failed firm stays failed)."""
        return bool(self.model.org.alive[self.index])

    @property
    def price(self) -> float:
        """What the firm charges a customer for a month (a low-cost answer lowers it)."""
        return float(self.model.org.price[self.index])

    @price.setter
    def price(self, value: float) -> None:
        self.model.org.price[self.index] = value

    @property
    def unit_cost(self) -> float:
        """What serving a customer for a month costs the firm (a low-cost answer lowers it)."""
        return float(self.model.org.unit_cost[self.index])

    @property
    def answering(self) -> bool:
        """Whether the firm runs a low-cost programme this month (its answer to a disruptor)."""
        return bool(self.model.org.answering[self.index])

    @property
    def levers(self) -> dict[str, float]:
        """The firm's five lever values now."""
        return dict(zip(LEVERS, self.model.org.levers[self.index].tolist(), strict=True))

    @property
    def offering(self) -> np.ndarray:
        """(S, D) what the firm offers each segment."""
        return self.model.org.offering[self.index]

    @property
    def links(self) -> np.ndarray:
        """(n, n) who talks to whom among the firm's departments."""
        return self.model.org.firm_links[self.index]

    # --- behaviour of the firm alone ---------------------------------------------------------
    def advance_transition(self, step: int) -> None:
        """Move levers and links one month further through a reorganization."""
        t = self.transition
        if t is None:
            return
        org = self.model.org
        progress = min(1.0, (step - t.start + 1) / t.length)
        levers = [(1 - progress) * t.from_levers[k] + progress * t.to_levers[k] for k in LEVERS]
        # People are busy re-forming teams: the levers act least at the start, when the old
        # organization is being taken apart and the new one does not work yet, and recover as
        # the transition goes on (levers.disrupted): a J-curve.
        disruption = self.model.params.transition_disruption * (1.0 - progress)
        if progress >= 1.0:
            self.structure, self.transition, disruption = t.to_structure, None, 0.0
        org.set_levers(self.index, levers, disruption)
        org.set_links(self.index, (1 - progress) * t.from_links + progress * t.to_links)

    @property
    def cash_months(self) -> float:
        """Cash in months of revenue, the unit every face shows money in.

        A month of revenue is one firm's fair share of a month's revenue at the start.
        """
        return float(in_revenue_months({"cash": self.cash}, self.model.fair_revenue)["cash"])

    def pay(self, revenue: float, customers: float, variety: float, upkeep: float,
            change: float, answer: float = 0.0) -> float:
        """Book a month: revenue in; serving, fixed, upkeep, change, answer and one-off costs out.

        Fixed costs and upkeep are shares of the fair-share revenue, scaled down for a
        disruptor by the capacity it has built so far (a lean start-up pays for what it can
        serve), but never below its ``overhead`` (a team and a plant before customers come);
        a disruptor adds capacity only while it is nearly full. Returns the profit.
        """
        p, fair = self.model.params, self.model.fair_revenue
        scale = min(1.0, max(self.capacity / self.model.fair_customers, self.overhead))
        serve = self.unit_cost * customers * (1.0 + p.variety_cost * variety)
        fixed = (p.fixed_cost + upkeep + answer) * fair * scale
        profit = revenue - serve - fixed - p.change_cost * change * fair * scale \
            - self.pending_cost
        self.pending_cost = 0.0
        self.cash += profit
        self.metrics["lever_upkeep"] = upkeep * fair * scale
        if np.isfinite(self.capacity) and customers >= FULL * self.capacity:
            self.capacity = min(self.capacity * (1.0 + self.growth),
                                float(self.model.market.segment.size))
        return profit

    def fail(self) -> None:
        """The firm runs out of cash and leaves: its departments go, it stays dead."""
        self.model.org.kill(self.index)
        for department in self.departments:
            department.remove()
        self.departments = []
        self.metrics = dict.fromkeys(METRICS, 0.0)
