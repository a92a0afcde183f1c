"""Same spec, same results, whatever the backend, the worker count or the finishing order."""

import json

import numpy as np
import pandas as pd
import pytest

from experiments.engine.executors.local import LocalExecutor
from experiments.engine.runner import replication_seed
from experiments.sweeps.spec import parse_spec
from experiments.sweeps.store import read_runs, read_series
from experiments.sweeps.sweep import run_sweep

SPEC = {
    "name": "backends", "base": {"customers": 300, "rivals": 1}, "steps": 20,
    "levers": {"structure": {"levels": ["inside_out", "outside_in"]}},
    "conditions": {"turbulence": {"levels": [0.0, 0.05, 0.2]}},
    "replications": 2, "seed": 42,
    "outputs": {"series": True, "every": 5, "columns": ["market_share", "cash"]},
}


def results(folder):
    runs = read_runs(folder).drop(columns=["duration_s"])
    return runs, read_series(folder)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("one") / "out"
    result = run_sweep(parse_spec(SPEC), out, workers=1)
    assert result.completed == result.planned == 12
    return results(out)


def test_one_worker_gives_a_full_table(reference):
    runs, series = reference
    assert list(runs["run_id"]) == list(range(12))
    assert {"structure", "turbulence", "final_share", "share_advantage", "survived",
            "seed"} <= set(runs.columns)
    # paired on the lever: both structures of a (turbulence, replication) share one seed,
    # every other run has its own
    assert runs.groupby(["turbulence", "replication"])["seed"].nunique().eq(1).all()
    assert runs.groupby("structure")["seed"].apply(lambda s: s.is_unique).all()
    assert runs["seed"].nunique() == 6
    assert runs.groupby(["structure", "turbulence"]).size().eq(2).all()
    assert set(series["step"]) == {0, 5, 10, 15, 20}
    assert len(series) == 12 * 5
    assert series.groupby("run_id").size().eq(5).all()


def test_two_local_processes_give_identical_results(reference, tmp_path):
    run_sweep(parse_spec(SPEC), tmp_path / "out", workers=2)
    runs, series = results(tmp_path / "out")
    pd.testing.assert_frame_equal(runs, reference[0])
    pd.testing.assert_frame_equal(series, reference[1])


def test_a_dask_local_cluster_gives_identical_results(reference, tmp_path):
    import distributed  # a declared dependency: its absence is a failure, not a skip

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=50) as cluster:
        result = run_sweep(parse_spec(SPEC), tmp_path / "out",
                           scheduler=cluster.scheduler_address)
    assert result.completed == 12
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["sessions"][-1]["backend"] == "dask"
    runs, series = results(tmp_path / "out")
    pd.testing.assert_frame_equal(runs, reference[0])
    pd.testing.assert_frame_equal(series, reference[1])


def test_seeds_depend_on_identity_not_order():
    seeds = {(b, r): replication_seed(7, r, (b,)) for b in range(50) for r in range(4)}
    assert len(set(seeds.values())) == len(seeds)
    # the seed of (replication 1, block 3) is what spawning would give at that position,
    # however many blocks or replications came before it
    child = np.random.SeedSequence(7).spawn(2)[1].spawn(4)[3]
    assert seeds[(3, 1)] == int(child.generate_state(1, np.uint64)[0] >> np.uint64(1))
    assert replication_seed(8, 1, (3,)) != seeds[(3, 1)]
    assert all(0 <= s < 2**63 for s in seeds.values())


def test_the_executor_bounds_the_runs_in_flight():
    from experiments.engine.runner import Task

    drawn, back, most = 0, 0, 0

    def lazy_tasks():
        nonlocal drawn
        for i in range(24):
            drawn += 1
            yield Task(i, i, 0, i, {"x": 1.0, "sleep": 0.01}, {},
                       "tests.experiments.exp_helpers:toy", 5)

    def on_record(record):
        nonlocal back, most
        back += 1
        most = max(most, drawn - back)

    with LocalExecutor(2) as executor:
        assert executor.run(lazy_tasks(), on_record, planned=24, chunk=1) == 24
        # never more tasks taken from the stream than the chunks allowed in flight
        assert 0 < most <= executor.max_in_flight == 4
    with pytest.raises(ValueError, match="between 1 and 64"):
        LocalExecutor(0)


def test_forkserver_and_spawned_workers_give_identical_results(reference, tmp_path,
                                                               monkeypatch):
    import experiments.engine.executors.local as local

    for method in ("forkserver", "spawn"):
        monkeypatch.setattr(local, "start_method", lambda m=method: m)
        with LocalExecutor(2) as executor:
            assert executor.start_method == method
            run_sweep(parse_spec(SPEC), tmp_path / method, executor=executor)
        runs, series = results(tmp_path / method)
        pd.testing.assert_frame_equal(runs, reference[0])
        pd.testing.assert_frame_equal(series, reference[1])


def test_an_unreachable_scheduler_is_exit_2_and_writes_nothing(tmp_path, monkeypatch):
    import experiments.engine.executors.dask as dask_backend
    from tests.experiments.exp_helpers import run_cli, write_spec

    monkeypatch.setattr(dask_backend, "CONNECT_TIMEOUT", 0.5)
    spec = write_spec(tmp_path / "s.yaml", SPEC)
    result = run_cli("sweep", str(spec), "--scheduler", "tcp://127.0.0.1:1", "--out",
                     str(tmp_path / "out"), "-q")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: cannot reach the Dask scheduler at tcp://127.0.0.1:1")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
