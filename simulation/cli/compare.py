"""``outsidein compare``: two organizations, one scenario, a handout for the workshop."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from experiments.engine.forkserver import start_early
from experiments.engine.limits import MAX_WORKERS, default_workers, one_backend
from experiments.engine.outdir import FolderLock, check_out_path, out_folder, write_failure
from simulation.cli.root import app
from simulation.errors import OutsideInError
from simulation.outcomes import label
from simulation.provenance import write_manifest

DEFAULT_SCENARIO = "turbulent-market"


@app.command()
def compare(
    scenario: Annotated[str, typer.Argument(help="scenario name or YAML file")] =
    DEFAULT_SCENARIO,
    reps: Annotated[int, typer.Option(min=2, max=10_000, help="replications per organization")]
    = 30,
    workers: Annotated[int, typer.Option(min=0, max=MAX_WORKERS, help="worker processes, at "
                                         f"most {MAX_WORKERS} (0: one per CPU)")] = 0,
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address (tcp://host:8786); runs on that cluster")] = None,
    framing: Annotated[str | None, typer.Option(
        help="the table's framing: head-to-head (the two compete in one market; default "
             "where defined) or swap (the focal firm organized either way, same rivals)")]
    = None,
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

    A two-arm paired experiment: replication i of every run shares its seed. Both framings
    are run where head-to-head is defined; the table shows one and names it, and the handout
    lists the outcomes on which the two framings disagree in sign.

    Writes NAME.html (self-contained report), NAME.png (mean trajectories with bands) and
    NAME-runs.csv / NAME-table.csv into OUT, and prints the table.
    """
    one_backend(workers, scheduler)
    check_out_path(out)
    n_workers = default_workers(workers, runs=4 * reps)
    # the workers' fork server loads the model while this process loads its own modules
    start_early(n_workers, scheduler)
    # deferred: the experiments (pandas, SciPy), only when this command runs
    from experiments.comparison.compare import FRAMING_TEXT, FRAMINGS
    from experiments.comparison.handout import table_header, table_rows
    from experiments.engine.resources import estimate, require
    from simulation.scenario_files import load_scenario, resolve

    if framing is not None and framing not in FRAMINGS:
        raise OutsideInError(f"--framing: {framing!r} is not one of {', '.join(FRAMINGS)}")
    path = resolve(scenario)
    loaded = load_scenario(path)
    loaded.arms(str(path))  # refuse a focal firm's levers it would drop, naming the file
    overrides = {} if customers is None else {"customers": customers}
    params = loaded.to_params(**overrides)  # a bad --customers fails here, before any run
    memory = require(estimate(int(params.customers), 1 if scheduler else n_workers),
                     hint="use fewer --workers or --customers")
    err = Console(stderr=True)
    if memory.large:
        err.print(memory.line)
    with FolderLock(out):  # also checks that OUT can be written, before any run
        result, stem = _compare_and_write(loaded, path, out, reps=reps, workers=n_workers,
                                          scheduler=scheduler, framing=framing, seed=seed,
                                          steps=steps, overrides=overrides, quiet=quiet,
                                          err=err)
    table = Table(title=f"{loaded.title}: mean [95% interval] of {reps} replications on the "
                  f"same seeds\n{FRAMING_TEXT[result.framing]}")
    for i, header in enumerate(table_header(result)):
        table.add_column(header, justify="left" if i == 0 else "right", overflow="fold")
    for row in table_rows(result):
        table.add_row(*row)
    console = Console()
    console.print(table)
    for note in result.notes:
        console.print(note)
    for outcome in result.disagreements():
        console.print(f"{label(outcome)}: head-to-head and swap disagree in sign (both are in "
                      "the handout)")
    console.print(f"handout: {stem}.html  (figure {stem}.png, data {stem}-runs.csv)")


def _compare_and_write(loaded: Any, path: Path, out: Path, *, reps: int, workers: int,
                       scheduler: str | None, framing: str | None, seed: int | None,
                       steps: int | None, overrides: dict[str, Any], quiet: bool,
                       err: Console) -> tuple[Any, Path]:
    """Run the comparison with a progress bar and write the handout into ``out``."""
    import pandas as pd

    # deferred: the experiments (pandas, SciPy), only when this command runs
    from experiments.comparison.compare import compare as run_comparison
    from experiments.comparison.handout import figure_png, html_report
    from experiments.engine.runner import SEED_RULE

    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                  transient=True, disable=quiet, auto_refresh=False) as bar:
        task = bar.add_task(f"{path.stem}: {reps} replications", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, refresh=True)

        result = run_comparison(loaded, name=path.stem, reps=reps, workers=workers,
                                scheduler=scheduler, seed=seed, steps=steps,
                                overrides=overrides, framing=framing,  # type: ignore[arg-type]
                                progress=advance)

    png = figure_png(result)
    page = html_report(result, png)
    stem = out / path.stem
    try:
        Path(f"{stem}.png").write_bytes(png)
        Path(f"{stem}.html").write_text(page, encoding="utf-8")
        result.runs.to_csv(f"{stem}-runs.csv", index=False)
        pd.concat([t.assign(framing=f) for f, t in result.tables.items()],
                  ignore_index=True).to_csv(f"{stem}-table.csv", index=False)
        write_manifest(Path(f"{stem}-manifest.json"), command="compare", scenario=str(path),
                       reps=reps, seed=result.seed, steps=result.steps,
                       customers=overrides.get("customers"), framing=result.framing,
                       seed_rule=SEED_RULE)
    except OSError as error:
        raise write_failure(error, out, resumable=False) from None
    return result, stem
