"""The robust search's report: the Pareto set, a parallel-coordinates figure, and words.

Tables are written raw as CSV (``candidates.csv``, ``pareto.csv``: shares as fractions) and
shown readable in ``report/report.html`` (shares in %, labels and units from the outcome
registry). The words name the organization that satisfies the requirements in the most
futures, the one with the least worst-case regret, and what each costs in lever upkeep.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from experiments.sweeps.plots import plain_number  # noqa: E402
from experiments.sweeps.report import Report, write  # noqa: E402
from experiments.sweeps.robust import UPKEEP, RobustResult, RobustSpec  # noqa: E402
from simulation import outcomes as reg  # noqa: E402


def column_label(column: str) -> str:
    """A result column in words with its unit: "final share, mean over futures (%)"."""
    if column == "satisficing":
        return "futures satisfied (%)"
    if column == "pareto":
        return "on the Pareto set"
    if column == UPKEEP:
        return f"{reg.label(UPKEEP)} ({reg.unit_text(UPKEEP)} per month)"
    if column.startswith("max regret "):
        name = column[len("max regret "):]
        unit = _unit(name).replace("(%)", "(% points)")
        return f"{_label(name)}, worst regret{unit}"
    for prefix, words in (("mean ", "mean over futures"), ("worst ", "worst future")):
        if column.startswith(prefix):
            name = column[len(prefix):]
            return f"{_label(name)}, {words}{_unit(name)}"
    if column.startswith("p") and " " in column:
        how, name = column.split(" ", 1)
        return f"{_label(name)}, {how[1:]}th percentile (bad side){_unit(name)}"
    return f"{_label(column)}{_unit(column)}"


def scale(column: str) -> float:
    """What a column's values are multiplied by to be shown (shares and satisficing in %)."""
    if column == "satisficing":
        return 100.0
    name = column.split(" ", 1)[-1] if " " in column else column
    name = name.replace("regret ", "")
    return reg.display_scale(name)


def _label(name: str) -> str:
    return reg.label(name) if reg.registered(name) else name


def _unit(name: str) -> str:
    unit = reg.unit_text(name) if reg.registered(name) else ""
    return f" ({unit})" if unit else ""


def shown(table: pd.DataFrame) -> pd.DataFrame:
    """The table as a reader sees it: shares in %, column heads in words."""
    out = table.copy()
    for column in out.columns:
        if column != "pareto" and out[column].dtype.kind in "fiu":
            out[column] = scale(str(column)) * out[column].astype(float)
    return out.rename(columns={c: column_label(str(c)) for c in out.columns})


def parallel_coordinates(result: RobustResult, levers: list[str]) -> Figure:
    """Levers and scores of every candidate on parallel axes; the Pareto set coloured.

    Each axis runs from the lowest to the highest value among the candidates (its ends are
    labelled in the column's unit); a line is one organization. Dominated candidates are
    grey; the Pareto set is coloured by the share of futures it satisfies (or its first
    objective when there are no constraints).
    """
    table = result.candidates
    axes = [*levers, *result.directions,
            *[c for c in table.columns if c.startswith("max regret ")]]
    if "satisficing" in table and "satisficing" not in axes:
        axes.append("satisficing")
    if table[UPKEEP].notna().any() and UPKEEP not in axes:
        axes.append(UPKEEP)
    numeric = pd.DataFrame({a: _numeric(table[a]) for a in axes})
    low, high = numeric.min(), numeric.max()
    span = (high - low).replace(0, 1.0)
    norm = (numeric - low) / span
    colour_by = "satisficing" if "satisficing" in table else next(iter(result.directions))
    fig, ax = plt.subplots(figsize=(max(8.0, 1.5 * len(axes)), 6.0))
    xs = np.arange(len(axes))
    pareto = table["pareto"].to_numpy(dtype=bool)
    for i in np.flatnonzero(~pareto):
        ax.plot(xs, norm.iloc[i], color="#bbbbbb", linewidth=0.8, alpha=0.6, zorder=1)
    cmap = plt.get_cmap("viridis")
    values = _numeric(table[colour_by])
    vlo, vhi = float(values[pareto].min()), float(values[pareto].max())
    for i in np.flatnonzero(pareto):
        share = 0.5 if vhi == vlo else (float(values.iloc[i]) - vlo) / (vhi - vlo)
        ax.plot(xs, norm.iloc[i], color=cmap(share), linewidth=2.2, zorder=2)
    for x, a in enumerate(axes):
        ax.axvline(x, color="#444444", linewidth=0.8, zorder=0)
        k = scale(a)
        ax.text(x, -0.06, _end(low[a], k, table[a]), ha="center", va="top", fontsize=11)
        ax.text(x, 1.04, _end(high[a], k, table[a]), ha="center", va="bottom", fontsize=11)
    better = {**result.directions, "satisficing": "maximize",
              **{c: "minimize" for c in axes if c.startswith("max regret ")}}
    marks = {"maximize": "\n(higher is better)", "minimize": "\n(lower is better)"}
    ax.set_xticks(xs, [_wrap(column_label(a)) + marks.get(better.get(a, ""), "")
                       for a in axes], fontsize=11)
    ax.tick_params(axis="x", pad=22)
    ax.set_yticks([])
    ax.set_ylim(-0.12, 1.12)
    ax.set_xlim(-0.4, len(axes) - 0.6)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    mappable = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(scale(colour_by) * vlo,
                                                                   scale(colour_by) * vhi))
    bar = fig.colorbar(mappable, ax=ax, pad=0.02, fraction=0.03)
    bar.set_label(f"Pareto set, coloured by {column_label(colour_by)}", fontsize=11)
    ax.plot([], [], color="#bbbbbb", label="dominated candidates")
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.3), fontsize=11, frameon=False)
    ax.set_title(f"{int(pareto.sum())} organizations on the Pareto set of {len(table)} "
                 f"evaluated, each on the same {len(result.futures)} futures", fontsize=12)
    fig.tight_layout()
    return fig


def _numeric(column: pd.Series) -> pd.Series:
    """Levels as their position (names), numbers as numbers."""
    if column.dtype.kind in "fiub":
        return column.astype(float)
    order = {v: i for i, v in enumerate(dict.fromkeys(column))}
    return column.map(order).astype(float)


def _end(value: float, k: float, column: pd.Series) -> str:
    if column.dtype.kind not in "fiub":
        levels = list(dict.fromkeys(column))
        return str(levels[int(value)]).replace("_", "-")
    return plain_number(k * float(value))


def _wrap(text: str, width: int = 16) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines)


def in_words(spec: RobustSpec, result: RobustResult) -> list[str]:
    """What the search found, in sentences a researcher can quote."""
    levers = list(spec.levers)
    pareto = result.pareto
    lines = [f"The search evaluated {len(result.candidates)} organizations (lever mixes), each "
             f"on the same {len(result.futures)} futures x {spec.replications} replication(s) "
             f"({result.runs} runs, {result.ran_now} run in this session); "
             f"{len(pareto)} are on the Pareto set of the objectives "
             f"({', '.join(column_label(c) for c in result.directions)})."]

    def who(row: pd.Series) -> str:
        mix = ", ".join(f"{n} {_value(row[n])}" for n in levers)
        upkeep = row.get(UPKEEP)
        cost = (f"; its levers cost {plain_number(float(upkeep))} months of revenue a month"
                if upkeep is not None and np.isfinite(float(upkeep)) else "")
        return f"{mix}{cost}"

    if "satisficing" in pareto and spec.robust.constraints:
        best = pareto.sort_values(["satisficing", *_tiebreak(result)],
                                  ascending=[False, *_tiebreak_order(result)]).iloc[0]
        reqs = " and ".join(_requirement_text(c) for c in spec.robust.constraints)
        tied = int((pareto["satisficing"] == best["satisficing"]).sum()) - 1
        tie = (f" ({tied} other organization(s) of the Pareto set do as well; this one is "
               f"ahead on {column_label(_tiebreak(result)[0])})"
               if tied and _tiebreak(result) else "")
        lines.append(f"Most robust by satisficing: {who(best)}. It meets every requirement "
                     f"({reqs}) in {plain_number(100 * float(best['satisficing']))}% of the "
                     f"futures{tie}.")
    for objective in spec.robust.objectives:
        column = f"max regret {objective.outcome}"
        if column not in pareto:
            continue
        best = pareto.sort_values(column).iloc[0]
        k = reg.display_scale(objective.outcome)
        unit = reg.unit_text(objective.outcome) if reg.registered(objective.outcome) else ""
        unit = " points" if unit == "%" else f" {unit}" if unit else ""
        lines.append(f"Least regret in {_label(objective.outcome)}: {who(best)}. In no future "
                     f"does it fall more than {plain_number(k * float(best[column]))}{unit} "
                     "below the best organization evaluated for that future.")
    if pareto[UPKEEP].notna().any() and len(pareto) > 1:
        cheap = pareto.sort_values(UPKEEP).iloc[0]
        dear = pareto.sort_values(UPKEEP).iloc[-1]
        lines.append(f"Upkeep along the Pareto set runs from {plain_number(float(cheap[UPKEEP]))} "
                     f"({who_short(cheap, levers)}) to {plain_number(float(dear[UPKEEP]))} "
                     f"months of revenue a month ({who_short(dear, levers)}): robustness "
                     "bought with levers is paid every month, in good futures too.")
    lines.append("Regret compares organizations evaluated in this search only: an "
                 "organization outside it might do better in some future. Every future was "
                 "run with the same random numbers for every organization (common random "
                 "numbers), so the differences are the organizations', not chance.")
    return lines


def who_short(row: pd.Series, levers: list[str]) -> str:
    """The lever mix of a row in a few words."""
    return ", ".join(f"{n} {_value(row[n])}" for n in levers)


def _value(value: Any) -> str:
    if isinstance(value, (int, float, np.integer, np.floating)):
        return plain_number(float(value))
    return str(value).replace("_", "-")


def _requirement_text(constraint: Any) -> str:
    name, k = constraint.outcome, reg.display_scale(constraint.outcome)
    unit = reg.unit_text(name) if reg.registered(name) else ""
    sep = "" if unit == "%" else " "
    parts = []
    for words, bound in (("at least", constraint.at_least), ("at most", constraint.at_most)):
        if bound is not None:
            number = f"{k * bound:g}" if unit == "%" else plain_number(k * bound)
            parts.append(f"{words} {number}{unit and sep + unit}")
    return f"{_label(name)} {' and '.join(parts)}"


def _tiebreak(result: RobustResult) -> list[str]:
    return [c for c in result.directions if c != "satisficing"][:1]


def _tiebreak_order(result: RobustResult) -> list[bool]:
    return [result.directions[c] == "minimize" for c in _tiebreak(result)]


def write_report(spec: RobustSpec, result: RobustResult, out: str | Path,
                 command: str = "") -> Path:
    """Write the CSV tables into ``out`` and the HTML report into ``out/report``."""
    out = Path(out)
    result.candidates.to_csv(out / "candidates.csv")
    result.pareto.to_csv(out / "pareto.csv")
    result.futures.to_csv(out / "futures.csv")
    report = Report(f"Robust search {spec.name}")
    report.notes.extend(in_words(spec, result))
    search = spec.robust.search
    report.notes.append(f"Search: platypus epsilon-NSGA-II, {search.nfe} evaluations per seed, "
                        f"population {search.population}, seeds {search.seeds}; root seed "
                        f"{spec.seed}; {spec.steps} months per run. "
                        + (f"Command: {command}" if command else ""))
    order = (["satisficing"] if "satisficing" in result.pareto else []) + _tiebreak(result)
    ahead = [False] * (len(order) - len(_tiebreak(result))) + _tiebreak_order(result)
    pareto = result.pareto.sort_values(order, ascending=ahead) if order else result.pareto
    report.tables["Pareto set"] = shown(pareto.drop(columns=["pareto"]))
    report.tables["futures"] = result.futures
    report.figures["Pareto set in parallel coordinates"] = parallel_coordinates(
        result, list(spec.levers))
    return write(report, out / "report")


__all__ = ["column_label", "in_words", "parallel_coordinates", "shown", "write_report"]
