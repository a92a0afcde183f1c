"""One model function run over many seeds, by the project's one engine.

The workshop's debrief replays each team's decisions in many futures; this is the one place
it reaches the experiment runner: tasks of one sample, each replication's seed by the seed
rule of compare, sweeps and the pattern suite, run by the local executor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from experiments.engine.executors import make_executor
from experiments.engine.runner import Record, Task, replication_seed


def run_seeds(model: str, params: Mapping[str, Any], root_seed: int, runs: int,
              workers: int = 1) -> list[dict[str, Any]]:
    """The outcomes of ``runs`` runs of ``model`` with ``params``, in run order.

    Run ``i`` has the seed ``replication_seed(root_seed, i)``, so the same root gives the
    same runs whatever the number of workers. A run that raised raises here, naming it.
    """
    tasks = [Task(run_id=i, sample_id=0, replication=i, seed=replication_seed(root_seed, i),
                  params=params, base={}, model=model, steps=0) for i in range(runs)]
    records: list[Record] = []
    with make_executor(workers) as executor:
        executor.run(tasks, records.append, planned=runs)
    records.sort(key=lambda r: r.run_id)
    for record in records:
        if not record.ok:
            raise RuntimeError(f"run {record.run_id} (seed {record.seed}) failed: "
                               f"{record.error}")
    return [record.outcomes for record in records]
