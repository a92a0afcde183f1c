"""The workers of every command that runs many models: one limit, one check.

A module light enough for the CLI to import at start.
"""

import os

from simulation.errors import OutsideInError

MAX_WORKERS = 64
"""The most local worker processes a command starts (more is a mistake, not a machine)."""


def default_workers(workers: int | None, runs: int | None = None) -> int:
    """The local workers a command runs.

    ``workers`` if given (not 0), else one per core, at most :data:`MAX_WORKERS` and at most
    ``runs`` (more would sit idle).
    """
    if workers:
        return workers
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS, runs or MAX_WORKERS))


def one_backend(workers: int | None, scheduler: str | None) -> None:
    """Refuse local workers and a Dask scheduler given together (one line, exit 2)."""
    if workers and scheduler:
        raise OutsideInError("--workers: give either --workers or --scheduler, not both")
