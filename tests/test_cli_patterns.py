"""``outsidein patterns``: options reach the suite, mistakes are one line, runs are recorded."""

import fcntl

import pandas as pd
import pytest

import experiments.pattern_suite as suite
from experiments.executors.local import LocalExecutor
from experiments.outdir import LOCK_NAME as LOCK
from experiments.pattern_suite import run_suite
from experiments.patterns import HEAD_TO_HEAD, Arm, Check, Condition, Pattern, need
from simulation.cli import main

TINY = ["--steps", "24", "--seeds", "3", "--workers", "1", "--quiet"]


def _one_line_error(capsys, word):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and word in err and "Traceback" not in err


def test_an_unknown_pattern_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["patterns", "--only", "quiet,bogus", "--out", str(out), *TINY]) == 2
    _one_line_error(capsys, "bogus")
    assert not out.exists()


def test_an_out_that_is_a_file_exits_2_and_is_left_alone(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("keep me")
    assert main(["patterns", "--only", "quiet", "--out", str(target), *TINY]) == 2
    _one_line_error(capsys, "--out")
    assert target.read_text() == "keep me"


def test_an_out_under_a_file_exits_2(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("keep me")
    assert main(["patterns", "--only", "quiet", "--out", str(target / "sub"), *TINY]) == 2
    _one_line_error(capsys, "--out")


def test_a_folder_being_written_by_another_run_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    with (out / LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert main(["patterns", "--only", "quiet", "--out", str(out), *TINY]) == 2
    _one_line_error(capsys, "another command")


@pytest.mark.parametrize("args", [["--seeds", "1"], ["--steps", "0"], ["--workers", "0"],
                                  ["--workers", "100"],
                                  ["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"]])
def test_bad_options_exit_2(tmp_path, capsys, args):
    out = tmp_path / "out"
    assert main(["patterns", "--out", str(out), *args]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not out.exists()


def test_two_cheap_patterns_run_end_to_end_and_the_exit_code_follows_the_verdicts(
        tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code = main(["patterns", "--quick", "--only", "dose_response,freeze_up", "--out", str(out),
                 *TINY])
    printed = capsys.readouterr().out
    summary = pd.read_csv(out / "patterns.csv")
    assert set(summary["pattern"]) == {"dose_response", "freeze_up"}
    assert set(summary["verdict"]) <= {"PASS", "FAIL", "ERROR"}
    assert code == (0 if (summary["verdict"] == "PASS").all() else 1)
    assert "seed 001: freeze-up" in printed and "dose_response" in printed
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 3 * (5 + 2 * 2)          # seeds x (5 levels + 2 arms x 2 levels)
    page = (out / "patterns.html").read_text()
    assert page.count("data:image/png;base64,") == 2
    assert (out / "figures" / "dose_response.svg").stat().st_size > 5_000
    assert (out / "notes.txt").read_text() == "mine"      # files it did not write stay
    assert not (out / LOCK).exists()


def test_every_arm_of_a_pattern_runs_on_the_same_seeds(tmp_path):
    out = tmp_path / "out"
    main(["patterns", "--only", "freeze_up", "--out", str(out), *TINY])
    runs = pd.read_csv(out / "runs.csv")
    seeds = runs.groupby(["arm", "level"])["seed"].apply(tuple)
    assert seeds.nunique() == 1 and len(seeds) == 4


def test_the_root_seed_option_reaches_the_runs(tmp_path):
    for name, seed in (("a", "1"), ("b", "2")):
        main(["patterns", "--only", "freeze_up", "--seed", seed, "--out",
              str(tmp_path / name), *TINY])
    a, b = (pd.read_csv(tmp_path / n / "runs.csv") for n in ("a", "b"))
    assert set(a["seed"]).isdisjoint(b["seed"])


def test_a_pattern_whose_runs_raise_is_reported_as_failed_not_a_crash():
    broken = Pattern("broken", "Broken", "none", "runs raise",
                     arms=(Arm("a", {"no_such_keyword": 1}), Arm("b")),
                     checks=(Check("a - b", "difference", "f0_mean_share", ("a", "b"),
                                   need(Condition("lower", ">", 0))),))
    with LocalExecutor(1) as executor:
        result = run_suite([broken], executor, quick=True, root_seed=1, steps=2,
                           replications=2)
    assert result.failed == 2 and not result.passed
    assert result.results[0].status == "FAIL (error)"
    assert "no_such_keyword" in result.results[0].error


def test_exit_code_is_0_when_every_pattern_passes(tmp_path, monkeypatch):
    alive = Pattern("alive", "Alive", "none", "the focal firm's share is a share",
                    arms=(Arm("h2h", HEAD_TO_HEAD),),
                    checks=(Check("share", "mean", "f0_mean_share", ("h2h",),
                                  need(Condition("mean", ">=", 0.0))),))
    monkeypatch.setattr(suite, "PATTERNS", [alive])
    assert main(["patterns", "--out", str(tmp_path / "out"), *TINY]) == 0
