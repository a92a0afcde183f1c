"""``outsidein compare``: two organizations, one scenario, a handout for the workshop."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import pandas as pd
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
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address (tcp://host:8786); runs on that cluster")] = None,
    framing: Annotated[str | None, typer.Option(
        help="the table's framing: head-to-head (the two compete in one market; default "
             "where defined) or swap (the focal firm organized either way, same rivals)")]
    = None,
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

    A two-arm paired experiment: replication i of every run shares its seed. Both framings
    are run where head-to-head is defined; the table shows one and names it, and the handout
    lists the outcomes on which the two framings disagree in sign.

    Writes NAME.html (self-contained report), NAME.png (mean trajectories with bands) and
    NAME-runs.csv / NAME-table.csv into OUT, and prints the table.
    """
    from experiments.compare import FRAMING_TEXT, FRAMINGS
    from experiments.compare import compare as run_comparison
    from simulation.report import figure_png, html_report, table_header, table_rows
    from simulation.scenario import load_scenario, resolve

    if framing is not None and framing not in FRAMINGS:
        raise OutsideInError(f"--framing: {framing!r} is not one of {', '.join(FRAMINGS)}")
    if scheduler and workers:
        raise OutsideInError("--workers: give either --workers or --scheduler, not both")
    path = resolve(scenario)
    loaded = load_scenario(path)
    loaded.arms(str(path))  # refuse a focal firm's levers it would drop, naming the file
    if out.exists() and not out.is_dir():
        raise OutsideInError(f"--out: {out} exists and is not a folder")
    n_workers = workers or min(os.cpu_count() or 1, 4 * reps)
    overrides = {} if customers is None else {"customers": customers}
    err = Console(stderr=True)
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                  transient=True, disable=quiet, auto_refresh=False) as bar:
        task = bar.add_task(f"{path.stem}: {reps} replications", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, refresh=True)

        result = run_comparison(loaded, name=path.stem, reps=reps, workers=n_workers,
                                scheduler=scheduler, seed=seed, steps=steps,
                                overrides=overrides, framing=framing,  # type: ignore[arg-type]
                                progress=advance)

    png = figure_png(result)
    page = html_report(result, png)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / path.stem
    Path(f"{stem}.png").write_bytes(png)
    Path(f"{stem}.html").write_text(page, encoding="utf-8")
    result.runs.to_csv(f"{stem}-runs.csv", index=False)
    pd.concat([t.assign(framing=f) for f, t in result.tables.items()],
              ignore_index=True).to_csv(f"{stem}-table.csv", index=False)

    table = Table(title=f"{loaded.title}: mean ± 95% interval of {reps} replications on the "
                  f"same seeds\n{FRAMING_TEXT[result.framing]}")
    for i, header in enumerate(table_header(result)):
        table.add_column(header, justify="left" if i == 0 else "right")
    for row in table_rows(result, compact=True):
        table.add_row(*row)
    console = Console()
    console.print(table)
    for note in result.notes:
        console.print(note)
    for outcome in result.disagreements():
        console.print(f"{outcome}: the framings disagree in sign (see the handout)")
    console.print(f"handout: {stem}.html  (figure {stem}.png, data {stem}-runs.csv)")
