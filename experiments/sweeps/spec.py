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
import importlib
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from experiments.engine.runner import SCENARIO_KEY, base_scenario, model_kwargs
from simulation.errors import OutsideInError, ParameterError
from simulation.outcomes import OUTCOMES, RESULT_COLUMNS
from simulation.params import PARAMETERS, ModelParams
from simulation.scenario import ScenarioError, _suggest
from simulation.scenario_files import describe_validation_error, read_yaml_file
from simulation.shipped import shipped_folder, shipped_names

DEFAULT_MODEL = "experiments.engine.runner:org_model"
"""Dotted path of the model function a spec runs unless it names another one."""

_REGISTERED: dict[str, None] = {DEFAULT_MODEL: None,
                                "experiments.sweeps.testfunctions:ishigami": None,
                                "experiments.docking.march:march_run": None,
                                "experiments.docking.nk:nk_run": None}
"""The model functions a spec may name: a spec is data that people share, so it never makes
this program import other code unless the user allows it (``--allow-import``)."""

MOVED_MODELS = {"experiments.runner:org_model": DEFAULT_MODEL,
                "experiments.testfunctions:ishigami": "experiments.sweeps.testfunctions:ishigami",
                "experiments.pattern_sensitivity:pattern_effects":
                    "experiments.patterns.sensitivity:pattern_effects"}
"""Model functions by the names they had before ``experiments/`` was split into wings: a spec
written then still names them so, and is read as naming the function's new place. Its digest
is taken with the old name, so an output folder begun before the move still resumes."""

_DIGEST_NAMES = {new: old for old, new in MOVED_MODELS.items()}

MAX_RUNS = 1_000_000
"""Most runs (samples x replications) one spec may plan. Drawing the design and planning the
runs happens in memory on this machine; split a larger experiment into several specs."""


def register_model(path: str) -> None:
    """Allow specs to name the model function ``"module:function"`` (from Python code)."""
    _REGISTERED[path] = None


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
    ``groups`` (sobol, morris) names groups of factors that move together in the sampler
    and are apportioned together (SALib's ``groups``): D is then the number of groups, and
    the indices are the groups'.
    """

    kind: Literal["grid", "lhs", "sobol", "morris"] = "grid"
    samples: int | None = Field(None, ge=1, le=1_000_000,
                                description="base sample size (lhs, sobol)")
    second_order: bool = Field(True, description="sobol: also estimate second-order indices")
    trajectories: int | None = Field(None, ge=2, le=100_000, description="morris trajectories")
    levels: int = Field(4, ge=2, le=100, description="morris grid levels (even)")
    groups: dict[str, list[str]] | None = Field(
        None, description="sobol, morris: groups of factors apportioned together (name: "
        "factors); every factor in exactly one group")

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
        if self.groups is not None and self.kind not in ("sobol", "morris"):
            raise ValueError(f"groups: only a sobol or morris design groups factors, not "
                             f"{self.kind}")
        if self.groups is not None and self.kind == "sobol" and self.second_order:
            raise ValueError("groups: a grouped sobol design has no second-order indices; "
                             "set second_order: false")
        return self

    def group_of(self) -> dict[str, str]:
        """Each grouped factor's group name (empty without groups)."""
        return {f: g for g, members in (self.groups or {}).items() for f in members}


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

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=100,
                      description="names the default output folder runs/<name>")
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

    @field_validator("model")
    @classmethod
    def _moved_model(cls, value: str) -> str:
        return MOVED_MODELS.get(value, value)

    @field_validator("name")
    @classmethod
    def _folder_name(cls, value: str) -> str:
        if set(value) == {"."}:
            raise ValueError(f"{value!r} is not a name (it would name a folder above the "
                             "output folder)")
        return value

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
        if self.design.groups is not None:
            seen: dict[str, str] = {}
            for group, members in self.design.groups.items():
                for name in members:
                    if name not in self.factors:
                        raise ValueError(f"design.groups.{group}: {name!r} is not a lever or "
                                         f"condition; choose from {', '.join(self.factors)}")
                    if name in seen:
                        raise ValueError(f"design.groups: {name!r} is in both {seen[name]!r} "
                                         f"and {group!r}")
                    seen[name] = group
            missing = [n for n in self.factors if n not in seen]
            if missing:
                raise ValueError(f"design.groups: {', '.join(missing)} in no group (every "
                                 "factor belongs to exactly one)")
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
        dump = self.model_dump(mode="json")
        if dump["design"].get("groups") is None:  # specs written before groups keep their digest
            dump["design"].pop("groups", None)
        dump["model"] = _DIGEST_NAMES.get(dump["model"], dump["model"])  # and moved models
        text = json.dumps(dump, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def shrunk(self, *, steps: int | None = None) -> ExperimentSpec:
        """Return a copy with other steps (for ``--steps``), validated like the spec's own."""
        if steps is None:
            return self
        try:
            return ExperimentSpec.model_validate({**self.model_dump(), "steps": steps})
        except ValidationError as err:
            message = err.errors()[0]["msg"].lower().replace("input should be", "must be")
            raise SpecError(f"--steps: {steps} {message}") from None

    def sample_count(self) -> int:
        """How many samples the design gives, counted without drawing them."""
        design = self.design
        d = len(design.groups) if design.groups else len(self.factors)
        if design.kind == "grid":
            return math.prod(len(f.grid_values()) for f in self.factors.values())
        if design.kind == "lhs":
            return int(design.samples or 0)
        if design.kind == "sobol":
            per = 2 * d + 2 if design.second_order else d + 2
            return int(design.samples or 0) * per
        return int(design.trajectories or 0) * (d + 1)

    def run_count(self) -> int:
        """How many runs the spec plans: samples times replications."""
        return self.sample_count() * self.replications


def parse_spec(data: Any, *, source: str = "spec",
               lines: Mapping[tuple[str | int, ...], int] | None = None,
               allow_import: bool = False) -> ExperimentSpec:
    """Validate a spec given as a mapping; raise :class:`SpecError` naming every bad field.

    ``lines`` (field path to line, from :func:`load_spec`) puts the line in each message.
    A spec may name only a registered model function (:func:`register_model`) unless
    ``allow_import``; then the named module is imported here, so a typo fails at once.
    """
    lines = dict(lines or {})
    if not isinstance(data, Mapping):
        raise SpecError(f"{source}: the top level must be a mapping of fields")
    try:
        spec = ExperimentSpec.model_validate(dict(data))
    except ValidationError as err:
        raise SpecError(describe_validation_error(err, source, lines, ExperimentSpec)) \
            from None
    except RecursionError:
        raise SpecError(f"{source}: is nested too deeply to be a spec") from None
    where = _locator(source, lines)
    check_model(spec, where("model"), allow_import=allow_import)
    if spec.run_count() > MAX_RUNS:
        raise SpecError(f"{where('design')}design: plans {spec.run_count():,} runs "
                        f"({spec.sample_count():,} samples x {spec.replications} "
                        f"replications); at most {MAX_RUNS:,} runs per spec")
    try:
        check_model_parameters(spec, source=source, lines=lines)
    except ScenarioError as err:  # a base scenario that does not load
        raise SpecError(f"{where('base')}base: {err}") from None
    return spec


def _locator(source: str, lines: Mapping[tuple[str | int, ...], int]) -> Any:
    """``where(*path)`` gives ``"source:line: "`` for a field path (the line when known)."""
    def where(*path: str | int) -> str:
        for cut in range(len(path), 0, -1):
            if path[:cut] in lines:
                return f"{source}:{lines[path[:cut]]}: "
        return f"{source}: "
    return where


def check_model(spec: ExperimentSpec, where: str, *, allow_import: bool = False) -> None:
    """Refuse a model function that is not registered, or (allowed) that does not import."""
    if spec.model in _REGISTERED:
        return
    if not allow_import:
        raise SpecError(f"{where}model: {spec.model!r} is not a registered model function "
                        f"({', '.join(_REGISTERED)}); a spec imports no other code unless "
                        "you give --allow-import")
    module_name, _, name = spec.model.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as err:  # noqa: BLE001 - any import failure is the user's module
        raise SpecError(f"{where}model: cannot import {module_name!r} "
                        f"({type(err).__name__}: {err})") from None
    if not callable(getattr(module, name, None)):
        raise SpecError(f"{where}model: {module_name!r} has no function {name!r}")


def load_spec(path: str | Path, *, allow_import: bool = False) -> ExperimentSpec:
    """Read and validate a spec file; every user mistake becomes a :class:`SpecError`.

    The file is read with the scenario files' safeguards (a regular file, bounded size,
    UTF-8, no duplicate keys or alias bombs); messages name the file and line.
    """
    path = resolve_spec(path)  # a shipped spec may be given by name
    try:
        data, lines = read_yaml_file(path, what="spec",
                                     empty="is empty; a spec needs at least a name and one "
                                           "lever or condition")
    except ScenarioError as err:
        raise SpecError(str(err)) from None
    return parse_spec(data, source=str(path), lines=lines, allow_import=allow_import)


def resolve_base(base: str | Mapping[str, Any]) -> dict[str, Any]:
    """Turn a spec's ``base`` into the fixed part of every run's parameters.

    The one place that knows about scenarios: a mapping is taken as model keywords; a string
    is a scenario name or path, checked here (so a typo fails before any run) and carried
    as ``{"scenario": name}``; each run then applies its varied parameters through the
    scenario (``experiments.engine.runner.model_kwargs``).
    """
    if isinstance(base, Mapping):
        return dict(base)

    try:
        base_scenario(base)
    except OutsideInError as err:
        raise SpecError(f"base: {err}") from None
    return {SCENARIO_KEY: str(base)}


def check_model_parameters(spec: ExperimentSpec, *, source: str = "spec",
                           lines: Mapping[tuple[str | int, ...], int] | None = None) -> None:
    """Check factor names and values against the OrgModel's parameter table.

    Only for the default model: a pluggable model function (e.g. a test function) has its
    own parameters. Every level and both ends of every range are validated together with
    the base keywords, so the message is the model's own (naming field and bound). Every
    mistake is reported, one line each, in line order.
    """
    if spec.model != DEFAULT_MODEL:
        return

    where = _locator(source, lines or {})
    try:
        base = resolve_base(spec.base)
    except SpecError as err:
        raise SpecError(f"{where('base')}{err}") from None
    try:
        ModelParams.from_kwargs(**model_kwargs(base))
    except ParameterError as err:
        raise SpecError(f"{where('base')}base.{err}") from None

    problems: list[tuple[str, str]] = []
    if spec.outputs.series:
        numeric = [c for c in RESULT_COLUMNS if c not in ("step", "firm", "structure")]
        for i, column in enumerate(spec.outputs.columns):
            if column not in numeric:
                problems.append((where("outputs", "columns", i),
                                 f"outputs.columns: {column!r} is not a per-step column of "
                                 f"the model{_suggest(column, numeric)}; choose from "
                                 f"{numeric}"))

    asked: list[tuple[str, tuple[str | int, ...], str]] = [
        ("analysis.outcomes", ("analysis", "outcomes", i), n)
        for i, n in enumerate(spec.analysis.outcomes)]
    if spec.analysis.discovery is not None:
        asked.append(("analysis.discovery.outcome", ("analysis", "discovery", "outcome"),
                      spec.analysis.discovery.outcome))
    for field_name, path, name in asked:
        if name not in OUTCOMES:
            problems.append((where(*path), f"{field_name}: {name!r} is not an outcome of the "
                             f"model{_suggest(name, list(OUTCOMES))}; choose from "
                             f"{', '.join(OUTCOMES)}"))
    for group, factors in (("levers", spec.levers), ("conditions", spec.conditions)):
        for name, factor in factors.items():
            at = where(group, name)
            if name not in PARAMETERS:
                problems.append((at, f"{group}.{name}: is not a parameter of OrgModel"
                                     f"{_suggest(name, list(PARAMETERS))}"))
                continue
            values = factor.levels if factor.levels is not None else list(factor.range or ())
            for value in values:
                try:
                    ModelParams.from_kwargs(**model_kwargs({**base, name: value}))
                except ParameterError as err:
                    problems.append((at, f"{group}.{err}"))
                    break
    if problems:
        problems.sort(key=lambda p: _line_of(p[0]))
        raise SpecError("\n".join(f"{at}{message}" for at, message in problems))


def _line_of(where: str) -> int:
    parts = where.rstrip(": ").rsplit(":", 1)
    return int(parts[1]) if len(parts) == 2 and parts[1].isdigit() else 0


def integer_factors(spec: ExperimentSpec) -> set[str]:
    """Factors whose draws must be whole numbers: flagged in the spec or by the model."""
    names = {n for n, f in spec.factors.items() if f.integer or f.kind == "int"}
    if spec.model == DEFAULT_MODEL:

        for name in spec.factors:
            bound = PARAMETERS[name].metadata.get("bound") if name in PARAMETERS else None
            if bound is not None and bound.integer:
                names.add(name)
    return names


def resolve_spec(name_or_path: str | Path) -> Path:
    """The spec file a path, or a shipped spec's name (``crossover``), refers to.

    A name is a word without ``/`` or ``.yaml`` that is not a file in the working directory.

    Raises:
        SpecError: a name that no shipped spec has.

    """
    path, text = Path(name_or_path), str(name_or_path)
    if path.exists() or "/" in text or path.suffix in (".yaml", ".yml"):
        return path
    shipped = shipped_folder("specs") / f"{text}.yaml"
    if shipped.is_file():
        return shipped
    raise SpecError(f"{text}: no such file, nor a shipped spec of that name; shipped specs "
                    f"are {', '.join(shipped_names('specs'))}")
