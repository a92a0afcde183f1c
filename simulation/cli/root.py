"""The root command of ``outsidein``: the Typer app every command registers on, ``--version``.

Each command's module imports :data:`app` from here and registers itself; the package's
:func:`simulation.cli.main` loads those modules and runs the app.
"""

from __future__ import annotations

import gc
from typing import Annotated

import typer
from typer import Exit

from simulation.provenance import version_text

app = typer.Typer(
    name="outsidein",
    help="Outside-In: simulate inside-out and outside-in organizations in a shifting market.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)



def version_line() -> str:
    """The line ``outsidein --version`` prints."""
    return f"outsidein {version_text()}"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(version_line())
        raise Exit(0)


@app.callback()
def _outsidein(
    version: Annotated[bool, typer.Option(
        "--version", is_eager=True, callback=_print_version,
        help="Print the version (and the git commit in a checkout), then exit.")] = False,
) -> None:
    """Outside-In: simulate inside-out and outside-in organizations in a shifting market."""


def error_lines(message: str) -> str:
    """A message as error lines, each marked: several mistakes in one file are several lines."""
    return "\n".join(f"error: {line}" for line in str(message).splitlines() or [""])


def imports_done() -> None:
    """A command has imported what it needs: freeze those objects (``gc.freeze``).

    The collector never visits the modules' objects again, so a command's work does not
    pay for walking them on every full collection.
    """
    gc.freeze()
