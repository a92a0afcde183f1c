"""Compare two organizations on one scenario with common random numbers.

A workshop asks "would the outside-in firm have done better here?". Answering that from one
run each is answering noise, so :func:`compare` runs both organizations N times on the same N
seeds (common random numbers: replication *i* of each organization starts from the same seed,
so the market they face starts the same) and reports, for each outcome, the mean of each
organization with its 95% confidence interval and the *paired* difference with its interval,
which is narrower than the difference of two independent means whenever runs on the same seed
are alike.

Seeds come from :class:`numpy.random.SeedSequence` of the root seed, one child per
replication, so results do not depend on how many worker processes run them.

This module runs models and computes numbers; it writes no files and prints nothing (the CLI
and :mod:`simulation.report` do that).
"""

from __future__ import annotations

import math
import multiprocessing
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import stdtrit  # Student's t quantile; scipy.stats costs 0.5 s to import

from simulation.errors import ParameterError
from simulation.scenario import Scenario

OUTCOMES: dict[str, str] = {
    "final_share": "final share",
    "cumulative_profit": "profit (total)",
    "survived": "survival",
    "resilience_loss": "resilience loss",
    "mean_time_to_recover": "months to recover",
    "mean_awareness_gap": "awareness gap",
    "mean_action_gap": "action gap",
}
"""Summary outcomes of the focal firm in the comparison table, with their plain names."""

TRAJECTORIES: dict[str, str] = {
    "market_share": "market share",
    "awareness_gap": "awareness gap",
    "action_gap": "action gap",
}
"""Per-step columns of the focal firm whose mean path (and band) the figure shows."""

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """A mean and its two-sided confidence interval (t distribution) over ``n`` values."""

    mean: float
    low: float
    high: float
    n: int


def mean_interval(values: Sequence[float] | np.ndarray,
                  confidence: float = CONFIDENCE) -> Interval:
    """Mean and t-based confidence interval of the finite values (NaN are left out).

    With fewer than two values the interval is undefined (NaN bounds); with no spread it is
    the mean itself.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n < 2:
        return Interval(mean, math.nan, math.nan, n)
    half = float(stdtrit(n - 1, 0.5 + confidence / 2) * x.std(ddof=1) / math.sqrt(n))
    return Interval(mean, mean - half, mean + half, n)


def paired_difference(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray,
                      confidence: float = CONFIDENCE) -> Interval:
    """Mean of ``b - a`` over the pairs where both are finite, with its t interval.

    Pairs are replications on the same seed; a pair with a missing value (say no shock to
    recover from) is dropped whole, so both means are over the same runs.
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"paired samples differ in length: {x.size} and {y.size}")
    keep = np.isfinite(x) & np.isfinite(y)
    return mean_interval(y[keep] - x[keep], confidence)


def _band(matrix: np.ndarray, confidence: float = CONFIDENCE
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over rows (runs) per column (step), with its t interval.

    The same numbers as :func:`mean_interval`, for all steps at once.
    """
    n = np.isfinite(matrix).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nanmean(np.where(np.isfinite(matrix), matrix, np.nan), axis=0)
        sd = np.nanstd(matrix, axis=0, ddof=1) if matrix.shape[0] > 1 else np.full_like(mean,
                                                                                       np.nan)
        t = stdtrit(np.maximum(n - 1, 1), 0.5 + confidence / 2)
        half = np.where(n >= 2, t * sd / np.sqrt(n), np.nan)
    return mean, mean - half, mean + half


def replication_seeds(root: int, reps: int) -> list[int]:
    """One seed per replication, from the root seed's :class:`~numpy.random.SeedSequence`."""
    return [int(child.generate_state(1)[0]) for child in np.random.SeedSequence(root).spawn(reps)]


@dataclass(frozen=True)
class Task:
    """One run: which organization (index and overrides), which replication and seed."""

    org: int
    rep: int
    seed: int
    overrides: dict[str, Any]
    steps: int


@dataclass(frozen=True)
class RunResult:
    """What a run hands back: the focal firm's outcomes, paths and the events that happened."""

    org: int
    rep: int
    seed: int
    outcomes: dict[str, float]
    paths: dict[str, np.ndarray]
    events: list[dict[str, Any]]


def run_one(scenario: Scenario, task: Task) -> RunResult:
    """Run one replication of one organization (in a worker process or in this one)."""
    from simulation.model import OrgModel  # the core, imported where the work happens

    model = OrgModel.from_scenario(scenario, rng=task.seed, **task.overrides)
    model.run(task.steps)
    table = model.results()
    focal = table[table["firm"] == table["firm"].iloc[0]].sort_values("step")
    summary = model.summary()
    outcomes = {key: _number(summary.get(key)) for key in OUTCOMES}
    if not summary.get("shocks"):  # no shock, nothing to recover from: undefined, not 0
        outcomes["mean_time_to_recover"] = math.nan
    paths = {col: focal[col].to_numpy(dtype=float) for col in TRAJECTORIES}
    return RunResult(task.org, task.rep, task.seed, outcomes, paths, list(model.events))


def _number(value: Any) -> float:
    if value is None:
        return math.nan
    return float(value)


@dataclass
class Comparison:
    """The result of :func:`compare`: everything a handout shows.

    Attributes:
        scenario: the scenario compared.
        labels: the two organizations' names, in order (the difference is second - first).
        reps, seed, steps: how it was run.
        runs: one row per (organization, replication): ``organization``, ``rep``, ``seed`` and
            one column per outcome.
        table: one row per outcome: the mean and interval of each organization and of the
            paired difference (``diff_*``), and ``pairs``, the number of pairs behind it.
        paths: one row per (organization, metric, step): ``mean``, ``low``, ``high``.
        scheduled: the timeline's events as (step, kind), the same in every run.
        random_events: per organization, how many random events of each kind happened per
            replication on average (they differ between runs and between organizations).

    """

    scenario: Scenario
    name: str
    labels: tuple[str, str]
    reps: int
    seed: int
    steps: int
    runs: pd.DataFrame
    table: pd.DataFrame
    paths: pd.DataFrame
    scheduled: list[tuple[int, str]] = field(default_factory=list)
    random_events: dict[str, dict[str, float]] = field(default_factory=dict)


def compare(scenario: Scenario, *, name: str = "scenario", reps: int = 30, workers: int = 1,
            seed: int | None = None, steps: int | None = None,
            overrides: dict[str, Any] | None = None,
            progress: Callable[[int, int], None] | None = None,
            executor: Executor | None = None) -> Comparison:
    """Run the scenario's two organizations on the same ``reps`` seeds and summarise.

    Args:
        scenario: a validated scenario; ``scenario.compare`` names the two organizations.
        name: the scenario's name, for the report.
        reps: replications per organization (>= 2 for intervals).
        workers: processes to run them in (1: in this process).
        seed: root seed (default: the scenario's).
        steps: months per run (default: the scenario's).
        overrides: model parameters applied to both organizations (e.g. ``customers``).
        progress: called with (runs done, runs planned) as runs finish.
        executor: an executor to use instead of making one (tests, other backends).

    Raises:
        ParameterError: ``reps``, ``workers`` or ``steps`` out of range, or a bad override.

    """
    if not 1 <= reps <= 10_000:
        raise ParameterError("reps", f"{reps!r} is outside [1, 10000]")
    if not 1 <= workers <= 256:
        raise ParameterError("workers", f"{workers!r} is outside [1, 256]")
    steps = scenario.steps if steps is None else steps
    if not 1 <= steps <= 100_000:
        raise ParameterError("steps", f"{steps!r} is outside [1, 100000]")
    root = scenario.seed if seed is None else seed
    if root < 0:
        raise ParameterError("seed", f"{root!r} is negative; seeds are whole numbers >= 0")
    orgs = scenario.organizations()
    extra = dict(overrides or {})
    for _, org_overrides in orgs:  # fail here, once, rather than in every worker
        scenario.to_params(**{**org_overrides, **extra})
    seeds = replication_seeds(root, reps)
    tasks = [Task(i, r, s, {**o, **extra}, steps)
             for r, s in enumerate(seeds) for i, (_, o) in enumerate(orgs)]
    results = _run_all(scenario, tasks, workers, progress, executor)
    missing = {(t.org, t.rep) for t in tasks} - {(r.org, r.rep) for r in results}
    if missing or len(results) != len(tasks):  # never summarise a partial batch
        raise RuntimeError(f"{len(tasks)} runs planned, {len(results)} came back; "
                           f"missing (organization, replication): {sorted(missing)[:5]}")
    labels = (orgs[0][0], orgs[1][0])
    return _summarise(scenario, name, labels, reps, root, steps, results)


def _run_all(scenario: Scenario, tasks: list[Task], workers: int,
             progress: Callable[[int, int], None] | None,
             executor: Executor | None) -> list[RunResult]:
    done: list[RunResult] = []
    total = len(tasks)
    if executor is None and workers == 1:
        for task in tasks:
            done.append(run_one(scenario, task))
            if progress:
                progress(len(done), total)
        return done
    own = executor is None
    pool = executor or ProcessPoolExecutor(max_workers=workers, mp_context=_context())
    try:
        futures = [pool.submit(run_one, scenario, task) for task in tasks]
        for future in as_completed(futures):
            done.append(future.result())
            if progress:
                progress(len(done), total)
    finally:
        if own:
            pool.shutdown(cancel_futures=True)
    return done


def _context() -> Any:
    """Fork where it is safe (cheap start-up: the model is already imported), else the default.

    Forking a process that runs other Python threads can deadlock the child (a lock held by
    a thread that does not exist there), so a caller with threads (an app, a notebook) gets a
    fresh-interpreter start method instead. Native threads of numpy's OpenBLAS do not count:
    OpenBLAS re-initialises its pool in a forked child.
    """
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _summarise(scenario: Scenario, name: str, labels: tuple[str, str], reps: int, root: int,
               steps: int, results: list[RunResult]) -> Comparison:
    results = sorted(results, key=lambda r: (r.org, r.rep))
    runs = pd.DataFrame([{"organization": labels[r.org], "rep": r.rep, "seed": r.seed,
                          **r.outcomes} for r in results])
    rows = []
    for key, label in OUTCOMES.items():
        a = runs.loc[runs["organization"] == labels[0], key].to_numpy(dtype=float)
        b = runs.loc[runs["organization"] == labels[1], key].to_numpy(dtype=float)
        row: dict[str, Any] = {"outcome": key, "label": label}
        for prefix, interval in (("a", mean_interval(a)), ("b", mean_interval(b)),
                                 ("diff", paired_difference(a, b))):
            row.update({f"{prefix}_mean": interval.mean, f"{prefix}_low": interval.low,
                        f"{prefix}_high": interval.high})
            if prefix == "diff":
                row["pairs"] = interval.n
        rows.append(row)
    table = pd.DataFrame(rows)

    frames = []
    for org, label in enumerate(labels):
        mine = [r for r in results if r.org == org]
        for metric in TRAJECTORIES:
            length = min(len(r.paths[metric]) for r in mine)
            mean, low, high = _band(np.vstack([r.paths[metric][:length] for r in mine]))
            frames.append(pd.DataFrame({"organization": label, "metric": metric,
                                        "step": np.arange(length), "mean": mean, "low": low,
                                        "high": high}))
    paths = pd.concat(frames, ignore_index=True)

    scheduled = scenario.scheduled_events()
    planned = {(step, kind) for step, kind in scheduled}
    random_events: dict[str, dict[str, float]] = {}
    for org, label in enumerate(labels):
        counts: dict[str, float] = {}
        for r in (r for r in results if r.org == org):
            for ev in r.events:
                kind = str(ev.get("kind"))
                if (int(ev.get("step", -1)), kind) not in planned and kind in (
                        "shock", "entrant", "new_segment"):
                    counts[kind] = counts.get(kind, 0.0) + 1.0 / reps
        random_events[label] = counts
    return Comparison(scenario, name, labels, reps, root, steps, runs, table, paths,
                      scheduled, random_events)
