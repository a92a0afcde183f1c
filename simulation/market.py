"""The market: segments whose needs move, and customers who choose suppliers by a logit.

Customers are numpy arrays, not agents: thousands of them do the same simple thing each month,
so they are vectorised (one row per customer). Segments carry the needs; a customer scatters
around its segment's ideal point. Market share is never set: it is the count of customers who
chose a firm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.params import ModelParams, SegmentSpec

CUSTOMER_SPREAD = 0.08
"""Standard deviation of a customer's needs around its segment's ideal point."""

DIMENSION_NAMES: tuple[str, ...] = ("performance", "reliability", "convenience", "service")

_TEMPLATES: tuple[SegmentSpec, ...] = (
    SegmentSpec("premium", 0.30, 1.3, (0.85, 0.70, 0.40, 0.60), (0.40, 0.25, 0.10, 0.25), 0.6),
    SegmentSpec("mainstream", 0.45, 1.0, (0.60, 0.60, 0.50, 0.50), (0.25, 0.25, 0.25, 0.25)),
    SegmentSpec("value", 0.25, 0.7, (0.35, 0.50, 0.70, 0.30), (0.10, 0.20, 0.50, 0.20), 1.6),
    SegmentSpec("on-the-go", 0.25, 0.9, (0.30, 0.40, 0.90, 0.80), (0.10, 0.10, 0.40, 0.40), 1.0,
                emerging=True),
)


def default_segments(params: ModelParams, rng: np.random.Generator) -> tuple[SegmentSpec, ...]:
    """The default market: premium, mainstream and value segments, and an emerging one.

    Extra segments or attributes beyond the templates are drawn from ``rng`` so that every
    ``segments``/``emerging_segments``/``dimensions`` setting is a legal market.
    """
    d = params.dimensions
    established = [t for t in _TEMPLATES if not t.emerging]
    emerging = [t for t in _TEMPLATES if t.emerging]

    def fit(spec: SegmentSpec, name: str, is_emerging: bool) -> SegmentSpec:
        ideal = list(spec.ideal[:d]) + list(rng.uniform(0.3, 0.7, max(0, d - 4)))
        weights = list(spec.weights[:d]) + [0.25] * max(0, d - 4)
        return SegmentSpec(name, spec.share, spec.value, tuple(float(x) for x in ideal),
                           tuple(float(w) for w in weights), spec.price_sensitivity,
                           is_emerging)

    def drawn(i: int, is_emerging: bool) -> SegmentSpec:
        base = SegmentSpec("", 0.25, float(rng.uniform(0.7, 1.3)),
                           tuple(rng.uniform(0.2, 0.8, 4)), tuple(rng.dirichlet(np.ones(4))),
                           float(rng.uniform(0.6, 1.6)))
        kind = "emerging" if is_emerging else "segment"
        return fit(base, f"{kind}-{i + 1}", is_emerging)

    specs = [fit(established[i], established[i].name, False) if i < len(established)
             else drawn(i, False) for i in range(params.segments)]
    specs += [fit(emerging[i], emerging[i].name, True) if i < len(emerging) else drawn(i, True)
              for i in range(params.emerging_segments)]
    return tuple(specs)


def _unit_rows(x: np.ndarray) -> np.ndarray:
    """Each row scaled to length one (a direction in the need space)."""
    return x / (np.sqrt(np.add.reduce(x * x, axis=-1, keepdims=True)) + 1e-12)


def weighted_distance(positions: np.ndarray, offers: np.ndarray,
                      weights: np.ndarray) -> np.ndarray:
    """Importance-weighted L1 distance between needs and offers.

    Args:
        positions: (m, D) customers' needs.
        offers: (F, m, D) each firm's offering for each customer's segment.
        weights: (m, D) importance weights (rows sum to 1), so a distance lies in [0, 1].

    Returns:
        (m, F) distances.

    """
    gap = offers - positions[None, :, :]
    return np.einsum("fmd,md->mf", np.abs(gap, out=gap), weights)


def logit_choice(utilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw each row's choice with multinomial-logit probabilities.

    Adding independent standard Gumbel noise and taking the maximum draws exactly from the
    logit probabilities (McFadden 1974), with no exponentials to overflow however far apart
    the utilities are; the noise is drawn as ``-log`` of a standard exponential, which is
    Gumbel and cheaper than numpy's own Gumbel sampler. Options with utility ``-inf`` are
    never chosen.
    """
    noise = rng.standard_exponential(size=utilities.shape)
    np.log(noise, out=noise)
    return np.argmax(np.subtract(utilities, noise, out=noise), axis=1)


@dataclass
class Tally:
    """What the market did this month, per firm (index = firm number)."""

    customers: np.ndarray      # (F,) customers served
    share: np.ndarray          # (F,) share of active customers
    satisfaction: np.ndarray   # (F,) mean fit of the firm's customers, in [0, 1]
    revenue: np.ndarray        # (F,) money received
    segment_share: np.ndarray  # (S, F) share of each segment's customers
    no_purchase: float         # share of active customers who buy from nobody
    revenue_mix: np.ndarray    # (F, S) share of each firm's revenue that each segment brings

    def segment_share_of(self, firm: int) -> np.ndarray:
        """(S,) a firm's share of each segment (zeros for a firm that entered since)."""
        if firm >= self.segment_share.shape[1]:
            return np.zeros(self.segment_share.shape[0])
        return self.segment_share[:, firm]


class Market:
    """Segments, customers and their choices."""

    def __init__(self, params: ModelParams, rng: np.random.Generator) -> None:
        specs = params.segment_specs or default_segments(params, rng)
        self.params = params
        self.segment_names: tuple[str, ...] = tuple(s.name for s in specs)
        self.dimension_names: tuple[str, ...] = tuple(
            DIMENSION_NAMES[i] if i < len(DIMENSION_NAMES) else f"attribute-{i + 1}"
            for i in range(params.dimensions))
        self.ideal = np.array([s.ideal for s in specs], dtype=float)
        weights = np.array([s.weights for s in specs], dtype=float)
        self.weights = weights / weights.sum(axis=1, keepdims=True)
        self.fit_weights = params.fit_sensitivity * self.weights  # utility lost per unit gap
        self.value = np.array([s.value for s in specs], dtype=float)
        self.price_weight = params.price_sensitivity * np.array(
            [s.price_sensitivity for s in specs], dtype=float)
        self.active = np.array([not s.emerging for s in specs])
        # The persistent part of change: each segment's needs move at ``turbulence`` per month
        # in a direction that turns slowly (momentum); the transient part (``jitter``) is
        # drawn afresh every month and nobody can predict it.
        self.direction = _unit_rows(rng.normal(size=self.ideal.shape))
        self.velocity = np.zeros_like(self.ideal)
        self.jitter = np.zeros_like(self.ideal)
        self.needs = self.ideal.copy()
        shares = np.array([s.share for s in specs], dtype=float)
        counts = np.floor(params.customers * shares / shares.sum()).astype(int)
        counts[np.argmax(shares)] += params.customers - counts.sum()
        self.sizes = counts
        self.segment = np.repeat(np.arange(len(specs)), counts)
        self.offset = rng.normal(0.0, CUSTOMER_SPREAD, (params.customers, params.dimensions))
        self.supplier = np.full(params.customers, -1, dtype=np.int64)
        self.must_choose = np.ones(params.customers, dtype=bool)  # everyone chooses first
        self.any_must_choose = True
        self.counts = np.zeros((len(specs), 1), dtype=np.int64)  # (segment, supplier + 1)
        self.counts[:, 0] = counts
        self._weigh_segments()

    # --- the environment moves ------------------------------------------------------------
    @property
    def n_segments(self) -> int:
        """Number of segments, latent ones included."""
        return len(self.segment_names)

    def positions(self, idx: np.ndarray, seg: np.ndarray | None = None) -> np.ndarray:
        """(len(idx), D) what the customers ``idx`` (of segments ``seg``) need this month."""
        seg = self.segment.take(idx) if seg is None else seg
        return self.needs.take(seg, 0) + self.offset.take(idx, 0)

    def drift(self, rng: np.random.Generator) -> None:
        """Needs move: a persistent trend (turbulence, momentum) and transient noise.

        The need space is open: needs start inside [0, 1] but may keep moving in one
        direction for years (performance demanded keeps rising), so fast change stays change
        instead of folding back into noise at the walls of a box.
        """
        p = self.params
        if p.turbulence > 0.0:
            self.direction, self.velocity, self.ideal = self._trend(
                rng.normal(size=self.ideal.shape))
        if p.need_noise > 0.0:
            self.jitter = rng.normal(0.0, p.need_noise, self.ideal.shape)
        self.needs = self.ideal + self.jitter

    def _trend(self, fresh: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # The persistent part of a month's move, from this month's innovation ``fresh``: the
        # new direction (turning by momentum), the velocity and the ideal points it reaches.
        p = self.params
        turn = np.sqrt(1.0 - p.momentum ** 2)
        direction = _unit_rows(p.momentum * self.direction + turn * _unit_rows(fresh))
        velocity = p.turbulence * direction
        return direction, velocity, self.ideal + velocity

    def shock(self, rng: np.random.Generator) -> None:
        """A shock: every segment's needs jump ``shock_size`` in a random direction."""
        self.ideal = self.ideal + self.params.shock_size * _unit_rows(
            rng.normal(size=self.ideal.shape))
        self.needs = self.ideal + self.jitter

    def emerge(self) -> int | None:
        """The next latent segment appears: its customers enter and look for a supplier."""
        latent = np.flatnonzero(~self.active)
        if latent.size == 0:
            return None
        s = int(latent[0])
        self.active[s] = True
        self._weigh_segments()
        self.must_choose |= self.segment == s
        self.any_must_choose = True
        return s

    def release(self, firm: int) -> None:
        """A firm failed: its customers must choose again."""
        lost = self.supplier == firm
        self.supplier[lost] = -1
        self.counts[:, 0] += self.counts[:, firm + 1]
        self.counts[:, firm + 1] = 0
        self.must_choose |= lost
        self.any_must_choose = True

    # --- customers choose ------------------------------------------------------------------
    def choose(self, rng: np.random.Generator, offerings: np.ndarray, prices: np.ndarray,
               available: np.ndarray, capacity: np.ndarray,
               loyalty: np.ndarray | None = None) -> None:
        """Some customers reconsider and pick a supplier (or nobody) by a logit.

        Args:
            rng: the model's generator.
            offerings: (F, S, D) each firm's offering for each segment.
            prices: (F,) prices.
            available: (F,) which firms can be chosen (alive).
            capacity: (F,) most customers a firm can serve (``inf`` for no limit).
            loyalty: (F,) the utility bonus of staying with each firm (default: the model's
                ``loyalty`` for all).

        """
        idx = self._reconsidering(rng)
        n_firms = offerings.shape[0]
        self._widen(n_firms)
        if idx.size == 0 or n_firms == 0:
            return
        seg = self.segment.take(idx)
        current = self.supplier.take(idx)
        # Only firms that can be chosen are options (a failed firm costs nothing here). What
        # does not depend on the individual is computed per (segment, option): the price
        # term; then each chooser adds its own fit.
        options = available.nonzero()[0]
        if options.size == 0:
            chosen_firm = np.full(idx.size, -1)
        else:
            bonus = np.full(n_firms, self.params.loyalty) if loyalty is None else loyalty
            chosen_firm = self._logit_pick(rng, idx, seg, current, options, offerings, prices,
                                           bonus)
        self._enforce_capacity(rng, current, chosen_firm, capacity)
        self.supplier[idx] = chosen_firm
        # Keep the (segment, supplier) counts current by moving only the customers who chose.
        cell = seg * (n_firms + 1) + 1  # the cell of (segment, nobody) + 1, then the firms'
        moved = np.bincount(cell + chosen_firm, minlength=self.counts.size)
        moved -= np.bincount(cell + current, minlength=self.counts.size)
        self.counts += moved.reshape(self.counts.shape)

    def _logit_pick(self, rng: np.random.Generator, idx: np.ndarray, seg: np.ndarray,
                    current: np.ndarray, options: np.ndarray, offerings: np.ndarray,
                    prices: np.ndarray, loyalty: np.ndarray) -> np.ndarray:
        # Each chooser's pick among nobody and the ``options`` (firm numbers), by a logit.
        # (``take`` rather than fancy indexing: the same values, several times faster on the
        # small arrays of a month.)
        p = self.params
        base = -self.price_weight[:, None] * prices.take(options)[None, :]   # (S, O)
        outside = -(self.price_weight + p.outside_option)                   # (S,)
        # Column 0 is buying from nobody, column o + 1 is option o.
        utilities = np.empty((idx.size, options.size + 1))
        utilities[:, 0] = outside.take(seg)
        # A chooser's current supplier, if it is still an option, gets the loyalty bonus
        # (adding 0.0 to the others changes nothing).
        staying = current[:, None] == options[None, :]                       # (m, O)
        of_options = utilities[:, 1:]
        np.subtract(base.take(seg, 0), weighted_distance(
            self.positions(idx, seg), offerings.take(options, 0).take(seg, 1),
            self.fit_weights.take(seg, 0)), out=of_options)
        of_options += staying * loyalty.take(options)
        return np.concatenate(([-1], options)).take(logit_choice(utilities, rng))

    def _reconsidering(self, rng: np.random.Generator) -> np.ndarray:
        # Each active customer reconsiders with probability switch_rate: the gaps between
        # successive reconsidering customers are geometric, so drawing the gaps is an exact
        # Bernoulli draw per customer at a cost that follows the number who reconsider.
        # Those who must choose (a new segment, a failed supplier) do so whatever the draw.
        n, rate = self.segment.size, self.params.switch_rate
        if rate >= 1.0:
            idx = np.arange(n)
        elif rate <= 0.0:
            idx = np.empty(0, dtype=np.int64)
        else:
            expected = n * rate
            draws = int(expected + 6.0 * np.sqrt(expected) + 10)
            idx = rng.geometric(rate, size=draws)
            below = self._passed(idx, n)
            if below >= 0:
                idx = idx[:below]
            else:
                while idx[-1] < n:  # (almost never) more gaps are needed to pass the last
                    idx = np.append(idx, idx[-1] + np.cumsum(rng.geometric(rate, size=draws)))
                idx = idx[:np.searchsorted(idx, n)]
        return self._with_those_who_must(idx)

    def _passed(self, positions: np.ndarray, n: int) -> int:
        # The geometric gaps turned, in place, into customer numbers (their running sum less
        # one): how many fall below ``n``, or -1 if none reaches it (more gaps are needed).
        np.cumsum(positions, out=positions)
        positions -= 1
        return int(np.searchsorted(positions, n)) if positions[-1] >= n else -1

    def _with_those_who_must(self, idx: np.ndarray) -> np.ndarray:
        # The reconsidering customers ``idx`` joined by those who must choose (in order, once
        # each), then only the customers of active segments.
        if self.any_must_choose:
            idx = np.union1d(idx, np.flatnonzero(self.must_choose))
            self.must_choose[:] = False
            self.any_must_choose = False
        return idx if self.all_active else idx[self.active_customer.take(idx)]

    def assign(self, supplier: np.ndarray) -> None:
        """Set every customer's supplier (-1 for nobody) and recount from scratch."""
        self.supplier[:] = supplier
        width = max(int(self.supplier.max()) + 2, self.counts.shape[1])
        cells = self.segment * width + self.supplier + 1
        self.counts = np.bincount(cells, minlength=self.n_segments * width).reshape(
            self.n_segments, width)

    def _widen(self, n_firms: int) -> None:
        # A new firm entered: give it an empty column in the counts.
        missing = n_firms + 1 - self.counts.shape[1]
        if missing > 0:
            self.counts = np.hstack([self.counts, np.zeros((self.n_segments, missing),
                                                           dtype=self.counts.dtype)])

    def _enforce_capacity(self, rng: np.random.Generator, previous: np.ndarray,
                          chosen: np.ndarray, capacity: np.ndarray) -> None:
        # A young disruptor cannot serve everyone who wants it: some of its would-be new
        # customers, drawn at random, stay where they were (``chosen``, the choosers' new
        # suppliers, is changed in place). Most months no firm is limited: one comparison.
        if float(capacity.min()) >= self.segment.size:  # an incumbent's capacity is inf
            return
        limited = np.flatnonzero(capacity < self.segment.size)
        # Each one's customers who did not choose this month (the counts are last month's).
        kept = {int(f): int(np.add.reduce(self.counts[:, f + 1]))
                - int(np.count_nonzero(previous == f)) for f in limited}
        # A customer turned away goes back to last month's supplier, which may be another
        # limited firm already checked: pass again until nobody is turned away. Each pass
        # settles for good everyone it turns away (they are back where they were), so the
        # passes end; a firm left with only last month's customers is within its capacity,
        # which never shrinks.
        turning = True
        while turning:
            turning = False
            for f, stayed in kept.items():
                excess = stayed + int(np.count_nonzero(chosen == f)) - int(capacity[f])
                if excess <= 0:
                    continue
                joined = np.flatnonzero((chosen == f) & (previous != f))
                if joined.size == 0:
                    continue
                turned_away = rng.choice(joined, size=min(excess, joined.size), replace=False)
                chosen[turned_away] = previous[turned_away]
                turning = True

    def tally(self, offerings: np.ndarray, prices: np.ndarray) -> Tally:
        """Count customers, satisfaction and revenue per firm for this month.

        Satisfaction is the fit between a segment's needs and the offering a firm sells it,
        averaged over the firm's customers; it is computed per (segment, firm) rather than per
        customer, which keeps this month's bookkeeping independent of the number of customers.
        """
        n_firms = offerings.shape[0]
        self._widen(n_firms)
        counts = self.counts[:, 1:n_firms + 1].astype(float)                 # (S, F)
        customers = np.add.reduce(counts, axis=0)
        fit = np.maximum(1.0 - self.weighted_gap(self.needs - offerings), 0.0)  # (F, S)
        n_active = self.n_active
        served = np.maximum(customers, 1.0)
        spend = counts.T * self.value                                           # (F, S)
        spent = np.add.reduce(spend, axis=1)
        return Tally(customers=customers, share=customers / n_active,
                     satisfaction=np.add.reduce(counts.T * fit, axis=1) / served,
                     revenue=spent * prices,
                     segment_share=counts * self.per_customer[:, None],
                     no_purchase=1.0 - np.add.reduce(customers) / n_active,
                     revenue_mix=spend / np.maximum(spent, 1e-12)[:, None])

    def weighted_gap(self, difference: np.ndarray) -> np.ndarray:
        """(..., S) importance-weighted length of per-segment differences (..., S, D).

        The one measure of misfit between two points of the attribute space, segment by
        segment: fit, both gaps and variety are all built on it.
        """
        return np.add.reduce(np.abs(difference) * self.weights, axis=-1)

    def gap(self, points: np.ndarray) -> np.ndarray:
        """(..., S) weighted distance between each segment's needs and ``points`` (..., S, D)."""
        return self.weighted_gap(self.ideal - points)

    def _weigh_segments(self) -> None:
        # Each segment's share of the active market's spend (zero for latent segments), the
        # weight it gets in a firm's core offering and in the gaps; changes only on emergence.
        w = np.where(self.active, self.sizes * self.value, 0.0)
        self.active_weights = w / w.sum()
        self.active_customer = self.active[self.segment]
        self.all_active = bool(self.active.all())
        self.n_active = max(int(self.sizes[self.active].sum()), 1)
        self.per_customer = 1.0 / np.maximum(self.sizes, 1)  # turns counts into shares
        self.active_index = np.flatnonzero(self.active_customer)
