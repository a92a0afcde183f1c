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
}
"""Environment solara reads at import; set before it is imported."""

APP_MODULE = "simulation.viz.page"


def configure(scenario: Path | None) -> None:
    """Set the environment for an offline server whose page starts at ``scenario``."""
    from simulation.viz.scenarios import SCENARIO_ENV

    for key, value in OFFLINE_ENV.items():
        os.environ[key] = value
    os.environ["SOLARA_APP"] = APP_MODULE
    if scenario is not None:
        os.environ[SCENARIO_ENV] = str(Path(scenario).resolve())
    else:
        os.environ.pop(SCENARIO_ENV, None)


def serve(scenario: Path | None, port: int) -> None:
    """Serve the app on ``127.0.0.1:port`` until interrupted."""
    configure(scenario)
    import uvicorn

    os.environ["SERVER_NAME"] = HOST
    os.environ["SERVER_PORT"] = str(port)
    uvicorn.run("solara.server.starlette:app", host=HOST, port=port, log_level="warning")
