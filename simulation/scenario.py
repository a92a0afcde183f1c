"""Scenarios: a market, its firms and a timeline of events, written in YAML.

Scenarios are written by people who do not write Python, so they are validated here at the
boundary and turned into :class:`OrgModel` keywords. A scenario file is checked in full before
anything runs: unknown keys (with a "did you mean"), wrong types, numbers outside their range,
NaN, empty or binary files, YAML syntax errors, files too large to be a scenario, and a
missing or circular ``extends``. Each mistake raises one
:class:`ScenarioError` whose message names the file, the line (where the YAML parser knows it),
the field path and what is allowed, because a workshop facilitator must be able to fix the file
from that line alone.

Ranges are not written here: every field that is a model parameter takes its bound, default and
meaning from :data:`simulation.params.PARAMETERS`.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from simulation.errors import OutsideInError, ParameterError
from simulation.params import LEVERS, PARAMETERS, FirmSpec, ModelParams, SegmentSpec

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
"""Where the shipped scenarios live (the repository's ``scenarios/`` folder)."""

MAX_BYTES = 256 * 1024
"""Largest scenario file accepted; the shipped ones are a few kilobytes."""

MAX_NODES = 20_000
"""Largest number of YAML nodes (aliases counted each time they are used) accepted."""

MAX_EXTENDS = 16
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

def _param(name: str, default: Any = ...) -> Any:
    """A pydantic field for model parameter ``name``: its default, bound and doc, written once.

    Args:
        name: a key of :data:`PARAMETERS`.
        default: a different default (``None`` for "take the model's"); the parameter's own
            default when omitted.

    """
    spec = PARAMETERS[name]
    bound = spec.metadata["bound"]
    kwargs: dict[str, Any] = {"description": spec.metadata["doc"]}
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
    from simulation.structures import PRESETS  # the core's table of organizations

    return sorted(PRESETS)


def _pick_levers_or_preset(value: Any) -> str:
    return "#levers" if isinstance(value, Mapping | BaseModel) else "#preset"


PresetName = Annotated[str, Field(min_length=1)]
PresetOrLevers = Annotated[
    Annotated[PresetName, Tag("#preset")] | Annotated[Levers, Tag("#levers")],
    Discriminator(_pick_levers_or_preset),
]


class Firm(_Strict):
    """An incumbent firm: a preset organization, lever values that differ from it, price, cash."""

    name: str = Field(min_length=1, max_length=60, description="name shown in tables")
    structure: str = Field("inside_out", description="preset: inside_out or outside_in")
    levers: Levers = Field(default_factory=Levers, description="levers that differ from the "
                           "preset")
    price: float = _param("price")
    cash: float | None = Field(None, ge=0, le=120, allow_inf_nan=False,
                               description="starting cash in months of fair-share revenue "
                               "(default: money.starting_cash)")

    @field_validator("structure")
    @classmethod
    def _known(cls, value: str) -> str:
        return _check_preset(value)

    def spec(self) -> FirmSpec:
        """Return the firm as the core's :class:`FirmSpec`."""
        return FirmSpec(name=self.name, structure=self.structure, levers=self.levers.values(),
                        price=self.price, cash=self.cash)


class Competitors(_Strict):
    """Rivals made from one preset, used when ``firms`` lists only the focal firm."""

    count: int = _param("rivals")
    structure: str | None = _param("rival_structure")
    price: float = _param("rival_price")

    @field_validator("structure")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        return None if value is None else _check_preset(value)


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
    roadmap_speed: float = _param("roadmap_speed")
    max_change: float = _param("max_change")


class Money(_Strict):
    """Costs and starting cash of every incumbent."""

    unit_cost: float = _param("unit_cost")
    fixed_cost: float = _param("fixed_cost")
    lever_cost: float = _param("lever_cost")
    change_cost: float = _param("change_cost")
    variety_cost: float = _param("variety_cost")
    starting_cash: float = _param("starting_cash")


class Entrants(_Strict):
    """Disruptive entrants (Christensen): cheap and poor at first, improving fast."""

    rate: float = _param("entrant_rate")
    price: float = _param("entrant_price")
    capacity: float = _param("entrant_capacity")
    growth: float = _param("entrant_growth")
    improvement: float = _param("entrant_improvement")


class Metrics(_Strict):
    """How outcomes are measured."""

    recovery_fraction: float = _param("recovery_fraction")


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

    @field_validator("to")
    @classmethod
    def _known_preset(cls, value: str | Levers | None) -> str | Levers | None:
        return _check_preset(value) if isinstance(value, str) else value

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
    structure: str = "inside_out"
    levers: Levers = Field(default_factory=Levers)
    reorganize: bool = Field(True, description="false: this organization skips the "
                             "timeline's reorganization (to compare reorganizing with not)")

    @field_validator("structure")
    @classmethod
    def _known(cls, value: str) -> str:
        return _check_preset(value)


CompareEntry = Annotated[
    Annotated[PresetName, Tag("#preset")] | Annotated[CustomOrganization, Tag("#custom")],
    Discriminator(_pick_org),
]


def _default_compare() -> list[str | CustomOrganization]:
    return ["inside_out", "outside_in"]


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
        """The two organizations to compare, as (label, overrides for :meth:`to_model_kwargs`)."""
        out = []
        for entry in self.compare:
            if isinstance(entry, str):
                out.append((entry, {"structure": entry}))
            else:
                overrides: dict[str, Any] = {"structure": entry.structure,
                                             **entry.levers.values()}
                if not entry.reorganize:
                    overrides["reorganize_step"] = None
                out.append((entry.label, overrides))
        return out

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
        kw: dict[str, Any] = {
            "customers": m.customers, "dimensions": m.dimensions, "turbulence": m.turbulence,
            "momentum": m.momentum, "shock_rate": m.shock_rate, "shock_size": m.shock_size,
            "new_segment_rate": m.new_segment_rate,
            **self.choice.model_dump(), **self.organization.model_dump(),
            **self.money.model_dump(), **self.metrics.model_dump(),
            **{f"entrant_{k}": v for k, v in self.entrants.model_dump().items()},
        }
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
                for name, param in (("cost", "reorganize_cost"),
                                    ("transition_steps", "transition_steps"),
                                    ("transition_disruption", "transition_disruption")):
                    if getattr(e, name) is not None:
                        kw[param] = getattr(e, name)

        kw["structure"] = structure
        kw.update({k: levers.get(k) for k in LEVERS})
        kw["price"] = price
        if len(self.firms) == 1:
            rivals = self.competitors or Competitors()
            kw["rivals"] = rivals.count
            kw["rival_structure"] = rivals.structure
            kw["rival_price"] = rivals.price
        else:
            first = FirmSpec(name=focal.name, structure=structure, levers=levers, price=price,
                             cash=focal.cash)
            kw["firms"] = (first, *(f.spec() for f in self.firms[1:]))
            kw["rivals"] = len(self.firms) - 1
        kw.update(overrides)
        kw["rng"] = self.seed  # OrgModel.from_scenario uses it unless given another rng
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


# --- loading ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Document:
    """One parsed YAML file: its data and the line of every field path in it."""

    path: Path
    data: dict[str, Any]
    lines: dict[tuple[str | int, ...], int]


def scenario_names(directory: Path = SCENARIO_DIR) -> list[str]:
    """Names of the shipped scenarios (file stems), sorted."""
    return sorted(p.stem for p in directory.glob("*.yaml"))


def resolve(name_or_path: str | Path, base: Path | None = None) -> Path:
    """The file a scenario name or path refers to.

    A name (no ``/``, no ``.yaml``) is looked for beside ``base`` first, then among the
    shipped scenarios; a path is taken relative to ``base`` (or the working directory).

    Raises:
        ScenarioError: nothing of that name exists.

    """
    text = str(name_or_path)
    is_path = isinstance(name_or_path, Path) or "/" in text or text.endswith((".yaml", ".yml"))
    if is_path:
        path = Path(text)
        if not path.is_absolute() and base is not None:
            path = base / path
        if path.is_file():
            return path
        if path.is_dir():
            raise ScenarioError(text, "is a folder; give a scenario file (.yaml) or a name")
        raise ScenarioError(text, "is not a regular file" if path.exists() else "no such file")
    for folder in ([base] if base is not None else []) + [SCENARIO_DIR]:
        candidate = folder / f"{text}.yaml"
        if candidate.is_file():
            return candidate
    names = scenario_names()
    raise ScenarioError(text, f"no scenario of that name{_suggest(text, names)}; "
                        f"shipped scenarios are {', '.join(names)}")


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load, merge (``extends``) and validate a scenario file.

    Args:
        name_or_path: a shipped scenario's name (``turbulent-market``) or a file path.

    Raises:
        ScenarioError: anything wrong with the file, with its path, line and field.

    """
    path = resolve(name_or_path)
    chain = _load_chain(path)
    merged: dict[str, Any] = {}
    for doc in reversed(chain):
        merged = _merge(merged, doc.data)
    merged.pop("extends", None)
    try:
        scenario = Scenario.model_validate(merged)
    except ValidationError as exc:
        raise _to_scenario_error(exc, chain) from None
    except RecursionError:
        raise ScenarioError(str(path), "is nested too deeply to be a scenario") from None
    try:
        scenario.to_params()
    except ParameterError as exc:
        loc = _param_to_loc(exc.field)
        doc, line = _locate(chain, loc)
        raise ScenarioError(str(doc.path), str(exc).split(": ", 1)[-1], _dotted(loc),
                            line) from None
    return scenario


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Validate a scenario given as YAML text (no ``extends``); for tests and the app."""
    doc = _parse(text.encode("utf-8") if isinstance(text, str) else text, Path(source))
    if "extends" in doc.data:
        raise ScenarioError(source, "extends needs a file to be relative to", "extends",
                            doc.lines.get(("extends",)))
    try:
        scenario = Scenario.model_validate(doc.data)
    except ValidationError as exc:
        raise _to_scenario_error(exc, [doc]) from None
    return scenario


def _load_chain(path: Path) -> list[_Document]:
    """The file and every file it extends, child first; checks for missing and cycles."""
    chain: list[_Document] = []
    seen: list[Path] = []
    while True:
        real = path.resolve()
        if real in seen:
            cycle = " -> ".join(p.name for p in [*seen, real])
            last = chain[-1]
            raise ScenarioError(str(last.path), f"circular extends: {cycle}", "extends",
                                last.lines.get(("extends",)))
        if len(seen) >= MAX_EXTENDS:
            raise ScenarioError(str(path), f"extends more than {MAX_EXTENDS} files deep")
        seen.append(real)
        doc = _read(path)
        chain.append(doc)
        parent = doc.data.get("extends")
        if parent is None:
            return chain
        line = doc.lines.get(("extends",))
        if not isinstance(parent, str) or not parent.strip():
            raise ScenarioError(str(path), f"{parent!r} is not a scenario name or file",
                                "extends", line)
        try:
            path = resolve(parent, base=path.parent)
        except ScenarioError as exc:
            raise ScenarioError(str(doc.path), f"{parent!r}: {exc.reason}", "extends",
                                line) from None


def _read(path: Path) -> _Document:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ScenarioError(str(path), f"is {size:,} bytes; a scenario file is at most "
                                f"{MAX_BYTES:,} bytes")
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(str(path), f"cannot be read ({exc.strerror or exc})") from None
    return _parse(raw, path)


def _parse(raw: bytes, path: Path) -> _Document:
    """Parse YAML bytes into a mapping and a line table; every failure is a ScenarioError."""
    source = str(path)
    if len(raw) > MAX_BYTES:
        raise ScenarioError(source, f"is {len(raw):,} bytes; a scenario file is at most "
                            f"{MAX_BYTES:,} bytes")
    if b"\x00" in raw:
        raise ScenarioError(source, "is a binary file, not a YAML text file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ScenarioError(source, "is not UTF-8 text (a binary file?); save it as UTF-8 "
                            "YAML") from None
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#")
                               for ln in text.splitlines()):
        raise ScenarioError(source, "is empty; a scenario needs at least title, description, "
                            "teaches, questions and firms")
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:  # a control character: binary data, mostly
        line = text.count("\n", 0, exc.position) + 1
        raise ScenarioError(source, f"is not a YAML text file: character #x{exc.character:04x} "
                            "is not allowed", line=line) from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise ScenarioError(source, "is empty; a scenario needs at least title, "
                                "description, teaches, questions and firms")
        lines = _line_table(node, source)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise ScenarioError(source, f"is not valid YAML: {what}",
                            line=mark.line + 1 if mark is not None else None) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(source, f"is not valid YAML: {exc}") from None
    except RecursionError:
        raise ScenarioError(source, "is nested too deeply to be a scenario") from None
    finally:
        loader.dispose()
    if data is None:
        raise ScenarioError(source, "is empty; a scenario needs at least title, description, "
                            "teaches, questions and firms")
    if not isinstance(data, dict):
        raise ScenarioError(source, f"must be a mapping of fields (title: ..., firms: ...), "
                            f"not {_kind(data)}", line=1)
    for key in data:
        if not isinstance(key, str):
            raise ScenarioError(source, f"{key!r} is not a field name (field names are "
                                "words)", line=lines.get((key,)))
    return _Document(path, data, lines)


def _line_table(root: yaml.Node, source: str) -> dict[tuple[str | int, ...], int]:
    """Map each field path to its 1-based line; reject duplicate keys and absurd sizes."""
    lines: dict[tuple[str | int, ...], int] = {}
    count = 0
    stack: list[tuple[yaml.Node, tuple[str | int, ...], int]] = [(root, (), 0)]
    while stack:
        node, path, depth = stack.pop()
        count += 1
        if count > MAX_NODES or depth > 64:
            raise ScenarioError(source, f"is too large or too deeply nested to be a scenario "
                                f"(more than {MAX_NODES:,} values or 64 levels)")
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, value_node in node.value:
                key: Any = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                if key == "<<":
                    stack.append((value_node, path, depth + 1))
                    continue
                if key is not None:
                    if key in seen:
                        raise ScenarioError(source, "is written twice; remove one",
                                            _dotted((*path, key)), key_node.start_mark.line + 1)
                    seen.add(key)
                    lines[(*path, key)] = key_node.start_mark.line + 1
                    stack.append((value_node, (*path, key), depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                lines.setdefault((*path, i), item.start_mark.line + 1)
                stack.append((item, (*path, i), depth + 1))
    return lines


def _merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """Child over base: mappings merge key by key, anything else (lists too) is replaced."""
    out = dict(base)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


# --- error messages --------------------------------------------------------------------------

_KINDS = {"float": "a number", "int": "a whole number", "str": "text", "string": "text",
          "bool": "true or false", "list": "a list", "dict": "a mapping"}


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    return {bool: "true/false", int: "a whole number", float: "a number", str: "text",
            list: "a list", dict: "a mapping"}.get(type(value), f"a {type(value).__name__}")


def _suggest(word: Any, choices: list[str]) -> str:
    close = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _dotted(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _locate(chain: list[_Document], loc: tuple[str | int, ...]) -> tuple[_Document, int | None]:
    """The file (child first) that writes the longest prefix of ``loc``, and its line."""
    for cut in range(len(loc), 0, -1):
        for doc in chain:
            if loc[:cut] in doc.lines:
                return doc, doc.lines[loc[:cut]]
    return chain[0], None


def _field_at(loc: tuple[str | int, ...]) -> tuple[type[BaseModel] | None, FieldInfo | None]:
    """The model that holds the last field of ``loc``, and that field's info."""
    model: type[BaseModel] | None = Scenario
    info: FieldInfo | None = None
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None or part not in model.model_fields:
            return model, None
        info = model.model_fields[part]
        holder = model
        model = _inner_model(info.annotation)
        if part == loc[-1] and not isinstance(loc[-1], int):
            return holder, info
    return model, info


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _bounds(info: FieldInfo | None) -> str:
    if info is None:
        return ""
    low = high = None
    for meta in _all_metadata(info):
        low = getattr(meta, "ge", None) if getattr(meta, "ge", None) is not None else low
        low = getattr(meta, "gt", None) if getattr(meta, "gt", None) is not None else low
        high = getattr(meta, "le", None) if getattr(meta, "le", None) is not None else high
    return "" if low is None or high is None else f"[{low:g}, {high:g}]"


def _all_metadata(info: FieldInfo) -> Iterator[Any]:
    yield from info.metadata
    stack = [info.annotation]
    while stack:
        ann = stack.pop()
        for meta in getattr(ann, "__metadata__", ()):
            yield from meta.metadata if isinstance(meta, FieldInfo) else (meta,)
        stack.extend(typing.get_args(ann))


def _to_scenario_error(exc: ValidationError, chain: list[_Document]) -> ScenarioError:
    """One clear message from pydantic's first error: file, line, field path, what is allowed."""
    err = exc.errors(include_url=False)[0]
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("#")))
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    holder, info = _field_at(loc)
    if kind == "value_error" and isinstance(ctx.get("error"), _FieldValueError):
        inner: _FieldValueError = ctx["error"]
        loc = loc + inner.loc
        message = inner.message
    elif kind == "extra_forbidden":
        allowed = list(holder.model_fields) if holder is not None else []
        if holder is Scenario:
            allowed.insert(0, "extends")
        message = (f"unknown field{_suggest(loc[-1] if loc else '', allowed) or ';'} "
                   f"allowed here: {', '.join(allowed)}")
    elif kind == "missing":
        message = "is required" + (f" ({info.description})" if info and info.description
                                   else "")
    elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bounds = _bounds(info) if info is not None and not isinstance(loc[-1], int) else ""
        limit = ctx.get("ge", ctx.get("gt", ctx.get("le", ctx.get("lt"))))
        message = (f"{value!r} is outside {bounds}" if bounds
                   else f"{value!r} {err['msg'].lower().replace('input should be ', 'must be ')}"
                   if limit is not None else f"{value!r} is out of range")
    elif kind == "finite_number":
        bounds = _bounds(info)
        message = f"{value!r} is not a finite number" + (f"; allowed: {bounds}" if bounds
                                                         else "")
    elif kind == "literal_error":
        options = [o.strip(" '") for o in str(ctx.get("expected", "")).replace(" or ", ",")
                   .split(",") if o.strip(" '")]
        message = (f"{value!r} is not allowed{_suggest(value, options)}; allowed: "
                   f"{', '.join(options)}").replace("? ; allowed", "?; allowed")
    elif kind.endswith(("_type", "_parsing")) or kind in ("int_from_float", "model_type",
                                                          "dict_type", "list_type"):
        want = _KINDS.get(kind.split("_")[0], err["msg"].removeprefix("Input should be "))
        if kind in ("model_type", "dict_type", "model_attributes_type"):
            want = "a mapping of fields"
        bounds = _bounds(info) if loc and not isinstance(loc[-1], int) else ""
        message = f"{_show(value)} is {_kind(value)}; expected {want}" + (
            f" in {bounds}" if bounds else "")
    elif kind in ("too_short", "too_long", "string_too_short", "string_too_long"):
        message = (err["msg"].replace(" after validation", "").replace("List should", "must")
                   .replace("String should", "must").replace("Value should", "must"))
    elif kind == "value_error":
        message = err["msg"].removeprefix("Value error, ")
    elif kind == "invalid_key":
        message = f"{value!r} is not a field name (field names are words)"
    else:
        message = err["msg"]
    doc, line = _locate(chain, loc)
    return ScenarioError(str(doc.path), message, _dotted(loc), line)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


_PARAM_PATHS: dict[str, tuple[str | int, ...]] = {
    **{name: ("market", name) for name in Market.model_fields},
    **{name: ("choice", name) for name in Choice.model_fields},
    **{name: ("organization", name) for name in Organization.model_fields},
    **{name: ("money", name) for name in Money.model_fields},
    **{f"entrant_{name}": ("entrants", name) for name in Entrants.model_fields},
    **{name: ("metrics", name) for name in Metrics.model_fields},
    "rivals": ("competitors", "count"), "rival_structure": ("competitors", "structure"),
    "rival_price": ("competitors", "price"), "structure": ("firms", 0, "structure"),
    "price": ("firms", 0, "price"), **{k: ("firms", 0, "levers", k) for k in LEVERS},
    "reorganize_step": ("timeline",), "reorganize_to": ("timeline",),
    "reorganize_cost": ("timeline",), "transition_steps": ("timeline",),
    "transition_disruption": ("timeline",), "shock_steps": ("timeline",),
    "entrant_steps": ("timeline",), "new_segment_steps": ("timeline",),
}


def _param_to_loc(field: str) -> tuple[str | int, ...]:
    """Translate a model parameter path (``segment_specs[1].ideal``) to a scenario path."""
    head, _, rest = field.partition("[")
    head = head.split(".")[0]
    if head in ("segment_specs", "firms") and rest:
        index = int(rest.split("]")[0])
        tail = tuple(p for p in rest.split("]", 1)[1].split(".") if p)
        tail = tuple(p.split("[")[0] for p in tail)
        base: tuple[str | int, ...] = ("market", "segments") if head == "segment_specs" \
            else ("firms",)
        return (*base, index, *tail)
    return _PARAM_PATHS.get(head, (head,))

