"""``outsidein patterns``: options reach the suite, mistakes are one line, runs are recorded."""

import base64
import fcntl

import pandas as pd
import pytest

import experiments.patterns.suite as suite
from experiments.engine.executors.local import LocalExecutor
from experiments.engine.outdir import LOCK_NAME as LOCK
from experiments.patterns.catalog import HEAD_TO_HEAD, Arm, Check, Pattern, at_least
from experiments.patterns.suite import run_suite
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
    assert set(summary["verdict"]) <= {"PASS", "FAIL", "ERROR", "INCONCLUSIVE"}
    assert summary["p_holm"].dropna().ge(summary["p_raw"].dropna()).all()
    assert set(summary["seeds"]) == {3}
    assert code == (0 if (summary["verdict"] == "PASS").all() else 1)
    assert "seed 001: freeze-up" in printed and "dose_response" in printed
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 3 * (5 + 2 * 2)          # seeds x (5 levels + 2 arms x 2 levels)
    page = (out / "patterns.html").read_text()
    svg = (out / "figures" / "dose_response.svg").read_bytes()
    assert len(svg) > 5_000
    assert page.count("data:image/svg+xml;base64,") == 2    # each figure drawn once
    assert base64.b64encode(svg).decode() in page
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
                                   at_least(0.01, "a test size")),))
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
                                  at_least(0.01, "a share of a market that has a "
                                           "firm in it")),))
    monkeypatch.setattr(suite, "PATTERNS", [alive])
    assert main(["patterns", "--out", str(tmp_path / "out"), *TINY]) == 0


def test_the_robustness_matrix_runs_end_to_end_and_writes_its_tables(tmp_path, capsys):
    out = tmp_path / "robust"
    code = main(["patterns", "--robustness", "--only", "quiet,anticipation",
                 "--variants", "departments 3,momentum 0.6", "--out", str(out), *TINY])
    printed = capsys.readouterr().out
    assert code == 0 and "departments 3" in printed
    long = pd.read_csv(out / "robustness.csv")
    assert set(long["variant"]) == {"as defined", "departments 3", "momentum 0.6"}
    assert set(long["pattern"]) == {"quiet", "anticipation"}
    assert set(long["verdict"]) <= {"PASS", "FAIL", "INCONCLUSIVE", "not applicable"}
    # anticipation compares momentum itself: the momentum variant does not apply to it
    cell = long[(long["pattern"] == "anticipation") & (long["variant"] == "momentum 0.6")]
    assert cell["verdict"].item() == "not applicable"
    wide = pd.read_csv(out / "robustness-matrix.csv", index_col=0)
    assert wide.shape == (2, 3)
    assert "| pattern | as defined |" in (out / "robustness.md").read_text()
    assert "<table>" in (out / "robustness.html").read_text()


def test_the_sensitivity_command_runs_end_to_end_and_writes_its_indices(tmp_path, capsys):
    out = tmp_path / "sens"
    code = main(["patterns", "--sensitivity", "--only", "quiet", "--samples", "2",
                 "--constants", "lever_cost,fixed_cost,loyalty", "--seeds", "2",
                 "--steps", "12", "--workers", "1", "--quiet", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and "decided mostly by" in printed
    indices = pd.read_csv(out / "sensitivity.csv")
    assert set(indices["constant"]) == {"lever_cost", "fixed_cost", "loyalty"}
    assert {"S1", "S1_conf", "ST", "ST_conf"} <= set(indices.columns)
    top = pd.read_csv(out / "decided-by.csv")
    assert top["pattern"].tolist() == ["quiet"]
    # samples x (D + 2) Sobol points, each on 2 seeds, through the sweep engine's store
    assert (out / "sweeps" / "quiet" / "manifest.json").exists()


def test_by_default_the_sensitivity_apportions_the_groups_of_constants(tmp_path, capsys):
    from experiments.patterns.catalog import PATTERNS, SENSITIVITY_GROUPS, behavioural_constants

    out = tmp_path / "sens"
    code = main(["patterns", "--sensitivity", "--only", "quiet", "--samples", "2",
                 "--seeds", "1", "--steps", "6", "--workers", "1", "--quiet",
                 "--out", str(out)])
    capsys.readouterr()
    assert code == 0
    indices = pd.read_csv(out / "sensitivity.csv")
    quiet = next(p for p in PATTERNS if p.name == "quiet")
    varied = set(behavioural_constants(quiet))
    groups = {g for g, members in SENSITIVITY_GROUPS.items() if varied & set(members)}
    assert set(indices["constant"]) == groups
    # each group's row lists the constants it moved, and together they are every one
    listed = {c.strip() for text in indices["members"] for c in text.split(",")}
    assert listed == varied
    # samples x (groups + 2) Sobol points on one seed each
    manifest = (out / "manifest.json").read_text()
    assert f'"runs": {2 * (len(groups) + 2)}' in manifest, manifest


def test_every_behavioural_constant_is_in_exactly_one_sensitivity_group():
    from experiments.patterns.catalog import PATTERNS, SENSITIVITY_GROUPS, behavioural_constants
    from simulation.params import PARAMETERS

    members = [c for group in SENSITIVITY_GROUPS.values() for c in group]
    assert len(members) == len(set(members))
    assert set(members) <= set(PARAMETERS)
    varied = {c for p in PATTERNS for c in behavioural_constants(p)}
    assert varied <= set(members), varied - set(members)


@pytest.mark.parametrize("args, word", [
    (["--seeds", "1"], "at least 2"),
    (["--robustness", "--variants", "bogus"], "bogus"),
    (["--sensitivity", "--constants", "lever_cost,no_such"], "no_such"),
    (["--sensitivity", "--samples", "3"], "power of 2"),
    (["--robustness", "--sensitivity"], "one of them")])
def test_bad_robustness_and_sensitivity_options_exit_2_and_write_nothing(tmp_path, capsys,
                                                                         args, word):
    out = tmp_path / "out"
    assert main(["patterns", "--only", "quiet", "--out", str(out), *args]) == 2
    _one_line_error(capsys, word)
    assert not out.exists()


def test_decided_by_names_only_constants_whose_total_index_is_told_from_a_small_one():
    from experiments.patterns.sensitivity import NONE_STANDS_OUT, decided_by

    indices = pd.DataFrame({"pattern": "p", "check": "c",
                            "constant": ["lever_cost", "fixed_cost", "loyalty"],
                            "S1": [0.5, 0.3, 0.0], "S1_conf": [0.1, 0.2, 0.01],
                            "ST": [0.6, 0.9, 0.001], "ST_conf": [0.1, 2.0, 0.0001]})
    text = decided_by(indices)["decided mostly by"].item()
    assert text.startswith("lever_cost") and "fixed_cost" not in text and "loyalty" not in text
    noisy = indices.assign(ST_conf=[1.0, 2.0, 0.0001])
    assert decided_by(noisy)["decided mostly by"].item() == NONE_STANDS_OUT
