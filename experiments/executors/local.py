"""Local backend: runs in this process (one worker) or in a pool of processes."""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

from experiments.executors import Executor
from experiments.runner import Record, Task, run_tasks

PRELOAD = ("experiments.runner", "simulation")
"""Modules the fork server imports once, so that every worker starts with them loaded."""


def _start_method() -> str:
    """``forkserver`` where the platform has it, else ``spawn``.

    A fork server is a fresh interpreter that imports the model once (:data:`PRELOAD`) and
    forks each worker from itself: workers start fast and share those pages, and none is
    forked from this process, whose threads (progress display, numpy's, Arrow's) could
    deadlock a forked child. It is also Python's own default from 3.14.
    """
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() \
        else "spawn"


def _context(method: str) -> multiprocessing.context.BaseContext:
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload(list(PRELOAD))
    return context


class LocalExecutor(Executor):
    """Processes on this machine; ``workers=None`` uses every core.

    One worker runs in the calling process (no start-up or pickling cost). More use a
    process pool (see :func:`_start_method`), started at construction so that the time it
    takes is not charged to the first runs.
    """

    backend = "local"

    def __init__(self, workers: int | None = None) -> None:
        count = workers if workers is not None else (os.cpu_count() or 1)
        if count < 1:
            raise ValueError(f"workers = {count} must be at least 1")
        self.workers = count
        self._pool: ProcessPoolExecutor | None = None
        self.start_method = _start_method() if count > 1 else "inline"
        if count > 1:
            self._pool = ProcessPoolExecutor(count, mp_context=_context(self.start_method))
            self._pool.submit(int).result()  # launch the workers now

    def close(self) -> None:
        """Stop the pool's processes (cancelling what has not started)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def map_unordered(self, chunks: Iterator[list[Task]]) -> Iterator[list[Record]]:
        """Run chunks inline (one worker) or on the pool, at most ``max_in_flight`` at once."""
        if self.workers == 1:
            for chunk in chunks:
                yield run_tasks(chunk)
            return
        if self._pool is None:
            raise RuntimeError("this executor was closed")
        pending: set[Future[list[Record]]] = set()
        exhausted = False
        while pending or not exhausted:
            while not exhausted and len(pending) < self.max_in_flight:
                batch: list[Task] | None = next(chunks, None)
                if batch is None:
                    exhausted = True
                else:
                    pending.add(self._pool.submit(run_tasks, batch))
            if not pending:
                break
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
