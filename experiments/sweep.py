"""A whole sweep: plan the runs, skip those already stored, run the rest, record.

This is the library behind ``outsidein sweep``; the CLI only parses options and reports.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.designs import sample, sampler_seed
from experiments.executors import Executor, make_executor
from experiments.outdir import FolderLock, write_failure
from experiments.runner import Record, Task, run_seed, run_task
from experiments.spec import MAX_RUNS, ExperimentSpec, SpecError, resolve_base
from experiments.store import Store, utc_now
from simulation.errors import OutsideInError

ProgressHook = Callable[[int, int, int], None]
"""``hook(finished, failed, planned)`` after each run (finished counts earlier sessions)."""


@dataclass(frozen=True)
class Plan:
    """The runs of a spec, possibly shrunk: how many, and how to make each."""

    spec: ExperimentSpec
    samples: pd.DataFrame
    planned: int
    max_runs: int | None

    def tasks(self, skip: set[int] | frozenset[int] = frozenset()) -> Iterator[Task]:
        """Yield the tasks in run-id order, lazily, leaving out ``skip``."""
        spec = self.spec
        base = resolve_base(spec.base)
        columns = list(self.samples.columns)
        values = self.samples.to_numpy(dtype=object)
        every = spec.outputs.every if spec.outputs.series else 0
        for run_id in range(self.planned):
            if run_id in skip:
                continue
            sample_id, replication = divmod(run_id, spec.replications)
            params = {c: _plain(v) for c, v in zip(columns, values[sample_id], strict=True)}
            yield Task(run_id=run_id, sample_id=sample_id, replication=replication,
                       seed=run_seed(spec.seed, sample_id, replication), params=params,
                       base=base, model=spec.model, steps=spec.steps, series_every=every,
                       series_columns=tuple(spec.outputs.columns))


def make_plan(spec: ExperimentSpec, *, max_runs: int | None = None) -> Plan:
    """Sample the design; ``max_runs`` keeps only the first runs (by run id).

    The runs are counted before the design is drawn: a spec of more than
    :data:`~experiments.spec.MAX_RUNS` runs is refused without using the memory to draw it.
    """
    if spec.run_count() > MAX_RUNS:
        raise SpecError(f"design: plans {spec.run_count():,} runs; at most {MAX_RUNS:,} runs "
                        "per spec")
    samples = sample(spec)
    total = len(samples) * spec.replications
    planned = total if max_runs is None else min(total, max_runs)
    return Plan(spec, samples, planned, max_runs)


def identity(spec: ExperimentSpec, max_runs: int | None) -> dict[str, Any]:
    """Say what an output folder must match to be resumed (``--steps`` is part of the spec)."""
    return {"spec_hash": spec.digest(), "max_runs": max_runs}


@dataclass(frozen=True)
class SweepResult:
    """Counts and timings of a sweep (all sessions together for the counts)."""

    planned: int
    completed: int
    failed: int
    ran_now: int
    skipped: int
    wall_seconds: float

    @property
    def finished(self) -> bool:
        """True when every planned run is stored, as a result or as a failure."""
        return self.completed + self.failed == self.planned


def run_sweep(spec: ExperimentSpec, out: str | Path, *, workers: int | None = None,
              scheduler: str | None = None, max_runs: int | None = None,
              executor: Executor | None = None, progress: ProgressHook | None = None,
              flush_every: int = 256, retry_failed: bool = False, wait: bool = False,
              notice: Callable[[str], None] | None = None) -> SweepResult:
    """Run (or resume) a sweep into ``out``; see ``docs/experiments.md``.

    Give ``workers``/``scheduler`` to have an executor made (and closed) here, or an open
    ``executor``; the manifest names its backend. The folder is locked while the sweep
    writes it: another sweep on it is refused (:class:`~experiments.outdir.FolderBusyError`)
    unless ``wait``. ``notice`` receives one line per damaged part found (and re-run).
    A write that fails mid-way (a full disk) raises
    :class:`~experiments.outdir.WriteFailedError`; running the sweep again resumes it.
    """
    plan = make_plan(spec, max_runs=max_runs)
    store = Store(out, spec, identity=identity(spec, max_runs), flush_every=flush_every)
    store.check()  # refuse a folder of another experiment before connecting or writing
    own = executor is None
    ex = executor if executor is not None else make_executor(workers, scheduler)
    try:
        with FolderLock(out, wait=wait):
            try:
                return _run(plan, store, ex, progress=progress, retry_failed=retry_failed,
                            notice=notice)
            except OutsideInError:  # already one line (a write failure, a lost scheduler)
                raise
            except OSError as err:
                raise write_failure(err, out) from None
    finally:
        if own:
            ex.close()


def _run(plan: Plan, store: Store, executor: Executor, *, progress: ProgressHook | None,
         retry_failed: bool, notice: Callable[[str], None] | None = None) -> SweepResult:
    spec = plan.spec
    done = store.open(retry_failed=retry_failed)
    for line in store.repaired:
        if notice is not None:
            notice(f"{store.out}: {line}; its runs run again")
    started, t0 = utc_now(), time.perf_counter()
    manifest = store.write_manifest(
        planned=plan.planned, root_seed=spec.seed, sampler_seed=sampler_seed(spec),
        seed_rule="SeedSequence(root_seed, spawn_key=(sample_id, replication)), first "
                  "64-bit word >> 1",
        status="running")
    counts = {"finished": len(done), "failed": _count_failed(store), "ran": 0}
    run_seconds = 0.0

    def on_record(record: Record) -> None:
        nonlocal run_seconds
        store.add(record)
        counts["finished"] += 1
        counts["ran"] += 1
        counts["failed"] += 0 if record.ok else 1
        run_seconds += record.duration
        if progress is not None:
            progress(counts["finished"], counts["failed"], plan.planned)

    remaining = plan.planned - len(done)
    failing = False
    try:
        if progress is not None:
            progress(counts["finished"], counts["failed"], plan.planned)
        if remaining > 0:
            executor.run(plan.tasks(done), on_record, planned=remaining)
    except BaseException:
        failing = True
        raise
    finally:
        try:
            store.close()
        except OSError:
            if not failing:
                raise
            # a full disk: the journal keeps the finished runs for the next session
        wall = time.perf_counter() - t0
        session = {"started": started, "finished": utc_now(), "ran": counts["ran"],
                   "wall_seconds": round(wall, 3), "backend": executor.backend,
                   "workers": executor.workers,
                   "run_seconds_mean": run_seconds / counts["ran"] if counts["ran"] else None,
                   "run_seconds_total": run_seconds}
        completed = counts["finished"] - counts["failed"]
        try:
            store.write_manifest(
                sessions=[*manifest.get("sessions", []), session], completed=completed,
                failed=counts["failed"],
                status="complete" if counts["finished"] == plan.planned else "incomplete")
        except OSError:
            if not failing:
                raise
            # left "running": the next session of the same sweep rewrites it
    return SweepResult(plan.planned, completed, counts["failed"], counts["ran"], len(done),
                       wall)


def estimate_seconds(spec: ExperimentSpec, *, workers: int, max_runs: int | None = None,
                     probes: int = 1) -> tuple[int, float]:
    """Count the runs and estimate their time, from timing ``probes`` real runs here.

    Nothing is written. The estimate assumes runs take as long as the probe and that
    ``workers`` run in parallel without loss.
    """
    plan = make_plan(spec, max_runs=max_runs)
    durations = []
    for task in plan.tasks():
        t0 = time.perf_counter()
        run_task(task)
        durations.append(time.perf_counter() - t0)
        if len(durations) >= probes:
            break
    per_run = float(np.mean(durations)) if durations else 0.0
    return plan.planned, per_run * plan.planned / max(1, workers)


def _count_failed(store: Store) -> int:
    import pyarrow.parquet as pq

    return sum(pq.read_metadata(p).num_rows for p in store.part_files("failed"))


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


__all__ = ["Plan", "SweepResult", "estimate_seconds", "make_plan", "run_sweep"]
