"""March (1991), "Exploration and exploitation in organizational learning", as a Mesa model.

An external reality of ``m`` dimensions, each +1 or -1; ``n`` individuals whose beliefs about
each dimension are +1, 0 or -1; and an organizational code, a belief vector of the same kind
that starts neutral (all 0). Each period the individuals learn from the code
(**socialization**, rate ``p1``) and the code learns from the **superior group**, the
individuals who do better than the code (rate ``p2``): on each dimension the code takes the
superior group's dominant view with probability ``1 - (1 - p2) ** k``, ``k`` the dominant
view's lead (:func:`dominant_view`). The paper's variants are options: **turnover** (each
period each individual leaves with probability ``p3`` and a newcomer with random beliefs
takes their place) and **turbulence** (each dimension of reality flips with probability
``p4`` per period).

The paper leaves steps out, and two readings exist (``algorithm``):

- ``"original"`` (the default) follows the steps of March's own program as Rodan (2005) and
  Christensen (2015) report them, and the public re-creation written from them (Workiewicz
  2019): each period individuals first **act** (:func:`act`: a 0 belief acts as a coin
  flip), and the superior group are those whose actions *score* better against reality than
  the code (:func:`score`: +1 per match, -1 per mismatch, 0 for a 0); socialization is
  **gradual** (:func:`socialize_gradual`: a belief opposite to the code becomes 0, a 0 becomes
  the code's); the code learns from the superior group's *actions* as they were before
  socialization.
- ``"paper"`` reads the paper alone: the superior group know more dimensions than the code
  (:func:`superior_group`), socialization adopts the code's belief at once
  (:func:`socialize`), and the code learns from their beliefs (zeros are no view); both
  rules read the state at the start of the period.

Choices left open in both, and what this model does (``docs/docking.md`` discusses each):

1. *Initial beliefs*: +1, 0 and -1 with probability 1/3 each, independently; reality is +1
   or -1 with probability 1/2 each.
2. *k* (footnote 1: "the number of individuals (within the superior group) who differ with
   the code on this dimension minus the number who do not"): the dominant non-zero view's lead
   over the opposite one, as the original program does.
3. *Dominant view*: the more common non-zero view in the superior group; a tie (or no view)
   leaves the code as it is. The code never moves to 0.
4. *Superior*: strictly better than the code; a tie is not superior.
5. *Equilibrium*: the run stops when no rule can change anything any more
   (:func:`is_absorbing`); with turnover or turbulence nothing is absorbing, and the run lasts
   its periods.
6. *Knowledge*: :func:`knowledge` is the share of dimensions a belief vector gets right (a 0
   is never right); :func:`score` / ``m`` (+1 right, -1 wrong, 0 no view) is what the public
   re-creation reports as "equilibrium knowledge". Both are reported.

Every random number comes from the model's ``rng``, drawn in a fixed amount and order per
period, so the same seed gives the same run in any process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

import mesa
import numpy as np
import pandas as pd

from simulation.errors import ParameterError

Algorithm = Literal["original", "paper"]
ALGORITHMS: tuple[Algorithm, ...] = ("original", "paper")


# --- the rules, as pure functions of arrays (exactly testable) -----------------------------


def knowledge(beliefs: np.ndarray, reality: np.ndarray) -> np.ndarray:
    """Share of dimensions on which each belief vector (last axis) equals reality."""
    return np.asarray((beliefs == reality).mean(axis=-1))


def score(views: np.ndarray, reality: np.ndarray) -> np.ndarray:
    """Each vector's score against reality: +1 per match, -1 per mismatch, 0 per 0."""
    return np.asarray((views.astype(np.int64) * reality).sum(axis=-1))


def act(beliefs: np.ndarray, coins: np.ndarray) -> np.ndarray:
    """Individuals' actions: their belief where they hold one, the coin (+1/-1) where 0."""
    return np.where(beliefs != 0, beliefs, coins).astype(beliefs.dtype)


def socialize(beliefs: np.ndarray, code: np.ndarray, draws: np.ndarray, p1: float) -> np.ndarray:
    """Individuals adopt the code's belief (the paper's reading); the input is not changed.

    Where the code is not 0 and a belief differs from it, the belief becomes the code's if
    that cell's uniform draw is below ``p1``.

    Args:
        beliefs: ``(n, m)`` beliefs in {-1, 0, 1}.
        code: ``(m,)`` the organizational code.
        draws: ``(n, m)`` uniform draws in [0, 1).
        p1: the socialization rate.

    """
    adopt = (code != 0) & (beliefs != code) & (draws < p1)
    return np.where(adopt, code, beliefs).astype(beliefs.dtype)


def socialize_gradual(beliefs: np.ndarray, code: np.ndarray, draws: np.ndarray,
                      p1: float) -> np.ndarray:
    """Individuals move one step towards the code (the original program, Christensen 2015).

    Where the code is not 0, a belief differs from it and the cell's draw is below ``p1``,
    the belief moves one step: the opposite belief becomes 0, a 0 becomes the code's belief.
    """
    move = (code != 0) & (beliefs != code) & (draws < p1)
    return np.where(move, beliefs + code, beliefs).astype(beliefs.dtype)


def superior_group(beliefs: np.ndarray, code: np.ndarray, reality: np.ndarray) -> np.ndarray:
    """Mask of the individuals who know strictly more dimensions than the code (the paper)."""
    correct = (beliefs == reality).sum(axis=1)
    return np.asarray(correct > int((code == reality).sum()))


def outperformers(actions: np.ndarray, code: np.ndarray, reality: np.ndarray) -> np.ndarray:
    """Mask of the individuals whose actions score strictly more than the code (original)."""
    return np.asarray(score(actions, reality) > int(score(code, reality)))


def dominant_view(views: np.ndarray, code: np.ndarray,
                  superior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per dimension, the superior group's dominant view and its lead ``k``.

    Returns ``(dominant, k)``: ``dominant`` is +1, -1, or 0 where no non-zero view leads;
    ``k`` is the number holding the dominant view minus the number holding the opposite one,
    and 0 wherever the code cannot move (no lead, the code already holds the dominant view,
    or an empty superior group).
    """
    group = views[superior]
    plus = (group == 1).sum(axis=0)
    minus = (group == -1).sum(axis=0)
    dominant = np.sign(plus - minus).astype(np.int8)
    movable = (dominant != 0) & (dominant != code)
    return dominant, np.where(movable, np.abs(plus - minus), 0)


def learn_code(code: np.ndarray, dominant: np.ndarray, k: np.ndarray, draws: np.ndarray,
               p2: float) -> np.ndarray:
    """The code learns: each dimension takes the dominant view with chance 1 - (1 - p2)^k.

    Args:
        code: ``(m,)`` the organizational code (not changed).
        dominant: ``(m,)`` the superior group's dominant view (:func:`dominant_view`).
        k: ``(m,)`` the dominant view's lead; 0 where the code cannot move.
        draws: ``(m,)`` uniform draws in [0, 1).
        p2: the code's learning rate.

    """
    chance = 1.0 - (1.0 - p2) ** k
    return np.where((k > 0) & (draws < chance), dominant, code).astype(code.dtype)


def is_absorbing(beliefs: np.ndarray, code: np.ndarray, reality: np.ndarray, p1: float,
                 p2: float, algorithm: Algorithm = "original") -> bool:
    """Whether no rule can change the state any more (turnover and turbulence aside).

    Socialization can act where the code is not 0 and a belief differs (if ``p1 > 0``). The
    code can move (if ``p2 > 0``) when, in the paper's reading, the superior group has a lead
    that differs from the code somewhere; in the original program, when someone's actions
    *could* outscore the code (their belief score plus one per 0, each 0 a coin that may
    land right): once socialization cannot act, such a person differs from the code only
    where the code is 0, and acts there, so the code may move.
    """
    can_socialize = p1 > 0 and bool(np.any((code != 0) & (beliefs != code)))
    if can_socialize or p2 == 0:
        return not can_socialize
    if algorithm == "paper":
        _, k = dominant_view(beliefs, code, superior_group(beliefs, code, reality))
        return not bool(np.any(k > 0))
    best = score(beliefs, reality) + (beliefs == 0).sum(axis=1)
    return not bool(np.any(best > int(score(code, reality))))


def random_beliefs(rng: np.random.Generator, shape: int | tuple[int, ...]) -> np.ndarray:
    """Beliefs drawn +1, 0, -1 with probability 1/3 each."""
    return rng.integers(-1, 2, size=shape).astype(np.int8)


def random_signs(rng: np.random.Generator, shape: int | tuple[int, ...]) -> np.ndarray:
    """+1 or -1 with probability 1/2 each (reality; the coin of a 0 belief)."""
    return (2 * rng.integers(0, 2, size=shape) - 1).astype(np.int8)


# --- parameters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MarchParams:
    """The March (1991) model's parameters, checked on construction.

    Attributes:
        m: dimensions of reality.
        n: individuals.
        p1: socialization rate (individuals learn from the code).
        p2: the code's learning rate from the superior group.
        p3: turnover: each individual's chance per period of being replaced.
        p4: turbulence: each dimension's chance per period of flipping.
        algorithm: ``original`` or ``paper`` (see the module docstring).

    """

    m: int = 30
    n: int = 50
    p1: float = 0.5
    p2: float = 0.5
    p3: float = 0.0
    p4: float = 0.0
    algorithm: Algorithm = "original"

    def __post_init__(self) -> None:
        for name in ("m", "n"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) \
                    or not 1 <= value <= 10_000:
                raise ParameterError(name, f"{value!r} must be a whole number in [1, 10000]")
        for name in ("p1", "p2", "p3", "p4"):
            value = getattr(self, name)
            if not isinstance(value, (int, float, np.number)) or isinstance(value, bool) \
                    or not 0.0 <= float(value) <= 1.0:
                raise ParameterError(name, f"{value!r} must be a probability in [0, 1]")
        if self.algorithm not in ALGORITHMS:
            raise ParameterError("algorithm", f"{self.algorithm!r}; choose from "
                                 f"{', '.join(ALGORITHMS)}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> MarchParams:
        """Build from keywords, refusing unknown names with the list of known ones."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ParameterError(unknown[0], f"is not a parameter of the March model; choose "
                                 f"from {', '.join(sorted(known))}")
        return cls(**dict(values))


# --- the Mesa model -----------------------------------------------------------------------


class Individual(mesa.Agent):
    """A member of the organization; its beliefs are its row of the model's belief matrix.

    The rules act on the whole matrix at once (a period is a few array operations, not
    ``n`` method calls); an individual is the row it owns.
    """

    def __init__(self, model: MarchModel, row: int) -> None:
        super().__init__(model)
        self.row = row

    @property
    def beliefs(self) -> np.ndarray:
        """The individual's beliefs (a view of the model's matrix)."""
        model: MarchModel = self.model  # type: ignore[assignment]
        return model.beliefs[self.row]

    @property
    def knowledge(self) -> float:
        """Share of reality this individual's beliefs match."""
        model: MarchModel = self.model  # type: ignore[assignment]
        return float(knowledge(self.beliefs, model.reality))


class MarchModel(mesa.Model):
    """The mutual-learning model of March (1991); see the module docstring.

    Attributes:
        reality: ``(m,)`` +1/-1.
        beliefs: ``(n, m)`` the individuals' beliefs (row ``i`` is individual ``i``'s).
        code: ``(m,)`` the organizational code.
        period: periods run so far.
        absorbed: whether the state is absorbing (then :attr:`running` is False).
        departures: individuals replaced by turnover so far.

    """

    running: bool

    def __init__(self, params: MarchParams | None = None, *, rng: Any = None,
                 **overrides: Any) -> None:
        super().__init__(rng=rng)
        base = params if params is not None else MarchParams()
        self.params = MarchParams.from_mapping({**_as_dict(base), **overrides})
        p = self.params
        self.reality = random_signs(self.rng, p.m)
        self.beliefs = random_beliefs(self.rng, (p.n, p.m))
        self.code = np.zeros(p.m, dtype=np.int8)
        self.period = 0
        self.absorbed = False
        self.departures = 0
        for row in range(p.n):
            Individual(self, row)

    @property
    def code_knowledge(self) -> float:
        """Share of reality the code matches."""
        return float(knowledge(self.code, self.reality))

    @property
    def code_score(self) -> float:
        """The code's score against reality over ``m``: in [-1, 1]."""
        return float(score(self.code, self.reality)) / self.params.m

    @property
    def mean_knowledge(self) -> float:
        """Average share of reality the individuals' beliefs match."""
        return float(knowledge(self.beliefs, self.reality).mean())

    def step(self) -> None:
        """One period: learning (by the chosen algorithm), then turnover and turbulence.

        Without turnover and turbulence an absorbing state ends the run instead (checked
        first, so :attr:`period` counts the periods in which something could change). The
        draws are the same in number and order every period: ``n * m`` coins (original) or
        none (paper), ``n * m`` for socialization, ``m`` for the code, then ``n`` and
        ``n * m`` for turnover if ``p3 > 0`` and ``m`` for turbulence if ``p4 > 0``.
        """
        p = self.params
        if not self.running:
            return
        if p.p3 == 0 and p.p4 == 0 and is_absorbing(self.beliefs, self.code, self.reality,
                                                    p.p1, p.p2, p.algorithm):
            self.absorbed = True
            self.running = False
            return
        if p.algorithm == "original":
            self._learn_original()
        else:
            self._learn_paper()
        if p.p3 > 0:
            self._turnover()
        if p.p4 > 0:
            flips = self.rng.random(p.m) < p.p4
            self.reality = np.where(flips, -self.reality, self.reality).astype(np.int8)
        self.period += 1

    def _learn_original(self) -> None:
        """Act, socialize (gradually), then the code learns from the actions taken."""
        p = self.params
        actions = act(self.beliefs, random_signs(self.rng, (p.n, p.m)))
        social_draws = self.rng.random((p.n, p.m))
        code_draws = self.rng.random(p.m)
        superior = outperformers(actions, self.code, self.reality)
        dominant, k = dominant_view(actions, self.code, superior)
        self.beliefs = socialize_gradual(self.beliefs, self.code, social_draws, p.p1)
        self.code = learn_code(self.code, dominant, k, code_draws, p.p2)

    def _learn_paper(self) -> None:
        """Both rules read the period's starting state: socialization and code learning."""
        p = self.params
        social_draws = self.rng.random((p.n, p.m))
        code_draws = self.rng.random(p.m)
        superior = superior_group(self.beliefs, self.code, self.reality)
        dominant, k = dominant_view(self.beliefs, self.code, superior)
        self.beliefs = socialize(self.beliefs, self.code, social_draws, p.p1)
        self.code = learn_code(self.code, dominant, k, code_draws, p.p2)

    def _turnover(self) -> None:
        """Replace each individual with probability p3 by a newcomer with random beliefs."""
        p = self.params
        leave = self.rng.random(p.n) < p.p3
        fresh = random_beliefs(self.rng, (p.n, p.m))
        if not leave.any():
            return
        self.beliefs[leave] = fresh[leave]
        leaving = [a for a in self.agents if isinstance(a, Individual) and leave[a.row]]
        for agent in leaving:
            agent.remove()
            Individual(self, agent.row)
        self.departures += len(leaving)

    def run(self, periods: int) -> None:
        """Run until the state is absorbing or ``periods`` periods have passed."""
        while self.running and self.period < periods:
            self.step()


def _as_dict(params: MarchParams) -> dict[str, Any]:
    return {f.name: getattr(params, f.name) for f in fields(params)}


# --- the engine's model function ----------------------------------------------------------

OUTCOMES = ("code_knowledge", "code_score", "mean_knowledge", "periods", "absorbed")
"""What :func:`march_run` returns per run (labels in :mod:`experiments.docking.outcomes`)."""


def march_run(params: Mapping[str, Any], seed: int, *, steps: int, series_every: int = 0,
              series_columns: Sequence[str] = ()) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """Run one March model for at most ``steps`` periods: the experiment engine's model function.

    Returns the code's knowledge and score and the individuals' mean knowledge at the end,
    the periods run and whether the run ended absorbed (1) or at the cap (0). With
    ``series_every > 0`` also the three every ``series_every`` periods (``series_columns`` is
    not used: the series has these columns).
    """
    model = MarchModel(MarchParams.from_mapping(params), rng=seed)
    rows: list[dict[str, float]] = []
    if series_every > 0:
        while model.running and model.period < steps:
            if model.period % series_every == 0:
                rows.append(_series_row(model))
            model.step()
        rows.append(_series_row(model))
    else:
        model.run(steps)
    outcomes = {"code_knowledge": model.code_knowledge, "code_score": model.code_score,
                "mean_knowledge": model.mean_knowledge, "periods": model.period,
                "absorbed": int(model.absorbed)}
    return outcomes, pd.DataFrame(rows) if series_every > 0 else None


def _series_row(model: MarchModel) -> dict[str, float]:
    return {"step": model.period, "code_knowledge": model.code_knowledge,
            "code_score": model.code_score, "mean_knowledge": model.mean_knowledge}
