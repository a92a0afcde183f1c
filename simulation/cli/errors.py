"""Turn a user's mistake into one line on stderr and exit status 2 (no traceback)."""

from __future__ import annotations

from typing import NoReturn

import typer


def fail(error: Exception | str) -> NoReturn:
    """Print ``error: <message>`` on stderr and exit with status 2."""
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(2)
