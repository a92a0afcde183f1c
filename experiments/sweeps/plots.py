"""Figures of a sweep: a heatmap over two parameters, main effects, trajectories with bands.

Each function takes tables and returns a matplotlib Figure (Agg backend, no window); the
report embeds them. Continuous parameters are cut into quantile bins so that a heatmap of a
Latin hypercube reads like one of a grid.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from experiments.intervals import interval_for  # noqa: E402
from simulation import outcomes as reg  # noqa: E402 - labels from the outcome registry

_MAX_LEVELS = 8


def _binned(column: pd.Series) -> pd.Series:
    """Return the column if it has few values, else its quantile bins labelled by midpoint."""
    if column.nunique() <= _MAX_LEVELS or column.dtype.kind not in "biuf":
        return column
    bins = pd.qcut(column.astype(float), _MAX_LEVELS, duplicates="drop")
    return bins.map(lambda iv: round(float(iv.mid), 3)).astype(float)


def plain_number(value: float) -> str:
    """A number as a reader writes it: no e-notation, digits to suit its size."""
    if not np.isfinite(value):
        return "–"
    size = abs(value)
    if size < 0.00005:
        return "0"
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 0.01:
        return f"{value:.2f}"
    return f"{value:.4f}"


def axis_label(name: str) -> str:
    """A factor's or outcome's label from the outcome registry, with its unit."""
    unit = reg.unit_text(name) if reg.registered(name) else ""
    return f"{reg.label(name)} ({unit})" if unit else reg.label(name)


def _tick(value: object) -> str:
    """A level as a tick label: numbers in plain form, names as readers write them."""
    if isinstance(value, (int, float, np.integer, np.floating)):
        return plain_number(float(value))
    return str(value).replace("_", "-")


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
    ax.set_xticks(range(len(table.columns)), [_tick(c) for c in table.columns], rotation=45,
                  ha="right")
    ax.set_yticks(range(len(table.index)), [_tick(i) for i in table.index])
    scale = reg.display_scale(outcome)
    for (i, j), value in np.ndenumerate(values):
        if np.isfinite(value):
            red, green, blue, _ = image.cmap(image.norm(value))
            dark = 0.2126 * red + 0.7152 * green + 0.0722 * blue < 0.5  # the cell's luminance
            ax.text(j, i, plain_number(scale * value), ha="center", va="center", fontsize=8,
                    color="white" if dark else "black")
    ax.set_xlabel(axis_label(x))
    ax.set_ylabel(axis_label(y))
    ax.set_title(f"mean {axis_label(outcome)}")
    bar = fig.colorbar(image, ax=ax)
    bar.formatter = matplotlib.ticker.FuncFormatter(lambda v, _: plain_number(scale * v))
    bar.update_ticks()
    fig.tight_layout()
    return fig


def main_effects(runs: pd.DataFrame, factors: list[str], outcome: str) -> Figure:
    """Mean ``outcome`` against each factor, the others averaged out.

    Each mean has the 95% interval made for the outcome's kind (Wilson for a proportion of
    runs, a bootstrap for a bounded outcome, Student's t for money: see
    :func:`experiments.intervals.interval_for`); a level with one run has none.
    """
    n = len(factors)
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False,
                             sharey=True)
    for ax, factor in zip(axes.flat, factors, strict=False):
        data = pd.DataFrame({"x": _binned(runs[factor]), "y": runs[outcome].astype(float)})
        groups = data.groupby("x", observed=True)["y"]
        found = [interval_for(outcome, values.to_numpy()) for _, values in groups]
        levels = pd.Index([key for key, _ in groups])
        mean = np.array([i.mean for i in found])
        yerr = np.array([[i.mean - i.low for i in found], [i.high - i.mean for i in found]])
        positions = np.arange(len(levels)) if levels.dtype.kind not in "biuf" \
            else levels.to_numpy(dtype=float)
        ax.errorbar(positions, mean, yerr=np.nan_to_num(yerr), marker="o", capsize=3)
        if levels.dtype.kind not in "biuf":
            ax.set_xticks(positions, [str(i) for i in levels])
        ax.set_xlabel(axis_label(factor))
        ax.grid(alpha=0.3)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    axes[0, 0].set_ylabel(axis_label(outcome))
    scale = reg.display_scale(outcome)
    axes[0, 0].yaxis.set_major_formatter(
        matplotlib.ticker.FuncFormatter(lambda v, _: plain_number(scale * v)))
    fig.suptitle(f"main effects on {reg.label(outcome)}")
    fig.tight_layout()
    return fig


def trajectories(series: pd.DataFrame, runs: pd.DataFrame, column: str,
                 by: str | None = None) -> Figure:
    """Per-step ``column`` across runs: the mean line and a 10-90% band, one per group.

    Shares in %, as the axis label says; a failed firm's gaps are no values (NaN) and are
    left out of the mean and the band.
    """
    data = series.merge(runs[["run_id", by]] if by else runs[["run_id"]], on="run_id")
    data = data.assign(**{column: reg.display_scale(column) * data[column]})
    fig, ax = plt.subplots(figsize=(7, 4))
    groups = data.groupby(_binned(data[by]), observed=True) if by else [("all runs", data)]
    for label, group in groups:
        stats = group.groupby("step")[column].agg(
            mean="mean", low=lambda s: s.quantile(0.1), high=lambda s: s.quantile(0.9))
        line = ax.plot(stats.index, stats["mean"], label=f"{by} = {label}" if by else label)
        ax.fill_between(stats.index, stats["low"], stats["high"], alpha=0.2,
                        color=line[0].get_color())
    ax.set_xlabel("step (month)")
    ax.set_ylabel(axis_label(column))
    ax.set_title(f"{reg.label(column)}: mean and 10-90% band")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def morris_plot(table: pd.DataFrame, outcome: str) -> Figure:
    """Morris screening: μ* (overall influence) against σ (non-linearity or interactions).

    Factors far right matter; factors high above the diagonal σ = μ* act through
    interactions or non-linearly rather than alone.
    """
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.errorbar(table["mu_star"], table["sigma"], xerr=table["mu_star_conf"], fmt="o",
                capsize=3, color="#1f77b4")
    for name, row in table.iterrows():
        ax.annotate(str(name), (row["mu_star"], row["sigma"]), textcoords="offset points",
                    xytext=(4, 4), fontsize=8)
    top = float(max((table["mu_star"] + table["mu_star_conf"].fillna(0)).max(),
                    table["sigma"].max(), 1e-12)) * 1.15
    ax.plot([0, top], [0, top], color="grey", lw=0.8, ls="--", label="σ = μ*")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("μ* (mean absolute elementary effect)")
    ax.set_ylabel("σ (spread of the effects)")
    ax.set_title(f"Morris screening of {axis_label(outcome)}", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def prim_trajectory(trajectory: pd.DataFrame, chosen: int, question: str) -> Figure:
    """PRIM's peeling trajectory: density against coverage, the chosen box circled.

    Points are coloured by the number of restricted dimensions, as the EMA Workbench's
    ``show_tradeoff`` draws them.
    """
    fig, ax = plt.subplots(figsize=(5, 4))
    points = ax.scatter(trajectory["coverage"], trajectory["density"],
                        c=trajectory["restricted"], cmap="viridis", s=18)
    ax.plot(trajectory["coverage"].iloc[chosen], trajectory["density"].iloc[chosen], "o",
            ms=12, mfc="none", mec="#d62728", mew=1.5, label=f"chosen box ({chosen})")
    ax.set_xlabel("coverage (share of the cases in the box)")
    ax.set_ylabel("density (share of the box that are cases)")
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0, 1.05)
    ax.set_title(f"PRIM peeling trajectory: {question}", fontsize=9)
    bar = fig.colorbar(points, ax=ax)
    bar.set_label("restricted dimensions")
    bar.locator = matplotlib.ticker.MaxNLocator(integer=True)
    bar.update_ticks()
    ax.legend(fontsize=8, loc="lower left")
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
    ax.set_title(f"what drives {axis_label(outcome)}")
    ax.legend()
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig
