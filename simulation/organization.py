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

    def __init__(self, params: ModelParams, n_segments: int) -> None:
        self.params = params
        s, d = n_segments, params.dimensions
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
        # What each department believes each segment needs ([..., :D]) and the direction in
        # which it believes those needs move ([..., D:]): one array, so that sensing and
        # sharing update both in one pass.
        self.knowledge = np.zeros((0, s, 2 * d))
        self.freshness = np.zeros((0, s))
        self._dirty = True

    @property
    def beliefs(self) -> np.ndarray:
        """(K, S, D) what each department believes each segment needs (a view)."""
        return self.knowledge[..., :self.params.dimensions]

    @property
    def trends(self) -> np.ndarray:
        """(K, S, D) how each department believes those needs move per month (a view)."""
        return self.knowledge[..., self.params.dimensions:]

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
        fresh = np.concatenate([beliefs, np.zeros_like(beliefs)], axis=-1)
        self.knowledge = np.concatenate([self.knowledge, np.repeat(fresh[None], n, axis=0)])
        self.freshness = np.vstack([self.freshness, np.zeros((n, beliefs.shape[0]))])
        self._dirty = True
        return f, np.arange(first, first + n)

    def set_links(self, firm: int, links: np.ndarray) -> None:
        """Give a firm new links between its departments (a reorganization under way)."""
        self.firm_links[firm] = links
        self._dirty = True

    def set_levers(self, firm: int, levers: Sequence[float], disruption: float) -> None:
        """Give a firm new lever values and a disruption level (a reorganization under way)."""
        self.levers[firm] = levers
        self.disruption[firm] = disruption
        self._dirty = True

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
        self.size = size
        self._upkeep: dict[float, np.ndarray] = {}
        self._apply_levers()
        self._dirty = False

    def _apply_levers(self) -> None:
        # What each lever does, per firm (F,) or per department (K,), through the functions of
        # simulation.levers. Levers change only through add_firm and set_levers (and a firm
        # only dies through kill), so this runs after those, not every month.
        p, of = self.params, self.firm_of
        cap = self.capability()
        connections = self.lever("connections")
        living = self.alive[of]
        self.reach = lv.capability_reach(cap)[:, None]                              # (F, 1)
        self.listening = (self.facing & living)[:, None]                            # (K, 1)
        self.partnered = self.external & living                                     # (K,)
        self.signal_chance = lv.connections_signal_chance(connections)             # (F,)
        self.own_noise = lv.capability_noise(p.sense_noise, cap)[of][:, None]       # (K, 1)
        self.partner_noise = np.minimum(
            lv.connections_noise(p.sense_noise, connections)[of][:, None], self.own_noise)
        self.trend_skill = cap[of][:, None]                                         # (K, 1)
        self.noise_scale = np.repeat([1.0, TREND_NOISE], p.dimensions)              # (2D,)
        self.sharing = self.lever("coordination")[of]                               # (K,)
        self.horizon = lv.capability_horizon(cap)[of][:, None, None]                # (K,1,1)
        self.weights = lv.clout_weights(self.lever("clout")[of], self.facing,
                                        self.n_facing, self.n_internal)             # (K,)
        self.clout = self.member * self.weights                                     # (F, K)
        self.by_kind = self.clout @ np.eye(len(SILO_KINDS))[self.silo_kind]        # (F, 3)
        self.cooperation = self.lever("cooperation")[:, None, None]                 # (F,1,1)
        self.limit = lv.capability_step(p.max_change, cap)[:, None, None]          # (F,1,1)
        self.execution = EXECUTION_NOISE * (1.0 - cap)[:, None, None]              # (F,1,1)
        self.moving = self.alive[:, None, None]                                     # (F,1,1)

    def kill(self, firm: int) -> None:
        """A firm fails: it stops sensing, deciding and moving for good."""
        self.alive[firm] = False
        self._dirty = True

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
        if self._dirty:
            self._refresh()
        return self.weights

    # --- a month's behaviour ---------------------------------------------------------------
    def sense(self, market: Market, last: Tally, rng: np.random.Generator) -> None:
        """Customer-facing departments hear customers; partners report on every segment.

        A department hears a segment more readily the more of its firm's revenue it brings
        (the biggest customers first), plus what its prospecting skill (capability) reaches;
        partners (connections) report on every active segment, served or not, to the
        departments that hold partnerships.
        """
        if self._dirty:
            self._refresh()
        mix = last.revenue_mix
        if mix.shape[0] < self.n_firms:  # a firm entered this month: no revenue yet
            mix = np.vstack([mix, np.zeros((self.n_firms - mix.shape[0], mix.shape[1]))])
        chance = np.minimum(HEAR_CURRENT * mix + self.reach, 1.0)[self.firm_of]
        heard = (rng.random(chance.shape) < chance) & self.listening & market.active
        reporting = rng.random(self.n_firms) < self.signal_chance
        told = (self.partnered & reporting[self.firm_of])[:, None] & market.active
        seen = heard | told
        self.freshness *= FRESHNESS_DECAY
        self.observed = (self.member @ seen) > 0
        if not seen.any():
            return
        noise = np.where(told, self.partner_noise, self.own_noise)[:, :, None]
        truth = np.concatenate([market.ideal, market.velocity], axis=1)       # (S, 2D)
        signal = truth + rng.normal(size=self.knowledge.shape) * noise * self.noise_scale
        surprise = signal - self.knowledge
        # A signal about the direction of change is only read as well as capability allows
        # (partners' reports count fully).
        surprise[..., self.params.dimensions:] *= np.where(told, 1.0, self.trend_skill)[
            :, :, None]
        self.knowledge += (BELIEF_GAIN * seen[:, :, None]) * surprise
        self.freshness[seen] = 1.0

    def share(self) -> None:
        """Beliefs spread along the structure's links (the coordination lever)."""
        if self._dirty:
            self._refresh()
        lv.coordination_share(self.sharing, self.links, self.freshness, self.knowledge)

    def decide(self, market: Market, rng: np.random.Generator) -> None:
        """Departments propose, clout weighs the proposals, capability bounds the move.

        Each department's proposal is its target minus the offering; the firm's move is the
        clout-weighted sum of its departments' proposals, so proposals pointing in opposite
        directions cancel. The sum is linear, so it is taken per kind of target: what
        departments believe customers need (anticipating the drift as far as capability
        allows), and the silo objectives, blended by cooperation.
        """
        if self._dirty:
            self._refresh()
        offering, by_kind = self.offering, self.by_kind
        believed = _unit(self.beliefs + self.horizon * self.trends)
        customer_pull = (self.clout @ believed.reshape(believed.shape[0], -1)).reshape(
            offering.shape) - offering
        core = (market.active_weights @ offering)[:, None, :]                 # (F, 1, D)
        silo_pull = (by_kind[:, 1, None, None] * (core - offering)
                     + by_kind[:, 2, None, None] * (self.roadmap - offering))
        delta = lv.cooperation_blend(self.cooperation, customer_pull, silo_pull)
        norm = np.sqrt((delta * delta).sum(axis=2, keepdims=True))
        delta *= np.minimum(1.0, self.limit / np.maximum(norm, 1e-12))
        delta *= (1.0 + self.execution * rng.normal(size=delta.shape)) * self.moving
        new = _unit(offering + delta)
        np.minimum(new[:, :, 0], self.ceiling[:, None], out=new[:, :, 0])
        self.change = np.abs(new - offering).sum(axis=2) @ market.active_weights
        self.offering = new
        self.roadmap[:, :, 0] = np.minimum(self.roadmap[:, :, 0] + self.params.roadmap_speed,
                                           1.0)
        self.ceiling = np.minimum(1.0, self.ceiling + self.improvement)

    def alignment(self, market: Market) -> np.ndarray:
        """(3, F) each firm's awareness gap, action gap and variety.

        The awareness gap is the distance between customers' needs and the mean of the firm's
        departments' beliefs; the action gap, between that belief and the offering; variety,
        between the segment offerings and the firm's core offering. All are
        importance-weighted distances averaged over the active market's segments.
        """
        if self._dirty:
            self._refresh()
        belief = self.mean_of @ self.beliefs.reshape(self.beliefs.shape[0], -1)
        belief = belief.reshape(self.offering.shape)
        core = (market.active_weights @ self.offering)[:, None, :]
        spread = np.stack([market.ideal - belief, belief - self.offering, self.offering - core])
        return market.weighted_gap(spread) @ market.active_weights

    def upkeep(self, lever_cost: float) -> np.ndarray:
        """(F,) monthly lever upkeep, as a share of fair-share revenue.

        It is set for six departments and scales with their number (more people, more meetings).
        """
        if self._dirty:
            self._refresh()
        if lever_cost not in self._upkeep:  # levers change only through add_firm/set_levers
            self._upkeep[lever_cost] = lv.upkeep(dict(zip(LEVERS, self.levers.T, strict=True)),
                                                 lever_cost) * self.size / 6
        return self._upkeep[lever_cost]
