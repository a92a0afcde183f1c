"""The workshop as tables: one CSV per table in a zip, and one spreadsheet (.xlsx).

The tables are plain rows (:func:`tables`): the teams, each team's rounds, the decisions
they submitted, the events, the grants and fines, the market research bought, and the
industry reports (firms and segments). :func:`xlsx` writes them as one workbook, a sheet a
table, with the standard library alone: an .xlsx file is a zip of a few XML parts (Office
Open XML's SpreadsheetML), and the workbook needs only the parts every reader requires.
Strings go in as inline strings, numbers as numbers; no formulas, no styles.
"""

from __future__ import annotations

import csv
import io
import math
import zipfile
from typing import Any
from xml.sax.saxutils import escape

from simulation.params import LEVERS
from simulation.viz.workshop.session import RESEARCH_COST, Workshop

Table = tuple[list[str], list[list[Any]]]
"""A table: its column names and its rows."""


def tables(shop: Workshop) -> dict[str, Table]:
    """Every table of the workshop since month 0 (after the practice, if there was one)."""
    with shop.lock:
        market = shop.market
        history = shop.history()
        firms = {t.name: t.firm for t in market.teams.values()}
        removed = {t.name for t in market.teams.values() if t.removed}
        events = list(market.model.events)
        grants = list(market.grants)
        bought = list(market.bought)
        reports = list(market.reports)
        last_reset = max((i for i, r in enumerate(shop.records) if r.kind == "reset"),
                         default=-1)
        submits = [r for r in shop.records[last_reset + 1:] if r.kind == "submit"]
    out: dict[str, Table] = {}
    out["teams"] = (["team", "firm", "removed"],
                    [[name, firms.get(name, ""), name in removed] for name in history])
    out["rounds"] = (["team", "round", "month", "share", "cash_months_of_revenue",
                      "satisfaction", "awareness_gap", "action_gap", "alive", "price",
                      "reorganize", *LEVERS],
                     [[team, r.round, r.month, r.share, r.cash, r.satisfaction,
                       r.awareness_gap, r.action_gap, r.alive, r.decisions.price,
                       r.decisions.reorganize, *(r.decisions.levers[k] for k in LEVERS)]
                      for team, rows in history.items() for r in rows])
    out["decisions"] = (["team", "price", "reorganize", *LEVERS],
                        [[r.team, r.decisions.price, r.decisions.reorganize,
                          *(r.decisions.levers[k] for k in LEVERS)] for r in submits])
    out["events"] = (["month", "kind", "firm"],
                     [[e["step"], e["kind"], e["firm"] or ""] for e in events])
    out["grants"] = (["round", "month", "team", "amount_months_of_revenue", "reason"],
                     [[g.round, g.month, g.team, g.amount, g.reason] for g in grants])
    out["research"] = (["round", "month", "team", "cost_months_of_revenue"],
                       [[r, m, team, RESEARCH_COST] for r, m, team in bought])
    out["industry_firms"] = (["round", "month", "firm", "team", "entrant", "alive", "share",
                              "share_change", "price"],
                             [[rep["round"], rep["to_month"], f["firm"], f["team"],
                               f["entrant"], f["alive"], f["share"], f["share_change"],
                               f["price"]] for rep in reports for f in rep["firms"]])
    out["industry_segments"] = (["round", "month", "segment", "needs_moved", "most_moved",
                                 "most_moved_by", "buying", "growth"],
                                [[rep["round"], rep["to_month"], s["segment"],
                                  s["needs_moved"], s["most_moved"], s["most_moved_by"],
                                  s["buying"], s["growth"]]
                                 for rep in reports for s in rep["segments"]])
    return out


def _cell_text(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    return str(value)


def csv_zip(shop: Workshop) -> bytes:
    """Every table as ``NAME.csv`` (UTF-8, a header line) in one zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, (columns, rows) in tables(shop).items():
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows([[_cell_text(v) for v in row] for row in rows])
            zf.writestr(f"{name}.csv", text.getvalue())
    return buffer.getvalue()


# --- a minimal SpreadsheetML workbook -------------------------------------------------------
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _column(index: int) -> str:
    """The letters of a column (0 is A, 26 is AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell(ref: str, value: Any) -> str:
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            return f'<c r="{ref}"/>'
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    text = escape(str(value))
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _sheet(columns: list[str], rows: list[list[Any]]) -> str:
    lines = []
    for r, row in enumerate([columns, *rows], start=1):
        cells = "".join(_cell(f"{_column(c)}{r}", v) for c, v in enumerate(row))
        lines.append(f'<row r="{r}">{cells}</row>')
    return f'{_XML}<worksheet xmlns="{_MAIN}"><sheetData>{"".join(lines)}</sheetData></worksheet>'


def xlsx(shop: Workshop) -> bytes:
    """Every table as a sheet of one workbook (.xlsx), written with the standard library."""
    sheets = tables(shop)
    names = list(sheets)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(names) + 1))
    content_types = (
        f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        f'officedocument.spreadsheetml.sheet.main+xml"/>{overrides}</Types>')
    root_rels = (f'{_XML}<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
                 f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    workbook = (f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
                + "".join(f'<sheet name="{escape(n[:31])}" sheetId="{i}" r:id="rId{i}"/>'
                          for i, n in enumerate(names, start=1))
                + "</sheets></workbook>")
    workbook_rels = (f'{_XML}<Relationships xmlns="{_PKG_REL}">'
                     + "".join(f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" '
                               f'Target="worksheets/sheet{i}.xml"/>'
                               for i in range(1, len(names) + 1))
                     + "</Relationships>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", content_types)
        zf.writestr("_rels/.rels", root_rels)
        zf.writestr("xl/workbook.xml", workbook)
        zf.writestr("xl/_rels/workbook.xml.rels", workbook_rels)
        for i, name in enumerate(names, start=1):
            columns, rows = sheets[name]
            zf.writestr(f"xl/worksheets/sheet{i}.xml", _sheet(columns, rows))
    return buffer.getvalue()
