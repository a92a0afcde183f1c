"""OrgModel: inside-out and outside-in firms competing in a market whose needs shift.

Each month: the market moves (drift, shocks, new segments, entrants); every living firm
senses, shares and decides; customers choose; firms pay; a firm out of cash fails. Scheduled
events (a shock at month 60, a reorganization at month 48) use Mesa's own event scheduling.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import attrgetter, itemgetter
from typing import Any

import mesa
import numpy as np
import pandas as pd
from mesa.time import Priority

from simulation import levers as lv
from simulation import outcomes
from simulation.agents import Firm, Transition
from simulation.errors import ParameterError
from simulation.market import Market, Tally
from simulation.metrics import (
    DISTURBANCES,
    RESILIENCE_COLUMNS,
    firm_resilience,
    run_summary,
)
from simulation.organization import Organizations
from simulation.params import LEVERS, FirmSpec, ModelParams
from simulation.presets import PRESETS
from simulation.structures import (
    LINK_BUILDERS,
    incumbent_specs,
    reorganization_target,
    roles_for,
)

FOCAL_REPORTERS = outcomes.FOCAL_REPORTERS
"""The focal firm's figures offered as model-level reporters (from the outcome registry)."""

RESULT_COLUMNS = outcomes.RESULT_COLUMNS

ENTRANT_DEPARTMENTS = ("sales", "product")
"""A disruptor is a start-up: one team that sells and builds, no silos."""

_NUMERIC = RESULT_COLUMNS[3:]
"""The results' columns kept as numbers in the per-month table (after step, firm, structure;
``alive`` and ``in_transition`` as 0/1)."""
_FIRM_COLUMNS = _NUMERIC[:-len(LEVERS)]
"""Of those, the firm's figures (its levers follow)."""
assert _NUMERIC[-len(LEVERS):] == list(LEVERS)
_firm_values = itemgetter(*_FIRM_COLUMNS)
"""A firm's figures in table order, from its metrics and its state (cash, alive, in
transition)."""
_LEVER_COLUMN = 3 + len(_FIRM_COLUMNS)
"""The per-month table's first lever column."""


class Rows:
    """A table of float rows that grows by doubling: appending a month allocates nothing.

    The per-month tables of a run live here rather than in lists of Python objects, so a
    run of 100,000 months holds a few arrays, not millions of floats and tuples.
    """

    def __init__(self, width: int, capacity: int = 256) -> None:
        self._data = np.empty((capacity, width))
        self.n = 0

    def append(self, block: np.ndarray) -> None:
        """Add rows (a (rows, width) array)."""
        end = self._reserve(block.shape[0])
        self._data[self.n:end] = block
        self.n = end

    def append_row(self, values: tuple[float, ...]) -> None:
        """Add one row."""
        end = self._reserve(1)
        self._data[self.n] = values
        self.n = end

    def _reserve(self, rows: int) -> int:
        # Room for ``rows`` more (doubling); returns the new end.
        end = self.n + rows
        if end > self._data.shape[0]:
            grown = np.empty((max(end, 2 * self._data.shape[0]), self._data.shape[1]))
            grown[:self.n] = self._data[:self.n]
            self._data = grown
        return end

    @property
    def data(self) -> np.ndarray:
        """(rows, width) the rows so far (a view)."""
        return self._data[:self.n]


class MonthlyRecorder:
    """The model's own recorder of its model-level reporters: one row of numbers per month.

    Not a Mesa ``DataCollector`` (nothing of one is overridden): it keeps the values in a
    :class:`Rows` table, so a month adds no Python objects, and offers what DataCollector
    users read: ``model_reporters``, ``model_vars`` (views on the table) and
    ``get_model_vars_dataframe()``. ``mesa.batch_run`` looks up the months collected and the
    agent records by the names its own DataCollector gives them (``_collection_steps``,
    ``_agent_records``, ...); those are here under the same names, read-only, and the agent
    records are empty (the model has model-level reporters only).
    """

    def __init__(self, names: tuple[str, ...]) -> None:
        self.model_reporters: dict[str, str] = {name: name for name in names}
        self.agent_reporters: dict[str, Any] = {}
        self.agenttype_reporters: dict[type, dict[str, Any]] = {}
        self._agent_records: dict[int, list[Any]] = {}
        self._agenttype_records: dict[int, dict[type, list[Any]]] = {}
        self._names = names
        self._read = attrgetter(*names) if len(names) > 1 else lambda m: (getattr(m, names[0]),)
        self._values = Rows(len(names) + 1)

    @property
    def model_vars(self) -> dict[str, np.ndarray]:
        """Each reporter's values, one per collection (views on the table)."""
        data = self._values.data
        return {name: data[:, i + 1] for i, name in enumerate(self._names)}

    @property
    def _collection_steps(self) -> list[int]:  # the name mesa.batch_run reads
        return self._values.data[:, 0].astype(np.int64).tolist()

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """The reporters' values, one column each, one row per collection (as Mesa's)."""
        return pd.DataFrame(self.model_vars)

    def collect(self, model: Any) -> None:
        """Record the reporters' attributes of ``model`` now."""
        self._values.append_row((model.time, *self._read(model)))


class OrgModel(mesa.Model):
    """Firms of Department agents competing for customers whose needs shift.

    Args:
        rng: seed or generator for the model's one random number generator.
        **params: any field of :class:`simulation.params.ModelParams`, e.g.
            ``structure="outside_in"``, ``turbulence=0.05``, ``clout=0.9``.

    Raises:
        ParameterError: a keyword is unknown or a value is out of range.

    """

    organizations: type[Organizations] = Organizations
    """The departments' table and behaviour (studies swap in :mod:`simulation.kernels`')."""
    markets: type[Market] = Market
    """The customers and their needs (studies swap in :mod:`simulation.kernels`')."""

    def __init__(self, rng: Any = None, **params: Any) -> None:
        self.params = ModelParams.from_kwargs(**params)
        super().__init__(rng=rng)
        p = self.params
        self.market = self.markets(p, self.rng)
        self.org = self.organizations(p, self.market.n_segments)
        self.firms: list[Firm] = []
        self.events: list[dict[str, Any]] = []
        self._stepping = False
        self.detections: list[dict[str, Any]] = []
        self._known: set[tuple[str, str]] = set()  # (entrant, firm) pairs of detections
        self._roster: tuple[tuple[int, int, bool], list[Firm], list[Firm], list[Firm]] | None \
            = None
        self._failures = 0
        self._last_failure = -1
        self.emerged: list[dict[str, Any]] = []
        specs = incumbent_specs(self.params)
        # The cost base is set on the market that exists at the start: latent segments bring
        # no revenue and so set no cost.
        active = self.market.active
        self.fair_customers = float(self.market.sizes[active].sum()) / len(specs)
        self.fair_revenue = float(self.market.sizes[active] @ self.market.value[active]) \
            / len(specs)
        for spec in specs:
            self._add_incumbent(spec)
        self.focal = self.firms[0]
        self._tally: Tally
        self._answer = np.zeros(0)
        self._choose()
        self._record_month(initial=True)
        # Model-level reporters read plain attributes that each month refreshes (the focal
        # firm's figures), so mesa.batch_run and DataCollector users see them (the model's
        # own recorder, read as Mesa's DataCollector is read); the per-firm
        # table is kept as numbers in a growing array (firm and structure as codes), far
        # cheaper per month than a DataCollector table and no Python objects per month.
        self.datacollector = MonthlyRecorder((*FOCAL_REPORTERS, "no_purchase"))
        self._rows = Rows(3 + len(_NUMERIC))
        self._structures: dict[str, int] = {}
        self._schedule_timeline()
        self._collect()

    # --- construction ---------------------------------------------------------------------
    def _add_incumbent(self, spec: FirmSpec) -> None:
        p, m = self.params, self.market
        # A mature market: incumbents start knowing and serving the established segments,
        # each with small differences; a latent segment is assumed to want the core product.
        offering = np.clip(m.ideal + self.rng.normal(0.0, 0.03, m.ideal.shape), 0.0, 1.0)
        core = m.active_weights @ offering
        offering[~m.active] = core
        beliefs = np.where(m.active[:, None], offering, core)
        cash = p.starting_cash if spec.cash is None else spec.cash
        roles = roles_for(p.departments)
        preset = PRESETS[spec.structure]
        Firm(self, spec.name, spec.structure, preset.lever_values(spec.levers), roles,
             LINK_BUILDERS[preset.links](roles), spec.price, cash * self.fair_revenue,
             offering, beliefs)

    def _schedule_timeline(self) -> None:
        # An event "at month t" runs after month t-1 has been collected, so month t is the
        # first to feel it (Mesa runs the step itself at HIGH priority, events after it).
        p = self.params
        timeline: list[tuple[int, Callable[[], object]]] = [
            (s, self.inject_shock) for s in p.shock_steps]
        timeline += [(s, self.add_entrant) for s in p.entrant_steps]
        timeline += [(s, self.emerge_segment) for s in p.new_segment_steps]
        if p.reorganize_step is not None:
            timeline.append((p.reorganize_step, self._scheduled_reorganization))
        for step, action in timeline:
            self.schedule_event(action, at=step - 1, priority=Priority.LOW)

    def _scheduled_reorganization(self) -> None:
        self.reorganize(0, self.params.reorganize_to)

    @classmethod
    def from_scenario(cls, scenario: Any, rng: Any = None, **overrides: Any) -> OrgModel:
        """Build a model from a scenario object (``scenario.to_model_kwargs(**overrides)``)."""
        kwargs = scenario.to_model_kwargs(**overrides)
        if rng is None:
            rng = kwargs.pop("rng", None)
        else:
            kwargs.pop("rng", None)
        return cls(rng=rng, **kwargs)

    # --- events and workshop actions -------------------------------------------------------
    def inject_shock(self) -> None:
        """Customers' needs jump now (effective from the next month)."""
        self.market.shock(self.rng)
        self._log("shock", None)

    def emerge_segment(self) -> None:
        """A latent segment appears now, if one is left."""
        s = self.market.emerge()
        if s is not None:
            self._log("new_segment", self.market.segment_names[s])
            month = self._event_month()
            for firm in self.firms:
                if not firm.entrant and firm.alive:
                    self.emerged.append({"segment": self.market.segment_names[s],
                                         "segment_index": s, "emerge_step": month,
                                         "firm": firm.name, "firm_index": firm.index,
                                         "serve_step": None})

    def add_entrant(self) -> Firm:
        """A disruptor enters now: cheap, low on performance, lean, small, improving fast."""
        p, m = self.params, self.market
        # A start-up makes one simple product for its beachhead, the active segment that asks
        # least performance, and believes it is what everyone wants; it learns the other
        # segments' needs as it goes (Christensen: low-end footholds, then up-market).
        active = np.flatnonzero(m.active)
        beachhead = int(active[np.argmin(m.ideal[active, 0])])
        offering = np.repeat(m.ideal[beachhead][None], m.n_segments, axis=0)
        offering[:, 0] = np.minimum(offering[:, 0], p.entrant_performance)
        n = sum(1 for f in self.firms if f.entrant) + 1
        preset = PRESETS["entrant"]
        firm = Firm(self, f"entrant-{n}", "entrant", preset.lever_values(), ENTRANT_DEPARTMENTS,
                    LINK_BUILDERS[preset.links](ENTRANT_DEPARTMENTS), p.entrant_price,
                    p.entrant_cash * self.fair_revenue, offering, offering,
                    capacity=p.entrant_capacity * p.customers,
                    ceiling=p.entrant_performance, improvement=p.entrant_improvement,
                    growth=p.entrant_growth, entrant=True, unit_cost=p.entrant_unit_cost,
                    overhead=p.entrant_overhead)
        self._log("entrant", firm.name)
        return firm

    def reorganize(self, firm: int | str = 0, to: str | Mapping[str, float] | None = None
                   ) -> None:
        """Start moving a firm to another organization (a preset or lever values) now.

        The move takes ``transition_steps`` months and costs ``reorganize_cost`` months of
        fair-share revenue; the levers act least in the middle of it (``levers.disrupted``).
        """
        target = self._firm(firm)
        if not target.alive:
            return
        levers, structure = reorganization_target(target.levers, target.structure, to)
        target.transition = Transition(
            start=self.steps + 1, length=self.params.transition_steps,
            from_levers=dict(target.levers), to_levers=dict(levers),
            from_links=target.links.copy(),
            to_links=LINK_BUILDERS[PRESETS[structure].links](target.roles),
            to_structure=structure)
        target.pending_cost += self.params.reorganize_cost * self.fair_revenue
        self._log("reorganization", target.name)

    def _firm(self, firm: int | str) -> Firm:
        if isinstance(firm, str):
            for f in self.firms:
                if f.name == firm:
                    return f
            raise ParameterError("firm", f"{firm!r} is not one of {[f.name for f in self.firms]}")
        if not 0 <= firm < len(self.firms):
            raise ParameterError("firm", f"{firm} is outside [0, {len(self.firms) - 1}]")
        return self.firms[firm]

    def _event_month(self) -> int:
        # Inside a step (Mesa has already counted it) an event belongs to this month; between
        # steps (scheduled events, workshop actions) it belongs to the next month, the first
        # to feel it.
        return self.steps if self._stepping else self.steps + 1

    def _log(self, kind: str, firm: str | None) -> None:
        self.events.append({"step": self._event_month(), "kind": kind, "firm": firm})

    # --- the month --------------------------------------------------------------------------
    def step(self) -> None:
        """One month: the market moves, firms sense, share and decide, customers choose."""
        p, rng = self.params, self.rng
        self._stepping = True
        self.market.drift(rng)
        if rng.random() < p.shock_rate:
            self.inject_shock()
        if rng.random() < p.new_segment_rate:
            self.emerge_segment()
        if rng.random() < p.entrant_rate:
            self.add_entrant()
        for firm in self.firms:
            if firm.transition is not None:
                firm.advance_transition(self.steps)
        seen = self.org.sense(self.market, self._tally, rng)
        self._detect_entrants(seen)
        self.org.share()
        self.org.decide(self.market, rng)
        self._answer = self.org.answer()
        if self.detections:
            self._track_answers()
        self._choose()
        if self.emerged:
            self._track_service()
        self._record_month()
        failed = [firm for firm in self._living() if firm.cash < 0.0]
        for firm in failed:
            firm.fail()
            firm.failed_step = self.steps
            self._failures += 1
            self._last_failure = self.steps
            self.market.release(firm.index)
            self._log("failure", firm.name)
        if failed:  # its customers now buy from nobody until they choose again
            self._tally = self.market.tally(self.org.offering, self._prices())
        self._collect()
        self._stepping = False

    def _record_month(self, initial: bool = False) -> None:
        """Every living firm books the month (or, at the start, reports where it stands)."""
        t, org = self._tally, self.org
        awareness, action, variety = org.alignment(self.market).tolist()
        share, satisfaction = t.share.tolist(), t.satisfaction.tolist()
        customers, revenue = t.customers.tolist(), t.revenue.tolist()
        upkeep, change = org.upkeep().tolist(), org.change.tolist()
        answer = self._answer.tolist() if not initial else [0.0] * len(upkeep)
        for firm in self._living():
            f = firm.index
            firm.metrics.update(market_share=share[f], satisfaction=satisfaction[f],
                                awareness_gap=awareness[f], action_gap=action[f],
                                customers=customers[f])
            if not initial:
                firm.metrics["revenue"] = revenue[f]
                firm.metrics["profit"] = firm.pay(revenue[f], customers[f], variety[f],
                                                  upkeep[f], change[f], answer[f])

    def _living(self) -> list[Firm]:
        """The firms in business, in firm order (rebuilt only when firms enter or fail)."""
        return self._lists()[0]

    def _listed(self) -> list[Firm]:
        """The firms with a row in this month's table, in firm order.

        A failed disruptor leaves the table after its failure month; a failed incumbent stays.
        """
        return self._lists()[1]

    def _lists(self) -> tuple[list[Firm], list[Firm], list[Firm]]:
        # (living, listed, living entrants), rebuilt only when firms enter or fail.
        key = (len(self.firms), self._failures, self._last_failure == self.steps)
        if self._roster is None or self._roster[0] != key:
            living = [f for f in self.firms if f.alive]
            listed = [f for f in self.firms
                      if not (f.entrant and not f.alive and f.failed_step != self.steps)]
            self._roster = (key, living, listed, [f for f in living if f.entrant])
        return self._roster[1], self._roster[2], self._roster[3]

    def _prices(self) -> np.ndarray:
        return self.org.price

    def _choose(self) -> None:
        offerings, prices = self.org.offering, self._prices()
        capacity = np.array([f.capacity if f.alive else np.inf for f in self.firms])
        loyalty = lv.transition_loyalty(self.params.loyalty, self.org.disruption)
        self.market.choose(self.rng, offerings, prices, self.org.alive, capacity, loyalty)
        self._tally = self.market.tally(offerings, prices)

    def _detect_entrants(self, seen: np.ndarray) -> None:
        # A department that hears a segment beyond the firm's own customers this month (by
        # prospecting or from partners) notices a disruptor there with a chance that grows
        # with the disruptor's share of the segment (sure from detect_share on). A firm that
        # only listens to its own customers hears none of those the disruptor has won
        # (Christensen: listening to one's best customers is how incumbents miss disruption).
        entrants = self._lists()[2]
        if not entrants:
            return
        p = self.params
        known = self._known
        shares = np.stack([self._tally.segment_share_of(e.index) for e in entrants])  # (E, S)
        chance = np.minimum(shares / p.detect_share, 1.0)
        for firm in self._living():
            if firm.entrant:
                continue
            rows = slice(self.org.row(firm.index, 0),
                         self.org.row(firm.index, 0) + len(firm.roles))
            heard = seen[rows]                                                  # (n, S)
            # P(no department notices) per entrant, over departments and segments.
            missed = np.prod(1.0 - chance[:, None, :] * heard[None, :, :], axis=(1, 2))
            draws = self.rng.random(len(entrants))
            for e, entrant in enumerate(entrants):
                if (entrant.name, firm.name) in known or draws[e] >= 1.0 - missed[e]:
                    continue
                visible = heard.any(axis=0) * shares[e]
                beachhead = int(np.argmax(visible))
                self._known.add((entrant.name, firm.name))
                # The departments that heard where it sells know of the threat: the news
                # travels from them along the links (coordination) and feeds the firm's
                # decision on price and cost (Organizations.answer).
                noticing = np.flatnonzero((heard * (shares[e] > 0)[None, :]).any(axis=1))
                self.org.raise_alarm(rows.start + noticing)
                self.detections.append({
                    "entrant": entrant.name, "firm": firm.name, "firm_index": firm.index,
                    "notice_step": self.steps, "segment": beachhead,
                    "fit": self._fit(firm, beachhead), "answer_step": None})

    def _track_service(self) -> None:
        # A firm serves an emerged segment once it holds serve_share of its customers.
        share = self._tally.segment_share
        for e in self.emerged:
            if e["serve_step"] is None and e["firm_index"] < share.shape[1] and \
                    share[e["segment_index"], e["firm_index"]] >= self.params.serve_share:
                e["serve_step"] = self.steps

    def _fit(self, firm: Firm, segment: int) -> float:
        """How well a firm's offering fits a segment's needs now (1 = perfectly)."""
        return 1.0 - float(self.market.gap(firm.offering)[segment])

    def _track_answers(self) -> None:
        # A firm answers a disruptor it has noticed from the first month its low-cost
        # programme runs (its departments, told of the threat, backed a cheaper offer).
        for d in self.detections:
            if d["answer_step"] is None and self.org.answering[d["firm_index"]]:
                d["answer_step"] = self.steps

    def _collect(self) -> None:
        focal = self.focal
        self.market_share = focal.metrics["market_share"]
        self.awareness_gap = focal.metrics["awareness_gap"]
        self.action_gap = focal.metrics["action_gap"]
        self.cash = focal.cash
        self.no_purchase = float(self._tally.no_purchase)
        self.datacollector.collect(self)
        listed, codes, step = self._listed(), self._structures, self.steps
        block = np.empty((len(listed), 3 + len(_NUMERIC)))
        # One assignment of the rows' Python numbers (far cheaper than one per firm).
        block[:, :_LEVER_COLUMN] = [
            (step, firm.index, codes.setdefault(firm.structure, len(codes)),
             *_firm_values({**firm.metrics, "cash": firm.cash, "alive": firm.alive,
                            "in_transition": firm.transition is not None}))
            for firm in listed]
        block[:, _LEVER_COLUMN:] = self.org.levers.take(block[:, 1].astype(np.intp), 0)
        self._rows.append(block)

    # --- running and results ----------------------------------------------------------------
    def run(self, steps: int) -> OrgModel:
        """Advance ``steps`` months (scheduled events included); returns the model."""
        if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 0:
            raise ParameterError("steps", f"{steps!r} is not a whole number >= 0")
        self.run_for(int(steps))
        return self

    def results(self, start: int = 0, stop: int | None = None) -> pd.DataFrame:
        """One row per (step, firm), focal firm first in each step; step 0 is the start.

        Args:
            start: the first month to include (default: the start, 0).
            stop: the month to stop before (default: after the last); ``start`` and ``stop``
                let a long run's table be read (and written) a slice at a time.

        """
        data = self._rows.data
        if start > 0 or stop is not None:
            steps = data[:, 0]
            data = data[np.searchsorted(steps, start, side="left"):
                        len(steps) if stop is None else np.searchsorted(steps, stop, "left")]
        names = np.array([f.name for f in self.firms] or [""], dtype=object)
        structures = np.array(list(self._structures) or [""], dtype=object)
        columns: dict[str, Any] = {
            "step": data[:, 0].astype(np.int64),
            "firm": names[data[:, 1].astype(np.intp)],
            "structure": structures[data[:, 2].astype(np.intp)]}
        for i, name in enumerate(_NUMERIC):
            columns[name] = data[:, 3 + i].astype(bool) if name in ("alive", "in_transition") \
                else data[:, 3 + i]
        return pd.DataFrame(columns, columns=RESULT_COLUMNS)

    def resilience(self) -> pd.DataFrame:
        """One row per (shock, firm): depth, time to recover, loss area, recovered.

        A shock's window ends at the next disturbance (:data:`simulation.metrics.DISTURBANCES`).
        Read from the model's per-month arrays: no table is built.
        """
        rows = []
        marks = self._disturbances()
        for firm in self.firms:  # firm order is the order in which firms enter the table
            rows += self._firm_resilience(firm, *marks)
        table = pd.DataFrame(rows, columns=RESILIENCE_COLUMNS)
        return table.sort_values(["shock_step"], kind="stable").reset_index(drop=True)

    def _disturbances(self) -> tuple[list[int], list[int]]:
        """The months of the shocks, and of every disturbance (shocks included)."""
        return ([e["step"] for e in self.events if e["kind"] == "shock"],
                [e["step"] for e in self.events if e["kind"] in DISTURBANCES])

    def _firm_resilience(self, firm: Firm, shocks: list[int], disturbances: list[int]
                         ) -> list[dict[str, Any]]:
        """A firm's rows of :meth:`resilience`, from the per-month arrays."""
        data = self._rows.data
        mine = data[:, 1] == firm.index
        if not mine.any():
            return []
        share, alive = data[mine, 3 + _NUMERIC.index("market_share")], \
            data[mine, 3 + _NUMERIC.index("alive")].astype(bool)
        return [{**row, "firm": firm.name} for row in firm_resilience(
            data[mine, 0].astype(np.int64), share, alive, shocks, disturbances,
            int(data[:, 0].max()), self.params.recovery_fraction)]

    def disruptions(self) -> pd.DataFrame:
        """One row per (entrant, incumbent): when it entered, was noticed and was answered.

        A department that hears a segment notices a disruptor there with a chance that grows
        with the disruptor's share of it (sure from ``detect_share``); a firm answers from the
        first month its low-cost programme runs (``Organizations.answer``).
        Times are months from the entry; NaN if never.
        """
        entries = {e["firm"]: e["step"] for e in self.events if e["kind"] == "entrant"}
        found = {(d["entrant"], d["firm"]): d for d in self.detections}
        rows = []
        for entrant, entry in entries.items():
            for firm in self.firms:
                if firm.entrant:
                    continue
                d = found.get((entrant, firm.name), {})
                notice, answer = d.get("notice_step"), d.get("answer_step")
                rows.append({"entrant": entrant, "entry_step": entry, "firm": firm.name,
                             "notice_step": notice,
                             "time_to_notice": np.nan if notice is None else notice - entry,
                             "answer_step": answer,
                             "time_to_answer": np.nan if answer is None else answer - entry})
        return pd.DataFrame(rows, columns=["entrant", "entry_step", "firm", "notice_step",
                                           "time_to_notice", "answer_step", "time_to_answer"])

    def emergences(self) -> pd.DataFrame:
        """One row per (emerged segment, incumbent alive then): when the firm began serving it.

        A firm serves a new segment from the first month it holds ``serve_share`` of the
        segment's customers (seed 003: the customer defined too narrowly). Times are months
        from the emergence; NaN if never.
        """
        rows = [{"segment": e["segment"], "emerge_step": e["emerge_step"], "firm": e["firm"],
                 "serve_step": e["serve_step"],
                 "time_to_serve": np.nan if e["serve_step"] is None
                 else e["serve_step"] - e["emerge_step"]} for e in self.emerged]
        return pd.DataFrame(rows, columns=["segment", "emerge_step", "firm", "serve_step",
                                           "time_to_serve"])

    def columns(self) -> dict[str, np.ndarray]:
        """The per-step table as arrays, in :meth:`results`' row order.

        ``step``, ``firm`` (names) and every numeric column, as views (only the names are
        built): what summaries read, far cheaper than :meth:`results`' DataFrame.
        """
        data = self._rows.data
        columns: dict[str, np.ndarray] = {"step": data[:, 0], "firm": np.array(
            [f.name for f in self.firms] or [""], dtype=object)[data[:, 1].astype(np.intp)]}
        for i, name in enumerate(_NUMERIC):
            columns[name] = data[:, 3 + i]
        return columns

    def summary(self, columns: Mapping[str, np.ndarray] | None = None,
                firm: str | None = None) -> dict[str, float]:
        """Per-run outcomes of a firm (see :func:`simulation.metrics.run_summary`).

        Read from the per-month arrays: no table is built.

        Args:
            columns: this model's :meth:`columns`, if the caller has them already.
            firm: the firm (default: the focal firm); its rivals are the other incumbents.

        """
        incumbents = [f.name for f in self.firms if not f.entrant]
        name = self.focal.name if firm is None else firm
        shocks, disturbances = self._disturbances()
        resilience = self._firm_resilience(self._firm(name), shocks, disturbances)
        return run_summary(self.columns() if columns is None else columns, resilience, name,
                           [n for n in incumbents if n != name], len(shocks),
                           sum(e["kind"] == "entrant" for e in self.events))
