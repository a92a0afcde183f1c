"""``outsidein run``: one model run with a summary table, the per-step table and a figure."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from experiments.engine.outdir import FolderLock, check_out_path, out_folder, write_failure
from simulation.cli.root import app, imports_done
from simulation.outcomes import MONEY, RESULT_COLUMNS, in_revenue_months
from simulation.params import DEFAULT_SEED, ModelParams
from simulation.provenance import DIGEST_DIGITS, results_digest, write_manifest
from simulation.scenario_files import load_scenario

if TYPE_CHECKING:  # the model (and Mesa) load only when a command runs one
    from simulation.model import OrgModel

DEFAULT_STEPS = 240
CHUNK_MONTHS = 10_000
"""Months of the per-step table written at a time: a long run's files are streamed."""
FIGURE_POINTS = 2_000
"""Most months a figure line shows; a longer run is drawn every k-th month."""


def build_model(scenario: str | None, seed: int | None
                ) -> tuple[OrgModel, int, str, int]:
    """The model to run, its number of steps, a title and the seed it runs on.

    Without a scenario: the default market, on :data:`DEFAULT_SEED` unless ``seed`` is given;
    with one, on the scenario's own seed unless ``seed`` is given.
    """
    # deferred: the model (Mesa), only when this command runs
    from simulation.model import OrgModel

    imports_done()  # Mesa, SciPy, the model: frozen before the run makes garbage
    if scenario is None:
        used = DEFAULT_SEED if seed is None else seed
        return OrgModel(rng=used), DEFAULT_STEPS, "default market", used
    loaded = load_scenario(scenario)
    used = loaded.seed if seed is None else seed
    model = OrgModel.from_scenario(loaded, rng=used)
    return model, int(loaded.steps), str(loaded.title), used


MONEY_NOTE = (f"{', '.join(c for c in RESULT_COLUMNS if c in MONEY)} in results.csv are in "
              "the model's units; divide by fair_revenue for months of revenue, as the table "
              "and the figure show them")
"""What the manifest says of the per-step table's money."""

SUMMARY_HEADERS = ("firm", "structure", "share", "satis-\nfaction", "awareness\ngap",
                   "action\ngap", "cash\n(months)", "alive", "shock\nloss")
"""Columns of the summary table; the first two are labels, the rest numbers."""
SUMMARY_CAPTION = ("cash in months of revenue (one firm's fair share of a month's revenue); "
                   "shock loss: share lost after shocks, in months of the pre-shock share")
"""What the summary table's units are, under it."""


def summary_rows(model: OrgModel) -> list[tuple[str, ...]]:
    """The summary table's cells: every firm's final state and the focal firm's shock loss.

    A disruptor that failed leaves the per-month table after its failure month; its row here
    is that month's (alive "no"), so every firm the figure draws is in the table.
    """
    import pandas as pd

    last = model.results(start=model.steps)
    listed = set(last["firm"])
    gone = [(f.name, f.failed_step) for f in model.firms
            if f.name not in listed and f.failed_step is not None]
    if gone:  # a month's slice each: a long run's whole table is never built
        ended = [model.results(start=month, stop=month + 1) for _, month in gone]
        last = pd.concat([last, *(t[t["firm"] == name] for t, (name, _) in zip(ended, gone,
                                                                              strict=True))])
        order = {f.name: i for i, f in enumerate(model.firms)}
        last = last.sort_values("firm", key=lambda c: c.map(order), kind="stable")
    resilience = model.resilience()
    rows: list[tuple[str, ...]] = []
    months = in_revenue_months({"cash": last["cash"]}, model.fair_revenue)["cash"].tolist()
    for row, cash in zip(last.itertuples(), months, strict=True):
        loss = resilience.loc[resilience["firm"] == row.firm, "loss_area"]
        # a failed firm has no satisfaction or gaps (IN_BUSINESS_ONLY): "-", not 0
        gaps = (f"{row.satisfaction:.2f}", f"{row.awareness_gap:.3f}",
                f"{row.action_gap:.3f}") if row.alive else ("-", "-", "-")
        rows.append((str(row.firm), str(row.structure), f"{row.market_share:.1%}", *gaps,
                     f"{cash:,.1f}", "yes" if row.alive else "no",
                     f"{loss.mean():.1f}" if len(loss) else "-"))
    return rows


def summary_table(model: OrgModel, width: int | None = None) -> Table:
    """Final state of every firm, and the focal firm's resilience to shocks.

    Numbers are never cut: their columns do not wrap and are as wide as their widest cell.
    When the table is too wide for ``width``, the labels (firm, structure) wrap; when even
    the numbers do not fit side by side, the table turns: one row per measure, one column
    per firm. ``width`` defaults to the terminal's (80 when the output is not a terminal).
    """
    width = Console().width if width is None else width
    rows = summary_rows(model)
    title = f"After {model.steps} months"
    widths = [4, 4] + [max([len(r[i]) for r in rows] + [len(w) for w in header.split("\n")])
                       for i, header in enumerate(SUMMARY_HEADERS) if i >= 2]
    if sum(widths) + 2 * (len(widths) - 1) <= width:  # two spaces between columns
        table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                      collapse_padding=True, caption=SUMMARY_CAPTION)
        for i, header in enumerate(SUMMARY_HEADERS):
            if i < 2:
                table.add_column(header, overflow="fold", min_width=widths[i])
            else:
                table.add_column(header, justify="right", no_wrap=True, min_width=widths[i])
        for cells in rows:
            table.add_row(*cells)
        return table
    turned = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                   collapse_padding=True, caption=SUMMARY_CAPTION)
    turned.add_column("")
    for cells in rows:  # a firm's name may wrap, its numbers may not
        turned.add_column(cells[0], justify="right", overflow="fold",
                          min_width=max(len(c) for c in cells[2:]))
    for i, header in enumerate(SUMMARY_HEADERS[1:], start=1):
        label = header.replace("-\n", "").replace("\n", " ")
        turned.add_row(label, *(cells[i] for cells in rows))
    return turned


def write_outputs(model: OrgModel, out: Path, title: str) -> list[Path]:
    """Write the per-step table (CSV, Parquet), the resilience table and the figure.

    The table is written ``CHUNK_MONTHS`` at a time and the figure drawn from at most
    ``FIGURE_POINTS`` months, so writing a long run needs no more memory than a short one.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    # deferred: the figures (matplotlib), only when this command runs
    from simulation.figures import run_figure

    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "results.csv", out / "results.parquet", out / "resilience.csv",
             out / "run.png"]
    every = -(-model.steps // FIGURE_POINTS) if model.steps > FIGURE_POINTS else 1
    drawn = []
    writer: pq.ParquetWriter | None = None
    try:
        for start in range(0, model.steps + 1, CHUNK_MONTHS):
            chunk = model.results(start, start + CHUNK_MONTHS)
            chunk.to_csv(paths[0], index=False, header=start == 0,
                         mode="w" if start == 0 else "a")
            table = pa.Table.from_pandas(chunk, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(paths[1], table.schema)
            writer.write_table(table)
            drawn.append(chunk[(chunk["step"] % every == 0) | (chunk["step"] == model.steps)]
                         if every > 1 else chunk)
    finally:
        if writer is not None:
            writer.close()
    model.resilience().to_csv(paths[2], index=False)
    fig = run_figure(pd.concat(drawn, ignore_index=True), model.events, title=title,
                     fair_revenue=model.fair_revenue)
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
    # deferred: the experiments (pandas, SciPy), only when this command runs
    from experiments.engine.resources import estimate, require

    check_out_path(out)
    memory = require(estimate(_customers(scenario), 1))
    if memory.large:
        Console(stderr=True).print(memory.line)
    with FolderLock(out):  # also checks that OUT can be written, before the run
        model, default_steps, title, used_seed = build_model(scenario, seed)
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
            paths.append(write_manifest(out / "manifest.json", command="run",
                                        scenario=scenario, seed=used_seed, steps=months,
                                        fair_revenue=model.fair_revenue,
                                        money=MONEY_NOTE, results_digest={
                                            "sha256": results_digest(model.columns()),
                                            "significant_digits": DIGEST_DIGITS}))
        except OSError as err:
            raise write_failure(err, out, resumable=False) from None
    for path in paths:
        Console().print(f"wrote {path}")


def _customers(scenario: str | None) -> int:
    """Customers of the run (to estimate its memory before building it)."""
    if scenario is None:
        return int(ModelParams().customers)
    return int(load_scenario(scenario).to_params().customers)
