"""The one registry of what the model measures: run outcomes, per-month series and events.

Every table, report, handout and app panel reads names, labels, units and "which way is
better" from here, so an outcome is defined once (after the EMA Workbench's
``ScalarOutcome(name, kind=MINIMIZE|MAXIMIZE|INFO)``). An outcome that can have no value in
a run says when and why (:attr:`Outcome.undefined`): such a run reports NaN for it, everywhere
the same, and the faces print the reason instead of a number.

This module is part of the pure core: data only, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from simulation.params import LEVERS

RESULT_COLUMNS = ["step", "firm", "structure", "market_share", "satisfaction", "awareness_gap",
                  "action_gap", "revenue", "profit", "cash", "alive", "customers",
                  "lever_upkeep", "in_transition", *LEVERS]
"""The per-step table's columns (``OrgModel.results()``): one row per (month, firm)."""

Better = Literal["higher", "lower", "neither"]
Unit = Literal["share", "revenue-months", "months", "count", "distance", "index",
               "pre-shock-months"]


MONTHS_OF_REVENUE = "months of revenue"
"""Money in words: a sum divided by one firm's fair share of a month's revenue at the start
(``in_revenue_months``), the unit every face shows money in."""


@dataclass(frozen=True)
class Outcome:
    """One measured quantity of a firm.

    Attributes:
        name: the column name in tables and summaries.
        label: a short plain name for table rows (``profit (total)``).
        title: a longer title for a chart panel.
        unit: what one unit is (``share``: a fraction of the customers, shown as a
            percentage; ``revenue-months``: months of fair-share revenue;
            ``pre-shock-months``: months of the share a firm had before a shock, so losing
            half of it for ten months is 5).
        better: which direction is better for the firm (``neither``: descriptive).
        undefined: when the outcome has no value in a run, and why (empty: always defined).
        computed: how a run's value is computed from the firm's months, in words (as an EMA
            Workbench outcome carries its function); every per-run outcome and encounter
            says it, and :func:`simulation.metrics.run_summary` returns exactly the registered
            outcomes, in this order.

    """

    name: str
    label: str
    title: str
    unit: Unit
    better: Better
    undefined: str = ""
    scale: str = ""
    """What a chart's values measure, in a few words beside its title (series only)."""
    binary: bool = False
    """Each run's value is 0 or 1 (a proportion over runs: Wilson intervals)."""
    needs: str = ""
    """The event kind without which there is nothing to measure (empty: none)."""
    computed: str = ""

    @property
    def bounded(self) -> bool:
        """Whether values cannot leave a range (shares, months, counts, distances)."""
        return self.unit != "revenue-months"


@dataclass(frozen=True)
class EventKind:
    """Something that happens at a month: its name, plain label, colour and what it does."""

    name: str
    label: str
    colour: str
    """Hex colour that marks it in figures and the app."""
    description: str
    """What it does, in plain words (the app's Info panel)."""


def _index(*items: Outcome) -> dict[str, Outcome]:
    return {item.name: item for item in items}


NO_SHOCK = ("no shock hit the firm while it was in business, so there was nothing to "
            "recover from")

OUTCOMES: Mapping[str, Outcome] = _index(
    Outcome("final_share", "final share", "Market share at the end", "share", "higher",
            computed="its market share in the run's last month"),
    Outcome("mean_share", "mean share", "Mean market share", "share", "higher",
            computed="the mean of its monthly market share over months 1 to the end (0 once it "
            "failed)"),
    Outcome("cumulative_profit", "profit (total)", "Total profit", "revenue-months",
            "higher",
            computed="the sum of its monthly profit over months 1 to the end"),
    Outcome("final_cash", "final cash", "Cash at the end", "revenue-months", "higher",
            computed="its cash in the run's last month"),
    Outcome("survived", "survival", "Still in business at the end", "share", "higher",
            binary=True,
            computed="1 if it is in business in the run's last month, else 0"),
    Outcome("months_in_business", "months in business", "Months until the firm failed (the "
            "run's length if it did not)", "months", "higher",
            computed="the first month it was out of business; the run's length if none"),
    Outcome("share_in_business", "share in business", "Mean market share while in business, "
            "after the warm-up", "share", "higher",
            undefined="the firm failed during the warm-up",
            computed="the mean of its monthly share over the months after the warm-up in which it "
            "was in business"),
    Outcome("early_share", "early share", "Mean market share in the first half after the "
            "warm-up", "share", "higher",
            computed="the mean of its monthly share over the first half of the months after the "
            "warm-up"),
    Outcome("late_share", "late share", "Mean market share in the second half after the "
            "warm-up", "share", "higher",
            computed="the mean of its monthly share over the second half of the months after the "
            "warm-up"),
    Outcome("mean_satisfaction", "satisfaction", "Mean customer satisfaction", "index",
            "higher",
            computed="the mean of its customers' satisfaction over its months in business"),
    Outcome("resilience_loss", "resilience loss", "Share lost after shocks (area)",
            "pre-shock-months", "lower", needs="shock",
            computed="the mean, over the shocks that hit it in business, of the share lost "
            "below the pre-shock level until it recovered or the window ended; 0 without "
            "such a shock"),
    Outcome("resilience_depth", "resilience depth", "Deepest fall after a shock", "share",
            "lower", needs="shock",
            computed="the mean, over those shocks, of the deepest fall below the pre-shock "
            "share; 0 without such a shock"),
    Outcome("mean_time_to_recover", "months to recover", "Months to recover from a shock",
            "months", "lower", undefined=NO_SHOCK, needs="shock",
            computed="the mean, over those shocks, of the months until its share was back to "
            "recovery_fraction of the pre-shock level (the window's length if never)"),
    Outcome("mean_awareness_gap", "awareness gap", "Mean awareness gap", "distance", "lower",
            computed="the mean of the distance between its customers' needs and its belief "
            "over its months in business"),
    Outcome("mean_action_gap", "action gap", "Mean action gap", "distance", "lower",
            computed="the mean of the distance between its belief and its offer over its "
            "months in business"),
    Outcome("shocks", "shocks", "Needs shocks in the run", "count", "neither",
            computed="the needs shocks of the run"),
    Outcome("entrants", "entrants", "Disruptors that entered", "count", "neither",
            computed="the disruptors that entered in the run"),
    Outcome("rival_final_share", "best rival's share", "Best rival's final share", "share",
            "neither",
            computed="the largest final share of the other incumbents (0 if none)"),
    Outcome("share_advantage", "share advantage", "Final share minus the best rival's",
            "share", "higher",
            computed="its final share minus the best rival's"),
)
"""Per-run outcomes of one firm (``OrgModel.summary()``, sweeps, ``compare``), in order."""

SERIES: Mapping[str, Outcome] = _index(
    Outcome("market_share", "market share", "Market share", "share", "higher",
            scale="% of customers"),
    Outcome("satisfaction", "satisfaction", "Customer satisfaction", "index", "higher",
            scale="1 = perfect fit"),
    Outcome("awareness_gap", "awareness gap", "Awareness gap", "distance", "lower",
            scale="needs vs. belief"),
    Outcome("action_gap", "action gap", "Action gap", "distance", "lower",
            scale="belief vs. offer"),
    Outcome("revenue", "revenue", "Revenue", "revenue-months", "higher",
            scale=MONTHS_OF_REVENUE),
    Outcome("profit", "profit", "Profit", "revenue-months", "higher",
            scale=MONTHS_OF_REVENUE),
    Outcome("customers", "customers", "Customers", "count", "higher", scale="customers"),
    Outcome("lever_upkeep", "lever upkeep", "Upkeep of the levers", "revenue-months",
            "lower", scale=MONTHS_OF_REVENUE),
    Outcome("cash", "cash", "Cash", "revenue-months", "higher", scale=MONTHS_OF_REVENUE),
)
"""Per-month figures of every firm (columns of ``OrgModel.results()``), in order."""

MARKET_SERIES: Mapping[str, Outcome] = _index(
    Outcome("entrants_share", "disruptors' share", "Disruptors' share of the market", "share",
            "neither", scale="% of customers", needs="entrant"),
    Outcome("failures", "firms failing", "Firms failing per run and month", "count",
            "neither", scale="failures per run"),
)
"""Per-month figures of the whole market that a comparison's handout draws."""

ENCOUNTERS: Mapping[str, Outcome] = _index(
    Outcome("time_to_notice", "months to notice", "Months from a disruptor's entry until "
            "the firm noticed it", "months", "lower", needs="entrant",
            undefined="the firm never noticed that disruptor",
            computed="the month it noticed the disruptor minus the disruptor's entry month"),
    Outcome("time_to_answer", "months to answer", "Months from a disruptor's entry until "
            "the firm began a low-cost answer to it", "months", "lower", needs="entrant",
            undefined="the firm never answered that disruptor",
            computed="the first month of its low-cost answer minus the disruptor's entry month"),
    Outcome("time_to_serve", "months to serve", "Months from a segment's emergence until "
            "the firm served it", "months", "lower", needs="new_segment",
            undefined="the firm never served that segment",
            computed="the first month it served the segment minus the segment's first month"),
)
"""How soon a firm notices and answers each disruptor and serves each new segment
(``OrgModel.disruptions()`` and ``OrgModel.emergences()``)."""

SUBJECTS: Mapping[str, str] = {
    "summary": "the summary in words",
    "organizations": "how the two organizations are set up",
    "market_share": "the market share panel and the final share row",
    "profit": "the profit panel and the total profit row",
    "cash": "the cash panel and the final cash row",
    "survival": "the survival row",
    "awareness_gap": "the awareness gap panel and row",
    "action_gap": "the action gap panel and row",
    "recovery": "the rows on falling and recovering after shocks",
    "entrants_share": "the disruptors' share panel, firm failures marked",
    "notice": "the table of months to notice and to answer each disruptor",
    "serve": "the table of months to serve each new segment",
}
"""What a handout can show, by name: a scenario maps each discussion question to the subjects
that answer it (``answered_by``), and the handout marks each subject it shows."""

SUBJECT_NEEDS: Mapping[str, str] = {"recovery": "shock", "entrants_share": "entrant",
                                    "notice": "entrant", "serve": "new_segment"}
"""The event kind a subject needs (a scenario without it has nothing to show there)."""


MONEY = frozenset(n for n, o in (*OUTCOMES.items(), *SERIES.items())
                   if o.unit == "revenue-months")
"""The outcomes and series that are money (divided by fair-share revenue for every face)."""


def in_revenue_months(values: Mapping[str, Any], fair_revenue: float) -> dict[str, Any]:
    """Money figures in months of fair-share revenue, the unit of every face.

    The one conversion: every registered outcome or series with unit ``revenue-months`` is
    divided by the model's ``fair_revenue`` (one firm's fair share of a month's revenue);
    other values pass unchanged. Values may be numbers or arrays (a series).
    """
    return {k: (v / fair_revenue if k in MONEY and fair_revenue else v)
            for k, v in values.items()}


IN_BUSINESS_ONLY: tuple[str, ...] = ("satisfaction", "awareness_gap", "action_gap")
"""Series that measure a firm in business. A failed firm has none (its rows of the per-step
table hold 0: it has no customers to satisfy and no offering to be off by), so a mean or a mean
path covers only the months the firm was in business (:func:`in_business`)."""


def in_business(values: Mapping[str, Any], alive: Any) -> dict[str, Any]:
    """One firm's per-month values, a failed firm's gaps and satisfaction as no values.

    Those of :data:`IN_BUSINESS_ONLY` become NaN where ``alive`` is false; other values pass
    unchanged.
    """
    dead = ~np.asarray(alive, dtype=bool)
    return {k: (np.where(dead, np.nan, np.asarray(v, dtype=float))
                if k in IN_BUSINESS_ONLY else v) for k, v in values.items()}


FIRM_METRICS: tuple[str, ...] = tuple(n for n in SERIES if n != "cash")
"""What a firm books each month besides its cash (cash is the firm's own state)."""

FOCAL_REPORTERS: tuple[str, ...] = ("market_share", "awareness_gap", "action_gap", "cash")
"""The focal firm's series offered as model-level reporters (Mesa's DataCollector)."""

TRAJECTORIES: tuple[str, ...] = ("market_share", "awareness_gap", "action_gap", "profit",
                                  "cash")
"""The series whose mean path (and band) a comparison's handout draws."""

PANELS: tuple[str, ...] = ("market_share", "satisfaction", "awareness_gap", "action_gap",
                           "cash")
"""The series a single run's figure and the app draw, one panel each, in order."""

COMPARED: tuple[str, ...] = ("final_share", "cumulative_profit", "final_cash", "survived",
                             "resilience_loss", "mean_time_to_recover", "mean_awareness_gap",
                             "mean_action_gap")
"""The outcomes a comparison's table shows, in order."""

EVENTS: Mapping[str, EventKind] = {e.name: e for e in (
    EventKind("shock", "needs shock", "#d62728", "customer needs jump"),  # tab:red
    EventKind("entrant", "disruptor enters", "#9467bd", "a disruptor enters"),  # tab:purple
    EventKind("new_segment", "new segment", "#2ca02c",
              "a new customer segment appears"),  # tab:green
    EventKind("reorganization", "reorganization", "#ff7f0e",
              "the focal firm reorganizes"),  # tab:orange
    EventKind("failure", "firm fails", "#000000", "a firm runs out of cash and fails"),
)}
"""Kinds of event a run records (``OrgModel.events``), with their labels and colours."""

RANDOM_EVENTS: tuple[str, ...] = ("shock", "entrant", "new_segment")
"""Event kinds that can also happen at random months (besides the scheduled timeline)."""


def outcome(name: str) -> Outcome:
    """The registered outcome or series called ``name``.

    Raises:
        KeyError: ``name`` is not registered; the message lists what is.

    """
    found = _ANY.get(name)
    if found is None:
        raise KeyError(f"{name!r} is not a registered outcome; outcomes are "
                       f"{', '.join(_ANY)}")
    return found


def display_scale(name: str) -> float:
    """What a value is multiplied by to be shown in its unit.

    100 for a share (shown in %); 1 for anything else, names the registry does not know
    included.
    """
    known = _ANY.get(name)
    return 100.0 if known is not None and known.unit == "share" else 1.0


def label(name: str) -> str:
    """The plain label of an outcome, series or event kind; unknown names come back as given."""
    if name in EVENTS:
        return EVENTS[name].label
    known = _ANY.get(name)
    return known.label if known is not None else name


def registered(name: str) -> bool:
    """Whether ``name`` is a registered outcome or series."""
    return name in _ANY


def unit_text(name: str) -> str:
    """The unit of an outcome in words for a table or axis (empty when it has none)."""
    unit = outcome(name).unit
    return {"share": "%", "revenue-months": MONTHS_OF_REVENUE, "months": "months",
            "pre-shock-months": "months of pre-shock share"}.get(unit, "")


_ANY: Mapping[str, Outcome] = {**OUTCOMES, **SERIES, **MARKET_SERIES, **ENCOUNTERS}
