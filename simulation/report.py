"""The workshop handout of a comparison: a figure (PNG bytes) and a self-contained HTML page.

Both are returned as values, not written, so the caller decides where they go, and both are
byte-for-byte the same for the same comparison (no timestamps, fixed figure metadata), so a
facilitator can regenerate a handout and get the same file.
"""

from __future__ import annotations

import base64
import html
import io
import math
from typing import Any

import pandas as pd

from experiments.compare import CONFIDENCE, FRAMING_TEXT, Comparison
from simulation import outcomes as reg
from simulation.figures import EVENT_STYLE, mark_events

_COLORS = ("#c0504d", "#1f77b4")


def _event_name(kind: str) -> str:
    return reg.label(kind)


def figure_png(result: Comparison, dpi: int = 100) -> bytes:
    """Mean trajectories of the focal firm with 95% bands, one panel per metric, events marked.

    Returns:
        The PNG file's bytes.

    """
    import matplotlib.pyplot as plt  # simulation.figures has chosen the Agg backend

    metrics = list(reg.TRAJECTORIES)
    events = [{"step": step, "kind": kind} for step, kind in result.scheduled]
    fig, axes = plt.subplots(len(metrics), 1, figsize=(8.5, 2.6 * len(metrics)), sharex=True,
                             layout="constrained")
    for ax, metric in zip(axes, metrics, strict=True):
        for color, label in zip(_COLORS, result.labels, strict=True):
            rows = result.paths[(result.paths["organization"] == label)
                                & (result.paths["metric"] == metric)]
            ax.plot(rows["step"], rows["mean"], color=color, lw=1.6, label=label)
            ax.fill_between(rows["step"], rows["low"], rows["high"], color=color, alpha=0.18,
                            lw=0)
        mark_events(ax, events)
        ax.set_ylabel(reg.SERIES[metric].label)
        ax.grid(alpha=0.25)
    axes[0].legend(loc="best", fontsize=8, ncol=2)
    kinds = sorted({kind for _, kind in result.scheduled})
    if kinds:  # one legend entry per kind of event, as in simulation.figures.run_figure
        handles = [plt.Line2D([], [], color=EVENT_STYLE.get(k, ("grey", k))[0], ls="--",
                              label=_event_name(k)) for k in kinds]
        axes[-1].legend(handles=handles, fontsize=8, loc="best")
    axes[0].set_title(f"{result.scenario.title} ({result.framing}): mean of {result.reps} "
                      f"runs each, {CONFIDENCE:.0%} band", fontsize=10)
    axes[-1].set_xlabel("month")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def fmt(value: float, outcome: str = "") -> str:
    """A number as a handout shows it: shares as percentages, NaN (undefined) as a dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    unit = reg.OUTCOMES[outcome].unit if outcome in reg.OUTCOMES else ""
    if unit == "share":
        return f"{100 * value:.1f}%"
    if unit == "months":
        return f"{value:.1f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3f}" if abs(value) < 1 else f"{value:.2f}"


def interval_text(row: pd.Series | dict[str, Any], prefix: str) -> str:
    """``mean [low, high]`` of one organization (``a``/``b``) or of the difference."""
    outcome = str(row["outcome"])
    return (f"{fmt(row[f'{prefix}_mean'], outcome)} "
            f"[{fmt(row[f'{prefix}_low'], outcome)}, {fmt(row[f'{prefix}_high'], outcome)}]")


def plus_minus_text(row: pd.Series | dict[str, Any], prefix: str) -> str:
    """``mean ± half-width``: the same interval, shorter (t intervals are symmetric)."""
    outcome = str(row["outcome"])
    mean, high = row[f"{prefix}_mean"], row[f"{prefix}_high"]
    if isinstance(high, float) and math.isnan(high):
        return fmt(mean, outcome)
    return f"{fmt(mean, outcome)} ± {fmt(high - mean, outcome)}"


def table_rows(result: Comparison, compact: bool = False,
               framing: str | None = None) -> list[list[str]]:
    """The comparison table as text cells: outcome, each organization, difference, pairs.

    Args:
        result: the comparison.
        compact: ``mean ± half-width`` (for a terminal) instead of ``mean [low, high]``.
        framing: the framing's table (default: the one the comparison shows).

    """
    cell = plus_minus_text if compact else interval_text
    table = result.tables[framing or result.framing]
    return [[str(row["label"]), cell(row, "a"), cell(row, "b"), cell(row, "diff"),
             str(int(row["pairs"]))] for _, row in table.iterrows()]


def table_header(result: Comparison) -> list[str]:
    """Column titles of :func:`table_rows`."""
    return ["outcome", result.labels[0], result.labels[1],
            f"{result.labels[1]} − {result.labels[0]}", "pairs"]


def undefined_notes(result: Comparison) -> list[str]:
    """A sentence per outcome that had no value in some runs, with the registry's reason."""
    notes = []
    for _, row in result.table.iterrows():
        if row["undefined"]:
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


def html_report(result: Comparison, png: bytes) -> str:
    """A self-contained HTML handout: the situation, the table, the figure, the questions."""
    s = result.scenario
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in table_header(result))
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>"
                   for row in table_rows(result))
    questions = "".join(f"<li>{e(q)}</li>" for q in s.questions)
    framing = f"<p><b>Framing: {e(FRAMING_TEXT[result.framing])}.</b></p>"
    framing += "".join(f'<p class="note">{e(n)}</p>' for n in result.notes)
    clash = disagreement_rows(result)
    if clash:
        cells = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>"
                        for row in clash)
        framing_table = (
            "<h3>Where the two framings disagree</h3><p>For these outcomes the difference "
            f"{e(result.labels[1])} − {e(result.labels[0])} has opposite signs head-to-head "
            "(the two organizations compete in one market) and in the swap (the focal firm "
            "organized one way or the other, against the same rivals): the answer depends on "
            "the question asked.</p><table><thead><tr><th>outcome</th><th>framing</th>"
            f"<th>difference</th></tr></thead><tbody>{cells}</tbody></table>")
    else:
        other = [f for f in result.tables if f != result.framing]
        framing_table = (f'<p class="note">The {e(other[0])} framing gives differences of the '
                         "same sign for every outcome.</p>") if other else ""
    undefined = "".join(f'<p class="note">{e(n)}.</p>' for n in undefined_notes(result))
    events = ", ".join(f"{_event_name(k)} in month {m}" for m, k in result.scheduled)
    rand = "; ".join(
        f"{e(label)}: " + (", ".join(f"{v:.1f} {_event_name(k)}" for k, v in
                                     sorted(counts.items())) or "none")
        for label, counts in result.random_events[result.framing].items())
    image = base64.b64encode(png).decode("ascii")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{e(s.title)}: {e(result.labels[0])} vs {e(result.labels[1])}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; line-height: 1.45; }}
table {{ border-collapse: collapse; margin: 1rem 0; font-size: 0.92rem; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 0.35rem 0.6rem; text-align: right;
         white-space: nowrap; }}
th:first-child, td:first-child {{ text-align: left; }}
th {{ background: #f3f3f3; }}
img {{ max-width: 100%; }}
.note {{ color: #555; font-size: 0.9rem; }}
</style></head><body>
<h1>{e(s.title)}</h1>
<p class="note">Scenario <code>{e(result.name)}</code>: {e(result.labels[0])} compared with
{e(result.labels[1])}, {result.reps} replications on the same seeds (root seed
{result.seed}), {result.steps} months per run.</p>
<h2>The situation</h2><p>{e(s.description)}</p>
<h2>What it is meant to teach</h2><p>{e(s.teaches)}</p>
<h2>Outcomes of the two organizations</h2>
{framing}
<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
{framing_table}
{undefined}
<p class="note">Each cell is a mean with its {CONFIDENCE:.0%} confidence interval (t
distribution). The difference is paired: every run of replication <i>i</i> starts from the
same seed (head-to-head, both organizations are in the same runs, each in both places), and
the interval is that of the mean of the per-replication differences. If it excludes 0, the
difference is unlikely to be chance. Survival is the share of runs in which the firm is still
in business at the end; resilience loss is the area of lost market share after shocks
(lower is better); time to recover is in months, over runs with a shock to recover from.
Awareness gap: how far the firm's picture of its customers' needs is from their true needs;
action gap: how far its offering is from what it believes they need.</p>
<h2>Trajectories</h2>
<img alt="Mean market share, awareness gap and action gap per month, with bands"
 src="data:image/png;base64,{image}">
<p class="note">Scheduled events: {e(events) or "none"}. Random events per run on average
({rand or "none"}) happen at different months in different runs and are not marked.</p>
<h2>Questions for discussion</h2><ol>{questions}</ol>
</body></html>
"""
