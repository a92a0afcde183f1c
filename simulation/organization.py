"""The departments of every firm as one table, so that each behaviour is one array operation.

A firm's departments sense, share, propose and decide; every firm's departments do so each
month. Doing it firm by firm would repeat dozens of tiny numpy operations per firm, and a
model with a few rivals and entrants would spend its time in call overhead, so the state of
all departments lives here as rows (department x segment x attribute), with ``firm_of`` saying
whose each row is, and the firm-level state as rows of (firm x ...). Links between departments
form one block-diagonal matrix: departments only ever talk inside their own firm. A failed
firm's department rows are dropped, so a long run with many failed entrants costs no more per
month than a short one.

The five levers act only through :mod:`simulation.levers`; this module applies those functions
to every firm at once. Nothing here reads a structure's name: a firm is its numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from simulation import levers as lv
from simulation.market import Market, Tally
from simulation.params import LEVERS, ModelParams
from simulation.structures import (
    CUSTOMER_FACING,
    EXTERNAL,
    FAVOURS_ANSWER,
    SILO_OBJECTIVE,
    budget_owners,
    component_partners,
    internal_owners,
)

SILO_KINDS: tuple[str, ...] = ("habit", "roadmap")
"""Silo objectives: the offering as the firm has been making it, or R&D's roadmap (see
``structures.SILO_OBJECTIVE``)."""
FRESHNESS_DECAY = 0.9
"""Monthly fading of how current a department's knowledge is."""
TECHNOLOGY_FRONTIER = 1.0
"""The performance an improving disruptor's technology reaches at most (Christensen's
trajectories: it climbs from the low end toward what mainstream customers need)."""
REFERENCE_FACING = 3
"""A firm's contact with its customers is stated for three customer-facing departments and
split among however many it has: departments are the model's resolution, not extra ears."""
_L = {name: i for i, name in enumerate(LEVERS)}


class Organizations:
    """Every firm's departments and offerings, and the monthly behaviour of all of them."""

    def __init__(self, params: ModelParams, n_segments: int) -> None:
        self.params = params
        s, d = n_segments, params.dimensions
        # firm rows (a failed firm keeps its row, marked dead)
        self.levers = np.zeros((0, len(LEVERS)))
        self.disruption = np.zeros(0)
        self.offering = np.zeros((0, s, d))
        # The silos' objectives, [habit, roadmap] x firm (see SILO_KINDS): one array, so that
        # both follow the offering in one operation.
        self.silos = np.zeros((len(SILO_KINDS), 0, s, d))
        self.ceiling = np.zeros(0)       # an entrant's technology ceiling on performance
        self.improvement = np.zeros(0)   # ... and how fast it rises (to TECHNOLOGY_FRONTIER)
        self.capped = False              # whether any firm has a ceiling (incumbents: none)
        self.alive = np.zeros(0, dtype=bool)
        self.change = np.zeros(0)
        self.price = np.zeros(0)         # what each firm charges a customer a month
        self.unit_cost = np.zeros(0)     # what serving a customer for a month costs it
        self.answering = np.zeros(0, dtype=bool)  # whether its low-cost programme runs
        self.first_row = np.zeros(0, dtype=np.int64)   # a firm's first department row (-1: none)
        self.firm_links: list[np.ndarray] = []
        # department rows (living firms' only)
        self.firm_of = np.zeros(0, dtype=np.int64)
        self.facing = np.zeros(0, dtype=bool)
        self.external = np.zeros(0, dtype=bool)
        self.silo_kind = np.zeros(0, dtype=np.int64)
        self.owns = np.zeros((0, params.dimensions), dtype=bool)  # internal rights over parts
        self.budget = np.zeros(0, dtype=bool)  # internal rights over price and cost
        self.favours = np.zeros(0)       # whether its silo favours a cheaper offer (0/1)
        self.alarm = np.zeros(0)         # how clearly it has heard of a disruptor, in [0, 1]
        self.partner = component_partners(params.dimensions)
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
    def habit(self) -> np.ndarray:
        """(F, S, D) the offering as each firm has been making it (a view)."""
        return self.silos[SILO_KINDS.index("habit")]

    @property
    def roadmap(self) -> np.ndarray:
        """(F, S, D) R&D's technology roadmap of each firm (a view)."""
        return self.silos[SILO_KINDS.index("roadmap")]

    @property
    def n_firms(self) -> int:
        """Number of firms ever added (dead ones included: firm rows are never reused)."""
        return self.levers.shape[0]

    def row(self, firm: int, department: int) -> int:
        """The table row of a living firm's ``department``-th department."""
        return int(self.first_row[firm]) + department

    def add_firm(self, levers: Mapping[str, float], roles: Sequence[str], links: np.ndarray,
                 offering: np.ndarray, beliefs: np.ndarray, ceiling: float = np.inf,
                 improvement: float = 0.0, price: float = 1.0, unit_cost: float = 0.0) -> int:
        """Add a firm and its departments; returns its firm row."""
        f, first = self.n_firms, self.firm_of.size
        n = len(roles)
        self.levers = np.vstack([self.levers, [[levers[k] for k in LEVERS]]])
        self.disruption = np.append(self.disruption, 0.0)
        self.offering = np.concatenate([self.offering, offering[None]])
        self.silos = np.concatenate(
            [self.silos, np.repeat(offering[None, None], len(SILO_KINDS), axis=0)], axis=1)
        self.ceiling = np.append(self.ceiling, ceiling)
        self.capped = bool(np.isfinite(self.ceiling).any())
        self.improvement = np.append(self.improvement, improvement)
        self.alive = np.append(self.alive, True)
        self.change = np.append(self.change, 0.0)
        self.price = np.append(self.price, price)
        self.unit_cost = np.append(self.unit_cost, unit_cost)
        self.answering = np.append(self.answering, False)
        self.first_row = np.append(self.first_row, first)
        self.firm_links.append(np.asarray(links, dtype=float))
        self.firm_of = np.append(self.firm_of, np.full(n, f))
        self.facing = np.append(self.facing, [r in CUSTOMER_FACING for r in roles])
        self.external = np.append(self.external, [r in EXTERNAL for r in roles])
        self.silo_kind = np.append(self.silo_kind,
                                   [SILO_KINDS.index(SILO_OBJECTIVE[r]) for r in roles])
        self.owns = np.vstack([self.owns, internal_owners(tuple(roles), self.params.dimensions)])
        self.budget = np.append(self.budget, budget_owners(tuple(roles)))
        self.favours = np.append(self.favours, [float(r in FAVOURS_ANSWER) for r in roles])
        self.alarm = np.append(self.alarm, np.zeros(n))
        fresh = np.concatenate([beliefs, np.zeros_like(beliefs)], axis=-1)
        self.knowledge = np.concatenate([self.knowledge, np.repeat(fresh[None], n, axis=0)])
        self.freshness = np.vstack([self.freshness, np.zeros((n, beliefs.shape[0]))])
        self._dirty = True
        return f

    def set_links(self, firm: int, links: np.ndarray) -> None:
        """Give a firm new links between its departments (a reorganization under way)."""
        self.firm_links[firm] = links
        self._dirty = True

    def set_levers(self, firm: int, levers: Sequence[float], disruption: float) -> None:
        """Give a firm new lever values and a disruption level (a reorganization under way)."""
        self.levers[firm] = levers
        self.disruption[firm] = disruption
        self._dirty = True

    def kill(self, firm: int) -> None:
        """A firm fails: it stops sensing, deciding and moving for good; its rows go."""
        self.alive[firm] = False
        keep = self.firm_of != firm
        gone = int((~keep).sum())
        self.answering[firm] = False
        for name in ("firm_of", "facing", "external", "silo_kind", "knowledge", "freshness",
                     "owns", "budget", "favours", "alarm"):
            setattr(self, name, getattr(self, name)[keep])
        later = self.first_row > self.first_row[firm]
        self.first_row[later] -= gone
        self.first_row[firm] = -1
        self.firm_links[firm] = np.zeros((0, 0))
        self._dirty = True

    def _refresh(self) -> None:
        # Rebuild what depends on who belongs where: the block-diagonal links, the membership
        # matrix, and each department's group sizes. Only after an entry, a failure or a
        # reorganization step.
        k = self.firm_of.size
        self.links = np.zeros((k, k))
        for f in np.flatnonzero(self.alive):
            start, links = int(self.first_row[f]), self.firm_links[f]
            n = links.shape[0]
            self.links[start:start + n, start:start + n] = links
        self.member = np.zeros((self.n_firms, k))
        self.member[self.firm_of, np.arange(k)] = 1.0
        self.n_facing = (self.member @ self.facing)[self.firm_of]
        self._apply_levers()
        self._dirty = False

    def _apply_levers(self) -> None:
        # What each lever does, per firm (F,) or per department (K,), through the functions of
        # simulation.levers. Levers change only through add_firm, set_levers and kill, so this
        # runs after those, not every month.
        p, of = self.params, self.firm_of
        # Upkeep is paid on the levers the firm runs (or is moving to), not on what acts.
        self.upkeep_share = lv.upkeep(dict(zip(LEVERS, self.levers.T, strict=True)),
                                      p.lever_cost)                              # (F,)
        acting = lv.disrupted(self.levers, self.disruption)
        cap = lv.effective_capability(acting[:, _L["capability"]],
                                      acting[:, _L["connections"]], p.borrowed_capability)
        self.capability = cap                                                       # (F,)
        connections = acting[:, _L["connections"]]
        # A firm's customer contact is split among its customer-facing departments (so that
        # the firm as a whole hears as one of REFERENCE_FACING would): each hears with the
        # chance that makes the firm's chance of hearing a segment the reference one.
        self.ears = (REFERENCE_FACING / np.maximum(self.n_facing, 1))[:, None]      # (K, 1)
        reach = lv.capability_reach(cap)[of][:, None]
        self.reach_of = 1.0 - (1.0 - reach) ** self.ears                            # (K, 1)
        self.listening = self.facing[:, None]                                       # (K, 1)
        self.partnered = self.external                                              # (K,)
        self.signal_chance = lv.connections_signal_chance(connections)             # (F,)
        own = lv.capability_noise(p.sense_noise, cap)                               # (F,)
        self.own_noise = own[of][:, None]                                           # (K, 1)
        self.partner_noise = np.minimum(
            lv.connections_noise(p.sense_noise, connections)[of][:, None], self.own_noise)
        gain = lv.capability_gain(p.belief_gain, cap)                               # (F,)
        self.gain = gain[of][:, None, None]                                         # (K,1,1)
        self.trend_skill = lv.capability_trend_skill(cap)[of][:, None, None]       # (K,1,1)
        self.noise_scale = np.repeat([1.0, p.trend_noise], p.dimensions)            # (2D,)
        self.sharing = acting[:, _L["coordination"]][of]                            # (K,)
        # Each department's silo objective as a row of [habits; roadmaps] (one gather a month).
        self.silo_row = of + self.n_firms * (self.silo_kind == SILO_KINDS.index("roadmap"))
        self.horizon = lv.capability_horizon(p.anticipation_months, cap)[of][:, None, None]
        # Decision rights over each component (clout), and over price and cost (the
        # controller's budget: finance's rights, as over the channel's and service's budgets).
        clout = acting[:, _L["clout"]][of]
        self.rights = lv.clout_rights(clout, self.facing, self.owns, self.member) \
            if of.size else np.zeros((0, p.dimensions))                            # (K, D)
        self.price_rights = (lv.clout_rights(clout, self.facing, self.budget[:, None],
                                             self.member)[:, 0]
                             if of.size else np.zeros(0))                          # (K,)
        self.weights = self.rights.mean(axis=1)                                     # (K,)
        self.rights_by_part = self.rights[:, None, :]                               # (K,1,D)
        self.partner_rights = self.rights[:, self.partner][:, None, :]              # (K,1,D)
        self.cooperation = acting[:, _L["cooperation"]][:, None, None]              # (F,1,1)
        self.cooperation_of = acting[:, _L["cooperation"]][of]                      # (K,)
        self.dept_cooperation = self.cooperation_of[:, None, None]                  # (K,1,1)
        self.limit = lv.capability_step(p.max_change, cap)[:, None, None]          # (F,1,1)
        # How far a firm's belief is off through its own noise alone (signals it cannot help
        # hearing noisily, and needs' transient noise), and so the smallest gap worth a move.
        noise = lv.belief_noise(np.sqrt(own ** 2 + p.need_noise ** 2), gain)
        self.threshold = (lv.capability_filter(p.noise_filter, cap) * noise
                          * np.sqrt(p.dimensions))[:, None, None]                  # (F,1,1)
        self.execution = lv.capability_execution(p.execution_noise, cap)[:, None, None]
        self.moving = self.alive[:, None, None]                                     # (F,1,1)
        facing = self.member * self.facing
        self.facing_mean_of = facing / np.maximum(facing.sum(axis=1), 1.0)[:, None]  # (F, K)

    # --- the levers as applied this month ---------------------------------------------------
    def decision_weights(self) -> np.ndarray:
        """(K,) each department's weight in its firm's decisions (the clout lever)."""
        if self._dirty:
            self._refresh()
        return self.weights

    # --- a month's behaviour ---------------------------------------------------------------
    def sense(self, market: Market, last: Tally, rng: np.random.Generator) -> np.ndarray:
        """Departments project their beliefs, hear customers and partners.

        Returns (K, S): which departments heard which segments beyond the firm's own
        customers (by prospecting or through partners) this month: only there can a firm see
        the customers a competitor has won.

        A department first moves its belief along the trend it believes in, as far as its skill
        at reading trends goes; then a customer-facing department hears a segment more readily
        the more of its firm's revenue it brings (the biggest customers first), plus what its
        prospecting skill (capability) reaches; partners (connections) report on every active
        segment, served or not, to the departments that hold partnerships.
        """
        if self._dirty:
            self._refresh()
        d = self.params.dimensions
        knowledge = self.knowledge
        knowledge[..., :d] += self.trend_skill * knowledge[..., d:]
        mix = last.revenue_mix
        if mix.shape[0] < self.n_firms:  # a firm entered this month: no revenue yet
            mix = np.vstack([mix, np.zeros((self.n_firms - mix.shape[0], mix.shape[1]))])
        own = np.minimum(self.params.hear_current * mix, 1.0).take(self.firm_of, 0)  # (K, S)
        own = 1.0 - (1.0 - own) ** self.ears
        draws = rng.random((2, *own.shape))
        listening = self.listening & market.active
        heard = (draws[0] < own) & listening
        prospected = (draws[1] < self.reach_of) & listening
        reporting = rng.random(self.n_firms) < self.signal_chance
        told = (self.partnered & reporting[self.firm_of])[:, None] & market.active
        beyond = prospected | told
        seen = heard | beyond
        self.freshness *= FRESHNESS_DECAY
        if not seen.any():
            return beyond
        noise = np.where(told, self.partner_noise, self.own_noise)[:, :, None]
        truth = np.concatenate([market.needs, market.velocity], axis=1)        # (S, 2D)
        signal = truth + rng.normal(size=knowledge.shape) * noise * self.noise_scale
        surprise = signal - knowledge
        # A signal about the direction of change is only read as well as capability allows
        # (partners' reports count fully).
        surprise[..., d:] *= np.where(told, 1.0, self.trend_skill[:, :, 0])[:, :, None]
        knowledge += (self.gain * seen[:, :, None]) * surprise
        self.freshness[seen] = 1.0
        return beyond

    def share(self) -> None:
        """Beliefs spread along the structure's links (the coordination lever)."""
        if self._dirty:
            self._refresh()
        lv.coordination_share(self.sharing, self.links, self.freshness, self.knowledge)
        lv.relay_alarm(self.sharing, self.links, self.alarm)

    def raise_alarm(self, rows: np.ndarray) -> None:
        """Departments (table rows) that noticed a disruptor know of the threat from now on."""
        self.alarm[rows] = 1.0

    def answer(self) -> np.ndarray:
        """Firms whose departments back it run a low-cost programme; returns each one's spend.

        A programme runs while the departments holding a majority of the rights over price and
        cost back it (:func:`lv.answer_support`) and the firm's unit cost is above the floor;
        each month it lowers the unit cost as far as capability carries it out
        (:func:`lv.answer_cut`) and passes the saving on in the price (the price never falls
        below the unit cost). Returns (F,) this month's spend, as a share of fair-share
        revenue.
        """
        if self._dirty:
            self._refresh()
        p = self.params
        if not self.alarm.any():
            return np.zeros(self.n_firms)
        support = lv.answer_support(self.price_rights, self.alarm, self.cooperation_of,
                                    self.favours, self.member)
        self.answering = self.alive & (support >= 0.5) & (self.unit_cost > p.cost_floor + 1e-9)
        cut = lv.answer_cut(p.answer_rate, self.capability, self.unit_cost, p.cost_floor)
        cut = np.where(self.answering, cut, 0.0)
        self.unit_cost = self.unit_cost - cut
        self.price = np.maximum(self.price - cut, self.unit_cost)
        return np.where(self.answering, p.answer_spend, 0.0)

    def decide(self, market: Market, rng: np.random.Generator) -> None:
        """Departments propose, the rights holders decide, the partners' owners carry it out.

        1. Each department proposes a change of each component of the offering for each
           segment: toward what it believes customers need (anticipating the trend as far as
           capability allows) by its cooperation, toward its silo's objective (habit,
           roadmap) by the rest (:func:`lv.cooperation_proposal`).
        2. The firm decides each component by its departments' rights over it (clout:
           :func:`lv.clout_rights`), so proposals pointing in opposite directions cancel.
           The customer part of the decision is made only when the gap it answers is larger
           than the firm's own noise would explain (the capability filter) and never larger
           than capability allows; the silos' pull is routine and needs no capability.
        3. A component's change needs the work of the rights holders of its partner component
           (interdependence): it is carried out as far as they accept it, each by how much of
           it their own proposal covers (:func:`lv.acceptance`, :func:`lv.interdependent_move`).
           So departments that know (sensing, coordination) but hold no rights, or must rely
           on others who weigh their silo (cooperation), cannot move the offering: freeze-up.
        """
        if self._dirty:
            self._refresh()
        p = self.params
        offering = self.offering
        of, member = self.firm_of, self.member
        shape = offering.shape
        mine = offering.take(of, 0)                                                 # (K,S,D)
        to_customers = self.beliefs + self.horizon * self.trends - mine
        to_silo = self.silos.reshape(-1, *shape[1:]).take(self.silo_row, 0) - mine
        rights = self.rights_by_part

        def by_rights(values: np.ndarray, weight: np.ndarray) -> np.ndarray:
            flat = (weight * values).reshape(values.shape[0], offering[0].size)
            return (member @ flat).reshape(shape)

        customer_pull = by_rights(to_customers, rights)                             # (F,S,D)
        silo_pull = by_rights(to_silo, rights)
        # The filter looks at the gap the firm believes in, before cooperation weighs it.
        believed_gap = np.sqrt(np.add.reduce(customer_pull * customer_pull, axis=2,
                                             keepdims=True))
        worth = believed_gap > self.threshold                                       # (F,S,1)
        toward = self.cooperation * customer_pull * worth
        norm = np.sqrt(np.add.reduce(toward * toward, axis=2, keepdims=True))
        bound = np.minimum(1.0, self.limit / np.maximum(norm, 1e-12))
        decided = toward * bound + (1.0 - self.cooperation) * silo_pull
        # What each department would do of it: its own proposal, filtered and bounded alike.
        proposal = lv.cooperation_proposal(self.dept_cooperation,
                                           to_customers * (worth * bound).take(of, 0), to_silo)
        accepted = lv.acceptance(proposal, decided.take(of, 0))                     # (K,S,D)
        partners = by_rights(accepted, self.partner_rights)                         # (F,S,D)
        delta = lv.interdependent_move(decided, partners, p.interdependence)
        delta *= (1.0 + self.execution * rng.normal(size=delta.shape)) * self.moving
        new = offering + delta
        if self.disruption.any():
            slip = lv.transition_error(p.max_change, self.disruption)[:, None, None]
            new += slip * rng.normal(size=new.shape) * self.moving
        if self.capped:  # an entrant's technology limits its performance
            np.minimum(new[:, :, 0], self.ceiling[:, None], out=new[:, :, 0])
        self.change = np.add.reduce(np.abs(new - offering), axis=2) @ market.active_weights
        self.offering = new
        # Silos follow what the firm does, with a lag (inertia), and R&D pushes performance.
        follow = 1.0 / p.silo_lag
        self.silos += follow * (new - self.silos)
        self.silos[SILO_KINDS.index("roadmap"), :, :, 0] += p.roadmap_speed
        if self.capped:  # ... and rises toward the frontier; an incumbent has no ceiling
            self.ceiling = np.where(np.isfinite(self.ceiling), np.minimum(
                self.ceiling + self.improvement, TECHNOLOGY_FRONTIER), self.ceiling)

    def alignment(self, market: Market) -> np.ndarray:
        """(3, F) each firm's awareness gap, action gap and variety.

        The awareness gap is the mean, over the firm's customer-facing departments, of each
        one's distance between customers' persistent needs and its belief (the departments
        that meet customers; internal ones know customers only through them). The action gap
        is the distance between what those departments know (their mean belief) and what the
        firm offers; variety, between the segment offerings and the firm's core offering. All
        are importance-weighted distances averaged over the active market's segments.
        """
        if self._dirty:
            self._refresh()
        k = self.beliefs.shape[0]
        wrong = market.weighted_gap(market.ideal[None] - self.beliefs) @ market.active_weights
        awareness = self.facing_mean_of @ wrong                                    # (F,)
        known = (self.facing_mean_of @ self.beliefs.reshape(k, self.offering[0].size)).reshape(
            self.offering.shape)
        core = (market.active_weights @ self.offering)[:, None, :]
        spread = np.empty((2, *known.shape))
        np.subtract(known, self.offering, out=spread[0])
        np.subtract(self.offering, core, out=spread[1])
        action, variety = market.weighted_gap(spread) @ market.active_weights
        return np.stack([awareness, action, variety])

    def acted_belief(self) -> np.ndarray:
        """(F, S, D) the belief each firm acts on: its departments' beliefs by their rights."""
        if self._dirty:
            self._refresh()
        k = self.beliefs.shape[0]
        return (self.member @ (self.rights_by_part * self.beliefs).reshape(
            k, self.offering[0].size)).reshape(self.offering.shape)

    def upkeep(self) -> np.ndarray:
        """(F,) monthly lever upkeep, as a share of fair-share revenue (see :func:`lv.upkeep`)."""
        if self._dirty:
            self._refresh()
        return self.upkeep_share
