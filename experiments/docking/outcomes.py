"""What the docking models measure: each outcome's name, label, unit and range, once.

The docking tables, figures and targets read labels from here, as the OrgModel's faces read
:mod:`simulation.outcomes`; the two registries do not overlap (other models, other names).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DockOutcome:
    """One measured quantity of a docking model.

    Attributes:
        name: the column name in the runs table.
        label: a short plain name for tables and axes.
        unit: what one unit is, for axis labels (empty: a pure number).
        low: the least value it can take.
        high: the most value it can take (``None``: no fixed bound).

    """

    name: str
    label: str
    unit: str
    low: float
    high: float | None

    def axis(self) -> str:
        """The label with its unit, for an axis."""
        return f"{self.label} ({self.unit})" if self.unit else self.label


OUTCOMES: dict[str, DockOutcome] = {o.name: o for o in (
    DockOutcome("code_knowledge", "code knowledge", "share of dimensions right", 0.0, 1.0),
    DockOutcome("code_score", "equilibrium knowledge of the code",
                "(right - wrong) / m", -1.0, 1.0),
    DockOutcome("mean_knowledge", "individuals' knowledge", "share of dimensions right",
                0.0, 1.0),
    DockOutcome("periods", "periods run", "periods", 0.0, None),
    DockOutcome("absorbed", "ended in equilibrium", "share of runs", 0.0, 1.0),
    DockOutcome("peaks", "local optima per landscape", "count", 1.0, None),
    DockOutcome("global_max", "fitness of the global peak", "mean contribution", 0.0, 1.0),
    DockOutcome("mean_fitness", "organizations' fitness at the end", "mean contribution",
                0.0, 1.0),
    DockOutcome("share_at_global", "organizations on the global peak", "share", 0.0, 1.0),
    DockOutcome("share_on_peak", "organizations on a peak", "share", 0.0, 1.0),
)}
"""Every docking outcome by name."""


def outcome(name: str) -> DockOutcome:
    """The outcome called ``name``; raise ``KeyError`` naming the known ones."""
    try:
        return OUTCOMES[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a docking outcome; known: {', '.join(OUTCOMES)}") \
            from None
