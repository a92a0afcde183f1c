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

from simulation.event_style import EVENT_STYLE

MAX_POINTS = 240
"""Most points a line chart draws per series; longer series are thinned evenly."""

EVENT_COLORS: dict[str, str] = {kind: colour for kind, (colour, _) in EVENT_STYLE.items()}
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


FONT = 14
"""Smallest font size of the charts, in SVG units (a chart is drawn no smaller than its
``width``, so this is at least 14 screen pixels: legible from the back of a classroom)."""

CHAR_WIDTH = 0.56
"""Rough width of a character of the sans-serif font, as a share of its size (for layout)."""


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten) covering ``[low, high]``.

    The first tick is at or below ``low`` and the last at or above ``high``, so a chart that
    takes its range from the ticks shows round numbers at both ends.
    """
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low, high] if high > low else [low - 0.5, low + 0.5]
    raw = (high - low) / max(count, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-9))
    first = math.floor(low / step + 1e-9) * step
    ticks = [first]
    while ticks[-1] < high - 1e-9 * step:
        ticks.append(ticks[-1] + step)
    digits = max(0, 12 - math.floor(math.log10(step)))
    return [round(t, digits) for t in ticks]


def tick_label(value: float, step: float, percent: bool = False) -> str:
    """A tick's text with no more decimals than its step needs (``percent``: 0.25 -> 25%)."""
    if percent:
        value, step = value * 100, step * 100
    decimals = 0
    while decimals < 4 and abs(step * 10 ** decimals - round(step * 10 ** decimals)) > 1e-6:
        decimals += 1
    text = f"{value:,.{decimals}f}"
    if text.startswith("-") and float(value) == 0:
        text = text[1:]
    return text + ("%" if percent else "")


MONTH_STEPS: tuple[int, ...] = (1, 2, 3, 6, 12, 24, 30, 36, 60, 120, 240, 360, 600, 1200, 2400)
"""Spacings of the time axis's ticks, in months: whole years once a run is long."""


def month_ticks(x_max: float, count: int = 4) -> list[int]:
    """Ticks of the time axis from 0 to at most ``x_max``, about ``count`` spaces apart."""
    step = next((m for m in MONTH_STEPS if m * count >= x_max), None)
    if step is None:
        step = int(nice_ticks(0.0, x_max, count)[1])
    return list(range(0, int(x_max) + 1, step))


@dataclass(frozen=True)
class _LegendItem:
    label: str
    color: str
    dashed: bool


def _legend(items: Sequence[_LegendItem], x0: float, y0: float, width: float,
            size: int) -> tuple[list[str], float]:
    """Legend entries laid out in lines across ``width``; returns the SVG and its height."""
    out: list[str] = []
    x, y, line = x0, y0, size + 4
    for item in items:
        w = 26 + CHAR_WIDTH * size * len(item.label) + 12
        if x > x0 and x + w > x0 + width:
            x, y = x0, y + line
        dash = ' stroke-dasharray="4,3"' if item.dashed else ""
        out.append(f'<line x1="{_fmt(x)}" x2="{_fmt(x + 20)}" y1="{_fmt(y - size / 3)}" '
                   f'y2="{_fmt(y - size / 3)}" stroke="{item.color}" stroke-width="3"{dash}/>'
                   f'<text x="{_fmt(x + 25)}" y="{_fmt(y)}">{escape(item.label)}</text>')
        x += w
    return out, (y - y0 + line) if items else 0.0


def line_chart(title: str, series: Sequence[Series], events: Sequence[Event] = (), *,
               unit: str = "", x_max: float | None = None,
               y_range: tuple[float, float] | None = None, percent: bool = False,
               width: int = 400, height: int = 260, test_id: str = "") -> str:
    """Draw firms' values of one metric over time, with a legend and events marked.

    The SVG scales to its container's width (``width`` and ``height`` set its proportions
    and its smallest legible size); every text is at least ``FONT`` units high.

    Args:
        title: Shown above the plot.
        series: One line per firm; non-finite values break the line (a failed firm). A dot
            marks each firm's latest value (at month 0, the only one).
        events: Months to mark, coloured by kind (see ``EVENT_COLORS``) and named in the
            legend and in each mark's tooltip.
        unit: What the values measure, shown beside the title.
        x_max: Right end of the time axis (default: the last month of any series).
        y_range: Fixed vertical range; default fits the data (and includes 0 when close).
        percent: Label the vertical ticks as percentages.
        width: Width in SVG units.
        height: Height in SVG units.
        test_id: ``data-testid`` of the ``<svg>``, for the browser tests.

    """
    size = FONT
    # Thin first: the range then fits the points drawn, in time bounded by MAX_POINTS.
    drawn = [(s, *thin(s.xs, s.ys)) for s in series]
    finite = [y for _, _, ys in drawn for y in ys if math.isfinite(y)]
    last = max((xs[-1] for _, xs, _ in drawn if xs), default=1.0)
    x_hi = max(float(x_max if x_max is not None else last), 1.0)
    if y_range is not None:
        y_lo, y_hi = y_range
    elif finite:
        y_lo, y_hi = min(finite), max(finite)
        if 0 < y_lo < 0.5 * y_hi:
            y_lo = 0.0
    else:
        y_lo, y_hi = 0.0, 1.0
    if y_hi - y_lo < 1e-6 * max(1.0, abs(y_hi)):  # a flat line: show it inside a small range
        y_lo, y_hi = (0.0, 0.01) if abs(y_hi) < 0.005 else (y_lo - 0.1 * abs(y_lo),
                                                             y_hi + 0.1 * abs(y_hi))
    y_ticks = nice_ticks(y_lo, y_hi)
    y_lo, y_hi = y_ticks[0], y_ticks[-1]
    x_ticks = month_ticks(x_hi, 4 if width < 600 else 8)
    y_step = y_ticks[1] - y_ticks[0] if len(y_ticks) > 1 else 1.0
    labels = [tick_label(t, y_step, percent) for t in y_ticks]
    left = 12 + 0.62 * size * max(len(t) for t in labels)  # digits and % are wide
    right = 12
    kinds = list(dict.fromkeys(ev.kind for ev in events if 0 <= ev.step <= x_hi))
    items = [_LegendItem(s.name, s.color, s.dashed) for s in series]
    items += [_LegendItem(EVENT_LABELS.get(k, k.replace("_", " ")), EVENT_COLORS.get(k, "#555"),
                          True) for k in kinds]
    legend, legend_height = _legend(items, 8, 20 + size + 6, width - 16, size)
    top = 20 + 8 + legend_height
    bottom = size + 12
    pw, ph = width - left - right, max(height - top - bottom, 40)

    def px(x: float) -> float:
        return left + pw * x / x_hi

    def py(y: float) -> float:
        return top + ph * (1 - (y - y_lo) / (y_hi - y_lo))

    full_height = top + ph + bottom
    head = f'<tspan font-weight="bold">{escape(title)}</tspan>'
    if unit:
        head += f'<tspan fill="#444"> ({escape(unit)})</tspan>'
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" '
           f'viewBox="0 0 {width} {_fmt(full_height)}" data-testid="{escape(test_id)}" '
           f'style="min-width:{width}px;display:block" '
           f'font-family="sans-serif" font-size="{size}">',
           f'<text x="8" y="{size + 4}" font-size="{size + 1}">{head}</text>', *legend,
           f'<rect x="{_fmt(left)}" y="{_fmt(top)}" width="{_fmt(pw)}" height="{_fmt(ph)}" '
           f'fill="#fafafa" stroke="#ccc"/>']
    for tick, label in zip(y_ticks, labels, strict=True):
        y = _fmt(py(tick))
        out.append(f'<line x1="{_fmt(left)}" x2="{_fmt(left + pw)}" y1="{y}" y2="{y}" '
                   f'stroke="#e4e4e4"/><text x="{_fmt(left - 4)}" y="{_fmt(py(tick) + size / 3)}"'
                   f' text-anchor="end">{label}</text>')
    base = _fmt(top + ph + size + 4)
    for i, tick in enumerate(x_ticks):
        last_tick = i == len(x_ticks) - 1
        anchor = "start" if i == 0 else "end" if last_tick else "middle"
        text = f"month {tick:.0f}" if last_tick else f"{tick:.0f}"
        out.append(f'<text x="{_fmt(px(tick))}" y="{base}" text-anchor="{anchor}">{text}</text>')
    for ev in events:
        if 0 <= ev.step <= x_hi:
            color = EVENT_COLORS.get(ev.kind, "#555")
            x = _fmt(px(ev.step))
            out.append(f'<line x1="{x}" x2="{x}" y1="{_fmt(top)}" y2="{_fmt(top + ph)}" '
                       f'stroke="{color}" stroke-width="2" stroke-dasharray="5,3" '
                       f'data-event="{escape(ev.kind)}"><title>{escape(ev.label)}</title></line>')
    for s, xs, ys in drawn:
        dash = ' stroke-dasharray="7,4"' if s.dashed else ""
        for run in _finite_runs(xs, ys):
            pts = " ".join(f"{_fmt(px(x))},{_fmt(py(y))}" for x, y in run)
            out.append(f'<polyline points="{pts}" fill="none" stroke="{s.color}" '
                       f'stroke-width="2.5"{dash}><title>{escape(s.name)}</title></polyline>')
        if ys and math.isfinite(ys[-1]):  # now: a dot on the latest month (month 0 too,
            # where a line of one point would show nothing)
            out.append(f'<circle cx="{_fmt(px(xs[-1]))}" cy="{_fmt(py(ys[-1]))}" r="4" '
                       f'fill="{s.color}" data-now="{escape(s.name)}"><title>'
                       f'{escape(s.name)}, month {xs[-1]:g}</title></circle>')
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
            errors: Sequence[float], links: np.ndarray, *, width: int = 400,
            height: int = 290, test_id: str = "") -> str:
    """Draw a firm's departments as a network on a circle.

    Nodes are departments, their area proportional to their clout and their colour to how
    wrong their belief about the customer is (``error_color``); customer-facing ones have a
    thick outline. Edges are the structure's links, thicker where stronger, so silos show
    as missing lines and power as big nodes. Every link stays visible: a node is never wider
    than a third of the gap to its neighbours, and the links are drawn again, thin, over the
    nodes.
    """
    n = len(roles)
    cx, cy = width / 2, height / 2 + 2
    radius = min(width * 0.7, height) / 2 - 36
    pos = [(cx + radius * math.cos(2 * math.pi * i / max(n, 1) - math.pi / 2),
            cy + radius * math.sin(2 * math.pi * i / max(n, 1) - math.pi / 2))
           for i in range(n)]
    chord = 2 * radius * math.sin(math.pi / n) if n > 1 else radius
    r_max = max(4.0, min(20.0, chord / 3))
    top_clout = max((float(c) for c in clout), default=1.0) or 1.0
    strongest = float(np.max(links)) if links.size else 0.0
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" '
           f'viewBox="0 0 {width} {height}" data-testid="{escape(test_id)}" '
           f'style="display:block" font-family="sans-serif" font-size="{FONT}">']
    edges: list[tuple[str, float]] = []
    for i in range(n):
        for j in range(i + 1, n):
            w = max(float(links[i, j]), float(links[j, i]))
            if w > 0 and strongest > 0:
                (x1, y1), (x2, y2) = pos[i], pos[j]
                edges.append((f'x1="{_fmt(x1)}" y1="{_fmt(y1)}" x2="{_fmt(x2)}" '
                              f'y2="{_fmt(y2)}"', w / strongest))
    for ends, w in edges:
        out.append(f'<line {ends} stroke="#888" stroke-width="{_fmt(1 + 4 * w)}" '
                   f'stroke-opacity="0.7" data-link="under"/>')
    for i in range(n):
        x, y = pos[i]
        r = 0.3 * r_max + 0.7 * r_max * math.sqrt(max(float(clout[i]), 0.0) / top_clout)
        ring = ' stroke="#222" stroke-width="3"' if customer_facing[i] else \
            ' stroke="#666" stroke-width="1"'
        out.append(f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="{_fmt(r)}" '
                   f'fill="{error_color(float(errors[i]))}"{ring} data-node="{escape(roles[i])}">'
                   f'<title>{escape(roles[i])}: clout {float(clout[i]):.2f}, belief error '
                   f'{float(errors[i]):.3f}</title></circle>')
    for ends, _ in edges:  # over the nodes, so a big node never hides a link
        out.append(f'<line {ends} stroke="#333" stroke-width="1" stroke-opacity="0.8" '
                   f'data-link="over"/>')
    for i in range(n):
        x, y = pos[i]
        dx, dy = x - cx, y - cy
        anchor = "middle" if abs(dx) < radius * 0.3 else ("start" if dx > 0 else "end")
        lx = x + (r_max + 4) * (1 if dx > radius * 0.3 else -1 if dx < -radius * 0.3 else 0)
        ly = y - r_max - 5 if dy < -radius * 0.5 else y + r_max + FONT + 2 \
            if dy > radius * 0.5 else y + FONT / 3
        out.append(f'<text x="{_fmt(lx)}" y="{_fmt(ly)}" text-anchor="{anchor}">'
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
           width: int = 400, height: int = 320, test_id: str = "") -> str:
    """Draw segments' needs and firms' offerings in two attributes of the need space.

    A segment is a large circle at its needs (hollow and dashed while latent); each firm's
    offering to that segment is a square in the firm's colour, joined to the need by a thin
    line: the longer the line, the worse the fit. A legend names the firms' colours; labels
    stay inside the picture.
    """
    items = [_LegendItem(o.firm, o.color, False) for o in offerings]
    legend, legend_height = _legend(items, 8, FONT + 4, width - 16, FONT)
    top = 8 + legend_height
    pad, right, bottom = 30, 12, FONT + 10
    pw, ph = width - pad - right, height - top - bottom

    # The need space is open: needs start in [0, 1] and may move past it, so the axes span
    # [0, 1] and whatever needs and offerings lie beyond, with a margin.
    shown = [np.asarray(needs, dtype=float)[:, :2], *(o.points[:, :2] for o in offerings)]
    points = np.vstack([p for p in shown if p.size]) if shown else np.zeros((0, 2))
    finite = points[np.isfinite(points).all(axis=1)] if points.size else points
    lo = np.minimum(0.0, finite.min(axis=0) - 0.05) if finite.size else np.zeros(2)
    hi = np.maximum(1.0, finite.max(axis=0) + 0.05) if finite.size else np.ones(2)

    def px(v: float) -> float:
        return pad + pw * (min(max(v, lo[0]), hi[0]) - lo[0]) / (hi[0] - lo[0])

    def py(v: float) -> float:
        return top + ph * (1 - (min(max(v, lo[1]), hi[1]) - lo[1]) / (hi[1] - lo[1]))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" '
           f'viewBox="0 0 {width} {height}" data-testid="{escape(test_id)}" '
           f'style="display:block" font-family="sans-serif" font-size="{FONT}">', *legend,
           f'<rect x="{pad}" y="{_fmt(top)}" width="{pw}" height="{_fmt(ph)}" fill="#fafafa" '
           f'stroke="#ccc"/>',
           f'<text x="{pad + pw / 2}" y="{height - 6}" text-anchor="middle">'
           f'{escape(x_label)} →</text>',
           f'<text x="{FONT}" y="{_fmt(top + ph / 2)}" text-anchor="middle" '
           f'transform="rotate(-90 {FONT} {_fmt(top + ph / 2)})">{escape(y_label)} →</text>']
    for off in offerings:
        for s in range(min(len(segment_names), off.points.shape[0])):
            if not active[s]:
                continue
            x1, y1 = px(float(needs[s, 0])), py(float(needs[s, 1]))
            x2, y2 = px(float(off.points[s, 0])), py(float(off.points[s, 1]))
            out.append(f'<line x1="{_fmt(x1)}" y1="{_fmt(y1)}" x2="{_fmt(x2)}" y2="{_fmt(y2)}" '
                       f'stroke="{off.color}" stroke-width="1.5" stroke-opacity="0.7"/>')
            out.append(f'<rect x="{_fmt(x2 - 6)}" y="{_fmt(y2 - 6)}" width="12" height="12" '
                       f'fill="{off.color}" stroke="#fff" data-offering="{escape(off.firm)}">'
                       f'<title>{escape(off.firm)} for {escape(segment_names[s])}</title></rect>')
    for s, name in enumerate(segment_names):
        x, y = px(float(needs[s, 0])), py(float(needs[s, 1]))
        style = 'fill="#2ca02c" fill-opacity="0.25" stroke="#2ca02c"' if active[s] else \
            'fill="none" stroke="#2ca02c" stroke-dasharray="3,2"'
        half = CHAR_WIDTH * FONT * len(name) / 2
        anchor = "start" if x - half < pad else "end" if x + half > pad + pw else "middle"
        lx = pad + 2 if anchor == "start" else pad + pw - 2 if anchor == "end" else x
        ly = y - 16 if y - 16 - FONT > top else y + 16 + FONT
        out.append(f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="12" {style} '
                   f'data-segment="{escape(name)}"><title>{escape(name)} needs'
                   f'{"" if active[s] else " (not yet a market)"}</title></circle>'
                   f'<text x="{_fmt(lx)}" y="{_fmt(ly)}" text-anchor="{anchor}">'
                   f'{escape(name)}</text>')
    out.append("</svg>")
    return "".join(out)
