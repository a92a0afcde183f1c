"""Running the pattern suite: plan the runs, run them on an executor, decide each pattern.

Every (pattern, arm, level, replication) is one run of
:func:`experiments.patterns.catalog.pattern_run` with the seed
:func:`experiments.engine.runner.replication_seed` gives its replication, so every
arm of a pattern faces the same random numbers. Runs that two patterns share (same keywords,
same replication) are made once. A run that raises is recorded, never a crash: its pattern
is reported as failed with the first error line.

Seed counts come from power: a pilot, then paired seeds added (at most twice, bounded by
each pattern's cap) until every deciding check has the power the definitions ask for at
its minimum effect; the verdicts use Holm's adjusted p-values across the suite.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from experiments.engine.executors import Executor
from experiments.engine.runner import Record, Task, replication_seed
from experiments.patterns.catalog import ALPHA, COMMON, PATTERNS, POWER, STEPS, Pattern
from experiments.patterns.stats import (
    PatternResult,
    decide,
    evaluate,
    family_size,
    level_keys,
)
from simulation.errors import OutsideInError

MODEL = "experiments.patterns.catalog:pattern_run"
"""The model function of every run."""
ROUNDS = 2
"""Times seeds are added for power after the pilot (each re-estimates the spread)."""

Progress = Callable[[int, int, int], None]
"""``progress(finished, failed, planned)`` after each run."""


class _HasName(Protocol):
    @property
    def name(self) -> str: ...


class PatternSelectionError(OutsideInError, ValueError):
    """A pattern name that the suite does not have: a user mistake."""


@dataclass(frozen=True)
class Cell:
    """Where a run belongs: pattern, arm, level key and replication."""

    pattern: str
    arm: str
    level: tuple[Any, ...]
    replication: int


@dataclass
class Plan:
    """The runs the patterns need: new tasks, and for every run the cells that read it."""

    tasks: list[Task]
    cells: dict[str, list[Cell]]
    """Run key (keywords and replication) -> the cells that read that run."""
    steps: int
    cell_count: int


@dataclass
class SuiteResult:
    """Each pattern's verdict, its runs table, and how long it took."""

    results: list[PatternResult]
    tables: dict[str, pd.DataFrame]
    runs: int
    failed: int
    wall_seconds: float
    run_seconds: float
    quick: bool
    steps: int
    root_seed: int
    meta: dict[str, Any] = field(default_factory=dict)
    alpha: float = ALPHA
    power: float = POWER
    rounds: int = 0
    """How many times seeds were added for power after the pilot."""
    variant: str = ""
    """The structural variant the suite ran at (empty: the definitions as written)."""

    @property
    def passed(self) -> bool:
        """Whether every deciding pattern passed and no run failed."""
        return all(r.passed is not False for r in self.results)

    @property
    def family(self) -> int:
        """The number of deciding checks Holm's adjustment ran over."""
        return sum(1 for r in self.results if r.pattern.gate for c in r.checks
                   if c.check.criterion is not None)


def pick[T: _HasName](declared: Sequence[T], names: Sequence[str] | None, option: str,
                      kind: str) -> list[T]:
    """The ``declared`` things (patterns, variants) named, in declared order, or all.

    An unknown name raises one line naming ``option`` and the choices.
    """
    if not names:
        return list(declared)
    known = {d.name for d in declared}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise PatternSelectionError(
            f"{option}: unknown {kind} {', '.join(unknown)}; choose from "
            f"{', '.join(d.name for d in declared)}")
    return [d for d in declared if d.name in set(names)]


def select(names: Sequence[str] | None) -> list[Pattern]:
    """The patterns named (in the suite's order), or all; raise on an unknown name."""
    return pick(PATTERNS, names, "--only", "pattern")


def varied_keywords(pattern: Pattern) -> set[str]:
    """The keywords a pattern compares: its level axes and those its arms set differently."""
    varied = {axis.keyword for axis in pattern.levels}
    keys = {k for arm in pattern.arms for k in arm.params}
    for key in keys:
        values = {json.dumps(arm.params.get(key, "<unset>"), sort_keys=True, default=str)
                  for arm in pattern.arms}
        if len(values) > 1:
            varied.add(key)
    return varied


def applicable(pattern: Pattern, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a structural variant that applies to a pattern (not what it compares)."""
    varied = varied_keywords(pattern)
    return {k: v for k, v in overrides.items() if k not in varied}


def run_params(pattern: Pattern, arm_name: str, key: tuple[Any, ...], quick: bool,
               overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The keywords of one run: common, the pattern's base, the arm's, a variant's, the level's.

    ``overrides`` (a structural variant, or the constants of a sensitivity sample) apply
    on top of the arm, except to the keywords the pattern compares (:func:`applicable`).
    """
    arm = pattern.arm(arm_name)
    params = {**COMMON, **pattern.base, **arm.params}
    if quick:
        params.update(arm.quick_params)
    params.update(applicable(pattern, overrides or {}))
    params.update({axis.keyword: value for axis, value in zip(pattern.levels, key, strict=True)})
    return params


def plan(patterns: Sequence[Pattern], *, quick: bool, root_seed: int, steps: int | None = None,
         replications: int | Mapping[str, int] | None = None,
         known: Mapping[str, Any] | None = None,
         overrides: Mapping[str, Any] | None = None, first_id: int = 0) -> Plan:
    """Every run the patterns need, made once however many patterns read it.

    ``replications`` per pattern (a number for all; default each pattern's pilot); runs
    whose key is in ``known`` (made in an earlier round) get no new task.
    """
    months = steps or STEPS
    tasks: list[Task] = []
    cells: dict[str, list[Cell]] = {}
    count = 0
    for pattern in patterns:
        if isinstance(replications, Mapping):
            reps = replications.get(pattern.name, pattern.pilot(quick))
        else:
            reps = replications or pattern.pilot(quick)
        for arm in pattern.arms:
            for key in level_keys(pattern):
                params = run_params(pattern, arm.name, key, quick, overrides)
                identity = json.dumps(params, sort_keys=True, default=str)
                for rep in range(reps):
                    count += 1
                    run_key = f"{identity}|{rep}"
                    if run_key not in cells:
                        cells[run_key] = []
                        if known is None or run_key not in known:
                            tasks.append(Task(first_id + len(tasks), sample_id=0,
                                              replication=rep,
                                              seed=replication_seed(root_seed, rep),
                                              params=params, base={}, model=MODEL,
                                              steps=months))
                    cells[run_key].append(Cell(pattern.name, arm.name, key, rep))
    return Plan(tasks, cells, months, count)


def run_suite(patterns: Sequence[Pattern], executor: Executor, *, quick: bool, root_seed: int,
              steps: int | None = None, replications: int | None = None,
              progress: Progress | None = None, overrides: Mapping[str, Any] | None = None,
              variant: str = "", alpha: float = ALPHA, power: float = POWER) -> SuiteResult:
    """Run the patterns on ``executor``, adding paired seeds for power, and decide each.

    Each pattern starts with its pilot seeds; then, up to :data:`ROUNDS` times, each gated
    pattern gets the seeds its deciding checks need for ``power`` at their minimum effect
    (Holm's strictest level, ``alpha`` over the number of deciding checks), at most its
    cap. New seeds are paired: every arm and level runs them. ``replications`` fixes the
    seeds instead (no adaptation). Verdicts are then set by :func:`decide`.
    """
    family = family_size(patterns)
    reps: dict[str, int] = {p.name: replications or p.pilot(quick) for p in patterns}
    records: dict[str, Record] = {}
    failed = 0
    rounds = 0
    start = time.perf_counter()
    while True:
        planned = plan(patterns, quick=quick, root_seed=root_seed, steps=steps,
                       replications=reps, known=records, overrides=overrides,
                       first_id=len(records))
        keys = {task.run_id: key for key, task in _task_keys(planned)}
        total = len(records) + len(planned.tasks)

        def keep(record: Record, keys: dict[int, str] = keys, total: int = total) -> None:
            nonlocal failed
            records[keys[record.run_id]] = record
            failed += not record.ok
            if progress is not None:
                progress(len(records), failed, total)

        if planned.tasks:
            executor.run(planned.tasks, keep, planned=len(planned.tasks))
        tables = tables_by_pattern(planned, records)
        results = [evaluate(p, tables[p.name], alpha=alpha, power=power, family=family)
                   for p in patterns]
        if replications is not None or rounds >= ROUNDS:
            break
        wanted = {r.pattern.name: min(r.pattern.most(quick), max(reps[r.pattern.name],
                                                                  r.needed))
                  if r.pattern.gate and not r.failed else reps[r.pattern.name]
                  for r in results}
        if wanted == reps:
            break
        reps, rounds = wanted, rounds + 1
    decide(results, alpha)
    wall = time.perf_counter() - start
    return SuiteResult(results, tables, runs=len(records), failed=failed,
                       wall_seconds=wall, run_seconds=sum(r.duration for r in records.values()),
                       quick=quick, steps=planned.steps, root_seed=root_seed, alpha=alpha,
                       power=power, rounds=rounds, variant=variant)


def _task_keys(planned: Plan) -> list[tuple[str, Task]]:
    """Each new task with its run key."""
    by_params: dict[tuple[str, int], Task] = {
        (json.dumps(dict(t.params), sort_keys=True, default=str), t.replication): t
        for t in planned.tasks}
    out = []
    for key in planned.cells:
        identity, _, rep = key.rpartition("|")
        task = by_params.get((identity, int(rep)))
        if task is not None:
            out.append((key, task))
    return out


def tables_by_pattern(planned: Plan, records: Mapping[str, Record]) -> dict[str, pd.DataFrame]:
    """One table per pattern: a row per (arm, level, replication) with its run's measures."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for run_key, cells in planned.cells.items():
        record = records[run_key]
        for cell in cells:
            rows.setdefault(cell.pattern, []).append({
                "arm": cell.arm, "level": cell.level, "replication": cell.replication,
                "seed": record.seed, "ok": record.ok, "error": record.error,
                "duration": record.duration, **record.outcomes})
    return {name: pd.DataFrame(found) for name, found in rows.items()}
