"""``outsidein sweep`` and ``outsidein analyze``: thin faces over ``experiments``.

The commands have no rules of their own: they validate the spec and options, call the
library and report. A user mistake (bad spec, bad option, an output folder that holds
another experiment, an unreachable scheduler) raises the library's own error, which
:func:`simulation.cli.main` turns into one line on stderr and exit code 2, with nothing
written; failed runs give exit code 1 after the sweep finishes the others.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from experiments.engine.forkserver import start_early
from experiments.engine.limits import MAX_WORKERS, default_workers, one_backend
from experiments.engine.outdir import check_out_path, out_folder
from simulation.cli.root import app

EXIT_RUNS_FAILED = 1


@app.command()
def sweep(
    spec: Annotated[Path, typer.Argument(
        help="experiment spec: a YAML file, or a shipped spec's name (crossover)")],
    workers: Annotated[int | None, typer.Option(
        "--workers", "-w", min=1, max=MAX_WORKERS,
        help=f"local worker processes, at most {MAX_WORKERS} (default: all cores)")] = None,
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address (tcp://host:8786); runs on that cluster")] = None,
    out: Annotated[Path | None, typer.Option(
        help="output folder (default: runs/<spec name>); re-running resumes",
        parser=out_folder)] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="print the number of runs and a time estimate, run nothing")] = False,
    max_runs: Annotated[int | None, typer.Option(
        min=1, help="keep at most N runs spread across the design, every factor at two "
                    "levels or more where N allows (a quick check)")] = None,
    steps: Annotated[int | None, typer.Option(
        min=1, max=100_000, help="override the spec's steps")] = None,
    flush_every: Annotated[int, typer.Option(
        min=1,
        help="runs per Parquet part (finished runs are journaled at once regardless)")] = 256,
    retry_failed: Annotated[bool, typer.Option(
        "--retry-failed", help="run the failed runs of an earlier session again")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
    wait: Annotated[bool, typer.Option(
        "--wait", help="if another sweep is writing OUT, wait for it instead of stopping")]
    = False,
    allow_import: Annotated[bool, typer.Option(
        "--allow-import", help="let the spec name a model function outside this package "
        "(imports and runs that code)")] = False,
) -> None:
    """Run every (sample, replication) of an experiment spec; resume if interrupted."""
    one_backend(workers, scheduler)
    if out is not None:
        check_out_path(out)
    if not dry_run:  # the workers' fork server loads the model while this process loads
        start_early(default_workers(workers), scheduler)
    # deferred: the experiments (pandas, SciPy), only when this command runs
    from experiments.engine.executors import make_executor
    from experiments.engine.resources import check_memory
    from experiments.sweeps.designs import coverage_warnings
    from experiments.sweeps.spec import load_spec
    from experiments.sweeps.store import Store
    from experiments.sweeps.sweep import estimate_seconds, identity, make_plan, run_sweep

    parsed = load_spec(spec, allow_import=allow_import).shrunk(steps=steps)
    count = default_workers(workers)
    plan = make_plan(parsed, max_runs=max_runs)
    if plan.note:
        typer.echo(plan.note)
    for warning in coverage_warnings(parsed, plan.kept_samples(),
                                     f"the {plan.planned} runs planned"):
        typer.echo(warning, err=True)
    if dry_run:
        planned, seconds = estimate_seconds(parsed, workers=count, max_runs=max_runs,
                                             plan=plan)
        typer.echo(f"{parsed.name}: {planned} runs ({parsed.design.kind} design, "
                   f"{parsed.replications} replication(s), {parsed.steps} steps); "
                   f"about {_duration(seconds)} on {count} worker(s)")
        typer.echo(check_memory(parsed, workers=1 if scheduler else count).line)
        return
    folder = out or Path("runs") / parsed.name
    Store(folder, parsed, identity=identity(parsed, max_runs)).check()
    memory = check_memory(parsed, workers=1 if scheduler else count)
    if memory.large:
        typer.echo(memory.line, err=True)
    # the workers start before the progress bar, so their start-up is not in its ETA
    with make_executor(workers, scheduler) as executor, _progress(quiet) as hook:
        result = run_sweep(parsed, folder, executor=executor, max_runs=max_runs,
                           progress=hook, flush_every=flush_every,
                           retry_failed=retry_failed, wait=wait, plan=plan,
                           notice=lambda line: typer.echo(line, err=True))
    typer.echo(f"{parsed.name}: {result.completed} completed, {result.failed} failed, "
               f"{result.planned} planned ({result.ran_now} run now, {result.skipped} "
               f"already done) in {_duration(result.wall_seconds)}; results in {folder}")
    if result.failed:
        typer.echo(f"{result.failed} run(s) failed; their parameters and errors are in "
                   f"{folder / 'failed'}", err=True)
        raise typer.Exit(EXIT_RUNS_FAILED)


@app.command()
def analyze(
    folder: Annotated[Path, typer.Argument(help="a sweep's output folder")],
    out: Annotated[Path | None, typer.Option(
        help="where the report goes (default: DIR/report)", parser=out_folder)] = None,
    outcome: Annotated[list[str] | None, typer.Option(
        "--outcome", "-o", help="outcome to analyse (repeatable; default: the spec's)")] = None,
    allow_incomplete: Annotated[bool, typer.Option(
        "--allow-incomplete",
        help="analyse a store that is incomplete or damaged (its whole parts only)")] = False,
) -> None:
    """Summary tables, sensitivity indices, interactions, scenario discovery and figures."""
    # deferred: the experiments (pandas, SciPy), only when this command runs
    from experiments.sweeps import analysis, report

    exp = analysis.load(folder, allow_incomplete=allow_incomplete)
    for problem in exp.problems:
        typer.echo(f"incomplete: {problem}", err=True)
    import shlex

    command = shlex.join(["outsidein", "analyze", str(folder),
                          *(["--out", str(out)] if out else []),
                          *[a for o in outcome or [] for a in ("--outcome", o)],
                          *(["--allow-incomplete"] if allow_incomplete else [])])
    built = report.build(exp, outcome or None, command=command)
    target = out or folder / "report"
    path = report.write(built, target)
    for note in built.notes:
        typer.echo(note)
    for name, table in built.tables.items():
        if name in ("summary", "paired differences") or "indices" in name or "discovery" in name:
            typer.echo(f"\n{name}\n{table.to_string(float_format=lambda v: f'{v:.4g}')}")
    typer.echo(f"\nreport: {path}")


@contextmanager
def _progress(quiet: bool):  # type: ignore[no-untyped-def]
    """Show a rich progress bar (with ETA) on stderr, fed by the sweep's progress hook."""
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
    bar = Progress(TextColumn("runs"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[failed]} failed"), TimeElapsedColumn(),
                   TextColumn("ETA"), TimeRemainingColumn(), console=console,
                   disable=not console.is_terminal and not sys.stderr.isatty())
    with bar:
        task = bar.add_task("runs", total=None, failed=0)

        def hook(finished: int, failed: int, planned: int) -> None:
            bar.update(task, completed=finished, total=planned, failed=failed)

        yield hook


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.1f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
