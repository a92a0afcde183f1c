"""The pattern suite: what the model must show in every market regime, written as data.

Each :class:`Pattern` names the seed text it comes from, says its claim in words, lists its
arms (the model keywords of each organization or condition compared), the levels it is
checked at, and its checks (a statistic of a measure and the criterion it must meet). The
statistics live in :mod:`experiments.patterns.stats`, running them in
:mod:`experiments.patterns.suite`, the report in :mod:`experiments.patterns.report`.

**Changing a regime is editing this file's data, not code**: the common keywords
(:data:`COMMON`), the seeds per pattern (:data:`SEEDS`) and each pattern's ``base``,
``levels`` and ``arms`` below. Thresholds (the criteria) are the claims themselves and are
not to be tuned to make a pattern pass.

Every arm of a pattern runs on the same replication seeds (common random numbers), so arms
that differ only in the organization face the same market. *Head-to-head* is an outside-in
focal firm against an inside-out rival in one run (read firm 0 minus firm 1); *swap* is the
focal firm organized A versus B (two arms, same seeds) against the same rival.

:func:`pattern_run` is the model function every run uses (``module:function`` for the
experiments executor); it returns a flat dict of measures per run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from experiments.engine.runner import study_model
from simulation.calibration import followable_speed
from simulation.outcomes import in_revenue_months
from simulation.params import LEVERS, PARAMETERS
from simulation.presets import PRESETS

# --- settings: change regimes here ----------------------------------------------------------

COMMON: dict[str, Any] = {"customers": 2000, "shock_rate": 0.0, "entrant_rate": 0.0,
                          "new_segment_rate": 0.0}
"""Model keywords every pattern starts from (a pattern's ``base`` and arms override them)."""
STEPS = 240
"""Months per run."""
SEEDS = {"pilot": 8, "max": 48, "quick_pilot": 4, "quick_max": 6}
"""Paired replications per arm and level. Each pattern starts with ``pilot`` seeds; the suite
then adds seeds until every deciding check has :data:`POWER` for its minimum effect (or
margin) at the suite's Holm level, at most ``max`` (``quick_*`` for ``--quick``)."""
POWER = 0.8
"""Power each deciding check is given for its minimum effect, where the seed cap allows."""
ALPHA = 0.05
"""Family-wise error rate of the suite's deciding checks (Holm's step-down adjustment)."""
ROOT_SEED = 20_251_126
"""Default root seed of the suite (``--seed`` overrides)."""
WON_SHARE = 0.10
"""An entrant that ends with at least this share of the market has won."""

HEAD_TO_HEAD: dict[str, Any] = {"structure": "outside_in", "rival_structure": "inside_out",
                                "rivals": 1}
"""An outside-in focal firm (firm 0) against one inside-out rival (firm 1)."""
LEVER_NAMES = ("coordination", "cooperation", "clout", "capability", "connections")


def levers(default: float, **values: float) -> dict[str, float]:
    """All five levers at ``default`` except those named."""
    return {name: values.get(name, default) for name in LEVER_NAMES}


# --- the vocabulary -------------------------------------------------------------------------

StatKind = Literal["mean", "difference", "interaction", "slope", "adjacent", "proportion",
                   "proportion_difference", "adjacent_proportion"]
Claim = Literal["superiority", "noninferiority", "equivalence"]
Direction = Literal["increase", "decrease"]
REPORT_ONLY_KINDS = ("proportion_difference", "adjacent_proportion")
"""Statistics that are reported but never decide: a difference of 0/1 survival between two
arms is 0 = 0 when both always die or always live; survival is decided on months alive."""


@dataclass(frozen=True)
class Criterion:
    """What a check claims about its effect, how big an effect must be to matter, and why.

    * ``superiority``: the effect goes in ``direction`` (one-sided test of "no effect or the
      other way" at the suite's adjusted level) **and** its estimate is at least ``size``, the
      smallest effect that matters, in the check's unit.
    * ``noninferiority``: the effect is not worse than ``size`` against ``direction``
      (one-sided test of "worse by the margin or more"): for "at least as good as" claims.
    * ``equivalence``: the effect lies within ``±size`` (TOST: both one-sided tests at the
      margin), for invariances.

    ``why`` is the sentence that says why ``size`` is the size that matters.
    """

    claim: Claim
    size: float
    why: str
    direction: Direction = "increase"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.size) and self.size > 0):
            raise ValueError(f"criterion size {self.size!r} must be a positive number in the "
                             "check's unit (a minimum effect or a margin)")
        if not self.why.strip():
            raise ValueError("a criterion needs the sentence that says why its size matters")

    @property
    def sign(self) -> float:
        """+1 when the claimed direction is an increase, -1 for a decrease."""
        return 1.0 if self.direction == "increase" else -1.0


def at_least(size: float, why: str, direction: Direction = "increase") -> Criterion:
    """A superiority claim: the effect goes that way by at least ``size``."""
    return Criterion("superiority", size, why, direction)


def no_worse(margin: float, why: str, direction: Direction = "increase") -> Criterion:
    """A non-inferiority claim: the effect is not worse than ``margin`` against ``direction``."""
    return Criterion("noninferiority", margin, why, direction)


def equivalent(margin: float, why: str) -> Criterion:
    """An equivalence claim (an invariance): the effect lies within ``±margin`` (TOST)."""
    return Criterion("equivalence", margin, why)


@dataclass(frozen=True)
class Check:
    """A statistic of a measure over the pattern's runs, and the criterion it must meet.

    ``measure`` is a run measure (``f0_mean_share``) or the difference of two measures of
    the same run (``f0_mean_share - f1_mean_share``: head-to-head). ``arms`` are the arms
    the statistic compares, in the order its kind needs (see
    :mod:`experiments.patterns.stats`). Checks of kind ``slope`` and ``adjacent*`` run across
    the levels; the others are evaluated at every level and must hold at each (an
    intersection-union test: the check's p-value is the largest of its levels'). A check
    without a criterion is reported but decides nothing.
    """

    label: str
    kind: StatKind
    measure: str
    arms: tuple[str, ...]
    criterion: Criterion | None
    unit: str = ""

    def __post_init__(self) -> None:
        if self.criterion is not None and self.kind in REPORT_ONLY_KINDS:
            raise ValueError(f"{self.label}: a {self.kind} check cannot decide (0 = 0 when both "
                             "arms always fail or always survive); decide on months alive")
        if self.criterion is not None and self.kind == "proportion" \
                and self.criterion.claim != "superiority":
            raise ValueError(f"{self.label}: a proportion decides only a superiority claim")


@dataclass(frozen=True)
class Arm:
    """One organization or condition compared: its model keywords (and ``--quick`` changes)."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    quick_params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Axis:
    """A model keyword and the levels it takes (every arm runs at every level)."""

    keyword: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Pattern:
    """A claim of the seeds, the runs that test it and the checks that decide it."""

    name: str
    title: str
    source: str
    """The seed text it comes from, e.g. ``seed 001: freeze-up``."""
    claim: str
    arms: tuple[Arm, ...]
    checks: tuple[Check, ...]
    base: Mapping[str, Any] = field(default_factory=dict)
    levels: tuple[Axis, ...] = ()
    seeds: tuple[int, int] | None = None
    """Pilot replications (full, quick) if not those of :data:`SEEDS`."""
    gate: bool = True
    """False for a map that is reported, not passed or failed."""
    regime: str = ""
    """Why the pattern is checked where it is (its ``base`` and ``levels``), from the seed text;
    changing a regime is a change to this file and an entry in CHANGELOG.md."""

    def pilot(self, quick: bool) -> int:
        """Seeds per arm and level the pattern starts with."""
        if self.seeds is not None:
            return self.seeds[1] if quick else self.seeds[0]
        return SEEDS["quick_pilot"] if quick else SEEDS["pilot"]

    def most(self, quick: bool) -> int:
        """The cap on seeds per arm and level that power may ask for."""
        return max(self.pilot(quick), SEEDS["quick_max"] if quick else SEEDS["max"])

    def arm(self, name: str) -> Arm:
        """The arm called ``name``."""
        for arm in self.arms:
            if arm.name == name:
                return arm
        raise KeyError(f"pattern {self.name} has no arm {name!r}")


ALONE: dict[str, Any] = {"structure": "outside_in", "rivals": 0}
"""An outside-in firm alone in its market (its share is the customers who buy at all)."""
H2H_ARMS = (Arm("head_to_head", HEAD_TO_HEAD),)
"""The one arm of a head-to-head pattern."""
PERSISTENT = {"momentum": 0.95}
"""Change that keeps its direction: what a firm can learn and anticipate."""
def _followable_levels() -> tuple[float, ...]:
    """Turbulence from 0 to the speed the outside-in preset can follow, in four steps."""
    top = followable_speed(PRESETS["outside_in"].lever_values())
    return tuple(round(top * k / 4, 4) for k in range(5))


FOLLOWABLE_LEVELS = _followable_levels()
"""Levels of the dose-response pattern: within what firms can follow."""
H2H_SHARE = "f0_mean_share - f1_mean_share"
H2H_PROFIT = "f0_profit - f1_profit"
SHARE = "share of the market"
PROFIT = "cumulative profit (months of revenue)"
MONTHLY_PROFIT = "profit per month (months of revenue)"
MONTHS = "months"
ALIVE = "months alive"

# --- the sizes that matter (one place; each with its reason) ---------------------------------

MIN_SHARE = 0.01
"""One point of market share (20 of the suite's 2,000 customers)."""
WHY_SHARE = ("one point of market share, 20 of 2,000 customers: smaller differences are a few "
             "customers' switching, below what any manager would act on")
MIN_PROFIT = 2.0
"""Two months of revenue over the 240-month run."""
WHY_PROFIT = ("two months of one firm's fair-share revenue over 20 years: less is under 1% of "
              "what a firm earns in the run")
MIN_MONTHLY_PROFIT = 0.02
"""2% of a month's fair-share revenue, every month."""
WHY_MONTHLY_PROFIT = ("2% of a month's fair-share revenue every month: about the upkeep of one "
                      "lever at its default cost")
MIN_MONTHS = 3.0
"""A quarter."""
WHY_MONTHS = "a quarter: the cadence at which firms review markets and plans"
MIN_ALIVE = 6.0
"""Half a year of a firm's life."""
WHY_ALIVE = "half a year of a firm's life over the 20-year run"
MIN_GAP = 0.01
"""A distance in need space: about one month of drift at the default turbulence (0.01)."""
WHY_GAP = ("about one month of drift of needs at the default turbulence (0.01 a month): a "
           "smaller gap is below the customers' own spread around their segment's need")
MIN_SURVIVAL_SLOPE = MIN_ALIVE / 0.1
"""Months alive lost per unit of turbulence: half a year over the checked range 0 to 0.1."""
MIN_LEAD_SLOPE = MIN_SHARE / FOLLOWABLE_LEVELS[-1]
"""Share gained per unit of turbulence: one point over the followable range."""
MIN_WINS = 0.1
"""One run in ten."""
INVARIANCE_MARGIN = 0.02
"""Two points of the OI - IO lead in share."""
WHY_INVARIANCE = ("two points of the head-to-head lead: a resolution setting may move the lead "
                  "by less than the smallest lead the regime map reads, never by more")


def _complementarity() -> tuple[tuple[Arm, ...], tuple[Check, ...]]:
    """Seed 000's chain: each pair of neighbouring levers on a 2x2 of low and high."""
    pairs = (("coordination", "cooperation"), ("cooperation", "clout"),
             ("clout", "capability"))
    low, high = 0.2, 0.8
    arms: list[Arm] = []
    checks: list[Check] = []
    for a, b in pairs:
        names = []
        for la, va in (("h", high), ("l", low)):
            for lb, vb in (("h", high), ("l", low)):
                name = f"{a}-{b} {la}{lb}"
                names.append(name)
                arms.append(Arm(name, levers(0.5, **{a: va, b: vb})))
        checks.append(Check(f"{a} x {b} interaction", "interaction", "f0_mean_share",
                            tuple(names), at_least(MIN_SHARE, WHY_SHARE), SHARE))
    return tuple(arms), tuple(checks)


_COMPLEMENT_ARMS, _COMPLEMENT_CHECKS = _complementarity()
FREEZE_UP = {"connections": 0.9, "clout": 0.1, "cooperation": 0.1, "coordination": 0.5,
             "capability": 0.5}

PATTERNS: list[Pattern] = [
    Pattern(
        "regime_map", "Regime map", "seeds 000-003: where outside-in pays",
        "Outside-in's head-to-head lead in share and profit over the speed (turbulence) "
        "and persistence (momentum) of change, with each firm's survival.",
        arms=H2H_ARMS,
        levels=(Axis("turbulence", (0.0, 0.004, 0.008, 0.016, 0.032, 0.064)),
                Axis("momentum", (0.0, 0.8, 0.95))),
        checks=(Check("OI - IO mean share", "mean", H2H_SHARE, ("head_to_head",), None, SHARE),
                Check("OI - IO cumulative profit", "mean", H2H_PROFIT, ("head_to_head",), None,
                      PROFIT),
                Check("OI survival", "proportion", "f0_survived", ("head_to_head",), None),
                Check("IO survival", "proportion", "f1_survived", ("head_to_head",), None)),
        seeds=(6, 2), gate=False,
        regime="the whole plane of speed and persistence the other patterns are drawn from"),
    Pattern(
        "quiet", "Quiet market", "seed 002: inside-out's home ground",
        "With no change and no events, inside-out is at least as profitable as outside-in, "
        "head-to-head.",
        base={"turbulence": 0.0, "need_noise": 0.0, "shock_rate": 0.0, "entrant_rate": 0.0,
              "new_segment_rate": 0.0},
        arms=H2H_ARMS,
        checks=(Check("IO - OI cumulative profit", "mean", "f1_profit - f0_profit",
                      ("head_to_head",), no_worse(MIN_PROFIT, WHY_PROFIT), PROFIT),),
        regime="needs that stand still and no events: the efficiency an inside-out firm is "
               "built for (seed 002: it 'pushes what it makes')"),
    Pattern(
        "dose_response", "Dose-response", "seed 000: sense and respond",
        "As needs move faster (within what firms can follow: up to the speed an outside-in "
        "firm can follow, measured by calibration.followable_speed), outside-in's head-to-head "
        "lead in share grows, with no drop between adjacent levels beyond a point of share.",
        base=PERSISTENT,
        arms=H2H_ARMS,
        levels=(Axis("turbulence", FOLLOWABLE_LEVELS),),
        checks=(Check("OI - IO mean share", "mean", H2H_SHARE, ("head_to_head",), None, SHARE),
                Check("slope of the lead over turbulence", "slope", H2H_SHARE,
                      ("head_to_head",),
                      at_least(MIN_LEAD_SLOPE, "one point of share (" + WHY_SHARE + ") over "
                               "the followable range"), "share per unit turbulence"),
                Check("change of the lead to the next level", "adjacent", H2H_SHARE,
                      ("head_to_head",), no_worse(MIN_SHARE, WHY_SHARE), SHARE)),
        regime="persistent change from none to the speed an outside-in firm can follow "
               "(seed 000: 'in turbulent markets ... stay one step ahead'); beyond it is the "
               "next pattern"),
    Pattern(
        "beyond_followable", "Beyond what anyone can follow", "seed 000: sense and respond",
        "When needs move faster than any firm can follow, being outside-in does not make a "
        "firm fail sooner: it stays alive at least as long as inside-out (months alive, "
        "censored at the run's end), within half a year.",
        base=PERSISTENT,
        arms=H2H_ARMS,
        levels=(Axis("turbulence", (0.06, 0.1)),),
        checks=(Check("OI survival - IO survival", "proportion_difference",
                      "f0_survived - f1_survived", ("head_to_head",), None, "share of runs"),
                Check("OI - IO months alive", "mean", "f0_months_alive - f1_months_alive",
                      ("head_to_head",), no_worse(MIN_ALIVE, WHY_ALIVE), ALIVE)),
        regime="persistent change five to eight times what an outside-in firm can follow"),
    Pattern(
        "io_survival_monotone", "Inside-out's survival falls with turbulence",
        "seed 002: the inside-out firm",
        "At fixed momentum, the faster needs move the sooner an inside-out firm fails: its "
        "months alive fall with turbulence by at least half a year over 0 to 0.1.",
        base=PERSISTENT,
        arms=H2H_ARMS,
        levels=(Axis("turbulence", (0.0, 0.008, 0.024, 0.06, 0.1)),),
        checks=(Check("IO survival", "proportion", "f1_survived", ("head_to_head",), None,
                      "share of runs"),
                Check("slope of IO months alive over turbulence", "slope", "f1_months_alive",
                      ("head_to_head",),
                      at_least(MIN_SURVIVAL_SLOPE, WHY_ALIVE + ", over turbulence 0 to 0.1",
                               direction="decrease"), "months alive per unit turbulence")),
        regime="persistent change from none to beyond what anyone can follow"),
    Pattern(
        "anticipation", "Anticipation pays when change persists",
        "seed 000: anticipating customers",
        "Anticipating where needs go is worth more when change is persistent (momentum 0.95) "
        "than when it is not (momentum 0), at the same speed. Measured on an outside-in firm "
        "alone in its market (anticipation_months is a market-wide keyword: with a rival, "
        "switching it off would change the rival too).",
        base={"turbulence": 0.016},
        arms=(Arm("with, persistent", {**ALONE, "momentum": 0.95}),
              Arm("with, memoryless", {**ALONE, "momentum": 0.0}),
              Arm("without, persistent", {**ALONE, "momentum": 0.95,
                                          "anticipation_months": 0}),
              Arm("without, memoryless", {**ALONE, "momentum": 0.0,
                                          "anticipation_months": 0})),
        checks=(Check("value of anticipation: persistent - memoryless", "interaction",
                      "f0_mean_share", ("with, persistent", "with, memoryless",
                                        "without, persistent", "without, memoryless"),
                      at_least(MIN_SHARE, WHY_SHARE), SHARE),
                Check("value of anticipation, persistent change", "difference",
                      "f0_mean_share", ("with, persistent", "without, persistent"), None,
                      SHARE),
                Check("value of anticipation, memoryless change", "difference",
                      "f0_mean_share", ("with, memoryless", "without, memoryless"), None,
                      SHARE)),
        regime="turbulence 0.016, faster than an outside-in firm follows by reacting alone "
               "(seed 000: 'stay one step ahead')"),
    Pattern(
        "freeze_up", "Freeze-up", "seed 001: freeze-up",
        "Strong connections with weak clout and cooperation give a small awareness gap and "
        "a wide action gap: the firm knows but cannot act.",
        arms=(Arm("frozen", {**HEAD_TO_HEAD, **FREEZE_UP}),
              Arm("balanced", {**HEAD_TO_HEAD, **levers(0.5)})),
        levels=(Axis("turbulence", (0.008, 0.024)),),
        checks=(Check("awareness gap: balanced - frozen", "difference", "f0_awareness",
                      ("balanced", "frozen"), at_least(MIN_GAP, WHY_GAP), "mean gap"),
                Check("action gap: frozen - balanced", "difference", "f0_action",
                      ("frozen", "balanced"), at_least(MIN_GAP, WHY_GAP), "mean gap")),
        regime="slow and fast change, both within reach of a firm that can act (seed 001 "
               "describes a firm that knows and cannot act, not one outrun by change)"),
    Pattern(
        "disruption", "Disruption", "seed 000: Christensen's disruptors",
        "Low-end entrants at a lower price can win; outside-in notices them sooner than a "
        "listening-only firm (high clout and coordination, low capability and connections).",
        base={"entrant_steps": [24], "turbulence": 0.008},
        arms=(Arm("outside-in", HEAD_TO_HEAD),
              Arm("listening-only", {**HEAD_TO_HEAD, **levers(
                  0.8, capability=0.1, connections=0.1)})),
        checks=(Check("runs an entrant wins (>= 10% share)", "proportion", "entrant_won",
                      ("outside-in",),
                      at_least(MIN_WINS, "one run in ten: 'can win' is a real chance, not a "
                               "fluke"), "share of runs"),
                Check("months to notice: listening-only - outside-in", "difference",
                      "f0_time_to_notice", ("listening-only", "outside-in"),
                      at_least(MIN_MONTHS, WHY_MONTHS), MONTHS)),
        regime="one low-end entrant at month 24 in a slowly changing market (Christensen: "
               "disruptors enter where incumbents listen to their best customers)"),
    Pattern(
        "narrow_customer", "Narrow customer", "seed 003: the narrow customer",
        "An emerging segment is served sooner by firms that prospect (capability, "
        "connections) and can act (clout, cooperation).",
        base={"new_segment_steps": [36], "emerging_segments": 1, "turbulence": 0.008},
        arms=(Arm("prospect and act", {**HEAD_TO_HEAD, **levers(0.8)}),
              Arm("prospect only", {**HEAD_TO_HEAD, **levers(0.8, clout=0.1,
                                                               cooperation=0.1)}),
              Arm("act only", {**HEAD_TO_HEAD, **levers(0.8, capability=0.1,
                                                          connections=0.1)}),
              Arm("neither", {**HEAD_TO_HEAD, **levers(0.1, coordination=0.8)})),
        checks=tuple(Check(f"months to serve: {other} - prospect and act", "difference",
                           "f0_time_to_serve", (other, "prospect and act"),
                           at_least(MIN_MONTHS, WHY_MONTHS), MONTHS)
                     for other in ("prospect only", "act only", "neither")),
        regime="one segment emerging at month 36 in a slowly changing market (seed 003: a "
               "narrow customer the current customers do not speak for)"),
    Pattern(
        "reorganization", "Reorganization dips before it pays", "seed 002: changing course",
        "An inside-out firm that reorganizes to outside-in loses share and profit in the first "
        "half of its transition, then earns more than its twin that did not reorganize.",
        base={**PERSISTENT, "window": [60, 66], "after": 96},
        seeds=(16, 16),  # whether the twin survives splits runs: no fewer seeds when quick
        levels=(Axis("turbulence", (0.004, 0.008, 0.012)),),
        arms=(Arm("reorganizes", {"structure": "inside_out", "rival_structure": "outside_in",
                                  "rivals": 1, "reorganize_step": 60, "transition_steps": 12,
                                  "reorganize_to": "outside_in"}),
              Arm("twin", {"structure": "inside_out", "rival_structure": "outside_in",
                           "rivals": 1})),
        checks=(Check("profit during transition: reorganizes - twin", "difference",
                      "f0_window_profit", ("reorganizes", "twin"),
                      at_least(MIN_MONTHLY_PROFIT, WHY_MONTHLY_PROFIT, direction="decrease"),
                      MONTHLY_PROFIT),
                Check("share, first half of the transition: reorganizes - twin", "difference",
                      "f0_window_share", ("reorganizes", "twin"),
                      at_least(MIN_SHARE, WHY_SHARE, direction="decrease"), SHARE),
                Check("share from month 96: reorganizes - twin", "difference",
                      "f0_after_share", ("reorganizes", "twin"),
                      at_least(MIN_SHARE, WHY_SHARE), SHARE),
                Check("profit from month 96: reorganizes - twin", "difference",
                      "f0_after_profit", ("reorganizes", "twin"),
                      at_least(MIN_MONTHLY_PROFIT, WHY_MONTHLY_PROFIT), MONTHLY_PROFIT)),
        regime="persistent change where outside-in pays (from the regime map's profit "
               "crossover, 0.004) and the change of course comes in time (up to 0.012): seed "
               "002 asks when a firm changes course. Scoped after the model was seen (issue "
               "22); fixed here since, its edges shown by the robustness matrix"),
    Pattern(
        "complementarity", "Complementary levers", "seed 000: the chain of levers",
        "Coordination needs cooperation, cooperation needs clout, clout needs capability: "
        "the 2x2 interaction of each neighbouring pair on the focal firm's share is positive "
        "by at least a point of share.",
        base=PERSISTENT,
        levels=(Axis("turbulence", (FOLLOWABLE_LEVELS[-1], 0.016, 0.024)),),
        arms=tuple(Arm(a.name, {**HEAD_TO_HEAD, **a.params}) for a in _COMPLEMENT_ARMS),
        checks=_COMPLEMENT_CHECKS,
        regime="persistent change from the speed an outside-in firm can follow up, where "
               "every lever binds (seed 000: each lever 'requires' the next). Scoped after the "
               "model was seen (issue 22); fixed here since, its edges shown by the "
               "robustness matrix"),
    Pattern(
        "invariance", "Invariances", "model resolution",
        "The number of customers is resolution (the same lead within two points), and a "
        "latent segment that never emerges changes nothing, measured in active revenue.",
        base={"turbulence": 0.016},
        arms=(Arm("2,000 customers", {**HEAD_TO_HEAD, "customers": 2000}),
              Arm("20,000 customers", {**HEAD_TO_HEAD, "customers": 20000},
                  quick_params={"customers": 8000}),
              Arm("latent segment", {**HEAD_TO_HEAD, "emerging_segments": 1,
                                     "new_segment_rate": 0.0}),
              Arm("no latent segment", {**HEAD_TO_HEAD, "emerging_segments": 0})),
        checks=(Check("OI - IO lead: more customers - fewer", "difference", H2H_SHARE,
                      ("20,000 customers", "2,000 customers"),
                      equivalent(INVARIANCE_MARGIN, WHY_INVARIANCE), SHARE),
                Check("OI - IO lead: latent segment - none", "difference", H2H_SHARE,
                      ("latent segment", "no latent segment"),
                      equivalent(INVARIANCE_MARGIN, WHY_INVARIANCE), SHARE)),
        regime="the default market at turbulence 0.016, where the lead is large and "
               "changing, so that a resolution effect would show"),
]
"""Every pattern, the regime map first."""


# --- robustness and sensitivity: declared here, with the patterns -------------------------------

@dataclass(frozen=True)
class Variant:
    """A structural variant of every pattern: model keywords laid over each run.

    A variant changes only what a pattern does not compare (see
    :func:`experiments.patterns.suite.applicable`): a momentum variant leaves the
    anticipation pattern's persistent and memoryless arms alone.
    """

    name: str
    params: Mapping[str, Any]
    why: str


VARIANTS: tuple[Variant, ...] = (
    Variant("departments 3", {"departments": 3}, "a firm too small for every role"),
    Variant("departments 12", {"departments": 12}, "a larger firm, roles repeated"),
    Variant("dimensions 2", {"dimensions": 2}, "a simpler need space"),
    Variant("dimensions 6", {"dimensions": 6}, "a richer need space"),
    Variant("segments 2", {"segments": 2}, "fewer customer segments"),
    Variant("segments 5", {"segments": 5}, "more customer segments"),
    Variant("customers 800", {"customers": 800}, "a coarser market"),
    Variant("customers 6000", {"customers": 6000}, "a finer market"),
    Variant("rivals 2", {"rivals": 2}, "a second rival (firm 1 is the first of them)"),
    Variant("prices 0.8", {"price": 0.8, "rival_price": 0.8}, "every incumbent cheaper"),
    Variant("prices 1.2", {"price": 1.2, "rival_price": 1.2}, "every incumbent dearer"),
    Variant("momentum 0.6", {"momentum": 0.6}, "change that turns more often"),
    Variant("momentum 0.99", {"momentum": 0.99}, "change that hardly turns"),
    Variant("need_noise 0", {"need_noise": 0.0}, "no unpredictable part of needs"),
    Variant("need_noise 0.05", {"need_noise": 0.05}, "a larger unpredictable part"),
)
"""The structural variants ``outsidein patterns --robustness`` re-runs every pattern at."""

SENSITIVITY_SPREAD = 0.5
"""A behavioural constant varies over its default x (1 -/+ this), within its allowed range."""
SENSITIVITY_SAMPLES = 16
"""Saltelli base samples of ``--sensitivity`` (a power of 2; runs: samples x (D + 2))."""
SENSITIVITY_REPLICATIONS = 2
"""Seeds per sample of ``--sensitivity`` (each runs every arm and level of the pattern)."""

SENSITIVITY_GROUPS: dict[str, tuple[str, ...]] = {
    "customers' choice": ("switch_rate", "loyalty", "fit_sensitivity", "price_sensitivity",
                          "outside_option"),
    "sensing": ("sense_noise", "hear_current", "belief_gain", "trend_noise",
                "anticipation_months", "noise_filter", "detect_share"),
    "carrying out": ("execution_noise", "borrowed_capability", "roadmap_speed", "silo_lag",
                     "max_change", "interdependence"),
    "low-cost answer": ("answer_rate", "answer_spend", "cost_floor"),
    "entrants": ("entrant_price", "entrant_capacity", "entrant_growth", "entrant_improvement",
                 "entrant_performance", "entrant_cash", "entrant_overhead",
                 "entrant_unit_cost"),
    "running costs": ("unit_cost", "fixed_cost", "variety_cost", "change_cost",
                      "starting_cash"),
    "lever upkeep": ("lever_cost",),
    "shocks and reorganizations": ("shock_size", "reorganize_cost", "transition_disruption"),
    "measurement thresholds": ("recovery_fraction", "serve_share"),
}
"""The groups ``--sensitivity`` apportions by default (a grouped Saltelli design: 9 groups
instead of 40 constants, so the indices are readable at a sample size a laptop can run);
``--constants`` varies named constants one by one instead. Every behavioural constant is in
exactly one group (a test checks it; a constant added to the parameter table without a
group is its own group)."""


def constant_groups(names: Sequence[str]) -> dict[str, list[str]]:
    """The :data:`SENSITIVITY_GROUPS` of ``names`` (groups left empty are dropped)."""
    of = {c: g for g, members in SENSITIVITY_GROUPS.items() for c in members}
    out: dict[str, list[str]] = {}
    for name in names:
        out.setdefault(of.get(name, name), []).append(name)
    return out


def behavioural_constants(pattern: Pattern) -> dict[str, tuple[float, float]]:
    """The constants a pattern's sensitivity analysis varies, with their ranges.

    Read from the model's parameter table (``simulation.params.PARAMETERS``), so a renamed
    or added constant is picked up: every real-valued parameter with a range and a
    non-zero default, except the levers, the structural keywords the variants set
    (:data:`VARIANTS`) and every keyword the pattern sets itself (its regime). Each varies
    over its default x (1 -/+ :data:`SENSITIVITY_SPREAD`), cut to its allowed range.
    """
    structural = {k for v in VARIANTS for k in v.params}
    own = set(COMMON) | set(pattern.base) | {a.keyword for a in pattern.levels}
    own |= {k for arm in pattern.arms for k in (*arm.params, *arm.quick_params)}
    out: dict[str, tuple[float, float]] = {}
    for name, spec in PARAMETERS.items():
        bound = spec.metadata.get("bound")
        default = spec.default
        if bound is None or bound.integer or name in LEVERS or name in structural \
                or name in own or name in INTERNAL_KEYS:
            continue
        if isinstance(default, bool) or not isinstance(default, int | float) or default == 0:
            continue
        low = max(bound.low, float(f"{default * (1 - SENSITIVITY_SPREAD):.6g}"))
        high = min(bound.high, float(f"{default * (1 + SENSITIVITY_SPREAD):.6g}"))
        if low < high:
            out[name] = (float(low), float(high))
    return out

FIRM_MEASURES = ("mean_share", "final_share", "profit", "survived", "months_alive",
                 "awareness", "action",
                 "window_share", "window_profit", "after_share", "after_profit",
                 "time_to_notice", "time_to_serve")
"""What :func:`measures` reports per incumbent, as ``f{i}_{name}``."""
MEASURES = (*(f"f{i}_{m}" for i in (0, 1) for m in FIRM_MEASURES), "entrant_survived",
            "entrant_final_share", "entrant_won")
"""Every measure a check may name (of the focal firm, its rival and the entrants)."""
INTERNAL_KEYS = ("window", "after")
"""Pattern keywords that shape the measures, not the model; stripped before building it."""


def pattern_names() -> list[str]:
    """Names of every pattern, in order."""
    return [p.name for p in PATTERNS]


# --- the model function ---------------------------------------------------------------------

def pattern_run(params: Mapping[str, Any], seed: int, *, steps: int, series_every: int = 0,
                series_columns: Sequence[str] = ()) -> dict[str, float]:
    """Run one OrgModel and return the suite's measures (see :func:`measures`).

    ``params`` are model keywords plus the pattern keywords ``window: [a, b]`` (months
    ``a`` to ``b - 1``) and ``after: c`` (months from ``c``; default ``b``).
    ``series_every`` and ``series_columns`` are accepted for the executor's signature and
    not used.
    """
    kwargs = {k: v for k, v in params.items() if k not in INTERNAL_KEYS}
    model = study_model()(rng=seed, **kwargs)
    model.run(steps)
    window = params.get("window")
    after = params.get("after", window[1] if window else None)
    return measures(model, steps, window=tuple(window) if window else None, after=after)


def measures(model: Any, steps: int, *, window: tuple[int, int] | None = None,
             after: int | None = None) -> dict[str, float]:
    """The measures of one finished run, from the model's public interface.

    Per incumbent ``i`` (0 focal, 1 rival): mean and final share, cumulative profit,
    survival (0/1), mean awareness and action gaps over the months it was alive, mean share
    and profit per month in the window and after it (profit in months of revenue, as every
    face shows money: see :func:`simulation.outcomes.in_revenue_months`), months to notice
    the first entrant and
    to serve the first emerged segment (censored at the run's end). For entrants: the share
    of them alive at the end, their summed final share, and whether one won
    (:data:`WON_SHARE`).
    """
    results = model.results()
    results = results.assign(**in_revenue_months({"profit": results["profit"]},
                                                  model.fair_revenue))
    months = results[results["step"] > 0]
    last = int(results["step"].max())
    incumbents = [f.name for f in model.firms if not f.entrant]
    entrants = [f for f in model.firms if f.entrant]
    final = results[results["step"] == last].set_index("firm")
    out: dict[str, float] = {}
    for i, name in enumerate(incumbents):
        mine = months[months["firm"] == name]
        alive = mine[mine["alive"]]
        key = f"f{i}_"
        out[key + "mean_share"] = float(mine["market_share"].mean())
        out[key + "final_share"] = float(final.loc[name, "market_share"])
        out[key + "profit"] = float(mine["profit"].sum())
        out[key + "survived"] = float(bool(final.loc[name, "alive"]))
        # time to failure, censored at the run's end: "both die" is not "no difference"
        out[key + "months_alive"] = float(mine["alive"].astype(bool).sum())
        out[key + "awareness"] = float(alive["awareness_gap"].mean())
        out[key + "action"] = float(alive["action_gap"].mean())
        if window is not None:
            inside = mine[(mine["step"] >= window[0]) & (mine["step"] < window[1])]
            out[key + "window_share"] = float(inside["market_share"].mean())
            out[key + "window_profit"] = float(inside["profit"].mean())
        if after is not None:
            later = mine[mine["step"] >= after]
            out[key + "after_share"] = float(later["market_share"].mean())
            out[key + "after_profit"] = float(later["profit"].mean())
    entry = [e["step"] for e in model.events if e["kind"] == "entrant"]
    if entry:
        out.update(_first_times(model.disruptions(), "entry_step", "time_to_notice",
                                incumbents, last))
    if any(e["kind"] == "new_segment" for e in model.events):
        out.update(_first_times(model.emergences(), "emerge_step", "time_to_serve",
                                incumbents, last))
    # A failed entrant leaves the results table after its failure month: its final share is 0.
    shares = [float(final.loc[e.name, "market_share"]) if e.name in final.index else 0.0
              for e in entrants]
    out["entrant_survived"] = float(np.mean([e.alive for e in entrants])) if entrants \
        else float("nan")
    out["entrant_final_share"] = float(sum(shares))
    out["entrant_won"] = float(any(s >= WON_SHARE for s in shares))
    return out


def _first_times(table: pd.DataFrame, start: str, column: str, incumbents: Sequence[str],
                 last: int) -> dict[str, float]:
    """Months from the first event to ``column``'s event per incumbent, censored at ``last``.

    An incumbent with no row for the event (a segment emerged after it had failed: the
    emergences list only the firms alive then) never reached it: censored at ``last`` too, as
    a failed firm's time to notice an entrant is.
    """
    began = int(table[start].min())
    first = table[table[start] == began]
    out = {}
    for i, name in enumerate(incumbents):
        rows = first[first["firm"] == name]
        value = float(rows[column].iloc[0]) if len(rows) else float("nan")
        if np.isnan(value):
            value = float(last - began)
        out[f"f{i}_{column}"] = value
    return out
