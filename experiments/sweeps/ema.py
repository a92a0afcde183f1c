"""The model under the EMA Workbench: a ``ReplicatorModel`` in this project's vocabulary.

Researchers who do exploratory modelling already work with the EMA Workbench (Kwakkel 2017):
its samplers, ``perform_experiments``, PRIM, CART, feature scoring and optimization. This
module gives them the model in that shape without a second definition of anything:

- **levers** are the focal organization's choices: the five levers (Gulati), its price and
  the month it reorganizes (0: never); ranges are the model's own (``simulation.params``);
- **uncertainties** are the market's parameters (:data:`MARKET_UNCERTAINTIES`), with the
  model's ranges unless narrowed;
- **outcomes** are the outcome registry's (``simulation.outcomes.OUTCOMES``): a
  ``ScalarOutcome`` per name, ``MAXIMIZE``/``MINIMIZE``/``INFO`` from its ``better``;
- **replications** follow this project's seed rule (``experiments.engine.runner.replication_seed``)
  and each one runs through the sweeps' own :func:`~experiments.engine.runner.run_task`, so the same
  experiment gives the same numbers under ``outsidein sweep`` and under the Workbench.

Common random numbers: the seed of a replication depends on its future (the values of the
unpaired factors; by default the uncertainties), never on the levers, so two organizations
run in the same future meet the same customers, shocks and disruptors. :func:`from_spec`
numbers the futures as a sweep of the same spec does; without a spec, a future's block is
derived from its values (:func:`future_block`).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from ema_workbench import (
    ArrayOutcome,
    CategoricalParameter,
    IntegerParameter,
    RealParameter,
    ReplicatorModel,
    Sample,
    ScalarOutcome,
)

from experiments.engine.runner import Task, replication_seed, run_task
from experiments.sweeps.spec import (
    DEFAULT_MODEL,
    ExperimentSpec,
    Factor,
    integer_factors,
    resolve_base,
)
from experiments.sweeps.sweep import make_plan
from simulation.errors import RunFailedError
from simulation.outcomes import OUTCOMES, outcome
from simulation.params import LEVERS, PARAMETERS

MARKET_UNCERTAINTIES: tuple[str, ...] = (
    "turbulence", "momentum", "need_noise", "shock_rate", "shock_size", "new_segment_rate",
    "entrant_rate", "entrant_price", "entrant_capacity", "entrant_growth",
    "entrant_improvement", "entrant_performance", "rival_price")
"""The market parameters an organization cannot choose: how needs move, how often they jump,
how often and how strong disruptors come, and what the rivals charge."""

ORGANIZATION_LEVERS: tuple[str, ...] = (*LEVERS, "price", "reorganize_step")
"""What the focal organization chooses: its five levers, its price, when it reorganizes."""

NEVER = 0
"""``reorganize_step`` as a lever: 0 means the organization never reorganizes."""

ReplicationSummary = Callable[[Sequence[float]], float]
"""How an outcome's replications in one experiment become one number (default: the mean)."""


class EmaRunFailedError(RunFailedError):
    """A replication raised inside the model; the message names its parameters and seed."""


def parameter(name: str, low: float | None = None, high: float | None = None) -> Any:
    """The EMA parameter of a model parameter: its bound from ``simulation.params``.

    ``low``/``high`` narrow the range (and must stay inside the model's). Integer parameters
    become ``IntegerParameter``; ``reorganize_step`` runs from :data:`NEVER`.

    Raises:
        KeyError: ``name`` is not a numeric parameter of the model.
        ValueError: the narrowed range leaves the model's.

    """
    bound = PARAMETERS[name].metadata.get("bound") if name in PARAMETERS else None
    if bound is None:
        raise KeyError(f"{name!r} is not a numeric parameter of OrgModel")
    floor = NEVER if name == "reorganize_step" else bound.low
    lo = floor if low is None else low
    hi = bound.high if high is None else high
    if not floor <= lo < hi <= bound.high:
        raise ValueError(f"{name}: range [{lo:g}, {hi:g}] must lie inside the model's "
                         f"[{floor:g}, {bound.high:g}] with low < high")
    if bound.integer:
        return IntegerParameter(name, int(lo), int(hi))
    return RealParameter(name, float(lo), float(hi))


def registry_outcomes(names: Iterable[str] | None = None, *,
                      summary: ReplicationSummary | None = np.mean) -> list[Any]:
    """EMA outcomes for registered outcome names (default: all of ``OUTCOMES``).

    With ``summary`` (the mean by default) each is a ``ScalarOutcome`` of the replications;
    with ``summary=None`` an ``ArrayOutcome`` holding every replication's value (EMA's
    ``process_replications`` averages those). The Workbench registers one outcome class per
    name in a process, so a process uses one of the two kinds for a name, not both.

    Raises:
        KeyError: a name the registry does not know.

    """
    chosen = list(OUTCOMES) if names is None else list(names)
    kinds = {"higher": ScalarOutcome.MAXIMIZE, "lower": ScalarOutcome.MINIMIZE}
    made: list[Any] = []
    for name in chosen:
        entry = outcome(name)
        if summary is None:
            made.append(ArrayOutcome(name, variable_name=name))
        else:
            made.append(ScalarOutcome(name, kind=kinds.get(entry.better, ScalarOutcome.INFO),
                                      variable_name=name, function=summary))
    return made


def future_block(values: Mapping[str, Any]) -> int:
    """The seed block of a future given by its values: a stable hash, the same in any process.

    Used when no spec numbers the futures: the same conditions give the same random numbers
    whichever organization runs in them and in whichever experiment.
    """
    text = json.dumps({k: _plain(v) for k, v in sorted(values.items())}, sort_keys=True)
    return int(hashlib.sha256(text.encode()).hexdigest()[:15], 16)


@dataclass(frozen=True)
class OrgReplications:
    """The function EMA calls: one replication of one experiment, as a sweep runs it.

    A plain picklable object (it travels to worker processes and Dask workers). ``unpaired``
    names the parameters that set a run's seed block (the future); ``blocks`` maps their
    values, in that order, to a sweep's block numbers (``None``: :func:`future_block`).
    """

    base: Mapping[str, Any]
    steps: int
    seed: int
    unpaired: tuple[str, ...]
    blocks: Mapping[tuple[Any, ...], int] | None = None
    model: str = DEFAULT_MODEL

    def block(self, params: Mapping[str, Any]) -> tuple[int, ...]:
        """The seed block of a run with these parameters."""
        if not self.unpaired:
            return ()
        key = tuple(_plain(params.get(name)) for name in self.unpaired)
        if self.blocks is None:
            return (future_block(dict(zip(self.unpaired, key, strict=True))),)
        if key not in self.blocks:
            raise KeyError(f"the future {dict(zip(self.unpaired, key, strict=True))} is not "
                           "one of the spec's; build the model without blocks to run others")
        return (self.blocks[key],)

    def task(self, replication: int, params: Mapping[str, Any]) -> Task:
        """The sweep task of one replication (the seed from the project's seed rule)."""
        values = {k: _model_value(k, v) for k, v in params.items()}
        seed = replication_seed(self.seed, replication, self.block(values))
        return Task(run_id=replication, sample_id=0, replication=replication, seed=seed,
                    params=values, base=self.base, model=self.model, steps=self.steps)

    def __call__(self, replication: int = 0, **params: Any) -> dict[str, Any]:
        """Run one replication; return its outcomes (raise if the model raised)."""
        record = run_task(self.task(int(replication), params))
        if not record.ok:
            raise EmaRunFailedError(f"replication {replication} with {record.params} (seed "
                                    f"{record.seed}) failed: {record.error}")
        return record.outcomes


def org_ema_model(name: str = "outsidein", *, base: Mapping[str, Any] | str | None = None,
                  steps: int = 120, replications: int = 1, seed: int = 0,
                  levers: Mapping[str, tuple[float, float] | None] | Iterable[str] | None
                  = None,
                  uncertainties: Mapping[str, tuple[float, float] | None] | Iterable[str]
                  | None = None,
                  outcomes: Iterable[str] | None = None,
                  summary: ReplicationSummary | None = np.mean) -> ReplicatorModel:
    """The OrgModel as an EMA ``ReplicatorModel``.

    Args:
        name: the model's name in EMA's tables (a Python identifier).
        base: the fixed model keywords, or a scenario's name or path.
        steps: months each run lasts.
        replications: runs per experiment, seeded by the project's seed rule.
        seed: the root seed.
        levers: names (the model's ranges) or names with ``(low, high)``; default
            :data:`ORGANIZATION_LEVERS`.
        uncertainties: likewise; default :data:`MARKET_UNCERTAINTIES`.
        outcomes: registered outcome names; default all of them.
        summary: how replications become one value (``None``: keep each).

    Returns:
        The model, ready for ``perform_experiments`` or ``optimize``.

    """
    lever_ranges = _ranges(levers, ORGANIZATION_LEVERS)
    future_ranges = _ranges(uncertainties, MARKET_UNCERTAINTIES)
    function = OrgReplications(base=resolve_base(base or {}), steps=steps, seed=seed,
                               unpaired=tuple(future_ranges))
    model = ReplicatorModel(name, function=function)
    model.levers = [parameter(n, *(r or (None, None))) for n, r in lever_ranges.items()]
    model.uncertainties = [parameter(n, *(r or (None, None))) for n, r in future_ranges.items()]
    model.outcomes = registry_outcomes(outcomes, summary=summary)
    model.replications = [{"replication": i} for i in range(replications)]
    return model


@dataclass(frozen=True)
class EmaExperiment:
    """A spec's design as EMA inputs: the model, its scenarios and policies, how to combine."""

    model: ReplicatorModel
    scenarios: list[Sample]
    policies: list[Sample]
    combine: Literal["full_factorial", "cycle"]

    def perform(self, evaluator: Any = None) -> tuple[Any, dict[str, np.ndarray]]:
        """Run it with EMA's ``perform_experiments`` (sequential unless ``evaluator``)."""
        from ema_workbench import perform_experiments

        return perform_experiments(self.model, scenarios=self.scenarios or 0,
                                   policies=self.policies or 0, evaluator=evaluator,
                                   combine=self.combine)  # type: ignore[return-value]


def from_spec(spec: ExperimentSpec, *, outcomes: Iterable[str] | None = None,
              summary: ReplicationSummary | None = np.mean,
              name: str | None = None) -> EmaExperiment:
    """The experiment of a spec, for the EMA Workbench: same runs, same seeds, same numbers.

    The spec's levers become EMA levers and its conditions uncertainties; the design's samples
    become EMA's policies and scenarios in the sweep's order (a grid is crossed by EMA's
    ``full_factorial``, a sampled design zipped by ``cycle``), and each replication gets the
    seed the sweep gives it. Experiment *i* of EMA is sample *i* of ``outsidein sweep``.
    ``outcomes`` defaults to the spec's ``analysis.outcomes`` (which must be registered for
    the OrgModel; a test function's outcomes are taken as named).
    """
    plan = make_plan(spec)
    samples = plan.samples
    unpaired = tuple(c for c in samples.columns if c not in spec.paired_factors)
    blocks: dict[tuple[Any, ...], int] = {}
    for values, block in zip(samples[list(unpaired)].itertuples(index=False, name=None),
                             plan.blocks, strict=True):
        if block:
            blocks.setdefault(tuple(_plain(v) for v in values), block[0])
    wanted = list(outcomes or spec.analysis.outcomes)
    function = OrgReplications(base=resolve_base(spec.base), steps=spec.steps, seed=spec.seed,
                               unpaired=unpaired, blocks=blocks, model=spec.model)
    model = ReplicatorModel(name or _identifier(spec.name), function=function)
    integers = integer_factors(spec)
    model.levers = [_factor_parameter(n, f, n in integers) for n, f in spec.levers.items()]
    model.uncertainties = [_factor_parameter(n, f, n in integers)
                           for n, f in spec.conditions.items()]
    if spec.model == DEFAULT_MODEL:
        model.outcomes = registry_outcomes(wanted, summary=summary)
    else:
        model.outcomes = [ArrayOutcome(n) if summary is None
                          else ScalarOutcome(n, variable_name=n, function=summary)
                          for n in wanted]
    model.replications = [{"replication": i} for i in range(spec.replications)]
    lever_names, condition_names = list(spec.levers), list(spec.conditions)
    rows = [{str(c): _plain(v) for c, v in row.items()}
            for row in samples.to_dict("records")]
    if spec.design.kind == "grid":
        policies = _unique_samples(rows, lever_names, "policy")
        scenarios = _unique_samples(rows, condition_names, "scenario")
        return EmaExperiment(model, scenarios, policies, "full_factorial")
    policies = [Sample(f"policy {i}", **{n: r[n] for n in lever_names})
                for i, r in enumerate(rows)] if lever_names else []
    scenarios = [Sample(f"scenario {i}", **{n: r[n] for n in condition_names})
                 for i, r in enumerate(rows)] if condition_names else []
    return EmaExperiment(model, scenarios, policies, "cycle")


def _unique_samples(rows: list[dict[str, Any]], names: list[str], what: str) -> list[Sample]:
    if not names:
        return []
    seen: dict[tuple[Any, ...], None] = {}
    for row in rows:
        seen.setdefault(tuple(row[n] for n in names), None)
    return [Sample(f"{what} {i}", **dict(zip(names, key, strict=True)))
            for i, key in enumerate(seen)]


def _factor_parameter(name: str, factor: Factor, integer: bool) -> Any:
    if factor.levels is not None:
        return CategoricalParameter(name, list(factor.levels))
    assert factor.range is not None  # a factor has levels or a range
    low, high = factor.range
    if integer:
        return IntegerParameter(name, math.ceil(low), math.floor(high))
    return RealParameter(name, float(low), float(high))


def _ranges(given: Mapping[str, tuple[float, float] | None] | Iterable[str] | None,
            default: tuple[str, ...]) -> dict[str, tuple[float, float] | None]:
    if given is None:
        return dict.fromkeys(default)
    if isinstance(given, Mapping):
        return dict(given)
    return dict.fromkeys(given)


def _model_value(name: str, value: Any) -> Any:
    value = _plain(value)
    if name == "reorganize_step" and value == NEVER:
        return None
    return value


def _identifier(text: str) -> str:
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in text)
    return name if name.isidentifier() else f"m_{name}"


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


__all__ = ["MARKET_UNCERTAINTIES", "NEVER", "ORGANIZATION_LEVERS", "EmaExperiment",
           "EmaRunFailedError", "OrgReplications", "from_spec", "future_block",
           "org_ema_model", "parameter", "registry_outcomes"]
