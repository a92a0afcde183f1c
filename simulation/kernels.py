"""The month compiled with numba, for studies: the same numbers, far fewer calls.

A month of the numpy model spends most of its time in the call overhead of a few dozen array
operations on arrays of a few dozen numbers. :class:`KernelModel` is
:class:`simulation.model.OrgModel` with the month's arithmetic compiled:

- the customers' choice and the month's tally (the logit pick, moving the (segment, supplier)
  counts, customers, shares, satisfaction, revenue, revenue mix): one call a month;
- the departments' sensing (two calls: who hears what, then what they learn), sharing along
  the links and the alarm's relay, deciding (proposals, rights, acceptance, the move, silos),
  and the alignment gaps the month's rows report: one call each.

The random numbers are drawn by numpy, with the very calls the numpy model makes, in the same
order, from the model's own Generator, and handed to the kernels as arrays (handing numba
the Generator itself costs more per call than a month's arithmetic); the market's drift and
the choice of who reconsiders (``Market._reconsidering``) are compiled the same way, summing
as numpy sums so that they are bit-identical, and so is the counting that turns away the
customers a young disruptor has no capacity for (``Market._enforce_capacity``; numpy still
draws whom, and months with a capacity-limited firm make a second call to settle and
tally). What stays numpy: shocks and events, detecting disruptors, the
low-cost answer, the firms' books and the month's rows.

The numpy model is the reference and the fallback: ``tests/test_kernels.py`` runs both on
20 seeds of the default market and 20 of a busy one and requires the same supplier for every
customer every month, and every other figure within 1e-9 relative. Only studies (sweeps,
compare, the pattern suite, through :func:`experiments.engine.runner.study_model`) import this
module, which imports numba. numba caches the compiled kernels on disk, keyed by this file's
source (any change to it recompiles all of them) and by numba's version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
import numpy as np

from simulation import levers as lv
from simulation.market import Market, Tally
from simulation.model import OrgModel
from simulation.organization import SILO_KINDS, TECHNOLOGY_FRONTIER, Organizations

_jit = numba.njit(cache=True, nogil=True)


@_jit
def _pick(idx: np.ndarray, seg: np.ndarray, current: np.ndarray, options: np.ndarray,
          noise: np.ndarray, needs: np.ndarray, offset: np.ndarray, offerings: np.ndarray,
          prices: np.ndarray, loyalty: np.ndarray, price_weight: np.ndarray,
          outside_option: float, fit_weights: np.ndarray) -> np.ndarray:
    # Market._logit_pick: utilities by segment and option, less the Gumbel noise (numpy's
    # log of standard exponentials, drawn as the numpy model draws them); the first
    # maximum wins.
    m, n_opt, d = idx.size, options.size, needs.shape[1]
    chosen = np.empty(m, dtype=np.int64)
    for i in range(m):
        s, c = seg[i], idx[i]
        best = -(price_weight[s] + outside_option) - noise[i, 0]
        pick = -1
        for o in range(n_opt):
            f = options[o]
            dist = 0.0
            for k in range(d):
                dist += abs(offerings[f, s, k] - (needs[s, k] + offset[c, k])) * fit_weights[s, k]
            u = -price_weight[s] * prices[f] - dist
            if current[i] == f:
                u += loyalty[f]
            v = u - noise[i, o + 1]
            if v > best:
                best, pick = v, f
        chosen[i] = pick
    return chosen


@_jit
def _settle(idx: np.ndarray, seg: np.ndarray, current: np.ndarray, chosen: np.ndarray,
            supplier: np.ndarray, counts: np.ndarray) -> None:
    # The choosers' new suppliers, and the (segment, supplier + 1) counts moved with them.
    for i in range(idx.size):
        supplier[idx[i]] = chosen[i]
        counts[seg[i], chosen[i] + 1] += 1
        counts[seg[i], current[i] + 1] -= 1


@_jit
def _tally(counts: np.ndarray, needs: np.ndarray, offerings: np.ndarray, prices: np.ndarray,
           weights: np.ndarray, value: np.ndarray, per_customer: np.ndarray, n_active: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float,
                      np.ndarray]:
    # Market.tally, figure for figure.
    n_firms, n_seg, d = offerings.shape
    customers = np.zeros(n_firms)
    satisfaction = np.zeros(n_firms)
    revenue = np.zeros(n_firms)
    segment_share = np.empty((n_seg, n_firms))
    mix = np.empty((n_firms, n_seg))
    served_all = 0.0
    for f in range(n_firms):
        spent = 0.0
        fitted = 0.0
        for s in range(n_seg):
            count = float(counts[s, f + 1])
            customers[f] += count
            gap = 0.0
            for k in range(d):
                gap += abs(needs[s, k] - offerings[f, s, k]) * weights[s, k]
            fitted += count * max(1.0 - gap, 0.0)
            mix[f, s] = count * value[s]
            spent += mix[f, s]
            segment_share[s, f] = count * per_customer[s]
        satisfaction[f] = fitted / max(customers[f], 1.0)
        revenue[f] = spent * prices[f]
        mix[f] /= max(spent, 1e-12)
        served_all += customers[f]
    share = customers / n_active
    return (customers, share, satisfaction, revenue, segment_share, 1.0 - served_all / n_active,
            mix)


@_jit
def _choose_month(idx: np.ndarray, noise: np.ndarray, segment: np.ndarray,
                  supplier: np.ndarray, counts: np.ndarray, needs: np.ndarray,
                  offset: np.ndarray, offerings: np.ndarray, prices: np.ndarray,
                  options: np.ndarray, loyalty: np.ndarray, price_weight: np.ndarray,
                  outside_option: float, fit_weights: np.ndarray, weights: np.ndarray,
                  value: np.ndarray, per_customer: np.ndarray, n_active: int, limited: bool
                  ) -> tuple[Any, ...]:
    # Market.choose after the draws, and Market.tally: what each chooser picks, then (unless
    # a firm's capacity is limited: numpy turns customers away first) the counts moved and
    # the month tallied, in one call.
    seg = segment[idx]
    current = supplier[idx]
    if options.size == 0:
        chosen = np.full(idx.size, -1, dtype=np.int64)
    else:
        chosen = _pick(idx, seg, current, options, noise, needs, offset, offerings, prices,
                       loyalty, price_weight, outside_option, fit_weights)
    if limited:
        return False, seg, current, chosen, _tally(counts, needs, offerings, prices, weights,
                                                   value, per_customer, n_active)
    _settle(idx, seg, current, chosen, supplier, counts)
    return True, seg, current, chosen, _tally(counts, needs, offerings, prices, weights, value,
                                              per_customer, n_active)


@_jit
def _unit_row(x: np.ndarray, out: np.ndarray) -> None:
    # market._unit_rows for one row, summing the squares as numpy's add.reduce does (a
    # plain loop under 8 terms, eight running sums from 8 on), so the result is bit-identical.
    d = x.size
    if d < 8:
        total = 0.0
        for k in range(d):
            total += x[k] * x[k]
    else:
        r = np.empty(8)
        for j in range(8):
            r[j] = x[j] * x[j]
        top = d - d % 8
        for i in range(8, top, 8):
            for j in range(8):
                r[j] += x[i + j] * x[i + j]
        total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for i in range(top, d):
            total += x[i] * x[i]
    norm = np.sqrt(total) + 1e-12
    for k in range(d):
        out[k] = x[k] / norm


@_jit
def _drift(direction: np.ndarray, ideal: np.ndarray, fresh: np.ndarray, momentum: float,
           turn: float, turbulence: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # Market.drift's trend: the new direction, velocity and ideal points.
    n_seg, d = ideal.shape
    heading, velocity, moved = np.empty_like(ideal), np.empty_like(ideal), np.empty_like(ideal)
    unit, mixed = np.empty(d), np.empty(d)
    for s in range(n_seg):
        _unit_row(fresh[s], unit)
        for k in range(d):
            mixed[k] = momentum * direction[s, k] + turn * unit[k]
        _unit_row(mixed, heading[s])
        for k in range(d):
            velocity[s, k] = turbulence * heading[s, k]
            moved[s, k] = ideal[s, k] + velocity[s, k]
    return heading, velocity, moved


@_jit
def _first_past(positions: np.ndarray, n: int) -> int:
    # The gaps turned into customer numbers in place (their running sum, less one) up to the
    # first at or past ``n``: how many fall below it, or -1 if none does (more gaps needed).
    total = -1
    for i in range(positions.size):
        total += positions[i]
        positions[i] = total
        if total >= n:
            return i
    return -1


@_jit
def _who_choose(idx: np.ndarray, must: np.ndarray, any_must: bool, active: np.ndarray,
                all_active: bool) -> np.ndarray:
    # Market._reconsidering after the draws: the reconsidering customers joined by those who
    # must choose (numbers in order, once each), then only customers of active segments.
    if any_must:
        for c in idx:
            must[c] = True
        idx = np.flatnonzero(must)
        must[:] = False
    if all_active:
        return idx
    keep = np.empty(idx.size, dtype=np.bool_)
    for i in range(idx.size):
        keep[i] = active[idx[i]]
    return idx[keep]


@_jit
def _kept(counts: np.ndarray, previous: np.ndarray, limited: np.ndarray) -> np.ndarray:
    # Each limited firm's customers who did not choose this month (the counts are last
    # month's).
    kept = np.zeros(limited.size, dtype=np.int64)
    for j in range(limited.size):
        f = limited[j]
        for s in range(counts.shape[0]):
            kept[j] += counts[s, f + 1]
        for i in range(previous.size):
            if previous[i] == f:
                kept[j] -= 1
    return kept


@_jit
def _next_over(chosen: np.ndarray, previous: np.ndarray, limited: np.ndarray,
               kept: np.ndarray, capacity: np.ndarray, start: int
               ) -> tuple[int, int, np.ndarray]:
    # From the ``start``-th limited firm on, the first over its capacity with customers who
    # joined it this month: (its position, by how many, those customers); (-1, 0, none) if
    # none is.
    for j in range(start, limited.size):
        f = limited[j]
        wanting = 0
        for i in range(chosen.size):
            if chosen[i] == f:
                wanting += 1
        excess = kept[j] + wanting - int(capacity[f])
        if excess <= 0:
            continue
        joined = np.flatnonzero((chosen == f) & (previous != f))
        if joined.size:
            return j, excess, joined
    return -1, 0, np.empty(0, dtype=np.int64)


class KernelMarket(Market):
    """:class:`Market` whose drift, choice of who reconsiders and capacity check are compiled."""

    def _trend(self, fresh: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # As Market._trend, in one compiled call.
        p = self.params
        return _drift(self.direction, self.ideal, fresh, float(p.momentum),
                      float(np.sqrt(1.0 - p.momentum ** 2)), float(p.turbulence))

    def _enforce_capacity(self, rng: np.random.Generator, previous: np.ndarray,
                          chosen: np.ndarray, capacity: np.ndarray) -> None:
        # As Market._enforce_capacity: the counting compiled, numpy's draws in the same order.
        if float(capacity.min()) >= self.segment.size:
            return
        limited = np.flatnonzero(capacity < self.segment.size)
        kept = _kept(self.counts, previous, limited)
        turning = True
        while turning:
            turning, j = False, 0
            while True:
                j, excess, joined = _next_over(chosen, previous, limited, kept, capacity, j)
                if j < 0:
                    break
                turned_away = rng.choice(joined, size=min(excess, joined.size), replace=False)
                chosen[turned_away] = previous[turned_away]
                turning, j = True, j + 1

    def _passed(self, positions: np.ndarray, n: int) -> int:
        # As Market._passed, compiled (stopping at the first number past ``n``).
        return int(_first_past(positions, n))

    def _with_those_who_must(self, idx: np.ndarray) -> np.ndarray:
        # As Market._with_those_who_must, compiled.
        chosen = _who_choose(idx, self.must_choose, self.any_must_choose,
                             self.active_customer, self.all_active)
        self.any_must_choose = False
        return chosen


def _month(rng: Any, market: Any, offerings: np.ndarray, prices: np.ndarray,
           available: np.ndarray, capacity: np.ndarray, loyalty: np.ndarray) -> Tally:
    """``Market.choose`` then ``Market.tally``: numpy's draws, then one compiled call."""
    p = market.params
    idx = market._reconsidering(rng)  # the reference's own draws (geometric gaps)
    n_firms = offerings.shape[0]
    market._widen(n_firms)
    if idx.size == 0 or n_firms == 0:
        return market.tally(offerings, prices)
    options = available.nonzero()[0]
    if options.size:  # Gumbel noise, as logit_choice draws it
        noise = rng.standard_exponential(size=(idx.size, options.size + 1))
        np.log(noise, out=noise)
    else:
        noise = np.empty((0, 0))
    limited = bool(float(capacity.min()) < market.segment.size)
    settled, seg, current, chosen, tally = _choose_month(
        idx, noise, market.segment, market.supplier, market.counts, market.needs,
        market.offset, offerings, prices, options, loyalty, market.price_weight,
        float(p.outside_option), market.fit_weights, market.weights, market.value,
        market.per_customer, market.n_active, limited)
    if settled:
        return Tally(*tally)
    market._enforce_capacity(rng, current, chosen, capacity)
    _settle(idx, seg, current, chosen, market.supplier, market.counts)
    return Tally(*_tally(market.counts, market.needs, offerings, prices, market.weights,
                         market.value, market.per_customer, market.n_active))


# --- the organizations' month (Organizations.sense, share, decide, alignment) -------------
@_jit
def _hear(knowledge: np.ndarray, freshness: np.ndarray, draws: np.ndarray,
          reporting_draws: np.ndarray, mix: np.ndarray, firm_of: np.ndarray,
          hear_current: float, ears: np.ndarray, reach_of: np.ndarray, facing: np.ndarray,
          partnered: np.ndarray, signal_chance: np.ndarray, active: np.ndarray,
          trend_skill: np.ndarray) -> tuple[bool, np.ndarray, np.ndarray, np.ndarray]:
    # Organizations.sense up to the signals: beliefs projected along their trend, who hears
    # what; returns (anything heard, beyond, told, seen).
    k_n, s_n, x_n = knowledge.shape
    d = x_n // 2
    for k in range(k_n):
        for s in range(s_n):
            for j in range(d):
                knowledge[k, s, j] += trend_skill[k, 0, 0] * knowledge[k, s, d + j]
    beyond = np.zeros((k_n, s_n), dtype=np.bool_)
    told = np.zeros((k_n, s_n), dtype=np.bool_)
    seen = np.zeros((k_n, s_n), dtype=np.bool_)
    anything = False
    for k in range(k_n):
        f = firm_of[k]
        reporting = reporting_draws[f] < signal_chance[f]
        for s in range(s_n):
            own = 0.0
            if f < mix.shape[0]:  # a firm that entered this month has no revenue yet
                own = min(hear_current * mix[f, s], 1.0)
            own = 1.0 - (1.0 - own) ** ears[k, 0]
            listening = facing[k] and active[s]
            heard = draws[0, k, s] < own and listening
            prospected = draws[1, k, s] < reach_of[k, 0] and listening
            told[k, s] = partnered[k] and reporting and active[s]
            beyond[k, s] = prospected or told[k, s]
            seen[k, s] = heard or beyond[k, s]
            anything = anything or seen[k, s]
            freshness[k, s] *= 0.9
    return anything, beyond, told, seen


@_jit
def _learn(knowledge: np.ndarray, freshness: np.ndarray, normal: np.ndarray,
           told: np.ndarray, seen: np.ndarray, partner_noise: np.ndarray,
           own_noise: np.ndarray, noise_scale: np.ndarray, gain: np.ndarray,
           trend_skill: np.ndarray, needs: np.ndarray, velocity: np.ndarray) -> None:
    # Organizations.sense from the signals on: what was heard moves the beliefs.
    k_n, s_n, x_n = knowledge.shape
    d = x_n // 2
    for k in range(k_n):
        for s in range(s_n):
            noise = partner_noise[k, 0] if told[k, s] else own_noise[k, 0]
            skill = 1.0 if told[k, s] else trend_skill[k, 0, 0]
            g = gain[k, 0, 0] * seen[k, s]
            for x in range(x_n):
                truth = needs[s, x] if x < d else velocity[s, x - d]
                signal = truth + normal[k, s, x] * noise * noise_scale[x]
                surprise = signal - knowledge[k, s, x]
                if x >= d:
                    surprise *= skill
                knowledge[k, s, x] += g * surprise
            if seen[k, s]:
                freshness[k, s] = 1.0


@_jit
def _share(rate: np.ndarray, links: np.ndarray, freshness: np.ndarray, knowledge: np.ndarray,
           alarm: np.ndarray) -> None:
    # levers.coordination_share, then levers.relay_alarm (both in place).
    n, s_n, x_n = knowledge.shape
    if n > 0 and rate.any():
        total = np.zeros((n, s_n))
        heard = np.zeros((n, s_n, x_n))
        relayed = np.zeros((n, s_n))
        for i in range(n):
            for j in range(n):
                w = links[i, j]
                if w == 0.0:
                    continue
                for s in range(s_n):
                    fresh = freshness[j, s]
                    total[i, s] += w * fresh
                    relayed[i, s] = max(relayed[i, s], w * fresh)
                    for x in range(x_n):
                        heard[i, s, x] += w * (fresh * knowledge[j, s, x])
        for i in range(n):
            for s in range(s_n):
                step = rate[i] / (total[i, s] + freshness[i, s] + 1e-12)
                for x in range(x_n):
                    knowledge[i, s, x] += step * (heard[i, s, x] - total[i, s] * knowledge[i, s, x])
        for i in range(n):
            for s in range(s_n):
                freshness[i, s] = max(freshness[i, s], 0.9 * rate[i] * relayed[i, s])
    if alarm.size == 0 or not alarm.any():
        return
    relay = np.zeros(n)
    for i in range(n):
        for j in range(n):
            relay[i] = max(relay[i], links[i, j] * alarm[j])
    for i in range(n):
        alarm[i] = max(alarm[i], 0.9 * rate[i] * relay[i])


@_jit
def _decide(execution_draws: np.ndarray, slip_draws: np.ndarray, offering: np.ndarray,
            silos: np.ndarray, knowledge: np.ndarray,
            firm_of: np.ndarray, silo_row: np.ndarray, horizon: np.ndarray, rights: np.ndarray,
            partner_rights: np.ndarray, threshold: np.ndarray, cooperation: np.ndarray,
            dept_cooperation: np.ndarray, limit: np.ndarray, interdependence: float,
            execution: np.ndarray, moving: np.ndarray, disruption: np.ndarray,
            max_change: float, capped: bool, ceiling: np.ndarray, active_weights: np.ndarray,
            follow: float, roadmap: int, roadmap_speed: float) -> tuple[np.ndarray, np.ndarray]:
    # Organizations.decide after its draws (numpy's); returns (new offering, change).
    f_n, s_n, d = offering.shape
    k_n = firm_of.size
    to_customers = np.empty((k_n, s_n, d))
    to_silo = np.empty((k_n, s_n, d))
    customer_pull = np.zeros((f_n, s_n, d))
    silo_pull = np.zeros((f_n, s_n, d))
    for k in range(k_n):
        f, row = firm_of[k], silo_row[k]
        silo, part = row // f_n, row % f_n
        for s in range(s_n):
            for j in range(d):
                mine = offering[f, s, j]
                to_customers[k, s, j] = (knowledge[k, s, j] + horizon[k, 0, 0]
                                         * knowledge[k, s, d + j] - mine)
                to_silo[k, s, j] = silos[silo, part, s, j] - mine
                customer_pull[f, s, j] += rights[k, 0, j] * to_customers[k, s, j]
                silo_pull[f, s, j] += rights[k, 0, j] * to_silo[k, s, j]
    decided = np.empty((f_n, s_n, d))
    scale = np.empty((f_n, s_n))  # worth * bound
    for f in range(f_n):
        coop = cooperation[f, 0, 0]
        for s in range(s_n):
            gap = 0.0
            for j in range(d):
                gap += customer_pull[f, s, j] * customer_pull[f, s, j]
            worth = 1.0 if np.sqrt(gap) > threshold[f, 0, 0] else 0.0
            norm = 0.0
            for j in range(d):
                toward = coop * customer_pull[f, s, j] * worth
                norm += toward * toward
            bound = min(1.0, limit[f, 0, 0] / max(np.sqrt(norm), 1e-12))
            scale[f, s] = worth * bound
            for j in range(d):
                toward = coop * customer_pull[f, s, j] * worth
                decided[f, s, j] = toward * bound + (1.0 - coop) * silo_pull[f, s, j]
    partners = np.zeros((f_n, s_n, d))
    accepted = np.empty(d)
    for k in range(k_n):
        f = firm_of[k]
        c = dept_cooperation[k, 0, 0]
        for s in range(s_n):
            for j in range(d):
                proposal = c * (to_customers[k, s, j] * scale[f, s]) + (1.0 - c) * to_silo[k, s, j]
                dec = decided[f, s, j]
                ratio = proposal / dec if abs(dec) > 1e-12 else 1.0
                accepted[j] = min(max(ratio, 0.0), 1.0)
            for j in range(d):
                partners[f, s, j] += partner_rights[k, 0, j] * accepted[j]
    new = np.empty((f_n, s_n, d))
    for f in range(f_n):
        for s in range(s_n):
            for j in range(d):
                delta = decided[f, s, j] * (1.0 - interdependence
                                            + interdependence * partners[f, s, j])
                delta *= (1.0 + execution[f, 0, 0] * execution_draws[f, s, j]) * moving[f, 0, 0]
                new[f, s, j] = offering[f, s, j] + delta
    if disruption.any():
        for f in range(f_n):
            slip = max_change * disruption[f]
            for s in range(s_n):
                for j in range(d):
                    new[f, s, j] += slip * slip_draws[f, s, j] * moving[f, 0, 0]
    if capped:
        for f in range(f_n):
            for s in range(s_n):
                new[f, s, 0] = min(new[f, s, 0], ceiling[f])
    change = np.zeros(f_n)
    for f in range(f_n):
        for s in range(s_n):
            moved = 0.0
            for j in range(d):
                moved += abs(new[f, s, j] - offering[f, s, j])
            change[f] += moved * active_weights[s]
    for h in range(silos.shape[0]):
        for f in range(f_n):
            for s in range(s_n):
                for j in range(d):
                    silos[h, f, s, j] += follow * (new[f, s, j] - silos[h, f, s, j])
    for f in range(f_n):
        for s in range(s_n):
            silos[roadmap, f, s, 0] += roadmap_speed
    return new, change


@_jit
def _alignment(knowledge: np.ndarray, offering: np.ndarray, facing_mean_of: np.ndarray,
               ideal: np.ndarray, weights: np.ndarray, active_weights: np.ndarray
               ) -> np.ndarray:
    # Organizations.alignment: (3, F) awareness gap, action gap, variety.
    k_n, s_n, x_n = knowledge.shape
    f_n, _, d = offering.shape
    out = np.zeros((3, f_n))
    wrong = np.zeros(k_n)
    for k in range(k_n):
        for s in range(s_n):
            gap = 0.0
            for j in range(d):
                gap += abs(ideal[s, j] - knowledge[k, s, j]) * weights[s, j]
            wrong[k] += gap * active_weights[s]
    for f in range(f_n):
        core = np.zeros(d)
        for s in range(s_n):
            for j in range(d):
                core[j] += active_weights[s] * offering[f, s, j]
        for k in range(k_n):
            out[0, f] += facing_mean_of[f, k] * wrong[k]
        for s in range(s_n):
            action = 0.0
            variety = 0.0
            for j in range(d):
                known = 0.0
                for k in range(k_n):
                    known += facing_mean_of[f, k] * knowledge[k, s, j]
                action += abs(known - offering[f, s, j]) * weights[s, j]
                variety += abs(offering[f, s, j] - core[j]) * weights[s, j]
            out[1, f] += action * active_weights[s]
            out[2, f] += variety * active_weights[s]
    return out


class KernelOrganizations(Organizations):
    """:class:`Organizations` whose month (sense, share, decide, alignment) is compiled."""

    def _apply_levers(self) -> None:
        # The same arrays, laid out contiguously (a lever's column is a strided view): numba
        # compiles a kernel once per layout, and one layout keeps every run on the kernels
        # compiled once (none compiled in the middle of a study).
        super()._apply_levers()
        for name in ("signal_chance", "cooperation", "partner_rights", "rights_by_part",
                     "dept_cooperation", "ears", "reach_of", "own_noise", "partner_noise"):
            setattr(self, name, np.ascontiguousarray(getattr(self, name)))

    def sense(self, market: Market, last: Tally, rng: np.random.Generator) -> np.ndarray:
        """As :meth:`Organizations.sense`: numpy's draws, two compiled calls."""
        if self._dirty:
            self._refresh()
        k, n_seg = self.freshness.shape
        draws = rng.random((2, k, n_seg))
        reporting = rng.random(self.n_firms)
        anything, beyond, told, seen = _hear(
            self.knowledge, self.freshness, draws, reporting,
            np.ascontiguousarray(last.revenue_mix), self.firm_of,
            float(self.params.hear_current), self.ears, self.reach_of, self.facing,
            self.partnered, self.signal_chance, market.active, self.trend_skill)
        if anything:
            _learn(self.knowledge, self.freshness, rng.normal(size=self.knowledge.shape), told,
                   seen, self.partner_noise, self.own_noise, self.noise_scale, self.gain,
                   self.trend_skill, market.needs, market.velocity)
        return beyond

    def share(self) -> None:
        """As :meth:`Organizations.share`, in one compiled call."""
        if self._dirty:
            self._refresh()
        _share(self.sharing, self.links, self.freshness, self.knowledge, self.alarm)

    def decide(self, market: Market, rng: np.random.Generator) -> None:
        """As :meth:`Organizations.decide`: numpy's draws, one compiled call."""
        if self._dirty:
            self._refresh()
        p = self.params
        shape = self.offering.shape
        execution = rng.normal(size=shape)
        slips = rng.normal(size=shape) if self.disruption.any() else np.empty((0, 0, 0))
        self.offering, self.change = _decide(
            execution, slips, self.offering, self.silos, self.knowledge, self.firm_of,
            self.silo_row, self.horizon, self.rights_by_part, self.partner_rights,
            self.threshold, self.cooperation, self.dept_cooperation, self.limit,
            float(p.interdependence), self.execution, self.moving, self.disruption,
            float(p.max_change), self.capped, self.ceiling, market.active_weights,
            1.0 / p.silo_lag, SILO_KINDS.index("roadmap"), float(p.roadmap_speed))
        if self.capped:  # ... and rises toward the frontier; an incumbent has no ceiling
            self.ceiling = np.where(np.isfinite(self.ceiling), np.minimum(
                self.ceiling + self.improvement, TECHNOLOGY_FRONTIER), self.ceiling)

    def alignment(self, market: Market) -> np.ndarray:
        """As :meth:`Organizations.alignment`, in one compiled call."""
        if self._dirty:
            self._refresh()
        return _alignment(self.knowledge, self.offering, self.facing_mean_of, market.ideal,
                          market.weights, market.active_weights)


class KernelModel(OrgModel):
    """:class:`OrgModel` whose customers choose, and whose market tallies, in compiled code.

    The same model, the same random numbers in the same order (see the module's doc).
    """

    organizations = KernelOrganizations
    markets = KernelMarket

    def _choose(self) -> None:
        offerings, prices = self.org.offering, self._prices()
        capacity = np.array([f.capacity if f.alive else np.inf for f in self.firms])
        loyalty = lv.transition_loyalty(self.params.loyalty, self.org.disruption)
        self._tally = _month(self.rng, self.market, offerings, prices, self.org.alive,
                             capacity, np.asarray(loyalty, dtype=float))


KERNELS: tuple[Any, ...] = (_pick, _settle, _tally, _choose_month, _unit_row, _drift,
                            _first_past, _who_choose, _kept, _next_over, _hear, _learn,
                            _share, _decide, _alignment)
"""Every compiled function (what :func:`cached` checks)."""


def cached() -> bool:
    """Whether numba's on-disk cache holds every kernel for this source and this numba."""
    try:
        # A kernel's index is empty when it is missing or was written for another source.
        return all(bool(k._cache._cache_file._load_index()) for k in KERNELS)
    except Exception:  # noqa: BLE001 - numba's internals moved: say "compiling", then load
        return False


def warm(progress: Callable[[str], object] | None = None) -> None:
    """Load the kernels (compiling them once, into numba's cache, on first use).

    ``progress`` is told once, before a compile, that one is under way.
    """
    if progress is not None and not cached():
        progress("Compiling the model's kernels once (numba; cached for later runs)...")
    # every path of a month (one firm and several, disruptors, failures, shocks, a new
    # segment, a reorganization), so that no study compiles in the middle of its runs
    KernelModel(rng=0, customers=200, rivals=0).run(3)
    KernelModel(rng=0, customers=200, switch_rate=1.0, entrant_steps=(1,)).run(3)
    KernelModel(rng=0, customers=300, rivals=2, entrant_rate=0.2, shock_rate=0.1,
                new_segment_steps=(2,), reorganize_step=2, starting_cash=0.5).run(24)
