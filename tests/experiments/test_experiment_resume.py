"""A sweep killed part-way and restarted ends where an uninterrupted one does."""

import contextlib
import json
import signal
import subprocess
import time
from collections import Counter

import pandas as pd
import pyarrow.parquet as pq

from experiments.sweeps.spec import parse_spec
from experiments.sweeps.store import read_runs
from experiments.sweeps.sweep import run_sweep
from tests.experiments.exp_helpers import cli, cli_env, write_spec

RUNS = 60


def spec_data(log):
    return {"name": "resume", "model": "tests.experiments.exp_helpers:toy", "steps": 5,
            "base": {"sleep": 0.05, "log": str(log)},
            "conditions": {"x": {"levels": [i / 10 for i in range(RUNS // 2)]}},
            "replications": 2, "seed": 9}


def stored_ids(out):
    ids = set()
    for path in (out / "runs").glob("part-*.parquet"):
        ids.update(pq.read_table(path, columns=["run_id"]).column(0).to_pylist())
    journal = out / ".journal.jsonl"
    if journal.exists():
        for line in journal.read_text().splitlines():
            with contextlib.suppress(json.JSONDecodeError):  # a torn last line
                ids.add(json.loads(line)["run_id"])
    return ids


def test_a_killed_sweep_resumes_without_running_anything_twice(tmp_path):
    log = tmp_path / "executions.log"
    spec_path = write_spec(tmp_path / "resume.yaml", spec_data(log))
    out = tmp_path / "out"
    argv = cli("sweep", str(spec_path), "--out", str(out), "--workers", "1", "--quiet",
               "--allow-import", "--flush-every", "8")
    proc = subprocess.Popen(argv, cwd=tmp_path, env=cli_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list((out / "runs").glob("part-*"))) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    before = stored_ids(out)
    assert 16 <= len(before) < RUNS, "the kill should land part-way"

    rerun = subprocess.run(argv, cwd=tmp_path, env=cli_env(), capture_output=True, text=True,
                           timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{RUNS} completed, 0 failed, {RUNS} planned" in rerun.stdout

    resumed = read_runs(out)
    assert list(resumed["run_id"]) == list(range(RUNS))

    # nothing that was stored before the kill ran again; at most the runs in flight did
    executions = Counter(int(line) for line in log.read_text().split())
    seeds = dict(zip(resumed["run_id"], resumed["seed"], strict=True))
    assert all(executions[seeds[i]] == 1 for i in before)
    assert sum(n - 1 for n in executions.values()) <= 4  # one chunk in flight
    assert set(executions) == set(seeds.values())

    # and the final table equals an uninterrupted sweep's
    clean = tmp_path / "clean"
    quick = {**spec_data(tmp_path / "other.log"), "base": {}}  # same runs, no sleep, no log
    run_sweep(parse_spec(quick), clean, workers=1)
    columns = [c for c in resumed.columns if c != "duration_s"]
    pd.testing.assert_frame_equal(resumed[columns], read_runs(clean)[columns])

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["completed"] == RUNS and manifest["failed"] == 0


def test_rerunning_a_finished_sweep_runs_nothing(tmp_path):
    log = tmp_path / "executions.log"
    spec = parse_spec({**spec_data(log), "base": {"log": str(log)}})
    first = run_sweep(spec, tmp_path / "out", workers=1, flush_every=7)
    second = run_sweep(spec, tmp_path / "out", workers=1)
    assert (first.ran_now, second.ran_now, second.skipped) == (RUNS, 0, RUNS)
    assert len(log.read_text().split()) == RUNS
    assert len(list((tmp_path / "out" / "runs").glob("part-*.parquet"))) == 9


def test_a_journal_left_by_a_kill_is_replayed_and_a_torn_line_ignored(tmp_path):
    spec = parse_spec({**spec_data(tmp_path / "a.log"), "base": {}})
    out = tmp_path / "out"
    run_sweep(spec, out, workers=1, max_runs=RUNS)
    reference = read_runs(out)
    # simulate a kill after 10 runs were journaled but before any part was written
    journal_lines = []
    from experiments.engine.runner import Record
    from experiments.sweeps.store import _record_to_json

    for row in reference.head(10).itertuples():
        record = Record(row.run_id, row.sample_id, row.replication, row.seed, {"x": row.x},
                        ok=True, outcomes={"y": row.y, "positive": row.positive})
        journal_lines.append(json.dumps(_record_to_json(record)))
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "manifest.json").write_text((out / "manifest.json").read_text())
    (fresh / ".journal.jsonl").write_text("\n".join(journal_lines) + '\n{"run_id": 11, "sa')
    (fresh / "runs").mkdir()
    (fresh / "runs" / ".part-000000.parquet.tmp").write_bytes(b"half a file")
    result = run_sweep(spec, fresh, workers=1, max_runs=RUNS)
    assert (result.skipped, result.ran_now) == (10, RUNS - 10)
    columns = [c for c in reference.columns if c != "duration_s"]
    pd.testing.assert_frame_equal(read_runs(fresh)[columns], reference[columns])
    assert not (fresh / "runs" / ".part-000000.parquet.tmp").exists()
