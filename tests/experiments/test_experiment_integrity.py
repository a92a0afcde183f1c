"""Damaged parts: found on opening and on reading, their runs re-run, no run stored twice."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from experiments.sweeps.spec import parse_spec
from experiments.sweeps.store import StoreError, read_runs, read_series
from experiments.sweeps.sweep import run_sweep
from tests.experiments.exp_helpers import run_cli, write_spec

RUNS = 20
STEPS = 4


def spec_data(seed: int = 5) -> dict[str, object]:
    return {"name": "parts", "model": "tests.experiments.exp_helpers:toy_with_series",
            "steps": STEPS, "conditions": {"x": {"levels": [i / 10 for i in range(RUNS)]}},
            "seed": seed, "outputs": {"series": True, "columns": ["v"]}}


def fresh(out: Path) -> None:
    result = run_sweep(parse_spec(spec_data()), out, workers=1, flush_every=6)
    assert result.finished and result.completed == RUNS


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def empty(path: Path) -> None:
    path.write_bytes(b"")


def delete(path: Path) -> None:
    path.unlink()


DAMAGE: dict[str, Callable[[Path], None]] = {"byte-flipped": flip_a_byte,
                                             "truncated": truncate, "emptied": empty,
                                             "deleted": delete}


def assert_whole(out: Path) -> None:
    runs, series = read_runs(out), read_series(out)
    assert sorted(runs["run_id"]) == list(range(RUNS))  # every run, once
    assert not series.duplicated(["run_id", "step"]).any()
    assert sorted(set(series["run_id"])) == list(range(RUNS))
    expected = runs.set_index("run_id")["x"]
    assert (series["v"] == series["run_id"].map(expected) * series["step"]).all()


@pytest.mark.parametrize("kind", ["runs", "series"])
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_part_is_reported_then_its_runs_run_again(tmp_path, kind, damage):
    out = tmp_path / "out"
    fresh(out)
    part = out / kind / "part-000001.parquet"
    DAMAGE[damage](part)
    reader = read_runs if kind == "runs" else read_series
    with pytest.raises(StoreError, match="damaged part"):  # reading never trusts it
        reader(out)
    analyzed = run_cli("analyze", str(out))
    assert analyzed.exit_code == 2 and "Traceback" not in analyzed.output
    notices: list[str] = []
    again = run_sweep(parse_spec(spec_data()), out, workers=1, notice=notices.append)
    assert again.finished and again.ran_now == 6  # the six runs of part 1, nothing else
    assert len(notices) == 1 and "part 1" in notices[0]
    assert_whole(out)


def test_the_cli_reports_a_repair_in_one_line_and_exits_0(tmp_path):
    out = tmp_path / "out"
    fresh(out)
    flip_a_byte(out / "runs" / "part-000002.parquet")
    spec = write_spec(tmp_path / "s.yaml", spec_data())
    result = run_cli("sweep", str(spec), "--out", str(out), "-q")
    assert result.exit_code == 0, result.output
    assert "part 2: runs part does not match its checksum" in result.stderr
    assert_whole(out)


def test_a_run_is_never_stored_twice_even_if_handed_back_twice(tmp_path):
    from experiments.engine.runner import run_task
    from experiments.sweeps.store import Store
    from experiments.sweeps.sweep import identity, make_plan

    out = tmp_path / "out"
    spec = parse_spec(spec_data())
    run_sweep(spec, out, workers=1, flush_every=3, max_runs=5)
    store = Store(out, spec, identity=identity(spec, 5))
    store.open()
    plan = make_plan(spec, max_runs=5)
    store.add(run_task(next(iter(plan.tasks()))))  # its first run again
    store.close()
    assert sorted(read_runs(out)["run_id"]) == list(plan.run_ids)


@pytest.mark.parametrize("change", [{"seed": 6}, {"steps": STEPS + 1}])
def test_resuming_under_another_spec_or_seed_is_refused_without_the_manifest(tmp_path, change):
    out = tmp_path / "out"
    fresh(out)
    (out / "manifest.json").unlink()
    other = parse_spec({**spec_data(), **change})
    with pytest.raises(StoreError, match="holds another experiment"):
        run_sweep(other, out, workers=1)
    same = run_sweep(parse_spec(spec_data()), out, workers=1)  # the same spec resumes
    assert same.finished and same.ran_now == 0
    assert_whole(out)


def test_a_folder_begun_under_another_seed_rule_is_refused(tmp_path, monkeypatch):
    # A folder started by a program that derived seeds (or chose --max-runs runs) otherwise
    # would give its remaining runs other seeds: it is refused, not silently mixed.
    import experiments.sweeps.sweep as sweep

    out = tmp_path / "out"
    monkeypatch.setattr(sweep, "SEED_RULE", "an older rule")
    run_sweep(parse_spec(spec_data()), out, workers=1, max_runs=5)
    monkeypatch.undo()
    with pytest.raises(StoreError, match="holds another experiment"):
        run_sweep(parse_spec(spec_data()), out, workers=1, max_runs=5)


def test_a_deleted_commit_record_makes_analyze_refuse_the_store_in_one_line(tmp_path):
    out = tmp_path / "out"
    fresh(out)
    (out / ".commits" / "1").unlink()
    analyzed = run_cli("analyze", str(out), "--out", str(tmp_path / "refused"),
                       "--outcome", "y")
    assert analyzed.exit_code == 2 and "Traceback" not in analyzed.output
    assert not (tmp_path / "refused").exists()
    said = analyzed.stderr.strip()
    assert len(said.splitlines()) == 1
    assert "incomplete" in said and "part-000001.parquet has no commit record" in said
    assert "--allow-incomplete" in said
    report = tmp_path / "report"
    allowed = run_cli("analyze", str(out), "--allow-incomplete", "--out", str(report),
                      "--outcome", "y")
    assert allowed.exit_code == 0, allowed.output
    assert "incomplete: " in allowed.stderr and "report: " in allowed.stdout


def test_a_deleted_commit_record_is_said_when_the_sweep_runs_its_runs_again(tmp_path):
    out = tmp_path / "out"
    fresh(out)
    (out / ".commits" / "1").unlink()
    notices: list[str] = []
    again = run_sweep(parse_spec(spec_data()), out, workers=1, notice=notices.append)
    assert again.finished and again.ran_now == 6  # the six runs of part 1, nothing else
    assert len(notices) == 1 and "part 1: no commit record" in notices[0]
    assert_whole(out)
    analyzed = run_cli("analyze", str(out), "--out", str(tmp_path / "r"), "--outcome", "y")
    assert analyzed.exit_code == 0, analyzed.output


def test_analyze_refuses_a_sweep_stopped_before_every_planned_run(tmp_path):
    out = tmp_path / "out"
    fresh(out)
    manifest = out / "manifest.json"
    manifest.write_text(manifest.read_text().replace(f'"planned": {RUNS}',
                                                     f'"planned": {RUNS + 4}'))
    analyzed = run_cli("analyze", str(out), "--out", str(tmp_path / "r"), "--outcome", "y")
    assert analyzed.exit_code == 2 and f"{RUNS} of {RUNS + 4} planned runs" in analyzed.stderr


@pytest.mark.parametrize("kind", ["series", "runs", ".commits"])
def test_a_symlinked_part_folder_is_refused_and_nothing_is_written_through_it(tmp_path, kind):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    fresh(out)
    (out / ".commits" / "1").unlink()  # so that the next sweep has runs to write again
    elsewhere.mkdir()
    (elsewhere / "theirs.txt").write_text("not the sweep's")
    folder = out / kind
    for path in folder.iterdir():
        path.rename(elsewhere / path.name)
    folder.rmdir()
    folder.symlink_to(elsewhere, target_is_directory=True)
    before = sorted(p.name for p in elsewhere.iterdir())
    again = run_cli("sweep", str(write_spec(tmp_path / "t.yaml", spec_data())), "--out",
                    str(out), "-q")
    assert sorted(p.name for p in elsewhere.iterdir()) == before  # nothing written there
    assert again.exit_code == 2 and "symbolic link" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    spec = write_spec(tmp_path / "s.yaml", {**spec_data(), "replications": 2})
    other = run_cli("sweep", str(spec), "--out", str(out), "-q")
    assert other.exit_code == 2 and "symbolic link" in other.stderr
    analyzed = run_cli("analyze", str(out))
    assert analyzed.exit_code == 2 and "symbolic link" in analyzed.stderr
