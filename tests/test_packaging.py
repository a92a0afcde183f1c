"""The wheel works away from the checkout: built, installed in a new venv, run elsewhere.

The wheel is built offline (the pinned build backend is in the test environment) and installed
with ``--no-deps --no-index`` into a new virtual environment. Its dependencies are not
downloaded again: the new environment sees, through a path file, exactly the distributions the
wheel's requirements lead to (followed through extras and markers) as the test environment
holds them, installed from ``constraints.txt``; nothing else. So a package that is needed but
not declared (Mesa imports networkx without declaring it) fails here as it would after a
``pip install``, with no network and in seconds; ``pip check`` proves the pins agree. Every
command runs from a folder outside the checkout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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


def _closure(requirements: list[str]) -> list[metadata.Distribution]:
    """The installed distributions ``requirements`` need, following extras and markers."""
    found: dict[str, tuple[metadata.Distribution, set[str]]] = {}
    todo = [Requirement(text) for text in requirements]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        dist, extras = found.get(name, (None, set()))
        if dist is not None and set(requirement.extras) <= extras:
            continue
        dist = dist or metadata.distribution(requirement.name)
        extras = extras | set(requirement.extras)
        found[name] = (dist, extras)
        for text in dist.requires or []:
            needed = Requirement(text)
            if needed.marker is None or any(needed.marker.evaluate({"extra": extra})
                                            for extra in ("", *extras)):
                todo.append(needed)
    return [dist for dist, _ in found.values()]


def _requires(wheel: Path) -> list[str]:
    """The wheel's own requirements (no extras)."""
    name = f"outside_in-{__version__}.dist-info/METADATA"
    message = Parser().parsestr(zipfile.ZipFile(wheel).read(name).decode())
    return [text for text in message.get_all("Requires-Dist") or []
            if Requirement(text).marker is None]


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with the wheel installed and exactly its dependencies."""
    place = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", place / "env"], cwd=place)
    python = place / "env" / "bin" / "python"
    deps = place / "deps"  # links to the needed distributions of the test environment
    deps.mkdir()
    for dist in _closure(_requires(wheel)):
        for top in {f.parts[0] for f in dist.files or []} - {"..", "__pycache__"}:
            target, link = Path(str(dist.locate_file(top))), deps / top
            if target.exists() and not link.exists() and not top.endswith(".pth"):
                link.symlink_to(target)
    purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                   cwd=place).stdout.strip()
    Path(purelib, "_dependencies.pth").write_text(f"{deps}\n")
    _run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
          "-c", ROOT / "constraints.txt", wheel], cwd=place)
    return place / "env"


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
                            ("experiments/specs/robust/*.yaml", None),
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

    shown = _run([bin_ / "outsidein", "scenarios", "show", "freeze-up"], cwd=here, env=env)
    assert "freeze" in shown.stdout.lower()
    _run([bin_ / "outsidein", "run", "freeze-up", "--steps", "6", "--out", "one"], cwd=here,
         env=env)
    assert (here / "one" / "manifest.json").is_file()
    picker = _run([bin_ / "python", "-c", "from simulation.viz.scenarios import "
                   "list_scenarios; print(' '.join(p.stem for p in list_scenarios()))"],
                  cwd=here, env=env).stdout.split()
    assert picker == sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))

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
