"""Every model parameter in one place: its default, its allowed range and what it means.

``OrgModel`` takes these as flat keywords; the scenario schema, the experiment specs and the
app read the same table (``PARAMETERS``) so that a range is written once. The core may not
import pydantic, so the checks here are plain and raise :class:`ParameterError`, whose
message names the field and the allowed range.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from simulation.errors import ParameterError
from simulation.presets import LEVERS, PRESETS


@dataclass(frozen=True)
class Bound:
    """Allowed range of a numeric parameter (inclusive) and whether it is an integer."""

    low: float
    high: float
    integer: bool = False


def _p(default: Any, doc: str, low: float | None = None, high: float | None = None,
       integer: bool = False) -> Any:
    """Declare a parameter field with its range and a one-line meaning."""
    bound = None if low is None or high is None else Bound(low, high, integer)
    return field(default=default, metadata={"doc": doc, "bound": bound})


@dataclass(frozen=True)
class FirmSpec:
    """One incumbent firm of a scenario: its starting organization, price and cash.

    ``structure`` names a preset (links and levers); ``levers`` overrides some of its levers.
    ``cash`` is in months of fair-share revenue; ``None`` takes the model's ``starting_cash``.
    """

    name: str
    structure: str = "inside_out"
    levers: Mapping[str, float] = field(default_factory=dict)
    price: float = 1.0
    cash: float | None = None


@dataclass(frozen=True)
class SegmentSpec:
    """One customer segment: its relative size, spend, needs and what matters to it.

    ``ideal`` is the segment's need in each attribute (in [0, 1]); ``weights`` how much each
    attribute matters (normalised to sum to 1); ``price_sensitivity`` multiplies the model's;
    ``emerging`` segments are latent at the start and appear later (a new market).
    """

    name: str
    share: float
    value: float
    ideal: tuple[float, ...]
    weights: tuple[float, ...]
    price_sensitivity: float = 1.0
    emerging: bool = False


@dataclass(frozen=True)
class ModelParams:
    """All parameters of :class:`simulation.model.OrgModel`, validated on construction."""

    # --- organizations -------------------------------------------------------------------
    structure: str | None = _p(None, "preset of the focal firm: inside_out or outside_in "
                               "(default outside_in, or the first firm's)")
    rival_structure: str | None = _p(None, "preset of the rivals (default: the other preset)")
    rivals: int = _p(1, "number of incumbent rivals", 0, 6, True)
    coordination: float | None = _p(None, "focal firm's coordination (overrides its preset)", 0, 1)
    cooperation: float | None = _p(None, "focal firm's cooperation (overrides its preset)", 0, 1)
    clout: float | None = _p(None, "focal firm's clout (overrides its preset)", 0, 1)
    capability: float | None = _p(None, "focal firm's capability (overrides its preset)", 0, 1)
    connections: float | None = _p(None, "focal firm's connections (overrides its preset)", 0, 1)
    departments: int = _p(6, "departments per incumbent firm (roles cycle)", 2, 96, True)
    price: float = _p(1.0, "focal firm's price per customer and month", 0.1, 5)
    rival_price: float = _p(1.0, "rivals' price per customer and month", 0.1, 5)
    starting_cash: float = _p(6.0, "starting cash, in months of fair-share revenue", 0, 120)
    firms: tuple[FirmSpec, ...] | None = _p(None, "explicit incumbents (first is focal)")
    # --- market --------------------------------------------------------------------------
    customers: int = _p(5000, "number of customers", 50, 2_000_000, True)
    segments: int = _p(3, "segments active at the start (default market)", 1, 12, True)
    emerging_segments: int = _p(1, "latent segments that emerge later (default market)", 0, 6,
                                True)
    dimensions: int = _p(4, "attributes of the need space", 2, 8, True)
    segment_specs: tuple[SegmentSpec, ...] | None = _p(None, "explicit segments")
    turbulence: float = _p(0.01, "speed of the persistent change of needs: distance a "
                           "segment's ideal point moves per month", 0, 0.5)
    momentum: float = _p(0.8, "persistence of the direction in which needs move (0: a new "
                         "direction every month, 0.99: the same for years)", 0, 0.999)
    need_noise: float = _p(0.02, "s.d. of the transient, unpredictable monthly deviation of "
                           "needs around their trend", 0, 0.5)
    shock_rate: float = _p(0.01, "probability per month of a random needs shock", 0, 1)
    shock_size: float = _p(0.3, "distance a shock moves each segment's needs", 0, 1)
    shock_steps: tuple[int, ...] = _p((), "months at which a needs shock happens")
    new_segment_rate: float = _p(0.004, "probability per month that a latent segment emerges",
                                 0, 1)
    new_segment_steps: tuple[int, ...] = _p((), "months at which a latent segment emerges")
    entrant_rate: float = _p(0.003, "probability per month that a disruptor enters", 0, 1)
    entrant_steps: tuple[int, ...] = _p((), "months at which a disruptor enters")
    entrant_price: float = _p(0.7, "a disruptor's price", 0.1, 5)
    entrant_capacity: float = _p(0.02, "a disruptor's first capacity, share of customers",
                                 0.001, 1)
    entrant_growth: float = _p(0.06, "monthly growth of a disruptor's capacity", 0, 1)
    entrant_improvement: float = _p(0.005, "monthly improvement of a disruptor's performance",
                                    0, 0.2)
    entrant_performance: float = _p(0.25, "where a disruptor's technology caps its "
                                    "performance on entry", 0, 1)
    entrant_cash: float = _p(3.0, "a disruptor's funding, months of fair-share revenue", 0, 120)
    entrant_overhead: float = _p(0.2, "a disruptor's fixed costs from its first month, as a share "
                                 "of an incumbent's (a team and a plant before customers)", 0, 1)
    entrant_unit_cost: float = _p(0.3, "a disruptor's cost of serving a customer for a month "
                                  "(its lean, low-cost structure)", 0, 5)
    # --- choice --------------------------------------------------------------------------
    switch_rate: float = _p(0.1, "share of customers who reconsider their supplier monthly",
                            0, 1)
    loyalty: float = _p(1.0, "utility bonus of the current supplier", 0, 10)
    fit_sensitivity: float = _p(8.0, "utility lost per unit of weighted need-offering distance",
                                0, 50)
    price_sensitivity: float = _p(2.0, "utility lost per unit of price", 0, 20)
    outside_option: float = _p(3.0, "how far below a perfect fit at price 1 not buying sits",
                               0, 20)
    # --- sensing and deciding ------------------------------------------------------------
    sense_noise: float = _p(0.15, "noise of a customer signal at zero capability", 0, 1)
    hear_current: float = _p(2.0, "how readily a firm hears a segment per unit of its share of "
                             "the firm's revenue (the biggest customers first)", 0, 10)
    belief_gain: float = _p(0.8, "weight of a fresh signal against the prior belief at zero "
                            "capability (skill lowers it: less chasing of noise)", 0.01, 1)
    trend_noise: float = _p(0.3, "noise of a signal about the direction of change, relative "
                            "to that about the level", 0, 5)
    anticipation_months: float = _p(4.0, "months ahead a fully capable firm extrapolates the "
                                    "trend of needs", 0, 24)
    noise_filter: float = _p(1.5, "a fully capable firm ignores believed gaps smaller than this "
                             "many s.d. of its own noise", 0, 10)
    execution_noise: float = _p(0.5, "relative error of carrying out a change at zero "
                                "capability", 0, 2)
    borrowed_capability: float = _p(0.3, "share of the missing capability partners lend at "
                                    "full connections", 0, 1)
    roadmap_speed: float = _p(0.002, "monthly push of R&D's technology roadmap on performance",
                              0, 0.1)
    silo_lag: float = _p(12.0, "months a silo's objective (R&D's roadmap) takes to follow the "
                         "firm's own offering: the inertia of silos", 1, 1000)
    max_change: float = _p(0.05, "largest monthly change of an offering at full capability",
                           0.001, 1)
    detect_share: float = _p(0.05, "share of a segment at which a disruptor is surely noticed "
                             "by a department that hears the segment", 0.001, 1)
    interdependence: float = _p(0.7, "how much a change of one component of the offering "
                                "needs the work of the departments that hold the rights over "
                                "its partner component (0: components move alone)", 0, 1)
    answer_rate: float = _p(0.05, "share of the distance between its unit cost and the cost "
                            "floor that a fully capable firm's low-cost programme closes a "
                            "month (an answer to a disruptor)", 0, 1)
    answer_spend: float = _p(0.05, "monthly spend of a low-cost programme while it runs, share "
                             "of fair-share revenue", 0, 5)
    cost_floor: float = _p(0.3, "the lowest unit cost any firm's low-cost programme can reach "
                           "(a disruptor's lean cost is open to incumbents too)", 0, 5)
    serve_share: float = _p(0.5, "share of a new segment's customers at which a firm counts as "
                            "serving it", 0.001, 1)
    # --- money ---------------------------------------------------------------------------
    unit_cost: float = _p(0.45, "cost of serving a customer for a month at price 1", 0, 5)
    fixed_cost: float = _p(0.25, "monthly fixed cost, share of fair-share revenue", 0, 5)
    lever_cost: float = _p(0.03, "monthly upkeep per unit of each lever, share of revenue",
                           0, 1)
    change_cost: float = _p(1.5, "cost per unit distance an offering moves", 0, 50)
    variety_cost: float = _p(0.3, "extra unit cost per unit of variety across segments", 0, 5)
    # --- reorganization ------------------------------------------------------------------
    reorganize_step: int | None = _p(None, "month at which the focal firm reorganizes", 1,
                                     100_000, True)
    reorganize_to: str | Mapping[str, float] | None = _p(
        None, "preset (or lever values) the focal firm moves to (default: the other preset)")
    reorganize_cost: float = _p(2.0, "one-off cost of a reorganization, months of revenue", 0,
                                120)
    transition_steps: int = _p(12, "months a reorganization takes", 1, 240, True)
    transition_disruption: float = _p(0.5, "how much a transition disrupts sensing and "
                                      "deciding at its worst", 0, 1)
    recovery_fraction: float = _p(0.95, "share of the pre-shock level that counts as recovered",
                                  0.01, 1)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            _check_field(f.name, getattr(self, f.name), f.metadata.get("bound"))
        for name in ("structure", "rival_structure"):
            value = getattr(self, name)
            if value is not None and value not in PRESETS:
                raise ParameterError(name, f"{value!r} is not one of {sorted(PRESETS)}")
        if isinstance(self.reorganize_to, str) and self.reorganize_to not in PRESETS:
            raise ParameterError("reorganize_to",
                                 f"{self.reorganize_to!r} is not one of {sorted(PRESETS)}")
        if isinstance(self.reorganize_to, Mapping):
            check_levers("reorganize_to", self.reorganize_to)
        for name in ("shock_steps", "new_segment_steps", "entrant_steps"):
            steps = getattr(self, name)
            if not isinstance(steps, tuple) or not all(
                    isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in steps):
                raise ParameterError(name, f"{steps!r} must be a tuple of whole months >= 1")
        if self.firms is not None:
            if not self.firms:
                raise ParameterError("firms", "needs at least one firm")
            for i, firm in enumerate(self.firms):
                _check_firm(f"firms[{i}]", firm)
            # With explicit firms these keywords would be silently ignored: refuse them.
            for name in _PER_FIRM_KEYWORDS:
                if getattr(self, name) != PARAMETERS[name].default:
                    raise ParameterError(name, "cannot be combined with firms: set it on each "
                                         "firm instead")
        if self.segment_specs is not None:
            _check_segments(self.segment_specs, self.dimensions)

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> ModelParams:
        """Build from keywords, naming an unknown keyword instead of a TypeError."""
        known = {f.name for f in dataclasses.fields(cls)}
        for key in kwargs:
            if key not in known:
                raise ParameterError(key, "is not a parameter of OrgModel")
        normalised: dict[str, Any] = {
            k: tuple(v) if k.endswith("_steps") and isinstance(v, Sequence)
            and not isinstance(v, str) else v for k, v in kwargs.items()}
        if isinstance(normalised.get("firms"), list):
            normalised["firms"] = tuple(normalised["firms"])
        if isinstance(normalised.get("segment_specs"), list):
            normalised["segment_specs"] = tuple(normalised["segment_specs"])
        return cls(**normalised)


_PER_FIRM_KEYWORDS = ("price", "rival_price", "rivals", "rival_structure")
"""Keywords that describe the default incumbents; with explicit ``firms`` they have no use."""

PARAMETERS: dict[str, dataclasses.Field[Any]] = {
    f.name: f for f in dataclasses.fields(ModelParams)}
"""Parameter name -> dataclass field; ``field.metadata`` holds ``doc`` and ``bound``."""

DEFAULT_SEED = 42
"""The seed of the default market when none is given: every face (``outsidein run``, the app,
the workshop) starts from this one. A scenario file names its own seed."""


def _check_number(name: str, value: Any, bound: Bound) -> None:
    kind = "a whole number" if bound.integer else "a number"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParameterError(name, f"{value!r} is not {kind} in [{bound.low:g}, {bound.high:g}]")
    if bound.integer and not float(value).is_integer():
        raise ParameterError(name, f"{value!r} is not {kind} in [{bound.low:g}, {bound.high:g}]")
    if not math.isfinite(value) or not bound.low <= value <= bound.high:
        raise ParameterError(name, f"{value!r} is outside [{bound.low:g}, {bound.high:g}]")


def _check_field(name: str, value: Any, bound: Bound | None) -> None:
    if bound is not None and value is not None:
        _check_number(name, value, bound)


def check_levers(name: str, levers: Mapping[str, float]) -> None:
    """Check a mapping of lever values: known names, numbers in [0, 1]."""
    for key, value in levers.items():
        if key not in LEVERS:
            raise ParameterError(f"{name}.{key}", f"is not a lever; levers are {list(LEVERS)}")
        _check_number(f"{name}.{key}", value, Bound(0, 1))


def _check_firm(name: str, firm: Any) -> None:
    if not isinstance(firm, FirmSpec):
        raise ParameterError(name, f"{firm!r} is not a FirmSpec")
    if firm.structure not in PRESETS:
        raise ParameterError(f"{name}.structure",
                             f"{firm.structure!r} is not one of {sorted(PRESETS)}")
    check_levers(f"{name}.levers", firm.levers)
    _check_number(f"{name}.price", firm.price, PARAMETERS["price"].metadata["bound"])
    if firm.cash is not None:
        _check_number(f"{name}.cash", firm.cash, PARAMETERS["starting_cash"].metadata["bound"])


def _check_segments(segments: tuple[SegmentSpec, ...], dimensions: int) -> None:
    if not any(not s.emerging for s in segments):
        raise ParameterError("segment_specs", "needs at least one segment that is not emerging")
    for i, seg in enumerate(segments):
        name = f"segment_specs[{i}]"
        if not isinstance(seg, SegmentSpec):
            raise ParameterError(name, f"{seg!r} is not a SegmentSpec")
        _check_number(f"{name}.share", seg.share, Bound(1e-6, 1e6))
        _check_number(f"{name}.value", seg.value, Bound(0, 100))
        _check_number(f"{name}.price_sensitivity", seg.price_sensitivity, Bound(0, 100))
        for attr in ("ideal", "weights"):
            values = getattr(seg, attr)
            if len(values) != dimensions:
                raise ParameterError(f"{name}.{attr}",
                                     f"has {len(values)} values; dimensions is {dimensions}")
            for j, v in enumerate(values):
                _check_number(f"{name}.{attr}[{j}]", v, Bound(0, 1) if attr == "ideal"
                              else Bound(0, 1e6))
        if sum(seg.weights) <= 0:
            raise ParameterError(f"{name}.weights", "must not all be zero")
