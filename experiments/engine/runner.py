"""What one run does, as plain top-level functions every backend can pickle.

A :class:`Task` is one (sample, replication) of an experiment: its identity, the seed
derived from that identity, and the model keywords. :func:`run_task` resolves the model
function, runs it, and returns a :class:`Record` that says either what came out or what
went wrong, so that a run that raises never stops the sweep. The model function is
pluggable (``"module:function"``) so the same sample-run-analyze path also runs analytic
test functions such as Ishigami's.
"""

from __future__ import annotations

import ctypes
import importlib
import os
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from simulation.outcomes import in_business, in_revenue_months
from simulation.scenario_files import load_scenario

ModelFunction = Callable[..., Any]
"""``fn(params, seed, *, steps, series_every, series_columns)`` returning the outcomes
dict, or ``(outcomes, series)`` with ``series`` a DataFrame that has a ``step`` column."""


def replication_seed(root_seed: int, replication: int, block: tuple[int, ...] = ()) -> int:
    """Derive the seed of a run: the one seed rule of compare, sweeps and the pattern suite.

    ``SeedSequence(root, spawn_key=(replication, *block))``, first 64-bit word >> 1. A run's
    seed depends on the root, its replication and its ``block`` only, never on the order in
    which runs are made or end, the backend or the worker count. Runs that differ only in
    what is compared (the organization; a spec's ``paired`` factors) share a block, so they
    draw the same random numbers (common random numbers) and their difference is the
    comparison's effect, not chance. A comparison has one block (``()``); a sweep has a
    block per setting of its unpaired factors.
    """
    seq = np.random.SeedSequence(root_seed, spawn_key=(replication, *block))
    return int(seq.generate_state(1, np.uint64)[0] >> np.uint64(1))


SEED_RULE = ("SeedSequence(root_seed, spawn_key=(replication, *block)), first 64-bit word >> 1; "
             "block: the setting of the unpaired factors")
"""The seed rule in words, for manifests."""


@dataclass(frozen=True)
class Task:
    """One run to make: identity, seed and everything the model function needs."""

    run_id: int
    sample_id: int
    replication: int
    seed: int
    params: Mapping[str, Any]
    """The varied parameters (levers and conditions) of this run."""
    base: Mapping[str, Any]
    """The fixed model keywords; ``params`` override them."""
    model: str
    steps: int
    series_every: int = 0
    series_columns: Sequence[str] = ()


@dataclass
class Record:
    """What one run gave back: outcomes, or the error that stopped it."""

    run_id: int
    sample_id: int
    replication: int
    seed: int
    params: dict[str, Any]
    ok: bool
    outcomes: dict[str, Any] = field(default_factory=dict)
    series: pd.DataFrame | None = None
    error: str = ""
    traceback: str = ""
    duration: float = 0.0


@cache
def resolve_model(path: str) -> ModelFunction:
    """Import ``"module:function"`` once per process."""
    module_name, _, name = path.partition(":")
    fn = getattr(importlib.import_module(module_name), name)
    if not callable(fn):
        raise TypeError(f"{path} is not callable")
    return fn  # type: ignore[no-any-return]


def run_task(task: Task) -> Record:
    """Run one task; catch anything it raises and return it as a failed record."""
    start = time.perf_counter()
    record = Record(task.run_id, task.sample_id, task.replication, task.seed,
                    dict(task.params), ok=False)
    try:
        fn = resolve_model(task.model)
        out = fn({**task.base, **task.params}, task.seed, steps=task.steps,
                 series_every=task.series_every, series_columns=tuple(task.series_columns))
        outcomes, series = out if isinstance(out, tuple) else (out, None)
        record.outcomes = dict(outcomes)
        record.series = series
        record.ok = True
    except Exception as err:  # noqa: BLE001 - any model error is data, not a crash
        record.error = f"{type(err).__name__}: {err}"
        record.traceback = traceback.format_exc(limit=20)
    record.duration = time.perf_counter() - start
    return record


WORKER_DIED = "WorkerDied: the worker process running this run died (killed, or out of memory)"
"""The error recorded for a run whose process died under it."""


def worker_died(task: Task) -> Record:
    """The failed record of a run whose worker process died (any backend)."""
    return Record(task.run_id, task.sample_id, task.replication, task.seed, dict(task.params),
                  ok=False, error=WORKER_DIED)


def run_tasks(tasks: Sequence[Task]) -> list[Record]:
    """Run a chunk of tasks in order (one submission, less overhead for short runs).

    After each run the C heap's free pages go back to the system (about a microsecond when
    there is nothing to give back), so that a worker's private memory stays near flat over
    hundreds of runs instead of creeping up with the heap's fragments.
    """
    records = []
    for task in tasks:
        records.append(run_task(task))
        release_free_memory()
    return records


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim  # type: ignore[no-any-return]
    except (AttributeError, OSError):  # not glibc: the allocator keeps its own counsel
        return None


_TRIM = _malloc_trim()


def release_free_memory() -> None:
    """Return the C heap's free pages to the system (glibc's ``malloc_trim``; else nothing).

    The arrays of a run (numpy's and the compiled kernels') come and go through ``malloc``;
    the freed pages of a forked worker stay its own until they are given back.
    """
    if _TRIM is not None:
        _TRIM(0)


SCENARIO_KEY = "scenario"
"""A base that names a scenario carries it under this key (see :func:`model_kwargs`)."""


@cache
def base_scenario(name: str) -> Any:
    """Load a spec's base scenario once per process (the spec check and every run share it)."""
    return load_scenario(name)


def model_kwargs(params: Mapping[str, Any]) -> dict[str, Any]:
    """The OrgModel keywords of a run: plain keywords, or a scenario with overrides.

    With ``scenario`` among ``params``, the others are applied through the scenario's own
    ``to_model_kwargs`` (so ``structure`` replaces the focal firm's preset and a lever
    overrides its value, as everywhere else); the scenario's own seed is dropped because
    each run has its own.
    """
    if SCENARIO_KEY not in params:
        return dict(params)
    overrides = {k: v for k, v in params.items() if k != SCENARIO_KEY}
    kwargs = dict(base_scenario(str(params[SCENARIO_KEY])).to_model_kwargs(**overrides))
    kwargs.pop("rng", None)
    return kwargs


KERNELS_SWITCH = "OUTSIDEIN_KERNELS"
"""Set to ``0`` to make studies run the numpy model even where numba is installed."""


@cache
def study_model() -> Any:
    """The model class studies run: the compiled kernels where numba is installed.

    :class:`simulation.kernels.KernelModel` (its kernels loaded; compiled once, on first
    use, with one line on stderr saying so), else the numpy ``OrgModel``. The two give the
    same runs (``tests/test_kernels.py``); the kernels are faster. The fork server calls
    this before it forks, so workers share the loaded kernels.
    """
    if os.environ.get(KERNELS_SWITCH, "1") != "0":
        try:
            from simulation import kernels  # deferred: numba, optional, 0.7 s to import
        except ImportError:  # numba is the `studies` extra
            pass
        else:
            kernels.warm(lambda line: print(line, file=sys.stderr, flush=True))
            return kernels.KernelModel
    from simulation.model import OrgModel  # deferred: Mesa (1.3 s); a coordinator never loads it

    return OrgModel


def org_model(params: Mapping[str, Any], seed: int, *, steps: int, series_every: int = 0,
              series_columns: Sequence[str] = ()) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """Build the OrgModel from keywords and a seed, run it, return its summary.

    With ``series_every > 0`` also the focal firm's per-step ``series_columns`` at every
    ``series_every``-th step (and the last one), from ``model.results()``.
    """
    model = study_model()(rng=seed, **model_kwargs(params))
    model.run(steps)
    summary = in_revenue_months(model.summary(), model.fair_revenue)
    if series_every <= 0:
        return summary, None
    results = model.results()
    focal = results.groupby("step", sort=True).head(1)
    last = focal["step"].max()
    keep = focal[(focal["step"] % series_every == 0) | (focal["step"] == last)]
    columns = ["step", *[c for c in series_columns if c != "step"]]
    # as the runs table: money in months of revenue, a failed firm's gaps no values
    values = in_business(in_revenue_months({c: keep[c].to_numpy() for c in columns},
                                           model.fair_revenue), keep["alive"].to_numpy())
    return summary, pd.DataFrame(values, columns=columns)
