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

from experiments.engine.executors import Executor, make_executor
from experiments.engine.outdir import FolderLock, write_failure
from experiments.engine.runner import SEED_RULE, Record, Task, replication_seed, run_task
from experiments.sweeps.designs import sample, sampler_seed
from experiments.sweeps.spec import MAX_RUNS, ExperimentSpec, SpecError, resolve_base
from experiments.sweeps.store import Store, utc_now
from simulation.errors import OutsideInError

ProgressHook = Callable[[int, int, int], None]
"""``hook(finished, failed, planned)`` after each run (finished counts earlier sessions)."""


@dataclass(frozen=True)
class Plan:
    """The runs of a spec, possibly shrunk: which runs, and how to make each.

    A run's id is ``sample_id * replications + replication`` whatever ``--max-runs`` keeps,
    so a shrunk plan's runs are the same runs as in the full one (same seeds).
    """

    spec: ExperimentSpec
    samples: pd.DataFrame
    run_ids: tuple[int, ...]
    blocks: tuple[tuple[int, ...], ...]
    """Per sample, its seed block (``()`` when every factor is paired)."""
    max_runs: int | None
    note: str = ""
    """How ``--max-runs`` chose the runs (empty when every run is kept)."""

    @property
    def planned(self) -> int:
        """How many runs the plan makes."""
        return len(self.run_ids)

    def tasks(self, skip: set[int] | frozenset[int] = frozenset()) -> Iterator[Task]:
        """Yield the tasks in run-id order, lazily, leaving out ``skip``."""
        spec = self.spec
        base = resolve_base(spec.base)
        columns = list(self.samples.columns)
        values = self.samples.to_numpy(dtype=object)
        every = spec.outputs.every if spec.outputs.series else 0
        for run_id in self.run_ids:
            if run_id in skip:
                continue
            sample_id, replication = divmod(run_id, spec.replications)
            params = {c: _plain(v) for c, v in zip(columns, values[sample_id], strict=True)}
            seed = replication_seed(spec.seed, replication, self.blocks[sample_id])
            yield Task(run_id=run_id, sample_id=sample_id, replication=replication,
                       seed=seed, params=params, base=base, model=spec.model,
                       steps=spec.steps, series_every=every,
                       series_columns=tuple(spec.outputs.columns))

    def kept_samples(self) -> pd.DataFrame:
        """The factor values of the samples that have at least one run in the plan."""
        ids = sorted({run_id // self.spec.replications for run_id in self.run_ids})
        return self.samples.iloc[ids]


def seed_blocks(spec: ExperimentSpec, samples: pd.DataFrame) -> tuple[tuple[int, ...], ...]:
    """The seed block of each sample: one per setting of the factors that are not paired.

    Samples that differ only in paired factors (by default the levers) share a block, so
    replication *i* of each starts from the same seed and their difference is paired.
    """
    unpaired = [c for c in samples.columns if c not in spec.paired_factors]
    if not unpaired:
        return tuple(() for _ in range(len(samples)))
    ids: dict[tuple[Any, ...], int] = {}
    keys = samples[unpaired].itertuples(index=False, name=None)
    return tuple((ids.setdefault(tuple(map(_plain, key)), len(ids)),) for key in keys)


def make_plan(spec: ExperimentSpec, *, max_runs: int | None = None) -> Plan:
    """Sample the design; ``max_runs`` keeps that many runs spread across it (stratified).

    The runs are counted before the design is drawn: a spec of more than
    :data:`~experiments.sweeps.spec.MAX_RUNS` runs is refused without using the memory to draw it.
    """
    if spec.run_count() > MAX_RUNS:
        raise SpecError(f"design: plans {spec.run_count():,} runs; at most {MAX_RUNS:,} runs "
                        "per spec")
    samples = sample(spec)
    blocks = seed_blocks(spec, samples)
    total = len(samples) * spec.replications
    if max_runs is None or max_runs >= total:
        return Plan(spec, samples, tuple(range(total)), blocks, max_runs)
    run_ids, note = stratified_runs(spec, samples, blocks, max_runs)
    return Plan(spec, samples, run_ids, blocks, max_runs, note)


def stratified_runs(spec: ExperimentSpec, samples: pd.DataFrame,
                    blocks: tuple[tuple[int, ...], ...], max_runs: int
                    ) -> tuple[tuple[int, ...], str]:
    """Choose at most ``max_runs`` runs spread over the design, and say how.

    Whole seed blocks are kept (so every kept run keeps its paired partners) with the same
    replications each; blocks are picked one at a time, each time the one whose factor
    levels have been kept least so far (ties broken by a permutation seeded from the spec),
    so every factor keeps at least two levels as soon as ``max_runs`` allows. When not even
    one block fits, single samples are picked the same way, one replication each.
    """
    reps = spec.replications
    groups: dict[tuple[int, ...], list[int]] = {}
    for sample_id, block in enumerate(blocks):
        groups.setdefault(block, []).append(sample_id)
    size = max(len(g) for g in groups.values())
    whole = max_runs >= size * min(2, len(groups))  # two blocks, or single samples
    units = list(groups.values()) if whole else [[i] for i in range(len(samples))]
    width = len(units[0])
    levels = _level_keys(spec, samples)
    most = max((len(set(col)) for col in levels.values()), default=1)
    wanted = min(len(units), max(2, most))
    r = min(reps, max(1, max_runs // (width * wanted)))
    count = min(len(units), max(1, max_runs // (width * r)))
    order = np.random.default_rng(spec.seed).permutation(len(units))
    chosen = _pick_spread(units, levels, order, count)
    run_ids = tuple(sorted(s * reps + rep for u in chosen for s in units[u] for rep in range(r)))
    kept = {f: len({col[i] for u in chosen for i in units[u]}) for f, col in levels.items()}
    spread = ", ".join(f"{f} {kept[f]} of {len(set(col))}" for f, col in levels.items())
    what = "seed blocks (paired runs kept together)" if whole and width > 1 else "samples"
    ranges = " (a sampled range counts in quarters)" if spec.design.kind != "grid" and any(
        f.range is not None for f in spec.factors.values()) else ""
    note = (f"--max-runs {max_runs}: {len(run_ids)} of {len(samples) * reps} runs, spread "
            f"across the design ({count} of {len(units)} {what} x {r} of {reps} "
            f"replication(s)); levels kept per factor{ranges}: {spread}")
    return run_ids, note


def _pick_spread(units: list[list[int]], levels: dict[str, list[Any]], order: np.ndarray,
                 count: int) -> list[int]:
    """Pick ``count`` units one at a time, each the one whose levels were kept least so far.

    A unit's score is the sum, over its distinct (factor, level) keys, of how often each key
    has been kept (once per kept sample); ties go to the unit with more distinct keys, then
    to the earlier one in ``order``. The scores are updated as units are kept (each key's
    units at once), so a pick costs one pass over the units, not a rescoring of each.
    """
    index: dict[tuple[str, Any], int] = {}
    unit_keys: list[np.ndarray] = []
    for unit in units:
        keys = {(f, col[i]) for f, col in levels.items() for i in unit}
        unit_keys.append(np.array([index.setdefault(k, len(index)) for k in keys], np.intp))
    has = np.zeros((len(index), len(units)), dtype=np.int64)  # key x unit: 1 if it has it
    for u, mine in enumerate(unit_keys):
        has[mine, u] = 1
    width = np.array([len(k) for k in unit_keys], dtype=np.int64)
    position = np.empty(len(units), dtype=np.int64)
    position[order] = np.arange(len(units))
    # one integer orders the units as (score, -distinct keys, position in order) does
    tie = (width.max() - width) * len(units) + position
    step = (width.max() + 1) * len(units)
    score = np.zeros(len(units), dtype=np.int64)
    taken = np.iinfo(np.int64).max
    rank = score * step + tie
    chosen: list[int] = []
    for _ in range(count):
        best = int(np.argmin(rank))
        chosen.append(best)
        kept = np.zeros(len(index), dtype=np.int64)  # how often each key is kept by it
        for f, col in levels.items():
            for i in units[best]:
                kept[index[(f, col[i])]] += 1
        touched = np.flatnonzero(kept)
        score += kept[touched] @ has[touched]
        rank = score * step + tie
        rank[chosen] = taken
    return chosen


def _level_keys(spec: ExperimentSpec, samples: pd.DataFrame) -> dict[str, list[Any]]:
    """Each factor's value per sample, as a level: ranges in quarters of their span."""
    out: dict[str, list[Any]] = {}
    for name, factor in spec.factors.items():
        values = samples[name].tolist()
        if factor.range is not None and spec.design.kind != "grid":
            low, high = factor.range
            values = [min(3, int(4 * (float(v) - low) / (high - low))) for v in values]
        out[name] = [_plain(v) for v in values]
    return out


SELECTION_RULE = "stratified whole seed blocks (1)"
"""How ``--max-runs`` picks runs: a folder written under another rule picked other runs."""


def identity(spec: ExperimentSpec, max_runs: int | None) -> dict[str, Any]:
    """Say what an output folder must match to be resumed (``--steps`` is part of the spec).

    The seed rule and the ``--max-runs`` selection rule are part of it: a folder begun under
    other rules would get other seeds (or other runs) for the runs still to make.
    """
    return {"spec_hash": spec.digest(), "max_runs": max_runs, "seed_rule": SEED_RULE,
            "selection": SELECTION_RULE if max_runs is not None else None}


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
              notice: Callable[[str], None] | None = None, plan: Plan | None = None
              ) -> SweepResult:
    """Run (or resume) a sweep into ``out``; see ``docs/experiments.md``.

    Give ``workers``/``scheduler`` to have an executor made (and closed) here, or an open
    ``executor``; the manifest names its backend. The folder is locked while the sweep
    writes it: another sweep on it is refused (:class:`~experiments.engine.outdir.FolderBusyError`)
    unless ``wait``. ``notice`` receives one line per damaged part found (and re-run).
    A write that fails mid-way (a full disk) raises
    :class:`~experiments.engine.outdir.WriteFailedError`; running the sweep again resumes it.
    ``plan``: this spec's :func:`make_plan` for ``max_runs``, if the caller has made it.
    """
    plan = _own_plan(spec, max_runs, plan)
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
        seed_rule=SEED_RULE, paired=spec.paired_factors, selection=plan.note or None,
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


def _own_plan(spec: ExperimentSpec, max_runs: int | None, plan: Plan | None) -> Plan:
    if plan is None:
        return make_plan(spec, max_runs=max_runs)
    if plan.spec is not spec or plan.max_runs != max_runs:
        raise ValueError("plan: made for another spec or --max-runs")
    return plan


def estimate_seconds(spec: ExperimentSpec, *, workers: int, max_runs: int | None = None,
                     probes: int = 1, plan: Plan | None = None) -> tuple[int, float]:
    """Count the runs and estimate their time, from timing ``probes`` real runs here.

    Nothing is written. The estimate assumes runs take as long as the probe and that
    ``workers`` run in parallel without loss.
    """
    plan = _own_plan(spec, max_runs, plan)
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
