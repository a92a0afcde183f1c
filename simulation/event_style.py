"""How each kind of event is drawn and named, in the report's figures and in the app.

Kept apart from ``figures`` so that the app can read it without importing matplotlib's
plotting machinery (which costs the app's start-up almost half a second).
"""

from __future__ import annotations

from collections.abc import Mapping

from simulation.outcomes import EVENTS

EVENT_STYLE: Mapping[str, tuple[str, str]] = {k: (e.colour, e.label) for k, e in EVENTS.items()}
"""Colour (hex) and name of each kind of event, from the outcome registry."""
