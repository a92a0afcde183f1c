"""Local backend: runs in this process (one worker) or in a pool of processes."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

from experiments.executors import Executor
from experiments.runner import Record, Task, run_tasks


class LocalExecutor(Executor):
    """Processes on this machine; ``workers=None`` uses every core.

    One worker runs in the calling process (no start-up or pickling cost). More use a
    process pool started with ``spawn``, safe beside the threads of the progress display.
    """

    def __init__(self, workers: int | None = None) -> None:
        count = workers if workers is not None else (os.cpu_count() or 1)
        if count < 1:
            raise ValueError(f"workers = {count} must be at least 1")
        self.workers = count
        self._pool: ProcessPoolExecutor | None = None

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
            self._pool = ProcessPoolExecutor(self.workers,
                                             mp_context=multiprocessing.get_context("spawn"))
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
