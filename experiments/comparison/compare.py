"""Compare two organizations on one scenario: a two-arm paired experiment.

A workshop asks "would the outside-in firm have done better here?". :func:`compare` answers
with replications run by the experiments executor (local processes or a Dask cluster), on
the one seed rule of every experiment (:func:`experiments.engine.runner.replication_seed`): every
run of replication *i* starts from the same seed whatever its arm, so the two organizations
face the same random numbers and their *paired* difference measures the organization, not
chance.

Two framings answer two different questions, and the output always says which it shows:

- **head-to-head** (the default): the two organizations compete in the scenario's one
  market, the first as the focal firm and the second as its first rival, and again with
  their places exchanged (so neither gains from being listed first);
- **swap**: "our firm, organized A or B, against the same rival": the focal firm takes
  each organization in turn while the scenario's rivals stay as they are.

They can disagree: against an outside-in rival, an outside-in focal firm splits the market
with a firm just like it, while head-to-head it competes with an inside-out one. The
comparison therefore runs both (where head-to-head is defined) and lists the outcomes whose
difference changes sign between them. A swap run that is one of the head-to-head runs (the
scenario's rival is the other organization) is read from it, not run twice (:func:`twins`).

This module runs models and computes numbers; it writes no files and prints nothing (the CLI
and :mod:`experiments.comparison.handout` do that).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from experiments.engine.executors import Executor, make_executor
from experiments.engine.runner import Record, Task, replication_seed, study_model
from experiments.intervals import (
    band,
    interval_for,
    paired_difference,
    unpaired_difference,
)
from simulation import outcomes as reg
from simulation.errors import OutsideInError, ParameterError
from simulation.params import ModelParams
from simulation.scenario import Arm, Scenario
from simulation.structures import with_listed_firms

Framing = Literal["head-to-head", "swap"]
FRAMINGS: tuple[Framing, ...] = ("head-to-head", "swap")
FRAMING_TEXT: dict[str, str] = {
    "head-to-head": "head-to-head: the two organizations compete in one market",
    "swap": "swap: the focal firm organized one way or the other, against the same rivals",
}
"""How each framing is named in tables and handouts."""

MODEL = "experiments.comparison.compare:comparison_run"
"""The model function of every run of a comparison."""

class RunsFailedError(RuntimeError):
    """Runs of an experiment raised; a comparison is never summarised from part of its runs."""


# --- the runs ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Role:
    """What one run of a replication is: its framing and which arm is the focal firm."""

    framing: Framing
    focal: int
    """The arm (0 or 1) that is the focal firm; head-to-head, the other is its first rival."""


def roles(head_to_head: bool) -> list[Role]:
    """The runs each replication makes: swap's two, and head-to-head's two where defined."""
    out = [Role("swap", 0), Role("swap", 1)]
    return out + [Role("head-to-head", 0), Role("head-to-head", 1)] if head_to_head else out


def head_to_head_problem(scenario: Scenario, arms: Sequence[Arm]) -> str:
    """Why head-to-head is not defined for this scenario (empty when it is)."""
    reorg = [e.step for e in scenario.timeline if e.event == "reorganization"]
    if reorg or not all(arm.reorganize for arm in arms):
        month = f" in month {reorg[0]}" if reorg else ""
        return (f"the timeline reorganizes the focal firm{month}, and only the focal firm "
                "can reorganize, so the two organizations cannot meet in one market on equal "
                "terms")
    if len(scenario.firms) < 2 and (scenario.competitors is None
                                    or scenario.competitors.count < 1):
        return "the scenario has no rival to stand for the second organization"
    return ""


def role_model(scenario: Scenario, arms: Sequence[Arm], role: Role,
               overrides: Mapping[str, Any]) -> tuple[dict[str, Any], dict[int, int]]:
    """The model keywords of a role's run, and where each arm it contains is placed.

    Returns ``(kwargs, placed)``: ``placed`` maps an arm (0 or 1) to its firm's position
    (0 is the focal firm). Swap places one arm, head-to-head both.
    """
    extra = dict(overrides)
    if role.framing == "swap":
        kwargs = scenario.to_model_kwargs(**{**arms[role.focal].overrides(), **extra})
        placed = {role.focal: 0}
    else:
        kwargs = scenario.head_to_head_kwargs(arms[role.focal], arms[1 - role.focal], **extra)
        placed = {role.focal: 0, 1 - role.focal: 1}
    kwargs.pop("rng", None)
    return kwargs, placed


def twins(scenario: Scenario, arms: Sequence[Arm], plan: Sequence[Role],
          overrides: Mapping[str, Any]) -> dict[int, int]:
    """Roles whose run is another role's run: ``{role: the role that runs it}``.

    Where the scenario's own rival is the other organization, "our firm organized as A
    against the same rival" *is* the head-to-head run with A first: the same model (the same
    parameters, once its firms are listed) on the same seed, so the same numbers. Such a swap
    role is read from its head-to-head twin instead of being run again.
    """
    def model_of(role: Role) -> ModelParams:
        return ModelParams.from_kwargs(**with_listed_firms(role_model(scenario, arms, role,
                                                                      overrides)[0]))

    models = [model_of(role) for role in plan]
    out = {}
    for k, role in enumerate(plan):
        for j, other in enumerate(plan):
            if role.framing == "swap" and other.framing == "head-to-head" \
                    and other.focal == role.focal and models[j] == models[k]:
                out[k] = j
                break
    return out


def replication_plan(scenario: Scenario, arms: Sequence[Arm], overrides: Mapping[str, Any]
                     ) -> tuple[list[Role], dict[int, int]]:
    """A replication's roles, and those read from a twin instead of run (:func:`twins`).

    A replication makes ``len(roles) - len(read_from)`` runs.
    """
    plan = roles(not head_to_head_problem(scenario, arms))
    return plan, twins(scenario, arms, plan, overrides)


def comparison_run(params: Mapping[str, Any], seed: int, *, steps: int, series_every: int = 0,
                   series_columns: Sequence[str] = ()) -> tuple[dict[str, float], pd.DataFrame]:
    """One run of a comparison (the model function of its tasks; top level, picklable).

    ``params`` holds the ``scenario`` (a :class:`Scenario`), the two ``arms``, the role's
    ``framing`` and ``focal`` arm, and model ``overrides``. Returns the outcomes of each arm
    the run contains, keyed ``"<arm>/<outcome>"``, the counts of random events
    (``"random/<kind>"``) and the arms' per-step :data:`simulation.outcomes.TRAJECTORIES`.
    """
    scenario: Scenario = params["scenario"]
    kwargs, placed = role_model(scenario, params["arms"],
                                Role(params["framing"], int(params["focal"])),
                                params.get("overrides") or {})
    model = study_model()(rng=seed, **kwargs)
    model.run(steps)
    columns = model.columns()  # arrays: no per-run DataFrame of the whole table
    names = [f.name for f in model.firms if not f.entrant]
    fair = model.fair_revenue
    steps_of = columns["step"].astype(np.int64)
    market = _market_series(columns, steps_of, model.events,
                            [f.name for f in model.firms if f.entrant])
    out: dict[str, float] = {}
    frames = []
    for arm, position in placed.items():
        name = names[position]
        summary = model.summary(columns, name)
        out.update({f"{arm}/{key}": float(value)
                    for key, value in reg.in_revenue_months(summary, fair).items()})
        out.update({f"{arm}/{key}": value
                    for key, value in _encounters(model, name).items()})
        mine = np.flatnonzero(columns["firm"] == name)  # in step order
        money = reg.in_business(reg.in_revenue_months(
            {m: columns[m][mine] for m in reg.TRAJECTORIES}, fair), columns["alive"][mine])
        at = steps_of[mine]  # every month 0 ... steps has a market row
        frames.append(pd.DataFrame({"arm": arm, "step": at, **money,
                                    **{k: v[at] for k, v in market.items()}}))
    planned = set(scenario.scheduled_events())
    for kind in reg.RANDOM_EVENTS:
        out[f"random/{kind}"] = float(sum(
            e["kind"] == kind and (int(e["step"]), kind) not in planned for e in model.events))
    return out, pd.concat(frames, ignore_index=True)


MAX_ENCOUNTERS = 6
"""Disruptors and new segments a handout's timing table follows per run, in order of arrival."""

_ENCOUNTERS_OF: Mapping[str, tuple[str, ...]] = {
    kind: tuple(name for name, o in reg.ENCOUNTERS.items() if o.needs == kind)
    for kind in ("entrant", "new_segment")}
"""The registry's encounter outcomes by the event they follow (``time_to_notice`` and
``time_to_answer`` a disruptor, ``time_to_serve`` a new segment)."""


def _market_series(columns: Mapping[str, np.ndarray], step: np.ndarray,
                   events: Sequence[Mapping[str, Any]], entrants: list[str]
                   ) -> dict[str, np.ndarray]:
    """Per month 0 ... last: the disruptors' summed market share and the firms that failed.

    ``step`` is the table's month column as integers.
    """
    months = int(step.max()) + 1
    theirs = np.isin(columns["firm"], entrants)
    share = np.bincount(step[theirs], weights=columns["market_share"][theirs],
                        minlength=months)
    failed = np.bincount(np.array([int(e["step"]) for e in events if e["kind"] == "failure"],
                                  dtype=np.int64),
                         minlength=months)[:months]
    return {"entrants_share": share.astype(float), "failures": failed.astype(float)}


def _encounters(model: Any, firm: str) -> dict[str, float]:
    """How soon the firm noticed, answered and served each disruptor and new segment.

    Months to notice and to answer the k-th disruptor and to serve the k-th new segment (NaN:
    never), with the month each arrived, keyed ``"<what>/<k>"``.
    """
    out: dict[str, float] = {}
    # the registry's encounter outcomes are the model's own columns, by the same names
    for table, start, key, order, kind in (
            (model.disruptions(), "entry_step", "entry", "entrant", "entrant"),
            (model.emergences(), "emerge_step", "emerge", "segment", "new_segment")):
        mine = table[table["firm"] == firm].sort_values([start, order]).head(MAX_ENCOUNTERS)
        for k, row in enumerate(mine.to_dict("records")):
            out[f"{key}/{k}"] = float(row[start])
            for name in _ENCOUNTERS_OF[kind]:
                out[f"{name}/{k}"] = float(row[name])
    return out


# --- the comparison ---------------------------------------------------------------------------

@dataclass
class Comparison:
    """The result of :func:`compare`: everything a handout shows.

    Attributes:
        scenario: the scenario compared; ``name`` its name for the report.
        labels: the two organizations' names, in order (differences are second - first).
        arms: the two organizations as run.
        framing: the framing the table shows.
        tables: per framing run, one row per outcome: each organization's mean and interval
            (``a_*``, ``b_*``), the paired difference (``diff_*``, over ``pairs``
            replications), the unpaired interval of the same difference (``unpaired_*``) and
            ``undefined``, the runs in which the outcome had no value.
        runs: one row per (framing, organization, replication): ``seed`` and the outcomes.
        paths: per framing, one row per (organization, metric, step): mean, low, high.
        reps, seed, steps: how it was run.
        scheduled: the timeline's events as (step, kind), the same in every run.
        random_events: per framing and organization, the mean count per replication of each
            kind of random event.
        notes: plain sentences the handout prints (which arm is the scenario's own focal
            firm, why a framing is missing).
        encounters: how soon each organization noticed and answered each disruptor and
            served each new segment, one row per run.

    """

    scenario: Scenario
    name: str
    labels: tuple[str, str]
    arms: tuple[Arm, Arm]
    framing: Framing
    tables: dict[str, pd.DataFrame]
    runs: pd.DataFrame
    paths_by_framing: dict[str, pd.DataFrame]
    reps: int
    seed: int
    steps: int
    scheduled: list[tuple[int, str]] = field(default_factory=list)
    random_events: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    encounters: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Per framing, organization and run: ``what`` (``time_to_notice``, ``time_to_answer``,
    ``time_to_serve``), ``k`` (the k-th disruptor or new segment), ``arrived`` (its month) and
    ``months`` (NaN: never)."""

    @property
    def table(self) -> pd.DataFrame:
        """The table of the framing shown."""
        return self.tables[self.framing]

    @property
    def paths(self) -> pd.DataFrame:
        """The mean paths of the framing shown."""
        return self.paths_by_framing[self.framing]

    def disagreements(self) -> list[str]:
        """Outcomes whose paired difference has opposite signs in the two framings."""
        if len(self.tables) < 2:
            return []
        a, b = (self.tables[f].set_index("outcome")["diff_mean"] for f in FRAMINGS)
        return [name for name in a.index
                if np.isfinite(a[name]) and np.isfinite(b[name]) and a[name] * b[name] < 0]


def compare(scenario: Scenario, *, name: str = "scenario", reps: int = 30,
            workers: int | None = 1, scheduler: str | None = None, seed: int | None = None,
            steps: int | None = None, overrides: dict[str, Any] | None = None,
            framing: Framing | None = None,
            progress: Callable[[int, int], None] | None = None,
            executor: Executor | None = None) -> Comparison:
    """Run the scenario's two organizations on the same ``reps`` seeds and summarise.

    Args:
        scenario: a validated scenario; ``scenario.compare`` names the two organizations.
        name: the scenario's name, for the report and messages.
        reps: replications (>= 2 for intervals).
        workers: local processes (1: in this process; None: one per core).
        scheduler: a Dask scheduler's address, to run on that cluster instead.
        seed: root seed (default: the scenario's).
        steps: months per run (default: the scenario's).
        overrides: model parameters applied to every run (e.g. ``customers``).
        framing: the framing the table shows; by default head-to-head where it is defined,
            else swap (with a note saying why). Both are run where head-to-head is defined.
        progress: called with (runs done, runs planned) as runs finish.
        executor: an open executor to use instead of making one.

    Raises:
        ParameterError: ``reps`` or ``steps`` out of range, or a bad override.
        ScenarioError: the focal firm sets levers that neither organization uses.
        OutsideInError: ``framing`` is head-to-head where it is not defined.
        RunsFailedError: a run raised (the first error is named).

    """
    if not 1 <= reps <= 10_000:
        raise ParameterError("reps", f"{reps!r} is outside [1, 10000]")
    if workers is not None and not 1 <= workers <= 256:
        raise ParameterError("workers", f"{workers!r} is outside [1, 256]")
    steps = scenario.steps if steps is None else steps
    if not 1 <= steps <= 100_000:
        raise ParameterError("steps", f"{steps!r} is outside [1, 100000]")
    root = scenario.seed if seed is None else seed
    if root < 0:
        raise ParameterError("seed", f"{root!r} is negative; seeds are whole numbers >= 0")
    if framing is not None and framing not in FRAMINGS:
        raise OutsideInError(f"--framing: {framing!r} is not one of {', '.join(FRAMINGS)}")
    arms = tuple(scenario.arms(name))
    extra = dict(overrides or {})
    problem = head_to_head_problem(scenario, arms)
    for arm in arms:  # fail here, once, rather than in every worker
        scenario.to_params(**{**arm.overrides(), **extra})
    if not problem:
        scenario.head_to_head_kwargs(arms[0], arms[1], **extra)
    elif framing == "head-to-head":
        raise OutsideInError(f"--framing: head-to-head is not defined for {name}: {problem}; "
                             "use --framing swap")
    plan, read_from = replication_plan(scenario, arms, extra)
    base = {"scenario": scenario, "arms": arms, "overrides": extra}
    tasks = [Task(run_id=rep * len(plan) + k, sample_id=k, replication=rep,
                  seed=replication_seed(root, rep),
                  params={"framing": role.framing, "focal": role.focal}, base=base,
                  model=MODEL, steps=steps, series_every=1)
             for rep in range(reps) for k, role in enumerate(plan) if k not in read_from]
    records = run_all(tasks, workers=workers, scheduler=scheduler, executor=executor,
                      progress=progress)
    records = sorted(records + [_as_role(record, k, plan[k], len(plan)) for record in records
                                for k, j in read_from.items() if record.sample_id == j],
                     key=lambda r: r.run_id)
    notes = [f"{arm.label.replace('_', '-')} is the scenario's own focal firm "
             f"{scenario.focal.name} ({arm.structure.replace('_', '-')} with "
             + ", ".join(f"{k} {v:g}" for k, v in arm.levers.items())
             + ")" for arm in arms if arm.focal_firm]
    shown: Framing = framing or "head-to-head"
    if problem:
        notes.append(f"Head-to-head is not shown: {problem}.")
        shown = "swap"
    labels = (arms[0].label, arms[1].label)
    return _summarise(scenario, name, labels, arms, shown, plan, reps, root, steps, records,
                      notes)


def _as_role(record: Record, k: int, role: Role, n_roles: int) -> Record:
    """A twin's record read as role ``k``'s: only the arm that role places (see :func:`twins`)."""
    arm = f"{role.focal}/"
    assert record.series is not None
    return replace(
        record, run_id=record.replication * n_roles + k, sample_id=k,
        params={"framing": role.framing, "focal": role.focal},
        outcomes={key: v for key, v in record.outcomes.items()
                  if key.startswith(arm) or key.startswith("random/")},
        series=record.series[record.series["arm"] == role.focal].reset_index(drop=True))


def run_all(tasks: Sequence[Task], *, workers: int | None = 1, scheduler: str | None = None,
            executor: Executor | None = None,
            progress: Callable[[int, int], None] | None = None) -> list[Record]:
    """Run tasks on an executor (made here from ``workers``/``scheduler`` unless given).

    The same path as a sweep's: :meth:`Executor.run` checks that every run came back once;
    here a failed run stops the summary, with its error named.
    """
    records: list[Record] = []

    def keep(record: Record) -> None:
        records.append(record)
        if progress is not None:
            progress(len(records), len(tasks))

    own = executor is None
    ex = executor if executor is not None else make_executor(workers, scheduler)
    try:
        ex.run(tasks, keep, planned=len(tasks))
    finally:
        if own:
            ex.close()
    failed = [r for r in records if not r.ok]
    if failed:
        first = min(failed, key=lambda r: r.run_id)
        raise RunsFailedError(f"{len(failed)} of {len(tasks)} runs failed; the first, run "
                              f"{first.run_id} (replication {first.replication}, seed "
                              f"{first.seed}): {first.error}")
    return sorted(records, key=lambda r: r.run_id)


def _summarise(scenario: Scenario, name: str, labels: tuple[str, str],
               arms: tuple[Arm, ...], shown: Framing, plan: list[Role], reps: int, root: int,
               steps: int, records: list[Record], notes: list[str]) -> Comparison:
    rows = []
    met: list[dict[str, Any]] = []
    paths: dict[str, pd.DataFrame] = {}
    random_events: dict[str, dict[str, dict[str, float]]] = {}
    for framing in dict.fromkeys(role.framing for role in plan):
        mine = [(plan[r.sample_id], r) for r in records
                if plan[r.sample_id].framing == framing]
        per_arm: dict[int, list[dict[str, float]]] = {0: [], 1: []}
        series: dict[int, list[pd.DataFrame]] = {0: [], 1: []}
        for role, record in mine:
            assert record.series is not None  # every comparison run keeps its series
            for arm in (0, 1):
                if f"{arm}/final_share" not in record.outcomes:
                    continue
                values = {k.split("/", 1)[1]: v for k, v in record.outcomes.items()
                          if k.startswith(f"{arm}/")}
                per_arm[arm].append({"rep": record.replication, "seed": record.seed,
                                     "position": 0 if role.focal == arm else 1, **values})
                met.extend({"framing": framing, "organization": labels[arm],
                            "rep": record.replication, "what": what, "k": int(k),
                            "arrived": values[("emerge" if what == "time_to_serve"
                                               else "entry") + f"/{k}"], "months": v}
                           for what, k, v in ((*key.split("/"), v)
                                              for key, v in values.items() if "/" in key)
                           if what in reg.ENCOUNTERS)
                series[arm].append(record.series[record.series["arm"] == arm])
        for arm in (0, 1):
            frame = pd.DataFrame(per_arm[arm])
            # head-to-head: each organization played both places; a replication's value is
            # the mean over its two places
            frame = frame.groupby(["rep", "seed"], as_index=False).mean(numeric_only=True)
            frame = frame.drop(columns=["position"])
            rows.append(frame.assign(framing=framing, organization=labels[arm]))
        random_events[framing] = {
            labels[arm]: {kind: float(np.mean([r.outcomes[f"random/{kind}"]
                                              for role, r in mine if role.focal == arm]))
                          for kind in reg.RANDOM_EVENTS}
            for arm in (0, 1)}
        paths[framing] = _paths(series, labels)
    runs = pd.concat(rows, ignore_index=True)
    runs = runs[["framing", "organization", "rep", "seed",
                 *[c for c in reg.OUTCOMES if c in runs.columns]]]
    tables = {framing: _table(runs[runs["framing"] == framing], labels)
              for framing in paths}
    encounters = pd.DataFrame(met, columns=["framing", "organization", "rep", "what", "k",
                                            "arrived", "months"])
    return Comparison(scenario, name, labels, (arms[0], arms[1]), shown, tables, runs, paths,
                      reps, root, steps, scenario.scheduled_events(), random_events, notes,
                      encounters)


def _table(runs: pd.DataFrame, labels: tuple[str, str]) -> pd.DataFrame:
    rows = []
    for key in reg.COMPARED:
        a = runs.loc[runs["organization"] == labels[0]].sort_values("rep")[key]
        b = runs.loc[runs["organization"] == labels[1]].sort_values("rep")[key]
        a_values, b_values = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
        row: dict[str, Any] = {"outcome": key, "label": reg.OUTCOMES[key].label}
        for prefix, interval in (("a", interval_for(key, a_values)),
                                 ("b", interval_for(key, b_values)),
                                 ("diff", paired_difference(a_values, b_values, name=key)),
                                 ("unpaired",
                                  unpaired_difference(a_values, b_values, name=key))):
            row.update({f"{prefix}_mean": interval.mean, f"{prefix}_low": interval.low,
                        f"{prefix}_high": interval.high})
            if prefix == "diff":
                row["pairs"] = interval.n
        row["undefined"] = int((~np.isfinite(a_values)).sum() + (~np.isfinite(b_values)).sum())
        rows.append(row)
    return pd.DataFrame(rows)


MIN_IN_BUSINESS = 5
"""A mean path of a gap (a firm in business only) is drawn where at least this many runs'
firms are still in business: over fewer, the mean of the last survivors says little and its
interval is wider than anything the gap can be."""


def _paths(series: dict[int, list[pd.DataFrame]], labels: tuple[str, str]) -> pd.DataFrame:
    frames = []
    for arm, label in enumerate(labels):
        for metric in (*reg.TRAJECTORIES, *reg.MARKET_SERIES):
            columns = [s[metric].to_numpy() for s in series[arm]]  # each in step order
            length = min(len(c) for c in columns)
            mean, low, high = band(np.vstack([c[:length] for c in columns]),
                                   least=MIN_IN_BUSINESS if metric in reg.IN_BUSINESS_ONLY
                                   else 1)
            # A band is cut to the values its series can take (a share in [0, 1], a gap or a
            # count at least 0): the cut keeps every possible value, so the band's coverage.
            kind = reg.outcome(metric)
            if kind.unit == "share":
                low, high = np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)
            elif kind.bounded:
                low = np.maximum(low, 0.0)
            frames.append(pd.DataFrame({"organization": label, "metric": metric,
                                        "step": np.arange(length), "mean": mean, "low": low,
                                        "high": high}))
    return pd.concat(frames, ignore_index=True)
