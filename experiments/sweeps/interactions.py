"""Pairwise lever interactions from a two-level factorial sweep (``lever_interactions`` spec).

    python -m experiments.sweeps.interactions RUNS_FOLDER [--outcome mean_share] [--csv FILE]

For a pair of levers (a, b) and one replication, the interaction is the mean, over the other
levers' settings, of ``y(a high, b high) - y(a high, b low) - y(a low, b high) + y(a low, b
low)``: positive means the two levers complement each other (each is worth more when the other
is high), negative that they substitute. Every cell of a replication runs on the same seed
(the levers are the spec's paired factors), so the contrast is a paired one; the interval is
Student's t over replications, per regime (the unpaired conditions), and the verdict's level is
Holm-adjusted over every (pair, regime) tested. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from experiments.patterns.stats import holm
from experiments.sweeps.store import read_runs
from simulation.params import LEVERS

CONDITIONS: tuple[str, ...] = ("turbulence", "momentum")


def pair_contrasts(runs: pd.DataFrame, outcome: str, a: str, b: str) -> pd.Series:
    """The (a, b) interaction per replication and regime, averaged over the other levers."""
    high = {name: runs[name] >= runs[name].median() for name in (a, b)}
    sign = np.where(high[a] == high[b], 1.0, -1.0)
    # Each (a, b) cell holds the same number of other-lever settings, so the mean of the signed
    # values over a replication's cells is a quarter of the contrast's sum: times 4 / 4.
    signed = runs[outcome] * sign
    keys = [*CONDITIONS, "replication"]
    return signed.groupby([runs[k] for k in keys]).mean() * 4.0


def interaction_table(runs: pd.DataFrame, outcome: str = "mean_share") -> pd.DataFrame:
    """One row per (pair, regime): mean interaction, its 95% t interval, raw and Holm p."""
    rows = []
    for a, b in itertools.combinations(LEVERS, 2):
        contrasts = pair_contrasts(runs, outcome, a, b)
        for regime, values in contrasts.groupby(level=list(range(len(CONDITIONS)))):
            x = values.to_numpy()
            mean, se = float(x.mean()), float(x.std(ddof=1) / np.sqrt(x.size))
            t = float(stats.t.ppf(0.975, x.size - 1))
            p = 1.0 if se == 0 else float(2 * stats.t.sf(abs(mean / se), x.size - 1))
            levels = regime if isinstance(regime, tuple) else (regime,)
            rows.append({"pair": f"{a} x {b}", **dict(zip(CONDITIONS, levels, strict=True)),
                         "n": x.size, "mean": mean, "lower": mean - t * se,
                         "upper": mean + t * se, "p": p})
    table = pd.DataFrame(rows)
    table["p_holm"] = holm(table["p"].tolist())
    table["sign"] = np.select([(table["p_holm"] < 0.05) & (table["mean"] > 0),
                               (table["p_holm"] < 0.05) & (table["mean"] < 0)],
                              ["complements", "substitutes"], "neither (n.s.)")
    return table


def markdown(table: pd.DataFrame) -> str:
    """The table as Markdown: a row per pair, a column per regime (mean [interval], sign)."""
    regimes = sorted({tuple(r) for r in table[list(CONDITIONS)].to_numpy()})
    head = "| pair | " + " | ".join(f"turbulence {t:g}, momentum {m:g}" for t, m in regimes)
    lines = [head + " |", "|---" * (len(regimes) + 1) + "|"]
    mark = {"complements": " +", "substitutes": " −", "neither (n.s.)": ""}
    for pair, rows in table.groupby("pair", sort=False):
        cells = []
        for regime in regimes:
            r = rows[(rows[list(CONDITIONS)].to_numpy() == regime).all(axis=1)].iloc[0]
            cells.append(f"{r['mean']:+.3f} [{r['lower']:+.3f}, {r['upper']:+.3f}]"
                         f"{mark[r['sign']]}")
        lines.append(f"| {pair} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print (and optionally write) the interaction table of a finished sweep folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, help="a finished lever_interactions sweep folder")
    parser.add_argument("--outcome", default="mean_share")
    parser.add_argument("--csv", type=Path, help="also write the table as CSV here")
    args = parser.parse_args(argv)

    runs = read_runs(args.runs)
    table = interaction_table(runs, args.outcome)
    if args.csv is not None:
        table.to_csv(args.csv, index=False)
    sys.stdout.write(markdown(table) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
