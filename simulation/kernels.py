"""The market's month compiled with numba, for studies: the same numbers, fewer calls.

A month of the numpy model (:mod:`simulation.market`) makes a few dozen array operations
on arrays of a few dozen numbers, and spends most of its time in their call overhead. Here
the customers' choice and the month's tally (who reconsiders, the logit pick, moving the
(segment, supplier) counts, customers, shares, satisfaction, revenue) are one compiled call
per month, drawing from the model's own Generator in exactly the order the numpy model draws.
:class:`KernelModel` is :class:`simulation.model.OrgModel` with that call in place of
``Market.choose`` and ``Market.tally``; everything else (sensing, sharing, deciding, the
firms' books) is the numpy model's own code. Two things stay in numpy because they are rare
and their draws cannot be replayed cheaply: turning away customers a young disruptor has no
capacity for (``Market._enforce_capacity``: months with a capacity-limited entrant then make
a second call for the tally), and the tally after a failure.

The numpy model is the reference: ``tests/test_kernels.py`` runs both on 20 seeds and
requires identical choices and figures within 1e-9 relative. Only the studies (sweeps,
compare, the pattern suite) import this module, which imports numba; the kernels are cached
on disk by numba, keyed by this file's source (any change recompiles) and numba's version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
import numpy as np

from simulation import levers as lv
from simulation.market import Tally
from simulation.model import OrgModel

_jit = numba.njit(cache=True, nogil=True)


@_jit
def _reconsidering(rng: Any, n: int, rate: float, must_choose: np.ndarray, any_must: bool,
                   active_customer: np.ndarray, all_active: bool) -> np.ndarray:
    # Market._reconsidering, draw for draw.
    if rate >= 1.0:
        idx = np.arange(n)
    elif rate <= 0.0:
        idx = np.empty(0, dtype=np.int64)
    else:
        expected = n * rate
        draws = int(expected + 6.0 * np.sqrt(expected) + 10)
        idx = np.empty(draws, dtype=np.int64)
        total = -1
        for i in range(draws):
            total += rng.geometric(rate)
            idx[i] = total
        while idx[-1] < n:  # more gaps to pass the last customer (as numpy: no -1 now)
            more = np.empty(draws, dtype=np.int64)
            total = idx[-1]
            for i in range(draws):
                total += rng.geometric(rate)
                more[i] = total
            idx = np.concatenate((idx, more))
        idx = idx[:np.searchsorted(idx, n)]
    if any_must:
        mark = must_choose.copy()
        for i in idx:
            mark[i] = True
        idx = np.flatnonzero(mark)
        must_choose[:] = False
    if not all_active:
        idx = idx[active_customer[idx]]
    return idx


@_jit
def _pick(rng: Any, idx: np.ndarray, seg: np.ndarray, current: np.ndarray, options: np.ndarray,
          needs: np.ndarray, offset: np.ndarray, offerings: np.ndarray, prices: np.ndarray,
          loyalty: np.ndarray, price_weight: np.ndarray, outside_option: float,
          fit_weights: np.ndarray) -> np.ndarray:
    # Market._logit_pick: utilities by segment and option, Gumbel noise as -log of standard
    # exponentials drawn row by row (numpy's C order), the first maximum wins.
    m, n_opt, d = idx.size, options.size, needs.shape[1]
    chosen = np.empty(m, dtype=np.int64)
    for i in range(m):
        s, c = seg[i], idx[i]
        best = -(price_weight[s] + outside_option) - np.log(rng.standard_exponential())
        pick = -1
        for o in range(n_opt):
            f = options[o]
            dist = 0.0
            for k in range(d):
                dist += abs(offerings[f, s, k] - (needs[s, k] + offset[c, k])) * fit_weights[s, k]
            u = -price_weight[s] * prices[f] - dist
            if current[i] == f:
                u += loyalty[f]
            v = u - np.log(rng.standard_exponential())
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
def _choose_month(rng: Any, segment: np.ndarray, supplier: np.ndarray, must_choose: np.ndarray,
                  any_must: bool, active_customer: np.ndarray, all_active: bool, rate: float,
                  needs: np.ndarray, offset: np.ndarray, offerings: np.ndarray,
                  prices: np.ndarray, available: np.ndarray, loyalty: np.ndarray,
                  price_weight: np.ndarray, outside_option: float, fit_weights: np.ndarray,
                  limited: bool) -> tuple[bool, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    # Market.choose up to the capacity check: who reconsiders and what each picks; settled
    # here unless a firm's capacity is limited (then numpy turns customers away first).
    idx = _reconsidering(rng, segment.size, rate, must_choose, any_must, active_customer,
                         all_active)
    empty = np.empty(0, dtype=np.int64)
    if idx.size == 0 or offerings.shape[0] == 0:
        return True, empty, empty, empty, empty
    seg = segment[idx]
    current = supplier[idx]
    options = np.flatnonzero(available)
    if options.size == 0:
        chosen = np.full(idx.size, -1, dtype=np.int64)
    else:
        chosen = _pick(rng, idx, seg, current, options, needs, offset, offerings, prices,
                       loyalty, price_weight, outside_option, fit_weights)
    return not limited, idx, seg, current, chosen


def _month(rng: Any, market: Any, offerings: np.ndarray, prices: np.ndarray,
           available: np.ndarray, capacity: np.ndarray, loyalty: np.ndarray) -> Tally:
    """``Market.choose`` then ``Market.tally``, with the compiled kernels."""
    p = market.params
    n_firms = offerings.shape[0]
    market._widen(n_firms)
    limited = bool(float(capacity.min()) < market.segment.size) if n_firms else False
    settled, idx, seg, current, chosen = _choose_month(
        rng, market.segment, market.supplier, market.must_choose, market.any_must_choose,
        market.active_customer, market.all_active, float(p.switch_rate), market.needs,
        market.offset, offerings, prices, available, loyalty, market.price_weight,
        float(p.outside_option), market.fit_weights, limited)
    market.any_must_choose = False
    if idx.size:
        if not settled:
            market._enforce_capacity(rng, current, chosen, capacity)
        _settle(idx, seg, current, chosen, market.supplier, market.counts)
    return Tally(*_tally(market.counts, market.needs, offerings, prices, market.weights,
                         market.value, market.per_customer, market.n_active))


class KernelModel(OrgModel):
    """:class:`OrgModel` whose customers choose, and whose market tallies, in compiled code.

    The same model, the same random numbers in the same order (see the module's doc).
    """

    def _choose(self) -> None:
        offerings, prices = self.org.offering, self._prices()
        capacity = np.array([f.capacity if f.alive else np.inf for f in self.firms])
        loyalty = lv.transition_loyalty(self.params.loyalty, self.org.disruption)
        self._tally = _month(self.rng, self.market, offerings, prices, self.org.alive,
                             capacity, np.asarray(loyalty, dtype=float))


KERNELS = (_reconsidering, _pick, _settle, _tally, _choose_month)
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
    KernelModel(rng=0, customers=200).run(2)
    KernelModel(rng=0, customers=200, entrant_steps=(1,), shock_steps=(1,),
                switch_rate=1.0).run(2)
