"""Local backend: runs in this process (one worker) or in a pool of processes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from experiments.engine.executors.base import Executor
from experiments.engine.executors.lifeline import die_with
from experiments.engine.forkserver import context, start_method
from experiments.engine.limits import MAX_WORKERS, default_workers
from experiments.engine.runner import WORKER_DIED, Record, Task, run_tasks, worker_died

__all__ = ["MAX_WORKERS", "WORKER_DIED", "LocalExecutor"]


class LocalExecutor(Executor):
    """Processes on this machine; ``workers=None`` uses every core.

    One worker runs in the calling process (no start-up or pickling cost). More use a
    process pool forked from the fork server (:mod:`experiments.engine.forkserver`), started at
    construction so that the time it takes is not charged to the first runs.
    """

    backend = "local"

    def __init__(self, workers: int | None = None) -> None:
        count = default_workers(workers) if workers is None else workers
        if not 1 <= count <= MAX_WORKERS:
            raise ValueError(f"workers = {count} must be between 1 and {MAX_WORKERS}")
        self.workers = count
        self._pool: ProcessPoolExecutor | None = None
        self.start_method = start_method() if count > 1 else "inline"
        if count > 1:
            self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(self.workers, mp_context=context(self.start_method),
                                   initializer=die_with, initargs=(os.getpid(),))
        pool.submit(int).result()  # launch the workers now
        return pool

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
        submitted: dict[Future[list[Record]], list[Task]] = {}
        exhausted = False
        while pending or not exhausted:
            broken: list[list[Task]] = []  # chunks lost with a dead pool
            while not exhausted and not broken and len(pending) < self.max_in_flight:
                batch: list[Task] | None = next(chunks, None)
                if batch is None:
                    exhausted = True
                    continue
                try:
                    future = self._pool.submit(run_tasks, batch)
                except BrokenProcessPool:  # a worker died since the last chunk came back
                    broken.append(batch)
                    continue
                submitted[future] = batch
                pending.add(future)
            if pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    try:
                        yield future.result()
                    except BrokenProcessPool:
                        broken.append(submitted.pop(future))
                        continue
                    submitted.pop(future, None)
            if broken:  # every chunk still on the dead pool is lost with it
                broken.extend(submitted.pop(f) for f in list(pending))
                pending = set()
                yield from self._isolate([t for chunk in broken for t in chunk])

    def _isolate(self, tasks: list[Task]) -> Iterator[list[Record]]:
        """After a worker died: run the runs it may have taken down one at a time.

        Each runs alone on a fresh pool, so the one whose process dies again is known and
        recorded as failed; the others give their results and the sweep goes on.
        """
        for task in tasks:
            self._restart()
            assert self._pool is not None
            try:
                yield self._pool.submit(run_tasks, [task]).result()
            except BrokenProcessPool:
                yield [worker_died(task)]
        self._restart()

    def _restart(self) -> None:
        if self._pool is not None and not getattr(self._pool, "_broken", False):
            return
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = self._new_pool()

