"""The model drawn as the app and the workshop show it: a firm's network, the market, events.

Each function reads a model (or a firm) and returns an SVG string from :mod:`simulation.viz.svg`;
the app's run controller and the workshop's views both draw through them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from simulation.agents import Firm
from simulation.model import OrgModel
from simulation.viz import svg


def network_picture(firm: Firm, test_id: str) -> str:
    """A firm's departments as a network picture (``svg.network``)."""
    deps = list(firm.departments)
    return svg.network([d.role for d in deps], [bool(d.customer_facing) for d in deps],
                       [float(d.clout_weight) for d in deps],
                       [float(d.belief_error) for d in deps], np.asarray(firm.links),
                       test_id=test_id)


def event_marks(model: OrgModel) -> list[svg.Event]:
    """A model's events so far as chart marks: ``month N: what[: which firm]``."""
    out = []
    for ev in model.events:
        kind = str(ev["kind"])
        label = svg.EVENT_LABELS.get(kind, kind.replace("_", " "))
        if ev.get("firm"):
            label += f": {ev['firm']}"
        out.append(svg.Event(int(ev["step"]), kind, f"month {ev['step']}: {label}"))
    return out


def market_picture(model: OrgModel, color: Callable[[str], str], x: int, y: int) -> str:
    """Segments' needs and every living firm's offerings in attributes ``x`` and ``y``."""
    m = model.market
    names = [str(n) for n in m.dimension_names]
    dims = [x, y]
    offerings = [svg.Offering(f.name, color(f.name), np.asarray(f.offering)[:, dims])
                 for f in model.firms if f.alive]
    return svg.market(list(m.segment_names), np.asarray(m.ideal)[:, dims], list(m.active),
                      offerings, names[x], names[y], test_id="market")


def spread_dimensions(model: OrgModel) -> tuple[int, int]:
    """The two attributes in which the active segments' needs differ most.

    Showing those keeps the segments apart on the market picture.
    """
    m = model.market
    ideal = np.asarray(m.ideal)[np.asarray(m.active, dtype=bool)]
    if ideal.shape[0] < 2 or ideal.shape[1] < 2:
        return (0, 1)
    order = np.argsort(-ideal.var(axis=0), kind="stable")
    first, second = sorted(int(i) for i in order[:2])
    return (first, second)
