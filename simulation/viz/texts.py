"""Plain-words explanations shown beside the app's controls.

The lever lines paraphrase Gulati's own descriptions of the five levers of the outside-in
organization, so that a class reads what a slider means without the book at hand.
"""

from __future__ import annotations

from simulation.outcomes import EVENTS, PANELS, SERIES

LEVER_TEXT: dict[str, str] = {
    "coordination": "Aligns tasks and information around the customer, so what one department "
                    "learns reaches the others.",
    "cooperation": "Aligns goals: departments put the customer's outcome ahead of their own "
                   "silo's.",
    "clout": "Puts power and influence in the hands of the people who know the customer.",
    "capability": "Organization-spanning skills: sensing customers well and changing the "
                  "offering quickly.",
    "connections": "Partners and relationships outside the firm that bring early signals and "
                   "borrowed skills.",
}
"""One line per lever, in plain words (after Gulati's text on the five levers)."""

STRUCTURE_TEXT: dict[str, str] = {
    "inside_out": "Inside-out: a functional hierarchy that starts from its products.",
    "outside_in": "Outside-in: cross-functional teams that start from the customer.",
    "entrant": "Entrant: a small newcomer without silos.",
}
"""One line per structure preset."""

METRIC_TEXT: dict[str, str] = {name: SERIES[name].title for name in PANELS}
"""The plotted metrics, in the order shown, with their titles (from the outcome registry)."""

METRIC_UNITS: dict[str, str] = {name: SERIES[name].scale for name in PANELS}
"""What each plotted metric's values measure, shown beside its title (from the registry)."""

EVENT_TEXT: dict[str, str] = {kind: EVENTS[kind].description
                              for kind in ("shock", "entrant", "new_segment", "reorganization")}
"""What each scheduled event of a scenario's timeline does, for the Info panel (registry)."""
