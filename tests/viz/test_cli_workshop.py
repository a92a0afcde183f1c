"""``outsidein workshop``: links printed, the log started or resumed; bad input is exit 2."""

from __future__ import annotations

import socket
import stat
from pathlib import Path
from typing import Any

import pytest

from simulation.cli import main
from simulation.params import DEFAULT_SEED
from simulation.viz import server
from simulation.viz.workshop.session import KEY_NAME, LOG_NAME, read_log


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(server, "configure", lambda *args: calls.append(("configure", *args)))
    monkeypatch.setattr(server, "run", lambda *args, **_: calls.append(("run", *args)))
    return calls


def test_a_new_workshop_prints_both_links_and_starts_its_log(
        served: list[tuple[Any, ...]], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log"
    assert main(["workshop", "freeze-up", "--teams", "5", "--round-months", "4",
                 "--port", "8898", "--log", str(log)]) == 0
    start = read_log(log / LOG_NAME)[0]
    key = (log / KEY_NAME).read_text().strip()
    out = capsys.readouterr().out
    assert f"facilitator: http://127.0.0.1:8898/?key={key}" in out
    assert key not in (log / LOG_NAME).read_text()  # the log holds the key's hash only
    assert f"join: http://127.0.0.1:8898/?join={start.code}" in out
    assert "█" in out  # the join link's QR code
    assert start.teams == 5 and start.round_months == 4 and start.scenario is not None
    assert served[-1] == ("run", 8898, "127.0.0.1")


def test_without_a_scenario_or_seed_the_workshop_starts_on_the_default_seed(
        served: list[tuple[Any, ...]], tmp_path: Path) -> None:
    assert main(["workshop", "--log", str(tmp_path / "log"), "--no-qr"]) == 0
    start = read_log(tmp_path / "log" / LOG_NAME)[0]
    assert start.scenario is None and start.seed == DEFAULT_SEED == 42


def test_resume_carries_on_with_the_same_links(served: list[tuple[Any, ...]], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log"
    assert main(["workshop", "--log", str(log), "--no-qr"]) == 0
    first = capsys.readouterr().out
    assert "█" not in first
    assert main(["workshop", "--resume", str(log), "--host", "127.0.0.2", "--no-qr"]) == 0
    again = capsys.readouterr().out
    key = (log / KEY_NAME).read_text().strip()
    assert f"?key={key}" in first and f"?key={key}" in again
    assert served[-1] == ("run", 8766, "127.0.0.2")


@pytest.mark.parametrize(("args", "word"), [
    (["--port", "80"], "--port"),
    (["--teams", "0"], "--teams"),
    (["--round-months", "0"], "--round-months"),
    (["missing.yaml"], "missing.yaml"),
    (["--resume", "nowhere"], "nowhere"),
    (["freeze-up", "--resume", "nowhere"], "--resume alone"),
])
def test_bad_input_is_one_line_and_exit_2_with_nothing_written(
        served: list[tuple[Any, ...]], capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, args: list[str], word: str) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["workshop", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and word in err and "Traceback" not in err
    assert served == [] and list(tmp_path.iterdir()) == []


def test_a_log_folder_with_a_log_is_not_overwritten(served: list[tuple[Any, ...]],
                                                    tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log"
    assert main(["workshop", "--log", str(log), "--no-qr"]) == 0
    before = (log / LOG_NAME).read_text()
    assert main(["workshop", "--log", str(log), "--no-qr"]) == 2
    assert "--resume" in capsys.readouterr().err
    assert (log / LOG_NAME).read_text() == before


def test_a_port_in_use_is_refused(served: list[tuple[Any, ...]], tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert main(["workshop", "--port", str(port), "--log", str(tmp_path / "l")]) == 2
    assert "already in use" in capsys.readouterr().err
    assert not (tmp_path / "l").exists()


def test_without_log_the_folder_goes_under_the_users_data_directory_and_is_printed(
        served: list[tuple[Any, ...]], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    checkout, data = tmp_path / "checkout", tmp_path / "data"
    checkout.mkdir()
    monkeypatch.chdir(checkout)
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    assert main(["workshop", "--no-qr"]) == 0
    assert list(checkout.iterdir()) == []  # nothing in the working directory
    folders = list((data / "outside-in" / "workshops").iterdir())
    assert len(folders) == 1 and folders[0].name.startswith("workshop-")
    assert f"log in {folders[0]}" in capsys.readouterr().out


def test_the_log_folder_and_its_files_are_readable_by_their_owner_only(
        served: list[tuple[Any, ...]], tmp_path: Path) -> None:
    log = tmp_path / "log"
    assert main(["workshop", "--log", str(log), "--no-qr"]) == 0
    assert stat.S_IMODE(log.stat().st_mode) == 0o700
    for path in log.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_a_resumed_workshop_keeps_its_pages_tickets(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    given: list[bytes] = []
    monkeypatch.setattr(server, "configure", lambda *args: None)
    monkeypatch.setattr(server, "run", lambda *args, **kw: given.append(kw["ticket_secret"]))
    for args in (["--log", str(tmp_path / "a")], ["--resume", str(tmp_path / "a")],
                 ["--log", str(tmp_path / "b")]):
        assert main(["workshop", "--no-qr", *args]) == 0
    first, resumed, other = given
    assert first == resumed != other and len(first) == 32
    ticket = server.Admission(secret=first).issue()  # a page open before the restart
    assert server.Admission(secret=resumed).valid(ticket)
    assert not server.Admission(secret=other).valid(ticket)


def test_caps_and_a_password_go_into_the_start_and_the_observers_link_is_printed(
        served: list[tuple[Any, ...]], tmp_path: Path,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "log"
    monkeypatch.setenv("OUTSIDEIN_WORKSHOP_PASSWORD", "blue sky")
    assert main(["workshop", "--teams", "4", "--team-cap", "3", "--observer-cap", "1",
                 "--port", "8897", "--log", str(log), "--no-qr"]) == 0
    start = read_log(log / LOG_NAME)[0]
    assert (start.teams, start.team_cap, start.observer_cap) == (4, 3, 1)
    assert start.password_sha256 is not None
    assert "blue sky" not in (log / LOG_NAME).read_text()
    assert f"observe: http://127.0.0.1:8897/?observe={start.observe_code}" in \
        capsys.readouterr().out


@pytest.mark.parametrize(("args", "said"), [
    (["--teams", "3", "--team-cap", "4"], "team cap: 4 is more than the 3 firms"),
    (["--observer-cap", "21"], "--observer-cap")])
def test_a_cap_that_cannot_be_is_one_line_and_exit_2(
        served: list[tuple[Any, ...]], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        args: list[str], said: str) -> None:
    assert main(["workshop", *args, "--log", str(tmp_path / "log"), "--no-qr"]) == 2
    assert said in capsys.readouterr().err
    assert not (tmp_path / "log").exists()


def test_a_resumed_workshop_takes_its_caps_and_password_from_its_log(
        served: list[tuple[Any, ...]], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log"
    assert main(["workshop", "--log", str(log), "--no-qr", "--password", "x"]) == 0
    assert main(["workshop", "--resume", str(log), "--password", "y"]) == 2
    assert "give --resume alone" in capsys.readouterr().err
