"""Start the app's web server on the loopback interface, fully offline.

Solara would fetch its front end from a CDN unless ``solara-assets`` (pinned with the
matching solara) is installed, and it reports usage to a telemetry service unless told
not to. A classroom's network is not to be trusted, so the launcher switches off
everything that would leave the machine before solara's settings are first read.
"""

from __future__ import annotations

import os
from pathlib import Path

HOST = "127.0.0.1"
"""The app binds the loopback interface only: it is for the machine in front of the class."""

OFFLINE_ENV: dict[str, str] = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",  # no usage reports
    "SOLARA_ASSETS_PROXY": "true",  # serve the front end from solara-assets, not a CDN
    "SOLARA_MODE": "production",
    "SOLARA_THEME_LOADER": "plain",
    # a closed tab's run (and its play loop) ends 15 minutes after the tab goes, not after
    # solara's default 24 hours; a laptop that sleeps less than that gets its run back
    "SOLARA_KERNEL_CULL_TIMEOUT": "15m",
}
"""Environment solara reads at import; set before it is imported."""

APP_MODULE = "simulation.viz.page"


def configure(scenario: Path | None, folder: Path | None = None) -> None:
    """Set the environment for an offline server.

    Args:
        scenario: The scenario each new tab starts from (``None``: the default market).
        folder: An extra folder of scenarios for the picker.

    """
    from simulation.viz.scenarios import FOLDER_ENV, SCENARIO_ENV

    for key, value in OFFLINE_ENV.items():
        os.environ[key] = value
    os.environ["SOLARA_APP"] = APP_MODULE
    for name, path in ((SCENARIO_ENV, scenario), (FOLDER_ENV, folder)):
        if path is not None:
            os.environ[name] = str(Path(path).resolve())
        else:
            os.environ.pop(name, None)


def port_is_free(port: int) -> bool:
    """Whether ``port`` can be bound on the loopback interface."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def serve(scenario: Path | None, port: int, folder: Path | None = None) -> None:
    """Serve the app on ``127.0.0.1:port`` until interrupted."""
    configure(scenario, folder)
    import uvicorn

    os.environ["SERVER_NAME"] = HOST
    os.environ["SERVER_PORT"] = str(port)
    uvicorn.run("solara.server.starlette:app", host=HOST, port=port, log_level="warning")
