"""The named organizations (presets) and the five levers they set.

A preset is data: the name of a link graph (built in :mod:`simulation.structures`) and five
lever values. It lives beside the parameter table, which checks a structure's name against
these presets; this module imports nothing of the model, so the parameters and the
structures both import it and neither imports the other's importer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

LEVERS: tuple[str, ...] = ("coordination", "cooperation", "clout", "capability", "connections")
"""The five levers of the outside-in organization (Gulati), each a number in [0, 1]."""


@dataclass(frozen=True)
class Preset:
    """A named organization: a link graph and the five lever values."""

    links: str
    levers: Mapping[str, float]
    description: str

    def lever_values(self, overrides: Mapping[str, float] | None = None) -> dict[str, float]:
        """The preset's levers with some of them overridden."""
        values = dict(self.levers)
        values.update(overrides or {})
        return {name: float(values[name]) for name in LEVERS}


PRESETS: Mapping[str, Preset] = {
    "inside_out": Preset(
        links="functional_hierarchy",
        levers={"coordination": 0.2, "cooperation": 0.2, "clout": 0.2, "capability": 0.3,
                "connections": 0.1},
        description="Functional silos, product push, power with product and operations.",
    ),
    "outside_in": Preset(
        links="segment_teams",
        levers={"coordination": 0.8, "cooperation": 0.8, "clout": 0.8, "capability": 0.7,
                "connections": 0.6},
        description="Customer-segment teams, shared customer goals, power with the "
                    "customer-facing roles, broad skills and partners.",
    ),
    "entrant": Preset(
        links="segment_teams",
        levers={"coordination": 0.9, "cooperation": 0.9, "clout": 0.9, "capability": 0.4,
                "connections": 0.2},
        description="A disruptive start-up: no silos, few skills and partners yet.",
    ),
}
"""The named organizations; scenarios and the app choose among these."""

FOCAL_PRESETS: tuple[str, ...] = ("inside_out", "outside_in")
"""Presets an incumbent is usually given; each is the other's default rival."""


def other_preset(name: str) -> str:
    """The opposite pole of ``name`` (outside_in for inside_out and vice versa)."""
    return "inside_out" if name == "outside_in" else "outside_in"
