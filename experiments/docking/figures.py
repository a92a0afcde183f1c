"""The docking figures, each in its paper's layout, from a study's runs table.

March (1991) Fig. 1: average equilibrium knowledge of the code (y) over the socialization
rate p1 (x), one curve per code learning rate p2, here with 95% intervals and the public
re-creation's curves dashed beside them. NK: local optima per landscape over K (log scale)
with Kauffman's expectations, and the global peak's and the searchers' fitness over K.
Agg backend, no window; sized for a projector (1280 x 720 pixels at the default dpi).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402 - after choosing the backend
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from experiments.docking.outcomes import outcome  # noqa: E402
from experiments.docking.references import (  # noqa: E402
    NK_N,
    RECREATION_TABLE,
    expected_peaks_random,
)
from experiments.docking.targets import mean_of  # noqa: E402

SIZE = (10.0, 5.625)
DPI = 128
"""1280 x 720 pixels."""

P2_COLOURS = {0.1: "#1b9e77", 0.5: "#d95f02", 0.9: "#7570b3"}
ALGORITHM_TITLES = {"original": "March's program (Rodan 2005; Christensen 2015)",
                    "paper": "the paper's text alone"}


def _cell_means(runs: pd.DataFrame, by: list[str], name: str) -> pd.DataFrame:
    rows = []
    for key, group in runs.groupby(by, sort=True):
        interval = mean_of(name, group[name])
        keys = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(by, keys, strict=True)), "mean": interval.mean,
                     "low": interval.low, "high": interval.high, "n": interval.n})
    return pd.DataFrame(rows)


def march_figure(runs: pd.DataFrame) -> Figure:
    """March's Fig. 1: equilibrium knowledge over p1, a curve per p2; a panel per algorithm."""
    algorithms = [a for a in ("original", "paper") if a in set(runs["algorithm"])]
    fig = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    axes = fig.subplots(1, len(algorithms), sharey=True, squeeze=False)[0]
    name = "code_score"
    means = _cell_means(runs, ["algorithm", "p2", "p1"], name)
    for ax, algorithm in zip(axes, algorithms, strict=True):
        mine = means[means["algorithm"] == algorithm]
        for p2 in sorted(float(v) for v in mine["p2"].unique()):
            cell = mine[mine["p2"] == p2]
            colour = P2_COLOURS.get(p2, "black")
            ax.fill_between(cell["p1"], cell["low"], cell["high"], color=colour, alpha=0.2,
                            linewidth=0)
            ax.plot(cell["p1"], cell["mean"], "o-", color=colour, label=f"p2 = {p2:g}")
            if algorithm == "original" and p2 in RECREATION_TABLE:
                xs = np.round(np.arange(1, 10) * 0.1, 1)
                ax.plot(xs, RECREATION_TABLE[p2], "--", color=colour, linewidth=1.2,
                        label=f"p2 = {p2:g}, re-creation")
        reps = int(mine["n"].min())
        ax.set_title(f"{ALGORITHM_TITLES[algorithm]}\n{reps:,} runs per point, 95% intervals",
                     fontsize=11)
        ax.set_xlabel("socialization rate p1 (learning from the code, per period)")
        ax.grid(alpha=0.3)
        ax.set_xlim(0.05, 0.95)
        ax.legend(fontsize=9, loc="lower left")
    axes[0].set_ylabel(outcome(name).axis())
    low = float(np.nanmin(means["low"])) if len(means) else 0.0
    axes[0].set_ylim(min(0.6, np.floor(low * 10) / 10), 1.0)
    fig.suptitle("March (1991), Fig. 1: average equilibrium knowledge (m = 30, n = 50)",
                 fontsize=13)
    return fig


def nk_figure(runs: pd.DataFrame) -> Figure:
    """Peaks per landscape over K with Kauffman's expectations; fitness over K."""
    fig = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    left, right = fig.subplots(1, 2)
    peaks = _cell_means(runs, ["k"], "peaks")
    left.errorbar(peaks["k"], peaks["mean"],
                  yerr=[peaks["mean"] - peaks["low"], peaks["high"] - peaks["mean"]],
                  fmt="o-", color="#1f78b4", capsize=3, label="measured (95% interval)")
    left.plot([0, NK_N - 1], [1, expected_peaks_random(NK_N)], "D", color="black",
              markerfacecolor="none", markersize=10,
              label=f"expected: 1 at K = 0, 2^N/(N+1) = {expected_peaks_random(NK_N):.1f} "
              f"at K = {NK_N - 1}")
    left.set_yscale("log")
    left.set_xlabel("K (other choices each choice depends on)")
    left.set_ylabel(outcome("peaks").axis())
    left.set_title(f"Local optima, N = {NK_N}", fontsize=11)
    left.legend(fontsize=9, loc="upper left")
    left.grid(alpha=0.3, which="both")
    for name, colour in (("global_max", "#33a02c"), ("mean_fitness", "#e31a1c")):
        cell = _cell_means(runs, ["k"], name)
        right.errorbar(cell["k"], cell["mean"],
                       yerr=[cell["mean"] - cell["low"], cell["high"] - cell["mean"]],
                       fmt="o-", color=colour, capsize=3, label=outcome(name).label)
    right.plot([0], [2 / 3], "D", color="black", markerfacecolor="none", markersize=10,
               label="expected global peak at K = 0: 2/3")
    right.set_xlabel("K (other choices each choice depends on)")
    right.set_ylabel(f"fitness ({outcome('global_max').unit})")
    right.set_title("Global peak and where local search ends", fontsize=11)
    right.legend(fontsize=9, loc="center right")
    right.grid(alpha=0.3)
    reps = int(runs.groupby("k").size().min())
    fig.suptitle(f"NK landscapes (Kauffman 1993; Levinthal 1997): {reps:,} landscapes per K, "
                 "100 searching organizations each", fontsize=13)
    return fig
