"""Where the app finds scenarios, and the one function through which it loads them.

The picker lists the YAML files of the project's ``scenarios/`` folder and of the folder
of a scenario named on the command line. Loading goes through :func:`load` only, so the
app depends on the scenario layer in one place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simulation.shipped import shipped_folder

SCENARIO_ENV = "OUTSIDEIN_APP_SCENARIO"
"""Environment variable through which the launcher names the page's starting scenario."""

FOLDER_ENV = "OUTSIDEIN_APP_SCENARIOS"
"""Environment variable naming an extra folder of scenarios for the picker."""

PROJECT_SCENARIOS = shipped_folder("scenarios")
"""The scenarios shipped with the project (from the checkout or the installed package)."""


def list_scenarios(extra: Path | None = None, folder: Path | None = None) -> list[Path]:
    """YAML files the picker offers: the project's, then ``folder``'s, then those beside ``extra``.

    Sorted by name within each folder; a missing folder contributes nothing, and a file
    is listed once.
    """
    folders = [PROJECT_SCENARIOS]
    if folder is not None:
        folders.append(folder)
    if extra is not None:
        folders.append(extra.resolve().parent)
    found: list[Path] = []
    seen: set[Path] = set()
    for place in folders:
        if place.is_dir() and place.resolve() not in seen:
            seen.add(place.resolve())
            found.extend(sorted(p for p in place.iterdir()
                                if p.suffix in (".yaml", ".yml") and p.is_file()))
    if extra is not None and extra.resolve() not in {p.resolve() for p in found}:
        found.append(extra.resolve())
    return found


def load(path: Path) -> Any:
    """Load and validate a scenario file; raises the scenario layer's error on bad input."""
    from simulation.scenario_files import load_scenario

    return load_scenario(path)
