"""One small executor interface; a module per backend (local processes, Dask).

Like the EMA Workbench's evaluators, an executor is a context manager with one method,
:meth:`Executor.run`, that runs tasks and hands each finished record to a callback, then
checks that every planned run came back. Backends only say how a chunk of tasks is run
(:meth:`Executor.map_unordered`); chunking, bounding the runs in flight and the final
check live here once.
"""

from __future__ import annotations

from experiments.engine.executors.base import Executor, MissingRunsError, chunk_size, chunked
from experiments.engine.executors.local import LocalExecutor

__all__ = ["Executor", "LocalExecutor", "MissingRunsError", "chunk_size", "chunked",
           "make_executor"]


def make_executor(workers: int | None = None, scheduler: str | None = None) -> Executor:
    """Make the executor for the CLI's options: Dask if a scheduler address is given, else local."""
    if scheduler:
        # deferred: dask.distributed takes 0.7 s to import, and only a cluster needs it
        from experiments.engine.executors.dask import DaskExecutor

        return DaskExecutor(scheduler)
    return LocalExecutor(workers)
