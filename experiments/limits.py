"""The workers of every command that runs many models: one limit, one check.

A module light enough for the CLI to import at start.
"""

from simulation.errors import OutsideInError

MAX_WORKERS = 64
"""The most local worker processes a command starts (more is a mistake, not a machine)."""


def one_backend(workers: int | None, scheduler: str | None) -> None:
    """Refuse local workers and a Dask scheduler given together (one line, exit 2)."""
    if workers and scheduler:
        raise OutsideInError("--workers: give either --workers or --scheduler, not both")
