"""Start the app's web server on the loopback interface, fully offline.

Solara would fetch its front end from a CDN, and its "CDN proxy" (the default) downloads
what is missing at run time and deletes any cached folder a GET names. A classroom's network
is not to be trusted and a request must never change the installation, so the launcher
switches the proxy and telemetry off before solara's settings are first read, points the
page at ``ASSETS_URL`` on this server, and serves the pinned ``solara-assets`` package there
itself, read-only (a GET on a folder is a 404; no request writes or deletes anything).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from simulation.errors import OutsideInError

HOST = "127.0.0.1"
"""The app binds the loopback interface only: it is for the machine in front of the class."""

ASSETS_URL = "/_solara/cdn"
"""Where the page asks for its front end (the URL solara's proxy would use), on this server."""

OFFLINE_ENV: dict[str, str] = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",  # no usage reports
    "SOLARA_ASSETS_PROXY": "false",  # never download or delete assets at run time
    "SOLARA_ASSETS_CDN": ASSETS_URL,  # the page's front end comes from this server
    "SOLARA_MODE": "production",
    "SOLARA_THEME_LOADER": "plain",
    # a tab that loses its connection without closing (a laptop asleep) gets its run back for
    # 15 minutes, not solara's 24 hours; a tab that is closed frees its run at once
    "SOLARA_KERNEL_CULL_TIMEOUT": "15m",
}
"""Environment solara reads at import; set before it is imported."""

APP_MODULE = "simulation.viz.page"


def configure(scenario: Path | None, folder: Path | None = None,
              app_module: str = APP_MODULE) -> None:
    """Set the environment for an offline server.

    Args:
        scenario: The scenario each new tab starts from (``None``: the default market).
        folder: An extra folder of scenarios for the picker.
        app_module: The module whose ``Page`` the server serves.

    """
    from simulation.viz.scenarios import FOLDER_ENV, SCENARIO_ENV

    for key, value in OFFLINE_ENV.items():
        os.environ[key] = value
    os.environ["SOLARA_APP"] = app_module
    for name, path in ((SCENARIO_ENV, scenario), (FOLDER_ENV, folder)):
        if path is not None:
            os.environ[name] = str(Path(path).resolve())
        else:
            os.environ.pop(name, None)


def assets_folder() -> Path:
    """The front end's files as the pinned ``solara-assets`` package installed them.

    Raises:
        OutsideInError: the package is missing (the page would need a network).

    """
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution("solara-assets")
    except PackageNotFoundError as exc:
        raise OutsideInError("solara-assets is not installed; the app cannot work offline "
                             "without it (reinstall the project)") from exc
    for file in dist.files or []:
        parts = file.parts
        if "cdn" in parts and parts.index("cdn") > 0 and parts[parts.index("cdn") - 1] == "solara":
            folder = Path(str(dist.locate_file(Path(*parts[:parts.index("cdn") + 1]))))
            if folder.is_dir():
                return folder.resolve()
    raise OutsideInError("solara-assets is installed without its files; reinstall the project")


def build_app() -> Any:
    """Solara's ASGI app with the front end served read-only from ``assets_folder()``.

    Call after :func:`configure`: importing solara's server reads the environment.
    """
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    folder = assets_folder()
    import solara.settings

    if solara.settings.assets.proxy:
        raise OutsideInError("solara's asset proxy is on; the app must be configured first")
    import solara.server.starlette as solara_starlette

    app = solara_starlette.app
    if not any(getattr(r, "path", None) == ASSETS_URL for r in app.router.routes):
        # first, so solara's catch-all page route never sees these paths
        app.router.routes.insert(0, Mount(ASSETS_URL, app=StaticFiles(directory=folder)))
    return app


def quiet_known_warnings() -> None:
    """Silence solara's cookie warning, which does not apply to a loopback-only server.

    Solara warns on every page load over plain http on any host but ``localhost`` that it
    falls back to ``samesite=lax`` cookies; that fallback is what a page that is never
    embedded in another site wants.
    """
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")


def port_is_free(port: int, host: str = HOST) -> bool:
    """Whether ``port`` can be bound on ``host`` (the loopback interface by default)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # as the server itself binds: a port whose last server just stopped is free
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def serve(scenario: Path | None, port: int, folder: Path | None = None) -> None:
    """Serve the app on ``127.0.0.1:port`` until interrupted."""
    configure(scenario, folder)
    run(port)


def run(port: int, host: str = HOST) -> None:
    """Serve the configured app on ``host:port`` until interrupted."""
    quiet_known_warnings()
    import uvicorn

    os.environ["SERVER_NAME"] = host
    os.environ["SERVER_PORT"] = str(port)
    uvicorn.run(build_app(), host=host, port=port, log_level="warning")
