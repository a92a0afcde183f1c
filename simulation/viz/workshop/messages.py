"""What a workshop page may send: one pydantic model per action, checked at the boundary.

A page's widgets talk to the server over a websocket, and what arrives there is whatever the
other end chose to send: a slider can carry a string, a list, or an int of 400 digits, and a
select can carry a choice it never offered. Nothing from a page touches the shared session
before it has been parsed by the model of its action:

========================  ==================================  =============================
action                    model                               sent by
========================  ==================================  =============================
open a page               :class:`Query`                      every page (the address)
type a team name, join    :class:`JoinMessage`                the join page
move a lever's slider     :class:`LeverMessage`               a team's page
type the price            :class:`PriceMessage`               a team's page
choose "reorganize to…"   :class:`ReorganizeMessage`          a team's page
submit the round          :class:`Decisions`                  a team's page
buy market research       :class:`ResearchMessage`            a team's page
advance, shock, lock…     :class:`ActMessage`                 the facilitator's console
set a round's deadline    :class:`DeadlineMessage`            the facilitator's console
grant or fine a team      :class:`GrantMessage`               the facilitator's console
remove a team             :class:`RemoveMessage`              the facilitator's console
type, send a broadcast    :class:`DraftMessage`,              the facilitator's console
                          :class:`BroadcastMessage`
========================  ==================================  =============================

Every message that changes the market names the ``role`` of the page that sends it (the page
knows it from its address's secret), and its model lists the roles that may send it: an
observer's page (read-only) sending any of them is refused by the model itself.

:func:`parse` turns a refusal into :class:`RefusedError`, whose text is one line naming the
field, what was wrong and what is allowed; the page shows it and the session logs it as a
``refused`` record (``docs/workshop-log.md`` describes the log). :class:`Decisions` is also what
a ``submit`` record of the log holds, so a replayed log is checked by the same rules.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from simulation.errors import OutsideInError
from simulation.params import LEVERS, PARAMETERS

NAME_MAX = 30
"""Most characters in a team name."""

TEXT_MAX = 300
"""Most characters in a broadcast message."""

SECRET_MAX = 64
"""Most characters in a secret of an address (a key, a join code, a team's token)."""

Preset = Literal["inside_out", "outside_in"]
"""The presets a team may reorganize to whole (and the debrief's ghosts)."""

GHOSTS: tuple[str, ...] = get_args(Preset)
"""The presets the debrief sets every team against."""

Reorganize = Literal["", "inside_out", "outside_in"]
"""A team's "reorganize to…" choice: nothing (the sliders), or a preset whole."""

REORGANIZE_CHOICES: tuple[str, ...] = get_args(Reorganize)

Action = Literal["advance", "shock", "disruptor", "lock", "reopen", "practice", "reset"]
"""The facilitator's actions without arguments (``practice``: the rounds until ``reset``
are a practice; ``reset``: back to month 0, same teams, same firms)."""

ACTIONS: tuple[str, ...] = get_args(Action)

Role = Literal["facilitator", "team", "observer"]
"""Who a page is for: the facilitator's console, a team's page, an observer's (read-only)."""

ROLES: tuple[str, ...] = get_args(Role)

CloseThen = Literal["lock", "advance"]
"""What a round's deadline does when it comes: lock the round, or run it."""

GRANT_MAX = 3.0
"""The largest grant or fine, in months of revenue (one firm's fair share of revenue)."""

REASON_MAX = 100
"""Most characters in a grant's or fine's reason."""

DEADLINE_MINUTES = (0.05, 240.0)
"""The shortest and longest deadline of a round, in minutes (3 s to 4 hours)."""

PASSWORD_MAX = 64
"""Most characters in a room password."""


def _price_bounds() -> tuple[float, float]:
    b = PARAMETERS["price"].metadata["bound"]
    return float(b.low), float(b.high)


PRICE_RANGE = _price_bounds()
"""The prices a team may set (the model's bound on a firm's price)."""


class WorkshopError(OutsideInError):
    """A request the workshop refuses; its text is shown on the page that asked."""


class RefusedError(WorkshopError):
    """A message from a page that its action's model refused; the text is one line.

    A page no person could have sent it from (its widgets offer no such value), so it is
    logged as well as shown.
    """


def _lever_name(name: str) -> str:
    if name not in LEVERS:
        raise ValueError(f"is not a lever; levers are {', '.join(LEVERS)}")
    return name


def _ascii_secret(text: str) -> str:
    if not text.isascii() or not text.isprintable():
        raise ValueError("must be printable ASCII")
    return text


LeverName = Annotated[str, AfterValidator(_lever_name)]
Unit = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Price = Annotated[float, Field(ge=PRICE_RANGE[0], le=PRICE_RANGE[1], allow_inf_nan=False)]
Secret = Annotated[str, Field(max_length=SECRET_MAX), AfterValidator(_ascii_secret)]


class _Message(BaseModel):
    # strict: a string is not a number, a number is not a string, True is not 1
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Query(_Message):
    """The address's query: which page, and the secret that opens it."""

    key: Secret | None = None
    join: Secret | None = None
    team: Secret | None = None
    observe: Secret | None = None
    """The observers' join code."""
    observer: Secret | None = None
    """An observer's token (given when the observer joins)."""
    view: Literal["debrief"] | None = None


class JoinMessage(_Message):
    """A team (or an observer) asks to join with a name, and the room's password if any.

    The session's rules then check the name, the password and the role's cap.
    """

    name: str = Field(max_length=4 * NAME_MAX)
    password: str = Field(default="", max_length=PASSWORD_MAX)


class _Acting(_Message):
    """A message that changes the market: it names the role of the page that sent it."""

    ROLES: ClassVar[tuple[str, ...]] = ("facilitator",)
    role: Role

    @field_validator("role", mode="after")
    @classmethod
    def _may_send(cls, role: str) -> str:
        if role not in cls.ROLES:
            raise ValueError(f"the {role}'s page may not send this (read-only for the "
                             f"{role}; only the {' or '.join(cls.ROLES)} may)")
        return role


class LeverMessage(_Message):
    """A lever's slider moved."""

    lever: LeverName
    value: Unit


class PriceMessage(_Message):
    """The price as typed (checked as a number when the team submits)."""

    text: str = Field(max_length=32)


class ReorganizeMessage(_Message):
    """The "reorganize to…" choice (``None``: the select was cleared)."""

    choice: Reorganize | None


class Decisions(_Message):
    """What a team decided for a round: every lever, a price, and perhaps a preset to move to.

    The model of a Submit click and of a ``submit`` record of the log.
    """

    levers: dict[LeverName, Unit]
    price: Price
    reorganize: Reorganize = ""

    @field_validator("levers", mode="after")
    @classmethod
    def _every_lever(cls, levers: dict[str, float]) -> dict[str, float]:
        """Every lever must have a value (a missing one would keep a stale value)."""
        missing = [lever for lever in LEVERS if lever not in levers]
        if missing:
            raise ValueError(f"no value for {missing[0]}")
        return {lever: float(levers[lever]) for lever in LEVERS}  # in the levers' order


class SubmitMessage(_Acting):
    """A team's Submit click: its decisions for the round."""

    ROLES: ClassVar[tuple[str, ...]] = ("team",)
    decisions: Decisions


class ResearchMessage(_Acting):
    """A team buys market research for this round."""

    ROLES: ClassVar[tuple[str, ...]] = ("team",)


class ActMessage(_Acting):
    """A facilitator's action without arguments."""

    kind: Action


class DeadlineMessage(_Acting):
    """The round closes in ``minutes`` (``None``: no deadline), then locks or advances."""

    minutes: Annotated[float, Field(ge=DEADLINE_MINUTES[0], le=DEADLINE_MINUTES[1],
                                    allow_inf_nan=False)] | None
    then: CloseThen = "lock"


class GrantMessage(_Acting):
    """A cash grant (positive) or fine (negative) for one team, in months of revenue."""

    team: str = Field(min_length=1, max_length=NAME_MAX)
    amount: Annotated[float, Field(ge=-GRANT_MAX, le=GRANT_MAX, allow_inf_nan=False)]
    reason: str = Field(default="", max_length=REASON_MAX)

    @field_validator("amount", mode="after")
    @classmethod
    def _not_zero(cls, amount: float) -> float:
        if amount == 0:
            raise ValueError("a grant or fine of 0 changes nothing")
        return amount


class RemoveMessage(_Acting):
    """The facilitator removes a team, by name."""

    team: str = Field(min_length=1, max_length=NAME_MAX)


class DraftMessage(_Message):
    """The broadcast message as typed (the Broadcast button checks its length)."""

    text: str = Field(max_length=4 * TEXT_MAX)


class BroadcastMessage(_Acting):
    """A message for every page."""

    text: str = Field(min_length=1, max_length=TEXT_MAX)


def parse[M: BaseModel](model: type[M], **fields: Any) -> M:
    """``model`` validated from ``fields``, or :class:`RefusedError` with one line saying why.

    The line names the field, what was wrong, and the value (shortened: a value is never
    echoed whole, whatever its size).
    """
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise RefusedError(describe(exc)) from None


_NUMBERS = {"coordination": (0.0, 1.0), "cooperation": (0.0, 1.0), "clout": (0.0, 1.0),
            "capability": (0.0, 1.0), "connections": (0.0, 1.0), "price": PRICE_RANGE,
            "amount": (-GRANT_MAX, GRANT_MAX), "minutes": DEADLINE_MINUTES}
"""The numbers a person sets, by field, and their ranges (for a message in their words)."""


def describe(exc: ValidationError) -> str:
    """One line for a validation error: the field, what is wrong, the value (shortened).

    A lever or the price is named as the page names it: ``Clout: 1.5 is not a number in
    [0, 1].``
    """
    error = exc.errors(include_url=False)[0]
    loc = [str(p) for p in error["loc"]]
    said = _first_line(str(error["msg"])).removeprefix("Value error, ")
    value = error.get("input")
    if loc and loc[-1] == "[key]":  # a key of a mapping (a lever's name): name the key
        return f"{loc[-2][:30].capitalize()}: {said}."
    field = loc[-1] if loc else ""
    if field in _NUMBERS:
        label = field.capitalize()
        if error["type"] in ("value_error",):
            return f"{label}: {said}."
        low, high = _NUMBERS[field]
        return f"{label}: {_shorten(value)} is not a number in [{low:g}, {high:g}]."
    if loc and loc[-1] == "levers" and error["type"] == "value_error":
        return f"Levers: {said}."
    where = ".".join(loc) or "message"
    return f"{where}: {said} (got {_shorten(value)})."


def _shorten(value: Any, most: int = 40) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**12:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    text = repr(value)
    return text if len(text) <= most else f"{text[:most]}… ({type(value).__name__})"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "refused"
