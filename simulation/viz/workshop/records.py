"""The workshop's decision log: its records, their integrity chain, reading and writing.

``workshop.jsonl`` holds one JSON object a line, in the order things happened. The first
line is a :class:`Start`; every other line is one of :data:`Record`'s kinds. Every line
carries two hashes (SHA-256, hex):

``digest``
    the hash of the record itself: its canonical JSON (keys sorted, no spaces) without
    ``digest``;
``prev``
    the ``digest`` of the line before; on the start line, the hash of the workshop's
    settings (:func:`settings_digest`: seed, teams, months a round, scenario and its hash,
    version, join code, the key's hash).

So an edited value, a duplicated, dropped or swapped line, or a changed setting breaks the
chain at a line :func:`read_log` names, and a resumed workshop never replays silently into a
different market. The chain detects changes; it does not stop someone who recomputes it,
which is why the folder is readable by its owner only (0700, files 0600).

Secrets stay out of the log: a team's token and the facilitator's key are kept as their
SHA-256 (``token_sha256``, ``key_sha256``); the key itself is in ``facilitator.key`` beside
the log (so that ``--resume`` can print the links again), never in the log.

Each record is written with one ``write`` and ``fsync``; a failed write (a full disk) is cut
back to the last whole record (:func:`append`), so the log always ends at a state the room
saw.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from simulation.errors import OutsideInError
from simulation.viz.workshop.messages import (
    GRANT_MAX,
    NAME_MAX,
    REASON_MAX,
    TEXT_MAX,
    Action,
    CloseThen,
    Decisions,
    describe,
)

FORMAT = 3
"""The log's format; a log of another format is refused on resume."""

Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
"""A SHA-256 digest, hex."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    prev: Hex = "0" * 64
    digest: Hex = "0" * 64


class Start(_Record):
    """The first line: what the market is made of, and the hash of the facilitator's key."""

    kind: Literal["start"] = "start"
    format: Literal[3] = 3
    scenario: str | None
    scenario_sha256: str | None = None
    version: str | None = None
    seed: int = Field(ge=0, lt=2**63)
    teams: int = Field(ge=1, le=60)
    round_months: int = Field(ge=1, le=120)
    key_sha256: Hex
    code: str = Field(min_length=4, max_length=16, pattern=r"^[A-Z0-9]+$")
    observe_code: str = Field(min_length=4, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    """The observers' join code (their link: ``?observe=CODE``)."""
    team_cap: int | None = Field(default=None, ge=1, le=60)
    """Most teams at once (``None``: one a firm)."""
    observer_cap: int = Field(default=2, ge=0, le=20)
    """Most observers."""
    password_sha256: Hex | None = None
    """The room password's hash, salted with the join code (``None``: no password)."""


class Join(_Record):
    """A team took a firm (the first free one, by the session's rule)."""

    kind: Literal["join"] = "join"
    team: str = Field(min_length=1, max_length=NAME_MAX)
    token_sha256: Hex
    firm: str = Field(min_length=1, max_length=200)


class Watch(_Record):
    """An observer joined (read-only: sees every team, changes nothing)."""

    kind: Literal["observer"] = "observer"
    name: str = Field(min_length=1, max_length=NAME_MAX)
    token_sha256: Hex


class Submit(_Record):
    """A team submitted its decisions for the current round."""

    kind: Literal["submit"] = "submit"
    team: str = Field(min_length=1, max_length=NAME_MAX)
    decisions: Decisions


class Act(_Record):
    """A facilitator's action without arguments (``auto``: the round's deadline did it)."""

    kind: Action
    auto: bool = False


class Deadline(_Record):
    """The round closes at ``closes_at`` (seconds since the epoch), then locks or advances.

    ``closes_at`` ``None`` clears the deadline. When the time comes the server logs the
    ``lock`` or ``advance`` itself (``auto``), so a replay needs no clock.
    """

    kind: Literal["deadline"] = "deadline"
    closes_at: float | None = Field(ge=0, allow_inf_nan=False)
    then: CloseThen = "lock"


class Grant(_Record):
    """A cash grant (positive) or fine (negative) for one team, in months of revenue."""

    kind: Literal["grant"] = "grant"
    team: str = Field(min_length=1, max_length=NAME_MAX)
    amount: float = Field(ge=-GRANT_MAX, le=GRANT_MAX, allow_inf_nan=False)
    reason: str = Field(default="", max_length=REASON_MAX)


class Research(_Record):
    """A team bought market research for the current round (its cash pays for it)."""

    kind: Literal["research"] = "research"
    team: str = Field(min_length=1, max_length=NAME_MAX)


class Remove(_Record):
    """The facilitator removed a team; its last decisions run its firm until a team joins."""

    kind: Literal["remove"] = "remove"
    team: str = Field(min_length=1, max_length=NAME_MAX)


class Broadcast(_Record):
    """A message from the facilitator to every page."""

    kind: Literal["broadcast"] = "broadcast"
    text: str = Field(min_length=1, max_length=TEXT_MAX)


class Refusal(_Record):
    """A message from a page that its action's model refused (nothing changed)."""

    kind: Literal["refused"] = "refused"
    page: Literal["join", "team", "facilitator", "observer", "none"]
    team: str | None = Field(default=None, max_length=NAME_MAX)
    action: str = Field(max_length=40)
    reason: str = Field(max_length=TEXT_MAX)


class Fault(_Record):
    """Something went wrong while serving a page (the page said so; nothing changed)."""

    kind: Literal["fault"] = "fault"
    page: Literal["join", "team", "facilitator", "observer", "none"]
    error: str = Field(max_length=TEXT_MAX)


Record = Annotated[Start | Join | Watch | Submit | Act | Deadline | Grant | Research | Remove
                   | Broadcast | Refusal | Fault, Field(discriminator="kind")]
_RECORD: TypeAdapter[Any] = TypeAdapter(Record)

SETTINGS = ("format", "scenario", "scenario_sha256", "version", "seed", "teams",
            "round_months", "key_sha256", "code", "observe_code", "team_cap", "observer_cap",
            "password_sha256")
"""The start record's fields its ``prev`` hashes."""


def sha256(text: str) -> str:
    """The SHA-256 of a text's UTF-8 bytes, hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def settings_digest(start: Start) -> str:
    """The hash of a workshop's settings: what its start record's ``prev`` holds."""
    data = start.model_dump(mode="json")
    return sha256(_canonical({k: data[k] for k in SETTINGS}))


def digest_of(record: Any) -> str:
    """The hash of a record without its ``digest`` field."""
    data = record.model_dump(mode="json")
    data.pop("digest")
    return sha256(_canonical(data))


def seal(record: Any, prev: str) -> Any:
    """The record chained after ``prev`` (the previous record's digest), with its digest."""
    chained = record.model_copy(update={"prev": prev})
    return chained.model_copy(update={"digest": digest_of(chained)})


def seal_start(start: Start) -> Start:
    """The start record with its settings' hash and its digest."""
    return seal(start, settings_digest(start))  # type: ignore[no-any-return]


def line(record: Any) -> str:
    """A record as its line of the log (with the newline)."""
    return json.dumps(record.model_dump(mode="json"), sort_keys=True, allow_nan=False) + "\n"


def read_log(path: Path) -> list[Any]:
    """The records of a log, each validated and its chain checked (see :func:`read_lines`)."""
    return [record for _, record in read_lines(path)]


def read_lines(path: Path) -> list[tuple[int, Any]]:
    """The records of a log and their line numbers, each validated and its chain checked.

    Raises:
        OutsideInError: one line naming the file, the line and what is wrong with it.

    """
    records: list[tuple[int, Any]] = []
    head = ""
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise OutsideInError(f"{path}: cannot be read ({exc})") from None
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            raise OutsideInError(f"{path}: line {number}: an empty line (the log was edited)")
        where = f"{path}: line {number}"
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, ValueError) as exc:  # ValueError: an int too long
            raise OutsideInError(f"{where}: not a JSON record ({exc})") from None
        if number == 1 and isinstance(data, dict) and data.get("format") != FORMAT:
            raise OutsideInError(f"{where}: a log of format {data.get('format', 1)!r}, this "
                                 f"Outside-In reads format {FORMAT}; it cannot be resumed")
        try:
            record = _RECORD.validate_python(data)
        except ValidationError as exc:
            raise OutsideInError(f"{where}: {describe(exc)}") from None
        if (number == 1) != (record.kind == "start"):
            raise OutsideInError(f"{where}: the first line, and only it, must be the "
                                 "workshop's start")
        expected = settings_digest(record) if number == 1 else head
        if record.prev != expected:
            said = ("the workshop's settings were changed" if number == 1 else
                    "it does not follow the line before (a line was edited, added, removed "
                    "or moved)")
            raise OutsideInError(f"{where}: the integrity chain breaks: {said}")
        if digest_of(record) != record.digest:
            raise OutsideInError(f"{where}: its digest does not match its content (the line "
                                 "was edited)")
        head = record.digest
        records.append((number, record))
    if not records:
        raise OutsideInError(f"{path}: the log is empty")
    if not text.endswith("\n"):
        raise OutsideInError(f"{path}: line {len(records)}: the last line is cut short")
    return records


def append(fd: int, record: Any) -> None:
    """Write one record to the log open at ``fd`` and ``fsync`` it; all or nothing.

    Raises:
        OSError: the write failed (a full disk); the file is cut back to where it was, so it
            still ends with the last whole record.

    """
    data = line(record).encode("utf-8")
    size = os.fstat(fd).st_size
    try:
        written = os.write(fd, data)
        if written != len(data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        os.fsync(fd)
    except OSError:
        # if even this fails, read_log refuses the cut line: a torn record never replays
        with contextlib.suppress(OSError):
            os.ftruncate(fd, size)
        raise


def write_private(path: Path, text: str) -> None:
    """Write a new file readable by its owner only (0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
