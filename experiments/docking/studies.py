"""The two docking studies: which runs each makes, and the published targets they must meet.

A study is an experiment spec (a grid over the model's parameters, replications on the one
seed rule) plus the targets that read its runs table. ``quick`` runs a smaller grid with
fewer replications: a check that the engine and the model still reproduce the result (the
test suite runs it), not the full reproduction (``outsidein dock <study>``, whose wall time
``docs/docking.md`` gives).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import pandas as pd
from matplotlib.figure import Figure

from experiments.docking.figures import march_figure, nk_figure
from experiments.docking.references import (
    KAUFFMAN,
    LEVINTHAL,
    MARCH_1991,
    NK_N,
    RECREATED,
    RECREATION,
    expected_peaks_random,
)
from experiments.docking.targets import TargetResult, every_run, gap, level
from experiments.sweeps.spec import ExperimentSpec

MARCH_MODEL = "experiments.docking.march:march_run"
NK_MODEL = "experiments.docking.nk:nk_run"
"""The docking models' functions; registered in :mod:`experiments.sweeps.spec`, so that a spec
file may name them too (``outsidein sweep``)."""

ROOT_SEED = 1991
"""Root seed of every docking run unless the command line gives another."""

MARCH_STEPS = 100_000
"""Cap on periods per March run: without turnover or turbulence every run reaches its
equilibrium long before (the longest seen: a few hundred periods), and the targets check it."""

NK_STEPS = 1_000
"""Periods of search per NK run; local search on N = 10 settles within about 100."""

LEVEL_TOLERANCE = 0.03
"""Absolute tolerance of a March level: about 4 standard errors of a quick-run cell mean
(200 runs; the cell standard deviations are 0.05 to 0.11) and 10 of a full-run one."""

GLOBAL_MAX_TOLERANCE = 0.025
"""Absolute tolerance of the K = 0 global peak's mean fitness (one landscape's standard
deviation is sqrt(1/18/N) = 0.075 at N = 10: 3.3 standard errors at 100 landscapes)."""

PEAKS_TOLERANCE = 0.05
"""Relative tolerance of the mean number of peaks at K = N - 1 (one landscape's standard
deviation is about 6: 4.65 is 7.7 standard errors at 100 landscapes)."""


@dataclass(frozen=True)
class Study:
    """A docking study: its spec (quick or full) and the targets its runs must meet."""

    name: str
    title: str
    spec: Callable[[bool, int], ExperimentSpec]
    targets: Callable[[pd.DataFrame, bool], list[TargetResult]]
    figure: Callable[[pd.DataFrame], Figure]


# --- March (1991) -------------------------------------------------------------------------


def march_spec(quick: bool, seed: int = ROOT_SEED) -> ExperimentSpec:
    """The Fig. 1 grid: p1 0.1..0.9 by 0.1 (quick: 0.1, 0.5, 0.9) x p2 0.1, 0.5, 0.9.

    The full run also runs the paper-only reading (``algorithm: paper``) beside March's
    original program; p1, p2 and the algorithm are levers, so every cell's replication
    ``i`` starts from the same reality and beliefs (common random numbers).
    """
    p1 = [0.1, 0.5, 0.9] if quick else [round(0.1 * i, 1) for i in range(1, 10)]
    algorithms = ["original"] if quick else ["original", "paper"]
    return ExperimentSpec.model_validate({
        "name": "march1991-quick" if quick else "march1991",
        "description": "March (1991) Fig. 1: equilibrium knowledge of the code over p1 and p2",
        "model": MARCH_MODEL, "base": {"m": 30, "n": 50}, "steps": MARCH_STEPS,
        "levers": {"p1": {"levels": p1}, "p2": {"levels": [0.1, 0.5, 0.9]},
                   "algorithm": {"levels": algorithms}},
        "replications": 200 if quick else 2000, "seed": seed,
    })


def march_targets(runs: pd.DataFrame, quick: bool) -> list[TargetResult]:
    """March's Fig. 1 shape and the re-creation's levels, on the original program's runs."""
    out: list[TargetResult] = []
    score = "code_score"
    original = runs[runs["algorithm"] == "original"]
    for p2 in (0.1, 0.5, 0.9):
        out.append(gap(original, name=f"falls_with_p1_at_p2_{p2}", source=MARCH_1991,
                       claim=f"p2 = {p2}: slow socialization (p1 0.1) ends with more knowledge "
                       "than fast (p1 0.9)", outcome_name=score,
                       better={"p1": 0.1, "p2": p2}, worse={"p1": 0.9, "p2": p2}))
    means = original.groupby(["p1", "p2"])[score].mean()
    others = means.drop((0.1, 0.9))
    runner_up = cast(tuple[float, float], others.idxmax())
    out.append(gap(original, name="highest_at_slow_socialization_fast_code", source=MARCH_1991,
                   claim="p1 0.1 with p2 0.9 is the highest equilibrium of the grid (against "
                   f"the next best, p1 {runner_up[0]} with p2 {runner_up[1]})",
                   outcome_name=score, better={"p1": 0.1, "p2": 0.9},
                   worse={"p1": runner_up[0], "p2": runner_up[1]}))
    for fast, slow in ((0.9, 0.5), (0.5, 0.1)):
        out.append(gap(original, name=f"p2_{fast}_above_p2_{slow}_at_p1_0.1", source=MARCH_1991,
                       claim=f"at p1 0.1 the p2 = {fast} curve lies above the p2 = {slow} one",
                       outcome_name=score, better={"p1": 0.1, "p2": fast},
                       worse={"p1": 0.1, "p2": slow}))
    out.append(gap(original, name="curves_cross_at_p1_0.9", source=RECREATION,
                   claim="at p1 0.9 the slow code (p2 0.1) ends above the fast one (p2 0.9)",
                   outcome_name=score, better={"p1": 0.9, "p2": 0.1},
                   worse={"p1": 0.9, "p2": 0.9}))
    for (p2, p1), published in RECREATED.items():
        out.append(level(original, name=f"level_p2_{p2}_p1_{p1}", source=RECREATION,
                         claim=f"equilibrium knowledge at p2 {p2}, p1 {p1}",
                         outcome_name=score, where={"p1": p1, "p2": p2},
                         published=published, tolerance=LEVEL_TOLERANCE))
    for p2 in (0.1, 0.9):
        out.append(every_run(original, name=f"equilibrium_reached_p2_{p2}", source=MARCH_1991,
                             claim=f"every run (p2 {p2}, p1 0.1) reaches the stable equilibrium",
                             outcome_name="absorbed", where={"p1": 0.1, "p2": p2},
                             holds=lambda v: v == 1, target="absorbed in every run"))
    paper = runs[runs["algorithm"] == "paper"]
    if not paper.empty:
        out.append(gap(paper, name="paper_reading_falls_with_p1", source=MARCH_1991,
                       claim="the paper-only reading has the shape too: p1 0.1 above p1 0.9 "
                       "at p2 0.9", outcome_name=score, better={"p1": 0.1, "p2": 0.9},
                       worse={"p1": 0.9, "p2": 0.9}))
        out.append(gap(paper, name="paper_reading_p2_order_at_p1_0.1", source=MARCH_1991,
                       claim="the paper-only reading: at p1 0.1, p2 0.9 above p2 0.1",
                       outcome_name=score, better={"p1": 0.1, "p2": 0.9},
                       worse={"p1": 0.1, "p2": 0.1}))
        both = pd.concat([original, paper])
        both = both[(both["p1"] == 0.1) & (both["p2"] == 0.9)]
        out.append(gap(both, name="paper_reading_lower_levels", source=RECREATION,
                       claim="the paper-only reading's levels are lower (p1 0.1, p2 0.9)",
                       outcome_name=score, better={"algorithm": "original"},
                       worse={"algorithm": "paper"}))
    return out


# --- NK -----------------------------------------------------------------------------------


def nk_spec(quick: bool, seed: int = ROOT_SEED) -> ExperimentSpec:
    """Landscapes of N = 10 over K (quick: 0 and 9; full: 0..9), each searched by 100 firms."""
    ks = [0, NK_N - 1] if quick else list(range(NK_N))
    return ExperimentSpec.model_validate({
        "name": "nk-quick" if quick else "nk",
        "description": "NK landscapes (N = 10): peaks, global peak, local search over K",
        "model": NK_MODEL, "base": {"n": NK_N, "organizations": 100, "jump": 0.0},
        "steps": NK_STEPS, "conditions": {"k": {"levels": ks}},
        "replications": 100 if quick else 1000, "seed": seed,
    })


def nk_targets(runs: pd.DataFrame, quick: bool) -> list[TargetResult]:
    """Kauffman's landscape statistics at K = 0 and K = N - 1, and local search at K = 0."""
    k0, kmax = {"k": 0}, {"k": NK_N - 1}
    expected = expected_peaks_random(NK_N)
    return [
        every_run(runs, name="one_peak_at_k0", source=KAUFFMAN,
                  claim="K = 0: the landscape has exactly one local optimum",
                  outcome_name="peaks", where=k0, holds=lambda v: v == 1,
                  target="1 peak in every landscape"),
        level(runs, name="global_max_at_k0", source=KAUFFMAN,
              claim="K = 0: the global peak's fitness is the mean of N maxima of two uniforms "
              "(expected 2/3)", outcome_name="global_max", where=k0, published=2 / 3,
              tolerance=GLOBAL_MAX_TOLERANCE),
        level(runs, name="peaks_at_k_n_minus_1", source=KAUFFMAN,
              claim=f"K = N - 1 = {NK_N - 1}: expected local optima 2^N / (N + 1)",
              outcome_name="peaks", where=kmax, published=round(expected, 2),
              tolerance=round(PEAKS_TOLERANCE * expected, 2)),
        every_run(runs, name="local_search_finds_global_at_k0", source=LEVINTHAL,
                  claim="K = 0: local search from random starts takes every organization to "
                  "the global peak", outcome_name="share_at_global", where=k0,
                  holds=lambda v: v == 1, target="all organizations, every landscape"),
        every_run(runs, name="local_search_settles", source=LEVINTHAL,
                  claim=f"K = {NK_N - 1}: local search ends with every organization on a peak",
                  outcome_name="share_on_peak", where=kmax, holds=lambda v: v == 1,
                  target="all organizations, every landscape"),
    ]


STUDIES: dict[str, Study] = {
    "march1991": Study("march1991", "March (1991): exploration and exploitation", march_spec,
                       march_targets, march_figure),
    "nk": Study("nk", "NK landscapes (Kauffman 1993; Levinthal 1997)", nk_spec, nk_targets,
                nk_figure),
}
"""The docking studies by the name the command line takes."""
