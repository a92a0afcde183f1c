"""``outsidein dock``: reproduce a classic result (docking) on the experiment engine.

A thin face over :mod:`experiments.docking.run`: an unknown study or an unusable output
folder is one line and exit code 2, checked before anything runs; a missed target (or a run
that failed) gives exit code 1 after the figure and the table are written; 0 when every
target is met.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from experiments.engine.limits import MAX_WORKERS, one_backend
from experiments.engine.outdir import check_out_path, out_folder
from simulation.cli.root import app
from simulation.cli.sweep import _progress

if TYPE_CHECKING:
    from experiments.docking.run import DockResult

EXIT_TARGET_MISSED = 1


@app.command()
def dock(
    name: Annotated[str, typer.Argument(
        metavar="STUDY", help="march1991 (March 1991, Fig. 1) or nk (NK landscapes)")],
    quick: Annotated[bool, typer.Option(
        "--quick", help="a smaller grid, fewer seeds: a check (seconds), not the full "
        "reproduction")] = False,
    workers: Annotated[int | None, typer.Option(
        "--workers", "-w", min=1, max=MAX_WORKERS,
        help=f"local worker processes, at most {MAX_WORKERS} (default: all cores)")] = None,
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address (tcp://host:8786); runs on that cluster")] = None,
    out: Annotated[Path | None, typer.Option(
        help="folder for the runs, figure and table (default: dock/STUDY, or "
        "dock/STUDY-quick)", parser=out_folder)] = None,
    seed: Annotated[int | None, typer.Option(
        min=0, max=2**63 - 1, help="root seed (default: the study's, 1991)")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
) -> None:
    """Run a docking study; print each published target beside the measured value.

    Writes OUT/figure.png (and .svg) in the paper's layout, OUT/targets.csv and the runs
    (OUT/runs, a sweep's store: running the same command again resumes it). Exit 1 if a
    target is missed.
    """
    # deferred: the experiments (pandas, SciPy), only when this command runs
    from experiments.docking.run import run_study, study
    from experiments.docking.studies import ROOT_SEED

    chosen = study(name)
    one_backend(workers, scheduler)
    folder = check_out_path(out if out is not None else
                            Path("dock") / (f"{name}-quick" if quick else name))
    from experiments.engine.executors import make_executor

    with make_executor(workers, scheduler) as executor, _progress(quiet) as hook:
        result = run_study(chosen, folder, quick=quick,
                           seed=ROOT_SEED if seed is None else seed, executor=executor,
                           progress=hook)
    _print_table(result)
    typer.echo(f"figure: {folder / 'figure.png'}  table: {folder / 'targets.csv'}  "
               f"({result.sweep.planned} runs, {result.sweep.ran_now} run now, "
               f"{result.wall_seconds:.1f} s)")
    if not result.passed:
        raise typer.Exit(EXIT_TARGET_MISSED)


def _print_table(result: DockResult) -> None:
    from rich.console import Console
    from rich.table import Table

    mode = "quick" if result.quick else "full"
    table = Table(title=f"Docking: {result.study.title} ({mode} run; 95% intervals)")
    for column in ("target", "published", "tolerance", "measured [95% interval]", "verdict"):
        table.add_column(column, overflow="fold")
    for target in result.targets:
        style = "bold green" if target.passed else "bold red"
        verdict = "PASS" if target.passed else "FAIL"
        table.add_row(f"{target.claim}\n[dim]{target.source}[/]", target.target,
                      target.tolerance, target.measured.text(digits=3),
                      f"[{style}]{verdict}[/]")
    Console(width=None if sys.stdout.isatty() else 150).print(table)
