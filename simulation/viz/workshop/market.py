"""A workshop's market: the model, its teams' firms, and the per-round history.

:class:`Market` holds one model and applies the decision log's records to it in order
(:mod:`simulation.viz.workshop.session` checks, logs and serves them); applying the same
records to two markets of one seed gives the same state, which is how a workshop resumes,
and how its ghosts and "what if" futures replay it. A team may buy market research for one
round: a survey of customers that narrows its view of their needs (:meth:`Market.needs_view`).
"""

from __future__ import annotations

import collections
import dataclasses
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulation.model import OrgModel
from simulation.outcomes import IN_BUSINESS_ONLY, in_business
from simulation.params import LEVERS, FirmSpec
from simulation.presets import PRESETS
from simulation.structures import with_listed_firms
from simulation.viz.workshop.messages import NAME_MAX, Decisions, WorkshopError, parse
from simulation.viz.workshop.records import Start

__all__ = ["REFUSALS_KEPT", "RESEARCH_COST", "SURVEY_SIZE", "GrantRow", "Market", "NeedsView",
           "RoundRow", "Team", "check_decisions", "check_team_name", "firm_specs", "standing"]

REFUSALS_KEPT = 20
"""Refused messages and faults the facilitator's console keeps (the log keeps them all)."""

RESEARCH_COST = 0.25
"""What a round's market research costs a team, in months of revenue."""

SURVEY_SIZE = 100
"""Customers of each segment that market research asks (fewer if the segment is smaller)."""

_NAME_OK = re.compile(r"^[\w .,'()!?+-]+$")
"""Letters (any alphabet), digits, spaces and a little punctuation: no markup."""


@dataclass
class Team:
    """One team: its name, its token's hash, its firm, and its decisions.

    ``token`` is the secret itself, known only to the process the team joined in (it is
    returned to the page once and never logged); a replayed team has ``token == ""``.
    """

    name: str
    token_sha256: str
    firm: str
    decisions: Decisions
    submitted: bool = False
    removed: bool = False
    token: str = dataclasses.field(default="", repr=False)


@dataclass
class RoundRow:
    """A team's firm at the end of a round, with the decisions it played the round with."""

    round: int
    month: int
    decisions: Decisions
    share: float
    cash: float
    satisfaction: float
    awareness_gap: float
    action_gap: float
    alive: bool


@dataclass
class GrantRow:
    """A grant (positive) or fine (negative) the facilitator gave a team."""

    round: int
    month: int
    team: str
    amount: float
    reason: str


@dataclass
class NeedsView:
    """What a team sees of customers' needs: segment by segment, dimension by dimension.

    ``believed`` is what the firm's customer-facing departments believe; ``survey`` (only
    in a round the team bought research for) is the mean of what a sample of each segment's
    customers value lastingly (their persistent needs, without the month's transient
    noise), with its standard error ``survey_se``.
    """

    segments: list[str]
    dimensions: list[str]
    believed: np.ndarray
    survey: np.ndarray | None = None
    survey_se: np.ndarray | None = None
    asked: int = 0


def check_team_name(name: str, taken: Sequence[str], what: str = "Team name") -> str:
    """The team (or observer) name to use, or a :class:`WorkshopError` saying what is wrong.

    ``what`` names the field in the message.
    """
    text = str(name).strip()
    if not text:
        raise WorkshopError(f"{what}: type a name.")
    if len(text) > NAME_MAX:
        raise WorkshopError(f"{what}: at most {NAME_MAX} characters (this one has "
                            f"{len(text)}).")
    if not _NAME_OK.match(text):
        raise WorkshopError(f"{what}: use letters, digits, spaces and . , ' ( ) ! ? + - "
                            "only (no < > & or quotes).")
    if text.casefold() in {t.casefold() for t in taken}:
        raise WorkshopError(f"{what}: “{text}” is taken; choose another.")
    return text


def check_decisions(levers: Any, price: Any, reorganize: Any) -> Decisions:
    """Validated decisions, or a :class:`RefusedError` naming the first bad value."""
    return parse(Decisions, levers=levers, price=price, reorganize=reorganize)


def firm_specs(scenario: Any, seed: int, teams: int) -> tuple[dict[str, Any], list[FirmSpec]]:
    """The market's keywords and its incumbents: the scenario's, then more up to ``teams``.

    The extra incumbents copy the scenario's incumbents in turn (structure, levers, price,
    cash) under new names.
    """
    kwargs = with_listed_firms(scenario.to_model_kwargs() if scenario is not None else {})
    kwargs.pop("rng", None)
    base = list(kwargs.pop("firms"))
    specs = list(base)
    names = {s.name for s in specs}
    k = 0
    while len(specs) < teams:
        model = base[k % len(base)]
        n = 2
        while f"{model.name} {n}" in names:
            n += 1
        specs.append(dataclasses.replace(model, name=f"{model.name} {n}"))
        names.add(specs[-1].name)
        k += 1
    return kwargs, specs


class Market:
    """The model of a workshop and the per-round history of its teams' firms.

    Applying the same records in the same order to two markets of one seed gives the same
    state; :class:`Workshop` does that live, on resume, and for the ghosts.
    """

    def __init__(self, start: Start, scenario: Any = None, ghost: str | None = None,
                 ghost_firms: Sequence[str] = ()) -> None:
        self.start = start
        self.ghost = ghost
        kwargs, specs = firm_specs(scenario, start.seed, start.teams)
        self.specs = specs
        # a ghost market runs the teams' firms by one preset from the first month
        self._built = tuple(dataclasses.replace(s, structure=ghost, levers={})
                            if ghost is not None and s.name in ghost_firms else s
                            for s in specs)
        self._kwargs = kwargs
        self.model: Any = OrgModel(rng=start.seed, firms=self._built, **kwargs)
        self.teams: dict[str, Team] = {}
        self.observers: dict[str, str] = {}
        """Observers' token hashes to their names."""
        self.messages: list[str] = []
        self.refusals: collections.deque[Any] = collections.deque(maxlen=REFUSALS_KEPT)
        self.resets = 0
        self._fresh()

    def _fresh(self) -> None:
        """The state of month 0 besides the model: round 1, no history, no deadline."""
        self.round = 1
        self.locked = False
        self.practice = False
        self.history: dict[str, list[RoundRow]] = {t.name: [] for t in self.teams.values()}
        self.reports: list[dict[str, Any]] = []
        """The industry report of each round, oldest first (see :meth:`_report`)."""
        self.grants: list[GrantRow] = []
        self.research: dict[str, int] = {}
        """Each team's last round with market research."""
        self.bought: list[tuple[int, int, str]] = []
        """(round, month, team) of every research bought since month 0."""
        self.deadline: tuple[float, str] | None = None
        """When the round closes (seconds since the epoch) and what it does then."""

    @property
    def team_cap(self) -> int:
        """Most teams at once: the start's cap, or one a firm."""
        return min(self.start.team_cap or len(self.specs), len(self.specs))

    def joined(self) -> dict[str, tuple[int, int]]:
        """Each role's (joined, allowed): ``team`` and ``observer``."""
        active = sum(not t.removed for t in self.teams.values())
        return {"team": (active, self.team_cap),
                "observer": (len(self.observers), self.start.observer_cap)}

    @property
    def month(self) -> int:
        """The market's month (0 before the first round)."""
        return int(self.model.steps)

    def firm(self, name: str) -> Any:
        """The firm of that name."""
        return next(f for f in self.model.firms if f.name == name)

    def free_firm(self) -> str | None:
        """The first incumbent no team steers (a removed team's firm is free again)."""
        taken = {t.firm for t in self.teams.values() if not t.removed}
        return next((s.name for s in self.specs if s.name not in taken), None)

    def current_decisions(self, firm: Any) -> Decisions:
        """A firm's decisions as they stand: its levers (or the move's target) and price."""
        transition = getattr(firm, "transition", None)
        levers = transition.to_levers if transition is not None else firm.levers
        return Decisions(levers={k: float(levers[k]) for k in LEVERS},
                         price=float(firm.price))

    # --- checking and applying records ------------------------------------------------
    def check(self, record: Any) -> None:
        """Raise :class:`WorkshopError` if the session's rules refuse ``record`` now.

        The same rules serve a live request and a replayed line: a join takes the first free
        firm under a name not taken; a submit, or a remove, names a team in the workshop; a
        team submits once a round, and not while the round is locked.
        """
        kind = record.kind
        if kind == "start":
            raise WorkshopError("a second start record")
        if kind == "join":
            check_team_name(record.team, [t.name for t in self.teams.values()])
            active, cap = self.joined()["team"]
            if active >= cap:
                raise WorkshopError(f"The workshop is full: {active} / {cap} teams have "
                                    "joined. Ask the facilitator.")
            firm = self.free_firm()
            if firm is None:
                raise WorkshopError(f"The workshop is full: all {len(self.specs)} firms have "
                                    "a team. Ask the facilitator.")
            if record.firm != firm:
                raise WorkshopError(f"join: team “{record.team}” takes firm {record.firm!r}, "
                                    f"but the next free firm is {firm!r}")
            if record.token_sha256 in self.teams:
                raise WorkshopError("join: a token already in use")
        elif kind == "observer":
            check_team_name(record.name, list(self.observers.values()), "Observer name")
            seen, cap = self.joined()["observer"]
            if seen >= cap:
                raise WorkshopError(f"Observers: {seen} / {cap} have joined; no more are "
                                    "allowed. Ask the facilitator.")
            if record.token_sha256 in self.observers or record.token_sha256 in self.teams:
                raise WorkshopError("observer: a token already in use")
        elif kind in ("practice", "reset"):
            self._check_practice(kind)
        elif kind == "deadline":
            if record.closes_at is not None and self.locked:
                raise WorkshopError(f"Deadline: round {self.round} is locked already.")
            if record.closes_at is None and self.deadline is None:
                raise WorkshopError("Deadline: this round has none to clear.")
        elif kind in ("grant", "research"):
            team = self.active(record.team)
            if team is None:
                raise WorkshopError(f"{kind.capitalize()}: there is no team "
                                    f"“{record.team}” in the workshop.")
            if not self.firm(team.firm).alive:
                raise WorkshopError(f"{kind.capitalize()}: the firm of “{team.name}” has "
                                    "failed.")
            if kind == "research":
                self._check_research(team)
        elif kind in ("submit", "remove"):
            team = self.active(record.team)
            if team is None:
                raise WorkshopError(f"{kind}: there is no team “{record.team}” in the "
                                    "workshop")
            if kind == "submit" and self.locked:
                raise WorkshopError(f"Round {self.round} is locked: the facilitator stopped "
                                    "taking decisions.")
            if kind == "submit" and team.submitted:
                raise WorkshopError(f"Decisions of “{team.name}” for round {self.round} are "
                                    "already in.")

    def _check_practice(self, kind: str) -> None:
        if kind == "practice" and (self.month > 0 or self.practice):
            raise WorkshopError("Practice: a practice round starts at month 0, before the "
                                "real rounds" + (" (this one is one already)."
                                                 if self.practice else "."))
        if kind == "reset" and self.month == 0 and not self.practice:
            raise WorkshopError("Reset: the market is at month 0 already.")

    def _check_research(self, team: Team) -> None:
        if self.locked:
            raise WorkshopError(f"Research: round {self.round} is locked.")
        if self.research.get(team.name) == self.round:
            raise WorkshopError(f"Research: “{team.name}” has it for round {self.round} "
                                "already.")
        cash = self.firm(team.firm).cash_months
        if cash < RESEARCH_COST:
            raise WorkshopError(f"Research costs {RESEARCH_COST:g} months of revenue; the "
                                f"firm has {cash:.2f}.")

    def active(self, name: str) -> Team | None:
        """The team of that name still in the workshop (``None``: none, or removed)."""
        return next((t for t in self.teams.values() if t.name == name and not t.removed),
                    None)

    def apply(self, record: Any) -> None:
        """Apply one record of the log (:meth:`check` has passed it)."""
        kind = record.kind
        if kind == "join":
            firm = self.firm(record.firm)
            self.teams[record.token_sha256] = Team(record.team, record.token_sha256,
                                                   record.firm, self.current_decisions(firm))
            self.history.setdefault(record.team, [])
        elif kind == "observer":
            self.observers[record.token_sha256] = record.name
        elif kind == "practice":
            self.practice = True
        elif kind == "reset":
            self._reset()
        elif kind == "deadline":
            self.deadline = None if record.closes_at is None else (record.closes_at,
                                                                   record.then)
        elif kind == "grant":
            firm = self.firm(self.by_name(record.team).firm)
            firm.cash += record.amount * self.model.fair_revenue
            self.grants.append(GrantRow(self.round, self.month, record.team, record.amount,
                                        record.reason))
        elif kind == "research":
            firm = self.firm(self.by_name(record.team).firm)
            firm.cash -= RESEARCH_COST * self.model.fair_revenue
            self.research[record.team] = self.round
            self.bought.append((self.round, self.month, record.team))
        elif kind in ("refused", "fault"):
            self.refusals.append(record)
        elif kind == "submit":
            team = self.by_name(record.team)
            team.decisions = record.decisions
            team.submitted = True
        elif kind == "advance":
            self._advance()
        elif kind == "shock":
            self.model.inject_shock()
        elif kind == "disruptor":
            self.model.add_entrant()
        elif kind == "lock":
            self.locked = True
            self.deadline = None
        elif kind == "reopen":
            self.locked = False
        elif kind == "remove":
            self.by_name(record.team).removed = True
        elif kind == "broadcast":
            self.messages.append(record.text)

    def by_name(self, name: str) -> Team:
        """The team of that name still in the workshop (:meth:`check` has found it)."""
        team = self.active(name)
        assert team is not None, f"no team {name!r}: check() the record first"
        return team

    def _reset(self) -> None:
        """Month 0 again: the same seed, firms and teams; decisions as the firms start."""
        self.model = OrgModel(rng=self.start.seed, firms=self._built, **self._kwargs)
        self.resets += 1
        for team in self.teams.values():
            team.decisions = self.current_decisions(self.firm(team.firm))
            team.submitted = False
        self._fresh()

    def _advance(self) -> None:
        for team in self.teams.values():
            if not team.removed and self.ghost is None:
                self._decide(self.firm(team.firm), team)
        before = self._industry()
        for _ in range(self.start.round_months):
            self.model.step()
        self.reports.append(self._report(before))
        steered = {t.firm for t in self.teams.values() if not t.removed}
        for team in self.teams.values():
            if team.removed and team.firm in steered:
                continue  # a new team steers its firm now: the rows are the new team's
            firm = self.firm(team.firm)
            m = standing(firm)
            self.history[team.name].append(RoundRow(
                self.round, self.month, team.decisions, m["market_share"], firm.cash_months,
                m["satisfaction"], m["awareness_gap"], m["action_gap"], bool(firm.alive)))
            team.submitted = False
        self.round += 1
        self.locked = False
        self.deadline = None

    # --- the industry report and market research -------------------------------------
    def _industry(self) -> dict[str, Any]:
        """What the industry report compares a round's end with: the market at its start."""
        m = self.model.market
        return {"month": self.month, "ideal": m.ideal.copy(),
                "buying": m.counts[:, 1:].sum(axis=1).astype(float),
                "share": {f.name: float((f.metrics or {}).get("market_share", 0.0))
                          for f in self.model.firms}}

    def _report(self, before: dict[str, Any]) -> dict[str, Any]:
        """The industry report of the round just run, the same for every team.

        ``firms``: every firm's share (and its change), price and whether it is in business;
        ``segments``: how far each segment's needs moved and along which dimension, and its
        buying customers (growth: their change); ``disruptors``: each entrant's share, price
        and performance; ``events``: what happened during the round.
        """
        model, market = self.model, self.model.market
        steering = {t.firm: t.name for t in self.teams.values() if not t.removed}
        firms = []
        for f in model.firms:
            share = float((f.metrics or {}).get("market_share", 0.0)) if f.alive else 0.0
            firms.append({"firm": f.name, "team": steering.get(f.name, ""),
                          "entrant": bool(f.entrant), "alive": bool(f.alive),
                          "share": share,
                          "share_change": share - before["share"].get(f.name, 0.0),
                          "price": float(f.price)})
        moved = market.ideal - before["ideal"]
        buying = market.counts[:, 1:].sum(axis=1).astype(float)
        segments = []
        for s, name in enumerate(market.segment_names):
            if not market.active[s]:
                continue
            d = int(np.argmax(np.abs(moved[s])))
            segments.append({"segment": name, "needs_moved": float(np.linalg.norm(moved[s])),
                             "most_moved": market.dimension_names[d],
                             "most_moved_by": float(moved[s, d]),
                             "buying": int(buying[s]),
                             "growth": float(buying[s] / before["buying"][s] - 1.0)
                             if before["buying"][s] > 0 else math.nan})
        disruptors = [{"firm": f.name, "alive": bool(f.alive),
                       "share": float((f.metrics or {}).get("market_share", 0.0))
                       if f.alive else 0.0, "price": float(f.price),
                       "performance": float(np.mean(f.offering[:, 0])) if f.alive
                       else math.nan} for f in model.firms if f.entrant]
        events = [dict(e) for e in model.events
                  if before["month"] < e["step"] <= self.month]
        return {"round": self.round, "from_month": before["month"], "to_month": self.month,
                "firms": firms, "segments": segments, "disruptors": disruptors,
                "events": events}

    def needs_view(self, name: str) -> NeedsView:
        """What team ``name`` sees of customers' needs this round (see :class:`NeedsView`).

        The survey is drawn from the workshop's seed, the resets, the round and the firm
        (never from the model's random numbers, so buying it changes nothing else).
        """
        team = self.by_name(name)
        firm = self.firm(team.firm)
        model, market = self.model, self.model.market
        org = model.org
        k = org.beliefs.shape[0]
        shape = market.ideal.shape
        believed = (org.facing_mean_of[firm.index] @ org.beliefs.reshape(k, -1)).reshape(shape)
        active = np.flatnonzero(market.active)
        view = NeedsView([market.segment_names[s] for s in active],
                         list(market.dimension_names), believed[active])
        if self.research.get(name) != self.round or not firm.alive:
            return view
        rng = np.random.default_rng([self.start.seed, self.resets, self.round, firm.index])
        means, errors = [], []
        for s in active:
            # a study of what the customers asked value lastingly (their segment's persistent
            # needs and their own tastes), not this month's whims: its error is the sampling
            # error of the customers asked
            members = np.flatnonzero(market.segment == s)
            asked = rng.choice(members, size=min(SURVEY_SIZE, members.size), replace=False)
            said = market.ideal[s] + market.offset[asked]
            means.append(said.mean(axis=0))
            errors.append(said.std(axis=0, ddof=1) / math.sqrt(max(asked.size, 1)))
            view.asked = int(asked.size)
        view.survey, view.survey_se = np.array(means), np.array(errors)
        return view

    def view_error(self, points: np.ndarray) -> float:
        """How far a view of the active segments' needs is from their persistent needs.

        The importance-weighted distance the awareness gap uses, averaged over the active
        segments by their weight.
        """
        market = self.model.market
        full = market.ideal.copy()  # latent segments: no gap (and no weight)
        full[market.active] = points
        return float(market.gap(full) @ market.active_weights)

    def _decide(self, firm: Any, team: Team) -> None:
        d = team.decisions
        if not firm.alive:
            return
        firm.price = d.price
        if d.reorganize:
            self.model.reorganize(team.firm, d.reorganize)
            # the preset came whole: from now on the sliders stand at its levers
            team.decisions = Decisions(levers=PRESETS[d.reorganize].lever_values(),
                                       price=d.price)
            return
        now = self.current_decisions(firm).levers
        if any(not math.isclose(now[k], d.levers[k], abs_tol=1e-9) for k in LEVERS):
            self.model.reorganize(team.firm, dict(d.levers))


def standing(firm: Any) -> dict[str, float]:
    """A firm's latest share, satisfaction and gaps, as the outcome registry treats a failure.

    A failed firm's share is 0 and its satisfaction and gaps are no values (``nan``:
    :data:`simulation.outcomes.IN_BUSINESS_ONLY`); the leaderboard, the history and the
    firm cards all read them from here.
    """
    m = firm.metrics or {}
    values = {"market_share": float(m.get("market_share", 0.0)),
              **{k: float(m.get(k, math.nan)) for k in IN_BUSINESS_ONLY}}
    return {k: float(v) for k, v in in_business(values, firm.alive).items()}
