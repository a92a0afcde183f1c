"""Small SVG pictures of a run: line charts, a firm's departments, the market.

The page redraws these on every step, so they are plain strings built in time linear in
what they show, and a line chart never draws (or scans for its range) more than
``MAX_POINTS`` points per series, however long the run: a long run costs the server and the
browser no more than a short one. (Full redraws
of figure objects every step are what makes long runs slow in Mesa's own pages.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
from matplotlib.colors import to_hex

from simulation.figures import EVENT_STYLE

MAX_POINTS = 240
"""Most points a line chart draws per series; longer series are thinned evenly."""

EVENT_COLORS: dict[str, str] = {kind: to_hex(colour)
                                for kind, (colour, _) in EVENT_STYLE.items()}
"""Colour of each kind of event's marker line: the report figures' colours, as SVG wants them."""

EVENT_LABELS: dict[str, str] = {kind: label for kind, (_, label) in EVENT_STYLE.items()}
"""What each kind of event is called, in the charts' tooltips and legend (as in the figures)."""

FIRM_COLORS: tuple[str, ...] = ("#1f77b4", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f",
                                "#bcbd22", "#17becf", "#9467bd")
"""Colours of firms in the order they first appear (focal, rival, then entrants)."""


@dataclass(frozen=True)
class Series:
    """One line of a chart: a firm's values of one metric over the months."""

    name: str
    color: str
    xs: Sequence[float]
    ys: Sequence[float]
    dashed: bool = False


@dataclass(frozen=True)
class Event:
    """A marked month: a needs shock, a disruptor's entry, a reorganization..."""

    step: int
    kind: str
    label: str


def thin(xs: Sequence[float], ys: Sequence[float],
         max_points: int = MAX_POINTS) -> tuple[list[float], list[float]]:
    """Keep at most ``max_points`` evenly spaced points, always the first and the last.

    Thinning bounds the size of what the browser redraws; the last point is kept so the
    line always reaches the current month.
    """
    n = len(xs)
    if n <= max_points:
        return list(xs), list(ys)
    idx = np.unique(np.linspace(0, n - 1, max_points).round().astype(int))
    return [xs[i] for i in idx], [ys[i] for i in idx]


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def _tick(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 1:
        return f"{value:.1f}"
    return f"{value:.2f}"


def line_chart(title: str, series: Sequence[Series], events: Sequence[Event] = (), *,
               x_max: float | None = None, y_range: tuple[float, float] | None = None,
               width: int = 420, height: int = 190, test_id: str = "") -> str:
    """Draw firms' values of one metric over time, with events as vertical lines.

    Args:
        title: Shown above the plot.
        series: One line per firm; non-finite values break the line (a failed firm).
        events: Months to mark, coloured by kind (see ``EVENT_COLORS``).
        x_max: Right end of the time axis (default: the last month of any series).
        y_range: Fixed vertical range; default fits the data (and includes 0 when close).
        width: Width in pixels.
        height: Height in pixels.
        test_id: ``data-testid`` of the ``<svg>``, for the browser tests.

    """
    left, right, top, bottom = 44, 8, 20, 22
    pw, ph = width - left - right, height - top - bottom
    # Thin first: the range then fits the points drawn, in time bounded by MAX_POINTS.
    drawn = [(s, *thin(s.xs, s.ys)) for s in series]
    finite = [y for _, _, ys in drawn for y in ys if math.isfinite(y)]
    last = max((xs[-1] for _, xs, _ in drawn if xs), default=1.0)
    x_hi = max(float(x_max if x_max is not None else last), 1.0)
    if y_range is not None:
        y_lo, y_hi = y_range
    elif finite:
        y_lo, y_hi = min(finite), max(finite)
        if y_lo > 0 and y_lo < 0.5 * y_hi:
            y_lo = 0.0
        if y_hi - y_lo < 1e-9:
            y_lo, y_hi = y_lo - 0.5, y_hi + 0.5
    else:
        y_lo, y_hi = 0.0, 1.0

    def px(x: float) -> float:
        return left + pw * x / x_hi

    def py(y: float) -> float:
        return top + ph * (1 - (y - y_lo) / (y_hi - y_lo))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" data-testid="{escape(test_id)}" '
           f'font-family="sans-serif" font-size="10">',
           f'<text x="{left}" y="13" font-size="12" font-weight="bold">{escape(title)}</text>',
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fafafa" '
           f'stroke="#ccc"/>']
    for frac in (0.0, 0.5, 1.0):
        y = y_lo + frac * (y_hi - y_lo)
        out.append(f'<text x="{left - 3}" y="{_fmt(py(y) + 3)}" text-anchor="end">'
                   f'{_tick(y)}</text>')
    out.append(f'<text x="{left}" y="{height - 6}">0</text>'
               f'<text x="{left + pw}" y="{height - 6}" text-anchor="end">month {x_hi:.0f}'
               f'</text>')
    for ev in events:
        if 0 <= ev.step <= x_hi:
            color = EVENT_COLORS.get(ev.kind, "#555")
            x = _fmt(px(ev.step))
            out.append(f'<line x1="{x}" x2="{x}" y1="{top}" y2="{top + ph}" stroke="{color}" '
                       f'stroke-dasharray="3,2" data-event="{escape(ev.kind)}">'
                       f'<title>{escape(ev.label)}</title></line>')
    for s, xs, ys in drawn:
        dash = ' stroke-dasharray="5,3"' if s.dashed else ""
        for run in _finite_runs(xs, ys):
            pts = " ".join(f"{_fmt(px(x))},{_fmt(py(y))}" for x, y in run)
            out.append(f'<polyline points="{pts}" fill="none" stroke="{s.color}" '
                       f'stroke-width="1.6"{dash}><title>{escape(s.name)}</title></polyline>')
    out.append("</svg>")
    return "".join(out)


def _finite_runs(xs: Sequence[float],
                 ys: Sequence[float]) -> list[list[tuple[float, float]]]:
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in zip(xs, ys, strict=True):
        if math.isfinite(y):
            runs[-1].append((x, y))
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]


def error_color(error: float, worst: float = 0.25) -> str:
    """Colour of a department by how wrong its belief is: green (right) to red (wrong).

    ``worst`` is the error shown fully red; errors beyond it stay red.
    """
    t = min(max(error / worst, 0.0), 1.0) if worst > 0 else 1.0
    # green (44, 160, 44) -> amber (255, 191, 0) -> red (214, 39, 40)
    if t < 0.5:
        a, b, u = (44, 160, 44), (255, 191, 0), t * 2
    else:
        a, b, u = (255, 191, 0), (214, 39, 40), (t - 0.5) * 2
    r, g, bl = (round(a[k] + (b[k] - a[k]) * u) for k in range(3))
    return f"#{r:02x}{g:02x}{bl:02x}"


def network(roles: Sequence[str], customer_facing: Sequence[bool], clout: Sequence[float],
            errors: Sequence[float], links: np.ndarray, *, width: int = 280,
            height: int = 250, test_id: str = "") -> str:
    """Draw a firm's departments as a network on a circle.

    Nodes are departments, their area proportional to their clout and their colour to how
    wrong their belief about the customer is (``error_color``); customer-facing ones have a
    thick outline. Edges are the structure's links, thicker where stronger, so silos show
    as missing lines and power as big nodes.
    """
    n = len(roles)
    cx, cy = width / 2, height / 2 + 4
    radius = min(width, height) / 2 - 38
    pos = [(cx + radius * math.cos(2 * math.pi * i / max(n, 1) - math.pi / 2),
            cy + radius * math.sin(2 * math.pi * i / max(n, 1) - math.pi / 2))
           for i in range(n)]
    top_clout = max((float(c) for c in clout), default=1.0) or 1.0
    strongest = float(np.max(links)) if links.size else 0.0
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" data-testid="{escape(test_id)}" '
           f'font-family="sans-serif" font-size="10">']
    for i in range(n):
        for j in range(i + 1, n):
            w = max(float(links[i, j]), float(links[j, i]))
            if w > 0 and strongest > 0:
                (x1, y1), (x2, y2) = pos[i], pos[j]
                out.append(f'<line x1="{_fmt(x1)}" y1="{_fmt(y1)}" x2="{_fmt(x2)}" '
                           f'y2="{_fmt(y2)}" stroke="#888" '
                           f'stroke-width="{_fmt(0.6 + 3 * w / strongest)}" '
                           f'stroke-opacity="0.7"/>')
    for i in range(n):
        x, y = pos[i]
        r = 5 + 17 * math.sqrt(max(float(clout[i]), 0.0) / top_clout)
        ring = ' stroke="#222" stroke-width="2.5"' if customer_facing[i] else \
            ' stroke="#666" stroke-width="1"'
        out.append(f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="{_fmt(r)}" '
                   f'fill="{error_color(float(errors[i]))}"{ring} data-node="{escape(roles[i])}">'
                   f'<title>{escape(roles[i])}: clout {float(clout[i]):.2f}, belief error '
                   f'{float(errors[i]):.3f}</title></circle>')
        ly = y - r - 3 if y < cy else y + r + 11
        out.append(f'<text x="{_fmt(x)}" y="{_fmt(ly)}" text-anchor="middle">'
                   f'{escape(roles[i])}</text>')
    out.append("</svg>")
    return "".join(out)


@dataclass(frozen=True)
class Offering:
    """A firm's offering to each segment, in the two attributes shown."""

    firm: str
    color: str
    points: np.ndarray  # S x 2


def market(segment_names: Sequence[str], needs: np.ndarray, active: Sequence[bool],
           offerings: Sequence[Offering], x_label: str, y_label: str, *,
           width: int = 360, height: int = 300, test_id: str = "") -> str:
    """Draw segments' needs and firms' offerings in two attributes of the need space.

    A segment is a large circle at its needs (hollow and dashed while latent); each firm's
    offering to that segment is a small square in the firm's colour, joined to the need by
    a thin line: the longer the line, the worse the fit.
    """
    pad = 34
    pw, ph = width - pad - 10, height - pad - 16

    def px(v: float) -> float:
        return pad + pw * min(max(v, 0.0), 1.0)

    def py(v: float) -> float:
        return 10 + ph * (1 - min(max(v, 0.0), 1.0))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" data-testid="{escape(test_id)}" '
           f'font-family="sans-serif" font-size="10">',
           f'<rect x="{pad}" y="10" width="{pw}" height="{ph}" fill="#fafafa" stroke="#ccc"/>',
           f'<text x="{pad + pw / 2}" y="{height - 4}" text-anchor="middle">'
           f'{escape(x_label)} →</text>',
           f'<text x="12" y="{10 + ph / 2}" text-anchor="middle" '
           f'transform="rotate(-90 12 {10 + ph / 2})">{escape(y_label)} →</text>']
    for off in offerings:
        for s in range(min(len(segment_names), off.points.shape[0])):
            if not active[s]:
                continue
            x1, y1 = px(float(needs[s, 0])), py(float(needs[s, 1]))
            x2, y2 = px(float(off.points[s, 0])), py(float(off.points[s, 1]))
            out.append(f'<line x1="{_fmt(x1)}" y1="{_fmt(y1)}" x2="{_fmt(x2)}" y2="{_fmt(y2)}" '
                       f'stroke="{off.color}" stroke-opacity="0.6"/>')
            out.append(f'<rect x="{_fmt(x2 - 4)}" y="{_fmt(y2 - 4)}" width="8" height="8" '
                       f'fill="{off.color}" data-offering="{escape(off.firm)}">'
                       f'<title>{escape(off.firm)} for {escape(segment_names[s])}</title></rect>')
    for s, name in enumerate(segment_names):
        x, y = px(float(needs[s, 0])), py(float(needs[s, 1]))
        style = 'fill="#2ca02c" fill-opacity="0.25" stroke="#2ca02c"' if active[s] else \
            'fill="none" stroke="#2ca02c" stroke-dasharray="3,2"'
        out.append(f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="11" {style} '
                   f'data-segment="{escape(name)}"><title>{escape(name)} needs'
                   f'{"" if active[s] else " (not yet a market)"}</title></circle>'
                   f'<text x="{_fmt(x)}" y="{_fmt(y - 14)}" text-anchor="middle">'
                   f'{escape(name)}</text>')
    out.append("</svg>")
    return "".join(out)
