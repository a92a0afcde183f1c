"""``outsidein compare``: two organizations, one scenario, a handout for the workshop."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from experiments.outdir import out_folder
from simulation.cli import app

DEFAULT_SCENARIO = "turbulent-market"


@app.command()
def compare(
    scenario: Annotated[str, typer.Argument(help="scenario name or YAML file")] =
    DEFAULT_SCENARIO,
    reps: Annotated[int, typer.Option(min=2, max=10_000, help="replications per organization")]
    = 30,
    workers: Annotated[int, typer.Option(min=0, max=64, help="worker processes, at most 64 "
                                         "(0: one per CPU)")] = 0,
    out: Annotated[Path, typer.Option(help="folder for the handout (created)",
                                      parser=out_folder)] = Path("out"),
    seed: Annotated[int | None, typer.Option(min=0, help="root seed (default: the "
                                             "scenario's)")] = None,
    steps: Annotated[int | None, typer.Option(min=1, max=100_000, help="months per run "
                                              "(default: the scenario's)")] = None,
    customers: Annotated[int | None, typer.Option(help="override the number of customers")]
    = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
) -> None:
    """Run the scenario's two organizations on the same seeds and write a handout.

    Writes NAME.html (self-contained report), NAME.png (mean trajectories with bands) and
    NAME-runs.csv / NAME-table.csv into OUT, and prints the table.
    """
    from experiments.outdir import FolderLock, check_out_path
    from experiments.resources import estimate, require
    from simulation.report import table_header, table_rows
    from simulation.scenario import load_scenario, resolve

    check_out_path(out)
    path = resolve(scenario)
    loaded = load_scenario(path)
    n_workers = workers or min(os.cpu_count() or 1, 2 * reps, 64)
    overrides = {} if customers is None else {"customers": customers}
    params = loaded.to_params(**overrides)  # a bad --customers fails here, before any run
    memory = require(estimate(int(params.customers), n_workers),
                     hint="use fewer --workers or --customers")
    err = Console(stderr=True)
    if memory.large:
        err.print(memory.line)
    with FolderLock(out):  # also checks that OUT can be written, before any run
        result, stem = _compare_and_write(loaded, path, out, reps=reps, workers=n_workers,
                                          seed=seed, steps=steps, overrides=overrides,
                                          quiet=quiet, err=err)
    table = Table(title=f"{loaded.title}: mean ± 95% interval of {reps} runs each on the same "
                  "seeds")
    for i, header in enumerate(table_header(result)):
        table.add_column(header, justify="left" if i == 0 else "right", overflow="fold")
    for row in table_rows(result, compact=True):
        table.add_row(*row)
    console = Console()
    console.print(table)
    console.print(f"handout: {stem}.html  (figure {stem}.png, data {stem}-runs.csv)")


def _compare_and_write(loaded: Any, path: Path, out: Path, *, reps: int, workers: int,
                       seed: int | None, steps: int | None, overrides: dict[str, Any],
                       quiet: bool, err: Console) -> tuple[Any, Path]:
    """Run the comparison with a progress bar and write the handout into ``out``."""
    from experiments.outdir import write_failure
    from simulation.compare import compare as run_comparison
    from simulation.provenance import write_manifest
    from simulation.report import figure_png, html_report

    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                  transient=True, disable=quiet, auto_refresh=False) as bar:
        task = bar.add_task(f"{path.stem}: {reps} runs x 2", total=2 * reps)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, refresh=True)

        result = run_comparison(loaded, name=path.stem, reps=reps, workers=workers,
                                seed=seed, steps=steps, overrides=overrides,
                                progress=advance)

    png = figure_png(result)
    page = html_report(result, png)
    stem = out / path.stem
    try:
        Path(f"{stem}.png").write_bytes(png)
        Path(f"{stem}.html").write_text(page, encoding="utf-8")
        result.runs.to_csv(f"{stem}-runs.csv", index=False)
        result.table.to_csv(f"{stem}-table.csv", index=False)
        write_manifest(Path(f"{stem}-manifest.json"), command="compare", scenario=str(path),
                       reps=reps, seed=result.seed, steps=result.steps,
                       customers=overrides.get("customers"))
    except OSError as error:
        raise write_failure(error, out, resumable=False) from None
    return result, stem
