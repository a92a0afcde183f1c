"""``outsidein app``: the browser app for classes and workshops, on this machine only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from simulation.cli.root import app
from simulation.errors import OutsideInError
from simulation.viz import scenarios


def check_scenario(name_or_path: str) -> Path:
    """The scenario file a name or path names, loaded once to refuse a bad one early.

    A shipped scenario's name (``freeze-up``) is accepted as ``run`` and ``compare`` accept
    it. The scenario layer's error names the file, line and field; ``main`` prints it.
    """
    # deferred: pydantic and YAML, only when this command runs
    from simulation.scenario_files import resolve

    path = resolve(name_or_path)
    scenarios.load(path)
    return path


@app.command("app")
def app_command(
    scenario: Annotated[str | None, typer.Argument(
        help="Scenario (a shipped name or a file) each new browser tab starts from "
             "(default: the default market).",
        show_default=False)] = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 to serve the app on.",
                                      min=1024, max=65535)] = 8765,
    scenarios: Annotated[Path | None, typer.Option(
        help="Extra folder of scenario files for the app's picker.",
        show_default=False)] = None,
) -> None:
    """Serve the browser app on http://127.0.0.1:PORT/ (offline; this machine only)."""
    # deferred: the app's server (Solara, uvicorn), only when this command runs
    from simulation.viz import server

    path = check_scenario(scenario) if scenario is not None else None
    if scenarios is not None and not scenarios.is_dir():
        raise OutsideInError(f"scenarios: {scenarios} is not a folder")
    if not server.port_is_free(port):
        raise OutsideInError(f"port: {port} is already in use on {server.HOST}; "
                             "choose another with --port")
    typer.echo(f"Outside-In app at http://{server.HOST}:{port}/ (Ctrl+C to stop)")
    server.serve(path, port, scenarios)
