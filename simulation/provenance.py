"""What made an output: the program's version and commit, the packages, the time.

Every output folder (``outsidein run``, ``compare``, ``sweep``, ``patterns``) records these
in its manifest, so a number in a handout or a paper can be traced back to the code that
made it.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

from simulation import __version__

PACKAGES = ("mesa", "numpy", "pandas", "pyarrow", "scipy", "SALib", "dask", "distributed",
            "ema_workbench", "pydantic")
"""The packages whose versions shape results, recorded in every manifest."""


def git_describe() -> str | None:
    """Where a checkout stands against the release tags (``v0.2.0-3-g1a2b3c4-dirty``).

    ``None`` for an installed package, or when git is not there to ask.
    """
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        done = subprocess.run(["git", "describe", "--tags", "--always", "--dirty"], cwd=root,
                              capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def version_text() -> str:
    """The version as ``outsidein --version`` prints it: ``0.2.0``, plus the commit if known."""
    described = git_describe()
    return __version__ if described is None else f"{__version__} (git {described})"


def software_versions() -> dict[str, str | None]:
    """The program's version and commit, Python's, and those of :data:`PACKAGES`."""
    versions: dict[str, str | None] = {"outside-in": __version__, "git": git_describe(),
                                       "python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def utc_now() -> str:
    """The current time in UTC to the second, as manifests record it."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_manifest(path: Path, **fields: Any) -> Path:
    """Write an output's manifest (JSON): ``fields``, the time and :func:`software_versions`.

    Written to a temporary file and renamed, so a reader never sees half a manifest.
    """
    manifest = {**fields, "created": utc_now(), "versions": software_versions()}
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(temp, path)
    return path


DIGEST_DIGITS = 6
"""Significant digits, at each column's own scale, that :func:`results_digest` keeps."""


def results_digest(columns: Mapping[str, np.ndarray], digits: int = DIGEST_DIGITS) -> str:
    """A run's fingerprint: SHA-256 of its table, each number to ``digits`` significant digits.

    A figure is kept to ``digits`` significant digits of its column's largest magnitude (a
    profit near zero is not asked for six digits of its own), so two runs that agree to
    rounding (the studies' compiled month against the numpy model: the same choices, other
    figures within 1e-15 of their column's scale) have the same digest, and two runs that
    differ anywhere that matters do not. ``columns`` is :meth:`OrgModel.columns`: names to
    arrays, in order; names and text columns are hashed as they are.
    """
    import numpy as np  # deferred: ``outsidein --version`` reads this module, needs no numpy

    digest = hashlib.sha256(f"digits={digits}".encode())
    for name, values in columns.items():
        digest.update(f"\0{name}\0".encode())
        column = np.asarray(values)
        if column.dtype.kind != "f":
            digest.update("\0".join(map(str, column.tolist())).encode())
            continue
        finite = np.isfinite(column)
        top = float(np.abs(column[finite]).max()) if finite.any() else 0.0
        quantum = 10.0 ** (np.floor(np.log10(top)) - digits + 1) if top > 0 else 1.0
        steps = np.where(finite, np.round(np.where(finite, column, 0.0) / quantum), 0.0)
        digest.update(steps.astype(np.int64).tobytes())
        if not finite.all():  # what is not a number, kept apart: 1 NaN, 2 +inf, 3 -inf
            kinds = np.select([np.isnan(column), column == np.inf, column == -np.inf],
                              [1, 2, 3], 0)
            digest.update(kinds.astype(np.int8).tobytes())
    return digest.hexdigest()
