"""Designs: which parameter sets an experiment runs, each paired with its analysis.

As in SALib (``sample/sobol.py`` beside ``analyze/sobol.py``) every sampler has a partner
that reads the outcomes back in the sampler's order: the full grid and Latin hypercube are
analysed by tables and regressions (``experiments.sweeps.analysis``), Sobol by
:func:`analyze_sobol`, Morris by :func:`analyze_morris`. The three sampled designs use
SALib's own samplers, seeded from the spec's root seed, so the same spec always gives the
same samples.

A factor given as ``levels`` can also be sampled: it is drawn on ``[0, k)`` and the draw's
integer part picks the level, so SALib sees a continuous input and the model a valid value.
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np
import pandas as pd

from experiments.sweeps.spec import ExperimentSpec, Level, integer_factors

_SAMPLER_STREAM = 0x5A17
"""Spawn key that separates the sampler's random stream from the runs' seeds."""


def problem(spec: ExperimentSpec) -> dict[str, Any]:
    """Build the SALib problem of a spec: factor names and bounds (levels as ``[0, k]``)."""
    names = list(spec.factors)
    bounds = []
    for factor in spec.factors.values():
        if factor.range is not None:
            bounds.append([float(factor.range[0]), float(factor.range[1])])
        else:
            bounds.append([0.0, float(len(factor.levels or ()))])
    out: dict[str, Any] = {"num_vars": len(names), "names": names, "bounds": bounds}
    if spec.design.groups:
        group = spec.design.group_of()
        out["groups"] = [group[n] for n in names]
    return out


def index_names(spec: ExperimentSpec) -> list[str]:
    """What the indices apportion: the factors, or the groups (in order of first factor)."""
    if not spec.design.groups:
        return list(spec.factors)
    group = spec.design.group_of()
    return list(dict.fromkeys(group[n] for n in spec.factors))


def sampler_seed(spec: ExperimentSpec) -> int:
    """Derive the seed of the design's sampler, derived from (not equal to) the root seed."""
    state = np.random.SeedSequence([spec.seed, _SAMPLER_STREAM]).generate_state(1)
    return int(state[0])


def design_matrix(spec: ExperimentSpec) -> np.ndarray:
    """Draw the raw design as SALib sees it: one row per sample, levels still as ``[0, k)``.

    For a grid, the row holds level indices (levels) or values (ranges).
    """
    prob = problem(spec)
    design = spec.design
    seed = sampler_seed(spec)
    if design.kind == "grid":
        axes = [range(len(f.grid_values())) for f in spec.factors.values()]
        return np.array(list(itertools.product(*axes)), dtype=float)
    if design.kind == "lhs":
        from SALib.sample import latin  # SALib (and SciPy's stats) only where sampled

        return np.asarray(latin.sample(prob, design.samples, seed=seed))
    if design.kind == "sobol":
        from SALib.sample import sobol as sobol_sample

        return np.asarray(sobol_sample.sample(prob, design.samples,
                                              calc_second_order=design.second_order,
                                              seed=seed))
    from SALib.sample import morris as morris_sample

    return np.asarray(morris_sample.sample(prob, design.trajectories,
                                           num_levels=design.levels, seed=seed))


def planned_samples(spec: ExperimentSpec) -> int:
    """How many samples the design gives, without drawing them."""
    return spec.sample_count()


def sample(spec: ExperimentSpec) -> pd.DataFrame:
    """Draw the parameter sets to run: one row per sample (index ``sample_id``), a column each.

    Values have the factor's type: names stay names, integer factors are rounded.
    """
    matrix = design_matrix(spec)
    integers = integer_factors(spec)
    columns: dict[str, Any] = {}
    for j, (name, factor) in enumerate(spec.factors.items()):
        raw = matrix[:, j]
        if spec.design.kind == "grid":
            values: list[Level] = factor.grid_values()
            col: Any = [values[int(i)] for i in raw]
        elif factor.levels is not None:
            k = len(factor.levels)
            col = [factor.levels[min(int(np.floor(x)), k - 1)] for x in raw]
        else:
            col = raw
        if name in integers:
            col = np.rint(np.asarray(col, dtype=float)).astype(np.int64)
        elif factor.kind == "float":
            col = np.asarray(col, dtype=float)
        columns[name] = col
    frame = pd.DataFrame(columns)
    frame.index.name = "sample_id"
    return frame


def analyze_sobol(spec: ExperimentSpec, y: np.ndarray, *, seed: int | None = None,
                  num_resamples: int = 100) -> dict[str, pd.DataFrame]:
    """Sobol indices of one outcome (Saltelli 2002; Jansen 1999 via SALib).

    Partner of the ``sobol`` design. ``y`` is the outcome per sample, in sample order
    (replications already averaged). Returns ``first_total`` (S1, S1_conf, ST, ST_conf per
    factor) and, when the design has them, ``second`` (S2, S2_conf per pair).
    """
    from SALib.analyze import sobol as sobol_analyze

    _check_length(spec, y)
    with warnings.catch_warnings():  # constant outputs are reported by the caller
        warnings.simplefilter("ignore", UserWarning)
        result = sobol_analyze.analyze(problem(spec), np.asarray(y, dtype=float),
                                       calc_second_order=spec.design.second_order,
                                       num_resamples=num_resamples,
                                       seed=sampler_seed(spec) if seed is None else seed)
    names = index_names(spec)
    first_total = pd.DataFrame({"S1": result["S1"], "S1_conf": result["S1_conf"],
                                "ST": result["ST"], "ST_conf": result["ST_conf"]},
                               index=pd.Index(names, name="factor"))
    out = {"first_total": first_total}
    if spec.design.second_order:
        rows = [{"factor_a": a, "factor_b": b, "S2": result["S2"][i, j],
                 "S2_conf": result["S2_conf"][i, j]}
                for (i, a), (j, b) in itertools.combinations(enumerate(names), 2)]
        out["second"] = pd.DataFrame(rows)
    return out


def analyze_morris(spec: ExperimentSpec, y: np.ndarray, *, seed: int | None = None,
                   num_resamples: int = 100) -> pd.DataFrame:
    """Morris elementary effects of one outcome (Morris 1991; Campolongo et al. 2007).

    Partner of the ``morris`` design: ``y`` in sample order. Returns ``mu``, ``mu_star``,
    ``mu_star_conf`` and ``sigma`` per factor; a large ``sigma`` next to ``mu_star`` marks a
    factor that interacts or acts non-linearly.
    """
    from SALib.analyze import morris as morris_analyze

    _check_length(spec, y)
    result = morris_analyze.analyze(problem(spec), design_matrix(spec),
                                    np.asarray(y, dtype=float),
                                    num_resamples=num_resamples,
                                    num_levels=spec.design.levels,
                                    seed=sampler_seed(spec) if seed is None else seed)
    return pd.DataFrame({k: result[k] for k in ("mu", "mu_star", "mu_star_conf", "sigma")},
                        index=pd.Index(index_names(spec), name="factor"))


def _check_length(spec: ExperimentSpec, y: np.ndarray) -> None:
    expected = planned_samples(spec)
    if len(y) != expected:
        raise ValueError(f"the {spec.design.kind} analysis needs all {expected} samples; "
                         f"got {len(y)} (was the sweep shrunk with --max-runs, or are runs "
                         "missing?)")


def coverage_warnings(spec: ExperimentSpec, runs: pd.DataFrame, what: str) -> list[str]:
    """Say what ``runs`` (one row per run or sample, a column per factor) cannot show.

    A factor with one level in ``runs`` has no effect to estimate; a ``where:`` filter of
    the discovery question that matches no run leaves it nothing to search. ``what`` names
    the rows in the message (``"the 200 runs planned"``).
    """
    notes = []
    for name in spec.factors:
        if name in runs.columns and runs[name].nunique(dropna=False) == 1:
            group = "levers" if name in spec.levers else "conditions"
            notes.append(f"warning: {group}.{name} has one level ({runs[name].iloc[0]!r}) in "
                         f"{what}: its effect cannot be estimated")
    discovery = spec.analysis.discovery
    if discovery is not None and discovery.where and len(runs):
        mask = np.ones(len(runs), dtype=bool)
        for name, value in discovery.where.items():
            if name in runs.columns:
                mask &= (runs[name] == value).to_numpy()
        if not mask.any():
            told = ", ".join(f"{k}: {v!r}" for k, v in discovery.where.items())
            notes.append(f"warning: analysis.discovery.where {{{told}}} matches none of "
                         f"{what}: scenario discovery will have no runs to search")
    return notes
