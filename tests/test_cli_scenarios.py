"""``outsidein scenarios / validate / run / compare``: good input works, bad input is one line.

Every class of bad scenario file gives exit code 2, one line on stderr naming the field (or
the file's problem), no traceback, and nothing written.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulation.cli import main
from simulation.scenario import scenario_names
from simulation.scenario_files import load_scenario

GOOD = """\
title: Tiny
description: A tiny market for command-line tests.
teaches: How the command line works.
questions: ["Does it run?"]
steps: 12
seed: 2
market: {customers: 100}
firms: [{name: Focal}, {name: Rival, structure: outside_in}]
timeline: [{step: 4, event: shock}]
"""

BAD: dict[str, tuple[str | bytes, str]] = {
    # class: (file content, what the one line must contain)
    "unknown key": (GOOD + "choice: {loyalty: 1, switchrate: 0.2}\n",
                    "choice.switchrate: unknown field; did you mean 'switch_rate'?"),
    "wrong type": (GOOD.replace("customers: 100", "customers: many"),
                   "market.customers: 'many' is text; expected a whole number in [50, 2e+06]"),
    "out of range": (GOOD.replace("customers: 100", "customers: 10"),
                     "market.customers: 10 is outside [50, 2e+06]"),
    "nan": (GOOD + "money: {unit_cost: .nan}\n", "money.unit_cost: nan is not a finite number"),
    "empty": ("", "is empty"),
    "yaml syntax": (GOOD + "market: {customers: 100\n", "is not valid YAML"),
    "binary": (bytes(range(256)) * 4, "binary file"),
    "absurd size": (GOOD + "# padding\n" * 40_000, "a scenario file is at most"),
    "missing extends": ("extends: no-such-scenario\n" + GOOD, "extends: 'no-such-scenario'"),
    "circular extends": ("extends: bad\n" + GOOD, "extends: circular extends"),
}


def write(tmp_path: Path, content: str | bytes, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


@pytest.mark.parametrize("command", ["validate", "run", "compare"])
@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_scenario_is_one_line_and_exit_2(kind: str, command: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    content, expected = BAD[kind]
    path = write(tmp_path, content)
    monkeypatch.chdir(tmp_path)
    before = files_under(tmp_path)
    extra = {"validate": [], "run": ["--out", "out"],
             "compare": ["--reps", "2", "--out", "out", "--quiet"]}[command]
    code = main([command, str(path), *extra])
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ") and str(path) in lines[0]
    assert expected in lines[0]
    assert "Traceback" not in captured.err + captured.out
    assert files_under(tmp_path) == before  # nothing written


def test_line_numbers_are_given(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD + "money: {unit_cost: .nan}\n")
    assert main(["validate", str(path)]) == 2
    assert f"{path}:10: money.unit_cost" in capsys.readouterr().err


def test_validate_reports_each_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, GOOD, "good.yaml")
    bad = write(tmp_path, GOOD.replace("steps: 12", "steps: -1"), "bad.yaml")
    assert main(["validate", str(good)]) == 0
    assert f"ok  {good}  (Tiny)" in capsys.readouterr().out
    assert main(["validate", str(good), str(bad)]) == 2
    captured = capsys.readouterr()
    assert "ok  " in captured.out and captured.err.count("\n") == 1
    assert "steps: -1 is outside [1, 100000]" in captured.err


def test_validate_every_shipped_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    from simulation.scenario import SCENARIO_DIR

    files = sorted(str(p) for p in SCENARIO_DIR.glob("*.yaml"))
    assert main(["validate", *files]) == 0
    assert capsys.readouterr().out.count("ok  ") == len(files) >= 9


def test_scenarios_lists_names_and_titles(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    for name in scenario_names():
        assert name in out
    assert "Turbulent market" in out and "Freeze-up" in out


def test_scenarios_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "show", "freeze-up"]) == 0
    out = capsys.readouterr().out
    assert "title: Freeze-up" in out and "connections: 0.9" in out
    inherited = load_scenario("turbulent-market").market.turbulence
    assert f"turbulence: {inherited}" in out  # inherited from turbulent-market, resolved
    assert main(["scenarios", "show", "freeze-upp"]) == 2
    assert "did you mean 'freeze-up'" in capsys.readouterr().err


def test_run_a_scenario_by_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD, "tiny.yaml")
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "results.csv").is_file()
    assert "After 12 months" in capsys.readouterr().out


def test_compare_writes_the_handout(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    path = write(tmp_path, GOOD, "tiny.yaml")
    out = tmp_path / "handout"
    assert main(["compare", str(path), "--reps", "2", "--workers", "1", "--out", str(out),
                 "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "final share" in printed and "Inside-out" in printed
    assert {p.name for p in out.iterdir()} == {"tiny.html", "tiny.png", "tiny-runs.csv",
                                               "tiny-table.csv", "tiny-manifest.json"}
    first = (out / "tiny.html").read_bytes()
    assert main(["compare", str(path), "--reps", "2", "--workers", "1", "--out", str(out),
                 "--quiet"]) == 0
    assert (out / "tiny.html").read_bytes() == first  # same seed, same report


@pytest.mark.parametrize("args, expected", [
    (["--reps", "1"], "--reps"),
    (["--customers", "5"], "customers: 5 is outside [50, 2e+06]"),
    (["--steps", "0"], "--steps"),
])
def test_compare_bad_options(args: list[str], expected: str, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD, "tiny.yaml")
    assert main(["compare", str(path), "--out", str(tmp_path / "out"), *args]) == 2
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_compare_out_must_be_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD, "tiny.yaml")
    (tmp_path / "file").write_text("x")
    assert main(["compare", str(path), "--out", str(tmp_path / "file"), "--reps", "2"]) == 2
    assert "--out" in capsys.readouterr().err


def test_every_problem_of_a_file_is_its_own_error_line(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: Bad\ndescription: x\nteaches: y\nquestions: ['q?']\n"
                   "market: {customers: 100, turbulance: 0.1, shock_rate: 2}\n")
    assert main(["validate", str(bad)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) >= 2 and all(line.startswith(f"error: {bad}") for line in lines)
    assert any("turbulance" in line for line in lines)
    assert any("shock_rate" in line for line in lines)
