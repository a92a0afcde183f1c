"""What the workshop's pages draw, computed once per version of the shared market.

Thirty team pages redraw when a round advances; the pictures of the market they all show
are drawn once per version and shared (they are plain strings), so a round costs the server
one drawing, not thirty. Every text from a team or a scenario goes through ``html.escape``
(the SVG pictures escape theirs).
"""

from __future__ import annotations

import math
import threading
from html import escape
from typing import Any

import numpy as np

from simulation.outcomes import MONTHS_OF_REVENUE
from simulation.params import LEVERS
from simulation.viz import svg
from simulation.viz.pictures import (
    event_marks,
    market_picture,
    network_picture,
    spread_dimensions,
)
from simulation.viz.workshop.session import (
    GHOSTS,
    RESEARCH_COST,
    Market,
    NeedsView,
    RoundRow,
    Workshop,
    standing,
)
from simulation.viz.workshop.whatif import WhatIf

_CACHE: dict[tuple[int, int], dict[str, Any]] = {}
_CACHE_LOCK = threading.Lock()


def number(value: float, spec: str = ".2f") -> str:
    """A figure as text; "–" for one that is not there.

    ``nan``: a failed firm's satisfaction, the loss before any shock.
    """
    return "–" if value != value else format(value, spec)


def colors(market: Market) -> dict[str, str]:
    """Each firm's colour, in the order the firms entered the market."""
    return {f.name: svg.FIRM_COLORS[i % len(svg.FIRM_COLORS)]
            for i, f in enumerate(market.model.firms)}


def snapshot(shop: Workshop) -> dict[str, Any]:
    """The shared pictures and figures of the market's current version.

    Keys: ``version``, ``month``, ``round``, ``market`` (SVG), ``share`` (SVG chart of every
    firm's share), ``networks`` (firm name to SVG), ``leaderboard``, ``cards`` (firm name to
    its figures).
    """
    key = (id(shop), shop.version)
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
    with shop.lock:
        market = shop.market
        model = market.model
        palette = colors(market)
        x, y = spread_dimensions(model)
        table = model.results()
        events = event_marks(model)
        series = []
        for name, group in table.groupby("firm", sort=False):
            share = [v if a else math.nan for v, a in zip(group["market_share"], group["alive"],
                                                          strict=True)]
            series.append(svg.Series(str(name), palette.get(str(name), "#777"),
                                     list(group["step"]), share,
                                     dashed=str(name).startswith("entrant")))
        cards = {}
        for f in model.firms:
            m = standing(f)
            cards[f.name] = {"share": m["market_share"],
                             "cash": f.cash_months,
                             "satisfaction": m["satisfaction"],
                             "awareness_gap": m["awareness_gap"],
                             "action_gap": m["action_gap"],
                             "alive": bool(f.alive), "structure": str(f.structure),
                             "levers": {k: float(v) for k, v in f.levers.items()},
                             "price": float(f.price),
                             "in_transition": getattr(f, "transition", None) is not None}
        view = {
            "version": shop.version, "month": shop.month, "round": shop.round,
            "locked": market.locked,
            "market": market_picture(model, lambda n: palette.get(n, "#777"), x, y),
            "share": svg.line_chart("Market share", series, events, unit="% of customers",
                                    x_max=max(shop.month, 12), y_range=(0.0, 1.0),
                                    percent=True, test_id="chart-share"),
            "networks": {f.name: network_picture(f, "network") for f in model.firms
                         if not f.entrant},
            "leaderboard": shop.leaderboard(),
            "cards": cards, "colors": palette,
            "practice": market.practice, "deadline": market.deadline,
            "joined": market.joined(),
            "report": industry_html(market.reports[-1]) if market.reports else "",
            "decisions": {t.name: t.decisions for t in market.teams.values()
                          if not t.removed},
            "researched": {name for name, r in market.research.items()
                           if r == market.round},
        }
    with _CACHE_LOCK:
        for old in [k for k in _CACHE if k[0] == id(shop) and k[1] < shop.version - 2]:
            del _CACHE[old]
        _CACHE[key] = view
    return view


# --- the industry report and market research ------------------------------------------------
_TABLE = ("border-collapse: collapse; font-size: 14px; margin: 4px 0 10px 0")
_CELL = ("border-top: 1px solid #ddd; padding: 2px 6px; text-align: right; "
         "white-space: nowrap")
_HEAD = "padding: 2px 6px; text-align: right"


def _table(head: list[str], rows: list[list[str]], css: str) -> str:
    """An HTML table of texts (each escaped), the first column left-aligned."""
    def cells(tag: str, values: list[str], style: str) -> str:
        return "".join(f"<{tag} style='{style}{'; text-align: left' if i == 0 else ''}'>"
                       f"{escape(v)}</{tag}>" for i, v in enumerate(values))
    body = "".join(f"<tr>{cells('td', r, _CELL)}</tr>" for r in rows)
    return (f"<table class='{css}' style='{_TABLE}'><tr>{cells('th', head, _HEAD)}</tr>"
            f"{body}</table>")


def _signed(value: float, percent: bool = False) -> str:
    if value != value:
        return "–"
    return f"{value:+.1%}" if percent else f"{value:+.3f}"


_EVENT_WORDS = {"shock": "customers' needs jumped", "entrant": "a disruptor entered",
                "failure": "a firm failed", "reorganization": "a reorganization began",
                "new_segment": "a new segment appeared"}


def industry_html(report: dict[str, Any]) -> str:
    """The industry report of one round, the same for every team, as an HTML fragment.

    Every firm's share (and its change) and price; each segment's needs as they moved and
    its buying customers' growth; what the disruptors did; the round's events.
    """
    title = (f"<div style='font-weight: bold; font-size: 16px'>Industry report, round "
             f"{report['round']} (months {report['from_month'] + 1}–{report['to_month']})"
             "</div>")
    firms = _table(["Firm", "Team", "Share", "Change", "Price"],
                   [[f["firm"], f["team"] or ("disruptor" if f["entrant"] else "–"),
                     f"{f['share']:.1%}" if f["alive"] else "failed",
                     _signed(f["share_change"], True), f"{f['price']:.2f}"]
                    for f in report["firms"]], "oi-report-firms")
    segments = _table(["Segment", "Needs moved", "Most along", "Buying", "Growth"],
                      [[s["segment"], f"{s['needs_moved']:.3f}",
                        f"{s['most_moved']} {_signed(s['most_moved_by'])}",
                        f"{s['buying']:,}", _signed(s["growth"], True)]
                       for s in report["segments"]], "oi-report-segments")
    parts = [title, firms, segments]
    if report["disruptors"]:
        parts.append(_table(["Disruptor", "Share", "Price", "Performance"],
                            [[d["firm"], f"{d['share']:.1%}" if d["alive"] else "failed",
                              f"{d['price']:.2f}", "–" if d["performance"] != d["performance"]
                              else f"{d['performance']:.2f}"] for d in report["disruptors"]],
                            "oi-report-disruptors"))
    said = [f"month {e['step']}: {_EVENT_WORDS.get(e['kind'], e['kind'])}"
            + (f" ({e['firm']})" if e["firm"] else "") for e in report["events"]]
    parts.append(f"<div style='font-size: 13px; color: #555'>"
                 f"{escape('; '.join(said) or 'No events this round.')}</div>")
    return f"<div class='oi-report' style='overflow-x: auto'>{''.join(parts)}</div>"


def needs_html(view: NeedsView, researched: bool) -> str:
    """What a team sees of customers' needs: its departments' belief, and research if bought.

    Research shows each segment's surveyed needs with their standard error (±): the view
    narrows, for this round only.
    """
    head = ["Segment", *(d[:4].capitalize() + "." for d in view.dimensions)]
    rows = []
    for s, segment in enumerate(view.segments):
        rows.append([segment, *(f"{x:.2f}" for x in view.believed[s])])
        if view.survey is not None and view.survey_se is not None:
            rows.append([f"· research ±{float(view.survey_se[s].max()):.2f}",
                         *(f"{m:.2f}" for m in view.survey[s])])
    names = ", ".join(f"{d[:4].capitalize()}. {d}" for d in view.dimensions)
    note = (f"Each segment's line: what your customer-facing departments believe. "
            f"Research: what {view.asked} customers a segment value lastingly (± its largest "
            f"error), for this round only. {names}."
            if researched else
            f"Each segment's line: what your customer-facing departments believe; it may be "
            f"off by your awareness gap. Market research ({RESEARCH_COST:g} months of revenue) "
            f"asks customers, for this round only. {names}.")
    return (f"<div class='oi-needs' style='overflow-x: auto'>"
            f"{_table(head, rows, 'oi-needs-table')}"
            f"<div style='font-size: 13px; color: #555'>{escape(note)}</div></div>")


# --- the debrief ---------------------------------------------------------------------------
_STYLE = """
.oi-debrief { font-family: sans-serif; color: #222; }
.oi-debrief table { border-collapse: collapse; margin: 6px 0 14px 0; font-size: 14px;
  display: block; overflow-x: auto; max-width: 100%; }
.oi-debrief th, .oi-debrief td { border: 1px solid #ccc; padding: 3px 7px; text-align: right; }
.oi-debrief th:first-child, .oi-debrief td:first-child { text-align: left; }
.oi-debrief .charts { display: flex; flex-wrap: wrap; gap: 8px; }
.oi-debrief .charts > div { width: 420px; max-width: 100%; overflow-x: auto; }
.oi-debrief h1 { font-size: 26px; }
.oi-debrief h2 { font-size: 20px; margin-top: 22px; border-bottom: 2px solid #ddd; }
"""
"""The debrief's look; scoped to it, so that the page around it keeps its own."""


def _decision_text(row: RoundRow) -> str:
    d = row.decisions
    if d.reorganize:
        return f"to {d.reorganize.replace('_', '-')}, price {d.price:.2f}"
    return ", ".join(f"{k[:5]} {d.levers[k]:.2f}" for k in LEVERS) + f"; price {d.price:.2f}"


def _history_table(rows: list[RoundRow]) -> str:
    head = ("<tr><th>Round</th><th>Month</th><th>Decisions played</th><th>Share</th>"
            "<th>Cash (months of revenue)</th><th>Awareness gap</th><th>Action gap</th></tr>")
    body = "".join(
        f"<tr><td>{r.round}</td><td>{r.month}</td><td>{escape(_decision_text(r))}</td>"
        f"<td>{r.share:.1%}</td><td>{r.cash:,.1f}</td><td>{r.awareness_gap:.3f}</td>"
        f"<td>{r.action_gap:.3f}</td></tr>" if r.alive else
        f"<tr><td>{r.round}</td><td>{r.month}</td><td>{escape(_decision_text(r))}</td>"
        "<td colspan=4>failed (cash ran out)</td></tr>" for r in rows)
    return f"<table class='oi-debrief-history'>{head}{body}</table>"


def _ghost_chart(team: str, rows: list[RoundRow], ghosts: dict[str, list[RoundRow]],
                 metric: str) -> str:
    title = {"share": "Share at each round's end", "cash": "Cash at each round's end"}[metric]
    series = [svg.Series(team, svg.FIRM_COLORS[0], [r.month for r in rows],
                         [getattr(r, metric) for r in rows])]
    for i, (preset, ghost_rows) in enumerate(ghosts.items()):
        series.append(svg.Series(f"ghost {preset.replace('_', '-')}",
                                 svg.FIRM_COLORS[i + 1], [r.month for r in ghost_rows],
                                 [getattr(r, metric) for r in ghost_rows], dashed=True))
    months = [r.month for r in rows] or [12]
    return svg.line_chart(title, series, unit=MONTHS_OF_REVENUE if metric == "cash"
                          else "% of customers",
                          x_max=max(months), percent=metric == "share",
                          y_range=(0.0, 1.0) if metric == "share" else None,
                          test_id=f"debrief-{metric}")


def _what_if_row(futures: Any, runs: int) -> str:
    """The "what if" row: the team's decisions in ``runs`` futures beside the room's result."""
    def spread(values: Any, fmt: str) -> str:
        known = values[values == values]
        if not known.size:
            return "–"
        lo, mid, hi = (float(x) for x in np.quantile(known, [0.1, 0.5, 0.9]))
        return f"median {mid:{fmt}} (10–90%: {lo:{fmt}} to {hi:{fmt}})"
    return _table(
        ["What if", "In the room", f"In {runs} futures", "Futures it did worse in"],
        [["Share", f"{futures.actual_share:.1%}", spread(futures.share, '.1%'),
          f"{futures.share_percentile:.0%}"],
         ["Cash (months of revenue)", f"{futures.actual_cash:,.1f}",
          spread(futures.cash, ',.1f'), f"{futures.cash_percentile:.0%}"],
         ["Still in business", "", f"{float(np.nanmean(futures.alive)):.0%} of futures", ""]],
        "oi-what-if")


def debrief_body(shop: Workshop, what_if: WhatIf | None = None) -> str:
    """The debrief as an HTML fragment: teams' rounds beside their figures, ghosts, events.

    With ``what_if``, each team's section ends with its "what if" row.
    """
    with shop.lock:
        history = shop.history()
        ghosts = {p: shop.ghost(p).history for p in GHOSTS}
        events = event_marks(shop.market.model)
        board = shop.leaderboard()
        removed = {t.name for t in shop.market.teams.values() if t.removed}
        firms = {t.name: t.firm for t in shop.market.teams.values()}
        grants = list(shop.market.grants)
        bought = list(shop.market.bought)
        practiced = any(r.kind == "reset" for r in shop.records)
    title = escape(str(getattr(shop.scenario, "title", "") or "The default market"))
    parts = [f"<h1>Workshop debrief: {title}</h1>",
             f"<p>Seed {shop.start.seed}; {shop.start.round_months} months a round; "
             f"{len(history)} teams; month {shop.month}.</p>", "<h2>Leaderboard</h2>",
             "<table class='oi-debrief-board'><tr><th>Rank</th><th>Team</th><th>Share</th>"
             "<th>Cash (months of revenue)</th><th>Satisfaction</th>"
             "<th>Loss after last shock</th></tr>"]
    for row in board:
        parts.append(f"<tr><td>{row['rank']}</td><td>{escape(row['team'])}</td>"
                     f"<td>{row['share']:.1%}</td><td>{row['cash']:,.1f}</td>"
                     f"<td>{number(row['satisfaction'])}</td>"
                     f"<td>{number(row['resilience'])}</td></tr>")
    parts.append("</table><h2>Events</h2><ul class='oi-debrief-events'>")
    for e in events:
        parts.append(f"<li>{escape(e.label)}</li>")
    parts.append("</ul>")
    if practiced:
        parts.append("<p>A practice round came first; the market was then reset to month 0 "
                     "(same teams, same firms). The tables start after the reset.</p>")
    parts.append("<h2>Grants and fines</h2>")
    parts.append(_table(["Team", "Round", "Month", "Amount (months of revenue)", "Reason"],
                        [[g.team, str(g.round), str(g.month), f"{g.amount:+.2f}", g.reason]
                         for g in grants], "oi-debrief-grants") if grants
                 else "<p>None.</p>")
    parts.append("<h2>Market research bought</h2>")
    parts.append(_table(["Team", "Round", "Month", "Cost (months of revenue)"],
                        [[team, str(r), str(m), f"{RESEARCH_COST:.2f}"] for r, m, team in bought],
                        "oi-debrief-research") if bought else "<p>None.</p>")
    if what_if is not None:
        parts.append(f"<p class='oi-what-if-note'>What if: each team's own decisions (and "
                     f"everyone else's, the shocks, disruptors, grants and research at the "
                     f"same months) replayed in {what_if.runs} futures, seeds derived from "
                     f"{what_if.root_seed}. A team far above its own median was lucky; a "
                     "team whose futures beat the others' was good.</p>")
    for team, rows in history.items():
        gone = " (removed)" if team in removed else ""
        parts.append(f"<h2 class='oi-debrief-team'>{escape(team)}{gone} — firm "
                     f"{escape(firms.get(team, ''))}</h2>")
        parts.append(_history_table(rows))
        own = {p: g.get(team, []) for p, g in ghosts.items()}
        parts.append("<p>Ghosts: the same firm run by the inside-out and the outside-in "
                     "preset from month 0, on the same seed and events, without the "
                     "team's decisions.</p><div class='charts'>")
        for metric in ("share", "cash"):
            parts.append(f"<div>{_ghost_chart(team, rows, own, metric)}</div>")
        parts.append("</div>")
        if what_if is not None and team in what_if.teams:
            parts.append(_what_if_row(what_if.teams[team], what_if.runs))
    return f"<div class='oi-debrief'><style>{_STYLE}</style>{''.join(parts)}</div>"


def debrief_html(shop: Workshop, what_if: WhatIf | None = None) -> str:
    """The debrief as one self-contained HTML file (no scripts, no outside files)."""
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<title>Outside-In workshop debrief</title>"
            "</head><body style='margin: 16px'>"
            f"{debrief_body(shop, what_if)}</body></html>")
