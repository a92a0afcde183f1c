"""Figures of a run's per-step table (matplotlib; a face of the model, not part of its core)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files, not windows: the CLI and reports run without a screen
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from simulation.event_style import EVENT_STYLE  # noqa: E402
from simulation.outcomes import PANELS as PANEL_NAMES  # noqa: E402
from simulation.outcomes import SERIES  # noqa: E402

PANELS: tuple[tuple[str, str], ...] = tuple((name, SERIES[name].title) for name in PANEL_NAMES)
"""The panels of a run's figure: (column, title), from the outcome registry."""


def mark_events(ax: Axes, events: Iterable[Mapping[str, Any]]) -> None:
    """Draw a vertical line at each event, coloured by its kind."""
    for event in events:
        colour, _ = EVENT_STYLE.get(event["kind"], ("grey", event["kind"]))
        ax.axvline(event["step"], color=colour, lw=0.8, ls="--", alpha=0.7)


def run_figure(results: pd.DataFrame, events: Iterable[Mapping[str, Any]],
               title: str = "") -> Figure:
    """One panel per outcome, one line per firm, events marked."""
    events = list(events)
    fig, axes = plt.subplots(len(PANELS), 1, figsize=(9, 2.1 * len(PANELS)), sharex=True)
    for ax, (column, label) in zip(axes, PANELS, strict=True):
        for firm, group in results.groupby("firm", sort=False):
            structure = group["structure"].iloc[-1]
            # A failed firm's line stops where it failed (its cash stays to show the loss).
            values = group[column].where(group["alive"] | (column == "cash"))
            ax.plot(group["step"], values, lw=1.4, label=f"{firm} ({structure})")
        mark_events(ax, events)
        ax.set_ylabel(label, fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, loc="best")
    kinds = sorted({e["kind"] for e in events})
    if kinds:
        handles = [plt.Line2D([], [], color=EVENT_STYLE.get(k, ("grey", k))[0], ls="--",
                              label=EVENT_STYLE.get(k, ("grey", k))[1]) for k in kinds]
        axes[-1].legend(handles=handles, fontsize=8, loc="best")
    axes[-1].set_xlabel("month")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
