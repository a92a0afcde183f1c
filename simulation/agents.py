"""Firms and their departments, the agents of the model.

A firm is a Mesa agent made of Department agents. Each month a firm's departments *sense*
customers (or hear partners), *share* what they know along the structure's links, and
*propose* a change of the offering toward what they believe customers need or toward their
silo's objective; the firm *decides* by weighing the proposals with each department's clout,
within what its capability allows, and *pays*. The five levers enter only through the functions
of :mod:`simulation.levers`.

The departments of a firm do the same thing on small arrays, so the firm holds their state as
(departments x segments x attributes) arrays and applies each behaviour to all of them at once;
each Department agent is a view on its row (its role, belief, clout), for reporting and display.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from simulation import levers as lv
from simulation.market import Market, Tally
from simulation.params import LEVERS
from simulation.structures import (
    CUSTOMER_FACING,
    EXTERNAL,
    LINK_BUILDERS,
    PRESETS,
    SILO_OBJECTIVE,
)

if TYPE_CHECKING:
    from simulation.model import OrgModel

SILO_KINDS: tuple[str, ...] = ("status_quo", "standard", "roadmap")
BELIEF_GAIN = 0.5
"""Weight of a fresh observation against what a department believed before."""
FRESHNESS_DECAY = 0.9
"""Monthly fading of how current a department's knowledge is."""
HEAR_CURRENT = 4.0
"""How readily a customer-facing department hears a segment, per unit of the firm's share of it:
a firm hears its current customers, the big ones first (seed 003)."""
DETECT_SHARE = 0.02
"""Share of a segment a disruptor must hold before a firm that looks at that segment notices."""


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


def _unit(x: np.ndarray) -> np.ndarray:
    """Clip to [0, 1] (np.clip's Python wrapper costs more than the work on small arrays)."""
    return np.minimum(np.maximum(x, 0.0), 1.0)


class Department(mesa.Agent):
    """One department of a firm: a role, a belief about customers, a share of power."""

    def __init__(self, model: OrgModel, firm: Firm, index: int, role: str) -> None:
        super().__init__(model)
        self.firm = firm
        self.index = index
        self.role = role

    @property
    def customer_facing(self) -> bool:
        """Whether the department meets customers (and so can sense them directly)."""
        return self.role in CUSTOMER_FACING

    @property
    def belief(self) -> np.ndarray:
        """(S, D) what this department believes each segment needs."""
        return self.firm.beliefs[self.index]

    @property
    def clout_weight(self) -> float:
        """The weight of this department's proposal in the firm's decision."""
        return float(self.firm.decision_weights()[self.index])

    @property
    def belief_error(self) -> float:
        """How wrong the department is about customers (weighted distance, active segments)."""
        market = self.model.market
        return float(market.active_weights @ market.gap(self.belief))


class Firm(mesa.Agent):
    """A firm: departments, an offering per segment, a price, cash."""

    def __init__(self, model: OrgModel, name: str, structure: str, levers: Mapping[str, float],
                 n_departments: int, roles: tuple[str, ...], price: float, cash: float,
                 offering: np.ndarray, beliefs: np.ndarray, fair_revenue: float,
                 capacity: float = np.inf, ceiling: float = 1.0, improvement: float = 0.0,
                 growth: float = 0.0, entrant: bool = False) -> None:
        super().__init__(model)
        self.name = name
        self.entrant = entrant
        self.structure = structure
        self.levers = {k: float(levers[k]) for k in LEVERS}
        self.roles = roles
        self.links = LINK_BUILDERS[PRESETS[structure].links](roles)
        self.facing = np.array([r in CUSTOMER_FACING for r in roles])
        self.external = np.array([r in EXTERNAL for r in roles])
        self.facing_rows = np.flatnonzero(self.facing)
        self.partner_rows = np.flatnonzero(self.external)
        self.silo_kind = np.array([SILO_KINDS.index(SILO_OBJECTIVE[r]) for r in roles])
        self.price = price
        self.cash = cash
        self.alive = True
        self.index_in_market = len(model.firms)  # its column in the market's arrays
        model.firms.append(self)
        self.capacity = capacity
        self.growth = growth
        self.ceiling = ceiling
        self.improvement = improvement
        self.fair_revenue = fair_revenue
        self.offering = offering.copy()
        self.roadmap = offering.copy()
        self.beliefs = np.repeat(beliefs[None], n_departments, axis=0)
        self.trends = np.zeros_like(self.beliefs)
        self.freshness = np.zeros(self.beliefs.shape[:2])
        self.transition: Transition | None = None
        self.disruption = 0.0
        self.pending_cost = 0.0
        self.change = 0.0
        self.observed = np.zeros(beliefs.shape[0], dtype=bool)
        self.metrics: dict[str, float] = {}
        self.departments = list(Department.create_agents(
            model, n_departments, firm=self, index=list(range(n_departments)),
            role=list(roles)))

    # --- the levers as this firm applies them this month --------------------------------
    def lever(self, name: str) -> float:
        """A lever's value, reduced while a reorganization disrupts the firm."""
        value = self.levers[name]
        if name in ("coordination", "capability"):
            value *= 1.0 - self.disruption
        return value

    def capability_now(self) -> float:
        """Capability including what partners lend, as disrupted this month."""
        return lv.effective_capability(self.lever("capability"), self.lever("connections"))

    def decision_weights(self) -> np.ndarray:
        """(n,) each department's weight in decisions (the clout lever)."""
        return lv.clout_weights(self.lever("clout"), self.facing)

    # --- a month's behaviour ------------------------------------------------------------
    def advance_transition(self, step: int) -> None:
        """Move levers and links one month further through a reorganization."""
        t = self.transition
        if t is None:
            return
        progress = min(1.0, (step - t.start + 1) / t.length)
        for name in LEVERS:
            self.levers[name] = (1 - progress) * t.from_levers[name] + progress * t.to_levers[name]
        self.links = (1 - progress) * t.from_links + progress * t.to_links
        # People are busy re-forming teams: sensing and sharing suffer most mid-way.
        self.disruption = self.model.params.transition_disruption * np.sin(np.pi * progress)
        if progress >= 1.0:
            self.structure, self.transition, self.disruption = t.to_structure, None, 0.0

    def sense(self, market: Market, last: Tally, rng: np.random.Generator) -> None:
        """Customer-facing departments hear customers; partners report on every segment."""
        p = self.model.params
        cap = self.capability_now()
        self.freshness *= FRESHNESS_DECAY
        self.observed[:] = False
        own_share = last.segment_share_of(self.index_in_market)
        chance = np.minimum(HEAR_CURRENT * own_share + lv.capability_reach(cap), 1.0)
        chance[~market.active] = 0.0
        facing = self.facing_rows
        heard = rng.random((facing.size, chance.size)) < chance
        self._observe(market, rng, facing, heard, lv.capability_noise(p.sense_noise, cap), cap)
        if rng.random() < lv.connections_signal_chance(self.lever("connections")):
            partners = self.partner_rows
            told = np.repeat(market.active[None], partners.size, axis=0)
            noise = lv.connections_noise(p.sense_noise, self.lever("connections"))
            self._observe(market, rng, partners, told, noise, 1.0)

    def _observe(self, market: Market, rng: np.random.Generator, rows: np.ndarray,
                 seen: np.ndarray, noise: float, trend_skill: float) -> None:
        if rows.size == 0 or not seen.any():
            return
        draws = rng.normal(0.0, noise, (2, rows.size, *market.ideal.shape))
        signal = market.ideal + draws[0]
        trend_signal = market.velocity + 0.3 * draws[1]
        gain = BELIEF_GAIN * seen[:, :, None]
        self.beliefs[rows] += gain * (signal - self.beliefs[rows])
        self.trends[rows] += trend_skill * gain * (trend_signal - self.trends[rows])
        fresh = self.freshness[rows]
        fresh[seen] = 1.0
        self.freshness[rows] = fresh
        self.observed |= seen.any(axis=0)

    def share(self) -> None:
        """Beliefs spread along the structure's links (the coordination lever)."""
        lv.coordination_share(self.lever("coordination"), self.links, self.freshness,
                              self.beliefs, self.trends)

    def decide(self, market: Market, rng: np.random.Generator) -> None:
        """Departments propose, clout weighs the proposals, capability bounds the move.

        Each department's proposal is its target minus the offering; the firm's move is the
        clout-weighted sum of the proposals, so proposals pointing in opposite directions
        cancel. The sum is linear, so it is taken per kind of target: what departments believe
        customers need (anticipating the drift as far as capability allows), and the silo
        objectives (keep things as they are, standardise on the core offering, follow the
        roadmap), blended by cooperation.
        """
        p = self.model.params
        cap = self.capability_now()
        weights = market.active_weights
        offering = self.offering
        clout = self.decision_weights()
        believed = _unit(self.beliefs + lv.capability_horizon(cap) * self.trends)
        believed = (clout @ believed.reshape(clout.size, -1)).reshape(offering.shape)
        customer_pull = believed - offering
        by_kind = np.bincount(self.silo_kind, weights=clout, minlength=len(SILO_KINDS))
        silo_pull = by_kind[1] * (weights @ offering - offering) + by_kind[2] * (
            self.roadmap - offering)
        delta = lv.cooperation_blend(self.lever("cooperation"), customer_pull, silo_pull)
        limit = lv.capability_step(p.max_change, cap)
        norm = np.sqrt((delta * delta).sum(axis=1, keepdims=True))
        delta *= np.minimum(1.0, limit / np.maximum(norm, 1e-12))
        delta *= 1.0 + rng.normal(0.0, 0.5 * (1.0 - cap), delta.shape)
        new = _unit(offering + delta)
        np.minimum(new[:, 0], self.ceiling, out=new[:, 0])
        self.change = float(weights @ np.abs(new - offering).sum(axis=1))
        self.offering = new
        np.minimum(self.roadmap[:, 0] + p.roadmap_speed, 1.0, out=self.roadmap[:, 0])
        self.ceiling = min(1.0, self.ceiling + self.improvement)

    def pay(self, market: Market, tally: Tally) -> None:
        """Revenue in; serving, fixed, lever upkeep, change and reorganization costs out."""
        p = self.model.params
        f = self.index_in_market
        weights = market.active_weights
        core = weights @ self.offering
        variety = float(weights @ np.einsum("sd,sd->s", np.abs(self.offering - core),
                                            market.weights))
        scale = min(1.0, self.capacity / self.model.fair_customers)
        serve = p.unit_cost * tally.customers[f] * (1.0 + p.variety_cost * variety)
        upkeep = lv.upkeep(self.levers, p.lever_cost) * len(self.departments) / 6
        fixed = (p.fixed_cost + upkeep) * self.fair_revenue * scale
        change = p.change_cost * self.change * self.fair_revenue * scale
        revenue = float(tally.revenue[f])
        profit = revenue - serve - fixed - change - self.pending_cost
        self.pending_cost = 0.0
        self.cash += profit
        belief = self.beliefs.mean(axis=0)
        self.metrics = {
            "market_share": float(tally.share[f]),
            "satisfaction": float(tally.satisfaction[f]),
            "awareness_gap": float(weights @ market.gap(belief)),
            "action_gap": float(weights @ np.einsum("sd,sd->s", np.abs(belief - self.offering),
                                                    market.weights)),
            "revenue": revenue,
            "profit": profit,
            "customers": float(tally.customers[f]),
            "lever_upkeep": upkeep * self.fair_revenue * scale,
        }
        if np.isfinite(self.capacity):
            self.capacity = min(self.capacity * (1.0 + self.growth), float(market.segment.size))

    def fail(self) -> None:
        """The firm runs out of cash and leaves: its departments go, it stays dead."""
        self.alive = False
        for department in self.departments:
            department.remove()
        self.departments = []
        self.metrics = dict.fromkeys(self.metrics, 0.0)
        self.metrics["profit"] = 0.0

