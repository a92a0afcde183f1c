"""The experiment spec: what a batch of runs varies, how it samples and what it keeps.

A spec is YAML validated here (pydantic, ``extra="forbid"``) so that a typo or an
out-of-range value fails before a single run starts, with a message naming the field. It
names a base model (a scenario or inline model keywords), the **levers** (the
organization's choices) and the **conditions** (the market) that vary, a design, the
replications, a root seed and the outputs to keep. The vocabulary follows the EMA
Workbench: levers are what an organization chooses, conditions what it does not.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from simulation.errors import OutsideInError

DEFAULT_MODEL = "experiments.runner:org_model"
"""Dotted path of the model function a spec runs unless it names another one."""

Level = str | bool | int | float


class SpecError(OutsideInError, ValueError):
    """An experiment spec is malformed; the message names the field and what is allowed."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Factor(_Strict):
    """One thing that varies: either explicit ``levels`` or a numeric ``range``.

    ``points`` says how many evenly spaced values a range gives in a full grid; the sampled
    designs (LHS, Sobol, Morris) draw from the whole range instead. ``integer`` rounds draws
    (derived from the model's parameter table when the model is the OrgModel).
    """

    levels: list[Level] | None = Field(None, min_length=1,
                                       description="explicit values (numbers or names)")
    range: tuple[float, float] | None = Field(None, description="[low, high], numeric")
    points: int | None = Field(None, ge=2, le=1000,
                               description="grid points over the range (grid design only)")
    integer: bool = Field(False, description="round draws to whole numbers")

    @model_validator(mode="after")
    def _one_of(self) -> Factor:
        if (self.levels is None) == (self.range is None):
            raise ValueError("give exactly one of 'levels' or 'range'")
        if self.range is not None:
            low, high = self.range
            if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
                raise ValueError(f"range {list(self.range)} must be finite with low < high")
        if self.levels is not None and self.points is not None:
            raise ValueError("'points' applies to a range, not to levels")
        if self.levels is not None:
            types = {type(v) for v in self.levels}
            if str in types and types != {str} or bool in types and types != {bool}:
                raise ValueError("levels mix names and numbers")
        return self

    def grid_values(self) -> list[Level]:
        """List the values this factor takes in a full grid."""
        if self.levels is not None:
            return list(self.levels)
        assert self.range is not None  # guaranteed by the validator
        low, high = self.range
        n = self.points or 5
        values: list[Level] = [low + (high - low) * i / (n - 1) for i in range(n)]
        if self.integer:
            return sorted({round(float(v)) for v in values})
        return values

    @property
    def kind(self) -> Literal["str", "bool", "int", "float"]:
        """The column type this factor's values have in the results table."""
        if self.levels is not None:
            types = {type(v) for v in self.levels}
            if types <= {str}:
                return "str"
            if types <= {bool}:
                return "bool"
            if types <= {int}:
                return "int"
            return "float"  # mixed names and numbers are refused by the validator
        return "int" if self.integer else "float"


class Design(_Strict):
    """How the factors are combined.

    ``grid`` crosses every level; ``lhs`` draws ``samples`` points (Latin hypercube);
    ``sobol`` draws Saltelli's ``samples * (2D + 2)`` points (``samples * (D + 2)`` without
    second order) and ``morris`` ``trajectories * (D + 1)``, all through SALib's samplers.
    """

    kind: Literal["grid", "lhs", "sobol", "morris"] = "grid"
    samples: int | None = Field(None, ge=1, le=1_000_000,
                                description="base sample size (lhs, sobol)")
    second_order: bool = Field(True, description="sobol: also estimate second-order indices")
    trajectories: int | None = Field(None, ge=2, le=100_000, description="morris trajectories")
    levels: int = Field(4, ge=2, le=100, description="morris grid levels (even)")

    @model_validator(mode="after")
    def _sizes(self) -> Design:
        if self.kind in ("lhs", "sobol") and self.samples is None:
            raise ValueError(f"a {self.kind} design needs 'samples'")
        if self.kind == "sobol" and self.samples is not None \
                and self.samples & (self.samples - 1):
            raise ValueError(f"sobol samples = {self.samples} must be a power of 2")
        if self.kind == "morris" and self.trajectories is None:
            raise ValueError("a morris design needs 'trajectories'")
        if self.kind == "morris" and self.levels % 2:
            raise ValueError(f"morris levels = {self.levels} must be even")
        return self


class Outputs(_Strict):
    """What each run keeps: always its summary; optionally a per-step series."""

    series: bool = Field(False, description="keep the focal firm's per-step series")
    every: int = Field(1, ge=1, le=10_000, description="keep every n-th step of the series")
    columns: list[str] = Field(
        default_factory=lambda: ["market_share", "satisfaction", "awareness_gap",
                                 "action_gap", "cash"],
        min_length=1, description="series columns (from model.results())")


class Discovery(_Strict):
    """Scenario discovery: the conditions under which ``outcome`` falls below ``below``.

    ``where`` restricts the runs first (e.g. ``{structure: outside_in}``) so the question is
    "when does *this* design lose?".
    """

    outcome: str
    below: float = 0.0
    where: dict[str, Level] = Field(default_factory=dict)


class Analysis(_Strict):
    """Which outcomes the analysis reports and which question scenario discovery asks."""

    outcomes: list[str] = Field(default_factory=lambda: ["final_share", "share_advantage",
                                                         "survived", "resilience_loss"],
                                min_length=1)
    heatmap: tuple[str, str] | None = Field(None, description="two factors for the heatmap")
    discovery: Discovery | None = None


class ExperimentSpec(_Strict):
    """A whole experiment; see the module docstring and ``docs/experiments.md``."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=100)
    description: str = ""
    model: str = Field(DEFAULT_MODEL, pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
                       description="model function as 'module:function'")
    base: str | dict[str, Any] = Field(default_factory=dict,
                                       description="scenario name/path or model keywords")
    steps: int = Field(120, ge=1, le=100_000)
    levers: dict[str, Factor] = Field(default_factory=dict)
    conditions: dict[str, Factor] = Field(default_factory=dict)
    design: Design = Field(default_factory=lambda: Design.model_validate({}))
    replications: Annotated[int, Field(ge=1, le=100_000)] = 1
    seed: int = Field(0, ge=0, le=2**63 - 1)
    outputs: Outputs = Field(default_factory=lambda: Outputs.model_validate({}))
    analysis: Analysis = Field(default_factory=lambda: Analysis.model_validate({}))
    paired: list[str] | None = Field(
        None, description="factors whose levels share their random numbers (common random "
        "numbers) and are analysed by paired differences; default: the levers")

    @model_validator(mode="after")
    def _factors(self) -> ExperimentSpec:
        both = set(self.levers) & set(self.conditions)
        if both:
            raise ValueError(f"{', '.join(sorted(both))}: listed as both a lever and a condition")
        if not self.factors:
            raise ValueError("vary at least one lever or condition")
        if self.design.kind == "grid":
            for name, factor in self.factors.items():
                if factor.range is not None and factor.points is None:
                    raise ValueError(f"{self._group(name)}.{name}: a range in a grid design "
                                     "needs 'points'")
        for name in self.paired or ():
            if name not in self.factors:
                raise ValueError(f"paired: {name!r} is not a lever or condition; choose from "
                                 f"{', '.join(self.factors)}")
        for name in self.analysis.heatmap or ():
            if name not in self.factors:
                raise ValueError(f"analysis.heatmap: {name!r} is not a lever or condition")
        for name in self.analysis.discovery.where if self.analysis.discovery else ():
            if name not in self.factors:
                raise ValueError(f"analysis.discovery.where: {name!r} is not a lever or "
                                 "condition")
        return self

    def _group(self, name: str) -> str:
        return "levers" if name in self.levers else "conditions"

    @property
    def factors(self) -> dict[str, Factor]:
        """Levers then conditions, in the order the spec gives them."""
        return {**self.levers, **self.conditions}

    @property
    def paired_factors(self) -> list[str]:
        """The factors across which runs are paired (``paired``, by default the levers)."""
        return list(self.levers) if self.paired is None else list(self.paired)

    def digest(self) -> str:
        """Hash the spec's content stably, for the manifest and for resuming."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def shrunk(self, *, steps: int | None = None) -> ExperimentSpec:
        """Return a copy with fewer steps (for ``--steps``); everything else unchanged."""
        return self if steps is None else self.model_copy(update={"steps": steps})


def parse_spec(data: Any, *, source: str = "spec") -> ExperimentSpec:
    """Validate a spec given as a mapping; raise :class:`SpecError` naming the bad field."""
    if not isinstance(data, Mapping):
        raise SpecError(f"{source}: the top level must be a mapping of fields")
    try:
        spec = ExperimentSpec.model_validate(dict(data))
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise SpecError(f"{source}: {where}: {message}" if where else f"{source}: {message}") \
            from None
    check_model_parameters(spec, source=source)
    return spec


def load_spec(path: str | Path) -> ExperimentSpec:
    """Read and validate a spec file; every user mistake becomes a :class:`SpecError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise SpecError(f"{path}: cannot read the spec ({err.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise SpecError(f"{path}: not valid YAML ({err})") from None
    return parse_spec(data, source=str(path))


def resolve_base(base: str | Mapping[str, Any]) -> dict[str, Any]:
    """Turn a spec's ``base`` into the fixed part of every run's parameters.

    The one place that knows about scenarios: a mapping is taken as model keywords; a string
    is a scenario name or path, checked here (so a typo fails before any run) and carried
    as ``{"scenario": name}``; each run then applies its varied parameters through the
    scenario (``experiments.runner.model_kwargs``).
    """
    if isinstance(base, Mapping):
        return dict(base)
    from experiments.runner import SCENARIO_KEY, base_scenario

    try:
        base_scenario(base)
    except OutsideInError as err:
        raise SpecError(f"base: {err}") from None
    return {SCENARIO_KEY: str(base)}


def check_model_parameters(spec: ExperimentSpec, *, source: str = "spec") -> None:
    """Check factor names and values against the OrgModel's parameter table.

    Only for the default model: a pluggable model function (e.g. a test function) has its
    own parameters. Every level and both ends of every range are validated together with
    the base keywords, so the message is the model's own (naming field and bound).
    """
    if spec.model != DEFAULT_MODEL:
        return
    from experiments.runner import model_kwargs
    from simulation.errors import ParameterError
    from simulation.params import PARAMETERS, ModelParams

    try:
        base = resolve_base(spec.base)
    except SpecError as err:
        raise SpecError(f"{source}: {err}") from None
    try:
        ModelParams.from_kwargs(**model_kwargs(base))
    except ParameterError as err:
        raise SpecError(f"{source}: base.{err}") from None
    from simulation.model import RESULT_COLUMNS

    if spec.outputs.series:
        numeric = [c for c in RESULT_COLUMNS if c not in ("step", "firm", "structure")]
        for column in spec.outputs.columns:
            if column not in numeric:
                raise SpecError(f"{source}: outputs.columns: {column!r} is not a per-step "
                                f"column of the model; choose from {numeric}")
    from simulation.outcomes import OUTCOMES

    questions = [("analysis.outcomes", n) for n in spec.analysis.outcomes]
    if spec.analysis.discovery is not None:
        questions.append(("analysis.discovery.outcome", spec.analysis.discovery.outcome))
    for where, name in questions:
        if name not in OUTCOMES:
            raise SpecError(f"{source}: {where}: {name!r} is not an outcome of the model; "
                            f"choose from {', '.join(OUTCOMES)}")
    for group, factors in (("levers", spec.levers), ("conditions", spec.conditions)):
        for name, factor in factors.items():
            if name not in PARAMETERS:
                raise SpecError(f"{source}: {group}.{name}: is not a parameter of OrgModel")
            values = factor.levels if factor.levels is not None else list(factor.range or ())
            for value in values:
                try:
                    ModelParams.from_kwargs(**model_kwargs({**base, name: value}))
                except ParameterError as err:
                    raise SpecError(f"{source}: {group}.{err}") from None


def integer_factors(spec: ExperimentSpec) -> set[str]:
    """Factors whose draws must be whole numbers: flagged in the spec or by the model."""
    names = {n for n, f in spec.factors.items() if f.integer or f.kind == "int"}
    if spec.model == DEFAULT_MODEL:
        from simulation.params import PARAMETERS

        for name in spec.factors:
            bound = PARAMETERS[name].metadata.get("bound") if name in PARAMETERS else None
            if bound is not None and bound.integer:
                names.add(name)
    return names
