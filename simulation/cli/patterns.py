"""``outsidein patterns``: run the pattern suite, print its verdicts, write its report.

A thin face over :mod:`experiments.pattern_suite` and :mod:`experiments.pattern_report`:
bad options (an unknown pattern, an output path that is a file or is being written) are one
line and exit code 2, checked before anything runs; a pattern that fails (or whose runs
fail) gives exit code 1 after the report is written; 0 when every pattern passes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from experiments.forkserver import start_early
from experiments.limits import MAX_WORKERS, default_workers, one_backend
from simulation.cli import app

if TYPE_CHECKING:
    import pandas as pd

    from experiments.pattern_suite import SuiteResult

EXIT_PATTERN_FAILED = 1
VERDICT_STYLE = {"PASS": "bold green", "FAIL": "bold red", "ERROR": "bold red"}


@app.command()
def patterns(
    quick: Annotated[bool, typer.Option(
        "--quick", help="few seeds per arm (a check, not a verdict)")] = False,
    workers: Annotated[int | None, typer.Option(
        "--workers", "-w", min=1, max=MAX_WORKERS,
        help=f"local worker processes, at most {MAX_WORKERS} (default: all cores)")] = None,
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address (tcp://host:8786); runs on that cluster")] = None,
    out: Annotated[Path, typer.Option(help="folder for the report (created)")] =
    Path("patterns"),
    seed: Annotated[int | None, typer.Option(min=0, help="root seed of the suite")] = None,
    only: Annotated[str | None, typer.Option(
        help="comma-separated pattern names to run (default: all)")] = None,
    steps: Annotated[int | None, typer.Option(
        min=1, max=100_000, help="months per run (default: the suite's; a shorter run is a "
        "smoke test, not a verdict)")] = None,
    seeds: Annotated[int | None, typer.Option(
        min=2, max=10_000, help="replications per arm and level (default: the suite's)")]
    = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
) -> None:
    """Run every pattern on paired seeds; print verdicts; write OUT/patterns.html.

    Also writes OUT/figures/*.svg, OUT/patterns.csv (the verdicts), OUT/runs.csv (every
    run's measures) and OUT/regime-map.csv. Exit 1 if a pattern fails.
    """
    one_backend(workers, scheduler)
    # the workers' fork server loads the model while this process loads its own modules
    start_early(default_workers(workers), scheduler)
    from experiments.executors import make_executor
    from experiments.outdir import FolderLock
    from experiments.pattern_report import summary_rows, write
    from experiments.pattern_suite import run_suite, select
    from experiments.patterns import ROOT_SEED
    from simulation.cli.sweep import _progress

    chosen = select([n.strip() for n in only.split(",") if n.strip()] if only else None)
    root = ROOT_SEED if seed is None else seed
    # the executor first: an unreachable scheduler is refused before the folder is made
    with make_executor(workers, scheduler) as executor, FolderLock(out), \
            _progress(quiet) as hook:
        suite = run_suite(chosen, executor, quick=quick, root_seed=root, steps=steps,
                          replications=seeds, progress=hook)
        page = write(suite, out)
    _print_table(summary_rows(suite), suite)
    typer.echo(f"report: {page}  ({suite.runs} runs, {suite.failed} failed, "
               f"{suite.wall_seconds:.1f} s)")
    if not suite.passed:
        raise typer.Exit(EXIT_PATTERN_FAILED)


def _print_table(summary: pd.DataFrame, suite: SuiteResult) -> None:
    from rich.console import Console
    from rich.table import Table

    from experiments.pattern_stats import Estimate

    mode = "quick" if suite.quick else "full"
    table = Table(title=f"Outside-In patterns ({mode} run, 95% intervals; the level "
                  "closest to failing is shown)")
    for name in ("pattern", "from", "check", "effect [95% interval]", "verdict"):
        table.add_column(name, overflow="fold")
    previous = None
    for row in summary.to_dict("records"):
        effect = Estimate(row["mean"], row["lower"], row["upper"], row["n"]).text()
        if row["where"]:
            effect += f" at {row['where']}"
        verdict = f"[{VERDICT_STYLE.get(row['verdict'], '')}]{row['verdict']}[/]"
        first = row["pattern"] != previous
        table.add_row(row["pattern"] if first else "", row["source"] if first else "",
                      row["check"], effect, verdict)
        if first and row["error"]:
            table.add_row("", "", f"[red]runs failed: {row['error']}[/]", "", "")
        previous = row["pattern"]
    map_result = next((r for r in suite.results if not r.pattern.gate), None)
    console = Console(width=None if sys.stdout.isatty() else 150)
    console.print(table)
    if map_result is not None:
        console.print(f"regime map: {map_result.status.lower()}, "
                      f"{map_result.runs} runs (figure and regime-map.csv in the report)")

