"""The pattern suite's report: summary rows, the regime map, a figure per pattern, HTML.

Builds from a :class:`~experiments.patterns.suite.SuiteResult` only (no model, no runs). The
HTML page is self-contained (figures embedded as PNG); each figure is also written as SVG
beside it, and the regime map and the summary as CSV.
"""

from __future__ import annotations

import base64
import html
import io
import math
import textwrap
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from experiments.patterns.stats import (  # noqa: E402
    CheckResult,
    Estimate,
    PatternResult,
    Test,
    describe,
    level_keys,
)
from experiments.patterns.suite import SuiteResult  # noqa: E402
from simulation.outcomes import MONTHS_OF_REVENUE  # noqa: E402
from simulation.provenance import write_manifest

ALPHA_SHOWN = 0.05
"""The level at which a figure colours a single estimate (raw, before Holm)."""
MAP = "regime_map"
"""The pattern that is drawn as the regime map."""
PROFIT_UNIT = MONTHS_OF_REVENUE
"""What a unit of profit is: one firm's fair share of a month's revenue, as on every face."""
COLOURS = {True: "#1a7f37", False: "#cf222e", None: "#57606a"}
VERDICT_COLOURS = {"PASS": "#1a7f37", "FAIL": "#cf222e", "INCONCLUSIVE": "#9a6700",
                   "ERROR": "#cf222e", "reported": "#57606a"}


def _verdict(check: CheckResult, result: PatternResult) -> str:
    if check.check.criterion is None:
        return "reported"
    if result.failed:
        return "ERROR"
    return check.verdict


def summary_rows(suite: SuiteResult) -> pd.DataFrame:
    """One row per deciding check: the deciding estimate, its test and the verdict.

    The estimate shown is the one that decides the verdict (the level that misses the
    minimum effect, is degenerate, or has the largest p-value). ``p_raw`` is the check's
    one-sided p-value (the largest of its levels'), ``p_holm`` after Holm's adjustment
    across every deciding check of the run; ``seeds`` the paired replications used,
    ``seeds_needed`` those the power rule asked for (more than ``seeds`` when capped).
    """
    rows: list[dict[str, Any]] = []
    for result in suite.results:
        if not result.pattern.gate:
            continue
        for check in result.checks:
            criterion = check.check.criterion
            if criterion is None:
                continue
            test = (check.tests[check.worst] if check.tests
                    else Test("", Estimate(math.nan, math.nan, math.nan, 0)))
            est = test.estimate
            rows.append({"pattern": result.pattern.name, "source": result.pattern.source,
                         "check": check.check.label, "where": test.label, "mean": est.mean,
                         "lower": est.low, "upper": est.high, "n": est.n,
                         "unit": check.check.unit, "claim": criterion.claim,
                         "direction": criterion.direction, "size": criterion.size,
                         "criterion": describe(criterion, check.check.unit),
                         "why": criterion.why, "p_raw": check.p_raw,
                         "p_holm": check.p_adjusted, "verdict": _verdict(check, result),
                         "degenerate": test.degenerate, "seeds": result.seeds,
                         "seeds_needed": check.needed, "pattern_status": result.status,
                         "error": result.error})
    return pd.DataFrame(rows)


def map_table(result: PatternResult) -> pd.DataFrame:
    """The regime map as a table: one row per (turbulence, momentum) cell."""
    keys = level_keys(result.pattern)
    names = [axis.keyword for axis in result.pattern.levels]
    columns = {"OI - IO mean share": "share_lead", "OI - IO cumulative profit": "profit_lead",
               "OI survival": "oi_survival", "IO survival": "io_survival"}
    rows = [dict(zip(names, key, strict=True)) for key in keys]
    for check in result.checks:
        stem = columns.get(check.check.label, check.check.label)
        for row, (_, est) in zip(rows, check.estimates, strict=True):
            row[stem] = est.mean
            row[f"{stem}_lower"] = est.low
            row[f"{stem}_upper"] = est.high
            row["seeds"] = est.n
    return pd.DataFrame(rows)


# --- figures ----------------------------------------------------------------------------------

def regime_map_figure(table: pd.DataFrame) -> Figure:
    """Two heat maps over turbulence x momentum: OI - IO share and profit, survival written in."""
    turbulence = sorted(table["turbulence"].unique())
    momentum = sorted(table["momentum"].unique())
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2), layout="constrained")
    panels = (("share_lead", "OI - IO mean share (head-to-head)", "{:+.2f}"),
              ("profit_lead", f"OI - IO cumulative profit\n({PROFIT_UNIT})", "{:+.1f}"))
    for ax, (column, title, fmt) in zip(axes, panels, strict=True):
        grid = table.pivot(index="momentum", columns="turbulence", values=column)
        grid = grid.reindex(index=momentum, columns=turbulence)
        values = grid.to_numpy(dtype=float)
        finite = values[np.isfinite(values)]
        limit = float(np.max(np.abs(finite))) if finite.size and np.max(np.abs(finite)) > 0 \
            else 1.0
        image = ax.imshow(values, cmap="RdBu", vmin=-limit, vmax=limit, aspect="auto",
                          origin="lower")
        for (i, j), value in np.ndenumerate(values):
            cell = table[(table["momentum"] == momentum[i])
                         & (table["turbulence"] == turbulence[j])].iloc[0]
            text = "n/a" if not np.isfinite(value) else fmt.format(value)
            text += (f"\nOI {_percent(cell.get('oi_survival'))}"
                     f"\nIO {_percent(cell.get('io_survival'))}")
            dark = np.isfinite(value) and abs(value) > 0.6 * limit
            ax.text(j, i, text, ha="center", va="center", fontsize=9,
                    color="white" if dark else "black")
        ax.set_xticks(range(len(turbulence)), [f"{t:g}" for t in turbulence])
        ax.set_yticks(range(len(momentum)), [f"{m:g}" for m in momentum])
        ax.set_xlabel("turbulence (distance needs move per month along their trend)")
        ax.set_ylabel("momentum (persistence of the drift's direction)")
        ax.set_title(title)
        bar = fig.colorbar(image, ax=ax, shrink=0.9)
        bar.set_label("positive: outside-in ahead")
    fig.suptitle("Where outside-in pays: each cell gives the lead, then the share of runs in "
                 "which each firm survived", fontsize=11)
    return fig


def _percent(value: Any) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.0%}"


def pattern_figure(result: PatternResult) -> Figure:
    """One panel per check: each estimate with its 95% interval against the criterion."""
    checks = result.checks
    cols = min(2, len(checks))
    rows = math.ceil(len(checks) / cols)
    tallest = max(3.2 if _is_curve(result, c) else 1.5 + 0.5 * len(c.estimates)
                  for c in checks)
    fig, axes = plt.subplots(rows, cols, figsize=(6.4 * cols, tallest * rows + 0.5),
                             squeeze=False, layout="constrained")
    for ax, check in zip(axes.flat, checks, strict=False):
        if _is_curve(result, check):
            _curve(ax, result, check)
        else:
            _forest(ax, check)
        verdict = _verdict(check, result)
        ax.set_title("\n".join(textwrap.wrap(f"{check.check.label}  [{verdict}]", 48)),
                     fontsize=10.5, color=VERDICT_COLOURS[verdict])
    for ax in list(axes.flat)[len(checks):]:
        ax.set_visible(False)
    fig.suptitle(f"{result.pattern.title} ({result.pattern.source}): {result.status}",
                 fontsize=12)
    return fig


def _holds(check: CheckResult, index: int) -> bool | None:
    """Whether one estimate meets its check's criterion on its own (None: reported)."""
    if check.check.criterion is None:
        return None
    return check.tests[index].verdict(ALPHA_SHOWN) == "PASS"


def _thresholds(check: CheckResult) -> list[float]:
    """Where the criterion's lines go: 0 and the minimum effect or margins."""
    criterion = check.check.criterion
    if criterion is None:
        return [0.0]
    if criterion.claim == "superiority":
        return [0.0, criterion.sign * criterion.size]
    if criterion.claim == "noninferiority":
        return [0.0, -criterion.sign * criterion.size]
    return [-criterion.size, 0.0, criterion.size]


def _lines(ax: Axes, check: CheckResult, vertical: bool) -> None:
    criterion = check.check.criterion
    name = "margin" if criterion is not None and criterion.claim != "superiority" \
        else "minimum effect"
    labelled: set[str] = set()
    for value in _thresholds(check):
        line = ":" if value == 0.0 else "--"
        label = "no effect" if value == 0.0 else name
        shown = None if label in labelled else label
        labelled.add(label)
        if vertical:
            ax.axvline(value, color="#57606a", linewidth=0.8, linestyle=line, label=shown)
        else:
            ax.axhline(value, color="#57606a", linewidth=0.8, linestyle=line, label=shown)
    if criterion is not None:
        ax.legend(fontsize=8, loc="best", framealpha=0.8)


def _is_curve(result: PatternResult, check: CheckResult) -> bool:
    levels = result.pattern.levels
    return (len(levels) == 1 and len(levels[0].values) > 2
            and check.check.kind not in ("slope", "adjacent", "adjacent_proportion"))


def _curve(ax: Axes, result: PatternResult, check: CheckResult) -> None:
    axis = result.pattern.levels[0]
    x = np.asarray(axis.values, dtype=float)
    est = [e for _, e in check.estimates]
    y = np.array([e.mean for e in est])
    low = np.array([e.mean - e.low for e in est])
    high = np.array([e.high - e.mean for e in est])
    ax.errorbar(x, y, yerr=[np.nan_to_num(low), np.nan_to_num(high)], marker="o", capsize=4,
                color=COLOURS[check.passed])
    for i, (xi, e) in enumerate(zip(x, est, strict=True)):
        if check.check.criterion is not None:
            ax.plot([xi], [e.mean], "o", color=COLOURS[_holds(check, i)])
    _lines(ax, check, vertical=False)
    ax.set_xlabel(axis.keyword)
    ax.set_ylabel(check.check.unit or "estimate")
    ax.grid(alpha=0.3)


def _forest(ax: Axes, check: CheckResult) -> None:
    labels = [label or "all runs" for label, _ in check.estimates]
    est = [e for _, e in check.estimates]
    y = np.arange(len(est))[::-1]
    means = np.array([e.mean for e in est])
    low = np.nan_to_num(np.array([e.mean - e.low for e in est]))
    high = np.nan_to_num(np.array([e.high - e.mean for e in est]))
    for i, (yi, e, m, lo, hi) in enumerate(zip(y, est, means, low, high, strict=True)):
        ax.errorbar([m], [yi], xerr=[[lo], [hi]], fmt="o", capsize=4,
                    color=COLOURS[_holds(check, i)])
        if not math.isnan(e.mean):
            ax.annotate(f"{e.mean:.3g} (n={e.n})", (e.mean, yi), textcoords="offset points",
                        xytext=(0, 7), ha="center", fontsize=8)
    _lines(ax, check, vertical=True)
    if all(math.isnan(e.mean) for e in est):
        ax.text(0.5, 0.5, "no estimate: no runs completed", transform=ax.transAxes,
                ha="center", va="center", color=COLOURS[False])
    ax.set_yticks(y, labels)
    ax.set_ylim(-0.7, len(est) - 0.3)
    ax.margins(x=0.12)  # room for the value written above the outermost point
    ax.set_xlabel(f"{check.check.unit or 'estimate'} (95% interval)")
    ax.grid(alpha=0.3, axis="x")


# --- writing ----------------------------------------------------------------------------------

# --- files ----------------------------------------------------------------------------------

def _svg(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg")
    return buffer.getvalue()


def _duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def written_files(suite: SuiteResult) -> list[str]:
    """The names of every file :func:`write` writes (relative to its folder)."""
    names = ["patterns.html", "patterns.csv", "runs.csv", "manifest.json"]
    names += [f"figures/{r.pattern.name}.svg" for r in suite.results]
    if any(r.pattern.name == MAP for r in suite.results):
        names.append("regime-map.csv")
    return names


def write(suite: SuiteResult, folder: Path) -> Path:
    """Write ``patterns.html`` (self-contained), SVG figures, summary, runs and map CSV."""
    (folder / "figures").mkdir(parents=True, exist_ok=True)
    summary = summary_rows(suite)
    summary.to_csv(folder / "patterns.csv", index=False)
    runs = pd.concat([t.assign(pattern=name) for name, t in suite.tables.items()],
                     ignore_index=True)
    runs.to_csv(folder / "runs.csv", index=False)
    mode = "quick" if suite.quick else "full"
    status = "all patterns pass" if suite.passed else "some patterns fail or are inconclusive"
    variant = f" at {html.escape(suite.variant)}" if suite.variant else ""
    parts = [f"<h1>Outside-In pattern suite{variant}: {status}</h1>",
             f"<p>{mode} run: {suite.runs} model runs of {suite.steps} months "
             f"({suite.failed} failed), root seed {suite.root_seed}, wall time "
             f"{_duration(suite.wall_seconds)} (model time {_duration(suite.run_seconds)}). "
             "Every arm of a pattern runs on the same seeds (common random numbers); "
             "intervals are 95%: Student's t of paired differences between seeds for "
             "continuous measures, Wilson for proportions, Newcombe for paired differences "
             "of proportions. Head-to-head: an outside-in (OI) and an inside-out (IO) firm "
             f"in the same market. Profit is in {PROFIT_UNIT}: months of one firm's fair share "
             "of the market's revenue.</p>",
             f"<p>Each deciding check states its claim as data: a superiority claim is a "
             "one-sided t test of no effect plus a minimum effect the estimate must reach; a "
             "non-inferiority claim a one-sided test at its margin; an invariance an "
             "equivalence test (TOST, both one-sided tests at the margin). A check must hold "
             "at every level (its p-value is the largest of its levels'). The p-values of "
             f"all {suite.family} deciding checks are adjusted by Holm's step-down method "
             f"(family-wise error rate {suite.alpha:g}); verdicts use the adjusted value. "
             "A check whose estimate is the same in every seed (both arms dead or alive "
             "throughout, an effect identically 0) is INCONCLUSIVE, never PASS. Seeds per "
             f"pattern: a pilot, then paired seeds added ({suite.rounds} round(s)) for power "
             f"{suite.power:g} at each check's minimum effect, up to the pattern's cap "
             "(<i>seeds needed</i> above <i>seeds</i> means the cap was reached).</p>"]
    figures: list[tuple[PatternResult, Figure]] = []
    for result in suite.results:
        if result.pattern.name == MAP:
            table = map_table(result)
            table.to_csv(folder / "regime-map.csv", index=False)
            figures.insert(0, (result, regime_map_figure(table)))
        else:
            figures.append((result, pattern_figure(result)))
    if len(summary):
        parts.append("<h2>Patterns</h2>")
        shown = summary[["pattern", "check", "where", "mean", "lower", "upper", "unit",
                         "criterion", "p_raw", "p_holm", "seeds", "seeds_needed", "verdict"]]
        shown = shown.rename(columns={"p_raw": "p (raw)", "p_holm": "p (Holm)",
                                      "seeds_needed": "seeds needed"})
        parts.append(_coloured(shown.to_html(index=False, border=0, classes="table",
                                             float_format=lambda v: f"{v:.3g}",
                                             na_rep="n/a")))
    for result, fig in figures:
        name = result.pattern.name
        svg = _svg(fig)  # drawn once: the file, and the page's picture
        (folder / "figures" / f"{name}.svg").write_bytes(svg)
        picture = base64.b64encode(svg).decode()
        plt.close(fig)
        parts.append(f'<h2 id="{name}">{html.escape(result.pattern.title)} '
                     f'<small>({html.escape(result.pattern.source)}): '
                     f'{html.escape(result.status)}</small></h2>')
        parts.append(f"<p>{html.escape(result.pattern.claim)}</p>")
        if result.pattern.regime:
            parts.append(f"<p><i>Regime</i>: {html.escape(result.pattern.regime)}. "
                         f"{result.seeds} paired seeds per arm and level.</p>")
        if result.error:
            parts.append(f'<p class="error">{result.failed} of {result.runs} runs failed; '
                         f"first error: {html.escape(result.error)}</p>")
        for note in result.notes:
            parts.append(f"<p>{html.escape(note)}</p>")
        parts.append(f'<img alt="{html.escape(result.pattern.title)}" '
                     f'src="data:image/svg+xml;base64,{picture}">')
        detail = _map_display(map_table(result)) if name == MAP else _detail(result)
        parts.append(_coloured(detail.to_html(index=False, border=0, classes="table",
                                              na_rep="n/a")))
    style = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;font-size:13px;margin:0.5em 0 1.5em}"
             "td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}"
             "img{max-width:100%}.error{color:#cf222e}small{font-weight:normal;color:#555}"
             "td.PASS{color:#1a7f37;font-weight:bold}td.FAIL,td.ERROR{color:#cf222e;"
             "font-weight:bold}td.INCONCLUSIVE{color:#9a6700;font-weight:bold}")
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>Outside-In pattern "
            f"suite</title><style>{style}</style></head><body>" + "\n".join(parts)
            + "</body></html>\n")
    path = folder / "patterns.html"
    path.write_text(page, encoding="utf-8")

    write_manifest(folder / "manifest.json", command="patterns", mode=mode,
                   root_seed=suite.root_seed, steps=suite.steps, runs=suite.runs,
                   failed=suite.failed, passed=suite.passed, alpha=suite.alpha,
                   power=suite.power, holm_family=suite.family, rounds=suite.rounds,
                   variant=suite.variant or None,
                   seeds={r.pattern.name: r.seeds for r in suite.results})
    return path


def _coloured(table_html: str) -> str:
    """Give verdict cells a class (``<td class="PASS">``) so that the page colours them."""
    for verdict in ("PASS", "FAIL", "ERROR", "INCONCLUSIVE"):
        table_html = table_html.replace(f"<td>{verdict}</td>",
                                        f'<td class="{verdict}">{verdict}</td>')
    return table_html


def _map_display(table: pd.DataFrame) -> pd.DataFrame:
    """The regime map's table as the page shows it: estimates with intervals, survival."""
    def interval(stem: str) -> pd.Series:
        return pd.Series([Estimate(m, lo, hi, 0).text()
                          for m, lo, hi in zip(table[stem], table[f"{stem}_lower"],
                                               table[f"{stem}_upper"], strict=True)])

    return pd.DataFrame({
        "turbulence": table["turbulence"], "momentum": table["momentum"],
        "OI - IO mean share [95%]": interval("share_lead"),
        f"OI - IO profit, {PROFIT_UNIT} [95%]": interval("profit_lead"),
        "OI survival": table["oi_survival"].map(_percent),
        "IO survival": table["io_survival"].map(_percent), "seeds": table["seeds"]})


def _detail(result: PatternResult) -> pd.DataFrame:
    rows = []
    for check in result.checks:
        for test in check.tests:
            rows.append({"check": check.check.label, "at": test.label or "all runs",
                         "estimate [95% interval]": test.estimate.text(),
                         "seeds": test.estimate.n, "unit": check.check.unit,
                         "criterion": describe(check.check.criterion, check.check.unit),
                         "p (raw)": "n/a" if math.isnan(test.p) else f"{test.p:.3g}",
                         "note": test.degenerate,
                         "verdict": _verdict(check, result) if check.check.criterion is None
                         or result.failed else f"{test.verdict(ALPHA_SHOWN)} alone"})
        if check.check.criterion is not None:
            rows.append({"check": check.check.label, "at": "the check, Holm-adjusted",
                         "estimate [95% interval]": "", "seeds": result.seeds,
                         "unit": "", "criterion": check.check.criterion.why,
                         "p (raw)": "n/a" if math.isnan(check.p_adjusted)
                         else f"{check.p_adjusted:.3g}", "note": "",
                         "verdict": _verdict(check, result)})
    return pd.DataFrame(rows)
