"""Dask backend: the same runs on a ``dask.distributed`` cluster.

Give the scheduler's address (``tcp://host:8786``); every worker must be able to import
this package and the model. Results are the same as on the local backend because each
run's seed depends only on its identity.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Iterator

from distributed import Client, Future, as_completed
from distributed.scheduler import KilledWorker

from experiments.engine.executors.base import Executor
from experiments.engine.runner import Record, Task, run_tasks, worker_died
from simulation.errors import OutsideInError, RunFailedError

CONNECT_TIMEOUT = 10.0
"""Seconds to wait for the scheduler before giving up with a clear error."""

WORKERS_TIMEOUT = 30.0
"""Seconds to wait for a scheduler's first worker before giving up with a clear error."""

ADDRESS = re.compile(r"^(tcp|tls|ws|wss|ucx|inproc)://[^\s/:]+(:\d{1,5})?$")
"""What a scheduler address looks like (``tcp://host:8786``)."""


class SchedulerUnreachableError(OutsideInError, ConnectionError):
    """No Dask scheduler answers at the given address: a user mistake, reported in one line."""


class SchedulerLostError(RunFailedError, ConnectionError):
    """The scheduler went away during the sweep: exit 1; the finished runs are kept."""


class DaskExecutor(Executor):
    """Submits chunks of runs to a Dask scheduler, a bounded number at a time."""

    backend = "dask"

    def __init__(self, address: str, *, timeout: float | None = None,
                 workers_timeout: float | None = None) -> None:
        if not ADDRESS.match(address):
            raise SchedulerUnreachableError(
                f"--scheduler: {address!r} is not a scheduler address; give one like "
                "tcp://host:8786")
        self.address = address
        # the client logs each failed reconnection with a traceback; the CLI says it in one
        # line (SchedulerLostError) instead
        logging.getLogger("distributed.client").setLevel(logging.CRITICAL)
        try:
            self._client = Client(address, timeout=timeout or CONNECT_TIMEOUT,
                                  set_as_default=False)
        except (OSError, ValueError, TypeError) as err:
            raise SchedulerUnreachableError(
                f"cannot reach the Dask scheduler at {address}: {err}") from None
        wait = workers_timeout or WORKERS_TIMEOUT
        try:
            self._client.wait_for_workers(1, timeout=wait)
        except (TimeoutError, OSError):
            self.close()
            raise SchedulerUnreachableError(
                f"the Dask scheduler at {address} has no workers (waited {wait:g} s); start "
                f"some with `dask worker {address}`") from None
        threads = self._client.nthreads()
        self.workers = max(1, sum(threads.values()))

    def close(self) -> None:
        """Disconnect from the scheduler (the cluster itself keeps running)."""
        with contextlib.suppress(OSError, TimeoutError, RuntimeError):  # gone already
            self._client.close(timeout=5)

    def map_unordered(self, chunks: Iterator[list[Task]]) -> Iterator[list[Record]]:
        """Keep ``max_in_flight`` chunks on the cluster; yield each as it completes.

        A scheduler that goes away mid-sweep raises :class:`SchedulerLostError` (one line);
        what finished before is stored, so running the sweep again resumes it.
        """
        submitted: dict[Future, list[Task]] = {}

        def result(future: Future) -> list[Record]:
            chunk = submitted.pop(future)
            try:
                return future.result()  # type: ignore[no-any-return]
            except KilledWorker:  # its workers kept dying: the chunk's runs failed
                return [worker_died(task) for task in chunk]

        try:
            queue = as_completed(loop=self._client.loop)
            in_flight = 0
            for chunk in chunks:
                future = self._client.submit(run_tasks, chunk, pure=False)
                submitted[future] = chunk
                queue.add(future)
                in_flight += 1
                if in_flight >= self.max_in_flight:
                    in_flight -= 1
                    yield result(next(queue))
            for future in queue:
                yield result(future)
        except (Exception, asyncio.CancelledError) as err:  # noqa: BLE001 - run_tasks never
            # raises (a model error is a failed record): whatever comes here is the cluster
            reason = (str(err).strip().splitlines() or [""])[0]
            raise SchedulerLostError(
                f"lost the Dask scheduler at {self.address} during the sweep "
                f"({type(err).__name__}: {reason}); run the same command again to resume") \
                from None
