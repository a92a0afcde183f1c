"""The departments of every firm as one table, so that each behaviour is one array operation.

A firm's departments sense, share, propose and decide; every firm's departments do so each
month. Doing it firm by firm would repeat dozens of tiny numpy operations per firm, and a
model with a few rivals and entrants would spend its time in call overhead, so the state of
all departments lives here as rows (department x segment x attribute), with ``firm_of`` saying
whose each row is, and the firm-level state as rows of (firm x ...). Links between departments
form one block-diagonal matrix: departments only ever talk inside their own firm.

The five levers act only through :mod:`simulation.levers`; this module applies those functions
to every firm at once. Nothing here reads a structure's name: a firm is its numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from simulation import levers as lv
from simulation.market import Market, Tally
from simulation.params import LEVERS, ModelParams
from simulation.structures import CUSTOMER_FACING, EXTERNAL, SILO_OBJECTIVE

SILO_KINDS: tuple[str, ...] = ("status_quo", "standard", "roadmap")
"""Silo objectives: keep the offering as it is, standardise on the core, follow the roadmap."""
BELIEF_GAIN = 0.5
"""Weight of a fresh observation against what a department believed before."""
FRESHNESS_DECAY = 0.9
"""Monthly fading of how current a department's knowledge is."""
HEAR_CURRENT = 2.0
"""How readily a customer-facing department hears a segment, per unit of the segment's share
of the firm's revenue: a firm hears its biggest current customers first (seed 003), and a
segment that brings half its revenue every month."""
TREND_NOISE = 0.3
"""Noise of a signal about the direction of change, relative to that about the level."""
EXECUTION_NOISE = 0.5
"""Relative error of carrying out a change at zero capability."""
_L = {name: i for i, name in enumerate(LEVERS)}


def _unit(x: np.ndarray) -> np.ndarray:
    """Clip to [0, 1] (np.clip's Python wrapper costs more than the work on small arrays)."""
    return np.minimum(np.maximum(x, 0.0), 1.0)


class Organizations:
    """Every firm's departments and offerings, and the monthly behaviour of all of them."""

    def __init__(self, n_segments: int, n_dimensions: int) -> None:
        s, d = n_segments, n_dimensions
        # firm rows
        self.levers = np.zeros((0, len(LEVERS)))
        self.disruption = np.zeros(0)
        self.offering = np.zeros((0, s, d))
        self.roadmap = np.zeros((0, s, d))
        self.ceiling = np.zeros(0)
        self.improvement = np.zeros(0)
        self.alive = np.zeros(0, dtype=bool)
        self.observed = np.zeros((0, s), dtype=bool)
        self.change = np.zeros(0)
        self.firm_links: list[np.ndarray] = []
        # department rows
        self.firm_of = np.zeros(0, dtype=np.int64)
        self.facing = np.zeros(0, dtype=bool)
        self.external = np.zeros(0, dtype=bool)
        self.silo_kind = np.zeros(0, dtype=np.int64)
        self.beliefs = np.zeros((0, s, d))
        self.trends = np.zeros((0, s, d))
        self.freshness = np.zeros((0, s))
        self._links_dirty = True

    @property
    def n_firms(self) -> int:
        """Number of firms ever added (dead ones included: rows are never reused)."""
        return self.levers.shape[0]

    def add_firm(self, levers: Mapping[str, float], roles: Sequence[str], links: np.ndarray,
                 offering: np.ndarray, beliefs: np.ndarray, ceiling: float = 1.0,
                 improvement: float = 0.0) -> tuple[int, np.ndarray]:
        """Add a firm and its departments; returns its row and its departments' rows."""
        f, first = self.n_firms, self.firm_of.size
        n = len(roles)
        self.levers = np.vstack([self.levers, [[levers[k] for k in LEVERS]]])
        self.disruption = np.append(self.disruption, 0.0)
        self.offering = np.concatenate([self.offering, offering[None]])
        self.roadmap = np.concatenate([self.roadmap, offering[None]])
        self.ceiling = np.append(self.ceiling, ceiling)
        self.improvement = np.append(self.improvement, improvement)
        self.alive = np.append(self.alive, True)
        self.observed = np.vstack([self.observed, np.zeros(offering.shape[0], dtype=bool)])
        self.change = np.append(self.change, 0.0)
        self.firm_links.append(np.asarray(links, dtype=float))
        self.firm_of = np.append(self.firm_of, np.full(n, f))
        self.facing = np.append(self.facing, [r in CUSTOMER_FACING for r in roles])
        self.external = np.append(self.external, [r in EXTERNAL for r in roles])
        self.silo_kind = np.append(self.silo_kind,
                                   [SILO_KINDS.index(SILO_OBJECTIVE[r]) for r in roles])
        self.beliefs = np.concatenate([self.beliefs, np.repeat(beliefs[None], n, axis=0)])
        self.trends = np.concatenate([self.trends, np.zeros((n, *beliefs.shape))])
        self.freshness = np.vstack([self.freshness, np.zeros((n, beliefs.shape[0]))])
        self._links_dirty = True
        return f, np.arange(first, first + n)

    def set_links(self, firm: int, links: np.ndarray) -> None:
        """Give a firm new links between its departments (a reorganization under way)."""
        self.firm_links[firm] = links
        self._links_dirty = True

    def _refresh(self) -> None:
        # Rebuild what depends on who belongs where: the block-diagonal links, the membership
        # matrix, and each department's group sizes. Only after an entry or a reorganization.
        k = self.firm_of.size
        self.links = np.zeros((k, k))
        start = 0
        for links in self.firm_links:
            n = links.shape[0]
            self.links[start:start + n, start:start + n] = links
            start += n
        self.member = np.zeros((self.n_firms, k))
        self.member[self.firm_of, np.arange(k)] = 1.0
        size = self.member.sum(axis=1)
        n_facing = self.member @ self.facing
        self.n_facing = n_facing[self.firm_of]
        self.n_internal = (size - n_facing)[self.firm_of]
        self.mean_of = self.member / size[:, None]
        self._links_dirty = False

    # --- the levers as applied this month ---------------------------------------------------
    def lever(self, name: str) -> np.ndarray:
        """(F,) a lever's value; coordination and capability suffer during a transition."""
        value = self.levers[:, _L[name]]
        if name in ("coordination", "capability"):
            value = value * (1.0 - self.disruption)
        return value

    def capability(self) -> np.ndarray:
        """(F,) capability including what partners lend, as disrupted this month."""
        return lv.effective_capability(self.lever("capability"), self.lever("connections"))

    def decision_weights(self) -> np.ndarray:
        """(K,) each department's weight in its firm's decisions (the clout lever)."""
        if self._links_dirty:
            self._refresh()
        return lv.clout_weights(self.lever("clout")[self.firm_of], self.facing,
                                self.n_facing, self.n_internal)

    # --- a month's behaviour ---------------------------------------------------------------
    def sense(self, market: Market, last: Tally, params: ModelParams,
              rng: np.random.Generator) -> None:
        """Customer-facing departments hear customers; partners report on every segment.

        A department hears a segment more readily the more of its firm's revenue it brings
        (the biggest customers first), plus what its prospecting skill (capability) reaches;
        partners (connections) report on every active segment, served or not, to the
        departments that hold partnerships.
        """
        if self._links_dirty:
            self._refresh()
        cap = self.capability()
        connections = self.lever("connections")
        living = self.alive[self.firm_of]
        mix = np.zeros((self.n_firms, market.n_segments))
        seen_firms = min(last.segment_share.shape[1], self.n_firms)
        spend = last.segment_share[:, :seen_firms].T * (market.sizes * market.value)
        mix[:seen_firms] = spend / np.maximum(spend.sum(axis=1, keepdims=True), 1e-12)
        chance = HEAR_CURRENT * mix + lv.capability_reach(cap)[:, None]
        chance = np.minimum(chance, 1.0)[self.firm_of] * (self.facing & living)[:, None]
        heard = rng.random(chance.shape) < chance
        partners_report = rng.random(self.n_firms) < lv.connections_signal_chance(connections)
        told = (self.external & living & partners_report[self.firm_of])[:, None] & market.active
        seen = (heard & market.active) | told
        self.freshness *= FRESHNESS_DECAY
        self.observed = (self.member @ seen) > 0
        if not seen.any():
            return
        own_noise = lv.capability_noise(params.sense_noise, cap)[self.firm_of][:, None]
        partner_noise = lv.connections_noise(params.sense_noise, connections)[self.firm_of]
        noise = np.where(told, np.minimum(partner_noise[:, None], own_noise), own_noise)
        skill = np.where(told, 1.0, cap[self.firm_of][:, None])
        draws = rng.normal(size=(2, *self.beliefs.shape)) * noise[None, :, :, None]
        gain = BELIEF_GAIN * seen[:, :, None]
        self.beliefs += gain * (market.ideal + draws[0] - self.beliefs)
        self.trends += (skill[:, :, None] * gain) * (
            market.velocity + TREND_NOISE * draws[1] - self.trends)
        self.freshness[seen] = 1.0

    def share(self) -> None:
        """Beliefs spread along the structure's links (the coordination lever)."""
        if self._links_dirty:
            self._refresh()
        lv.coordination_share(self.lever("coordination")[self.firm_of], self.links,
                              self.freshness, self.beliefs, self.trends)

    def decide(self, market: Market, params: ModelParams, rng: np.random.Generator) -> None:
        """Departments propose, clout weighs the proposals, capability bounds the move.

        Each department's proposal is its target minus the offering; the firm's move is the
        clout-weighted sum of its departments' proposals, so proposals pointing in opposite
        directions cancel. The sum is linear, so it is taken per kind of target: what
        departments believe customers need (anticipating the drift as far as capability
        allows), and the silo objectives, blended by cooperation.
        """
        cap = self.capability()
        weights = market.active_weights
        offering = self.offering
        clout = self.member * self.decision_weights()                        # (F, K)
        horizon = lv.capability_horizon(cap)[self.firm_of][:, None, None]
        believed = _unit(self.beliefs + horizon * self.trends)
        customer_pull = (clout @ believed.reshape(clout.shape[1], -1)).reshape(
            offering.shape) - offering
        by_kind = clout @ np.eye(len(SILO_KINDS))[self.silo_kind]            # (F, 3)
        core = np.einsum("s,fsd->fd", weights, offering)[:, None, :]
        silo_pull = (by_kind[:, 1, None, None] * (core - offering)
                     + by_kind[:, 2, None, None] * (self.roadmap - offering))
        delta = lv.cooperation_blend(self.lever("cooperation")[:, None, None], customer_pull,
                                     silo_pull)
        limit = lv.capability_step(params.max_change, cap)[:, None, None]
        norm = np.sqrt((delta * delta).sum(axis=2, keepdims=True))
        delta *= np.minimum(1.0, limit / np.maximum(norm, 1e-12))
        noise = EXECUTION_NOISE * (1.0 - cap)[:, None, None]
        delta *= 1.0 + noise * rng.normal(size=delta.shape)
        delta *= self.alive[:, None, None]
        new = _unit(offering + delta)
        new[:, :, 0] = np.minimum(new[:, :, 0], self.ceiling[:, None])
        self.change = np.abs(new - offering).sum(axis=2) @ weights
        self.offering = new
        self.roadmap[:, :, 0] = np.minimum(self.roadmap[:, :, 0] + params.roadmap_speed, 1.0)
        self.ceiling = np.minimum(1.0, self.ceiling + self.improvement)

    def gaps(self, market: Market) -> tuple[np.ndarray, np.ndarray]:
        """(F,) awareness gaps (needs vs mean belief) and action gaps (belief vs offering).

        Both are importance-weighted distances averaged over the active market's segments.
        """
        if self._links_dirty:
            self._refresh()
        k = self.beliefs.shape[0]
        belief = (self.mean_of @ self.beliefs.reshape(k, -1)).reshape(self.offering.shape)
        w = market.weights
        awareness = (np.abs(market.ideal - belief) * w).sum(axis=2) @ market.active_weights
        action = (np.abs(belief - self.offering) * w).sum(axis=2) @ market.active_weights
        return awareness, action

    def variety(self, market: Market) -> np.ndarray:
        """(F,) how far each firm's segment offerings spread around its core offering."""
        core = np.einsum("s,fsd->fd", market.active_weights, self.offering)[:, None, :]
        return (np.abs(self.offering - core) * market.weights).sum(axis=2) @ \
            market.active_weights

    def upkeep(self, lever_cost: float) -> np.ndarray:
        """(F,) monthly lever upkeep, as a share of fair-share revenue.

        It is set for six departments and scales with their number (more people, more meetings).
        """
        if self._links_dirty:
            self._refresh()
        size = self.member.sum(axis=1)
        return lv.upkeep(dict(zip(LEVERS, self.levers.T, strict=True)), lever_cost) * size / 6
