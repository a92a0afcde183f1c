"""EMA Workbench evaluators on this project's executors: local processes and Dask.

The Workbench ships sequential, multiprocessing, MPI and ipyparallel evaluators, and no Dask
one. Here an evaluator is a thin ``BaseEvaluator`` over
:class:`experiments.engine.executors.Executor`, the interface every sweep runs on, so EMA's
experiments get the same chunking, the same bound on runs in flight, the same survival of a
dying worker (its runs come back as failed, never hang) and the same completeness check as
``outsidein sweep``:

- :class:`ExecutorEvaluator` runs on any executor (``LocalExecutor(workers)`` by default);
- :class:`DaskEvaluator` runs on a ``dask.distributed`` scheduler (``tcp://host:8786``).

Each EMA experiment is one task: the worker runs EMA's own ``ExperimentRunner`` on a fresh
copy of the models, so an outcome can never be left over from an earlier experiment, and a
model that raises fails its experiment with ``EMAError``, as EMA's sequential evaluator
does. The search's random stream (Python's ``random``, which platypus draws from) is the
same before and after a batch whatever the backend, so an optimization seeded alike takes
the same path on every backend.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ema_workbench.em_framework.evaluators import BaseEvaluator
from ema_workbench.em_framework.points import Experiment
from ema_workbench.util import EMAError

from experiments.engine.executors import Executor
from experiments.engine.executors.local import LocalExecutor
from experiments.engine.runner import Record, Task

TASK_FUNCTION = "experiments.sweeps.ema_evaluators:run_experiment"
"""The model function of an EMA task (the runner's protocol), resolved in the worker."""


def run_experiment(params: Mapping[str, Any], seed: int, **_: Any) -> dict[str, Any]:
    """Run one EMA experiment in a worker: EMA's ``ExperimentRunner`` on the given models.

    ``params`` holds ``models`` (the EMA models) and ``experiment``; ``seed`` is unused (an
    EMA model seeds itself, as :class:`experiments.sweeps.ema.OrgReplications` does).
    """
    from ema_workbench.em_framework.experiment_runner import ExperimentRunner

    runner = ExperimentRunner(params["models"])
    try:
        outcomes = runner.run_experiment(params["experiment"])
    except EMAError as err:  # a BaseException: made an ordinary failure of this one run
        cause = err.__cause__ or err
        raise ExperimentFailedError(f"{type(cause).__name__}: {cause}") from None
    return dict(outcomes)


class ExperimentFailedError(RuntimeError):
    """An EMA experiment raised in its model.

    EMA's ``EMAError`` is a ``BaseException``, which would bypass the executors' failure
    handling; this one is recorded as a failed run, as any model error is.
    """


class ExecutorEvaluator(BaseEvaluator):
    """An EMA evaluator that sends each experiment to one of this project's executors.

    Args:
        msis: the EMA model(s).
        executor: an open executor; it is closed when the evaluator finalizes only if the
            evaluator made it (``workers`` given or neither given).
        workers: local worker processes for a ``LocalExecutor`` made here.

    """

    def __init__(self, msis: Any, executor: Executor | None = None, *,
                 workers: int | None = None) -> None:
        super().__init__(msis)
        self._given = executor
        self._workers = workers
        self.executor: Executor | None = executor

    def _make_executor(self) -> Executor:

        return LocalExecutor(self._workers or 1)

    def initialize(self) -> None:
        """Open the executor (unless one was given)."""
        if self.executor is None:
            self.executor = self._make_executor()

    def finalize(self) -> None:
        """Close the executor if this evaluator made it."""
        if self._given is None and self.executor is not None:
            self.executor.close()
            self.executor = None

    def evaluate_experiments(self, experiments: Iterable[Experiment], callback: Callable,
                             **kwargs: Any) -> None:
        """Run the experiments on the executor, handing each result to EMA's callback.

        Raises:
            EMAError: an experiment raised (its message names it); the run stops, as under
                EMA's sequential evaluator.

        """
        if self.executor is None:
            raise EMAError("the evaluator is not initialized; use it as a context manager")
        state = random.getstate()
        models = list(self._msis)
        pending = dict(enumerate(experiments))  # EMA's generator, counted for the chunking
        tasks = [Task(run_id=i, sample_id=i, replication=0, seed=0,
                      params={"experiment": experiment}, base={"models": models},
                      model=TASK_FUNCTION, steps=0) for i, experiment in pending.items()]

        def on_record(record: Record) -> None:
            experiment = pending.pop(record.run_id)
            if not record.ok:
                raise EMAError(f"experiment {experiment.experiment_id} (policy "
                               f"{experiment.policy.name}, scenario {experiment.scenario.name}) "
                               f"failed: {record.error}")
            callback(experiment, record.outcomes)

        try:
            if tasks:
                self.executor.run(tasks, on_record, planned=len(tasks))
        finally:
            random.setstate(state)


class DaskEvaluator(ExecutorEvaluator):
    """An EMA evaluator on a Dask cluster, through the sweeps' own Dask executor.

    Args:
        msis: the EMA model(s).
        scheduler: the scheduler's address (``tcp://host:8786``); every worker must be able
            to import this package.
        executor: an open ``DaskExecutor`` to use instead (not closed here).

    """

    def __init__(self, msis: Any, scheduler: str | None = None, *,
                 executor: Executor | None = None) -> None:
        if (scheduler is None) == (executor is None):
            raise ValueError("give either a scheduler address or an open executor")
        super().__init__(msis, executor)
        self.scheduler = scheduler

    def _make_executor(self) -> Executor:
        # deferred: dask.distributed takes 0.7 s to import, and only a cluster needs it
        from experiments.engine.executors.dask import DaskExecutor

        assert self.scheduler is not None  # checked at construction
        return DaskExecutor(self.scheduler)


__all__ = ["DaskEvaluator", "ExecutorEvaluator", "run_experiment"]
