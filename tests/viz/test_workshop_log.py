"""The workshop's log is checked on replay: its chain, its records, the session's own rules.

Each case here once resumed silently into a different market or showed a traceback; now
each is one line naming the file and the line. Also: a full disk on Advance refuses the
action and leaves the log and the market where they were; the folder's lock survives its
lock file being deleted; secrets are hashed in the log.
"""

from __future__ import annotations

import errno
import json
import os
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from simulation.errors import OutsideInError
from simulation.params import LEVERS
from simulation.viz.workshop import records
from simulation.viz.workshop.records import (
    Act,
    Join,
    Remove,
    Start,
    Submit,
    line,
    seal,
    seal_start,
    sha256,
)
from simulation.viz.workshop.session import (
    LOCK_NAME,
    LOG_NAME,
    Config,
    Decisions,
    Workshop,
    WorkshopError,
)


@pytest.fixture
def played(tmp_path: Path) -> Iterator[Path]:
    """A log of two teams, a submit (coordination 0.3, price 1.2) and two rounds."""
    shop = Workshop.create(Config(teams=3, round_months=2, seed=5), tmp_path / "log")
    red, _ = shop.join("Red"), shop.join("Blue")
    shop.submit(red.token, {**red.decisions.levers, "coordination": 0.3}, 1.2, "")
    shop.advance()
    shop.advance()
    shop.close()
    yield tmp_path / "log"


def lines_of(folder: Path) -> list[str]:
    return (folder / LOG_NAME).read_text().splitlines()


def rewrite(folder: Path, lines: list[str]) -> None:
    (folder / LOG_NAME).write_text("\n".join(lines) + "\n")


def _edit_submit(old: str, new: str) -> Callable[[list[str]], list[str]]:
    def edit(lines: list[str]) -> list[str]:
        n = next(i for i, t in enumerate(lines) if '"submit"' in t)
        assert old in lines[n]
        return [*lines[:n], lines[n].replace(old, new), *lines[n + 1:]]
    return edit


def _edit_start(field: str, value: Any) -> Callable[[list[str]], list[str]]:
    def edit(lines: list[str]) -> list[str]:
        return [json.dumps({**json.loads(lines[0]), field: value}), *lines[1:]]
    return edit


def _duplicate_last(lines: list[str]) -> list[str]:
    return [*lines, lines[-1]]


def _swap_advances(lines: list[str]) -> list[str]:
    return [*lines[:-2], lines[-1], lines[-2]]


def _second_join_to_first_firm(lines: list[str]) -> list[str]:
    first = json.loads(lines[1])
    second = json.loads(lines[2])
    return [lines[0], lines[1], json.dumps({**second, "firm": first["firm"]}), *lines[3:]]


@pytest.mark.parametrize(("edit", "said"), [
    (_edit_submit('"coordination": 0.3', '"coordination": 0.35'), "line 4: its digest"),
    (_edit_submit('"price": 1.2', '"price": 1000000.0'), "line 4: Price: 1000000.0 is not"),
    (_edit_submit('"price": 1.2', '"price": NaN'), "line 4: Price: nan is not a number"),
    (_duplicate_last, "line 7: the integrity chain breaks"),
    (_swap_advances, "line 5: the integrity chain breaks"),
    (_edit_start("seed", 6), "line 1: the integrity chain breaks: the workshop's settings"),
    (_edit_start("round_months", 3), "line 1: the integrity chain breaks"),
    (_edit_start("teams", 1), "line 1: the integrity chain breaks"),
    (_second_join_to_first_firm, "line 3: its digest"),
])
def test_an_edited_log_is_refused_naming_its_line(played: Path, edit: Any, said: str) -> None:
    rewrite(played, edit(lines_of(played)))
    with pytest.raises(OutsideInError, match=said) as caught:
        Workshop.resume(played)
    assert str(caught.value).startswith(str(played / LOG_NAME))
    assert len(str(caught.value).splitlines()) == 1


def chained(start: Start, *bodies: Any) -> list[str]:
    """A log whose chain is whole (as someone recomputing it would write it)."""
    head = seal_start(start)
    out = [line(head).rstrip("\n")]
    for body in bodies:
        head = seal(body, head.digest)
        out.append(line(head).rstrip("\n"))
    return out


def _start(teams: int = 2) -> Start:
    return Start(scenario=None, seed=1, teams=teams, round_months=2,
                 version=__import__("simulation").__version__, key_sha256=sha256("k" * 24),
                 code="ABCDEF", observe_code="observers")


def _decisions() -> Decisions:
    return Decisions(levers={k: 0.5 for k in LEVERS}, price=1.0)


def _join(team: str, firm: str) -> Join:
    return Join(team=team, token_sha256=sha256(team), firm=firm)


@pytest.mark.parametrize(("bodies", "teams", "said"), [
    ([Submit(team="Red", decisions=_decisions())], 2, "line 2: submit: there is no team “Red”"),
    ([Remove(team="Red")], 2, "line 2: remove: there is no team “Red”"),
    ([_join("Red", "focal"), _join("Blue", "focal")], 2,
     "line 3: join: team “Blue” takes firm 'focal', but the next free firm is"),
    ([_join("Red", "focal"), _join("Blue", "rival"), _join("Green", "rival")], 2,
     "line 4: The workshop is full"),
    ([_join("Red", "focal"), _join("red", "rival")], 2, "line 3: Team name: “red” is taken"),
    ([_join("Red", "focal"), Remove(team="Red"), Submit(team="Red", decisions=_decisions())], 2,
     "line 4: submit: there is no team “Red”"),
    ([_join("Red", "focal"), Submit(team="Red", decisions=_decisions()),
      Submit(team="Red", decisions=_decisions())], 2, "line 4: .*already in"),
    ([_join("Red", "focal"), Act(kind="lock"), Submit(team="Red", decisions=_decisions())], 2,
     "line 4: Round 1 is locked"),
])
def test_a_log_the_sessions_rules_refuse_is_one_line_naming_it(
        tmp_path: Path, bodies: list[Any], teams: int, said: str) -> None:
    folder = tmp_path / "log"
    folder.mkdir()
    rewrite(folder, chained(_start(teams), *bodies))
    with pytest.raises(OutsideInError, match=said) as caught:
        Workshop.resume(folder)
    assert len(str(caught.value).splitlines()) == 1


def test_a_submit_without_a_lever_is_refused_on_replay(played: Path) -> None:
    def drop_clout(lines: list[str]) -> list[str]:
        n = next(i for i, t in enumerate(lines) if '"submit"' in t)
        data = json.loads(lines[n])
        del data["decisions"]["levers"]["clout"]
        return [*lines[:n], json.dumps(data), *lines[n + 1:]]

    rewrite(played, drop_clout(lines_of(played)))
    with pytest.raises(OutsideInError, match="line 4: Levers: no value for clout"):
        Workshop.resume(played)


@pytest.mark.parametrize("cut", ["torn", "garbage", "unknown kind", "empty line"])
def test_a_damaged_log_is_still_refused(played: Path, cut: str) -> None:
    lines = lines_of(played)
    text = {"torn": "\n".join(lines)[:-7],
            "garbage": "\n".join([*lines, "\x00\x01 not json"]) + "\n",
            "unknown kind": "\n".join([*lines, '{"kind": "launch"}']) + "\n",
            "empty line": "\n".join([*lines[:2], "", *lines[2:]]) + "\n"}[cut]
    (played / LOG_NAME).write_text(text)
    with pytest.raises(OutsideInError, match=r"line \d+"):
        Workshop.resume(played)


def test_an_untouched_log_resumes_to_the_same_market(played: Path) -> None:
    shop = Workshop.resume(played)
    try:
        assert shop.month == 4 and shop.round == 3
        assert [t.name for t in shop.teams()] == ["Red", "Blue"]
        assert shop.history()["Red"][0].decisions.levers["coordination"] == 0.3
    finally:
        shop.close()


class _FullDisk:
    """``os`` with a disk that fills up: ``write`` puts half the bytes down, then fails."""

    def __init__(self) -> None:
        self.full = True

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def write(self, fd: int, data: bytes) -> int:
        if not self.full:
            return os.write(fd, data)
        os.write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_on_advance_refuses_it_and_a_resume_restarts_where_the_room_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "log"
    shop = Workshop.create(Config(teams=2, round_months=3), folder)
    shop.join("Red")
    shop.advance()
    before = (folder / LOG_NAME).read_bytes()
    disk = _FullDisk()
    monkeypatch.setattr(records, "os", types.SimpleNamespace(
        write=disk.write, fstat=os.fstat, fsync=os.fsync, ftruncate=os.ftruncate))
    with pytest.raises(WorkshopError) as caught:
        shop.advance()
    said = str(caught.value)
    assert len(said.splitlines()) == 1 and "No space left on device" in said
    assert "nothing changed" in said
    assert shop.month == 3 and shop.round == 2  # the market stayed where the log ends
    assert (folder / LOG_NAME).read_bytes() == before  # the half record is cut off
    disk.full = False  # space freed: the same button works
    shop.advance()
    assert shop.month == 6
    shop.close()
    again = Workshop.resume(folder)
    try:
        assert again.month == 6 and again.round == 3
    finally:
        again.close()


def test_a_full_disk_when_the_room_stops_resumes_at_the_last_logged_state(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "log"
    shop = Workshop.create(Config(teams=2, round_months=3), folder)
    shop.join("Red")
    shop.advance()
    disk = _FullDisk()
    monkeypatch.setattr(records, "os", types.SimpleNamespace(
        write=disk.write, fstat=os.fstat, fsync=os.fsync, ftruncate=os.ftruncate))
    for _ in range(3):
        with pytest.raises(WorkshopError):
            shop.advance()
    shop.close()
    monkeypatch.undo()
    again = Workshop.resume(folder)
    try:
        assert again.month == shop.month == 3
    finally:
        again.close()


def test_deleting_the_lock_file_does_not_let_a_second_server_in(tmp_path: Path) -> None:
    shop = Workshop.create(Config(), tmp_path / "log")
    try:
        (tmp_path / "log" / LOCK_NAME).unlink()
        with pytest.raises(OutsideInError, match="in use"):
            Workshop.resume(tmp_path / "log")
    finally:
        shop.close()
    Workshop.resume(tmp_path / "log").close()  # once the server stops, it resumes


def test_the_log_holds_hashes_of_secrets_never_the_secrets(played: Path) -> None:
    shop = Workshop.resume(played)
    try:
        red = shop.join("Green")
        text = (played / LOG_NAME).read_text()
        assert red.token and red.token not in text and shop.key and shop.key not in text
        assert sha256(red.token) in text and sha256(shop.key) in text
        assert shop.team(red.token) is red and shop.team(sha256(red.token)) is None
        assert shop.check_key(shop.key) and not shop.check_key(sha256(shop.key))
        assert not shop.check_key("é") and not shop.check_code("é")  # no TypeError
    finally:
        shop.close()


def test_a_removed_team_frees_its_firm_for_the_next_join_and_the_replay(
        tmp_path: Path) -> None:
    folder = tmp_path / "log"
    shop = Workshop.create(Config(teams=2, round_months=2), folder)
    squatter = shop.join("Squatter")
    shop.join("Other")
    with pytest.raises(WorkshopError, match="full"):
        shop.join("Real")
    shop.remove("Squatter")
    real = shop.join("Real")
    assert real.firm == squatter.firm
    shop.advance()
    assert [t.name for t in shop.teams()] == ["Other", "Real"]
    assert len(shop.history()["Real"]) == 1 and shop.history()["Squatter"] == []
    shop.close()
    again = Workshop.resume(folder)
    try:
        assert [t.name for t in again.teams()] == ["Other", "Real"] and again.month == 2
    finally:
        again.close()
