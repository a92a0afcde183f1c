"""The version is written once, printed by --version and recorded by every output."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
import yaml

from experiments.sweeps.spec import SpecError, load_spec
from simulation import __version__
from simulation.cli import main
from simulation.provenance import DIGEST_DIGITS, git_describe, results_digest, version_text
from simulation.shipped import shipped_folder, shipped_names

ROOT = Path(__file__).resolve().parents[1]


def test_the_version_is_a_release_number_and_the_changelog_names_it() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    headings = re.findall(r"^## (\S+)", (ROOT / "CHANGELOG.md").read_text(), re.MULTILINE)
    assert headings[0] == __version__


def test_version_prints_the_version_and_in_a_checkout_the_commit(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    printed = capsys.readouterr().out
    assert printed == f"outsidein {version_text()}\n"
    described = git_describe()  # the tests run in a git checkout
    assert described is not None and printed.endswith(f"{__version__} (git {described})\n")


def _versions_are_recorded(manifest: dict) -> None:
    versions = manifest["versions"]
    assert versions["outside-in"] == __version__
    assert versions["git"] == git_describe()
    assert versions["mesa"] == metadata.version("mesa")
    assert datetime.fromisoformat(manifest["created"]).tzinfo is not None


def test_run_writes_a_manifest_with_the_version(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["run", "--steps", "3", "--seed", "4", "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["command"], manifest["seed"], manifest["steps"]) == ("run", 4, 3)
    _versions_are_recorded(manifest)


def test_compare_writes_a_manifest_with_the_version(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["compare", "stable-market", "--reps", "2", "--steps", "6", "--customers",
                 "200", "--workers", "1", "--seed", "8", "--out", str(out), "-q"]) == 0
    manifest = json.loads((out / "stable-market-manifest.json").read_text())
    assert (manifest["command"], manifest["reps"], manifest["seed"]) == ("compare", 2, 8)
    _versions_are_recorded(manifest)


def test_sweep_writes_a_manifest_with_the_version(tmp_path: Path) -> None:
    spec = tmp_path / "toy.yaml"
    spec.write_text(yaml.safe_dump({
        "name": "toy", "model": "experiments.sweeps.testfunctions:ishigami", "steps": 2, "seed": 1,
        "base": {"x2": 0.0, "x3": 0.0}, "conditions": {"x1": {"levels": [0.0, 1.0]}}}))
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--workers", "1", "--out", str(out), "-q"]) == 0
    _versions_are_recorded(json.loads((out / "manifest.json").read_text()))


def test_shipped_files_come_from_the_checkout_here() -> None:
    assert shipped_folder("scenarios") == ROOT / "scenarios"
    assert shipped_folder("specs") == ROOT / "experiments" / "specs"
    assert shipped_names("specs") == sorted(p.stem for p in
                                            (ROOT / "experiments" / "specs").glob("*.yaml"))


def test_an_installed_copy_is_preferred(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    import simulation.shipped as resources

    installed = tmp_path / "simulation" / "_shipped" / "scenarios"
    installed.mkdir(parents=True)
    (installed / "only-here.yaml").write_text("title: x\n")
    monkeypatch.setattr(resources, "files", lambda package: tmp_path / package)
    assert resources.shipped_folder("scenarios") == installed
    assert resources.shipped_names("scenarios") == ["only-here"]


def test_a_shipped_spec_runs_by_name_and_a_wrong_name_lists_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_spec("crossover").name == "crossover"
    with pytest.raises(SpecError, match="crosover: no such file, nor a shipped spec.*"
                                        "crossover, lever_interactions, levers_sobol"):
        load_spec("crosover")
    with pytest.raises(SpecError, match="missing.yaml: cannot be read"):
        load_spec("missing.yaml")


def test_no_release_tag_is_newer_than_the_version() -> None:
    from packaging.version import Version

    tags = subprocess.run(["git", "tag", "--list", "v*"], cwd=ROOT, capture_output=True,
                          text=True, timeout=10, check=True).stdout.split()
    released = [Version(t[1:]) for t in tags if re.fullmatch(r"v\d+\.\d+\.\d+", t)]
    assert all(v <= Version(__version__) for v in released), (
        f"tag {max(released)} is newer than __version__ {__version__}")


def test_patterns_write_a_manifest_with_the_version(tmp_path: Path) -> None:
    out = tmp_path / "out"
    main(["patterns", "--only", "freeze_up", "--seeds", "2", "--steps", "12", "--workers",
          "1", "--out", str(out), "-q"])  # the verdict (exit 0 or 1) does not matter here
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["command"], manifest["steps"]) == ("patterns", 12)
    _versions_are_recorded(manifest)


def test_a_runs_digest_keeps_its_stated_digits_at_each_columns_scale() -> None:
    base = {"firm": np.array(["a", "b", "a"], dtype=object),
            "profit": np.array([812.25, -3.5e-11, np.nan]), "share": np.array([0.5, 0.25, 0.0])}
    same = results_digest(base)
    # a difference below the sixth digit of the column's largest figure does not count,
    # even where it is large against the figure itself (a profit crossing zero) ...
    assert results_digest({**base, "profit": np.array([812.25 + 4e-13, 2e-12, np.nan])}) == same
    # ... one at the sixth digit does, and so do a name, a NaN and the digits asked for
    assert results_digest({**base, "profit": np.array([812.26, -3.5e-11, np.nan])}) != same
    assert results_digest({**base, "firm": np.array(["a", "c", "a"], dtype=object)}) != same
    assert results_digest({**base, "profit": np.array([812.25, -3.5e-11, 0.0])}) != same
    assert results_digest(base, digits=DIGEST_DIGITS + 3) != same
    # NaN, +inf and -inf are three different things
    kinds = {results_digest({"x": np.array([1.0, v])}) for v in (np.nan, np.inf, -np.inf)}
    assert len(kinds) == 3


def test_run_records_its_results_digest(tmp_path: Path) -> None:
    from simulation.model import OrgModel

    assert main(["run", "--steps", "12", "--out", str(tmp_path)]) == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    model = OrgModel(rng=manifest["seed"]).run(12)
    assert manifest["results_digest"] == {"sha256": results_digest(model.columns()),
                                          "significant_digits": DIGEST_DIGITS}
