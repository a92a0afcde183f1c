"""Figures of a run's per-step table (matplotlib; a face of the model, not part of its core)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files, not windows: the CLI and reports run without a screen
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.artist import Artist  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from simulation.event_style import EVENT_STYLE  # noqa: E402
from simulation.outcomes import (  # noqa: E402
    PANELS,
    display_scale,
    in_revenue_months,
    outcome,
    unit_text,
)


def panel_title(metric: str) -> str:
    """A panel's title with its unit, as every figure shows it: ``Market share (%)``."""
    out = outcome(metric)
    unit = unit_text(metric)
    return f"{out.title} ({unit})" if unit else f"{out.title} ({out.scale})"


def shown(metric: str, values: Any) -> Any:
    """Values as a figure draws them: shares in %, anything else as given."""
    return display_scale(metric) * values


def mark_events(ax: Axes, events: Iterable[Mapping[str, Any]]) -> None:
    """Draw a vertical line at each event, coloured by its kind."""
    for event in events:
        colour, _ = EVENT_STYLE.get(event["kind"], ("grey", event["kind"]))
        ax.axvline(event["step"], color=colour, lw=0.8, ls="--", alpha=0.7)


def event_handles(kinds: Iterable[str]) -> list[Line2D]:
    """One legend entry per kind of event, in the colour that marks it."""
    return [Line2D([], [], color=EVENT_STYLE.get(k, ("grey", k))[0], ls="--",
                   label=EVENT_STYLE.get(k, ("grey", k))[1]) for k in kinds]


def run_figure(results: pd.DataFrame, events: Iterable[Mapping[str, Any]],
               title: str = "", fair_revenue: float = 1.0) -> Figure:
    """One panel per outcome, one line per firm, events marked.

    ``results`` is the per-step table in the model's units; money is drawn in months of
    revenue (divided by ``fair_revenue``, one firm's fair share of a month's revenue) and
    shares in %, as the app and the handouts draw them. The firms and the kinds of event
    are named in one legend below the panels, which never covers a line however many firms
    entered.
    """
    events = list(events)
    fig, axes = plt.subplots(len(PANELS), 1, figsize=(9, 2.0 * len(PANELS) + 0.6),
                             sharex=True, layout="constrained")
    for ax, column in zip(axes, PANELS, strict=True):
        for firm, group in results.groupby("firm", sort=False):
            structure = group["structure"].iloc[-1]
            # A failed firm's line stops where it failed (its cash stays to show the loss).
            values = group[column].where(group["alive"] | (column == "cash"))
            values = in_revenue_months({column: values}, fair_revenue)[column]
            ax.plot(group["step"], shown(column, values), lw=1.4,
                    label=f"{firm} ({structure.replace('_', '-')})")
        mark_events(ax, events)
        ax.set_title(panel_title(column), fontsize=10, loc="left")
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    kinds = event_handles(sorted({e["kind"] for e in events}))
    entries: list[Artist] = [*handles, *kinds]
    fig.legend(entries, [*labels, *(str(h.get_label()) for h in kinds)],
               loc="outside lower center", ncol=min(4, len(entries)), fontsize=8,
               frameon=False)
    axes[-1].set_xlabel("month")
    if title:
        fig.suptitle(title)
    return fig
