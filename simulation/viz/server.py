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
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

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


GATE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Outside-In</title></head>
<body style="font: 18px sans-serif; margin: 2em">
<p class="oi-refused">Outside-In workshop. This link opens nothing: open the join link
your facilitator gives you.</p></body></html>
"""
"""What the gate answers for an address without a valid secret (no session is made)."""

TICKET_COOKIE = "outsidein-ticket"
"""The cookie by which a page the gate let in opens its websocket."""

STRANGERS = 8
"""Most websockets open at once without a valid ticket (a browser that refuses cookies)."""

KEPT = 64
"""Most dropped sessions (a page gone without closing: a laptop asleep, a lost network) the
server keeps at once for their pages to come back to; beyond it the oldest is closed."""


class Kernels(Protocol):
    """What the admission asks about solara's sessions, by kernel id."""

    def alive(self, kernel_id: str) -> bool:
        """Whether the session exists and is not closed."""

    def connected(self, kernel_id: str) -> bool:
        """Whether a page of the session is connected."""

    def close(self, kernel_id: str) -> None:
        """Close the session unless a page is connected (one coming back is told to reload)."""


class SolaraKernels:
    """:class:`Kernels` of this process's solara server."""

    @staticmethod
    def _context(kernel_id: str) -> Any:
        from solara.server import kernel_context

        context = kernel_context.contexts.get(kernel_id)
        return None if context is None or context.closed_event.is_set() else context

    def alive(self, kernel_id: str) -> bool:
        """Whether the session exists and is not closed."""
        return self._context(kernel_id) is not None

    def connected(self, kernel_id: str) -> bool:
        """Whether a page of the session is connected."""
        from solara.server.kernel_context import PageStatus

        context = self._context(kernel_id)
        return context is not None and PageStatus.CONNECTED in dict(context.page_status).values()

    def close(self, kernel_id: str) -> None:
        """Close the session unless a page is connected (as solara's own cull does)."""
        context = self._context(kernel_id)
        if context is not None and not self.connected(kernel_id):
            context.close(reason="cull")


class Admission:
    """Who may open a websocket, that is a solara session with its kernel and thread.

    A page load the gate lets in gets a ticket (a cookie); a websocket that brings a valid
    one is served. Without one it is a stranger: at most ``strangers`` of them are served
    at once, each holding its place until its session is gone, and any other is refused
    with HTTP 403 before solara makes a session, so a script that floods the websocket with
    made-up sessions costs the server a few sessions at a time. A ticket is a random name
    and its HMAC under ``secret`` (a random one of this process if none is given; a
    workshop's own, so that its pages' tickets hold across a restart): checking one stores
    nothing, however many page loads there were.

    Solara keeps a dropped session (its websocket closed without the page saying goodbye)
    for minutes so that its page can come back; at most ``kept`` of them are kept at once,
    the oldest closed first, so pages dropped by the hundred (a team's link opened by a
    script) hold a bounded share of the server's memory and threads.
    """

    def __init__(self, kernels: Kernels | None = None, strangers: int = STRANGERS,
                 kept: int = KEPT, secret: bytes | None = None) -> None:
        import secrets

        self._secret = secret or secrets.token_bytes(32)
        self._kernels = kernels
        self._waiting: set[Any] = set()
        self._dropped: dict[str, None] = {}  # kernel ids, oldest first
        self.strangers = strangers
        self.kept = kept
        self.open_strangers = 0
        self.refused = 0
        self.closed = 0

    def _mac(self, name: str) -> str:
        import hashlib
        import hmac

        return hmac.new(self._secret, name.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    def issue(self) -> str:
        """A new ticket."""
        import secrets

        name = secrets.token_urlsafe(12)
        return f"{name}.{self._mac(name)}"

    def valid(self, ticket: str | None) -> bool:
        """Whether ``ticket`` was signed with this admission's secret (in constant time)."""
        import hmac

        name, _, mac = (ticket or "").partition(".")
        return bool(name) and hmac.compare_digest(mac.encode("utf-8"),
                                                  self._mac(name).encode("utf-8"))

    async def serve(self, ws: Any, endpoint: Callable[[Any], Awaitable[None]]) -> None:
        """Hand ``ws`` to solara's ``endpoint``, or refuse it (HTTP 403) without a session."""
        kernel_id = str(ws.path_params.get("kernel_id"))
        if self.valid(ws.cookies.get(TICKET_COOKIE)):
            try:
                await endpoint(ws)
            finally:
                await self._dropped_one(kernel_id)
            return
        if self.open_strangers >= self.strangers:
            self.refused += 1
            await ws.close(code=1008)  # before accept: the client gets 403, solara nothing
            return
        self.open_strangers += 1  # one event loop: no other task runs between check and count
        try:
            await endpoint(ws)
        finally:
            await self._dropped_one(kernel_id)
            self._later(self._release(kernel_id))

    def _later(self, coroutine: Any) -> None:
        import asyncio

        task = asyncio.create_task(coroutine)
        self._waiting.add(task)
        task.add_done_callback(self._waiting.discard)

    async def _release(self, kernel_id: str, every: float = 0.25) -> None:
        """Free a stranger's place once its session is gone (solara culls it after a while)."""
        import asyncio

        try:
            while self._kernels is not None and self._kernels.alive(kernel_id):
                await asyncio.sleep(every)
        finally:
            self.open_strangers -= 1

    async def _dropped_one(self, kernel_id: str) -> None:
        """A session's websocket closed: keep it, and close the oldest beyond ``kept``."""
        import asyncio

        kernels = self._kernels
        if kernels is None:
            return
        self._dropped.pop(kernel_id, None)
        self._dropped[kernel_id] = None
        for old in list(self._dropped):  # forget those gone or back
            if not kernels.alive(old) or kernels.connected(old):
                del self._dropped[old]
        while len(self._dropped) > self.kept:
            old = next(iter(self._dropped))
            del self._dropped[old]
            self.closed += 1
            await asyncio.to_thread(kernels.close, old)


KERNELS_PATH = "/jupyter/api/kernels/{kernel_id}/{name}"
"""Solara's websocket route (one per open page)."""


def build_app(gate: Callable[[str], bool] | None = None,
              admission: Admission | None = None) -> Any:
    """Solara's ASGI app with the front end served read-only from ``assets_folder()``.

    Call after :func:`configure`: importing solara's server reads the environment.
    ``gate(query)`` says whether a page load of ``/`` with that query string may start a
    session; one it refuses gets :data:`GATE_PAGE` and costs the server no session,
    no thread and no widgets. One it lets in gets a ticket from ``admission`` (a new
    :class:`Admission` of solara's sessions if none is given), and solara's websocket is
    then served only with a ticket, or to a few strangers at once.
    """
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, Response
    from starlette.routing import Mount, Route, WebSocketRoute
    from starlette.staticfiles import StaticFiles
    from starlette.websockets import WebSocket

    folder = assets_folder()
    import solara.settings

    if solara.settings.assets.proxy:
        raise OutsideInError("solara's asset proxy is on; the app must be configured first")
    import solara.server.starlette as solara_starlette

    app = solara_starlette.app
    if not any(getattr(r, "path", None) == ASSETS_URL for r in app.router.routes):
        # first, so solara's catch-all page route never sees these paths
        app.router.routes.insert(0, Mount(ASSETS_URL, app=StaticFiles(directory=folder)))
    app.router.routes[:] = [r for r in app.router.routes
                            if getattr(r, "name", None) not in ("outsidein_gate",
                                                                "outsidein_admission")]
    if gate is not None:
        tickets = admission or Admission(SolaraKernels())

        async def gated(request: Request) -> Response:
            if not gate(request.url.query):
                return HTMLResponse(GATE_PAGE)
            response: Response = await solara_starlette.root(request)
            response.set_cookie(TICKET_COOKIE, tickets.issue(), httponly=True,
                                samesite="lax", path="/")
            return response

        async def admitted(ws: WebSocket) -> None:
            await tickets.serve(ws, solara_starlette.kernel_connection)

        app.router.routes.insert(0, Route("/", endpoint=gated, name="outsidein_gate"))
        app.router.routes.insert(0, WebSocketRoute(KERNELS_PATH, endpoint=admitted,
                                                   name="outsidein_admission"))
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


def run(port: int, host: str = HOST, gate: Callable[[str], bool] | None = None,
        ticket_secret: bytes | None = None) -> None:
    """Serve the configured app on ``host:port`` until interrupted (with :func:`tidy`).

    ``gate``: see :func:`build_app`; ``ticket_secret``: the :class:`Admission`'s secret.
    """
    quiet_known_warnings()
    import asyncio

    import uvicorn

    os.environ["SERVER_NAME"] = host
    os.environ["SERVER_PORT"] = str(port)
    app = build_app(gate, Admission(SolaraKernels(), secret=ticket_secret))
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))

    async def serve() -> None:
        tidying = asyncio.create_task(tidy())
        try:
            await server.serve()
        finally:
            tidying.cancel()

    asyncio.run(serve())


TIDY_SECONDS = 5.0
"""How often the server gives back what closed sessions left (:func:`tidy`)."""


async def tidy(every: float = TIDY_SECONDS) -> None:
    """Give back, now and then, the threads and memory of sessions that have closed.

    Each open websocket holds a worker thread of the event loop's pool; the pool stops a
    thread idle for 10 s only when it is next asked for one, so after a flood of sessions
    hundreds of threads would wait for the next visitor. Asking for one (to collect
    garbage) every few seconds stops them; ``malloc_trim`` then hands the freed heap back
    to the system (glibc keeps it otherwise).
    """
    import asyncio
    import ctypes
    import ctypes.util
    import gc

    import anyio.to_thread

    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    trim = getattr(libc, "malloc_trim", None)
    while True:
        await asyncio.sleep(every)
        await anyio.to_thread.run_sync(gc.collect)
        if trim is not None:
            trim(0)
