"""``outsidein app``: the browser app for classes and workshops, on this machine only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from simulation.cli import app
from simulation.errors import OutsideInError


def check_scenario(path: Path) -> None:
    """Refuse a scenario file that is missing or does not load, naming the problem."""
    if not path.is_file():
        raise OutsideInError(f"scenario: {path} is not a file")
    try:
        from simulation.scenario import load_scenario
    except ImportError as exc:  # pragma: no cover - until the scenario layer ships
        raise OutsideInError("scenarios are not available in this installation") from exc
    try:
        load_scenario(path)
    except OutsideInError:
        raise
    except (ValueError, OSError) as exc:
        raise OutsideInError(f"scenario: {path.name} could not be loaded: {exc}") from exc


@app.command("app")
def app_command(
    scenario: Annotated[Path | None, typer.Argument(
        help="Scenario file each new browser tab starts from (default: the default market).",
        show_default=False)] = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 to serve the app on.",
                                      min=1024, max=65535)] = 8765,
    scenarios: Annotated[Path | None, typer.Option(
        help="Extra folder of scenario files for the app's picker.",
        show_default=False)] = None,
) -> None:
    """Serve the browser app on http://127.0.0.1:PORT/ (offline; this machine only)."""
    from simulation.viz import server

    if scenario is not None:
        check_scenario(scenario)
    if scenarios is not None and not scenarios.is_dir():
        raise OutsideInError(f"scenarios: {scenarios} is not a folder")
    if not server.port_is_free(port):
        raise OutsideInError(f"port: {port} is already in use on {server.HOST}; "
                             "choose another with --port")
    typer.echo(f"Outside-In app at http://{server.HOST}:{port}/ (Ctrl+C to stop)")
    server.serve(scenario, port, scenarios)
