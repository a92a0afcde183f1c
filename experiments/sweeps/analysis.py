"""Reading a finished (or partial) sweep back and asking it questions.

Summary tables, Sobol or Morris indices (through the design's own analysis, see
``experiments.sweeps.designs``), lever interactions, and scenario discovery with the EMA
Workbench's PRIM. Functions take DataFrames and return DataFrames; none prints or writes.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.intervals import paired_difference, unpaired_difference
from experiments.sweeps.designs import analyze_morris, analyze_sobol, planned_samples
from experiments.sweeps.spec import Discovery, ExperimentSpec, SpecError, parse_spec
from experiments.sweeps.store import read_failed, read_manifest, read_runs, read_series, verify


class AnalysisError(SpecError):
    """The stored results cannot answer the question asked (missing runs, no outcome)."""


@dataclass(frozen=True)
class Experiment:
    """A sweep's output folder, loaded: the spec it ran, its runs, failures and series."""

    spec: ExperimentSpec
    manifest: dict[str, Any]
    runs: pd.DataFrame
    failed: pd.DataFrame
    series: pd.DataFrame
    problems: tuple[str, ...] = ()
    """What :func:`experiments.sweeps.store.verify` found (only with ``allow_incomplete``)."""

    @property
    def factors(self) -> list[str]:
        """The varied parameters, levers first."""
        return list(self.spec.factors)

    def outcomes(self, wanted: list[str] | None = None) -> list[str]:
        """Return the requested outcomes that the runs table has (default: the spec's)."""
        names = wanted or self.spec.analysis.outcomes
        return [n for n in names if n in self.runs.columns]


def load(out: str | Path, *, allow_incomplete: bool = False) -> Experiment:
    """Load an output folder written by ``outsidein sweep``, verified first.

    The store must be complete and whole (:func:`experiments.sweeps.store.verify`: every planned
    run committed, every part present and matching its commit record); otherwise an
    :class:`AnalysisError` says what is wrong in one line. With ``allow_incomplete`` the
    problems are kept in :attr:`Experiment.problems` and the whole parts are read.
    """
    out = Path(out)
    if not out.is_dir():
        raise AnalysisError(f"DIR: {out} is not a folder")
    manifest = read_manifest(out)
    if manifest is None:
        raise AnalysisError(f"DIR: {out} has no manifest.json; is it a sweep's output folder?")
    problems = verify(out)
    if problems and not allow_incomplete:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise AnalysisError(f"DIR: {out} is incomplete: {problems[0]}{more}; run the same "
                            "sweep again to complete it, or pass --allow-incomplete")
    spec = parse_spec(manifest["spec"], source=f"{out}/manifest.json")
    skip = bool(problems)
    runs = read_runs(out, skip_damaged=skip)
    if runs.empty:
        raise AnalysisError(f"DIR: {out} holds no finished runs yet")
    return Experiment(spec, manifest, runs, read_failed(out, skip_damaged=skip),
                      read_series(out, skip_damaged=skip), tuple(problems))


# --- tables --------------------------------------------------------------------------------

def summary_table(exp: Experiment, outcomes: list[str] | None = None,
                  by: list[str] | None = None) -> pd.DataFrame:
    """Mean, standard deviation and count of each outcome per combination of ``by``.

    ``by`` defaults to the factors with few distinct values (levels and grid points); a
    purely sampled design gives one row over all runs.
    """
    names = exp.outcomes(outcomes)
    if not names:
        raise AnalysisError(f"none of the outcomes {outcomes or exp.spec.analysis.outcomes} "
                            f"is in the runs table ({sorted(exp.runs.columns)})")
    if by is None:
        by = [f for f in exp.factors if exp.runs[f].nunique() <= 12]
    data = exp.runs[by + names].copy()
    data[names] = data[names].astype(float)
    if not by:
        table = data[names].agg(["mean", "std", "count"]).T
        table.index.name = "outcome"
        return table
    grouped = data.groupby(by, sort=True, observed=True)[names].agg(["mean", "std", "count"])
    return grouped


def paired_differences(exp: Experiment, outcomes: list[str] | None = None) -> pd.DataFrame:
    """Each paired factor's effect as paired differences from its first level.

    For a factor in the spec's ``paired`` (by default its levers), every run at level L is
    matched with the run at the first level that has the same other factor values and the
    same replication, hence the same seed (see :func:`experiments.sweeps.sweep.seed_blocks`). The
    table gives the mean paired difference over the ``pairs`` with the interval ``compare``
    gives it (a bootstrap for a bounded outcome or a proportion, so a difference of shares
    stays within [-1, 1]; Student's t otherwise), and the interval the same runs would give
    unpaired (made the same way for each kind), so the gain from pairing shows.
    """
    names = exp.outcomes(outcomes)
    rows = []
    runs = exp.runs
    for factor in exp.spec.paired_factors:
        if factor not in runs.columns or runs[factor].nunique() < 2:
            continue
        spec_levels = exp.spec.factors[factor].levels
        levels = [v for v in (spec_levels or sorted(runs[factor].unique()))
                  if (runs[factor] == v).any()]
        keys = [f for f in exp.factors if f != factor] + ["replication"]
        base = _unique_index(runs[runs[factor] == levels[0]].set_index(keys))
        for level in levels[1:]:
            other = _unique_index(runs[runs[factor] == level].set_index(keys))
            common = base.index.intersection(other.index)
            for outcome in names:
                a = base.loc[common, outcome].to_numpy(dtype=float)
                b = other.loc[common, outcome].to_numpy(dtype=float)
                diff = paired_difference(a, b, name=outcome)
                loose = unpaired_difference(a, b, name=outcome)
                rows.append({"factor": factor, "level": level, "versus": levels[0],
                             "outcome": outcome, "mean": diff.mean, "low": diff.low,
                             "high": diff.high, "pairs": diff.n,
                             "unpaired_low": loose.low, "unpaired_high": loose.high})
    return pd.DataFrame(rows)


def _unique_index(frame: pd.DataFrame) -> pd.DataFrame:
    """The first run of each key (a Morris design can visit the same point twice)."""
    return frame[~frame.index.duplicated()]


def replicate_means(exp: Experiment, outcome: str) -> np.ndarray:
    """Average the outcome over replications, one value per sample, in sample order."""
    if outcome not in exp.runs.columns:
        raise AnalysisError(f"outcome {outcome!r} is not in the runs table")
    means = exp.runs.groupby("sample_id")[outcome].mean().astype(float)
    expected = planned_samples(exp.spec)
    if len(means) != expected or means.isna().any():
        missing = expected - int(means.notna().sum())
        raise AnalysisError(f"{exp.spec.design.kind} indices of {outcome!r} need every one of "
                            f"{expected} samples; {missing} are missing or failed")
    return means.reindex(range(expected)).to_numpy()


def noise_share(exp: Experiment, outcome: str) -> float | None:
    """Mean variance between replications of one sample, over the variance of all runs.

    Near 0: the parameters decide the outcome; near 1: chance does, and indices computed
    from the replicate means need more replications (or samples) before they can be read.
    Not a share: with few replications it can exceed 1 (see
    :func:`experiments.sweeps.report.noise_text`). None with a single replication.
    """
    if exp.spec.replications < 2 or outcome not in exp.runs.columns:
        return None
    values = exp.runs[["sample_id", outcome]].astype({outcome: float})
    total = float(values[outcome].var())
    if not total > 0:
        return None
    within = float(values.groupby("sample_id")[outcome].var().mean())
    return within / total


def sensitivity(exp: Experiment, outcome: str) -> dict[str, pd.DataFrame]:
    """Sobol (first, total, second order, with confidence intervals) or Morris indices.

    Uses the analysis paired with the spec's design; grids and LHS have none (use
    :func:`interactions` and the summary tables instead).
    """
    kind = exp.spec.design.kind
    y = replicate_means(exp, outcome)
    if not np.ptp(y) > 0:
        raise AnalysisError(f"{outcome} is the same ({y[0]:g}) for every sample; it has no "
                            "variance to apportion")
    if kind == "sobol":
        return analyze_sobol(exp.spec, y)
    if kind == "morris":  # most influential first
        return {"morris": analyze_morris(exp.spec, y).sort_values("mu_star", ascending=False)}
    raise AnalysisError(f"a {kind} design has no variance-based indices; use sobol or morris")


def interactions(exp: Experiment, outcome: str,
                 factors: list[str] | None = None) -> pd.DataFrame:
    """Pairwise interaction terms of a regression, each named for what it is.

    Fits ``y ~ sum b_i z_i + sum b_ij z_i z_j`` on standardised factors (names become 0/1
    indicators of their first level's alternative) by least squares. ``kind`` says what
    the pair is: two levers (``lever × lever``: a positive ``b_ij`` with its 95% interval
    above zero means they *complement*, each worth more when the other is high; negative:
    they substitute), a lever and a market condition (``lever × condition``: the lever is
    worth more, or less, as the condition rises), or two conditions (``condition ×
    condition``: the market's conditions amplify or dampen each other's effect).
    """
    factors = factors or [f for f in exp.factors if exp.runs[f].nunique() > 1]
    if len(factors) < 2:
        raise AnalysisError("interactions need at least two factors that vary")
    if outcome not in exp.runs.columns:
        raise AnalysisError(f"outcome {outcome!r} is not in the runs table")
    data = exp.runs[[*factors, outcome]].dropna()
    z = {f: _standardise(data[f]) for f in factors}
    pairs = list(itertools.combinations(factors, 2))
    design = np.column_stack([np.ones(len(data)), *z.values(),
                              *[z[a] * z[b] for a, b in pairs]])
    y = data[outcome].astype(float).to_numpy()
    coef, _, rank, _ = np.linalg.lstsq(design, y, rcond=None)
    dof = len(y) - design.shape[1]
    if dof <= 0 or rank < design.shape[1]:
        raise AnalysisError("too few distinct runs to estimate the interactions")
    residual = y - design @ coef
    sigma2 = float(residual @ residual) / dof
    cov = sigma2 * np.linalg.pinv(design.T @ design)
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    offset = 1 + len(factors)
    rows = []
    for k, (a, b) in enumerate(pairs):
        est, err = coef[offset + k], se[offset + k]
        low, high = est - 1.96 * err, est + 1.96 * err
        kind = interaction_kind(exp, a, b)
        sign = 1 if low > 0 else -1 if high < 0 else 0
        rows.append({"factor_a": a, "factor_b": b, "kind": kind, "interaction": est,
                     "ci_low": low, "ci_high": high, "verdict": _VERDICTS[kind][sign]})
    return pd.DataFrame(rows)


_VERDICTS: dict[str, dict[int, str]] = {
    "lever × lever": {1: "complements", -1: "substitutes", 0: "no clear sign"},
    "lever × condition": {1: "lever worth more as the condition rises",
                          -1: "lever worth less as the condition rises", 0: "no clear sign"},
    "condition × condition": {1: "conditions amplify each other",
                              -1: "conditions dampen each other", 0: "no clear sign"},
}


def interaction_kind(exp: Experiment, a: str, b: str) -> str:
    """``lever × lever``, ``lever × condition`` or ``condition × condition``."""
    levers = [f in exp.spec.levers for f in (a, b)]
    return ("lever × lever" if all(levers) else "lever × condition" if any(levers)
            else "condition × condition")


def sobol_warnings(table: pd.DataFrame, outcome: str) -> list[str]:
    """Warnings on Sobol indices that should not be read at face value.

    A negative first-order index is an estimation error (too few samples); an interval wider
    than the index itself means the index cannot be told from zero.
    """
    out = []
    for factor, row in table.iterrows():
        for index in ("S1", "ST"):
            value, conf = float(row[index]), float(row[f"{index}_conf"])
            name = "first-order" if index == "S1" else "total"
            if value < 0:
                out.append(f"{outcome}: the {name} index of {factor} is negative "
                           f"({value:.3f}): an estimation error; add samples")
            elif conf > abs(value):
                out.append(f"{outcome}: the {name} index of {factor} ({value:.3f}) has a "
                           f"confidence half-width of {conf:.3f}, wider than the index: it "
                           "cannot be told from zero; add samples")
    return out


def _standardise(column: pd.Series) -> np.ndarray:
    if column.dtype.kind in "biuf":
        values = column.astype(float).to_numpy()
    else:
        first = sorted(column.astype(str).unique())[0]
        values = (column.astype(str) != first).astype(float).to_numpy()
    std = values.std()
    return (values - values.mean()) / (std if std > 0 else 1.0)


# --- scenario discovery --------------------------------------------------------------------

@dataclass(frozen=True)
class DiscoveryResult:
    """A PRIM box: the conditions under which the outcome of interest happens."""

    question: str
    box: pd.DataFrame
    """One row per restricted dimension: ``low`` and ``high`` (or the levels kept)."""
    coverage: float
    """Share of all cases of interest that fall in the box."""
    density: float
    """Share of the runs in the box that are cases of interest."""
    mass: float
    """Share of all runs that fall in the box."""
    cases: int
    runs: int
    trajectory: pd.DataFrame = field(default_factory=pd.DataFrame)
    """PRIM's peeling trajectory, one row per box from the whole space on.

    Columns ``coverage``, ``density``, ``mass`` and ``restricted`` (how many dimensions each
    box restricts).
    """
    chosen: int = 0
    """The row of the trajectory the box is."""

    def in_words(self) -> str:
        """The chosen box as a sentence: which dimensions it restricts, and how."""
        parts = []
        for row in self.box.to_dict("records"):
            name = str(row["factor"])
            levels = row.get("levels")
            if isinstance(levels, list) and levels:
                parts.append(f"{name} is {' or '.join(map(str, levels))}")
            else:
                parts.append(f"{name} is between {row['low']:.3g} and {row['high']:.3g}")
        if not parts:
            return (f"{self.question}: PRIM found no box better than the whole space "
                    f"({self.cases} of {self.runs} runs are cases, density {self.density:.0%}"
                    "); no condition singles these runs out.")
        where = "; ".join(parts)
        return (f"{self.question} happens mostly where {where}: that box holds "
                f"{self.coverage:.0%} of the {self.cases} cases (coverage), {self.density:.0%} "
                f"of its runs are cases (density), and it covers {self.mass:.0%} of the "
                f"{self.runs} runs (mass). Box {self.chosen} of {len(self.trajectory)} on the "
                "peeling trajectory, chosen as the best balance of coverage and density.")


def discover(x: pd.DataFrame, y: np.ndarray, *, question: str = "",
             mass_min: float = 0.05, peel_alpha: float = 0.05) -> DiscoveryResult:
    """Find the box of ``x`` where ``y`` (booleans) is mostly true, with EMA's PRIM.

    PRIM gives a peeling trajectory from the whole space (coverage 1) to a small pure box
    (density 1); we pick the point that best balances the two (largest harmonic mean of
    coverage and density), the usual compromise when no analyst is there to choose.
    """
    with warnings.catch_warnings():  # the workbench warns about optional backends on import
        warnings.simplefilter("ignore")
        from ema_workbench.analysis.prim import Prim

    y = np.asarray(y, dtype=bool)
    if not y.any():
        raise AnalysisError(f"no run meets the condition ({question}); nothing to discover")
    x = x.reset_index(drop=True).copy()
    for column in x.columns:
        if x[column].dtype.kind not in "biuf":
            x[column] = x[column].astype(str).astype(object)
        elif x[column].dtype.kind in "iu":
            x[column] = x[column].astype(np.int64)
        else:
            x[column] = x[column].astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prim = Prim(x, y, mass_min=mass_min, peel_alpha=peel_alpha)
        box = prim.find_box()
    if box is None:
        raise AnalysisError(f"PRIM found no box ({question})")
    trajectory = box.peeling_trajectory
    cov = trajectory["coverage"].to_numpy(float)
    den = trajectory["density"].to_numpy(float)
    score = np.where(cov + den > 0, 2 * cov * den / np.maximum(cov + den, 1e-12), 0)
    best = int(np.argmax(score))
    box.select(best)
    limits = box.box_lim
    initial = prim.box_init
    rows = []
    for column in limits.columns:
        low, high = limits[column].iloc[0], limits[column].iloc[1]
        init_low, init_high = initial[column].iloc[0], initial[column].iloc[1]
        if isinstance(low, set) or isinstance(init_low, set):
            if set(low) != set(init_low):
                rows.append({"factor": column, "low": None, "high": None,
                             "levels": sorted(map(str, low))})
        elif not (np.isclose(low, init_low) and np.isclose(high, init_high)):
            rows.append({"factor": column, "low": float(low), "high": float(high),
                         "levels": None})
    table = pd.DataFrame(rows, columns=["factor", "low", "high", "levels"])
    path = pd.DataFrame({"coverage": cov, "density": den,
                         "mass": trajectory["mass"].to_numpy(float),
                         "restricted": trajectory["res_dim"].to_numpy(int)
                         if "res_dim" in trajectory else np.zeros(len(cov), dtype=int)})
    return DiscoveryResult(question, table, float(cov[best]), float(den[best]),
                           float(trajectory["mass"].iloc[best]), int(y.sum()), len(y),
                           path, best)


def discover_losses(exp: Experiment, discovery: Discovery | None = None) -> DiscoveryResult:
    """Answer the spec's discovery question: when is ``outcome < below``.

    Runs are first restricted by ``where`` (e.g. the outside-in design); PRIM then searches
    the market conditions (the spec's ``conditions``; all factors if it has none).
    """
    question = discovery or exp.spec.analysis.discovery
    if question is None:
        raise AnalysisError("the spec has no analysis.discovery question")
    runs = exp.runs
    for name, value in question.where.items():
        if name not in runs.columns:
            raise AnalysisError(f"analysis.discovery.where.{name}: not a column of the runs")
        runs = runs[runs[name] == value]
    if question.outcome not in runs.columns:
        raise AnalysisError(f"analysis.discovery.outcome: {question.outcome!r} is not an "
                            "outcome of the runs")
    columns = [c for c in (exp.spec.conditions or exp.spec.factors)
               if c not in question.where and runs[c].nunique() > 1]
    if not columns:
        raise AnalysisError("scenario discovery needs at least one condition that varies")
    where = ", ".join(f"{k} = {v}" for k, v in question.where.items())
    text = f"{question.outcome} < {question.below:g}" + (f" where {where}" if where else "")
    y = runs[question.outcome].astype(float).to_numpy() < question.below
    return discover(runs[columns], y, question=text)
