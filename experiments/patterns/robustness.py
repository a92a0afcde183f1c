"""The robustness matrix: every pattern re-run at every structural variant.

Each variant of :data:`experiments.patterns.catalog.VARIANTS` lays its keywords over every run of
every pattern (except what the pattern compares; see
:func:`experiments.patterns.suite.applicable`) and the whole suite is decided again, with its
own power rule and its own Holm family. The matrix says, for each pattern and variant, the
verdict and the deciding effect; a cell is ``n/a`` when the variant changes nothing the
pattern does not compare. Built from :class:`~experiments.patterns.suite.SuiteResult` s only;
the runs go through the suite's executor like every other run.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.engine.executors import Executor
from experiments.patterns.catalog import VARIANTS, Pattern, Variant
from experiments.patterns.stats import PatternResult
from experiments.patterns.suite import SuiteResult, applicable, pick, run_suite
from simulation.provenance import write_manifest

BASELINE = "as defined"
"""The matrix's first column: the patterns as their definitions give them."""
NOT_APPLICABLE = "not applicable"
"""The verdict of a cell whose variant changes nothing the pattern does not compare (in the
matrix: ``n/a``; spelled out in the CSV, where ``n/a`` would read as a missing value)."""


def select_variants(names: Sequence[str] | None) -> list[Variant]:
    """The variants named (in the declared order), or all; raise on an unknown name."""
    return pick(VARIANTS, names, "--variants", "variant")


@dataclass
class RobustnessResult:
    """The baseline suite and one suite per variant (None where nothing applied)."""

    baseline: SuiteResult
    variants: list[tuple[Variant, SuiteResult | None]]
    patterns: list[Pattern]

    @property
    def wall_seconds(self) -> float:
        """Wall time of every suite together."""
        return self.baseline.wall_seconds + sum(s.wall_seconds for _, s in self.variants if s)

    @property
    def runs(self) -> int:
        """Model runs of every suite together."""
        return self.baseline.runs + sum(s.runs for _, s in self.variants if s)


def run_robustness(patterns: Sequence[Pattern], executor: Executor,
                   variants: Sequence[Variant], *, quick: bool, root_seed: int,
                   steps: int | None = None, replications: int | None = None,
                   progress: Callable[[int, int, int], None] | None = None
                   ) -> RobustnessResult:
    """Run the suite as defined and at every variant (the patterns a variant applies to)."""
    gated = [p for p in patterns if p.gate]
    common = {"quick": quick, "root_seed": root_seed, "steps": steps,
              "replications": replications, "progress": progress}
    baseline = run_suite(gated, executor, **common)  # type: ignore[arg-type]
    out: list[tuple[Variant, SuiteResult | None]] = []
    for variant in variants:
        touched = [p for p in gated if applicable(p, variant.params)]
        suite = run_suite(touched, executor, overrides=variant.params, variant=variant.name,
                          **common) if touched else None  # type: ignore[arg-type]
        out.append((variant, suite))
    return RobustnessResult(baseline, out, gated)


def _deciding(result: PatternResult) -> dict[str, Any]:
    """The check that decides a pattern's verdict, and its estimate."""
    order = {"FAIL": 0, "INCONCLUSIVE": 1, "PASS": 2}
    deciding = [c for c in result.checks if c.check.criterion is not None]
    if not deciding:
        return {}
    check = min(deciding, key=lambda c: (order.get(c.verdict, 3),
                                         -(c.p_adjusted if math.isfinite(c.p_adjusted)
                                           else 2.0)))
    test = check.tests[check.worst] if check.tests else None
    est = test.estimate if test is not None else None
    return {"check": check.check.label, "where": test.label if test else "",
            "effect": est.mean if est else math.nan, "lower": est.low if est else math.nan,
            "upper": est.high if est else math.nan, "unit": check.check.unit,
            "p_holm": check.p_adjusted}


def long_table(result: RobustnessResult) -> pd.DataFrame:
    """One row per (pattern, variant): verdict, deciding check, effect, seeds."""
    rows: list[dict[str, Any]] = []
    columns: list[tuple[str, SuiteResult | None]] = [(BASELINE, result.baseline)]
    columns += [(v.name, s) for v, s in result.variants]
    for name, suite in columns:
        found = {r.pattern.name: r for r in suite.results} if suite else {}
        for pattern in result.patterns:
            r = found.get(pattern.name)
            if r is None:
                rows.append({"pattern": pattern.name, "variant": name,
                             "verdict": NOT_APPLICABLE})
                continue
            rows.append({"pattern": pattern.name, "variant": name, "verdict": r.status,
                         **_deciding(r), "seeds": r.seeds})
    return pd.DataFrame(rows)


def cell_text(row: pd.Series) -> str:
    """``PASS +0.012`` (the verdict and the deciding effect), or ``n/a``."""
    if row["verdict"] == NOT_APPLICABLE:
        return "n/a"
    effect = row.get("effect", math.nan)
    return row["verdict"] if not isinstance(effect, float) or math.isnan(effect) \
        else f"{row['verdict']} {effect:+.3g}"


def matrix(table: pd.DataFrame) -> pd.DataFrame:
    """The pattern x variant table of :func:`cell_text`."""
    cells = table.assign(cell=table.apply(cell_text, axis=1))
    wide = cells.pivot(index="pattern", columns="variant", values="cell")
    order = list(dict.fromkeys(table["variant"]))
    return wide.reindex(index=list(dict.fromkeys(table["pattern"])), columns=order)


def flips(table: pd.DataFrame) -> pd.DataFrame:
    """The cells whose verdict differs from the pattern's verdict as defined."""
    base = table[table["variant"] == BASELINE].set_index("pattern")["verdict"]
    other = table[(table["variant"] != BASELINE) & (table["verdict"] != NOT_APPLICABLE)]
    return other[other["verdict"].to_numpy() != base.reindex(other["pattern"]).to_numpy()]


def markdown(table: pd.DataFrame) -> str:
    """The matrix as a Markdown table (for docs/ODD.md)."""
    wide = matrix(table)
    head = "| pattern | " + " | ".join(wide.columns) + " |"
    rule = "| --- " * (len(wide.columns) + 1) + "|"
    body = [f"| {name} | " + " | ".join(str(v) for v in row) + " |"
            for name, row in wide.iterrows()]
    return "\n".join([head, rule, *body]) + "\n"


def written_files() -> list[str]:
    """The names of every file :func:`write` writes (relative to its folder)."""
    return ["robustness.html", "robustness.csv", "robustness-matrix.csv", "robustness.md",
            "manifest.json"]


def write(result: RobustnessResult, folder: Path) -> Path:
    """Write the matrix as HTML, CSV (long and wide) and Markdown; return the page."""
    folder.mkdir(parents=True, exist_ok=True)
    table = long_table(result)
    table.to_csv(folder / "robustness.csv", index=False)
    wide = matrix(table)
    wide.to_csv(folder / "robustness-matrix.csv")
    (folder / "robustness.md").write_text(markdown(table), encoding="utf-8")
    changed = flips(table)
    evaluated = int((table["verdict"] != NOT_APPLICABLE).sum()
                    - (table["variant"] == BASELINE).sum())
    why = {v.name: v.why for v, _ in result.variants}
    header = "".join(f'<th title="{html.escape(why.get(c, ""))}">{html.escape(c)}</th>'
                     for c in wide.columns)
    rows = []
    for name, row in wide.iterrows():
        cells = "".join(f'<td class="{html.escape(str(v).split(" ")[0])}">'
                        f"{html.escape(str(v))}</td>" for v in row)
        rows.append(f"<tr><th>{html.escape(str(name))}</th>{cells}</tr>")
    mode = "quick" if result.baseline.quick else "full"
    parts = [
        "<h1>Outside-In patterns: robustness matrix</h1>",
        f"<p>{mode} runs: every pattern as defined, then at each structural variant (the "
        "variant's keywords laid over every run, except what the pattern compares; n/a where "
        "that leaves nothing to change). Each column is a suite of its own: seeds for power, "
        f"Holm across its checks. {result.runs} model runs, "
        f"{result.wall_seconds / 60:.1f} min. Each cell: the verdict and the deciding "
        f"effect (in the deciding check's unit; see robustness.csv). {len(changed)} of "
        f"{evaluated} variant evaluations differ from the verdict as defined.</p>",
        f"<table><tr><th>pattern</th>{header}</tr>{''.join(rows)}</table>",
        "<h2>Variants</h2><ul>" + "".join(
            f"<li><b>{html.escape(v.name)}</b>: {html.escape(v.why)} "
            f"(<code>{html.escape(str(dict(v.params)))}</code>)</li>"
            for v, _ in result.variants) + "</ul>"]
    style = ("body{font-family:sans-serif;margin:1.5em;color:#222}"
             "table{border-collapse:collapse;font-size:12px}"
             "td,th{padding:3px 6px;border:1px solid #ddd;text-align:left;white-space:nowrap}"
             "td.PASS{background:#dafbe1}td.FAIL{background:#ffebe9}"
             "td.INCONCLUSIVE{background:#fff8c5}td.n\\/a{color:#888}")
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>Outside-In robustness "
            f"matrix</title><style>{style}</style></head><body>" + "\n".join(parts)
            + "</body></html>\n")
    path = folder / "robustness.html"
    path.write_text(page, encoding="utf-8")

    write_manifest(folder / "manifest.json", command="patterns --robustness", mode=mode,
                   root_seed=result.baseline.root_seed, steps=result.baseline.steps,
                   runs=result.runs, variants=[v.name for v, _ in result.variants],
                   flipped=len(changed), evaluated=evaluated)
    return path
