"""The files the package ships: the workshop scenarios and the experiment specs.

One lookup for both, read through :mod:`importlib.resources`, so that every command finds them
whether it runs from a checkout or from an installed wheel. People edit one copy: the
top-level ``scenarios/`` folder and ``experiments/specs/``. The build puts ``scenarios/`` into
the wheel as ``simulation/_shipped/scenarios`` (``pyproject.toml``, hatch's ``force-include``);
the specs live inside their package already.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Literal

Kind = Literal["scenarios", "specs"]

_PLACES: dict[str, tuple[str, str]] = {
    # kind: (where an installed wheel has it, where a checkout has it, from the project root)
    "scenarios": ("simulation/_shipped/scenarios", "scenarios"),
    "specs": ("experiments/specs", "experiments/specs"),
}


def shipped_folder(kind: Kind) -> Path:
    """The folder of the shipped YAML files of one kind.

    Args:
        kind: ``"scenarios"`` (workshop scenarios) or ``"specs"`` (experiment specs).

    Returns:
        The installed package's copy if there is one, else the checkout's folder.

    """
    installed, checkout = _PLACES[kind]
    package, _, inside = installed.partition("/")
    packaged = files(package).joinpath(*inside.split("/"))
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(str(files("simulation"))).parent.joinpath(*checkout.split("/"))


def shipped_names(kind: Kind) -> list[str]:
    """Names (file stems) of the shipped YAML files of one kind, sorted."""
    return sorted(p.stem for p in shipped_folder(kind).glob("*.yaml"))
