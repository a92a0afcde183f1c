"""How each kind of event is drawn and named, in the report's figures and in the app.

Kept apart from ``figures`` so that the app can read it without importing matplotlib's
plotting machinery (which costs the app's start-up almost half a second).
"""

from __future__ import annotations

from collections.abc import Mapping

EVENT_STYLE: Mapping[str, tuple[str, str]] = {
    "shock": ("#d62728", "needs shock"),  # matplotlib's tab:red
    "entrant": ("#9467bd", "disruptor enters"),  # tab:purple
    "new_segment": ("#2ca02c", "new segment"),  # tab:green
    "reorganization": ("#ff7f0e", "reorganization"),  # tab:orange
    "failure": ("#000000", "firm fails"),  # black
}
"""Colour (hex) and name of each kind of event."""
