"""``outsidein app``: flags reach the server; bad input is one line and exit 2."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from simulation.cli import main
from simulation.viz import server


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(server, "serve", lambda *args: calls.append(args))
    return calls


def test_flags_reach_the_server(served: list[tuple[Any, ...]], tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["app", "--port", "8899", "--scenarios", str(tmp_path)]) == 0
    assert served == [(None, 8899, tmp_path)]
    assert "http://127.0.0.1:8899/" in capsys.readouterr().out


def test_default_port(served: list[tuple[Any, ...]]) -> None:
    assert main(["app"]) == 0
    assert served == [(None, 8765, None)]


@pytest.mark.parametrize("args, word", [
    (["app", "--port", "80"], "--port"),
    (["app", "--port", "70000"], "--port"),
    (["app", "--port", "many"], "--port"),
    (["app", "missing.yaml"], "missing.yaml"),
    (["app", "--bogus"], "--bogus"),
])
def test_bad_input_is_one_line_and_exit_2(served: list[tuple[Any, ...]],
                                         capsys: pytest.CaptureFixture[str],
                                         args: list[str], word: str) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and word in err and "Traceback" not in err
    assert served == []


def test_scenarios_must_be_a_folder(served: list[tuple[Any, ...]], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "x.yaml"
    file.write_text("a: 1\n")
    assert main(["app", "--scenarios", str(file)]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_a_port_in_use_is_refused(served: list[tuple[Any, ...]],
                                  capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert port >= 1024, "the system gave a privileged ephemeral port"
        assert main(["app", "--port", str(port)]) == 2
    assert f"port: {port} is already in use" in capsys.readouterr().err
    assert served == []


def test_configure_keeps_the_server_offline_and_local(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    for key in server.OFFLINE_ENV:
        monkeypatch.delenv(key, raising=False)
    for key in ("SOLARA_APP", "OUTSIDEIN_APP_SCENARIO", "OUTSIDEIN_APP_SCENARIOS"):
        monkeypatch.delenv(key, raising=False)
    server.configure(tmp_path / "s.yaml", tmp_path)
    import os

    assert os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "false"
    assert os.environ["SOLARA_APP"] == "simulation.viz.page"
    assert os.environ["OUTSIDEIN_APP_SCENARIO"] == str((tmp_path / "s.yaml").resolve())
    assert os.environ["OUTSIDEIN_APP_SCENARIOS"] == str(tmp_path.resolve())
    assert server.HOST == "127.0.0.1"


def test_a_scenario_that_does_not_load_is_refused(served: list[tuple[Any, ...]],
                                                  tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from simulation.errors import OutsideInError
    from simulation.viz import scenarios

    def load(path: Path) -> Any:
        raise OutsideInError(f"{path}:3: market.turbulence: 2.0 is outside [0, 0.5]")

    monkeypatch.setattr(scenarios, "load", load)
    bad = tmp_path / "bad.yaml"
    bad.write_text("market: {turbulence: 2.0}\n")
    assert main(["app", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {bad}:3: market.turbulence: 2.0 is outside [0, 0.5]"
    assert served == []


def test_a_real_broken_scenario_is_refused_with_the_scenario_layers_words(
        served: list[tuple[Any, ...]], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: Bad\n")
    assert main(["app", str(bad)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()  # every mistake, one line each
    assert lines[0] == f"error: {bad}: description: is required (the situation, in plain " \
        "language)"
    assert lines[-1].startswith(f"error: {bad}: firms: is required")
    assert served == []


def test_a_shipped_scenario_may_be_named(served: list[tuple[Any, ...]]) -> None:
    from simulation.scenario_files import resolve

    assert main(["app", "freeze-up"]) == 0
    assert served == [(resolve("freeze-up"), 8765, None)]
    assert served[0][0].name == "freeze-up.yaml"


def test_an_unknown_scenario_name_is_one_line_with_a_suggestion(
        served: list[tuple[Any, ...]], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["app", "freeze-upp"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "freeze-up" in err
    assert served == []
