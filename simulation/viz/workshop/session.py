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
markets; with another seed, the debrief's "what if" futures.

A workshop may start with a practice round: ``practice``, some rounds, then ``reset`` takes
the market back to month 0 with the same teams on the same firms (a record like any other,
so a replay passes through the practice too). A round may get a deadline; when it comes, the
server logs the round's ``lock`` (or ``advance``) itself, so a replay needs no clock. After
each round every team gets the same industry report (:class:`Market.reports`), and a team
may buy market research for one round: a survey of customers that narrows its view of
their needs (:meth:`Market.needs_view`) and costs it cash.

This module checks, logs and serves; the market (the model, the teams' firms, their rounds)
is :mod:`simulation.viz.workshop.market`, the leaderboard's scores
:mod:`simulation.viz.workshop.scoreboard`, the log's records
:mod:`simulation.viz.workshop.records`. Their public names still import from here.
"""

from __future__ import annotations

import contextlib
import fcntl
import math
import os
import secrets
import stat
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulation import __version__
from simulation.errors import OutsideInError
from simulation.levers import upkeep
from simulation.params import DEFAULT_SEED
from simulation.viz.workshop import scoreboard
from simulation.viz.workshop.market import (
    REFUSALS_KEPT,
    RESEARCH_COST,
    SURVEY_SIZE,
    GrantRow,
    Market,
    NeedsView,
    RoundRow,
    Team,
    check_decisions,
    check_team_name,
    firm_specs,
    standing,
)
from simulation.viz.workshop.messages import (
    ACTIONS,
    GHOSTS,
    GRANT_MAX,
    NAME_MAX,
    PASSWORD_MAX,
    PRICE_RANGE,
    REASON_MAX,
    REORGANIZE_CHOICES,
    TEXT_MAX,
    Decisions,
    WorkshopError,
)
from simulation.viz.workshop.records import (
    Act,
    Broadcast,
    Deadline,
    Fault,
    Grant,
    Join,
    Refusal,
    Remove,
    Research,
    Start,
    Submit,
    Watch,
    append,
    read_lines,
    read_log,
    seal,
    seal_start,
    sha256,
    write_private,
)

__all__ = ["GHOSTS", "GRANT_MAX", "LOG_NAME", "PRICE_RANGE", "REFUSALS_KEPT",
           "REORGANIZE_CHOICES", "RESEARCH_COST", "SURVEY_SIZE", "Config", "Decisions",
           "GrantRow", "Market", "NeedsView", "RoundRow", "Team", "Workshop", "WorkshopError",
           "check_decisions", "check_team_name", "firm_specs", "read_log", "standing"]

LOG_NAME = "workshop.jsonl"
"""The decision log's file name inside ``--log DIR``."""

KEY_NAME = "facilitator.key"
"""The facilitator's key, beside the log (0600), so that ``--resume`` prints the links."""

LOCK_NAME = ".workshop.lock"
"""An empty file in the log folder; the server holds an OS lock (``flock``) on the folder
itself while it writes there, so deleting this file frees nothing."""


@dataclass
class Config:
    """What a workshop is started with (the log's first line says the same).

    ``team_cap`` (at most ``teams``; ``None``: one team a firm) and ``observer_cap`` bound
    who may join; ``password`` (``""``: none) is asked of everyone who joins.
    """

    scenario: Path | None = None
    seed: int = DEFAULT_SEED
    teams: int = 4
    round_months: int = 6
    team_cap: int | None = None
    observer_cap: int = 2
    password: str = ""


class Workshop:
    """The shared workshop: one per server process, safe to use from many sessions.

    Use :meth:`create` or :meth:`resume`; call :meth:`close` when the server stops.
    """

    def __init__(self, start: Start, folder: Path, scenario: Any,
                 records: Sequence[tuple[int, Any]], log_fd: int, lock_fd: int) -> None:
        self.start = start
        self.folder = folder
        self.scenario = scenario
        self.records: list[Any] = []
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.version = 0
        self._fd = log_fd
        self._lock_fd = lock_fd
        self._head = start.digest
        self.key: str | None = None
        """The facilitator's key, if this process knows it (``facilitator.key`` was read)."""
        self.market = Market(start, scenario)
        path = folder / LOG_NAME
        for number, record in records:  # the session's own rules, line by line
            try:
                self.market.check(record)
            except WorkshopError as exc:
                raise OutsideInError(f"{path}: line {number}: {exc}") from None
            self.market.apply(record)
            self.records.append(record)
            self._head = record.digest
        # each preset's ghost market, the teams it was built for and the records applied
        self._ghosts: dict[str, tuple[Market, list[str], int]] = {}
        self._timer: threading.Timer | None = None
        self._arm()

    # --- creating and resuming ------------------------------------------------------------
    @classmethod
    def create(cls, config: Config, folder: Path) -> Workshop:
        """Start a new workshop whose log goes to ``folder`` (new or empty of a log).

        The folder is made readable by its owner only (0700): it holds the facilitator's
        key (``facilitator.key``, 0600) and the log (0600).
        """
        scenario = _load_scenario(config.scenario)
        source = config.scenario.resolve() if config.scenario else None
        key = secrets.token_urlsafe(18)
        if config.team_cap is not None and not 1 <= config.team_cap <= config.teams:
            raise OutsideInError(f"team cap: {config.team_cap} is outside [1, {config.teams}] "
                                 "(at most one team a firm)")
        if len(config.password) > PASSWORD_MAX:
            raise OutsideInError(f"password: at most {PASSWORD_MAX} characters")
        code = _join_code()
        start = seal_start(Start(
            scenario=str(source) if source else None,
            scenario_sha256=_digest(source) if source else None, seed=config.seed,
            teams=config.teams, round_months=config.round_months, version=__version__,
            key_sha256=sha256(key), code=code, observe_code=secrets.token_urlsafe(9),
            team_cap=config.team_cap, observer_cap=config.observer_cap,
            password_sha256=_password_hash(code, config.password) if config.password
            else None))
        _private_folder(folder)
        lock_fd = _lock(folder)
        path = folder / LOG_NAME
        try:
            if path.exists() or (folder / KEY_NAME).exists():
                raise OutsideInError(f"log: {path} exists; resume that workshop with "
                                     f"--resume {folder}, or choose another --log folder")
            write_private(folder / KEY_NAME, key + "\n")
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                append(fd, start)
            except OSError as exc:
                os.close(fd)
                raise OutsideInError(f"log: cannot write {path} ({exc.strerror})") from None
        except BaseException:
            os.close(lock_fd)
            raise
        shop = cls(start, folder, scenario, [], fd, lock_fd)
        shop.key = key
        return shop

    @classmethod
    def resume(cls, folder: Path) -> Workshop:
        """Rebuild a workshop from its log: the same records give the same market.

        The log is refused, naming its line, if a record is malformed, its integrity chain
        breaks, or the session's rules refuse it (a submit for a team that never joined, a
        join to a taken firm).
        """
        path = folder / LOG_NAME
        if not path.is_file():
            raise OutsideInError(f"resume: {path} does not exist")
        lock_fd = _lock(folder)
        try:
            _private_folder(folder)
            records = read_lines(path)
            start = records[0][1]
            if start.version != __version__:
                raise OutsideInError(f"resume: the workshop was started with Outside-In "
                                     f"{start.version}, this is {__version__}; its log would "
                                     "not replay to the same market")
            if start.scenario and _digest(Path(start.scenario)) != start.scenario_sha256:
                raise OutsideInError(f"resume: the scenario file {start.scenario} has changed "
                                     "(or gone) since the workshop started; its log would not "
                                     "replay to the same market")
            scenario = _load_scenario(Path(start.scenario) if start.scenario else None)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)
            try:
                shop = cls(start, folder, scenario, records[1:], fd, lock_fd)
            except BaseException:
                os.close(fd)
                raise
        except BaseException:
            os.close(lock_fd)
            raise
        try:
            key = (folder / KEY_NAME).read_text(encoding="utf-8").strip()
        except OSError:
            key = ""
        shop.key = key if shop.check_key(key) else None
        return shop

    def close(self) -> None:
        """Close the log (the folder's lock goes with it) and stop the deadline's timer."""
        with self.lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            for fd in (self._fd, self._lock_fd):
                if fd >= 0:
                    os.close(fd)
            self._fd = self._lock_fd = -1

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
        """The team whose secret token this is (``None``: no such team, or removed).

        The token's hash is compared with every team's in constant time.
        """
        digest = sha256(str(token or ""))
        with self.lock:
            found = None
            for team in self.market.teams.values():
                if secrets.compare_digest(digest, team.token_sha256) and not team.removed:
                    found = team
            return found

    def teams(self) -> list[Team]:
        """The teams still in the workshop, in the order they joined."""
        with self.lock:
            return [t for t in self.market.teams.values() if not t.removed]

    def check_key(self, key: str | None) -> bool:
        """Whether ``key`` is the facilitator's secret (compared by hash, in constant time)."""
        return bool(key) and secrets.compare_digest(sha256(str(key)), self.start.key_sha256)

    def check_code(self, code: str | None) -> bool:
        """Whether ``code`` is the join code."""
        given = str(code or "").upper().encode("utf-8")
        return secrets.compare_digest(given, self.start.code.encode("ascii"))

    def check_observe_code(self, code: str | None) -> bool:
        """Whether ``code`` is the observers' join code."""
        given = str(code or "").encode("utf-8")
        return secrets.compare_digest(given, self.start.observe_code.encode("ascii"))

    def observer(self, token: str | None) -> str | None:
        """The name of the observer whose token this is (``None``: none)."""
        digest = sha256(str(token or ""))
        with self.lock:
            found = None
            for hashed, name in self.market.observers.items():
                if secrets.compare_digest(digest, hashed):
                    found = name
            return found

    @property
    def has_password(self) -> bool:
        """Whether joining asks for the room's password."""
        return self.start.password_sha256 is not None

    def _check_password(self, password: str) -> None:
        want = self.start.password_sha256
        if want is not None and not secrets.compare_digest(
                _password_hash(self.start.code, str(password)), want):
            raise WorkshopError("Room password: that is not it; ask the facilitator.")

    def joined(self) -> dict[str, tuple[int, int]]:
        """Each role's (joined, allowed): ``team`` and ``observer``."""
        with self.lock:
            return self.market.joined()

    def refusals(self) -> list[Any]:
        """The latest refused messages and faults (``refused`` and ``fault`` records)."""
        with self.lock:
            return list(self.market.refusals)

    def wait_for_change(self, seen: int, timeout: float) -> int:
        """Block until the version differs from ``seen`` (or ``timeout`` s); the version."""
        with self.changed:
            if self.version == seen:
                self.changed.wait(timeout)
            return self.version

    # --- acting ---------------------------------------------------------------------------
    def join(self, name: str, password: str = "") -> Team:
        """A team joins with that name and gets the first free firm.

        The returned team's ``token`` is its secret (only its hash is logged).
        """
        with self.lock:
            self._check_password(password)
            text = check_team_name(name, [t.name for t in self.market.teams.values()])
            active, cap = self.market.joined()["team"]
            if active >= cap:
                raise WorkshopError(f"The workshop is full: {active} / {cap} teams have "
                                    "joined. Ask the facilitator.")
            firm = self.market.free_firm()
            if firm is None:
                raise WorkshopError(f"The workshop is full: all {len(self.market.specs)} "
                                    "firms have a team. Ask the facilitator.")
            token = secrets.token_urlsafe(18)
            record = Join(team=text, token_sha256=sha256(token), firm=firm)
            self._commit(record)
            team = self.market.teams[record.token_sha256]
            team.token = token
            return team

    def watch(self, name: str, password: str = "") -> str:
        """An observer joins with that name; its token (only the hash is logged)."""
        with self.lock:
            self._check_password(password)
            text = check_team_name(name, list(self.market.observers.values()),
                                   "Observer name")
            token = secrets.token_urlsafe(18)
            self._commit(Watch(name=text, token_sha256=sha256(token)))
            return token

    def research(self, token: str) -> None:
        """The team buys market research for this round (:data:`RESEARCH_COST`)."""
        with self.lock:
            team = self.team(token)
            if team is None:
                raise WorkshopError("This team is not in the workshop (removed?).")
            self._commit(Research(team=team.name))

    def needs_view(self, token: str) -> NeedsView:
        """What the team of that token sees of customers' needs this round."""
        with self.lock:
            team = self.team(token)
            if team is None:
                raise WorkshopError("This team is not in the workshop (removed?).")
            return self.market.needs_view(team.name)

    def grant(self, name: str, amount: float, reason: str = "") -> None:
        """Give team ``name`` a cash grant (``amount`` > 0) or a fine (< 0).

        In months of revenue, at most :data:`GRANT_MAX` either way.
        """
        with self.lock:
            if not isinstance(name, str) or self.market.active(name) is None:
                raise WorkshopError(f"Grant: there is no team “{str(name)[:NAME_MAX]}”.")
            if not (isinstance(amount, int | float) and math.isfinite(amount)
                    and 0 < abs(amount) <= GRANT_MAX):
                raise WorkshopError(f"Grant: an amount between -{GRANT_MAX:g} and "
                                    f"{GRANT_MAX:g} months of revenue, not 0.")
            self._commit(Grant(team=name, amount=float(amount),
                               reason=str(reason).strip()[:REASON_MAX]))

    def set_deadline(self, minutes: float | None, then: str = "lock",
                     clock: Callable[[], float] = time.time) -> None:
        """The round closes in ``minutes`` (``None``: clear the deadline), then ``then``.

        ``then`` is ``lock`` (no more submissions) or ``advance`` (the round runs).
        """
        with self.lock:
            closes = None if minutes is None else clock() + 60.0 * float(minutes)
            self._commit(Deadline(closes_at=closes, then=then))  # type: ignore[arg-type]

    def _arm(self) -> None:
        """Start (or stop) the timer that closes the round at its deadline."""
        with self.lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            due = self.market.deadline
            if due is None or self._fd < 0:
                return
            wait = max(0.0, due[0] - time.time())
            self._timer = threading.Timer(wait, self._expire, args=(due,))
            self._timer.daemon = True
            self._timer.start()

    def _expire(self, due: tuple[float, str]) -> None:
        """The deadline came: log the round's lock or advance (unless it changed since)."""
        with self.lock:
            if self.market.deadline != due or self._fd < 0:
                return
            self._timer = None
            with contextlib.suppress(WorkshopError):
                self._commit(Act(kind=due[1], auto=True))  # type: ignore[arg-type]

    def submit(self, token: str, levers: Any, price: Any, reorganize: Any) -> None:
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
        """Remove a team: its link stops working; its firm keeps its last decisions.

        The firm is free for the next team that joins.
        """
        with self.lock:
            if not isinstance(name, str) or self.market.active(name) is None:
                raise WorkshopError(f"Remove: there is no team “{str(name)[:NAME_MAX]}”.")
            self._commit(Remove(team=name))

    def broadcast(self, text: str) -> None:
        """Show a message on every page."""
        with self.lock:
            clean = str(text).strip()
            if not clean:
                raise WorkshopError("Message: type something to send.")
            if len(clean) > TEXT_MAX:
                raise WorkshopError(f"Message: at most {TEXT_MAX} characters (this one has "
                                    f"{len(clean)}).")
            self._commit(Broadcast(text=clean))

    def note_refused(self, page: str, action: str, reason: str, team: str | None = None) -> None:
        """Log a message a page sent that its model refused (best effort: never raises)."""
        self._note(Refusal(page=page, team=team, action=action[:40],  # type: ignore[arg-type]
                           reason=reason[:TEXT_MAX]))

    def note_fault(self, page: str, error: str) -> None:
        """Log a fault while serving a page, for the facilitator (best effort: never raises)."""
        self._note(Fault(page=page, error=error[:TEXT_MAX]))  # type: ignore[arg-type]

    def _note(self, record: Any) -> None:
        # the log cannot be written: the page has said what went wrong already
        with contextlib.suppress(WorkshopError):
            self._commit(record)

    def act(self, kind: str) -> None:
        """One of the facilitator's actions without arguments, by its record's kind."""
        if kind not in ACTIONS:
            raise WorkshopError(f"Action: {kind!r} is not one of {', '.join(ACTIONS)}.")
        self._act(kind)

    def _act(self, kind: str) -> None:
        with self.lock:
            self._commit(Act(kind=kind))  # type: ignore[arg-type]

    def _commit(self, body: Any) -> None:
        """Check the record by the session's rules, log it (fsynced), then apply it.

        The log never lags the market: if the write fails (a full disk), the action is
        refused with one line and the market stays where the log ends.
        """
        with self.changed:
            record = seal(body, self._head)
            self.market.check(record)
            try:
                append(self._fd, record)
            except OSError as exc:
                raise WorkshopError(f"Not done: the workshop's log cannot be written "
                                    f"({exc.strerror or exc}); nothing changed. Free space on "
                                    "the disk, then try again.") from None
            self._head = record.digest
            due = self.market.deadline
            self.market.apply(record)
            self.records.append(record)
            self.version += 1
            if self.market.deadline != due:
                self._arm()
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
        is better; ``nan`` before any shock). A failed firm has no satisfaction (``nan``, as
        in its history: :func:`standing`); a ``nan`` ranks last. ``rank`` orders the teams
        by their mean rank.
        """
        with self.lock:
            return scoreboard.leaderboard(self.market)

    def ghost(self, preset: str) -> Market:
        """The market replayed with every team firm run by ``preset`` (same seed and events)."""
        with self.lock:
            joined = [r.firm for r in self.records if r.kind == "join"]
            market, built_for, applied = self._ghosts.get(preset, (None, [], 0))
            if market is None or built_for != joined:  # a team joined since: start again
                market, applied = Market(self.start, self.scenario, preset, joined), 0
            for record in self.records[applied:]:  # only what came since the last look
                if record.kind not in TEAMS_OWN:
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


TEAMS_OWN = ("submit", "research")
"""The records a ghost market leaves out: the teams' own decisions."""


def _password_hash(code: str, password: str) -> str:
    """The room password's hash, salted with the workshop's join code."""
    return sha256(f"{code}:{password}")


def _private_folder(folder: Path) -> None:
    """Make ``folder`` (and its parents) if need be, readable by its owner only (0700)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if stat.S_IMODE(folder.stat().st_mode) != 0o700:
        folder.chmod(0o700)


def _lock(folder: Path) -> int:
    """Hold an OS lock on the folder itself (not on a file that could be deleted)."""
    (folder / LOCK_NAME).touch(mode=0o600, exist_ok=True)  # says what the folder is
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise OutsideInError(f"log: {folder} is in use by another workshop server") from None
    return fd


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

