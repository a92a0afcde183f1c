"""A corpus of bad specs, scenarios and options: each is one message, exit 2, nothing written.

The cases are what an attacker or an unlucky user tried: code named in a spec, files that
are not text or never end, nesting and numbers meant to exhaust the parser, grids too large
to draw, duplicate keys, typos. Every case must fail fast (well under 20 s), with one line
on stderr (for a file with one mistake), no traceback, and no output folder.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.experiments.exp_helpers import run_cli

GOOD_SPEC = {"name": "ok", "base": {"customers": 300}, "steps": 5,
             "conditions": {"turbulence": {"levels": [0.01, 0.05]}}}
GOOD_SCENARIO = ("title: Tiny\ndescription: d\nteaches: t\nquestions: [q]\nsteps: 5\n"
                 "market: {customers: 300}\nfirms:\n  - {name: Us, structure: inside_out}\n"
                 "  - {name: Them, structure: outside_in}\n")
LIMIT_SECONDS = 20.0


def spec_text(**changes: object) -> str:
    return yaml.safe_dump({**GOOD_SPEC, **changes}, sort_keys=False)


def alias_bomb(field: str) -> str:
    """The billion laughs: nine levels of nine aliases under one field."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{','.join(['*' + prev] * 9)}]")
    return "\n".join(lines) + f"\n{field}: *i\n"


def deep(prefix: str, depth: int = 5000) -> str:
    return prefix + "[" * depth + "]" * depth + "\n"


# name -> (file content, or a callable that makes the file and returns its path; message part)
SPECS: dict[str, tuple[bytes | str | Callable[[Path], Path], str]] = {
    "code: os.system": (spec_text(model="os:system"), "model: 'os:system' is not a registered"),
    "code: this (prints on import)": (spec_text(model="this:s"), "is not a registered"),
    "deep nesting": (deep("name: x\nbase: "), "nested too deeply"),
    "huge integer": ("name: x\nseed: " + "9" * 5000 + "\n", "whole number of 5,000 digits"),
    "big integer in range": (spec_text(seed=10**20), "seed: 100000000000000000000 is "
                             "outside"),
    "not UTF-8": (b"name: caf\xe9\nsteps: 5\n", "is not UTF-8 text"),
    "UTF-16": ("name: x\nsteps: 5\n".encode("utf-16"), "is UTF-16 text"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00", "is a binary file"),
    "dev zero": (lambda tmp: Path("/dev/zero"), "is not a regular file"),
    "FIFO": (lambda tmp: _fifo(tmp / "pipe.yaml"), "is not a regular file"),
    "folder": (lambda tmp: _folder(tmp / "dir.yaml"), "is not a regular file"),
    "missing": (lambda tmp: tmp / "missing.yaml", "cannot be read"),
    "too big": ("name: x\n" + "#" * 300_000 + "\n", "a spec file is at most"),
    "empty": ("# nothing\n", "is empty; a spec needs"),
    "not a mapping": ("- a\n- b\n", "must be a mapping"),
    "grid 7 x 1000 levels": (spec_text(model="experiments.sweeps.testfunctions:ishigami", base={},
                                       conditions={k: {"range": [0, 1], "points": 1000}
                                                   for k in "abcdefg"}),
                             "at most 1,000,000 runs per spec"),
    "absurd replications": (spec_text(replications=100_000, conditions={
        "turbulence": {"range": [0, 0.5], "points": 100}}), "at most 1,000,000 runs"),
    "alias bomb in base": (alias_bomb("base"), "too large or too deeply nested"),
    "duplicate key": ("name: x\nsteps: 5\nname: y\n", "name: is written twice"),
    "model module missing": (spec_text(model="no_such_module:run"), "is not a registered"),
    "name '..'": (spec_text(name=".."), "name: '..' is not a name"),
    "name '.'": (spec_text(name="."), "name: '.' is not a name"),
    "typo in a field": (spec_text(replicatons=2), "unknown field; did you mean "
                        "'replications'?"),
    "typo in a parameter": (spec_text(conditions={"turbulance": {"levels": [0.1]}}),
                            "did you mean 'turbulence'?"),
    "invalid YAML": ("name: [unclosed\n", "is not valid YAML"),
}

SCENARIOS: dict[str, tuple[bytes | str | Callable[[Path], Path], str]] = {
    "integer over 4,300 digits": (GOOD_SCENARIO + "seed: " + "7" * 5000 + "\n",
                                  "seed: a whole number of 5,000 digits is too large"),
    "deep nesting": (deep(GOOD_SCENARIO + "extra: "), "nested too deeply"),
    "not UTF-8": (GOOD_SCENARIO.encode() + b"# caf\xe9\n", "is not UTF-8 text"),
    "UTF-16": (GOOD_SCENARIO.encode("utf-16"), "is UTF-16 text"),
    "dev zero": (lambda tmp: Path("/dev/zero"), "is not a regular file"),
    "FIFO": (lambda tmp: _fifo(tmp / "pipe.yaml"), "is not a regular file"),
    "alias bomb": (alias_bomb("questions"), "too large or too deeply nested"),
    "duplicate key": (GOOD_SCENARIO + "steps: 6\n", "steps: is written twice"),
    "typo": (GOOD_SCENARIO + "stpes: 6\n", "did you mean 'steps'?"),
}


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


def _make(tmp_path: Path, content: bytes | str | Callable[[Path], Path]) -> Path:
    if callable(content):
        return content(tmp_path)
    path = tmp_path / "input.yaml"
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    return path


def _check(result: object, started: float, expected: str, out: Path) -> None:
    elapsed = time.monotonic() - started
    code, stderr, stdout = (getattr(result, k) for k in ("exit_code", "stderr", "stdout"))
    assert code == 2, (code, stderr, stdout)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ") and expected in lines[0], lines[0]
    assert "Traceback" not in stderr + stdout
    assert "The Zen of Python" not in stdout  # `this` was never imported
    assert not out.exists()
    assert elapsed < LIMIT_SECONDS, f"took {elapsed:.1f} s"


@pytest.mark.parametrize("case", list(SPECS))
def test_a_bad_spec_is_one_line_exit_2_nothing_written(case: str, tmp_path: Path) -> None:
    content, expected = SPECS[case]
    path = _make(tmp_path, content)
    out = tmp_path / "out"
    imported = "this" in sys.modules
    started = time.monotonic()
    result = run_cli("sweep", str(path), "--out", str(out), "-q")
    _check(result, started, expected, out)
    assert ("this" in sys.modules) == imported
    dry = run_cli("sweep", str(path), "--dry-run")  # --dry-run checks as much
    assert dry.exit_code == 2 and expected in dry.stderr


@pytest.mark.parametrize("case", list(SCENARIOS))
@pytest.mark.parametrize("command", ["run", "compare", "validate"])
def test_a_bad_scenario_is_one_line_exit_2_nothing_written(case: str, command: str,
                                                           tmp_path: Path) -> None:
    content, expected = SCENARIOS[case]
    path = _make(tmp_path, content)
    out = tmp_path / "out"
    argv = [command, str(path)] + ([] if command == "validate" else
                                   ["--out", str(out)])
    started = time.monotonic()
    _check(run_cli(*argv), started, expected, out)


def test_the_app_refuses_a_scenario_with_a_huge_integer_in_one_line(tmp_path: Path) -> None:
    path = _make(tmp_path, SCENARIOS["integer over 4,300 digits"][0])
    result = run_cli("app", str(path), "--port", "65000")
    assert result.exit_code == 2
    assert "whole number of 5,000 digits" in result.stderr
    assert "Traceback" not in result.output


def test_every_mistake_of_a_spec_is_reported_in_one_pass_in_line_order(tmp_path: Path) -> None:
    path = tmp_path / "many.yaml"
    path.write_text("name: many\nstpes: 5\nreplications: 0\nconditions:\n"
                    "  turbulence: {levels: [0.1], pionts: 3}\ndesign: {kind: latin}\n"
                    "seed: -1\n", encoding="utf-8")
    result = run_cli("sweep", str(path), "--dry-run")
    assert result.exit_code == 2
    lines = [ln.removeprefix("error: ") for ln in result.stderr.strip().splitlines()]
    assert len(lines) == 5, result.stderr
    numbers = [int(line.split(":")[1]) for line in lines]
    assert numbers == sorted(numbers) == [2, 3, 5, 6, 7]
    assert "did you mean 'steps'?" in lines[0] and "did you mean 'points'?" in lines[2]


def test_every_mistake_of_a_scenario_is_reported_in_one_pass_in_line_order(
        tmp_path: Path) -> None:
    text = GOOD_SCENARIO.replace("steps: 5", "steps: 0").replace(
        "market: {customers: 300}", "market: {customers: 3, turbulence: 9}") + \
        "colour: red\nmoney: {cash: x}\n"
    path = tmp_path / "many.yaml"
    path.write_text(text, encoding="utf-8")
    result = run_cli("validate", str(path))
    assert result.exit_code == 2
    lines = [ln.removeprefix("error: ") for ln in result.stderr.strip().splitlines()]
    assert len(lines) >= 4, result.stderr
    assert all(ln.startswith(f"{path}:") for ln in lines)
    numbers = [int(ln.split(":")[1]) for ln in lines]
    assert numbers == sorted(numbers)


@pytest.mark.parametrize(("argv", "expected"), [
    (["sweep", "{spec}", "--steps", "1000000000", "--dry-run"], "--steps"),
    (["sweep", "{spec}", "--workers", "1000"], "--workers"),
    (["sweep", "{spec}", "--scheduler", "garbage"], "is not a scheduler address"),
    (["sweep", "{spec}", "--out", ""], "give a folder name"),
    (["sweep", "{spec}", "--out", "{file}/sub"], "cannot write to"),
    (["sweep", "{spec}", "--out", "{file}"], "is not a folder"),
    (["run", "--out", ""], "give a folder name"),
    (["run", "--out", "{file}/sub"], "cannot write to"),
    (["compare", "--out", ""], "give a folder name"),
    (["compare", "--out", "{file}/sub", "--reps", "2"], "cannot write to"),
    (["compare", "--workers", "1000"], "--workers"),
    (["compare", "--customers", "100000000"], "customers"),
])
def test_a_bad_option_is_one_line_exit_2_nothing_written(argv: list[str], expected: str,
                                                         tmp_path: Path) -> None:
    spec = tmp_path / "good.yaml"
    spec.write_text(spec_text(), encoding="utf-8")
    afile = tmp_path / "afile"
    afile.write_text("not a folder\n", encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    started = time.monotonic()
    result = run_cli(*[a.format(spec=spec, file=afile) for a in argv])
    assert time.monotonic() - started < LIMIT_SECONDS
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert afile.read_text(encoding="utf-8") == "not a folder\n"


def test_a_read_only_out_is_one_line_exit_2(read_only_folder: Path, tmp_path: Path) -> None:
    spec = tmp_path / "good.yaml"
    spec.write_text(spec_text(), encoding="utf-8")
    for argv in (["sweep", str(spec), "-q", "-w", "1"], ["run"], ["compare", "--reps", "2"]):
        result = run_cli(*argv, "--out", str(read_only_folder / "out"))
        assert result.exit_code == 2, result.output
        assert "cannot write to" in result.stderr and "Read-only" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
