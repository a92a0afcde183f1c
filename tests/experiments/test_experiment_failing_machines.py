"""When the machine fails: a worker killed, a disk full, a cluster gone or empty.

Each leaves a folder that the same command resumes; each is one line on stderr.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from experiments.engine.executors.local import WORKER_DIED, LocalExecutor
from experiments.sweeps.spec import parse_spec
from experiments.sweeps.store import read_failed, read_manifest, read_runs, read_series
from experiments.sweeps.sweep import run_sweep
from tests.experiments.exp_helpers import run_cli, write_spec

RUNS = 12


def killer_spec() -> dict[str, object]:
    return {"name": "killer", "model": "tests.experiments.exp_helpers:killer", "steps": 3,
            "conditions": {"x": {"levels": [float(i) for i in range(RUNS)]}}, "seed": 1}


def test_a_killed_worker_is_a_failed_run_and_the_sweep_goes_on(tmp_path):
    out = tmp_path / "out"
    with LocalExecutor(2) as executor:
        result = run_sweep(parse_spec(killer_spec()), out, executor=executor)
    assert result.finished and result.completed == RUNS - 1 and result.failed == 1
    failed = read_failed(out)
    assert list(failed["x"]) == [2.0] and list(failed["error"]) == [WORKER_DIED]
    assert sorted(read_runs(out)["run_id"]) == [i for i in range(RUNS) if i != 2]
    again = run_sweep(parse_spec(killer_spec()), out, workers=1)  # nothing left to do
    assert again.ran_now == 0


def test_a_pool_that_breaks_between_chunks_loses_no_run(tmp_path):
    # A worker can die after its chunk came back and before the next is submitted: then the
    # submission itself raises. The chunk must run on a fresh pool like any other lost one.
    from concurrent.futures.process import BrokenProcessPool

    class BrokenPool:
        _broken = True

        def submit(self, *args, **kwargs):
            raise BrokenProcessPool("a worker died")

        def shutdown(self, *args, **kwargs):
            pass

    spec = {"name": "toy", "model": "tests.experiments.exp_helpers:toy", "steps": 3,
            "conditions": {"x": {"levels": [float(i) for i in range(RUNS)]}}, "seed": 1}
    with LocalExecutor(2) as executor:
        executor._pool.shutdown()
        executor._pool = BrokenPool()  # type: ignore[assignment]
        result = run_sweep(parse_spec(spec), tmp_path / "out", executor=executor)
    assert result.finished and result.completed == RUNS and result.failed == 0
    assert sorted(read_runs(tmp_path / "out")["run_id"]) == list(range(RUNS))


# --- a full disk -----------------------------------------------------------------------------

def series_spec(runs: int = 40) -> dict[str, object]:
    return {"name": "disk", "model": "tests.experiments.exp_helpers:toy_with_series",
            "steps": 200, "conditions": {"x": {"levels": [i / 7 for i in range(runs)]}},
            "seed": 2, "outputs": {"series": True, "columns": ["v"]}}


def assert_whole(out: Path, runs: int) -> None:
    assert sorted(read_runs(out)["run_id"]) == list(range(runs))
    series = read_series(out)
    assert not series.duplicated(["run_id", "step"]).any()
    assert series["run_id"].nunique() == runs


def test_a_full_disk_is_one_line_exit_1_and_the_sweep_resumes(small_disk, tmp_path):
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * 300_000)  # leaves about 200 KB of the 512 KB
    out = small_disk / "out"
    spec = write_spec(tmp_path / "s.yaml", series_spec())
    argv = ["sweep", str(spec), "--out", str(out), "-q", "-w", "1", "--flush-every", "4"]
    full = run_cli(*argv)
    assert full.exit_code == 1, full.output
    lines = full.stderr.strip().splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0], full.stderr
    assert "run the same command again to resume" in lines[0]
    assert "Traceback" not in full.output
    filler.unlink()
    resumed = run_cli(*argv)
    assert resumed.exit_code == 0, resumed.output
    assert read_manifest(out)["status"] == "complete"  # not left "running"
    assert_whole(out, 40)


def test_a_write_that_fails_with_enospc_anywhere_is_resumable(tmp_path, monkeypatch):
    # the same failure without a small file system: the third part cannot be written
    import experiments.sweeps.store as store

    real, calls = store.pq.write_table, {"n": 0}

    def failing(table, where, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError(errno.ENOSPC, "No space left on device", str(where))
        return real(table, where, *args, **kwargs)

    monkeypatch.setattr(store.pq, "write_table", failing)
    spec = write_spec(tmp_path / "s.yaml", series_spec(12))
    out = tmp_path / "out"
    argv = ["sweep", str(spec), "--out", str(out), "-q", "-w", "1", "--flush-every", "3"]
    full = run_cli(*argv)
    assert full.exit_code == 1 and "No space left on device" in full.stderr
    assert len(full.stderr.strip().splitlines()) == 1
    monkeypatch.setattr(store.pq, "write_table", real)
    resumed = run_cli(*argv)
    assert resumed.exit_code == 0, resumed.output
    assert not list(out.glob("*/.part-*.tmp"))  # temporary parts cleared on resume
    assert_whole(out, 12)
    for path in (out / "runs").glob("part-*.parquet"):
        pq.read_metadata(path)


# --- Dask ------------------------------------------------------------------------------------

def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(argv: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", *argv], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _wait_for_port(port: int, seconds: float = 30) -> None:
    import socket

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"the scheduler did not start on port {port}")


@pytest.fixture
def scheduler():
    port = _free_port()
    proc = _start(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port",
                   str(port), "--no-dashboard"])
    _wait_for_port(port)
    yield proc, f"tcp://127.0.0.1:{port}"
    proc.kill()
    proc.wait(timeout=30)


def test_a_scheduler_without_workers_times_out_with_a_message(scheduler, tmp_path, monkeypatch):
    import experiments.engine.executors.dask as dask_backend

    monkeypatch.setattr(dask_backend, "WORKERS_TIMEOUT", 2.0)
    _, address = scheduler
    spec = write_spec(tmp_path / "s.yaml", killer_spec())
    started = time.monotonic()
    result = run_cli("sweep", str(spec), "--scheduler", address, "--out",
                     str(tmp_path / "out"), "-q")
    assert time.monotonic() - started < 20
    assert result.exit_code == 2, result.output
    assert "has no workers (waited 2 s)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_scheduler_stopped_mid_sweep_is_one_line_exit_1_and_resumable(scheduler, tmp_path):
    proc, address = scheduler
    worker = _start(["distributed.cli.dask_worker", address, "--nthreads", "1",
                     "--nworkers", "1", "--no-dashboard"])
    try:
        data = {"name": "lost", "model": "tests.experiments.exp_helpers:toy", "steps": 3,
                "base": {"sleep": 0.1},
                "conditions": {"x": {"levels": [i / 10 for i in range(60)]}}, "seed": 4}
        spec = write_spec(tmp_path / "s.yaml", data)
        out = tmp_path / "out"
        argv = [sys.executable, "-m", "simulation.cli", "sweep", str(spec), "--scheduler",
                address, "--out", str(out), "-q", "--allow-import", "--flush-every", "4"]
        from tests.experiments.exp_helpers import cli_env

        sweep = subprocess.Popen(argv, env=cli_env(), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not list((out / "runs").glob("part-*")):
            time.sleep(0.1)
        proc.kill()
        _, stderr = sweep.communicate(timeout=120)
        assert sweep.returncode == 1, stderr
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and "lost the Dask scheduler" in lines[0], stderr
        assert "run the same command again to resume" in lines[0]
        done = len(read_runs(out))
        assert 0 < done < 60
        resumed = subprocess.run([a for a in argv if a not in ("--scheduler", address)]
                                 + ["-w", "1"], env=cli_env(), capture_output=True,
                                 text=True, timeout=120)
        assert resumed.returncode == 0, resumed.stderr
        assert f"({60 - done} run now, {done} already done)" in resumed.stdout
    finally:
        worker.kill()
        worker.wait(timeout=30)


def test_a_run_that_kills_its_dask_worker_is_a_failed_run(tmp_path):
    import dask
    import distributed

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                     dashboard_address=None, silence_logs=50) as cluster:
        data = {**killer_spec(), "conditions": {"x": {"levels": [1.0, 2.0, 3.0]}}}
        result = run_sweep(parse_spec(data), tmp_path / "out",
                           scheduler=cluster.scheduler_address)
    assert result.finished and result.failed >= 1
    failed = read_failed(tmp_path / "out")
    assert 2.0 in set(failed["x"]) and set(failed["error"]) == {WORKER_DIED}
    assert result.completed + result.failed == 3


@pytest.mark.parametrize("argv", [["run", "--steps", "3"],
                                  ["compare", "--reps", "2", "--steps", "3", "-q",
                                   "--workers", "1"]])
def test_a_full_disk_in_run_and_compare_is_one_line_exit_1(argv, tmp_path, monkeypatch):
    import pandas as pd

    def no_space(self, path, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(pd.DataFrame, "to_csv", no_space)
    result = run_cli(*argv, "--out", str(tmp_path / "out"))
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0], result.stderr
    assert "Traceback" not in result.output


def _children() -> dict[int, list[int]]:
    """Every process's children, by parent pid (from /proc)."""
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _descendants(pid: int) -> set[int]:
    tree, found, todo = _children(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended (it waits for its parent to reap it)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_workers_end_when_the_sweeps_process_alone_is_killed(tmp_path):
    from tests.experiments.exp_helpers import cli_env

    data = {"name": "orphans", "model": "tests.experiments.exp_helpers:toy", "steps": 3,
            "base": {"sleep": 60.0},
            "conditions": {"x": {"levels": [i / 10 for i in range(8)]}}, "seed": 4}
    spec = write_spec(tmp_path / "s.yaml", data)
    argv = [sys.executable, "-m", "simulation.cli", "sweep", str(spec), "--out",
            str(tmp_path / "out"), "-q", "--allow-import", "-w", "3"]
    sweep = subprocess.Popen(argv, env=cli_env(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(workers) < 4:  # the fork server + 3
            time.sleep(0.2)
            workers = _descendants(sweep.pid)
        assert len(workers) >= 4, "the sweep's workers did not start"
        time.sleep(1.0)  # every worker is inside a run (each sleeps 60 s)
        os.kill(sweep.pid, signal.SIGKILL)  # the sweep's process only, not its group
        sweep.wait(timeout=10)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(p) for p in workers):
            time.sleep(0.1)
        left = [p for p in workers if _alive(p)]
        assert left == [], f"{len(left)} worker process(es) outlived the sweep"
    finally:
        for pid in workers:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
