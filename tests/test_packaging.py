"""The wheel works away from the checkout: built, installed in a new venv, run elsewhere.

The wheel is built offline (the pinned build backend is in the test environment) and installed
with ``--no-deps --no-index`` into a new virtual environment, which sees the test environment's
packages (installed from ``constraints.txt``) through a path file, so the test needs no
network and takes seconds; ``pip check`` then proves the wheel's pinned requirements are what
that environment holds. That every imported package is declared is checked in
``test_dependencies.py``. Everything runs from a folder outside the checkout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from simulation import __version__

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120


def _run(args: list[str | Path], cwd: Path, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT, check=False)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index",
          "--no-build-isolation", "-w", dist, ROOT], cwd=dist)
    (found,) = dist.glob("outside_in-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with the wheel installed; its dependencies borrowed."""
    place = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", place], cwd=place)
    python = place / "bin" / "python"
    purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                   cwd=place).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(purelib, "_test_environment.pth").write_text("\n".join(sorted(ours)) + "\n")
    _run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
          "-c", ROOT / "constraints.txt", wheel], cwd=place)
    return place


@pytest.fixture
def elsewhere(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A working folder outside the checkout, and an environment that does not point into it."""
    assert not tmp_path.resolve().is_relative_to(ROOT)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return tmp_path, {**env, "COLUMNS": "80"}


def test_the_wheel_holds_every_module_scenario_and_spec_and_no_tests(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for pattern, inside in (("simulation/**/*.py", None), ("experiments/**/*.py", None),
                            ("experiments/specs/*.yaml", None),
                            ("scenarios/*.yaml", "simulation/_shipped/scenarios/")):
        files = sorted(ROOT.glob(pattern))
        assert files, pattern
        for path in files:
            name = (inside + path.name if inside else path.relative_to(ROOT).as_posix())
            assert name in names, f"{name} is not in the wheel"
    assert not any(n.startswith(("tests/", "benchmarks/", "scenarios/")) for n in names)
    metadata = zipfile.ZipFile(wheel).read(f"outside_in-{__version__}.dist-info/METADATA")
    assert f"\nVersion: {__version__}\n" in metadata.decode()


def test_the_installed_wheel_runs_every_command_on_the_shipped_files(
        venv: Path, elsewhere: tuple[Path, dict[str, str]]) -> None:
    here, env = elsewhere
    bin_ = venv / "bin"
    _run([bin_ / "python", "-m", "pip", "check"], cwd=here, env=env)
    where = _run([bin_ / "python", "-c", "import simulation; print(simulation.__file__)"],
                 cwd=here, env=env).stdout.strip()
    assert Path(where).is_relative_to(venv), f"imported from {where}, not the wheel"

    version = _run([bin_ / "outsidein", "--version"], cwd=here, env=env).stdout
    assert version == f"outsidein {__version__}\n"  # no git: an installed copy has none

    listing = _run([bin_ / "outsidein", "scenarios"], cwd=here, env=env).stdout
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        assert path.stem in listing

    dry = _run([bin_ / "outsidein", "sweep", "crossover", "--dry-run"], cwd=here, env=env)
    assert dry.stdout.startswith("crossover: ")

    _run([bin_ / "outsidein", "compare", "turbulent-market", "--reps", "2", "--steps", "12",
          "--customers", "300", "--workers", "1", "--out", "handout", "-q"], cwd=here, env=env)
    out = here / "handout"
    assert {p.name for p in out.iterdir()} >= {"turbulent-market.html",
                                               "turbulent-market-manifest.json"}
    manifest = json.loads((out / "turbulent-market-manifest.json").read_text())
    assert manifest["versions"]["outside-in"] == __version__
    assert manifest["versions"]["git"] is None
