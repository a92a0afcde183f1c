"""Scenarios: a market, its firms and a timeline of events, written in YAML.

Scenarios are written by people who do not write Python, so they are validated here at the
boundary and turned into :class:`OrgModel` keywords. A scenario file is checked in full before
anything runs: unknown keys (with a "did you mean"), wrong types, numbers outside their range,
NaN, empty or binary files, YAML syntax errors, files too large to be a scenario, and a
missing or circular ``extends``. Each mistake raises one :class:`ScenarioError` whose message
names the file, the line (where the YAML parser knows it), the field path and what is allowed,
because a workshop facilitator must be able to fix the file from that line alone.

The schema and its mapping to the model are here; reading files (YAML with line numbers,
``extends``, error messages) is in :mod:`simulation.scenario_files`.

Ranges are not written here: every field that is a model parameter takes its bound, default and
meaning from :data:`simulation.params.PARAMETERS`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from simulation.errors import OutsideInError, ParameterError
from simulation.outcomes import SUBJECT_NEEDS, SUBJECTS
from simulation.params import LEVERS, PARAMETERS, FirmSpec, ModelParams, SegmentSpec
from simulation.presets import PRESETS
from simulation.shipped import shipped_folder
from simulation.structures import with_listed_firms

SCENARIO_DIR: Path = shipped_folder("scenarios")
"""Where the shipped scenarios live: the checkout's ``scenarios/``, or the installed copy."""

MAX_BYTES: int = 256 * 1024
"""Largest scenario file accepted; the shipped ones are a few kilobytes."""

MAX_NODES: int = 20_000
"""Largest number of YAML nodes (aliases counted each time they are used) accepted."""

MAX_EXTENDS: int = 16
"""Longest chain of ``extends`` followed before it is called absurd."""


class ScenarioError(OutsideInError, ValueError):
    """A scenario file or value is not a valid scenario.

    Attributes:
        source: the file (or ``"<scenario>"`` for values given in Python).
        field: the dotted path of the bad field (``market.turbulence``, ``timeline[2].step``),
            or ``None`` when the whole file is wrong (empty, binary, not YAML).
        line: the 1-based line in ``source`` where the field is written, when known.

    """

    def __init__(self, source: str, message: str, field: str | None = None,
                 line: int | None = None) -> None:
        self.source = source
        self.field = field
        self.line = line
        self.reason = message
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")


# --- schema ----------------------------------------------------------------------------------

PARAM_KEY = "parameter"
"""Field metadata (``json_schema_extra``) naming the model parameter a field sets."""


def _param(name: str, default: Any = ...) -> Any:
    """A pydantic field for model parameter ``name``: its default, bound and doc, written once.

    The field's metadata names the parameter (:data:`PARAM_KEY`); the mapping from a
    scenario to the model's keywords (:meth:`Scenario.to_model_kwargs`) and back from a
    parameter to the field that sets it (:func:`parameter_paths`) are both derived from it.

    Args:
        name: a key of :data:`PARAMETERS`.
        default: a different default (``None`` for "take the model's"); the parameter's own
            default when omitted.

    """
    spec = PARAMETERS[name]
    bound = spec.metadata["bound"]
    kwargs: dict[str, Any] = {"description": spec.metadata["doc"],
                              "json_schema_extra": {PARAM_KEY: name}}
    if bound is not None:
        kwargs.update(ge=bound.low, le=bound.high)
        if not bound.integer:
            kwargs["allow_inf_nan"] = False
    return Field(default=spec.default if default is ... else default, **kwargs)


class _Strict(BaseModel):
    """Base of every scenario section: unknown keys and silent type coercion are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Levers(_Strict):
    """Lever values that replace those of a firm's preset; unset levers keep the preset's."""

    coordination: float | None = _param("coordination")
    cooperation: float | None = _param("cooperation")
    clout: float | None = _param("clout")
    capability: float | None = _param("capability")
    connections: float | None = _param("connections")

    def values(self) -> dict[str, float]:
        """The levers that are set, as a plain dict."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


def _check_preset(value: str) -> str:
    names = _preset_names()
    if value not in names:
        raise ValueError(f"{value!r} is not a preset{_suggest(value, names)}; "
                         f"presets are {', '.join(names)}")
    return value


def _preset_names() -> list[str]:
    return sorted(PRESETS)


PresetName = Annotated[str, Field(min_length=1), AfterValidator(_check_preset)]
"""The name of a preset organization, checked against the core's table wherever it is used."""


def _pick_levers_or_preset(value: Any) -> str:
    return "#levers" if isinstance(value, Mapping | BaseModel) else "#preset"

PresetOrLevers = Annotated[
    Annotated[PresetName, Tag("#preset")] | Annotated[Levers, Tag("#levers")],
    Discriminator(_pick_levers_or_preset),
]


class Firm(_Strict):
    """An incumbent firm: a preset organization, lever values that differ from it, price, cash."""

    name: str = Field(min_length=1, max_length=60, description="name shown in tables")
    structure: PresetName = Field("inside_out", description="preset: inside_out or "
                                  "outside_in")
    levers: Levers = Field(default_factory=Levers, description="levers that differ from the "
                           "preset")
    price: float = _param("price")
    cash: float | None = _param("starting_cash", None)  # None: money.starting_cash

    def spec(self) -> FirmSpec:
        """Return the firm as the core's :class:`FirmSpec`."""
        return FirmSpec(name=self.name, structure=self.structure, levers=self.levers.values(),
                        price=self.price, cash=self.cash)


class Competitors(_Strict):
    """Rivals made from one preset, used when ``firms`` lists only the focal firm."""

    count: int = _param("rivals")
    structure: PresetName | None = _param("rival_structure")
    price: float = _param("rival_price")


class Segment(_Strict):
    """A customer segment: how big, how valuable, what it needs and what matters to it."""

    name: str = Field(min_length=1, max_length=60)
    share: float = Field(gt=0, le=1e6, allow_inf_nan=False,
                         description="relative size (normalised over segments)")
    value: float = Field(1.0, ge=0, le=100, allow_inf_nan=False,
                         description="spend per customer, relative")
    ideal: list[Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]] = Field(
        min_length=2, max_length=8, description="need in each attribute, in [0, 1]")
    weights: list[Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]] = Field(
        min_length=2, max_length=8, description="how much each attribute matters")
    price_sensitivity: float = Field(1.0, ge=0, le=100, allow_inf_nan=False,
                                     description="multiplies the market's price sensitivity")
    emerging: bool = Field(False, description="latent at the start; emerges later")

    def spec(self) -> SegmentSpec:
        """Return the segment as the core's :class:`SegmentSpec`."""
        return SegmentSpec(name=self.name, share=self.share, value=self.value,
                           ideal=tuple(self.ideal), weights=tuple(self.weights),
                           price_sensitivity=self.price_sensitivity, emerging=self.emerging)


def _pick_segments(value: Any) -> str:
    return "#list" if isinstance(value, list) else "#count"


SegmentsField = Annotated[
    Annotated[Annotated[int, Field(ge=PARAMETERS["segments"].metadata["bound"].low,
                                   le=PARAMETERS["segments"].metadata["bound"].high)],
              Tag("#count")]
    | Annotated[list[Segment], Field(min_length=1, max_length=18), Tag("#list")],
    Discriminator(_pick_segments),
]


_DEFAULT_SEGMENTS: int = ModelParams().segments


class Market(_Strict):
    """Customers, their segments and needs, and how the needs move."""

    customers: int = _param("customers")
    dimensions: int = _param("dimensions")
    segments: SegmentsField = Field(default=_DEFAULT_SEGMENTS,
                                    description="a count (a generated market) or a list")
    emerging_segments: int = _param("emerging_segments")
    turbulence: float = _param("turbulence")
    momentum: float = _param("momentum")
    need_noise: float = _param("need_noise")
    shock_rate: float = _param("shock_rate")
    shock_size: float = _param("shock_size")
    new_segment_rate: float = _param("new_segment_rate")

    @model_validator(mode="after")
    def _consistent(self) -> Market:
        if isinstance(self.segments, list):
            if "emerging_segments" in self.model_fields_set:
                raise ValueError("emerging_segments applies only when segments is a count; "
                                 "mark listed segments 'emerging: true' instead")
            for i, seg in enumerate(self.segments):
                for attr in ("ideal", "weights"):
                    if len(getattr(seg, attr)) != self.dimensions:
                        raise _FieldValueError(
                            ("segments", i, attr), f"has {len(getattr(seg, attr))} values; "
                            f"dimensions is {self.dimensions}")
                if sum(seg.weights) <= 0:
                    raise _FieldValueError(("segments", i, "weights"), "must not all be zero")
            if all(seg.emerging for seg in self.segments):
                raise ValueError("needs at least one segment that is not emerging")
        return self


class Choice(_Strict):
    """How customers choose a supplier."""

    switch_rate: float = _param("switch_rate")
    loyalty: float = _param("loyalty")
    fit_sensitivity: float = _param("fit_sensitivity")
    price_sensitivity: float = _param("price_sensitivity")
    outside_option: float = _param("outside_option")


class Organization(_Strict):
    """How every incumbent senses and decides (the levers set how well)."""

    departments: int = _param("departments")
    sense_noise: float = _param("sense_noise")
    hear_current: float = _param("hear_current")
    belief_gain: float = _param("belief_gain")
    trend_noise: float = _param("trend_noise")
    anticipation_months: float = _param("anticipation_months")
    noise_filter: float = _param("noise_filter")
    execution_noise: float = _param("execution_noise")
    borrowed_capability: float = _param("borrowed_capability")
    roadmap_speed: float = _param("roadmap_speed")
    silo_lag: float = _param("silo_lag")
    max_change: float = _param("max_change")
    interdependence: float = _param("interdependence")


class Money(_Strict):
    """Costs and starting cash of every incumbent."""

    unit_cost: float = _param("unit_cost")
    fixed_cost: float = _param("fixed_cost")
    lever_cost: float = _param("lever_cost")
    change_cost: float = _param("change_cost")
    variety_cost: float = _param("variety_cost")
    starting_cash: float = _param("starting_cash")
    answer_rate: float = _param("answer_rate")
    answer_spend: float = _param("answer_spend")
    cost_floor: float = _param("cost_floor")


class Entrants(_Strict):
    """Disruptive entrants (Christensen): cheap and poor at first, improving fast."""

    rate: float = _param("entrant_rate")
    price: float = _param("entrant_price")
    capacity: float = _param("entrant_capacity")
    growth: float = _param("entrant_growth")
    improvement: float = _param("entrant_improvement")
    performance: float = _param("entrant_performance")
    cash: float = _param("entrant_cash")
    unit_cost: float = _param("entrant_unit_cost")
    overhead: float = _param("entrant_overhead")


class Metrics(_Strict):
    """How outcomes are measured."""

    recovery_fraction: float = _param("recovery_fraction")
    detect_share: float = _param("detect_share")
    serve_share: float = _param("serve_share")


SECTIONS: dict[str, type[_Strict]] = {"market": Market, "choice": Choice,
                                      "organization": Organization, "money": Money,
                                      "entrants": Entrants, "metrics": Metrics}
"""Sections whose fields set model parameters one to one (market segments aside)."""


def field_parameters(model: type[BaseModel]) -> dict[str, str]:
    """Field name -> the model parameter it sets, read from the fields' metadata."""
    out = {}
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and isinstance(extra.get(PARAM_KEY), str):
            out[name] = str(extra[PARAM_KEY])
    return out


EventKind = Literal["shock", "entrant", "new_segment", "reorganization"]


class Event(_Strict):
    """Something that happens at a chosen month.

    A needs shock, a disruptor's entry, a new segment, or the focal firm's reorganization
    (``to`` a preset or lever values).
    """

    step: int = Field(ge=1, le=100_000, description="month at which it happens")
    event: EventKind
    to: PresetOrLevers | None = Field(None, description="reorganization only: preset or "
                                      "levers (default: the other preset)")
    cost: float | None = _param("reorganize_cost", None)
    transition_steps: int | None = _param("transition_steps", None)
    transition_disruption: float | None = _param("transition_disruption", None)

    @model_validator(mode="after")
    def _only_for_reorganization(self) -> Event:
        if self.event != "reorganization":
            for name in ("to", "cost", "transition_steps", "transition_disruption"):
                if getattr(self, name) is not None:
                    raise _FieldValueError((name,), f"applies only to a reorganization, "
                                           f"not to a {self.event}")
        return self


def _pick_org(value: Any) -> str:
    return "#custom" if isinstance(value, Mapping | BaseModel) else "#preset"


class CustomOrganization(_Strict):
    """An organization to compare that is not a plain preset: a preset plus lever values."""

    label: str = Field(min_length=1, max_length=40)
    structure: PresetName = "inside_out"
    levers: Levers = Field(default_factory=Levers)
    reorganize: bool = Field(True, description="false: this organization skips the "
                             "timeline's reorganization (to compare reorganizing with not)")


CompareEntry = Annotated[
    Annotated[PresetName, Tag("#preset")] | Annotated[CustomOrganization, Tag("#custom")],
    Discriminator(_pick_org),
]


def _default_compare() -> list[str | CustomOrganization]:
    return ["inside_out", "outside_in"]


@dataclass(frozen=True)
class Arm:
    """One organization of a comparison: how the focal firm is organized in that arm.

    Attributes:
        label: its name in tables.
        structure: its preset.
        levers: lever values that differ from the preset.
        reorganize: whether it goes through the timeline's reorganization.
        focal_firm: it is the scenario's own focal firm (which sets levers of its own).

    """

    label: str
    structure: str
    levers: dict[str, float]
    reorganize: bool = True
    focal_firm: bool = False

    def overrides(self) -> dict[str, Any]:
        """The :meth:`Scenario.to_model_kwargs` keywords that make the focal firm this arm."""
        out: dict[str, Any] = {} if self.focal_firm else {"structure": self.structure,
                                                          **self.levers}
        if not self.reorganize:
            out["reorganize_step"] = None
        return out

    def firm(self, name: str, price: float, cash: float | None = None) -> FirmSpec:
        """Return the organization as an incumbent of the core (a rival, head-to-head)."""
        return FirmSpec(name=name, structure=self.structure, levers=dict(self.levers),
                        price=price, cash=cash)


class Scenario(_Strict):
    """A validated scenario: what a workshop runs, and what it is meant to teach.

    The focal firm is ``firms[0]``; :meth:`to_model_kwargs` turns the scenario (with overrides)
    into :class:`OrgModel` keywords.
    """

    title: str = Field(min_length=1, max_length=120)
    description: str = Field(min_length=1, max_length=4000,
                             description="the situation, in plain language")
    teaches: str = Field(min_length=1, max_length=4000, description="what it is meant to teach")
    questions: list[Annotated[str, Field(min_length=1, max_length=1000)]] = Field(
        min_length=1, max_length=20, description="discussion questions (not answers)")
    answered_by: list[list[str]] = Field(
        default_factory=list, max_length=20,
        description="per question, in order, what on the compare handout answers it: "
                    "summary, organizations, market_share, profit, cash, survival, "
                    "awareness_gap, action_gap, recovery, entrants_share, notice, serve")
    steps: int = Field(240, ge=1, le=100_000, description="months to run")
    seed: int = Field(0, ge=0, le=2**63 - 1, description="root seed of the replications")
    compare: list[CompareEntry] = Field(
        default_factory=_default_compare, min_length=2, max_length=2,
        description="the two organizations `outsidein compare` sets against each other")
    market: Market = Field(default_factory=lambda: Market())
    choice: Choice = Field(default_factory=lambda: Choice())
    firms: list[Firm] = Field(min_length=1, max_length=7,
                              description="incumbents; the first is the focal firm")
    competitors: Competitors | None = Field(None, description="rivals from one preset (only "
                                            "when firms lists the focal firm alone)")
    organization: Organization = Field(default_factory=lambda: Organization())
    money: Money = Field(default_factory=lambda: Money())
    entrants: Entrants = Field(default_factory=lambda: Entrants())
    timeline: list[Event] = Field(default_factory=list, max_length=500)
    metrics: Metrics = Field(default_factory=lambda: Metrics())

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if self.competitors is not None and len(self.firms) > 1:
            raise _FieldValueError(("competitors",), "give rivals either as firms after the "
                                   "first or as competitors, not both")
        if len(self.firms) == 1 and self.focal.cash is not None:
            raise _FieldValueError(("firms", 0, "cash"), "a firm's own cash needs its rivals "
                                   "listed as firms too; or set money.starting_cash for all")
        names = [f.name for f in self.firms]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise _FieldValueError(("firms", i, "name"), f"{name!r} is used twice")
        self._check_answers()
        reorgs = [i for i, e in enumerate(self.timeline) if e.event == "reorganization"]
        if len(reorgs) > 1:
            raise _FieldValueError(("timeline", reorgs[1]), "the focal firm can reorganize "
                                   "once per run")
        for i, e in enumerate(self.timeline):
            if e.step > self.steps:
                raise _FieldValueError(("timeline", i, "step"),
                                       f"{e.step} is after the last month ({self.steps})")
        labels = [_org_label(o) for o in self.compare]
        if labels[0] == labels[1]:
            raise _FieldValueError(("compare",), f"compares {labels[0]!r} with itself")
        return self

    # --- mapping to the model ----------------------------------------------------------------

    @property
    def focal(self) -> Firm:
        """The focal firm (the first listed)."""
        return self.firms[0]

    def organizations(self) -> list[tuple[str, dict[str, Any]]]:
        """The two organizations as (label, :meth:`to_model_kwargs` overrides); see :meth:`arms`."""
        return [(arm.label, arm.overrides()) for arm in self.arms()]

    def arms(self, source: str = "<scenario>") -> list[Arm]:
        """The two organizations to compare, as :class:`Arm` (label, structure, levers).

        When the focal firm sets its own levers, the arm that names its preset (or repeats
        its structure and levers) *is* that firm, levers and all, so ``run``, ``compare`` and
        the app show the same firm. If neither arm is, and no organization sets those levers
        itself, the comparison would silently drop them, so it is refused.

        Raises:
            ScenarioError: the focal firm sets levers that neither organization uses.

        """
        mine = self.focal.levers.values()
        arms = []
        for entry in self.compare:
            if isinstance(entry, str):
                same = bool(mine) and entry == self.focal.structure
                arms.append(Arm(entry, entry, dict(mine) if same else {}, True, same))
            else:
                same = bool(mine) and entry.structure == self.focal.structure \
                    and entry.levers.values() == mine
                arms.append(Arm(entry.label, entry.structure, entry.levers.values(),
                                entry.reorganize, same))
        # an organization that sets each of those levers itself chose its values: not a drop
        chosen = any(not isinstance(e, str) and set(mine) <= set(e.levers.values())
                     for e in self.compare)
        if mine and not chosen and not any(arm.focal_firm for arm in arms):
            told = ", ".join(f"{k}={v:g}" for k, v in mine.items())
            raise ScenarioError(
                source, f"firms[0] ({self.focal.name}) sets levers {told}, but neither "
                f"organization compared ({arms[0].label}, {arms[1].label}) is that firm, so "
                "its levers would be dropped; name its preset "
                f"{self.focal.structure!r} in compare (the focal firm as one arm), or set "
                f"{', '.join(mine)} in one organization's levers", field="compare")
        return arms

    def _check_answers(self) -> None:

        if self.answered_by and len(self.answered_by) != len(self.questions):
            raise _FieldValueError(("answered_by",), f"has {len(self.answered_by)} entries for "
                                   f"{len(self.questions)} questions; give one list per question")
        kinds = self.event_kinds()
        for i, subjects in enumerate(self.answered_by):
            for j, subject in enumerate(subjects):
                if subject not in SUBJECTS:
                    raise _FieldValueError(("answered_by", i, j), f"{subject!r} is not one of "
                                           f"{', '.join(SUBJECTS)}")
                need = SUBJECT_NEEDS.get(subject, "")
                if need and need not in kinds:
                    raise _FieldValueError(("answered_by", i, j), f"{subject!r} needs events "
                                           f"of kind {need!r}, which this scenario never "
                                           "brings (timeline or a rate above 0)")

    def event_kinds(self) -> set[str]:
        """The kinds of event the scenario can bring: scheduled, or random at a rate above 0."""
        kinds = {e.event for e in self.timeline}
        rates = {"shock": self.market.shock_rate, "entrant": self.entrants.rate,
                 "new_segment": self.market.new_segment_rate}
        return kinds | {kind for kind, rate in rates.items() if rate > 0}

    def scheduled_events(self) -> list[tuple[int, str]]:
        """The timeline as (step, kind), sorted by step."""
        return sorted((e.step, e.event) for e in self.timeline)

    def to_model_kwargs(self, **overrides: Any) -> dict[str, Any]:
        """The :class:`OrgModel` keywords of this scenario, with overrides applied.

        ``rng`` is the scenario's seed (``OrgModel.from_scenario`` takes it unless given
        another). ``structure=X`` gives the focal firm preset X whole (its explicit levers are
        dropped); lever overrides (``clout=0.9``) and ``price`` then apply to the focal firm;
        any other keyword replaces the parameter of that name.

        Raises:
            ParameterError: an override is not a model parameter or is out of range.

        """
        for key in overrides:
            if key not in PARAMETERS:
                raise ParameterError(key, "is not a parameter of OrgModel"
                                     f"{_suggest(key, list(PARAMETERS))}")
        focal = self.focal
        levers = {} if "structure" in overrides else focal.levers.values()
        levers.update({k: overrides.pop(k) for k in LEVERS if k in overrides})
        structure = overrides.pop("structure", focal.structure)
        price = overrides.pop("price", focal.price)

        m = self.market
        kw: dict[str, Any] = {}
        for section, model in SECTIONS.items():
            values = getattr(self, section)
            kw.update({param: getattr(values, name)
                       for name, param in field_parameters(model).items()})
        if isinstance(m.segments, list):
            kw["segment_specs"] = tuple(s.spec() for s in m.segments)
            kw["segments"] = sum(not s.emerging for s in m.segments)
            kw["emerging_segments"] = sum(s.emerging for s in m.segments)
        else:
            kw["segments"] = m.segments
            kw["emerging_segments"] = m.emerging_segments
        for kind in ("shock", "entrant", "new_segment"):
            kw[f"{kind}_steps"] = tuple(sorted(e.step for e in self.timeline
                                               if e.event == kind))
        for e in self.timeline:
            if e.event == "reorganization":
                kw["reorganize_step"] = e.step
                kw["reorganize_to"] = (e.to.values() if isinstance(e.to, Levers) else e.to)
                for name, param in field_parameters(Event).items():
                    if getattr(e, name) is not None:
                        kw[param] = getattr(e, name)

        kw["structure"] = structure
        kw.update({k: levers.get(k) for k in LEVERS})
        if len(self.firms) == 1:
            kw["price"] = price
            rivals = self.competitors or Competitors()
            kw.update({param: getattr(rivals, name)
                       for name, param in field_parameters(Competitors).items()})
        else:
            first = FirmSpec(name=focal.name, structure=structure, levers=levers, price=price,
                             cash=focal.cash)
            kw["firms"] = (first, *(f.spec() for f in self.firms[1:]))
        kw.update(overrides)
        kw["rng"] = self.seed  # OrgModel.from_scenario uses it unless given another rng
        return kw

    def head_to_head_kwargs(self, first: Arm, second: Arm, **overrides: Any) -> dict[str, Any]:
        """Model keywords in which ``first`` is the focal firm and ``second`` its first rival.

        The two organizations compete in this scenario's one market; every other incumbent
        stays as the scenario has it. Rivals made from ``competitors`` become listed firms
        (same names, price and cash as the model would give them).

        Raises:
            ParameterError: the scenario has no rival to stand for ``second``, or an
                override is out of range.

        """
        kw = with_listed_firms(self.to_model_kwargs(**{**first.overrides(), **overrides}))
        firms = list(kw["firms"])
        if len(firms) < 2:
            raise ParameterError("rivals", "head-to-head needs a rival for the second "
                                 "organization; the scenario has none")
        firms[1] = second.firm(firms[1].name, firms[1].price, firms[1].cash)
        kw["firms"] = tuple(firms)
        return kw

    def to_params(self, **overrides: Any) -> ModelParams:
        """The validated :class:`ModelParams` of this scenario (checks cross-field rules)."""
        kwargs = self.to_model_kwargs(**overrides)
        kwargs.pop("rng")
        return ModelParams.from_kwargs(**kwargs)

    def dump(self) -> str:
        """Write the scenario as YAML that loads back to an equal one (defaults left out)."""
        return _to_yaml(self.model_dump(mode="json", exclude_defaults=True))

    def dump_full(self) -> str:
        """Write the scenario as YAML with every value written out, defaults included."""
        data = self.model_dump(mode="json", exclude_none=True)
        if isinstance(self.market.segments, list):  # a count of emerging segments is moot
            del data["market"]["emerging_segments"]
        return _to_yaml(data)


def parameter_paths() -> dict[str, tuple[str | int, ...]]:
    """Model parameter -> where a scenario sets it: the reverse of :meth:`Scenario.to_model_kwargs`.

    Derived from the same field metadata; used to point an error the model raises about a
    parameter at the scenario field to fix.
    """
    paths: dict[str, tuple[str | int, ...]] = {}
    for section, model in SECTIONS.items():
        paths.update({param: (section, name) for name, param in field_parameters(model).items()})
    paths["segments"] = ("market", "segments")  # a count, or the list (segment_specs)
    paths.update({param: ("competitors", name)
                  for name, param in field_parameters(Competitors).items()})
    focal: tuple[str | int, ...] = ("firms", 0)
    paths["structure"] = (*focal, "structure")
    for name, param in field_parameters(Firm).items():
        paths.setdefault(param, (*focal, name))  # starting_cash stays money's
    paths.update({param: (*focal, "levers", name)
                  for name, param in field_parameters(Levers).items()})
    timeline = ("reorganize_step", "reorganize_to", *field_parameters(Event).values(),
                *(f"{kind}_steps" for kind in ("shock", "entrant", "new_segment")))
    paths.update(dict.fromkeys(timeline, ("timeline",)))
    return paths


class _Dumper(yaml.SafeDumper):
    """Writes long text as folded blocks, so a dumped scenario stays readable."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = ">" if len(value) > 100 or "\n" in value.rstrip("\n") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def _to_yaml(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=92)


def _org_label(entry: str | CustomOrganization) -> str:
    return entry if isinstance(entry, str) else entry.label


class _FieldValueError(ValueError):
    """Raised inside validators to point at a field below the model being validated."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        self.loc = loc
        self.message = message
        super().__init__(message)


def _suggest(word: Any, choices: list[str]) -> str:
    close = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def scenario_names(directory: Path = SCENARIO_DIR) -> list[str]:
    """Names of the shipped scenarios (file stems), sorted."""
    return sorted(p.stem for p in directory.glob("*.yaml"))
