"""``outsidein scenarios`` (list, show) and ``outsidein validate``: the scenario library."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from simulation.cli.root import app, error_lines
from simulation.errors import OutsideInError
from simulation.scenario import SCENARIO_DIR, scenario_names
from simulation.scenario_files import load_scenario

scenarios_app = typer.Typer(help="List the shipped scenarios, or show one in full.",
                            invoke_without_command=True)
app.add_typer(scenarios_app, name="scenarios")


@scenarios_app.callback()
def list_scenarios(ctx: typer.Context) -> None:
    """List the shipped scenarios with their titles; `show NAME` shows one in full."""
    if ctx.invoked_subcommand is not None:
        return
    names = scenario_names()
    width = max(len(n) for n in names)
    for name in names:
        try:
            title = load_scenario(name).title
        except OutsideInError as exc:  # a broken shipped file must not hide the others
            title = f"(invalid: {exc})"
        typer.echo(f"{name.ljust(width)}  {title}")
    typer.echo(f"\n{len(names)} scenarios in {SCENARIO_DIR.name}/; "
               "`outsidein scenarios show NAME` shows one in full.")


@scenarios_app.command("show")
def show(name: Annotated[str, typer.Argument(help="Scenario name or YAML file.")]) -> None:
    """Show a scenario with every value written out, inherited ones included."""
    scenario = load_scenario(name)
    typer.echo(scenario.dump_full(), nl=False)


@app.command()
def validate(files: Annotated[list[Path], typer.Argument(
        help="Scenario files to check.", metavar="FILE...")]) -> None:
    """Check scenario files: one line per file; exit 2 if any is invalid."""
    errors: list[OutsideInError] = []
    for path in files:
        try:
            scenario = load_scenario(path)
        except OutsideInError as exc:
            errors.append(exc)
            continue
        typer.echo(f"ok  {path}  ({scenario.title})")
    for error in errors[:-1]:
        typer.echo(error_lines(str(error)), err=True)
    if errors:
        raise errors[-1]
