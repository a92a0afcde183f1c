"""``outsidein compare``: two organizations, one scenario, a handout for the workshop."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from simulation.cli import app
from simulation.errors import OutsideInError

DEFAULT_SCENARIO = "turbulent-market"


@app.command()
def compare(
    scenario: Annotated[str, typer.Argument(help="scenario name or YAML file")] =
    DEFAULT_SCENARIO,
    reps: Annotated[int, typer.Option(min=2, max=10_000, help="replications per organization")]
    = 30,
    workers: Annotated[int, typer.Option(min=0, max=256, help="worker processes "
                                         "(0: one per CPU)")] = 0,
    out: Annotated[Path, typer.Option(help="folder for the handout (created)")] = Path("out"),
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
    from simulation.compare import compare as run_comparison
    from simulation.report import figure_png, html_report, table_header, table_rows
    from simulation.scenario import load_scenario, resolve

    path = resolve(scenario)
    loaded = load_scenario(path)
    if out.exists() and not out.is_dir():
        raise OutsideInError(f"--out: {out} exists and is not a folder")
    n_workers = workers or min(os.cpu_count() or 1, 2 * reps)
    overrides = {} if customers is None else {"customers": customers}
    err = Console(stderr=True)
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                  transient=True, disable=quiet, auto_refresh=False) as bar:
        task = bar.add_task(f"{path.stem}: {reps} runs x 2", total=2 * reps)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, refresh=True)

        result = run_comparison(loaded, name=path.stem, reps=reps, workers=n_workers,
                                seed=seed, steps=steps, overrides=overrides,
                                progress=advance)

    png = figure_png(result)
    page = html_report(result, png)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / path.stem
    Path(f"{stem}.png").write_bytes(png)
    Path(f"{stem}.html").write_text(page, encoding="utf-8")
    result.runs.to_csv(f"{stem}-runs.csv", index=False)
    result.table.to_csv(f"{stem}-table.csv", index=False)
    from simulation.provenance import write_manifest  # also NAME-manifest.json

    write_manifest(Path(f"{stem}-manifest.json"), command="compare", scenario=scenario,
                   reps=reps, seed=result.seed, steps=result.steps, customers=customers)

    table = Table(title=f"{loaded.title}: mean ± 95% interval of {reps} runs each on the same "
                  "seeds")
    for i, header in enumerate(table_header(result)):
        table.add_column(header, justify="left" if i == 0 else "right", overflow="fold")
    for row in table_rows(result, compact=True):
        table.add_row(*row)
    console = Console()
    console.print(table)
    console.print(f"handout: {stem}.html  (figure {stem}.png, data {stem}-runs.csv)")
