"""``outsidein patterns``: run the pattern suite, print its verdicts, write its report.

A thin face over :mod:`experiments.patterns.suite` and :mod:`experiments.patterns.report`:
bad options (an unknown pattern, an output path that is a file or is being written) are one
line and exit code 2, checked before anything runs; a pattern that fails (or whose runs
fail) gives exit code 1 after the report is written; 0 when every pattern passes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from experiments.engine.forkserver import start_early
from experiments.engine.limits import MAX_WORKERS, default_workers, one_backend
from experiments.engine.outdir import FolderLock, check_out_path
from simulation.cli.root import app
from simulation.cli.sweep import _progress

if TYPE_CHECKING:
    import pandas as pd

    from experiments.patterns.suite import SuiteResult

EXIT_PATTERN_FAILED = 1
VERDICT_STYLE = {"PASS": "bold green", "FAIL": "bold red", "ERROR": "bold red",
                 "INCONCLUSIVE": "bold yellow"}


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
        min=1, max=10_000, help="replications per arm and level (default: the suite's; "
        "at least 2, except for --sensitivity: seeds per sample)")]
    = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
    robustness: Annotated[bool, typer.Option(
        "--robustness", help="re-run every pattern at each structural variant; write the "
        "pattern x variant matrix (OUT/robustness.html, .csv, .md)")] = False,
    variants: Annotated[str | None, typer.Option(
        help="--robustness: comma-separated variant names (default: all declared)")] = None,
    sensitivity: Annotated[bool, typer.Option(
        "--sensitivity", help="Sobol indices of each pattern's effects over the behavioural "
        "constants (OUT/sensitivity.html, .csv, decided-by.csv)")] = False,
    samples: Annotated[int | None, typer.Option(
        min=1, max=65_536, help="--sensitivity: Saltelli base samples, a power of 2 "
        "(default: the definitions')")] = None,
    constants: Annotated[str | None, typer.Option(
        help="--sensitivity: comma-separated constants to vary, each apportioned on its own "
        "(default: every behavioural constant of the parameter table, apportioned by its "
        "group)")] = None,
) -> None:
    """Run every pattern on paired seeds; print verdicts; write OUT/patterns.html.

    Also writes OUT/figures/*.svg, OUT/patterns.csv (the verdicts), OUT/runs.csv (every
    run's measures) and OUT/regime-map.csv. Exit 1 if a pattern fails or is inconclusive.
    With --robustness, the matrix of every pattern at every structural variant instead;
    with --sensitivity, the Sobol indices of every pattern's effects.
    """
    # deferred: the experiments (pandas, SciPy), only when this command runs
    from experiments.patterns.suite import PatternSelectionError, select

    one_backend(workers, scheduler)
    if robustness and sensitivity:
        raise PatternSelectionError("--robustness and --sensitivity: give one of them")
    if seeds == 1 and not sensitivity:
        raise PatternSelectionError("--seeds 1: paired checks need at least 2 seeds (1 is "
                                    "allowed only with --sensitivity)")
    chosen = select([n.strip() for n in only.split(",") if n.strip()] if only else None)
    picked_variants = _variants(variants) if robustness else []
    picked_constants = _constants(chosen, constants, samples) if sensitivity else None
    check_out_path(out)
    # the workers' fork server loads the model while this process loads its own modules
    start_early(default_workers(workers), scheduler)
    from experiments.engine.executors import make_executor
    from experiments.patterns.catalog import ROOT_SEED

    root = ROOT_SEED if seed is None else seed
    # the executor first: an unreachable scheduler is refused before the folder is made
    with make_executor(workers, scheduler) as executor, FolderLock(out), \
            _progress(quiet) as hook:
        if robustness:
            from experiments.patterns import robustness as rb

            matrix = rb.run_robustness(chosen, executor, picked_variants, quick=quick,
                                       root_seed=root, steps=steps, replications=seeds,
                                       progress=hook)
            page = rb.write(matrix, out)
        elif sensitivity:
            from experiments.patterns import sensitivity as sn

            found = sn.run_sensitivity(
                chosen, executor, out, samples=samples or sn.SENSITIVITY_SAMPLES,
                replications=seeds or sn.SENSITIVITY_REPLICATIONS, steps=steps, seed=root,
                quick=quick, constants=picked_constants)
            page = sn.write(found, out)
        else:
            from experiments.patterns.report import write
            from experiments.patterns.suite import run_suite

            suite = run_suite(chosen, executor, quick=quick, root_seed=root, steps=steps,
                              replications=seeds, progress=hook)
            page = write(suite, out)
    if robustness:
        typer.echo(rb.matrix(rb.long_table(matrix)).to_string())
        typer.echo(f"report: {page}  ({matrix.runs} runs, {matrix.wall_seconds:.1f} s)")
        return
    if sensitivity:
        typer.echo(sn.decided_by(found.indices).to_string(index=False))
        for note in found.notes:
            typer.echo(note, err=True)
        typer.echo(f"report: {page}  ({found.runs} runs, {found.wall_seconds:.1f} s)")
        return
    from experiments.patterns.report import summary_rows

    _print_table(summary_rows(suite), suite)
    typer.echo(f"report: {page}  ({suite.runs} runs, {suite.failed} failed, "
               f"{suite.wall_seconds:.1f} s)")
    if not suite.passed:
        raise typer.Exit(EXIT_PATTERN_FAILED)


def _variants(names: str | None) -> list[Any]:
    # deferred: the experiments (pandas, SciPy), only when this command runs
    from experiments.patterns.robustness import select_variants

    return select_variants([n.strip() for n in names.split(",") if n.strip()]
                           if names else None)


def _constants(chosen: list[Any], names: str | None, samples: int | None) -> list[str] | None:
    """Check --constants and --samples before anything runs."""
    # deferred: the experiments (pandas, SciPy), only when this command runs
    from experiments.patterns.catalog import behavioural_constants
    from experiments.patterns.suite import PatternSelectionError

    if samples is not None and samples & (samples - 1):
        raise PatternSelectionError(f"--samples: {samples} must be a power of 2")
    if not names:
        return None
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    known = sorted({c for p in chosen for c in behavioural_constants(p)})
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise PatternSelectionError(f"--constants: {', '.join(unknown)} is not a behavioural "
                                    f"constant of these patterns; choose from "
                                    f"{', '.join(known)}")
    if len(wanted) < 2:
        raise PatternSelectionError("--constants: give at least two constants")
    return wanted


def _print_table(summary: pd.DataFrame, suite: SuiteResult) -> None:
    from rich.console import Console
    from rich.table import Table

    # deferred: the experiments (pandas, SciPy), only when this command runs
    from experiments.patterns.stats import Estimate

    mode = "quick" if suite.quick else "full"
    table = Table(title=f"Outside-In patterns ({mode} run, 95% intervals; the deciding "
                  f"level is shown; Holm across {suite.family} checks at {suite.alpha:g})")
    for name in ("pattern", "check", "effect [95% interval]", "criterion", "p raw",
                 "p Holm", "seeds", "verdict"):
        table.add_column(name, overflow="fold")
    previous = None
    for row in summary.to_dict("records"):
        effect = Estimate(row["mean"], row["lower"], row["upper"], row["n"]).text()
        if row["where"]:
            effect += f" at {row['where']}"
        verdict = f"[{VERDICT_STYLE.get(row['verdict'], '')}]{row['verdict']}[/]"
        first = row["pattern"] != previous
        seeds = f"{row['seeds']}" + (f" (needs {row['seeds_needed']})"
                                     if row["seeds_needed"] > row["seeds"] else "")
        table.add_row(f"{row['pattern']}\n{row['source']}" if first else "", row["check"],
                      effect, row["criterion"], _p(row["p_raw"]), _p(row["p_holm"]), seeds,
                      verdict)
        if first and row["error"]:
            table.add_row("", f"[red]runs failed: {row['error']}[/]", "", "", "", "", "", "")
        previous = row["pattern"]
    map_result = next((r for r in suite.results if not r.pattern.gate), None)
    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print(table)
    if map_result is not None:
        console.print(f"regime map: {map_result.status.lower()}, "
                      f"{map_result.runs} runs (figure and regime-map.csv in the report)")



def _p(value: float) -> str:
    return "n/a" if value != value else f"{value:.2g}"  # NaN: a degenerate check
