"""What decides each claim: a Sobol analysis of each pattern's effects over the constants.

For every pattern, the behavioural constants of the model's parameter table
(:func:`experiments.patterns.catalog.behavioural_constants`) vary together over a Saltelli design;
each sample runs every arm and level of the pattern on a few seeds and reports each
deciding check's effect (its per-seed statistic, averaged over the levels). The samples
are an ordinary experiment spec run by the sweep engine (:func:`experiments.sweeps.sweep.run_sweep`)
on the suite's executor (local processes or Dask), stored as every sweep is, and analysed
by :func:`experiments.sweeps.designs.analyze_sobol` (SALib): first-order and total indices with
their bootstrap intervals. Every sample runs on the same seeds (common random numbers), so
the indices apportion what the constants do, not seed noise between samples. The constants
whose total index is largest (and told from 0) "decide mostly" the claim, and are stated in
``docs/ODD.md`` as assumptions the claim rests on.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.engine.executors import Executor
from experiments.patterns.catalog import (
    PATTERNS,
    SENSITIVITY_REPLICATIONS,
    SENSITIVITY_SAMPLES,
    STEPS,
    Pattern,
    behavioural_constants,
    constant_groups,
    pattern_run,
)
from experiments.patterns.stats import check_values, level_keys
from experiments.patterns.suite import run_params
from experiments.sweeps.analysis import load, replicate_means, sobol_warnings
from experiments.sweeps.designs import analyze_sobol
from experiments.sweeps.spec import ExperimentSpec, parse_spec, register_model
from experiments.sweeps.sweep import run_sweep
from simulation.provenance import write_manifest

MODEL = "experiments.patterns.sensitivity:pattern_effects"
"""The model function of a sensitivity sample: one seed of every arm and level of a pattern."""
register_model(MODEL)
PATTERN_KEY = "pattern"
"""The base keyword that names the pattern a sample runs."""
QUICK_KEY = "quick"


def effect_name(index: int) -> str:
    """The outcome name of a pattern's ``index``-th deciding check."""
    return f"effect_{index}"


def deciding(pattern: Pattern) -> list[int]:
    """Indices of a pattern's deciding checks."""
    return [i for i, c in enumerate(pattern.checks) if c.criterion is not None]


def pattern_effects(params: Mapping[str, Any], seed: int, *, steps: int, series_every: int = 0,
                    series_columns: Sequence[str] = ()) -> dict[str, float]:
    """Run every arm and level of one pattern on one seed; return each deciding effect.

    ``params`` holds ``pattern`` (its name) and the sample's constants, which are laid over
    every run as a structural variant is (never over what the pattern compares). The
    effect of a check is its per-seed statistic (a paired difference, interaction, slope,
    0/1 for a proportion) averaged over its levels. ``series_*`` are the executor's
    signature and not used.
    """
    pattern = next(p for p in PATTERNS if p.name == params[PATTERN_KEY])
    quick = bool(params.get(QUICK_KEY, False))
    constants = {k: v for k, v in params.items() if k not in (PATTERN_KEY, QUICK_KEY)}
    rows = []
    for arm in pattern.arms:
        for key in level_keys(pattern):
            run = run_params(pattern, arm.name, key, quick, constants)
            rows.append({"arm": arm.name, "level": key, "replication": 0, "ok": True,
                         "error": "", **pattern_run(run, seed, steps=steps)})
    table = pd.DataFrame(rows)
    out: dict[str, float] = {}
    for index in deciding(pattern):
        values = [v for _, _, v in check_values(pattern, pattern.checks[index], table)
                  if v is not None and len(v)]
        flat = np.concatenate(values) if values else np.array([math.nan])
        out[effect_name(index)] = float(np.nanmean(flat)) if np.isfinite(flat).any() \
            else math.nan
    return out


def sensitivity_spec(pattern: Pattern, *, samples: int, replications: int, steps: int,
                     seed: int, quick: bool = False,
                     constants: Mapping[str, tuple[float, float]] | None = None,
                     grouped: bool = True) -> ExperimentSpec:
    """The Sobol experiment of one pattern: its constants as conditions, its effects out.

    ``grouped`` apportions the :data:`~experiments.patterns.catalog.SENSITIVITY_GROUPS` (every
    constant of a group still takes its own value in each sample); otherwise each constant.
    """
    ranges = constants if constants is not None else behavioural_constants(pattern)
    design: dict[str, Any] = {"kind": "sobol", "samples": samples, "second_order": False}
    if grouped:
        design["groups"] = constant_groups(list(ranges))
    data = {"name": f"sensitivity-{pattern.name}",
            "description": f"Sobol indices of the effects of pattern {pattern.name}",
            "model": MODEL, "base": {PATTERN_KEY: pattern.name, QUICK_KEY: quick},
            "steps": steps,
            "conditions": {k: {"range": [lo, hi]} for k, (lo, hi) in ranges.items()},
            "design": design,
            "replications": replications, "seed": seed,
            # every sample on the same seeds (common random numbers): the indices apportion
            # the constants' effect, not the seed-to-seed noise of one sample against another
            "paired": list(ranges),
            "analysis": {"outcomes": [effect_name(i) for i in deciding(pattern)]}}
    return parse_spec(data, source=f"sensitivity of {pattern.name}")


@dataclass
class SensitivityResult:
    """Per pattern: its indices table, and the sweeps' wall time and runs."""

    indices: pd.DataFrame
    """pattern, check, constant, S1, S1_conf, ST, ST_conf (one row per constant)."""
    notes: list[str]
    runs: int
    wall_seconds: float
    samples: int
    replications: int
    steps: int


def run_sensitivity(patterns: Sequence[Pattern], executor: Executor, folder: Path, *,
                    samples: int = SENSITIVITY_SAMPLES,
                    replications: int = SENSITIVITY_REPLICATIONS, steps: int | None = None,
                    seed: int = 0, quick: bool = False,
                    constants: Sequence[str] | None = None) -> SensitivityResult:
    """Run each pattern's Sobol sweep into ``folder/sweeps/<name>`` and compute its indices.

    By default every one of :func:`~experiments.patterns.catalog.behavioural_constants` varies and
    the indices are its groups' (:data:`~experiments.patterns.catalog.SENSITIVITY_GROUPS`);
    ``constants`` keeps only the named constants and apportions them one by one.
    """
    months = steps or STEPS
    frames, notes = [], []
    runs, wall = 0, 0.0
    for pattern in [p for p in patterns if p.gate and deciding(p)]:
        ranges = behavioural_constants(pattern)
        if constants:
            ranges = {k: v for k, v in ranges.items() if k in set(constants)}
        if len(ranges) < 2:
            notes.append(f"{pattern.name}: fewer than two constants to vary; skipped")
            continue
        spec = sensitivity_spec(pattern, samples=samples, replications=replications,
                                steps=months, seed=seed, quick=quick, constants=ranges,
                                grouped=not constants)
        out = folder / "sweeps" / pattern.name
        result = run_sweep(spec, out, executor=executor)
        runs += result.planned
        wall += result.wall_seconds
        exp = load(out)
        for index in deciding(pattern):
            name = effect_name(index)
            label = pattern.checks[index].label
            try:
                y = replicate_means(exp, name)
            except Exception as err:  # noqa: BLE001 - a failed sample is reported, not a crash
                notes.append(f"{pattern.name} / {label}: {err}")
                continue
            if not np.isfinite(y).all() or not np.ptp(y) > 0:
                notes.append(f"{pattern.name} / {label}: the effect is the same in every "
                             "sample (or undefined); no variance to apportion")
                continue
            table = analyze_sobol(spec, y)["first_total"]
            unreadable = sum(1 for w in sobol_warnings(table, name) if "wider" in w)
            if unreadable:
                notes.append(f"{pattern.name} / {label}: {unreadable} of {2 * len(table)} "
                             "indices have intervals wider than themselves (add samples)")
            table = table.reset_index()
            members = spec.design.groups or {}
            table["members"] = [", ".join(members.get(f, [f])) for f in table["factor"]]
            frames.append(table.rename(columns={"factor": "constant"}).assign(
                pattern=pattern.name, check=label, unit=pattern.checks[index].unit,
                effect_mean=float(np.mean(y)), effect_sd=float(np.std(y))))
    indices = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["pattern", "check", "constant", "S1", "S1_conf", "ST", "ST_conf"])
    order = ["pattern", "check", "constant", "S1", "S1_conf", "ST", "ST_conf"]
    indices = indices[[*order, *[c for c in indices.columns if c not in order]]]
    return SensitivityResult(indices, notes, runs, wall, samples, replications, months)


LEAST_SHARE = 0.05
"""A constant 'decides' a claim only if its total index is above this beyond its interval."""
NONE_STANDS_OUT = ("no constant stands out: every total index's interval reaches below 0.05 "
                   "(add samples)")


def decided_by(indices: pd.DataFrame, top: int = 2) -> pd.DataFrame:
    """Per (pattern, check): the constants with the largest total index, strongest first.

    Only constants whose total index is told from a small one (``ST - ST_conf >`` the
    :data:`LEAST_SHARE` of the variance) are named; a check where none is says so
    (:data:`NONE_STANDS_OUT`).
    """
    rows = []
    for (pattern, check), group in indices.groupby(["pattern", "check"], sort=False):
        clear = group[group["ST"] - group["ST_conf"] > LEAST_SHARE]
        best = clear.sort_values("ST", ascending=False).head(top)
        text = ", ".join(f"{r.constant} (ST {r.ST:.2f} ± {r.ST_conf:.2f}, S1 {r.S1:.2f})"
                         for r in best.itertuples()) or NONE_STANDS_OUT
        rows.append({"pattern": pattern, "check": check, "decided mostly by": text})
    return pd.DataFrame(rows, columns=["pattern", "check", "decided mostly by"])


def written_files() -> list[str]:
    """The names of the files :func:`write` writes (beside the sweeps' folders)."""
    return ["sensitivity.html", "sensitivity.csv", "decided-by.csv", "manifest.json"]


def write(result: SensitivityResult, folder: Path) -> Path:
    """Write the indices (CSV), the 'decided mostly by' table (CSV) and an HTML page."""
    folder.mkdir(parents=True, exist_ok=True)
    result.indices.to_csv(folder / "sensitivity.csv", index=False)
    top = decided_by(result.indices)
    top.to_csv(folder / "decided-by.csv", index=False)
    parts = ["<h1>Outside-In patterns: what decides each claim</h1>",
             f"<p>Sobol indices (Saltelli design, {result.samples} base samples, "
             f"{result.replications} seeds per sample, {result.steps} months; SALib, "
             "first-order S1 and total ST with 95% bootstrap half-widths) of each deciding "
             "check's effect over the model's behavioural constants, each varied over its "
             "default x (1 -/+ 0.5) within its allowed range"
             + (", apportioned by group (a group's constants move independently; its "
                "indices are theirs together; members listed)"
                if "members" in result.indices and (result.indices["members"]
                                                    != result.indices["constant"]).any()
                else "") + ". "
             f"{result.runs} model-function runs (each runs every arm and level of its "
             f"pattern), {result.wall_seconds / 60:.1f} min.</p>",
             "<h2>Decided mostly by</h2>",
             top.to_html(index=False, border=0)]
    for note in result.notes:
        parts.append(f"<p>{html.escape(note)}</p>")
    for (pattern, check), group in result.indices.groupby(["pattern", "check"], sort=False):
        columns = ["constant", "S1", "S1_conf", "ST", "ST_conf"]
        if "members" in group and (group["members"] != group["constant"]).any():
            columns.append("members")
        shown = group.sort_values("ST", ascending=False)[columns]
        parts.append(f"<h2>{html.escape(str(pattern))}: {html.escape(str(check))}</h2>")
        parts.append(shown.to_html(index=False, border=0, float_format=lambda v: f"{v:.3f}"))
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;font-size:13px;margin:0.5em 0 1.5em}"
             "td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}")
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>Outside-In pattern "
            f"sensitivity</title><style>{style}</style></head><body>" + "\n".join(parts)
            + "</body></html>\n")
    path = folder / "sensitivity.html"
    path.write_text(page, encoding="utf-8")

    write_manifest(folder / "manifest.json", command="patterns --sensitivity",
                   samples=result.samples, replications=result.replications,
                   steps=result.steps, runs=result.runs, notes=result.notes)
    return path


def markdown(indices: pd.DataFrame) -> str:
    """The 'decided mostly by' table as Markdown (for docs/ODD.md)."""
    top = decided_by(indices)
    lines = ["| pattern | check | decided mostly by |", "| --- | --- | --- |"]
    lines += [f"| {r.pattern} | {r.check} | {r._3} |" for r in top.itertuples()]
    return "\n".join(lines) + "\n"
