"""The app's server on its own: offline, read-only assets, a quiet start, loopback only.

These talk HTTP to a real ``outsidein app`` (no browser), which runs under ``netguard``: a
name lookup or connection beyond this machine fails the test that started it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulation.viz import server as app_server_module
from tests.viz.browser import ROOT, app_server

ASSET_FOLDER = "@widgetti/solara-vuetify-app@10.1.1/dist"


def status(url: str, method: str = "GET") -> int:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, Any]]:
    output: list[str] = []
    with app_server(output=output) as (url, _):
        yield {"url": url, "output": output}


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_a_get_on_an_asset_folder_deletes_nothing(served: dict[str, Any]) -> None:
    assets = app_server_module.assets_folder()
    before = files_under(assets)
    assert (assets / ASSET_FOLDER).is_dir()
    base = served["url"] + "_solara/cdn/"
    assert status(base + ASSET_FOLDER) == 404
    assert status(base + ASSET_FOLDER + "/") == 404
    assert status(base + ASSET_FOLDER, "DELETE") == 405
    assert status(base + "../../../etc/passwd") == 404
    assert status(base + ASSET_FOLDER + "/main8.css") == 200
    assert files_under(assets) == before


def test_a_missing_asset_is_a_404_and_is_never_fetched(served: dict[str, Any]) -> None:
    # katex is what solara's markdown asks its CDN for; the page no longer needs it, and a
    # request for it must not make the server go online (netguard fails the module if so)
    assert status(served["url"] + "_solara/cdn/katex@0.16.9/dist/katex.min.css") == 404


def test_the_page_needs_nothing_from_outside(served: dict[str, Any]) -> None:
    with urllib.request.urlopen(served["url"], timeout=10) as response:
        html = response.read().decode()
    addresses = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert addresses, "the page names no assets"
    outside = [a for a in addresses if re.match(r"^(https?:)?//", a)]
    assert outside == []
    assert "katex" not in html and "jsdelivr" not in html
    for address in addresses:
        if address.startswith("/"):
            assert status(served["url"] + address.lstrip("/")) == 200, address


def test_a_clean_start_prints_no_warnings() -> None:
    output: list[str] = []
    with app_server(output=output) as (url, _), \
            urllib.request.urlopen(url, timeout=10) as response:  # runs solara's cookie code
        assert response.status == 200
    lines = [line for line in output[0].splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Outside-In app at http://127.0.0.1:"), lines


def test_the_server_cannot_start_with_the_asset_proxy_on(monkeypatch: pytest.MonkeyPatch,
                                                         ) -> None:
    import solara.settings

    from simulation.errors import OutsideInError

    monkeypatch.setattr(solara.settings.assets, "proxy", True)
    with pytest.raises(OutsideInError, match="proxy is on"):
        app_server_module.build_app()


GUARDED = """
import socket, sys
from tests.viz.netguard import install
install(sys.argv[1])
for attempt in (lambda: socket.getaddrinfo("example.invalid", 80),
                lambda: socket.create_connection(("192.0.2.1", 80), timeout=0.05),
                lambda: socket.getaddrinfo("127.0.0.1", 80),
                lambda: socket.getaddrinfo("localhost", 80)):
    try:
        attempt()
    except OSError:
        pass
"""


def test_the_network_guard_records_attempts_beyond_loopback_only(tmp_path: Path) -> None:
    log = tmp_path / "attempts.log"
    subprocess.run([sys.executable, "-c", GUARDED, str(log)], check=True, cwd=ROOT,
                   env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    lines = log.read_text().splitlines()
    assert lines == ["name lookup: 'example.invalid'", "name lookup: '192.0.2.1'",
                     "socket.connect: ('192.0.2.1', 80)"]


NETNS_TESTS = [
    "tests/viz/test_app_offline.py::test_a_get_on_an_asset_folder_deletes_nothing",
    "tests/viz/test_app_offline.py::test_the_page_needs_nothing_from_outside",
    "tests/viz/test_app_offline.py::test_a_clean_start_prints_no_warnings",
    "tests/viz/test_app_browser.py::test_a_scenario_named_on_the_command_line_loads",
    "tests/viz/test_app_browser.py::test_at_1280x720_two_charts_are_in_view_and_a_step_redraws_them",
    "tests/viz/test_app_browser.py::test_hostile_scenario_text_shows_as_text_and_runs_nothing",
    "tests/viz/test_app_browser.py::test_the_info_panel_shows_the_scenarios_questions",
]
"""The app's tests run again in a network namespace that has nothing but loopback."""


def in_loopback_only_namespace(command: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``command`` with ``sh`` in a new network namespace with only loopback, up.

    Fails the test (never skips it) when the namespace cannot be made: the app's promise to
    work offline is then untested.
    """
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.fail("unshare (util-linux) is missing: cannot test the app without a network")
    return subprocess.run([unshare, "--net", "sh", "-c", f"ip link set lo up && {command}"],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.browser
def test_the_app_works_in_a_network_namespace_with_only_loopback() -> None:
    links = in_loopback_only_namespace("ip -o link show", timeout=30)
    assert links.returncode == 0, (f"cannot make a network namespace (run as root): "
                                   f"{links.stderr.strip()}")
    names = [line.split(":")[1].strip() for line in links.stdout.splitlines()]
    assert names == ["lo"], f"the namespace has more than loopback: {names}"
    run = in_loopback_only_namespace(
        f"{sys.executable} -m pytest -q -p no:cacheprovider -o addopts='' "
        + " ".join(f"'{t}'" for t in NETNS_TESTS), timeout=300)
    assert run.returncode == 0, f"the app's tests failed without a network:\n{run.stdout[-4000:]}"
    assert f"{len(NETNS_TESTS)} passed" in run.stdout, run.stdout[-2000:]
