"""The workshop handout of a comparison: a figure (PNG bytes) and a self-contained HTML page.

Both are returned as values, not written, so the caller decides where they go, and both are
byte-for-byte the same for the same comparison (no timestamps, fixed figure metadata), so a
facilitator can regenerate a handout and get the same file.

The page is written for an executive: a summary in words first (generated from the numbers
and their intervals), plain labels from the outcome registry, money in months of fair-share
revenue, and only the panels and rows the scenario gives something to show. Every section
that can answer a discussion question carries ``data-subjects`` naming the
:data:`simulation.outcomes.SUBJECTS` it shows; a scenario's ``answered_by`` maps each question
to them.
"""

from __future__ import annotations

import base64
import html
import io
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from experiments.comparison.compare import FRAMING_TEXT, MIN_IN_BUSINESS, Comparison
from experiments.intervals import CONFIDENCE, interval_for
from simulation import levers as lv
from simulation import outcomes as reg
from simulation.figures import event_handles, mark_events, panel_title, shown
from simulation.presets import PRESETS
from simulation.scenario import Scenario
from simulation.structures import incumbent_specs, reorganization_target

_COLORS = ("#c0504d", "#1f77b4")
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")


def plain(name: str) -> str:
    """A code-style name as a reader sees it: ``inside_out`` becomes ``Inside-out``."""
    if re.fullmatch(r"[a-z0-9_]+", name):
        text = name.replace("_", "-")
        return text[:1].upper() + text[1:]
    return name


def subjects_shown(scenario: Scenario) -> list[str]:
    """The :data:`simulation.outcomes.SUBJECTS` a handout of this scenario shows, in order."""
    kinds = scenario.event_kinds()
    return [s for s in reg.SUBJECTS if reg.SUBJECT_NEEDS.get(s, "") in ("", *kinds)]


def _event_name(kind: str) -> str:
    return reg.label(kind)


def _panels(result: Comparison) -> list[str]:
    subjects = subjects_shown(result.scenario)
    panels = ["market_share"]
    if "entrants_share" in subjects:
        panels.append("entrants_share")
    return panels + ["profit", "cash", "awareness_gap", "action_gap"]


def figure_png(result: Comparison, dpi: int = 100) -> bytes:
    """Mean paths of the focal firm with 95% bands, one panel per subject, events marked.

    Panels: market share, the disruptors' share (where the scenario has disruptors), profit
    and cash in months of revenue, and the two gaps. Months in which firms failed (in any
    run) are marked with black ticks under the share panels.

    Returns:
        The PNG file's bytes.

    """
    import matplotlib.pyplot as plt  # simulation.figures has chosen the Agg backend

    metrics = _panels(result)
    events = [{"step": step, "kind": kind} for step, kind in result.scheduled]
    fig, axes = plt.subplots(len(metrics), 1, figsize=(7.5, 1.85 * len(metrics)), sharex=True,
                             layout="constrained")
    paths = result.paths
    failures = paths[paths["metric"] == "failures"].groupby("step")["mean"].sum()
    failed = failures[failures > 0].index.to_numpy()
    for ax, metric in zip(axes, metrics, strict=True):
        for color, label in zip(_COLORS, result.labels, strict=True):
            rows = paths[(paths["organization"] == label) & (paths["metric"] == metric)]
            ax.plot(rows["step"], shown(metric, rows["mean"]), color=color, lw=1.5,
                    label=plain(label))
            ax.fill_between(rows["step"], shown(metric, rows["low"]), shown(metric, rows["high"]),
                            color=color, alpha=0.18, lw=0)
        mark_events(ax, events)
        if metric in ("market_share", "entrants_share") and failed.size:
            ax.plot(failed, np.full(failed.size, 0.0), "|", color="black", ms=9, mew=1.2,
                    transform=ax.get_xaxis_transform(), clip_on=False)
        ax.set_title(panel_title(metric), fontsize=9, loc="left")
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.25)
    axes[0].legend(loc="best", fontsize=8, ncol=2)
    kinds = sorted({kind for _, kind in result.scheduled})
    handles = event_handles(kinds)
    if failed.size:
        handles.append(plt.Line2D([], [], color="black", marker="|", ls="", ms=9,
                                  label="a firm failed (some run)"))
    if handles:  # one legend entry per kind of event
        axes[-1].legend(handles=handles, fontsize=8, loc="best")
    axes[-1].set_xlabel("month")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


# --- numbers as text --------------------------------------------------------------------------

def fmt(value: float, outcome: str = "", difference: bool = False) -> str:
    """A number as a handout shows it.

    Shares as percentages (differences in points), money in months of revenue, NaN
    (undefined) as a dash.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    unit = reg.outcome(outcome).unit if outcome else ""
    sign = "+" if difference and value > 0 else ""
    if unit == "share":
        return f"{sign}{100 * value:.1f}" + (" pts" if difference else "%")
    if unit in ("months", "revenue-months", "pre-shock-months"):
        return f"{sign}{value:.1f}"
    if abs(value) >= 100:
        return f"{sign}{value:,.0f}"
    return f"{sign}{value:.3f}" if abs(value) < 1 else f"{sign}{value:.2f}"


def interval_text(row: pd.Series | dict[str, Any], prefix: str) -> str:
    """``mean [low, high]`` of one organization (``a``/``b``) or of the difference."""
    outcome = str(row["outcome"])
    d = prefix == "diff"
    if not np.isfinite(row[f"{prefix}_low"]):
        return f"{fmt(row[f'{prefix}_mean'], outcome, d)} (too few runs for an interval)"
    return (f"{fmt(row[f'{prefix}_mean'], outcome, d)} "
            f"[{fmt(row[f'{prefix}_low'], outcome, d)}, {fmt(row[f'{prefix}_high'], outcome, d)}]")


def _label_with_unit(outcome: str) -> str:
    unit = reg.unit_text(outcome)
    label = reg.OUTCOMES[outcome].label
    return f"{label} ({unit})" if unit and unit != "%" else label


def not_measured(result: Comparison, framing: str | None = None) -> dict[str, str]:
    """Outcomes with nothing to measure in these runs, each with the reason in words."""
    runs = result.runs[result.runs["framing"] == (framing or result.framing)]
    out: dict[str, str] = {}
    for outcome in reg.COMPARED:
        o = reg.OUTCOMES[outcome]
        needs = o.needs
        column = {"shock": "shocks", "entrant": "entrants"}.get(needs, "")
        values = runs[outcome].to_numpy(dtype=float)
        if column and column in runs and not (runs[column] > 0).any():
            out[outcome] = (f"{o.label}: no {_event_name(needs)} happened in any run, so "
                            "there is nothing to measure")
        elif not np.isfinite(values).any():
            out[outcome] = f"{o.label}: undefined in every run ({o.undefined})"
        elif np.nanmax(values) == np.nanmin(values):
            out[outcome] = (f"{o.label}: {fmt(float(np.nanmax(values)), outcome)} in every "
                            "run of both organizations, so there is no difference to show")
    return out


def table_rows(result: Comparison, framing: str | None = None) -> list[list[str]]:
    """The comparison table as text cells: outcome, each organization, difference.

    Rows with nothing to measure (:func:`not_measured`) are left out; the handout says why.

    Args:
        result: the comparison.
        framing: the framing's table (default: the one the comparison shows).

    """
    table = result.tables[framing or result.framing]
    hidden = not_measured(result, framing)
    return [[_label_with_unit(str(row["outcome"])), interval_text(row, "a"),
             interval_text(row, "b"), interval_text(row, "diff")] for _, row in table.iterrows()
            if row["outcome"] not in hidden]


def table_header(result: Comparison) -> list[str]:
    """Column titles of :func:`table_rows`."""
    a, b = (plain(x) for x in result.labels)
    return ["outcome", a, b, f"difference ({b} − {a})"]


def undefined_notes(result: Comparison) -> list[str]:
    """A sentence per shown outcome that had no value in some runs, with the reason."""
    notes = []
    hidden = not_measured(result)
    for _, row in result.table.iterrows():
        if row["undefined"] and row["outcome"] not in hidden:
            out = reg.OUTCOMES[str(row["outcome"])]
            notes.append(f"{out.label}: undefined in {int(row['undefined'])} of "
                         f"{2 * result.reps} runs ({out.undefined}); those replications are "
                         "left out of its row")
    return notes


def disagreement_rows(result: Comparison) -> list[list[str]]:
    """Outcomes whose difference changes sign between the framings: framing, difference."""
    rows = []
    for outcome in result.disagreements():
        for framing, table in result.tables.items():
            row = table.set_index("outcome").loc[outcome]
            rows.append([reg.OUTCOMES[outcome].label, framing,
                         interval_text({**{str(k): v for k, v in row.items()},
                                        "outcome": outcome}, "diff")])
    return rows


def summary_sentences(result: Comparison) -> list[str]:
    """The numbers of the table in words, each with its interval.

    Honest where the runs cannot tell the two organizations apart, and about what a
    simulation's interval means.
    """
    a, b = (plain(x) for x in result.labels)
    hidden = not_measured(result)
    pct = f"{CONFIDENCE:.0%}"
    said, unclear = [], []
    for _, row in result.table.iterrows():
        outcome = str(row["outcome"])
        if outcome in hidden or not np.isfinite(row["diff_mean"]):
            continue
        o = reg.OUTCOMES[outcome]
        low, high = float(row["diff_low"]), float(row["diff_high"])
        if not (np.isfinite(low) and np.isfinite(high)) or low <= 0 <= high:
            unclear.append(o.label)
            continue
        mean = float(row["diff_mean"])
        size = fmt(abs(mean), outcome, difference=False)
        if o.unit == "share":
            size = f"{100 * abs(mean):.1f} points"
        elif o.unit == "revenue-months":
            size = f"{abs(mean):.1f} months of revenue"
        elif o.unit == "months":
            size = f"{abs(mean):.1f} months"
        word = "higher" if mean > 0 else "lower"
        better = ((o.better == "higher") == (mean > 0)) if o.better != "neither" else None
        judged = "" if better is None else (" (better)" if better else " (worse)")
        said.append(f"the {b} firm's {o.label} was {size} {word} than the {a} firm's"
                    f"{judged} ({pct}: {fmt(low, outcome, True)} to "
                    f"{fmt(high, outcome, True)})")
    head = (f"Over {result.reps} paired runs ({FRAMING_TEXT[result.framing].split(':')[0]}), ")
    out = [head + said[0] + ".", *(f"{t[0].upper()}{t[1:]}." for t in said[1:])] if said else [
        head + "the runs show no difference between the two organizations that chance could "
        "not explain."]
    if unclear:
        out.append(f"On {', '.join(unclear)} the runs cannot tell the two apart: the "
                   f"{pct} interval of the difference includes zero.")
    out.append("These are runs of a simulation, not a forecast: the intervals say how much the "
               "means would move with other random draws of the same model, not how sure "
               "anyone can be about a real firm.")
    return out


# --- sections ---------------------------------------------------------------------------------

def _ordinal_name(what: str, k: int) -> str:
    thing = "new segment" if what == "time_to_serve" else "disruptor"
    return f"{_ORDINALS[k] if k < len(_ORDINALS) else f'#{k + 1}'} {thing}"


def encounter_rows(result: Comparison, whats: Sequence[str]) -> list[list[str]]:
    """Per disruptor (or new segment) in order of arrival: when it came, how often, how soon.

    For each organization: in how many runs it noticed / answered / served it, and after how
    many months.
    """
    e = result.encounters
    e = e[(e["framing"] == result.framing) & e["what"].isin(list(whats))]
    rows = []
    order = {what: i for i, what in enumerate(whats)}  # noticed before answered
    groups: list[tuple[tuple[int, str], pd.DataFrame]] = [
        ((int(key[0]), str(key[1])), group)  # type: ignore[index, call-overload]
        for key, group in e.groupby(["k", "what"])]
    groups.sort(key=lambda kv: (kv[0][0], order[kv[0][1]]))
    for (k, what), group in groups:
        arrived = group["arrived"].to_numpy(dtype=float)
        cells = [f"{_ordinal_name(str(what), int(k))}: {reg.label(str(what))}",
                 f"{np.min(arrived):.0f}" if np.ptp(arrived) == 0 else
                 f"{np.min(arrived):.0f}–{np.max(arrived):.0f}"]
        for label in result.labels:
            months = group.loc[group["organization"] == label, "months"].to_numpy(dtype=float)
            share = interval_for("survived", np.isfinite(months).astype(float))
            cells.append(f"{share.mean:.0%} of {months.size} runs [{share.low:.0%}, "
                         f"{share.high:.0%}]")
            if np.isfinite(months).any():
                t = interval_for(str(what), months)
                cells.append(f"{fmt(t.mean, str(what))} (one run)" if t.n < 2 else
                             f"{fmt(t.mean, str(what))} [{fmt(t.low, str(what))}, "
                             f"{fmt(t.high, str(what))}]")
            else:
                cells.append("never")
        rows.append(cells)
    return rows


def _encounter_table(result: Comparison, whats: Sequence[str], subject: str,
                     title: str, none: str) -> str:
    e = html.escape
    rows = encounter_rows(result, whats)
    if not rows:
        return (f'<section data-subjects="{subject}"><h3>{e(title)}</h3>'
                f'<p class="note">{e(none)}</p></section>')
    a, b = (plain(x) for x in result.labels)
    head = ("<tr><th>what</th><th>month it arrived</th>"
            f"<th>{e(a)}: how often</th><th>{e(a)}: months after</th>"
            f"<th>{e(b)}: how often</th><th>{e(b)}: months after</th></tr>")
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return (f'<section data-subjects="{subject}"><h3>{e(title)}</h3><table class="wide">'
            f"<thead>{head}</thead><tbody>{body}</tbody></table>"
            '<p class="note">How often: the share of runs in which it happened, with its '
            f"{CONFIDENCE:.0%} Wilson interval. Months after: the mean over the runs where it "
            "happened, with a bootstrap interval.</p></section>")


def _organizations(result: Comparison) -> str:
    """Each organization's five levers and what they cost a month, and its reorganization.

    Read off the model's parameters of each arm, by the model's own rules (the focal firm's
    spec, the reorganization's target), so the handout describes the runs it shows.
    """
    e = html.escape
    timeline_reorganizes = any(ev.event == "reorganization" for ev in result.scenario.timeline)
    items = []
    for arm in result.arms:
        p = result.scenario.to_params(**arm.overrides())
        focal = incumbent_specs(p)[0]
        values = PRESETS[focal.structure].lever_values(focal.levers)
        text = (f"<li><b>{e(plain(arm.label))}</b>: organized {e(plain(focal.structure))}: "
                f"{e(_levers_text(values, p.lever_cost))}")
        if p.reorganize_step is not None:
            target, structure = reorganization_target(values, focal.structure, p.reorganize_to)
            name = plain(structure) if isinstance(p.reorganize_to, str | None) \
                else "new lever values"
            text += (f". From month {p.reorganize_step} it reorganizes to {e(name)} over "
                     f"{p.transition_steps} months, for a one-off {p.reorganize_cost:g} months "
                     f"of revenue: {e(_levers_text(target, p.lever_cost))}")
        elif timeline_reorganizes:
            text += "; it does not reorganize"
        items.append(text + ".</li>")
    return (f'<section data-subjects="organizations"><h2>The two organizations</h2>'
            f"<ul>{''.join(items)}</ul><p class=\"note\">Each lever runs from 0 to 1; "
            "the levers' upkeep is paid every month, in months of revenue (one firm's fair "
            "share of a month's revenue).</p></section>")


def _levers_text(values: dict[str, float], lever_cost: float) -> str:
    levers = ", ".join(f"{reg.label(k)} {v:g}" for k, v in values.items())
    cost = lv.upkeep(values, lever_cost)
    return f"{levers}; upkeep {cost:.2f} months of revenue a month"


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.92rem; max-width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.5rem; text-align: right;
         vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f3f3; }
img { max-width: 100%; height: auto; }
.summary { font-size: 1.05rem; background: #f6f8fa; padding: 0.6rem 1rem;
           border-left: 4px solid #1f77b4; }
.note { color: #555; font-size: 0.9rem; }
.answer { color: #555; font-size: 0.88rem; }
@page { size: A4 portrait; margin: 14mm 12mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; }
  table { font-size: 8.5pt; width: 100%; }
  table.wide { font-size: 7.5pt; }
  th, td { padding: 0.15rem 0.3rem; }
  h1 { font-size: 16pt; } h2 { font-size: 12.5pt; } h3 { font-size: 11pt; }
  tr, img, figure, li, .summary { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  .summary { background: none; }
}
"""


def html_report(result: Comparison, png: bytes) -> str:
    """A self-contained HTML handout that prints on A4.

    The summary in words first, the organizations, the table, the figure, the timing tables
    the scenario calls for, and the questions with where each is answered.
    """
    s = result.scenario
    e = html.escape
    a, b = (plain(x) for x in result.labels)
    shown = subjects_shown(s)
    head = "".join(f"<th>{e(h)}</th>" for h in table_header(result))
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>"
                   for row in table_rows(result))
    hidden = "".join(f'<p class="note">{e(n)}.</p>' for n in not_measured(result).values())
    framing = f"<p><b>Framing: {e(FRAMING_TEXT[result.framing])}.</b></p>"
    framing += "".join(f'<p class="note">{e(n)}</p>' for n in result.notes)
    clash = disagreement_rows(result)
    if clash:
        cells = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>"
                        for row in clash)
        framing_table = (
            "<h3>Where the two framings disagree</h3><p>For these outcomes the difference "
            f"{e(b)} − {e(a)} has opposite signs head-to-head "
            "(the two organizations compete in one market) and in the swap (the focal firm "
            "organized one way or the other, against the same rivals): the answer depends on "
            "the question asked.</p><table><thead><tr><th>outcome</th><th>framing</th>"
            f"<th>difference</th></tr></thead><tbody>{cells}</tbody></table>")
    else:
        other = [f for f in result.tables if f != result.framing]
        framing_table = (f'<p class="note">The {e(other[0])} framing gives differences of the '
                         "same sign for every outcome.</p>") if other else ""
    undefined = "".join(f'<p class="note">{e(n)}.</p>' for n in undefined_notes(result))
    summary = "".join(f"<p>{e(t)}</p>" for t in summary_sentences(result))
    events = ", ".join(f"{_event_name(k)} in month {m}" for m, k in result.scheduled)
    rand = "; ".join(
        f"{e(plain(label))}: " + (", ".join(f"{v:.1f} {_event_name(k)}" for k, v in
                                            sorted(counts.items())) or "none")
        for label, counts in result.random_events[result.framing].items())
    timing = ""
    if "notice" in shown:
        timing += _encounter_table(result, ("time_to_notice", "time_to_answer"), "notice",
                                   "Noticing and answering each disruptor",
                                   "No disruptor entered in these runs.")
    if "serve" in shown:
        timing += _encounter_table(result, ("time_to_serve",), "serve",
                                   "Serving each new segment",
                                   "No new segment emerged in these runs.")
    panels = _panels(result)
    figure_subjects = " ".join(p for p in panels if p in reg.SUBJECTS)
    rows_subjects = "market_share profit cash survival awareness_gap action_gap" + (
        " recovery" if "recovery" in shown else "")
    answered = getattr(s, "answered_by", None) or []
    items = []
    for i, q in enumerate(s.questions):
        where = answered[i] if i < len(answered) else []
        hint = ("" if not where else '<br><span class="answer">Look at: '
                + e("; ".join(reg.SUBJECTS[w] for w in where)) + "</span>")
        items.append(f"<li>{e(q)}{hint}</li>")
    questions = "".join(items)
    image = base64.b64encode(png).decode("ascii")
    panel_names = ", ".join(reg.outcome(p).title.lower() for p in panels)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{e(s.title)}: {e(a)} vs {e(b)}</title>
<style>{_CSS}</style></head><body>
<h1>{e(s.title)}</h1>
<section class="summary" data-subjects="summary">{summary}</section>
<p class="note">{e(a)} compared with {e(b)}: {result.reps} replications on the same seeds
(root seed {result.seed}), {result.steps} months per run.</p>
<h2>The situation</h2><p>{e(s.description)}</p>
<h2>What it is meant to teach</h2><p>{e(s.teaches)}</p>
{_organizations(result)}
<section data-subjects="{rows_subjects}">
<h2>Outcomes of the two organizations</h2>
{framing}
<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
{hidden}
{framing_table}
{undefined}
<p class="note">Each cell is a mean with its {CONFIDENCE:.0%} interval, made for its kind:
survival (a share of runs) has a Wilson interval, outcomes that cannot leave a range (shares,
months, gaps) a bootstrap interval of the runs, which stays in that range, and money a t
interval. Money is in months of fair-share revenue (one firm's fair share of a month's
revenue at the start). The difference is paired: every run of replication <i>i</i> starts
from the same seed, and its interval is that of the per-replication differences; if it
excludes 0, the difference is unlikely to be chance. Survival: the share of runs in which the
firm is still in business at the end. Awareness gap: how far the firm's picture of its
customers' needs is from their true needs; action gap: how far its offering is from what it
believes they need (0 is a perfect match).</p>
</section>
<figure data-subjects="{figure_subjects}">
<h2>Month by month</h2>
<img alt="Mean per month with {CONFIDENCE:.0%} bands: {e(panel_names)}"
 src="data:image/png;base64,{image}">
<figcaption class="note">Lines: mean of the runs; bands: {CONFIDENCE:.0%} interval. The gaps
are those of firms still in business, drawn while at least {MIN_IN_BUSINESS} runs' firms are.
Scheduled events (dashed): {e(events) or "none"}. Random events per run on average
({rand or "none"}) happen at different months in different runs and are not marked.
</figcaption></figure>
{timing}
<h2>Questions for discussion</h2><ol>{questions}</ol>
</body></html>
"""
