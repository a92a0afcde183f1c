"""The executor interface, once: chunking, the bound on runs in flight, the final check.

Every backend (:mod:`.local`, :mod:`.dask`) subclasses :class:`Executor` from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from types import TracebackType
from typing import Self

from experiments.engine.runner import Record, Task


class MissingRunsError(RuntimeError):
    """A backend returned fewer (or other) runs than were submitted."""


def chunk_size(planned: int, workers: int) -> int:
    """Choose the runs per submission: enough to hide the submission cost, small enough to balance.

    About 16 chunks per worker, at most 32 runs each, so a kill loses few runs.
    """
    return max(1, min(32, planned // max(1, workers * 16)))


def chunked(tasks: Iterable[Task], size: int) -> Iterator[list[Task]]:
    """Cut a (lazy) stream of tasks into lists of ``size``."""
    it = iter(tasks)
    while chunk := list(islice(it, size)):
        yield chunk


class Executor:
    """Runs tasks somewhere and reports each record as it finishes.

    Subclasses implement :meth:`map_unordered`; at most :attr:`max_in_flight` chunks may be
    submitted and not yet returned at any time, so memory stays bounded whatever the size
    of the experiment.
    """

    workers: int = 1
    backend: str = "custom"
    """Name of the backend, recorded in the manifest's sessions."""

    @property
    def max_in_flight(self) -> int:
        """Chunks submitted and not yet back, at most."""
        return 2 * self.workers

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Release the backend's resources (processes, client connections)."""

    def map_unordered(self, chunks: Iterator[list[Task]]) -> Iterator[list[Record]]:
        """Run each chunk, yielding each chunk's records as soon as it is done."""
        raise NotImplementedError

    def run(self, tasks: Sequence[Task] | Iterable[Task], callback: Callable[[Record], None],
            *, planned: int, chunk: int | None = None) -> int:
        """Run ``planned`` tasks, calling ``callback`` once per finished record.

        Returns the number of records handed back. Raises :class:`MissingRunsError` if any
        submitted run did not come back exactly once.
        """
        size = chunk or chunk_size(planned, self.workers)
        expected: set[int] = set()

        def note(stream: Iterable[Task]) -> Iterator[Task]:
            for task in stream:
                expected.add(task.run_id)
                yield task

        seen = 0
        for records in self.map_unordered(chunked(note(tasks), size)):
            for record in records:
                if record.run_id not in expected:
                    raise MissingRunsError(f"run {record.run_id} came back twice or was "
                                           "never submitted")
                expected.discard(record.run_id)
                seen += 1
                callback(record)
        if expected:
            raise MissingRunsError(f"{len(expected)} runs never came back, e.g. run "
                                   f"{min(expected)}")
        return seen
