"""Robust search: which organization holds its share and survival across futures it cannot predict.

A robust spec is an experiment spec with a ``robust`` section. Its **levers** are the search
space (a range with ``points`` is searched on that grid, a range without on the continuum,
``levels`` among the levels); its **conditions**, sampled by its ``design`` (``grid`` or
``lhs``), are the **futures**; ``replications`` runs per future. The section names the
**objectives** (an outcome and a statistic over futures), the **constraints** (what an
organization must achieve in a future to satisfy it) and the search.

The search is platypus' epsilon-NSGA-II, the algorithm behind the EMA Workbench's
``optimize``, driven here rather than through ``robust_optimize`` for three reasons:
EMA 3.0.0's robust evaluation scores every candidate of a generation on the outcomes of
the whole generation (``optimization.evaluate`` reads ``outcomes``, not the candidate's
``job_outputs``), so its answer is not the robust one; regret needs every candidate's values
in every future, which a per-candidate robustness function never sees; and resuming needs
each model run in the sweeps' store. Each candidate organization runs in every future with
the same seeds (common random numbers: replication *r* of future *f* has seed
``replication_seed(seed, r, (f,))`` whatever the organization), so differences between
candidates are the organizations', not chance.

Runs are numbered in the order the seeded search asks for candidates (candidate *c*,
future *f*, replication *r* is run ``(c * F + f) * R + r``) and stored as a sweep stores
them. Running the same command again replays the search from its seed, takes every stored
run from the folder and runs only the missing ones; a folder whose runs do not match the
replay is refused.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from experiments.engine.executors import Executor, make_executor
from experiments.engine.outdir import FolderLock, write_failure
from experiments.engine.runner import SEED_RULE, Record, Task, model_kwargs, replication_seed
from experiments.sweeps.designs import sample
from experiments.sweeps.robustness import (
    Direction,
    Requirement,
    max_regret,
    pareto_mask,
    satisficing,
)
from experiments.sweeps.robustness import statistic as over_futures
from experiments.sweeps.spec import (
    DEFAULT_MODEL,
    ExperimentSpec,
    Factor,
    SpecError,
    integer_factors,
    parse_spec,
    resolve_base,
)
from experiments.sweeps.store import Store, StoreError, read_runs, utc_now
from simulation.errors import OutsideInError, RunFailedError
from simulation.levers import upkeep
from simulation.outcomes import OUTCOMES
from simulation.params import LEVERS, ModelParams
from simulation.presets import PRESETS
from simulation.scenario import ScenarioError
from simulation.scenario_files import describe_validation_error, read_yaml_file
from simulation.shipped import shipped_folder

UPKEEP = "lever_upkeep"
"""An objective that needs no run: the levers' monthly upkeep (``simulation.levers.upkeep``),
named as the registry's per-month series of it."""

SEARCH_RULE = "platypus EpsNSGAII per seed; run (candidate * futures + future) * reps + rep (1)"
"""How runs are numbered: a folder written under another rule holds other runs."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Objective(_Strict):
    """One thing to optimize: a statistic of an outcome over the futures."""

    outcome: str = Field(description="a registered outcome, or lever_upkeep")
    statistic: Literal["mean", "worst", "percentile"] = "mean"
    percentile: float = Field(10.0, gt=0, lt=100,
                              description="percentile from the bad side (statistic percentile)")
    direction: Literal["maximize", "minimize"] | None = Field(
        None, description="default: from the outcome registry (higher is better: maximize)")

    @property
    def column(self) -> str:
        """The objective's column name in the result tables."""
        if self.outcome == UPKEEP:
            return UPKEEP
        how = f"p{self.percentile:g}" if self.statistic == "percentile" else self.statistic
        return f"{how} {self.outcome}"


class Constraint(_Strict):
    """What an outcome (its mean over a future's replications) must do in a future."""

    outcome: str
    at_least: float | None = None
    at_most: float | None = None

    @model_validator(mode="after")
    def _bounded(self) -> Constraint:
        if self.at_least is None and self.at_most is None:
            raise ValueError("give at_least, at_most or both")
        if (self.at_least is not None and self.at_most is not None
                and self.at_least > self.at_most):
            raise ValueError(f"at_least {self.at_least:g} is above at_most {self.at_most:g}")
        return self

    def requirement(self) -> Requirement:
        """The constraint as a robustness requirement."""
        return Requirement(self.outcome, self.at_least, self.at_most)


class Search(_Strict):
    """How the search runs: epsilon-NSGA-II, once per seed, the candidates pooled."""

    algorithm: Literal["eps_nsga2"] = "eps_nsga2"
    nfe: int = Field(500, ge=10, le=1_000_000, description="evaluations per seed")
    population: int = Field(20, ge=4, le=10_000)
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1, max_length=100)
    epsilons: list[float] | None = Field(
        None, description="archive resolution per objective (default 0.01 each)")

    @model_validator(mode="after")
    def _positive(self) -> Search:
        if self.epsilons is not None and not all(e > 0 for e in self.epsilons):
            raise ValueError("epsilons must all be > 0")
        return self


class RobustSection(_Strict):
    """The ``robust`` section of a spec: objectives, constraints and the search."""

    objectives: list[Objective] = Field(min_length=1, max_length=10)
    constraints: list[Constraint] = Field(default_factory=list)
    satisficing: bool = Field(False, description="also maximize the share of futures in "
                                                  "which every constraint holds")
    search: Search = Field(default_factory=lambda: Search.model_validate({}))


class RobustSpec(ExperimentSpec):
    """An experiment spec with a ``robust`` section (see the module docstring)."""

    robust: RobustSection


class _RobustFile(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    robust: RobustSection


def load_robust_spec(path: str | Path, *, allow_import: bool = False) -> RobustSpec:
    """Read and validate a robust spec; every mistake is a :class:`SpecError` naming the line."""
    path = resolve_robust_spec(path)
    try:
        data, lines = read_yaml_file(path, what="spec", empty="is empty; a robust spec needs a "
                                     "name, levers, conditions and a robust section")
    except ScenarioError as err:
        raise SpecError(str(err)) from None
    return parse_robust_spec(data, source=str(path), lines=lines, allow_import=allow_import)


ROBUST_FOLDER = "robust"
"""The shipped robust specs live in this folder of the shipped specs (they are not sweeps)."""


def resolve_robust_spec(name_or_path: str | Path) -> Path:
    """The file a path, or a shipped robust spec's name (``robust_levers``), refers to.

    Raises:
        SpecError: a name that no shipped robust spec has.

    """
    path, text = Path(name_or_path), str(name_or_path)
    if path.exists() or "/" in text or path.suffix in (".yaml", ".yml"):
        return path
    folder = shipped_folder("specs") / ROBUST_FOLDER
    if (folder / f"{text}.yaml").is_file():
        return folder / f"{text}.yaml"
    names = sorted(p.stem for p in folder.glob("*.yaml"))
    raise SpecError(f"{text}: no such file, nor a shipped robust spec of that name; shipped "
                    f"robust specs are {', '.join(names)}")


def parse_robust_spec(data: Any, *, source: str = "spec",
                      lines: Mapping[tuple[str | int, ...], int] | None = None,
                      allow_import: bool = False) -> RobustSpec:
    """Validate a robust spec given as a mapping (see :func:`load_robust_spec`)."""
    lines = dict(lines or {})
    if not isinstance(data, Mapping):
        raise SpecError(f"{source}: the top level must be a mapping of fields")
    if "robust" not in data:
        raise SpecError(f"{source}: has no 'robust' section; a robust spec names its "
                        "objectives there (see docs/from-question-to-figure.md)")
    rest = {k: v for k, v in data.items() if k != "robust"}
    experiment = parse_spec(rest, source=source, lines=lines, allow_import=allow_import)
    try:
        section = _RobustFile.model_validate({"robust": data["robust"]}).robust
    except ValidationError as err:
        raise SpecError(describe_validation_error(err, source, lines, _RobustFile)) from None
    spec = RobustSpec.model_validate({**experiment.model_dump(), "robust": section})
    _check_robust(spec, source, lines)
    return spec


def _check_robust(spec: RobustSpec, source: str,
                  lines: Mapping[tuple[str | int, ...], int]) -> None:
    def at(*path: str | int) -> str:
        for cut in range(len(path), 0, -1):
            if path[:cut] in lines:
                return f"{source}:{lines[path[:cut]]}: "
        return f"{source}: "

    if not spec.levers:
        raise SpecError(f"{at('levers')}levers: a robust search needs at least one lever")
    if not spec.conditions:
        raise SpecError(f"{at('conditions')}conditions: a robust search needs the futures' "
                        "conditions")
    if spec.design.kind not in ("grid", "lhs"):
        raise SpecError(f"{at('design')}design.kind: {spec.design.kind!r} does not draw "
                        "futures; use grid or lhs")
    robust = spec.robust
    registry = spec.model == DEFAULT_MODEL

    for i, objective in enumerate(robust.objectives):
        where = at("robust", "objectives", i)
        known = objective.outcome in OUTCOMES or objective.outcome == UPKEEP
        if registry and not known:
            raise SpecError(f"{where}robust.objectives[{i}].outcome: {objective.outcome!r} is "
                            f"not an outcome of the model; choose from "
                            f"{', '.join([*OUTCOMES, UPKEEP])}")
        if objective.direction is None and (
                not registry or objective.outcome != UPKEEP
                and OUTCOMES[objective.outcome].better == "neither"):
            raise SpecError(f"{where}robust.objectives[{i}].direction: give maximize or "
                            f"minimize for {objective.outcome!r}")
    for i, constraint in enumerate(robust.constraints):
        if registry and constraint.outcome not in OUTCOMES:
            raise SpecError(f"{at('robust', 'constraints', i)}robust.constraints[{i}].outcome: "
                            f"{constraint.outcome!r} is not an outcome of the model; choose "
                            f"from {', '.join(OUTCOMES)}")
    if robust.satisficing and not robust.constraints:
        raise SpecError(f"{at('robust', 'satisficing')}robust.satisficing: needs constraints "
                        "(the share of futures in which they all hold)")
    count = len(objective_directions(spec))
    eps = robust.search.epsilons
    if eps is not None and len(eps) != count:
        raise SpecError(f"{at('robust', 'search', 'epsilons')}robust.search.epsilons: "
                        f"{len(eps)} given for {count} objectives")


def objective_directions(spec: RobustSpec) -> dict[str, Direction]:
    """Each objective column and its direction, in order (satisficing last)."""
    out: dict[str, Direction] = {}
    for objective in spec.robust.objectives:
        out[objective.column] = objective.direction or _registry_direction(objective.outcome)
    if spec.robust.satisficing:
        out["satisficing"] = "maximize"
    return out


def _registry_direction(name: str) -> Direction:
    if name == UPKEEP:
        return "minimize"

    return "maximize" if OUTCOMES[name].better == "higher" else "minimize"


def futures(spec: ExperimentSpec) -> pd.DataFrame:
    """The futures of a robust spec: its conditions as sampled by its design, a row each."""
    data = spec.model_dump()
    data.pop("robust", None)
    data.update(levers={}, paired=None, analysis={})
    frame = sample(ExperimentSpec.model_validate(data))
    frame.index.name = "future"
    return frame


@dataclass
class _Lever:
    """How one lever is searched: a platypus type and the value a variable stands for."""

    name: str
    values: list[Any] | None
    """The grid or the levels (searched by index); None: the continuum of ``bounds``."""
    bounds: tuple[float, float] = (0.0, 1.0)
    integer: bool = False

    def platypus_type(self) -> Any:
        import platypus

        if self.values is not None:  # an index, rounded: SBX and polynomial mutation
            # explore a grid better than platypus' bit-flipped Integer encoding does
            return platypus.Real(-0.5, len(self.values) - 0.5)
        return platypus.Real(*self.bounds)

    def value(self, variable: Any) -> Any:
        if self.values is not None:
            index = min(len(self.values) - 1, max(0, int(math.floor(float(variable) + 0.5))))
            return _plain(self.values[index])
        x = float(variable)
        return int(round(x)) if self.integer else x


def _levers(spec: RobustSpec) -> list[_Lever]:
    integers = integer_factors(spec)
    made = []
    for name, factor in spec.levers.items():
        made.append(_lever(name, factor, name in integers))
    return made


def _lever(name: str, factor: Factor, integer: bool) -> _Lever:
    if factor.levels is not None:
        return _Lever(name, list(factor.levels))
    if factor.points is not None:
        return _Lever(name, list(dict.fromkeys(factor.grid_values())))
    assert factor.range is not None  # a factor has levels or a range
    return _Lever(name, None, (float(factor.range[0]), float(factor.range[1])), integer)


ProgressHook = Callable[[int, int], None]
"""``hook(evaluations, planned)``: candidates evaluated so far (over all seeds)."""


@dataclass
class RobustResult:
    """What a search found: every candidate scored, the Pareto set marked, the counts."""

    candidates: pd.DataFrame
    """A row per candidate: levers, objective columns, satisficing, regrets, upkeep, pareto."""
    values: dict[str, pd.DataFrame]
    """Per outcome, candidates x futures (mean over replications)."""
    futures: pd.DataFrame
    directions: dict[str, Direction]
    runs: int
    ran_now: int
    wall_seconds: float

    @property
    def pareto(self) -> pd.DataFrame:
        """The candidates no other candidate dominates on the objectives."""
        return self.candidates[self.candidates["pareto"]]


class _Engine:
    """Evaluates candidates on every future: runs what the store lacks, scores the rest."""

    def __init__(self, spec: RobustSpec, executor: Executor, store: Store,
                 stored: pd.DataFrame, progress: ProgressHook | None) -> None:
        self.spec = spec
        self.executor = executor
        self.store = store
        self.stored = stored.set_index("run_id") if len(stored) else stored
        self.progress = progress
        self.levers = _levers(spec)
        self.futures = futures(spec)
        self.base = resolve_base(spec.base)
        self.outcomes = sorted({o.outcome for o in spec.robust.objectives if o.outcome != UPKEEP}
                               | {c.outcome for c in spec.robust.constraints})
        self.index: dict[tuple[Any, ...], int] = {}
        self.values: dict[int, dict[str, np.ndarray]] = {}
        self.evaluations = 0
        self.planned = spec.robust.search.nfe * len(spec.robust.search.seeds)
        self.ran_now = 0
        self.failed: list[Record] = []

    def key(self, variables: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(lever.value(v) for lever, v in zip(self.levers, variables, strict=True))

    def evaluate(self, keys: list[tuple[Any, ...]]) -> None:
        """Make sure every candidate in ``keys`` has its values in every future."""
        new = []
        for key in keys:
            if key not in self.index:
                self.index[key] = len(self.index)
                new.append(key)
        if new:
            self._run(new)
        self.evaluations += len(keys)
        if self.progress is not None:
            self.progress(self.evaluations, self.planned)

    def _run(self, keys: list[tuple[Any, ...]]) -> None:
        spec, n_futures, reps = self.spec, len(self.futures), self.spec.replications
        results: dict[int, dict[str, Any]] = {}
        tasks: list[Task] = []
        names = [lever.name for lever in self.levers]
        rows = self.futures.to_dict("records")
        for key in keys:
            c = self.index[key]
            levers = dict(zip(names, key, strict=True))
            for f, row in enumerate(rows):
                params = {**levers, **{str(k): _plain(v) for k, v in row.items()}}
                for r in range(reps):
                    run_id = (c * n_futures + f) * reps + r
                    if run_id in self.stored.index:
                        results[run_id] = self._from_store(run_id, params)
                        continue
                    tasks.append(Task(run_id=run_id, sample_id=c * n_futures + f,
                                      replication=r, seed=replication_seed(spec.seed, r, (f,)),
                                      params=params, base=self.base, model=spec.model,
                                      steps=spec.steps))

        def on_record(record: Record) -> None:
            self.store.add(record)
            self.ran_now += 1
            if record.ok:
                results[record.run_id] = record.outcomes
            else:
                self.failed.append(record)

        if tasks:
            self.executor.run(tasks, on_record, planned=len(tasks))
        if self.failed:
            first = self.failed[0]
            raise RunFailedError(f"{len(self.failed)} run(s) failed, e.g. run {first.run_id} "
                                 f"with {first.params}: {first.error}; run the same command "
                                 "again to retry them")
        for key in keys:
            c = self.index[key]
            self.values[c] = {
                name: np.array([np.mean([float(results[(c * n_futures + f) * reps + r][name])
                                         for r in range(reps)]) for f in range(n_futures)])
                for name in self.outcomes}

    def _from_store(self, run_id: int, params: Mapping[str, Any]) -> dict[str, Any]:
        row = self.stored.loc[run_id]
        for name, value in params.items():
            if not _same(row[name], value):
                raise StoreError(f"--out: run {run_id} in {self.store.out} has {name} = "
                                 f"{row[name]!r}, the search's replay asks for {value!r}; the "
                                 "folder was written by another search; use a new folder")
        return {name: row[name] for name in self.outcomes}

    def scores(self, key: tuple[Any, ...]) -> list[float]:
        """The objective values of one evaluated candidate, in the order of the objectives."""
        c = self.index[key]
        table = {n: pd.DataFrame([v]) for n, v in self.values[c].items()}
        out: list[float] = []
        for objective in self.spec.robust.objectives:
            if objective.outcome == UPKEEP:
                out.append(candidate_upkeep(self.spec, self._levers_of(key)))
                continue
            direction = objective.direction or _registry_direction(objective.outcome)
            value = over_futures(table[objective.outcome], objective.statistic, direction,
                                 objective.percentile).iloc[0]
            out.append(float(value))
        if self.spec.robust.satisficing:
            reqs = [c.requirement() for c in self.spec.robust.constraints]
            out.append(float(satisficing(table, reqs).iloc[0]))
        return out

    def _levers_of(self, key: tuple[Any, ...]) -> dict[str, Any]:
        return {lever.name: v for lever, v in zip(self.levers, key, strict=True)}


def candidate_upkeep(spec: ExperimentSpec, levers: Mapping[str, Any]) -> float:
    """Monthly upkeep of the focal firm's levers, months of fair-share revenue per month.

    The firm's preset levers (from the base and the candidate's ``structure``) with the
    candidate's values over them, priced by ``simulation.levers.upkeep``. NaN for a model
    function other than the OrgModel (it has no levers to keep up).
    """
    if spec.model != DEFAULT_MODEL:
        return math.nan

    params = ModelParams.from_kwargs(**model_kwargs({**resolve_base(spec.base), **levers}))
    overrides = {n: getattr(params, n) for n in LEVERS if getattr(params, n) is not None}
    if params.firms:
        first = params.firms[0]
        preset, overrides = first.structure, {**first.levers, **overrides}
    else:
        preset = params.structure or "outside_in"
    values = PRESETS[preset].lever_values(overrides)
    return float(upkeep(values, params.lever_cost))


def identity(spec: RobustSpec) -> dict[str, Any]:
    """What a folder must match to be resumed by this search."""
    return {"spec_hash": spec.digest(), "max_runs": None, "seed_rule": SEED_RULE,
            "selection": None, "search": SEARCH_RULE}


def run_robust(spec: RobustSpec, out: str | Path, *, workers: int | None = None,
               scheduler: str | None = None, executor: Executor | None = None,
               progress: ProgressHook | None = None, wait: bool = False) -> RobustResult:
    """Run (or resume) the robust search of ``spec`` into ``out``; see the module docstring."""
    store = Store(out, spec, identity=identity(spec))
    store.check()
    own = executor is None
    ex = executor if executor is not None else make_executor(workers, scheduler)
    try:
        with FolderLock(out, wait=wait):
            try:
                return _search(spec, store, ex, progress)
            except OutsideInError:
                raise
            except OSError as err:
                raise write_failure(err, out) from None
    finally:
        if own:
            ex.close()


def _search(spec: RobustSpec, store: Store, executor: Executor,
            progress: ProgressHook | None) -> RobustResult:
    import platypus

    t0, started = time.perf_counter(), utc_now()
    store.open(retry_failed=True)  # a failed run is tried again: the search needs them all
    stored = read_runs(store.out)
    n_futures = len(futures(spec))
    manifest = store.write_manifest(planned=None, root_seed=spec.seed, seed_rule=SEED_RULE,
                                    search=SEARCH_RULE, futures=n_futures, status="running")
    engine = _Engine(spec, executor, store, stored, progress)
    directions = objective_directions(spec)
    try:
        for k, seed in enumerate(spec.robust.search.seeds):
            _one_search(spec, engine, directions, seed, platypus)
            # platypus also counts the evaluations it carries over from one generation to
            # the next, which never reach the evaluator: the seed's count is complete now
            engine.evaluations = max(engine.evaluations, (k + 1) * spec.robust.search.nfe)
            if progress is not None:
                progress(engine.evaluations, engine.planned)
    finally:
        store.close()
        session = {"started": started, "finished": utc_now(), "ran": engine.ran_now,
                   "wall_seconds": round(time.perf_counter() - t0, 3),
                   "backend": executor.backend, "workers": executor.workers}
        runs = len(engine.index) * n_futures * spec.replications
        store.write_manifest(sessions=[*manifest.get("sessions", []), session],
                             candidates=len(engine.index), completed=runs,
                             status="complete" if not engine.failed else "incomplete")
    return _result(spec, engine, directions, time.perf_counter() - t0)


def _one_search(spec: RobustSpec, engine: _Engine, directions: Mapping[str, Direction],
                seed: int, platypus: Any) -> None:
    search = spec.robust.search
    problem = platypus.Problem(len(engine.levers), len(directions))
    problem.types[:] = [lever.platypus_type() for lever in engine.levers]
    problem.directions[:] = [platypus.Direction.MAXIMIZE if d == "maximize"
                             else platypus.Direction.MINIMIZE for d in directions.values()]

    def function(variables: Sequence[Any]) -> list[float]:
        return engine.scores(engine.key(variables))

    problem.function = function

    class Batch(platypus.Evaluator):  # type: ignore[misc]
        """Evaluates a generation at once: its new candidates' runs in one executor batch."""

        def evaluate_all(self, jobs: list[Any], **kwargs: Any) -> list[Any]:
            types = problem.types
            keys = [engine.key([types[i].decode(v) for i, v in enumerate(job.solution.variables)])
                    for job in jobs]
            engine.evaluate(keys)
            for job in jobs:
                job.run()
            return jobs

    epsilons = search.epsilons or [0.01] * len(directions)
    random.seed(seed)  # platypus draws from Python's random module
    algorithm = platypus.EpsNSGAII(problem, epsilons=epsilons,
                                   population_size=search.population, evaluator=Batch())
    algorithm.run(search.nfe)


def _result(spec: RobustSpec, engine: _Engine, directions: dict[str, Direction],
            wall: float) -> RobustResult:
    keys = sorted(engine.index, key=engine.index.__getitem__)
    names = [lever.name for lever in engine.levers]
    frame = pd.DataFrame(keys, columns=names)
    frame.index.name = "candidate"
    columns = list(engine.futures.index)
    values = {n: pd.DataFrame([engine.values[engine.index[k]][n] for k in keys],
                              index=frame.index, columns=columns) for n in engine.outcomes}
    scores = pd.DataFrame([engine.scores(k) for k in keys], index=frame.index,
                          columns=list(directions))
    frame = pd.concat([frame, scores], axis=1)
    if spec.robust.constraints and "satisficing" not in frame:
        reqs = [c.requirement() for c in spec.robust.constraints]
        frame["satisficing"] = satisficing(values, reqs)
    for objective in spec.robust.objectives:
        if objective.outcome == UPKEEP:
            continue
        direction = objective.direction or _registry_direction(objective.outcome)
        frame[f"max regret {objective.outcome}"] = max_regret(values[objective.outcome],
                                                              direction)
    if UPKEEP not in frame:
        frame[UPKEEP] = [candidate_upkeep(spec, dict(zip(names, k, strict=True)))
                         for k in keys]
    frame["pareto"] = pareto_mask(frame, directions)
    runs = len(keys) * len(columns) * spec.replications
    return RobustResult(frame, values, engine.futures, directions, runs, engine.ran_now, wall)


def _same(stored: Any, wanted: Any) -> bool:
    if isinstance(wanted, float) or isinstance(stored, float):
        try:
            return float(stored) == float(wanted)
        except (TypeError, ValueError):
            return False
    return bool(stored == wanted)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


__all__ = ["Constraint", "Objective", "RobustResult", "RobustSection", "RobustSpec", "Search",
           "candidate_upkeep", "futures", "load_robust_spec", "objective_directions",
           "parse_robust_spec", "resolve_robust_spec", "run_robust"]
