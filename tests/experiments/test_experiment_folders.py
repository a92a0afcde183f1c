"""Output folders: one writer at a time, and never a file the program did not write deleted."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from experiments.engine.outdir import LOCK_NAME, FolderBusyError, FolderLock
from experiments.sweeps.spec import SpecError, parse_spec
from experiments.sweeps.store import StoreError, read_runs
from experiments.sweeps.sweep import run_sweep
from tests.experiments.exp_helpers import cli, cli_env, run_cli, write_spec

RUNS = 24


def slow_spec(name: str = "busy", sleep: float = 0.05) -> dict[str, object]:
    return {"name": name, "model": "tests.experiments.exp_helpers:toy", "steps": 5,
            "base": {"sleep": sleep},
            "conditions": {"x": {"levels": [i / 10 for i in range(RUNS // 2)]}},
            "replications": 2, "seed": 3}


def stored_run_ids(out: Path) -> list[int]:
    ids: list[int] = []
    for path in sorted((out / "runs").glob("part-*.parquet")):
        ids += pq.read_table(path, columns=["run_id"]).column(0).to_pylist()
    return ids


def test_a_second_sweep_on_a_held_folder_is_refused_and_the_first_is_whole(tmp_path):
    spec = write_spec(tmp_path / "s.yaml", slow_spec(sleep=0.3))  # about 7 s in all
    out = tmp_path / "out"
    argv = cli("sweep", str(spec), "--out", str(out), "-q", "-w", "1", "--allow-import",
               "--flush-every", "4")
    first = subprocess.Popen(argv, env=cli_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (out / "manifest.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    second = subprocess.run(argv, env=cli_env(), capture_output=True, text=True, timeout=120)
    assert first.poll() is None, "the first sweep should still be running"
    stdout, stderr = first.communicate(timeout=120)
    assert first.returncode == 0, stderr
    assert second.returncode == 2, second.stderr
    assert "is being written by another command" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1
    ids = stored_run_ids(out)
    assert sorted(ids) == list(range(RUNS))  # none missing, none twice
    assert not (out / LOCK_NAME).exists()


def test_wait_queues_a_second_sweep_behind_the_first(tmp_path):
    spec = write_spec(tmp_path / "s.yaml", slow_spec(sleep=0.2))
    out = tmp_path / "out"
    argv = cli("sweep", str(spec), "--out", str(out), "-q", "-w", "1", "--allow-import")
    first = subprocess.Popen(argv, env=cli_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (out / "manifest.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    second = subprocess.Popen([*argv, "--wait"], env=cli_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    assert first.poll() is None and second.poll() is None  # the second one is waiting
    first.communicate(timeout=120)
    stdout, stderr = second.communicate(timeout=120)
    assert first.returncode == 0 and second.returncode == 0, stderr
    assert f"{RUNS} already done" in stdout  # it waited, then found the work done
    assert sorted(stored_run_ids(out)) == list(range(RUNS))


def test_a_held_lock_refuses_run_and_compare_too(tmp_path):
    out = tmp_path / "out"
    with FolderLock(out):
        for argv in (["run", "--steps", "2"], ["compare", "--reps", "2", "--steps", "2"]):
            result = run_cli(*argv, "--out", str(out))
            assert result.exit_code == 2, result.output
            assert "is being written by another command" in result.stderr
        with pytest.raises(FolderBusyError):
            FolderLock(out).acquire()
    assert not out.exists()  # created for the lock, left empty: removed again


def test_a_sweep_refuses_a_folder_that_holds_other_files(tmp_path):
    out = tmp_path / "thesis"
    (out / "runs").mkdir(parents=True)
    own = {out / "chapter1.tex": "my work", out / "runs" / "notes.txt": "keep",
           out / "runs" / "part-000000.parquet": "not a sweep's part"}
    for path, text in own.items():
        path.write_text(text, encoding="utf-8")
    spec = parse_spec(slow_spec(sleep=0))
    with pytest.raises(StoreError, match="is not empty .* holds no sweep"):
        run_sweep(spec, out, workers=1)
    result = run_cli("sweep", str(write_spec(tmp_path / "s.yaml", slow_spec(sleep=0))),
                     "--out", str(out), "-q")
    assert result.exit_code == 2 and "holds no sweep" in result.stderr
    assert {p: p.read_text(encoding="utf-8") for p in own} == own
    assert sorted(p.name for p in out.iterdir()) == ["chapter1.tex", "runs"]


def test_a_sweep_never_deletes_a_file_it_did_not_write_inside_its_own_folder(tmp_path):
    out = tmp_path / "out"
    spec = parse_spec(slow_spec(sleep=0))
    run_sweep(spec, out, workers=1, flush_every=5)
    strangers = [out / "runs" / "notes.txt", out / "series" / "part-1.parquet",
                 out / "failed" / "README"]
    for path in strangers:
        path.parent.mkdir(exist_ok=True)
        path.write_text("mine", encoding="utf-8")
    again = run_sweep(spec, out, workers=1, retry_failed=True)
    assert again.finished and again.ran_now == 0
    assert all(p.read_text(encoding="utf-8") == "mine" for p in strangers)
    assert sorted(read_runs(out)["run_id"]) == list(range(RUNS))  # strangers not read


@pytest.mark.parametrize("name", [".", ".."])
def test_spec_names_that_are_not_folder_names_are_refused(name):
    with pytest.raises(SpecError, match="is not a name"):
        parse_spec(slow_spec(name=name))
