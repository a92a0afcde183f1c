"""Running the pattern suite: plan the runs, run them on an executor, decide each pattern.

Every (pattern, arm, level, replication) is one run of :func:`experiments.patterns.pattern_run`
with the seed :func:`experiments.runner.replication_seed` gives its replication, so every
arm of a pattern faces the same random numbers. Runs that two patterns share (same keywords,
same replication) are made once. A run that raises is recorded, never a crash: its pattern
is reported as failed with the first error line.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from experiments.executors import Executor
from experiments.pattern_stats import PatternResult, evaluate, level_keys
from experiments.patterns import COMMON, PATTERNS, STEPS, Pattern
from experiments.runner import Record, Task, replication_seed
from simulation.errors import OutsideInError

MODEL = "experiments.patterns:pattern_run"
"""The model function of every run."""

Progress = Callable[[int, int, int], None]
"""``progress(finished, failed, planned)`` after each run."""


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
    """The unique runs of a suite and, for each, the cells that read it."""

    tasks: list[Task]
    cells: dict[int, list[Cell]]
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

    @property
    def passed(self) -> bool:
        """Whether every deciding pattern passed and no run failed."""
        return all(r.passed is not False for r in self.results)


def select(names: Sequence[str] | None) -> list[Pattern]:
    """The patterns named (in the suite's order), or all; raise on an unknown name."""
    if not names:
        return list(PATTERNS)
    known = {p.name for p in PATTERNS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise PatternSelectionError(
            f"--only: unknown pattern {', '.join(unknown)}; choose from "
            f"{', '.join(p.name for p in PATTERNS)}")
    return [p for p in PATTERNS if p.name in set(names)]


def run_params(pattern: Pattern, arm_name: str, key: tuple[Any, ...], quick: bool
               ) -> dict[str, Any]:
    """The keywords of one run: common, then the pattern's base, the arm's, the level's."""
    arm = pattern.arm(arm_name)
    params = {**COMMON, **pattern.base, **arm.params}
    if quick:
        params.update(arm.quick_params)
    params.update({axis.keyword: value for axis, value in zip(pattern.levels, key, strict=True)})
    return params


def plan(patterns: Sequence[Pattern], *, quick: bool, root_seed: int, steps: int | None = None,
         replications: int | None = None) -> Plan:
    """Every run the patterns need, made once however many patterns read it."""
    months = steps or STEPS
    tasks: list[Task] = []
    cells: dict[int, list[Cell]] = {}
    by_key: dict[str, int] = {}
    count = 0
    for pattern in patterns:
        reps = replications or pattern.replications(quick)
        for arm in pattern.arms:
            for key in level_keys(pattern):
                params = run_params(pattern, arm.name, key, quick)
                identity = json.dumps(params, sort_keys=True, default=str)
                for rep in range(reps):
                    count += 1
                    cell = Cell(pattern.name, arm.name, key, rep)
                    run_key = f"{identity}|{rep}"
                    if run_key not in by_key:
                        run_id = len(tasks)
                        by_key[run_key] = run_id
                        tasks.append(Task(run_id, sample_id=len(by_key), replication=rep,
                                          seed=replication_seed(root_seed, rep), params=params,
                                          base={}, model=MODEL, steps=months))
                        cells[run_id] = []
                    cells[by_key[run_key]].append(cell)
    return Plan(tasks, cells, months, count)


def run_suite(patterns: Sequence[Pattern], executor: Executor, *, quick: bool, root_seed: int,
              steps: int | None = None, replications: int | None = None,
              progress: Progress | None = None) -> SuiteResult:
    """Run the patterns' runs on ``executor`` and decide each pattern."""
    planned = plan(patterns, quick=quick, root_seed=root_seed, steps=steps,
                   replications=replications)
    records: dict[int, Record] = {}
    failed = 0
    start = time.perf_counter()

    def keep(record: Record) -> None:
        nonlocal failed
        records[record.run_id] = record
        failed += not record.ok
        if progress is not None:
            progress(len(records), failed, len(planned.tasks))

    executor.run(planned.tasks, keep, planned=len(planned.tasks))
    wall = time.perf_counter() - start
    tables = tables_by_pattern(planned, records)
    results = [evaluate(p, tables[p.name]) for p in patterns]
    return SuiteResult(results, tables, runs=len(planned.tasks), failed=failed,
                       wall_seconds=wall, run_seconds=sum(r.duration for r in records.values()),
                       quick=quick, steps=planned.steps, root_seed=root_seed)


def tables_by_pattern(planned: Plan, records: dict[int, Record]) -> dict[str, pd.DataFrame]:
    """One table per pattern: a row per (arm, level, replication) with its run's measures."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for run_id, cells in planned.cells.items():
        record = records[run_id]
        for cell in cells:
            rows.setdefault(cell.pattern, []).append({
                "arm": cell.arm, "level": cell.level, "replication": cell.replication,
                "seed": record.seed, "ok": record.ok, "error": record.error,
                "duration": record.duration, **record.outcomes})
    return {name: pd.DataFrame(found) for name, found in rows.items()}
