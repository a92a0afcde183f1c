"""The NK fitness landscape (Kauffman 1993) with adaptive search (Levinthal 1997), in Mesa.

A configuration is ``N`` binary choices. Choice ``i``'s fitness contribution depends on its
own value and on the values of ``K`` other choices; for each of the ``2 ** (K + 1)``
combinations it is an independent uniform draw in [0, 1] (:func:`contribution_table`). A
configuration's fitness is the mean of its ``N`` contributions (:func:`fitness`). ``K = 0``
gives a separable landscape with one peak; ``K = N - 1`` a fully random one.

Organizations (Mesa agents) search the landscape as in Levinthal (1997): each period an
organization tries one configuration and moves there if it is fitter. The trial is a
**local search** (one choice, drawn at random, flipped) or, with probability ``jump``, a
**long jump** (every choice drawn afresh). A configuration is a **local optimum** (a peak)
when no single flip makes it fitter (:func:`local_optima`).

Choices the literature leaves open, and what this model does:

1. *Who interacts with whom*: ``interaction="adjacent"`` (the default; Kauffman's cyclic
   neighbourhood, choice ``i`` depends on ``i+1, ..., i+K`` mod ``N``) or ``"random"`` (``K``
   others drawn without replacement per choice, from the model's ``rng``). Peak counts and the
   fitness distribution do not depend on this choice at ``K = 0`` or ``K = N - 1``.
2. *The whole landscape is tabulated* (all ``2 ** N`` fitnesses), so peaks and the global
   peak are found exactly; ``N`` is therefore at most 20.
3. *Ties*: contributions are continuous, so equal fitnesses have probability 0; a move needs
   strictly higher fitness, and a peak is strictly fitter than each neighbour.
4. *Starting points*: each organization starts at a configuration drawn uniformly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

import mesa
import numpy as np
import pandas as pd

from simulation.errors import ParameterError

Interaction = Literal["adjacent", "random"]
INTERACTIONS: tuple[Interaction, ...] = ("adjacent", "random")
MAX_N = 20
"""Largest N: the landscape (``2 ** N`` fitnesses) is tabulated in memory."""


# --- the landscape, as pure functions (exactly testable) -----------------------------------


def interaction_matrix(n: int, k: int, interaction: Interaction = "adjacent",
                       rng: np.random.Generator | None = None) -> np.ndarray:
    """``(N, K + 1)`` loci each contribution reads: itself first, then its ``K`` others.

    Column 0 is the most significant bit of the contribution table's index (see
    :func:`fitness`).
    """
    if interaction == "adjacent":
        return (np.arange(n)[:, None] + np.arange(k + 1)[None, :]) % n
    if rng is None:
        raise ValueError("random interactions need the model's rng")
    rows = []
    for i in range(n):
        others = np.delete(np.arange(n), i)
        rows.append([i, *rng.choice(others, size=k, replace=False)])
    return np.array(rows, dtype=np.intp).reshape(n, k + 1)


def contribution_table(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """``(N, 2 ** (K + 1))`` fitness contributions, each uniform in [0, 1)."""
    return rng.random((n, 2 ** (k + 1)))


def all_configurations(n: int) -> np.ndarray:
    """``(2 ** N, N)`` bits of every configuration; row ``c`` has bit ``i`` of ``c`` at ``i``."""
    codes = np.arange(2**n, dtype=np.int64)
    return ((codes[:, None] >> np.arange(n)[None, :]) & 1).astype(np.int8)


def fitness(bits: np.ndarray, loci: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Fitness of each configuration (rows of ``bits``): the mean of its contributions.

    Contribution ``i`` is ``table[i, index]`` with ``index`` the bits at ``loci[i]`` read as
    a binary number, ``loci[i, 0]`` the most significant.
    """
    bits = np.atleast_2d(bits)
    width = loci.shape[1]
    weights = 1 << np.arange(width - 1, -1, -1)
    index = (bits[:, loci] * weights).sum(axis=-1)  # (configs, N)
    contributions = table[np.arange(table.shape[0])[None, :], index]
    return np.asarray(contributions.mean(axis=-1))


def local_optima(values: np.ndarray, n: int) -> np.ndarray:
    """Boolean mask over all ``2 ** N`` configurations: strictly fitter than every flip."""
    codes = np.arange(2**n, dtype=np.int64)
    peak = np.ones(2**n, dtype=bool)
    for i in range(n):
        peak &= values > values[codes ^ (1 << i)]
    return peak


# --- parameters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NKParams:
    """The NK model's parameters, checked on construction.

    Attributes:
        n: choices per configuration (1 to 20).
        k: interactions per choice (0 to ``n - 1``).
        organizations: searching organizations (agents).
        jump: each organization's chance per period of a long jump instead of a local step.
        interaction: ``adjacent`` or ``random`` (module docstring, choice 1).

    """

    n: int = 10
    k: int = 0
    organizations: int = 100
    jump: float = 0.0
    interaction: Interaction = "adjacent"

    def __post_init__(self) -> None:
        for name, low, high in (("n", 1, MAX_N), ("k", 0, max(0, self.n - 1)),
                                ("organizations", 0, 100_000)):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) \
                    or not low <= value <= high:
                raise ParameterError(name, f"{value!r} must be a whole number in "
                                     f"[{low}, {high}]")
        if isinstance(self.jump, bool) or not isinstance(self.jump, (int, float, np.number)) \
                or not 0.0 <= float(self.jump) <= 1.0:
            raise ParameterError("jump", f"{self.jump!r} must be a probability in [0, 1]")
        if self.interaction not in INTERACTIONS:
            raise ParameterError("interaction", f"{self.interaction!r}; choose from "
                                 f"{', '.join(INTERACTIONS)}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> NKParams:
        """Build from keywords, refusing unknown names with the list of known ones."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ParameterError(unknown[0], f"is not a parameter of the NK model; choose "
                                 f"from {', '.join(sorted(known))}")
        return cls(**dict(values))


# --- the Mesa model -----------------------------------------------------------------------


class Organization(mesa.Agent):
    """An organization searching the landscape from its current configuration."""

    def __init__(self, model: NKModel, configuration: int) -> None:
        super().__init__(model)
        self.configuration = configuration

    @property
    def fitness(self) -> float:
        """Fitness of the current configuration."""
        model: NKModel = self.model  # type: ignore[assignment]
        return float(model.landscape[self.configuration])

    def search(self, jump_draw: float, flip: int, jump_to: int) -> None:
        """Try a long jump (if ``jump_draw`` < the jump rate) or one flip; keep it if fitter."""
        model: NKModel = self.model  # type: ignore[assignment]
        trial = jump_to if jump_draw < model.params.jump else self.configuration ^ (1 << flip)
        if model.landscape[trial] > model.landscape[self.configuration]:
            self.configuration = int(trial)


class NKModel(mesa.Model):
    """An NK landscape and organizations searching it; see the module docstring.

    Attributes:
        loci: ``(N, K + 1)`` interaction matrix.
        table: ``(N, 2 ** (K + 1))`` contributions.
        landscape: ``(2 ** N,)`` fitness of every configuration.
        peaks: ``(2 ** N,)`` mask of the local optima.
        period: periods run so far.

    """

    def __init__(self, params: NKParams | None = None, *, rng: Any = None,
                 **overrides: Any) -> None:
        super().__init__(rng=rng)
        base = params if params is not None else NKParams()
        self.params = NKParams.from_mapping({**_as_dict(base), **overrides})
        p = self.params
        self.loci = interaction_matrix(p.n, p.k, p.interaction, self.rng)
        self.table = contribution_table(self.rng, p.n, p.k)
        self.landscape = fitness(all_configurations(p.n), self.loci, self.table)
        self.peaks = local_optima(self.landscape, p.n)
        self.global_peak = int(np.argmax(self.landscape))
        self.period = 0
        for start in self.rng.integers(0, 2**p.n, size=p.organizations):
            Organization(self, int(start))

    @property
    def organizations(self) -> list[Organization]:
        """The searching organizations, in creation order."""
        return [a for a in self.agents if isinstance(a, Organization)]

    def settled(self) -> bool:
        """Whether every organization sits on a peak (local search can no longer move it)."""
        return all(bool(self.peaks[o.configuration]) for o in self.organizations)

    def step(self) -> None:
        """One period: every organization makes one trial (draws: 3 per organization)."""
        p = self.params
        orgs = self.organizations
        jumps = self.rng.random(len(orgs))
        flips = self.rng.integers(0, p.n, size=len(orgs))
        targets = self.rng.integers(0, 2**p.n, size=len(orgs))
        for org, j, f, t in zip(orgs, jumps, flips, targets, strict=True):
            org.search(float(j), int(f), int(t))
        self.period += 1

    def run(self, periods: int) -> None:
        """Run ``periods`` periods, or fewer: stop once nothing can move any more.

        That is when every organization is on a peak and long jumps are off.
        """
        while self.period < periods:
            if self.params.jump == 0 and self.settled():
                break
            self.step()


def _as_dict(params: NKParams) -> dict[str, Any]:
    return {f.name: getattr(params, f.name) for f in fields(params)}


# --- the engine's model function ----------------------------------------------------------

OUTCOMES = ("peaks", "global_max", "mean_fitness", "share_at_global", "share_on_peak",
            "periods")
"""What :func:`nk_run` returns per run (labels in :mod:`experiments.docking.outcomes`)."""


def nk_run(params: Mapping[str, Any], seed: int, *, steps: int, series_every: int = 0,
           series_columns: Sequence[str] = ()) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """Draw one landscape, let its organizations search for ``steps`` periods, measure it.

    The experiment engine's model function. Returns the number of peaks, the global peak's
    fitness, the organizations' mean fitness at the end, the shares of them on the global
    peak and on any peak, and the periods run. With ``series_every > 0`` also the mean
    fitness every ``series_every`` periods (``series_columns`` is not used: one series).
    """
    model = NKModel(NKParams.from_mapping(params), rng=seed)
    rows: list[dict[str, float]] = []
    if series_every > 0:
        while model.period < steps and not (model.params.jump == 0 and model.settled()):
            if model.period % series_every == 0:
                rows.append(_series_row(model))
            model.step()
        rows.append(_series_row(model))
    else:
        model.run(steps)
    orgs = model.organizations
    at = np.array([o.configuration for o in orgs], dtype=np.int64)
    outcomes = {
        "peaks": int(model.peaks.sum()),
        "global_max": float(model.landscape[model.global_peak]),
        "mean_fitness": float(model.landscape[at].mean()) if len(at) else float("nan"),
        "share_at_global": float((at == model.global_peak).mean()) if len(at) else float("nan"),
        "share_on_peak": float(model.peaks[at].mean()) if len(at) else float("nan"),
        "periods": model.period,
    }
    return outcomes, pd.DataFrame(rows) if series_every > 0 else None


def _series_row(model: NKModel) -> dict[str, float]:
    values = [o.fitness for o in model.organizations]
    return {"step": model.period, "mean_fitness": float(np.mean(values)) if values else np.nan}
