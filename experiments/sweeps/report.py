"""A self-contained HTML report of a sweep, plus its tables as CSV and figures as PNG.

Everything the report shows is computed by ``experiments.sweeps.analysis`` and drawn by
``experiments.sweeps.plots``; figures are embedded as base64 PNG so the one HTML file can be
mailed or archived on its own.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments.sweeps import analysis, plots
from experiments.sweeps.analysis import AnalysisError, Experiment
from experiments.sweeps.designs import coverage_warnings
from simulation import outcomes as reg
from simulation.provenance import software_versions


@dataclass
class Report:
    """What the analysis found: named tables, figures and notes, in order."""

    title: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Figure] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def build(exp: Experiment, outcomes: list[str] | None = None, command: str = "") -> Report:
    """Run every analysis the experiment supports; note (not fail on) those it cannot.

    Outcomes that are the same in every run are named and left out. ``command`` is the
    command line that made the report; the report lists it with the versions and the seed.
    """
    spec = exp.spec
    names = exp.outcomes(outcomes)
    if not names:
        raise AnalysisError(f"none of the outcomes {outcomes or spec.analysis.outcomes} is in "
                            f"the runs table; it has {sorted(exp.runs.columns)}")
    report = Report(f"Experiment {spec.name}")
    planned = exp.manifest.get("planned", "?")
    report.notes.append(f"{len(exp.runs)} runs completed, {len(exp.failed)} failed, "
                        f"{planned} planned; design {spec.design.kind}, "
                        f"{spec.replications} replication(s), root seed {spec.seed}, "
                        f"spec hash {exp.manifest.get('identity', {}).get('spec_hash')}.")
    selection = exp.manifest.get("selection")
    if selection:
        report.notes.append(
            f"Only part of the design was run ({selection}). Where combinations of the "
            "factors are left out, an effect seen along one factor can belong to another that "
            "varies with it: run the whole design (without --max-runs) before reading an "
            "effect as a cause.")
    report.notes.extend(coverage_warnings(spec, exp.runs, f"the {len(exp.runs)} runs "
                                          "completed"))
    report.notes.append(provenance_text(exp, command))
    constant = [n for n in names if not np.ptp(exp.runs[n].astype(float).dropna()) > 0]
    for name in constant:
        values = reg.display_scale(name) * exp.runs[name].astype(float).dropna()
        report.notes.append(f"{plots.axis_label(name)} is the same ("
                            f"{plots.plain_number(float(values.iloc[0])) if len(values) else '–'})"
                            " in every run: left out of the analysis (nothing to apportion "
                            "or explain)")
    names = [n for n in names if n not in constant]
    sampled = spec.design.kind in ("sobol", "morris", "lhs")  # one row per sample is no summary
    report.tables["summary"] = analysis.summary_table(exp, names, by=[] if sampled else None)
    paired = analysis.paired_differences(exp, names)
    if not paired.empty:
        report.tables["paired differences"] = paired
    if len(exp.failed):
        report.tables["failed runs"] = exp.failed.drop(columns=["traceback"]).head(50)
    for outcome in names:
        noise = analysis.noise_share(exp, outcome)
        if noise is not None:
            report.notes.append(noise_text(outcome, noise))
        if spec.design.kind in ("sobol", "morris"):
            try:
                result = analysis.sensitivity(exp, outcome)
            except AnalysisError as err:
                report.notes.append(f"{outcome}: {err}")
            else:
                for key, table in result.items():
                    report.tables[f"{outcome}: {key.replace('_', ' and ')} indices"] = table
                if "first_total" in result:
                    report.notes.extend(analysis.sobol_warnings(result["first_total"],
                                                                plots.axis_label(outcome)))
                    report.figures[f"{outcome}: Sobol indices"] = plots.indices_bar(
                        result["first_total"], outcome)
                if "morris" in result:
                    report.figures[f"{outcome}: Morris mu-star against sigma"] = \
                        plots.morris_plot(result["morris"], outcome)
        try:
            report.tables[f"{outcome}: interactions (lever × lever, lever × condition, "
                          "condition × condition)"] = analysis.interactions(exp, outcome)
        except AnalysisError as err:
            report.notes.append(f"{outcome} interactions: {err}")
        report.figures[f"{outcome}: main effects"] = plots.main_effects(
            exp.runs, exp.factors, outcome)
    pair = spec.analysis.heatmap or (tuple(exp.factors[:2]) if len(exp.factors) > 1 else None)
    if pair is not None:
        for outcome in names:
            report.figures[f"{outcome} over {pair[0]} x {pair[1]}"] = plots.heatmap(
                exp.runs, pair[0], pair[1], outcome)
    if spec.analysis.discovery is not None:
        try:
            found = analysis.discover_losses(exp)
        except AnalysisError as err:
            report.notes.append(f"scenario discovery: {err}")
        else:
            report.notes.append(f"Scenario discovery (PRIM): {found.in_words()}")
            if not found.box.empty:
                report.tables["scenario discovery box"] = found.box
            report.figures["scenario discovery: PRIM peeling trajectory"] = \
                plots.prim_trajectory(found.trajectory, found.chosen, found.question)
    if not exp.series.empty:
        by = next((f for f in exp.spec.levers if exp.runs[f].nunique() <= 8), None)
        for column in [c for c in exp.series.columns if c not in ("run_id", "step")]:
            report.figures[f"{column} over time"] = plots.trajectories(
                exp.series, exp.runs, column, by)
    return report


def provenance_text(exp: Experiment, command: str = "") -> str:
    """The exact command, software versions and seed that made the report."""
    versions = ", ".join(f"{k} {v}" for k, v in software_versions().items() if v)
    swept = exp.manifest.get("command") or exp.manifest.get("argv")
    made = f"Made by `{command}`" if command else "Made by the analysis"
    return (f"{made} from the sweep of spec {exp.spec.name} (root seed {exp.spec.seed}"
            + (f", run by `{swept}`" if isinstance(swept, str) else "")
            + f"); software: {versions}.")


def noise_text(outcome: str, ratio: float) -> str:
    """Say how much of an outcome's spread is chance, without a share above 100%.

    ``ratio`` is the mean variance between replications of one sample over the variance of
    all runs (:func:`experiments.sweeps.analysis.noise_share`); with few replications it can exceed
    1, which means the factors explain none of the spread that can be seen.
    """
    if ratio >= 1:
        return (f"{outcome}: replications of the same parameters vary as much as all runs "
                f"do (mean within-sample variance {ratio:.2f} times the total): no effect of "
                "the factors stands out from chance; add replications")
    return (f"{outcome}: the mean variance between replications of the same parameters is "
            f"{ratio:.0%} of the variance over all runs" + (
                " (mostly chance: read its indices and effects with care, or add "
                "replications)" if ratio > 0.5 else ""))


def _figure_png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


COLUMN_INCHES = 3.5
"""A journal's single column (89 mm); wide figures get a double column."""
DOUBLE_COLUMN_INCHES = 7.2


def _vector(fig: Figure, stem: Path) -> None:
    """Write the figure as SVG and PDF at a journal column width (fixed metadata)."""
    width, height = fig.get_size_inches()
    target = COLUMN_INCHES if width <= 6 else DOUBLE_COLUMN_INCHES
    fig.set_size_inches(target, height * target / width)
    for fmt, meta in (("svg", {"Date": None}), ("pdf", {"CreationDate": None})):
        fig.savefig(f"{stem}.{fmt}", format=fmt, metadata=meta, bbox_inches="tight")
    fig.set_size_inches(width, height)


_HEADS = {"mu": "μ", "mu_star": "μ*", "mu_star_conf": "μ* ± (95%)", "sigma": "σ",
          "S1_conf": "S1 ± (95%)", "ST_conf": "ST ± (95%)", "factor_a": "factor",
          "factor_b": "with", "ci_low": "low (95%)", "ci_high": "high (95%)",
          "unpaired_low": "low if unpaired", "unpaired_high": "high if unpaired"}
"""Column heads of the HTML tables (the CSV files keep the column names)."""


_IN_UNIT = ("mean", "std", "low", "high", "unpaired_low", "unpaired_high")
"""Columns of a table with an outcome per row that are in that outcome's unit (not counts,
factors or levels)."""


def in_percent(table: pd.DataFrame) -> pd.DataFrame:
    """Shares as percentages, as their labels say "(%)" (the CSV files keep fractions).

    An outcome per column (a grid's summary: its counts stay counts), or an outcome per row,
    in an ``outcome`` column (paired differences) or as the index (a sampled design's
    summary), whose :data:`_IN_UNIT` columns are scaled.
    """
    out = table.copy()
    for column in out.columns:
        top, last = (column[0], column[-1]) if isinstance(column, tuple) else (column, column)
        scale = reg.display_scale(str(top))
        if scale != 1.0 and last != "count":
            out[column] = scale * out[column].astype(float)
    rows = (out["outcome"] if "outcome" in out.columns
            else out.index.to_series() if out.index.name == "outcome" else None)
    if rows is not None:
        scales = rows.map(lambda name: reg.display_scale(str(name))).to_numpy(dtype=float)
        for column in _IN_UNIT:
            if column in out.columns:
                out[column] = scales * out[column].astype(float).to_numpy()
    return out


def readable(table: pd.DataFrame) -> pd.DataFrame:
    """The table with registry labels and units for outcome names, shares in % as they say.

    Labels replace the names in rows and columns (see :func:`in_percent` for the values).
    """
    table = in_percent(table)
    names = {n: plots.axis_label(n) for n in [*table.columns.get_level_values(0),
                                              *table.index.get_level_values(0)]
             if isinstance(n, str) and reg.registered(n)}
    out = table.rename(index=names, columns={**names, **_HEADS})
    if "outcome" in out.columns:
        out["outcome"] = [plots.axis_label(v) if reg.registered(str(v)) else v
                          for v in out["outcome"]]
    return out


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).strip("_").lower()


def write(report: Report, folder: str | Path) -> Path:
    """Write ``report.html`` (self-contained), ``tables/*.csv`` and ``figures/*.png``."""
    folder = Path(folder)
    (folder / "tables").mkdir(parents=True, exist_ok=True)
    (folder / "figures").mkdir(parents=True, exist_ok=True)
    parts = [f"<h1>{html.escape(report.title)}</h1>"]
    parts += [f"<p>{html.escape(note)}</p>" for note in report.notes]
    for name, table in report.tables.items():
        table.to_csv(folder / "tables" / f"{_slug(name)}.csv")
        parts.append(f"<h2>{html.escape(name)}</h2>")
        parts.append(readable(table).to_html(
            float_format=plots.plain_number, border=0, classes="table", na_rep="–",
            index=not isinstance(table.index, pd.RangeIndex)))
    for name, fig in report.figures.items():
        png = _figure_png(fig)
        (folder / "figures" / f"{_slug(name)}.png").write_bytes(png)
        _vector(fig, folder / "figures" / _slug(name))
        plt.close(fig)
        data = base64.b64encode(png).decode()
        parts.append(f"<h2>{html.escape(name)}</h2>"
                     f'<img alt="{html.escape(name)}" src="data:image/png;base64,{data}">'
                     f'<p class="files">Vector files for print: figures/{_slug(name)}.svg, '
                     f"figures/{_slug(name)}.pdf ({COLUMN_INCHES:g} in column width)</p>")
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;font-size:13px}td,th{padding:2px 8px;"
             "border-bottom:1px solid #ddd;text-align:right}img{max-width:100%}"
             ".files{color:#666;font-size:12px}")
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>"
            f"{html.escape(report.title)}</title><style>{style}</style></head><body>"
            + "\n".join(parts) + "</body></html>\n")
    path = folder / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
