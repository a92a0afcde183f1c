"""``outsidein run``: one model run with a summary table, the per-step table and a figure."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from experiments.outdir import out_folder
from simulation.cli import app
from simulation.model import OrgModel
from simulation.scenario import load_scenario

DEFAULT_STEPS = 240


def build_model(scenario: str | None, seed: int | None) -> tuple[OrgModel, int, str]:
    """The model to run, its number of steps and a title (the default market without one)."""
    if scenario is None:
        return OrgModel(rng=seed if seed is not None else 42), DEFAULT_STEPS, "default market"
    loaded = load_scenario(scenario)
    model = OrgModel.from_scenario(loaded, rng=seed)
    return model, int(getattr(loaded, "steps", DEFAULT_STEPS)), str(getattr(loaded, "title",
                                                                            scenario))


def summary_table(model: OrgModel) -> Table:
    """Final state of every firm, and the focal firm's resilience to shocks."""
    results = model.results()
    last = results[results["step"] == results["step"].max()]
    resilience = model.resilience()
    table = Table(title=f"After {model.steps} months")
    for column in ("firm", "structure", "share", "satisfaction", "awareness gap", "action gap",
                   "cash", "alive", "shock loss"):
        table.add_column(column, justify="left" if column in ("firm", "structure") else "right")
    for row in last.itertuples():
        loss = resilience.loc[resilience["firm"] == row.firm, "loss_area"]
        table.add_row(str(row.firm), str(row.structure), f"{row.market_share:.1%}",
                      f"{row.satisfaction:.2f}", f"{row.awareness_gap:.3f}",
                      f"{row.action_gap:.3f}", f"{row.cash:,.0f}", "yes" if row.alive else "no",
                      f"{loss.mean():.1f}" if len(loss) else "-")
    return table


def write_outputs(model: OrgModel, out: Path, title: str) -> list[Path]:
    """Write the per-step table (CSV, Parquet), the resilience table and the figure."""
    from simulation.figures import run_figure

    out.mkdir(parents=True, exist_ok=True)
    results = model.results()
    paths = [out / "results.csv", out / "results.parquet", out / "resilience.csv",
             out / "run.png"]
    results.to_csv(paths[0], index=False)
    results.to_parquet(paths[1], index=False)
    model.resilience().to_csv(paths[2], index=False)
    fig = run_figure(results, model.events, title=title)
    fig.savefig(paths[3], dpi=110)
    pd.DataFrame(model.events, columns=["step", "kind", "firm"]).to_csv(out / "events.csv",
                                                                        index=False)
    return [*paths, out / "events.csv"]


@app.command()
def run(
    scenario: Annotated[str | None, typer.Argument(
        help="Scenario name or YAML file (default: the built-in default market).")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Random seed.")] = None,
    steps: Annotated[int | None, typer.Option(min=1, max=100_000,
                                              help="Months to simulate.")] = None,
    out: Annotated[Path, typer.Option(help="Folder for the tables and the figure.",
                                      parser=out_folder)] = Path("out"),
) -> None:
    """Run one model, print a summary, write the per-step table and a figure."""
    from experiments.outdir import FolderLock, check_out_path, write_failure
    from experiments.resources import estimate, require

    check_out_path(out)
    memory = require(estimate(_customers(scenario), 1))
    if memory.large:
        Console(stderr=True).print(memory.line)
    with FolderLock(out):  # also checks that OUT can be written, before the run
        model, default_steps, title = build_model(scenario, seed)
        months = steps or default_steps
        console = Console(stderr=True)
        with Progress(TextColumn("simulating"), BarColumn(), TextColumn("{task.completed}/"
                      "{task.total} months"), TimeRemainingColumn(), console=console,
                      transient=True) as progress:
            task = progress.add_task("run", total=months)
            for _ in range(months):
                model.step()
                progress.advance(task)
        Console().print(summary_table(model))
        try:
            paths = write_outputs(model, out, title)
        except OSError as err:
            raise write_failure(err, out, resumable=False) from None
    for path in paths:
        Console().print(f"wrote {path}")


def _customers(scenario: str | None) -> int:
    """Customers of the run (to estimate its memory before building it)."""
    from simulation.params import ModelParams

    if scenario is None:
        return int(ModelParams().customers)
    return int(load_scenario(scenario).to_params().customers)
