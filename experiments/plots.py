"""Figures of a sweep: a heatmap over two parameters, main effects, trajectories with bands.

Each function takes tables and returns a matplotlib Figure (Agg backend, no window); the
report embeds them. Continuous parameters are cut into quantile bins so that a heatmap of a
Latin hypercube reads like one of a grid.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from simulation import outcomes as reg  # noqa: E402 - labels from the outcome registry

_MAX_LEVELS = 8


def _binned(column: pd.Series) -> pd.Series:
    """Return the column if it has few values, else its quantile bins labelled by midpoint."""
    if column.nunique() <= _MAX_LEVELS or column.dtype.kind not in "biuf":
        return column
    bins = pd.qcut(column.astype(float), _MAX_LEVELS, duplicates="drop")
    return bins.map(lambda iv: round(float(iv.mid), 3)).astype(float)


def heatmap(runs: pd.DataFrame, x: str, y: str, outcome: str) -> Figure:
    """Mean ``outcome`` over two parameters (binned if continuous), values written in."""
    data = pd.DataFrame({x: _binned(runs[x]), y: _binned(runs[y]),
                         outcome: runs[outcome].astype(float)})
    table = data.pivot_table(index=y, columns=x, values=outcome, aggfunc="mean",
                             observed=True)
    fig, ax = plt.subplots(figsize=(1.1 * len(table.columns) + 2.5, 0.6 * len(table) + 2))
    values = table.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    limit = float(np.max(np.abs(finite))) if finite.size else 1.0
    diverging = finite.size and finite.min() < 0 < finite.max()
    image = ax.imshow(values, cmap="RdBu" if diverging else "viridis", aspect="auto",
                      origin="lower", vmin=-limit if diverging else None,
                      vmax=limit if diverging else None)
    ax.set_xticks(range(len(table.columns)), [str(c) for c in table.columns], rotation=45,
                  ha="right")
    ax.set_yticks(range(len(table.index)), [str(i) for i in table.index])
    for (i, j), value in np.ndenumerate(values):
        if np.isfinite(value):
            dark = diverging and abs(value) > 0.6 * limit
            ax.text(j, i, f"{value:.2g}", ha="center", va="center", fontsize=8,
                    color="white" if dark else "black")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"mean {reg.label(outcome)}")
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    return fig


def main_effects(runs: pd.DataFrame, factors: list[str], outcome: str) -> Figure:
    """Mean ``outcome`` (with a 95% interval) against each factor, the others averaged out."""
    n = len(factors)
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False,
                             sharey=True)
    for ax, factor in zip(axes.flat, factors, strict=False):
        data = pd.DataFrame({"x": _binned(runs[factor]), "y": runs[outcome].astype(float)})
        stats = data.groupby("x", observed=True)["y"].agg(["mean", "std", "count"])
        half = 1.96 * stats["std"].fillna(0) / np.sqrt(stats["count"].clip(lower=1))
        positions = np.arange(len(stats)) if stats.index.dtype.kind not in "biuf" \
            else stats.index.to_numpy(dtype=float)
        ax.errorbar(positions, stats["mean"], yerr=half, marker="o", capsize=3)
        if stats.index.dtype.kind not in "biuf":
            ax.set_xticks(positions, [str(i) for i in stats.index])
        ax.set_xlabel(factor)
        ax.grid(alpha=0.3)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    axes[0, 0].set_ylabel(reg.label(outcome))
    fig.suptitle(f"main effects on {reg.label(outcome)}")
    fig.tight_layout()
    return fig


def trajectories(series: pd.DataFrame, runs: pd.DataFrame, column: str,
                 by: str | None = None) -> Figure:
    """Per-step ``column`` across runs: the mean line and a 10-90% band, one per group."""
    data = series.merge(runs[["run_id", by]] if by else runs[["run_id"]], on="run_id")
    fig, ax = plt.subplots(figsize=(7, 4))
    groups = data.groupby(_binned(data[by]), observed=True) if by else [("all runs", data)]
    for label, group in groups:
        stats = group.groupby("step")[column].agg(
            mean="mean", low=lambda s: s.quantile(0.1), high=lambda s: s.quantile(0.9))
        line = ax.plot(stats.index, stats["mean"], label=f"{by} = {label}" if by else label)
        ax.fill_between(stats.index, stats["low"], stats["high"], alpha=0.2,
                        color=line[0].get_color())
    ax.set_xlabel("step (month)")
    ax.set_ylabel(reg.label(column))
    ax.set_title(f"{reg.label(column)}: mean and 10-90% band")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def indices_bar(table: pd.DataFrame, outcome: str) -> Figure:
    """Sobol first-order and total indices with their confidence intervals."""
    fig, ax = plt.subplots(figsize=(1.2 * len(table) + 3, 3.5))
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["S1"], 0.4, yerr=table["S1_conf"], label="first order", capsize=3)
    ax.bar(x + 0.2, table["ST"], 0.4, yerr=table["ST_conf"], label="total", capsize=3)
    ax.set_xticks(x, list(table.index))
    ax.set_ylabel("Sobol index")
    ax.set_title(f"what drives {reg.label(outcome)}")
    ax.legend()
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig
