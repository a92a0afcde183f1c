"""``outsidein workshop``: one shared market that teams steer from their own browsers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from simulation.cli.root import app
from simulation.cli.serve import check_scenario
from simulation.errors import OutsideInError
from simulation.params import DEFAULT_SEED

APP_MODULE = "simulation.viz.workshop.page"


def default_log_folder() -> Path:
    """A new folder for a workshop's log under the user's data directory (never the cwd).

    ``platformdirs`` says where that is (``~/.local/share/outside-in/workshops`` on Linux,
    or ``$XDG_DATA_HOME``); the folder is named by the UTC time, with a suffix if taken.
    """
    import platformdirs

    base = Path(platformdirs.user_data_dir("outside-in", appauthor=False)) / "workshops"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    folder, n = base / f"workshop-{stamp}", 2
    while folder.exists():
        folder, n = base / f"workshop-{stamp}-{n}", n + 1
    return folder


def ticket_secret(start: Any) -> bytes:
    """The secret of the pages' tickets: the workshop's own, so they hold across a restart.

    Made from the start record's hash of the facilitator's key and its join code; the log that
    holds them is readable by its owner only.
    """
    import hashlib

    return hashlib.sha256(b"outside-in tickets\0" + start.key_sha256.encode("ascii") + b"\0"
                          + start.code.encode("ascii")).digest()


def _public_host(host: str) -> str:
    """The host to print in the links: the machine's address when it listens on all."""
    if host not in ("0.0.0.0", "::"):
        return host
    import socket

    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return host


def print_links(host: str, port: int, key: str | None, code: str, qr: bool = True,
                observe: str | None = None) -> None:
    """Print the facilitator's, the teams' and the observers' links; the join link as a QR."""
    base = f"http://{_public_host(host)}:{port}/"
    join = f"{base}?join={code}"
    if key is not None:
        typer.echo(f"facilitator: {base}?key={key}")
    typer.echo(f"join: {join}")
    if observe is not None:
        typer.echo(f"observe: {base}?observe={observe}")
    if host in ("0.0.0.0", "::") and _public_host(host).startswith("127."):
        typer.echo("(this machine's name resolves to a loopback address: replace it in the "
                   "links with the address the class's devices reach it by)")
    if qr:
        import segno

        segno.make(join, error="m").terminal(compact=True)


@app.command("workshop")
def workshop_command(
    scenario: Annotated[str | None, typer.Argument(
        help="Scenario (a shipped name or a file) of the shared market "
             "(default: the default market).", show_default=False)] = None,
    host: Annotated[str, typer.Option(
        help="Address to listen on; 0.0.0.0 opens the workshop to the classroom's network.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve the workshop on.",
                                      min=1024, max=65535)] = 8766,
    round_months: Annotated[int, typer.Option(help="Months one round runs.", min=1,
                                              max=120)] = 6,
    teams: Annotated[int, typer.Option(
        help="Firms teams can take: the scenario's, then more of its kind.", min=1,
        max=60)] = 4,
    seed: Annotated[int | None, typer.Option(
        help=f"Random seed (default: the scenario's, or {DEFAULT_SEED}).", min=0,
        show_default=False)
    ] = None,
    log: Annotated[Path | None, typer.Option(
        help="Folder for the decision log (default: a new workshop-DATE-TIME folder under "
             "the user's data directory; its path is printed).",
        show_default=False)] = None,
    resume: Annotated[Path | None, typer.Option(
        help="Carry on the workshop whose log is in this folder.", show_default=False)
    ] = None,
    qr: Annotated[bool, typer.Option(help="Show the join link as a QR code.")] = True,
    team_cap: Annotated[int | None, typer.Option(
        help="Most teams that may join (default: one a firm, --teams).", min=1, max=60,
        show_default=False)] = None,
    observer_cap: Annotated[int, typer.Option(
        help="Most observers (teaching assistants: every team's page, read-only).", min=0,
        max=20)] = 2,
    password: Annotated[str, typer.Option(
        help="A room password everyone who joins must type (default: none).",
        envvar="OUTSIDEIN_WORKSHOP_PASSWORD", show_default=False)] = "",
) -> None:
    """Serve a workshop: teams join with a link, a facilitator runs the rounds."""
    # deferred: the app's server (Solara, uvicorn), only when this command runs
    from simulation.viz import server
    from simulation.viz.workshop.session import KEY_NAME, Config, Workshop

    if resume is not None and (scenario is not None or log is not None or seed is not None
                               or team_cap is not None or password):
        raise OutsideInError("resume: a resumed workshop takes its scenario, seed, caps, "
                             "password and log from its log; give --resume alone")
    if not server.port_is_free(port, host):
        raise OutsideInError(f"port: {port} is already in use on {host}; choose another "
                             "with --port")
    if resume is not None:
        shop = Workshop.resume(resume)
    else:
        path = check_scenario(scenario) if scenario is not None else None
        if seed is None:
            seed = DEFAULT_SEED
            if path is not None:
                from simulation.viz import scenarios

                found = scenarios.load(path).to_model_kwargs().get("rng")
                seed = found if isinstance(found, int) and found >= 0 else DEFAULT_SEED
        if team_cap is not None and team_cap > teams:
            raise OutsideInError(f"team cap: {team_cap} is more than the {teams} firms "
                                 "(--teams); at most one team a firm")
        shop = Workshop.create(Config(path, seed, teams, round_months, team_cap,
                                      observer_cap, password), log or default_log_folder())
    try:
        server.configure(None, None, APP_MODULE)  # before solara is first imported
        from experiments.engine.many_seeds import run_seeds
        from simulation.viz.workshop.page import admits, install

        install(shop, run_seeds)
        typer.echo(f"Outside-In workshop, month {shop.month}, round {shop.round}; "
                   f"log in {shop.folder} (Ctrl+C to stop)")
        if shop.key is None:
            typer.echo(f"facilitator: the link printed when the workshop started ("
                       f"{shop.folder / KEY_NAME} is missing or does not match)")
            print_links(host, port, None, shop.start.code, qr, shop.start.observe_code)
        else:
            print_links(host, port, shop.key, shop.start.code, qr, shop.start.observe_code)
        server.run(port, host, gate=admits, ticket_secret=ticket_secret(shop.start))
    finally:
        shop.close()
