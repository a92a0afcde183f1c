"""A run that raises is data: the sweep finishes the others and reports the failure."""

import json

import pytest

from experiments.engine.executors import Executor, MissingRunsError
from experiments.engine.runner import Task, run_task
from experiments.sweeps.spec import SpecError, parse_spec
from experiments.sweeps.store import read_failed, read_runs
from experiments.sweeps.sweep import run_sweep
from tests.experiments.exp_helpers import run_cli, write_spec

FRAGILE = {"name": "fragile", "model": "tests.experiments.exp_helpers:fragile", "steps": 5,
           "conditions": {"x": {"levels": [1.0, 2.0, 3.0]}}, "replications": 2, "seed": 1}


@pytest.mark.parametrize("workers", [1, 2])
def test_one_failing_combination_is_recorded_and_the_rest_finish(tmp_path, workers):
    result = run_sweep(parse_spec(FRAGILE), tmp_path / "out", workers=workers)
    assert (result.planned, result.completed, result.failed) == (6, 4, 2)
    runs = read_runs(tmp_path / "out")
    assert sorted(runs["x"].unique()) == [1.0, 3.0]
    failed = read_failed(tmp_path / "out")
    assert list(failed["run_id"]) == [2, 3]
    assert (failed["x"] == 2.0).all()
    assert failed["error"].str.contains("ZeroDivisionError: x = 2 is the combination").all()
    assert json.loads(failed["params"].iloc[0]) == {"x": 2.0}
    assert failed["traceback"].str.contains("fragile").all()
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert (manifest["completed"], manifest["failed"], manifest["planned"]) == (4, 2, 6)


def test_failed_runs_are_not_rerun_on_resume(tmp_path):
    spec = parse_spec(FRAGILE)
    run_sweep(spec, tmp_path / "out", workers=1)
    again = run_sweep(spec, tmp_path / "out", workers=1)
    assert (again.ran_now, again.completed, again.failed) == (0, 4, 2)


def test_retry_failed_runs_only_the_failed_runs_again(tmp_path):
    spec = parse_spec(FRAGILE)
    run_sweep(spec, tmp_path / "out", workers=1, flush_every=2)
    again = run_sweep(spec, tmp_path / "out", workers=1, retry_failed=True)
    assert (again.ran_now, again.skipped, again.completed, again.failed) == (2, 4, 4, 2)
    assert list(read_failed(tmp_path / "out")["run_id"]) == [2, 3]
    assert list(read_runs(tmp_path / "out")["run_id"]) == [0, 1, 4, 5]


def test_the_cli_exits_1_and_says_how_many_failed(tmp_path):
    spec = write_spec(tmp_path / "fragile.yaml", FRAGILE)
    result = run_cli("sweep", str(spec), "--out", str(tmp_path / "out"), "-q", "-w", "1")
    assert result.exit_code == 1
    assert "4 completed, 2 failed, 6 planned" in result.stdout
    assert "2 run(s) failed" in result.stderr


def test_a_failed_record_keeps_the_error_not_a_previous_result():
    # the EMA Workbench once reported the previous run's outcomes for a failed run
    good = run_task(Task(0, 0, 0, 5, {"x": 1.0}, {}, "tests.experiments.exp_helpers:fragile",
                         5))
    bad = run_task(Task(1, 1, 0, 6, {"x": 2.0}, {}, "tests.experiments.exp_helpers:fragile",
                        5))
    assert good.ok and good.outcomes["y"] == pytest.approx(2.0 + 0.005 + 0.005)
    assert not bad.ok and bad.outcomes == {} and bad.series is None
    assert bad.params == {"x": 2.0} and bad.error.startswith("ZeroDivisionError")


def test_an_unknown_model_function_is_refused_before_any_run(tmp_path):
    data = {**FRAGILE, "model": "tests.experiments.exp_helpers:nothing_here"}
    with pytest.raises(SpecError, match="not a registered model function"):
        parse_spec(data)
    with pytest.raises(SpecError, match="has no function 'nothing_here'"):
        parse_spec(data, allow_import=True)


class LosingExecutor(Executor):
    """A broken backend that silently drops the last run of every chunk."""

    def map_unordered(self, chunks):
        from experiments.engine.runner import run_tasks

        for chunk in chunks:
            yield run_tasks(chunk[:-1])


def test_an_executor_that_loses_runs_is_caught():
    tasks = [Task(i, i, 0, i, {"x": 1.0}, {}, "tests.experiments.exp_helpers:toy", 5)
             for i in range(5)]
    with LosingExecutor() as executor, pytest.raises(MissingRunsError, match="never came back"):
        executor.run(tasks, lambda record: None, planned=5, chunk=5)
