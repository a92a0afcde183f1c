"""The shared market of a workshop: teams, rounds, the decision log and its replay.

One :class:`Workshop` lives in the server's process and every browser session (each team's
page, the facilitator's console) reads and changes it through its methods, which hold one
lock: two teams that click at once are served one after the other. Solara's reactive values
belong to one browser session, so nothing shared lives in them; a page waits on
:meth:`Workshop.wait_for_change` and redraws when the version moves.

Every change is a record appended to ``workshop.jsonl`` in the log folder as it happens (one
JSON object a line, flushed at once). The market is a function of the seed and those records:
:meth:`Workshop.resume` reads them back, validates each line, and applies them in order to a
new market, so a restarted server carries on with the same state. The same records, with the
teams' decisions left out and every team firm set to one preset, give the debrief's "ghost"
markets.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import math
import os
import re
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from simulation import __version__
from simulation.errors import OutsideInError, ParameterError
from simulation.levers import upkeep
from simulation.model import OrgModel
from simulation.params import LEVERS, PARAMETERS, FirmSpec, check_levers
from simulation.structures import PRESETS, with_listed_firms

LOG_NAME = "workshop.jsonl"
"""The decision log's file name inside ``--log DIR``."""

LOCK_NAME = ".workshop.lock"
"""Held (``flock``) by the server writing a log folder: one server per workshop."""

NAME_MAX = 30
"""Most characters in a team name."""

GHOSTS: tuple[str, ...] = ("inside_out", "outside_in")
"""The presets the debrief sets every team against."""

REORGANIZE_CHOICES: tuple[str, ...] = ("", *GHOSTS)
"""A team's "reorganize to…" choice: nothing (the sliders), or a preset whole."""

_NAME_OK = re.compile(r"^[\w .,'()!?+-]+$")
"""Letters (any alphabet), digits, spaces and a little punctuation: no markup."""


def _price_bounds() -> tuple[float, float]:
    b = PARAMETERS["price"].metadata["bound"]
    return float(b.low), float(b.high)


PRICE_RANGE = _price_bounds()
"""The prices a team may set (the model's bound on a firm's price)."""


class WorkshopError(OutsideInError):
    """A request the workshop refuses; its text is shown on the page that asked."""


# --- the log's records -------------------------------------------------------------------
class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Start(_Record):
    """The first line: what the market is made of and the secrets of its links."""

    kind: Literal["start"] = "start"
    scenario: str | None
    scenario_sha256: str | None = None
    version: str | None = None
    seed: int = Field(ge=0)
    teams: int = Field(ge=1, le=60)
    round_months: int = Field(ge=1, le=120)
    key: str = Field(min_length=8, max_length=64)
    code: str = Field(min_length=4, max_length=16)


class Join(_Record):
    """A team took a firm."""

    kind: Literal["join"] = "join"
    team: str = Field(min_length=1, max_length=NAME_MAX)
    token: str = Field(min_length=8, max_length=64)
    firm: str


class Decisions(_Record):
    """What a team decided for a round: levers, price, and perhaps a preset to move to."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    levers: dict[str, float]
    price: float
    reorganize: str = ""


class Submit(_Record):
    """A team submitted its decisions for the current round."""

    kind: Literal["submit"] = "submit"
    team: str
    decisions: Decisions


class Act(_Record):
    """A facilitator's action without arguments."""

    kind: Literal["advance", "shock", "disruptor", "lock", "reopen"]


class Remove(_Record):
    """The facilitator removed a team; its firm is run by its last decisions."""

    kind: Literal["remove"] = "remove"
    team: str


class Broadcast(_Record):
    """A message from the facilitator to every page."""

    kind: Literal["broadcast"] = "broadcast"
    text: str = Field(max_length=300)


Record = Annotated[Start | Join | Submit | Act | Remove | Broadcast, Field(discriminator="kind")]
_RECORD: TypeAdapter[Any] = TypeAdapter(Record)


# --- state -------------------------------------------------------------------------------
@dataclass
class Team:
    """One team: its name, secret token, firm, and its decisions."""

    name: str
    token: str
    firm: str
    decisions: Decisions
    submitted: bool = False
    removed: bool = False


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
class Config:
    """What a workshop is started with (the log's first line says the same)."""

    scenario: Path | None = None
    seed: int = 1
    teams: int = 4
    round_months: int = 6


def check_team_name(name: str, taken: Sequence[str]) -> str:
    """The team name to use, or a :class:`WorkshopError` saying what is wrong with it."""
    text = str(name).strip()
    if not text:
        raise WorkshopError("Team name: type a name.")
    if len(text) > NAME_MAX:
        raise WorkshopError(f"Team name: at most {NAME_MAX} characters (this one has "
                            f"{len(text)}).")
    if not _NAME_OK.match(text):
        raise WorkshopError("Team name: use letters, digits, spaces and . , ' ( ) ! ? + - "
                            "only (no < > & or quotes).")
    if text.casefold() in {t.casefold() for t in taken}:
        raise WorkshopError(f"Team name: “{text}” is taken; choose another.")
    return text


def check_decisions(levers: dict[str, Any], price: Any, reorganize: Any) -> Decisions:
    """Validated decisions, or a :class:`WorkshopError` naming the first bad value."""
    missing = [lever for lever in LEVERS if lever not in levers]
    if missing:
        raise WorkshopError(f"{missing[0].capitalize()}: no value given.")
    try:  # the model's own rule for levers: known names, numbers in [0, 1]
        check_levers("levers", levers)
    except ParameterError as exc:
        said = str(exc).removeprefix("levers.")
        raise WorkshopError(f"{said[:1].upper()}{said[1:]}.") from None
    clean = {lever: float(levers[lever]) for lever in LEVERS}
    low, high = PRICE_RANGE
    if not _in_range(price, low, high):
        raise WorkshopError(f"Price: {price!r} is outside [{low:g}, {high:g}].")
    if reorganize not in REORGANIZE_CHOICES:
        raise WorkshopError(f"Reorganize to: {reorganize!r} is not one of "
                            f"{[c for c in REORGANIZE_CHOICES if c]} (or nothing).")
    return Decisions(levers=clean, price=float(price), reorganize=str(reorganize))


def _in_range(value: Any, low: float, high: float) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value) and low <= value <= high)


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
        built = [dataclasses.replace(s, structure=ghost, levers={})
                 if ghost is not None and s.name in ghost_firms else s for s in specs]
        self.model: Any = OrgModel(rng=start.seed, firms=tuple(built), **kwargs)
        self.teams: dict[str, Team] = {}
        self.round = 1
        self.locked = False
        self.messages: list[str] = []
        self.history: dict[str, list[RoundRow]] = {}

    @property
    def month(self) -> int:
        """The market's month (0 before the first round)."""
        return int(self.model.steps)

    def firm(self, name: str) -> Any:
        """The firm of that name."""
        return next(f for f in self.model.firms if f.name == name)

    def free_firm(self) -> str | None:
        """The first incumbent no team has taken (removed teams keep theirs)."""
        taken = {t.firm for t in self.teams.values()}
        return next((s.name for s in self.specs if s.name not in taken), None)

    def current_decisions(self, firm: Any) -> Decisions:
        """A firm's decisions as they stand: its levers (or the move's target) and price."""
        transition = getattr(firm, "transition", None)
        levers = transition.to_levers if transition is not None else firm.levers
        return Decisions(levers={k: float(levers[k]) for k in LEVERS},
                         price=float(firm.price))

    # --- applying records ---------------------------------------------------------------
    def apply(self, record: Any) -> None:
        """Apply one record of the log (already checked by :class:`Workshop`)."""
        kind = record.kind
        if kind == "join":
            firm = self.firm(record.firm)
            self.teams[record.token] = Team(record.team, record.token, record.firm,
                                            self.current_decisions(firm))
            self.history.setdefault(record.team, [])
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
        elif kind == "reopen":
            self.locked = False
        elif kind == "remove":
            self.by_name(record.team).removed = True
        elif kind == "broadcast":
            self.messages.append(record.text)

    def by_name(self, name: str) -> Team:
        """The team of that name."""
        return next(t for t in self.teams.values() if t.name == name)

    def _advance(self) -> None:
        for team in self.teams.values():
            if not team.removed and self.ghost is None:
                self._decide(self.firm(team.firm), team)
        for _ in range(self.start.round_months):
            self.model.step()
        for team in self.teams.values():
            firm = self.firm(team.firm)
            m = firm.metrics or {}
            self.history[team.name].append(RoundRow(
                self.round, self.month, team.decisions, float(m.get("market_share", 0.0)),
                firm.cash_months, float(m.get("satisfaction", math.nan)),
                float(m.get("awareness_gap", math.nan)), float(m.get("action_gap", math.nan)),
                bool(firm.alive)))
            team.submitted = False
        self.round += 1
        self.locked = False

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


class Workshop:
    """The shared workshop: one per server process, safe to use from many sessions.

    Use :meth:`create` or :meth:`resume`; call :meth:`close` when the server stops.
    """

    def __init__(self, start: Start, folder: Path, scenario: Any, records: list[Any],
                 handle: IO[str], lock_handle: IO[str]) -> None:
        self.start = start
        self.folder = folder
        self.scenario = scenario
        self.records: list[Any] = []
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.version = 0
        self._handle = handle
        self._lock_handle = lock_handle
        self.market = Market(start, scenario)
        for record in records:
            self.market.apply(record)
            self.records.append(record)
        # each preset's ghost market, the teams it was built for and the records applied
        self._ghosts: dict[str, tuple[Market, list[str], int]] = {}

    # --- creating and resuming ------------------------------------------------------------
    @classmethod
    def create(cls, config: Config, folder: Path) -> Workshop:
        """Start a new workshop whose log goes to ``folder`` (new or empty of a log)."""
        scenario = _load_scenario(config.scenario)
        source = config.scenario.resolve() if config.scenario else None
        start = Start(scenario=str(source) if source else None,
                      scenario_sha256=_digest(source) if source else None, seed=config.seed,
                      teams=config.teams, round_months=config.round_months,
                      version=__version__, key=secrets.token_urlsafe(18), code=_join_code())
        folder.mkdir(parents=True, exist_ok=True)
        lock_handle = _lock(folder)
        path = folder / LOG_NAME
        if path.exists():
            lock_handle.close()
            raise OutsideInError(f"log: {path} exists; resume that workshop with --resume "
                                 f"{folder}, or choose another --log folder")
        handle = path.open("a", encoding="utf-8")
        _write(handle, start)
        return cls(start, folder, scenario, [], handle, lock_handle)

    @classmethod
    def resume(cls, folder: Path) -> Workshop:
        """Rebuild a workshop from its log: the same records give the same market."""
        path = folder / LOG_NAME
        if not path.is_file():
            raise OutsideInError(f"resume: {path} does not exist")
        lock_handle = _lock(folder)
        try:
            records = read_log(path)
            start = records[0]
            if start.version != __version__:
                raise OutsideInError(f"resume: the workshop was started with Outside-In "
                                     f"{start.version}, this is {__version__}; its log would "
                                     "not replay to the same market")
            if start.scenario and _digest(Path(start.scenario)) != start.scenario_sha256:
                raise OutsideInError(f"resume: the scenario file {start.scenario} has changed "
                                     "(or gone) since the workshop started; its log would not "
                                     "replay to the same market")
            scenario = _load_scenario(Path(start.scenario) if start.scenario else None)
        except Exception:
            lock_handle.close()
            raise
        handle = path.open("a", encoding="utf-8")
        return cls(start, folder, scenario, records[1:], handle, lock_handle)

    def close(self) -> None:
        """Close the log (the folder's lock goes with it)."""
        with self.lock:
            self._handle.close()
            self._lock_handle.close()

    # --- reading --------------------------------------------------------------------------
    @property
    def month(self) -> int:
        """The market's month."""
        return self.market.month

    @property
    def round(self) -> int:
        """The round being decided (1 before the first Advance)."""
        return self.market.round

    def team(self, token: str | None) -> Team | None:
        """The team whose secret token this is (``None``: no such team, or removed)."""
        with self.lock:
            team = self.market.teams.get(token or "")
            return team if team is not None and not team.removed else None

    def teams(self) -> list[Team]:
        """The teams still in the workshop, in the order they joined."""
        with self.lock:
            return [t for t in self.market.teams.values() if not t.removed]

    def check_key(self, key: str | None) -> bool:
        """Whether ``key`` is the facilitator's secret."""
        return secrets.compare_digest(str(key or ""), self.start.key)

    def check_code(self, code: str | None) -> bool:
        """Whether ``code`` is the join code."""
        return secrets.compare_digest(str(code or "").upper(), self.start.code)

    def wait_for_change(self, seen: int, timeout: float) -> int:
        """Block until the version differs from ``seen`` (or ``timeout`` s); the version."""
        with self.changed:
            if self.version == seen:
                self.changed.wait(timeout)
            return self.version

    # --- acting ---------------------------------------------------------------------------
    def join(self, name: str) -> Team:
        """A team joins with that name and gets the first free firm."""
        with self.lock:
            text = check_team_name(name, [t.name for t in self.market.teams.values()])
            firm = self.market.free_firm()
            if firm is None:
                raise WorkshopError(f"The workshop is full: all {len(self.market.specs)} "
                                    "firms have a team. Ask the facilitator.")
            record = Join(team=text, token=secrets.token_urlsafe(18), firm=firm)
            self._commit(record)
            return self.market.teams[record.token]

    def submit(self, token: str, levers: dict[str, Any], price: Any, reorganize: Any) -> None:
        """Lock a team's decisions for the current round."""
        with self.lock:
            team = self.team(token)
            if team is None:
                raise WorkshopError("This team is not in the workshop (removed?).")
            if self.market.locked:
                raise WorkshopError(f"Round {self.round} is locked: the facilitator stopped "
                                    "taking decisions.")
            if team.submitted:
                raise WorkshopError(f"Your decisions for round {self.round} are already in.")
            decisions = check_decisions(levers, price, reorganize)
            self._commit(Submit(team=team.name, decisions=decisions))

    def advance(self) -> None:
        """Run one round: every team's decisions apply, then ``round_months`` months pass."""
        self._act("advance")

    def shock(self) -> None:
        """Customers' needs jump at the next month."""
        self._act("shock")

    def disruptor(self) -> None:
        """A disruptor enters at the next month."""
        self._act("disruptor")

    def lock_round(self) -> None:
        """Stop taking decisions for this round."""
        self._act("lock")

    def reopen_round(self) -> None:
        """Take decisions again for this round."""
        self._act("reopen")

    def remove(self, name: str) -> None:
        """Remove a team; its firm keeps its last decisions and no page can steer it."""
        with self.lock:
            if name not in {t.name for t in self.teams()}:
                raise WorkshopError(f"Remove: there is no team “{name}”.")
            self._commit(Remove(team=name))

    def broadcast(self, text: str) -> None:
        """Show a message on every page."""
        with self.lock:
            clean = str(text).strip()
            if not clean:
                raise WorkshopError("Message: type something to send.")
            if len(clean) > 300:
                raise WorkshopError(f"Message: at most 300 characters (this one has "
                                    f"{len(clean)}).")
            self._commit(Broadcast(text=clean))

    def _act(self, kind: str) -> None:
        with self.lock:
            self._commit(Act(kind=kind))  # type: ignore[arg-type]

    def _commit(self, record: Any) -> None:
        """Write the record to the log, then apply it (the log never lags the market)."""
        with self.changed:
            _write(self._handle, record)
            self.market.apply(record)
            self.records.append(record)
            self.version += 1
            self.changed.notify_all()

    # --- scores and the debrief -----------------------------------------------------------
    def upkeep_per_month(self, levers: dict[str, float], firm: str) -> float:
        """What these levers would cost the firm each month, in months of revenue."""
        with self.lock:
            self.market.firm(firm)  # an unknown firm is refused
            model = self.market.model
            return float(upkeep(levers, model.params.lever_cost))

    def reorganize_cost(self) -> tuple[float, int]:
        """The one-off cost of a reorganization (months of revenue) and the months it takes."""
        model = self.market.model
        return float(model.params.reorganize_cost), int(model.params.transition_steps)

    def leaderboard(self) -> list[dict[str, Any]]:
        """The balanced scorecard: per team share, cash, satisfaction, resilience and ranks.

        Resilience is the share lost after the last shock (months of pre-shock share; lower
        is better; ``nan`` before any shock). ``rank`` orders the teams by their mean rank.
        """
        with self.lock:
            model = self.market.model
            shocks = [e["step"] for e in model.events if e["kind"] == "shock"]
            loss: dict[str, float] = {}
            if shocks and self.month >= max(shocks):
                table = model.resilience()
                last = table[table["shock_step"] == max(shocks)]
                loss = {str(r["firm"]): float(r["loss_area"]) for _, r in last.iterrows()}
            rows: list[dict[str, Any]] = []
            for team in self.teams():
                firm = self.market.firm(team.firm)
                m = firm.metrics or {}
                rows.append({"team": team.name, "firm": team.firm, "alive": bool(firm.alive),
                             "share": float(m.get("market_share", 0.0)),
                             "cash": firm.cash_months,
                             "satisfaction": float(m.get("satisfaction", 0.0)),
                             "resilience": loss.get(team.firm, math.nan),
                             "submitted": team.submitted})
            for column, best_high in (("share", True), ("cash", True), ("satisfaction", True),
                                      ("resilience", False)):
                _rank(rows, column, best_high)
            for row in rows:
                row["score"] = sum(row[f"{c}_rank"] for c in
                                   ("share", "cash", "satisfaction", "resilience")) / 4
            ordered = sorted(rows, key=lambda r: (r["score"], r["team"].casefold()))
            for i, row in enumerate(ordered):
                row["rank"] = i + 1
            return ordered

    def ghost(self, preset: str) -> Market:
        """The market replayed with every team firm run by ``preset`` (same seed and events)."""
        with self.lock:
            joined = [r.firm for r in self.records if r.kind == "join"]
            market, built_for, applied = self._ghosts.get(preset, (None, [], 0))
            if market is None or built_for != joined:  # a team joined since: start again
                market, applied = Market(self.start, self.scenario, preset, joined), 0
            for record in self.records[applied:]:  # only what came since the last look
                if record.kind != "submit":
                    market.apply(record)
            self._ghosts[preset] = (market, joined, len(self.records))
            return market

    def history(self) -> dict[str, list[RoundRow]]:
        """Each team's rounds (removed teams included, marked by the page)."""
        with self.lock:
            return {name: list(rows) for name, rows in self.market.history.items()}

    def messages(self) -> list[str]:
        """The facilitator's broadcast messages, oldest first."""
        with self.lock:
            return list(self.market.messages)


def _rank(rows: list[dict[str, Any]], column: str, best_high: bool) -> None:
    """Give each row ``column_rank`` (1 best; ties share a rank; ``nan`` ties for last)."""
    values = [r[column] for r in rows]
    known = sorted({v for v in values if v == v}, reverse=best_high)
    for row in rows:
        value = row[column]
        row[f"{column}_rank"] = known.index(value) + 1 if value == value else len(known) + 1


def read_log(path: Path) -> list[Any]:
    """The records of a log file, validated; a bad line is one clear error (file, line)."""
    records: list[Any] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = _RECORD.validate_python(json.loads(line))
            except (json.JSONDecodeError, ValidationError) as exc:
                detail = (exc.errors()[0] if isinstance(exc, ValidationError) else None)
                where = ".".join(str(p) for p in detail["loc"]) if detail else ""
                why = detail["msg"] if detail else str(exc)
                raise OutsideInError(f"{path}: line {number}: {where + ': ' if where else ''}"
                                     f"{why}") from None
            if (number == 1) != (record.kind == "start"):
                raise OutsideInError(f"{path}: line {number}: the first line, and only it, "
                                     "must be the workshop's start")
            records.append(record)
    if not records:
        raise OutsideInError(f"{path}: the log is empty")
    return records


def _write(handle: IO[str], record: Any) -> None:
    handle.write(json.dumps(record.model_dump(), sort_keys=True) + "\n")
    handle.flush()
    os.fsync(handle.fileno())


def _lock(folder: Path) -> IO[str]:
    handle = (folder / LOCK_NAME).open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise OutsideInError(f"log: {folder} is in use by another workshop server") from None
    return handle


def _load_scenario(path: Path | None) -> Any:
    if path is None:
        return None
    from simulation.viz import scenarios

    return scenarios.load(path)


def _digest(path: Path) -> str | None:
    """The SHA-256 of a file's bytes (``None`` if it cannot be read)."""
    import hashlib

    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _join_code() -> str:
    alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # nothing to misread on a projector
    return "".join(secrets.choice(alphabet) for _ in range(6))

