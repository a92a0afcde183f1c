"""Dask backend: the same runs on a ``dask.distributed`` cluster.

Give the scheduler's address (``tcp://host:8786``); every worker must be able to import
this package and the model. Results are the same as on the local backend because each
run's seed depends only on its identity.
"""

from __future__ import annotations

from collections.abc import Iterator

from distributed import Client, as_completed

from experiments.executors import Executor
from experiments.runner import Record, Task, run_tasks
from simulation.errors import OutsideInError

CONNECT_TIMEOUT = 10.0
"""Seconds to wait for the scheduler before giving up with a clear error."""


class SchedulerUnreachableError(OutsideInError, ConnectionError):
    """No Dask scheduler answers at the given address: a user mistake, reported in one line."""


class DaskExecutor(Executor):
    """Submits chunks of runs to a Dask scheduler, a bounded number at a time."""

    backend = "dask"

    def __init__(self, address: str, *, timeout: float | None = None) -> None:
        try:
            self._client = Client(address, timeout=timeout or CONNECT_TIMEOUT,
                                  set_as_default=False)
        except OSError as err:
            raise SchedulerUnreachableError(
                f"cannot reach the Dask scheduler at {address}: {err}") from None
        threads = self._client.nthreads()
        self.workers = max(1, sum(threads.values()))

    def close(self) -> None:
        """Disconnect from the scheduler (the cluster itself keeps running)."""
        self._client.close()

    def map_unordered(self, chunks: Iterator[list[Task]]) -> Iterator[list[Record]]:
        """Keep ``max_in_flight`` chunks on the cluster; yield each as it completes."""
        queue = as_completed(loop=self._client.loop)
        in_flight = 0
        for chunk in chunks:
            queue.add(self._client.submit(run_tasks, chunk, pure=False))
            in_flight += 1
            if in_flight >= self.max_in_flight:
                future = next(queue)
                in_flight -= 1
                yield future.result()
        for future in queue:
            yield future.result()
