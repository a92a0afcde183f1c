"""``outsidein scenarios`` (list, show) and ``outsidein validate``: the scenario library."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from simulation.cli.errors import fail
from simulation.errors import OutsideInError
from simulation.scenario import SCENARIO_DIR, load_scenario, scenario_names

app = typer.Typer(help="List the shipped scenarios, or show one in full.",
                  invoke_without_command=True, no_args_is_help=False)


@app.callback()
def list_scenarios(ctx: typer.Context) -> None:
    """List the shipped scenarios with their titles."""
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
               "`outsidein scenarios show NAME` shows one.")


@app.command("show")
def show(name: Annotated[str, typer.Argument(help="scenario name or YAML file")]) -> None:
    """Show a scenario in full, with every inherited value resolved."""
    try:
        scenario = load_scenario(name)
    except OutsideInError as exc:
        fail(exc)
    typer.echo(f"# {scenario.title}\n")
    typer.echo(scenario.dump_full(), nl=False)


def validate(files: Annotated[list[Path], typer.Argument(
        help="scenario files to check", metavar="FILE...")]) -> None:
    """Check scenario files; print one line per file, exit 2 if any is invalid."""
    errors = []
    for path in files:
        try:
            scenario = load_scenario(path if path.suffix else str(path))
        except OutsideInError as exc:
            errors.append(str(exc))
            continue
        typer.echo(f"ok  {path}  ({scenario.title})")
    if errors:
        for message in errors[:-1]:
            typer.echo(f"error: {message}", err=True)
        fail(errors[-1])
