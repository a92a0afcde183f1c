"""The experiment tests' own model functions, registered so that their specs may name them.

A spec may name only registered model functions (a spec is data and imports no code); the
toy functions in ``exp_helpers`` are registered here, as a project registers its own.
"""

from __future__ import annotations

from experiments.sweeps.spec import register_model

HELPER_MODELS = ("toy", "fragile", "toy_with_series", "killer")

for _name in HELPER_MODELS:
    register_model(f"tests.experiments.exp_helpers:{_name}")


# --- folders that cannot be written ----------------------------------------------------------

import contextlib  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402


@contextlib.contextmanager
def mounted_tmpfs(where: Path, options: str) -> Iterator[Path]:
    """Mount a tmpfs at ``where`` (as root); fail loudly, never skip, if that is impossible."""
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs ({options}) at {where}: {done.stderr.strip()}; "
                    "these tests need root (or run them in a container as root)")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder nothing can be written into, not even by root: a read-only tmpfs."""
    if os.geteuid() != 0:  # permissions bind an ordinary user
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    with mounted_tmpfs(tmp_path / "ro", "ro,size=64k") as folder:
        yield folder


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 512 KB file system, to fill up."""
    if os.geteuid() != 0:
        pytest.fail("the full-disk test mounts a small tmpfs and needs root")
    with mounted_tmpfs(tmp_path / "disk", "size=512k") as folder:
        yield folder
