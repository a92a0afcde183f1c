"""Run a docking study on the experiment engine and write its figure and target table.

The runs are a sweep like any other (:func:`experiments.sweeps.sweep.run_sweep`): the study's spec,
the local or Dask executor, the seed rule of :func:`experiments.engine.runner.replication_seed`,
and the store (Parquet parts and a manifest) in ``OUT/runs``, so an interrupted study
resumes where it stopped. The targets then read the stored runs table. Layout of ``OUT``::

    runs/          the sweep's store (manifest.json, runs/part-*.parquet, ...)
    figure.png     the paper's figure from the runs (and figure.svg)
    targets.csv    each target: published value, tolerance, measured value, verdict
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from experiments.docking.studies import ROOT_SEED, STUDIES, Study
from experiments.docking.targets import TargetResult
from experiments.engine.executors import Executor
from experiments.engine.outdir import FolderLock
from experiments.sweeps.store import read_failed, read_runs
from experiments.sweeps.sweep import ProgressHook, SweepResult, run_sweep
from simulation.errors import OutsideInError, RunFailedError


class StudyError(OutsideInError, ValueError):
    """A study name the docking suite does not have: a user mistake."""


@dataclass
class DockResult:
    """What a docking study gave: its targets' verdicts, its runs and the files written."""

    study: Study
    quick: bool
    targets: list[TargetResult]
    runs: pd.DataFrame
    sweep: SweepResult
    wall_seconds: float
    files: list[Path] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Whether every target is met."""
        return all(t.passed for t in self.targets)

    def table(self) -> pd.DataFrame:
        """The targets as a table (one row each)."""
        return pd.DataFrame([t.row() for t in self.targets])


def study(name: str) -> Study:
    """The study called ``name``; a :class:`StudyError` naming the known ones otherwise."""
    try:
        return STUDIES[name]
    except KeyError:
        raise StudyError(f"no docking study {name!r}; choose from {', '.join(STUDIES)}") \
            from None


def run_study(chosen: Study, out: str | Path, *, quick: bool, seed: int = ROOT_SEED,
              workers: int | None = None, scheduler: str | None = None,
              executor: Executor | None = None,
              progress: ProgressHook | None = None) -> DockResult:
    """Run (or resume) ``chosen`` into ``out``; write its figure and target table.

    Raises :class:`~simulation.errors.RunFailedError` (exit 1) when a run raised: the
    targets are not judged on a partial grid; the failed runs are in ``OUT/runs/failed``.
    """
    spec = chosen.spec(quick, seed)
    out = Path(out)
    start = time.perf_counter()
    with FolderLock(out):
        sweep = run_sweep(spec, out / "runs", workers=workers, scheduler=scheduler,
                          executor=executor, progress=progress)
        failed = read_failed(out / "runs")
        if not failed.empty:
            first = str(failed["error"].iloc[0])
            raise RunFailedError(f"{len(failed)} of {sweep.planned} runs failed (first: "
                                 f"{first}); see {out / 'runs' / 'failed'}")
        runs = read_runs(out / "runs")
        targets = chosen.targets(runs, quick)
        result = DockResult(chosen, quick, targets, runs, sweep, 0.0)
        result.files = write(result, out)
    result.wall_seconds = time.perf_counter() - start
    return result


def write(result: DockResult, out: Path) -> list[Path]:
    """Write ``figure.png``, ``figure.svg`` and ``targets.csv`` into ``out``."""
    figure = result.study.figure(result.runs)
    files = [out / "figure.png", out / "figure.svg", out / "targets.csv"]
    for path in files[:2]:
        partial = path.with_name(f".{path.name}.partial")
        figure.savefig(partial, format=path.suffix[1:])
        partial.replace(path)
    partial = out / ".targets.csv.partial"
    result.table().to_csv(partial, index=False)
    partial.replace(files[2])
    return files
