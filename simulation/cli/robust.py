"""``outsidein robust``: a thin face over ``experiments.sweeps.robust``.

Validates the spec and options, runs (or resumes) the search with a progress bar, writes
the Pareto set, the figure and the report, and says in words what it found. A user mistake
is one line and exit 2, nothing written; a failed run is exit 1 (run again to retry it).
"""

from __future__ import annotations

import shlex
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from experiments.engine.limits import MAX_WORKERS, one_backend
from experiments.engine.outdir import check_out_path, out_folder
from simulation.cli.root import app


@app.command()
def robust(
    spec: Annotated[Path, typer.Argument(
        help="robust spec: an experiment spec with a 'robust' section (YAML), or a shipped "
             "one's name (robust_levers)")],
    workers: Annotated[int | None, typer.Option(
        "--workers", "-w", min=1, max=MAX_WORKERS,
        help=f"local worker processes, at most {MAX_WORKERS} (default: all cores)")] = None,
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address (tcp://host:8786); runs on that cluster")] = None,
    out: Annotated[Path | None, typer.Option(
        help="output folder (default: runs/<spec name>); re-running resumes",
        parser=out_folder)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
    wait: Annotated[bool, typer.Option(
        "--wait", help="if another command is writing OUT, wait for it instead of stopping")]
    = False,
    allow_import: Annotated[bool, typer.Option(
        "--allow-import", help="let the spec name a model function outside this package "
        "(imports and runs that code)")] = False,
) -> None:
    """Search the levers for organizations that hold up across the spec's futures."""
    one_backend(workers, scheduler)
    if out is not None:
        check_out_path(out)
    # deferred: the experiments (pandas, SciPy), only when this command runs
    from experiments.engine.executors import make_executor
    from experiments.sweeps.robust import identity, load_robust_spec, run_robust
    from experiments.sweeps.robust_report import in_words, write_report
    from experiments.sweeps.store import Store

    parsed = load_robust_spec(spec, allow_import=allow_import)
    folder = out or Path("runs") / parsed.name
    Store(folder, parsed, identity=identity(parsed)).check()  # refuse before starting workers
    command = shlex.join(["outsidein", "robust", str(spec),
                          *(["--out", str(out)] if out else [])])
    with make_executor(workers, scheduler) as executor, _progress(quiet) as hook:
        result = run_robust(parsed, folder, executor=executor, progress=hook, wait=wait)
    path = write_report(parsed, result, folder, command=command)
    for line in in_words(parsed, result):
        typer.echo(line)
    typer.echo(f"\nPareto set: {folder / 'pareto.csv'}\nreport: {path}")


@contextmanager
def _progress(quiet: bool):  # type: ignore[no-untyped-def]
    """A rich progress bar of the search's evaluations (with ETA) on stderr."""
    if quiet:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    bar = Progress(TextColumn("evaluations"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                   console=console, disable=not console.is_terminal and not sys.stderr.isatty())
    with bar:
        task = bar.add_task("evaluations", total=None)

        def hook(done: int, planned: int) -> None:
            bar.update(task, completed=min(done, planned), total=planned)

        yield hook
