"""Helpers for the end-to-end tests: the app's server and Debian's chromium."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
ARTIFACTS = Path(os.environ.get("OUTSIDEIN_TEST_ARTIFACTS", ROOT / "test-artifacts"))


def chromium_path() -> str:
    """Debian's chromium; missing it fails the run on CI and skips it elsewhere."""
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if path is None:
        message = "chromium is missing: install Debian's package (scripts/install-browser)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def app_server(*args: str, timeout: float = 30.0, output: list[str] | None = None,
               info: dict[str, int] | None = None, command: str = "app",
               ) -> Iterator[tuple[str, float]]:
    """Run ``outsidein COMMAND ARGS`` on a free loopback port; yield its URL and start-up time.

    The server runs under ``netguard``: once it has stopped, any name lookup or connection
    it attempted beyond the loopback interface fails the test. What it printed is appended
    to ``output``; ``info["pid"]`` is its process id. The server is always stopped, whatever
    the test did.
    """
    from tests.viz.netguard import LOG_ENV

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    # output to a file, not a pipe: a chatty server never blocks
    with tempfile.TemporaryDirectory(prefix="outsidein-app-") as tmp, \
            open(Path(tmp) / "printed.txt", "w+b") as printed:
        guard = Path(tmp) / "netguard.log"
        guard.touch()
        env = {**os.environ, "PYTHONPATH": str(ROOT), LOG_ENV: str(guard)}
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "tests.viz.netguard", command, *args,
                                 "--port", str(port)], cwd=ROOT, env=env,
                                stdout=printed, stderr=subprocess.STDOUT)
        if info is not None:
            info["pid"] = proc.pid
        try:
            _wait_until_it_answers(proc, printed, url, start, timeout)
            yield url, start
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            printed.seek(0)
            if output is not None:
                output.append(printed.read().decode(errors="replace"))
            attempts = guard.read_text()
    assert attempts == "", f"the app's server reached beyond this machine:\n{attempts}"


def _wait_until_it_answers(proc: subprocess.Popen[bytes], printed: IO[bytes], url: str,
                           start: float, timeout: float) -> None:
    while True:
        if proc.poll() is not None:
            printed.seek(0)
            raise RuntimeError("the app's server exited early:\n"
                               + printed.read().decode(errors="replace"))
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError:
            return  # it answered (the workshop's gate refuses an address without a secret)
        except OSError:
            pass
        if time.perf_counter() - start > timeout:
            raise RuntimeError(f"the app's server did not answer within {timeout} s")
        time.sleep(0.1)


@contextmanager
def launched_chromium() -> Iterator[Any]:
    """Debian's chromium, driven by Playwright, closed afterwards."""
    path = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


LOOPBACK = re.compile(r"^(https?|wss?)://127\.0\.0\.1:\d+/")
"""What a page of the app may reach: this machine's servers, nothing else."""


def loopback_page(browser: Any, url: str, viewport: dict[str, int]) -> Any:
    """A page in a context of its own, cut off from everything but this machine.

    It records what it asked for beyond this machine (``outside_requests()``), the
    responses that failed (``failed``) and its script errors (``errors``).
    """
    context = browser.new_context(viewport=viewport)
    context.route(lambda url: not LOOPBACK.match(url), lambda route: route.abort())
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    requests: list[str] = []
    failed: list[str] = []
    errors: list[str] = []
    pg.on("request", lambda r: requests.append(r.url))
    pg.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    local = ("data:", "blob:")
    pg.outside_requests = lambda: [u for u in requests
                                   if not LOOPBACK.match(u) and not u.startswith(local)]
    pg.failed = failed
    pg.errors = errors
    pg.goto(url)
    return pg


IN_PAGE_STEP = """
async () => {
  const month = () => document.querySelector('.oi-month').innerText;
  const chart = () => document.querySelector(
      '[data-testid="chart-market_share"] polyline').getAttribute('points');
  const m0 = month(), c0 = chart();
  const button = [...document.querySelectorAll('button')]
      .find(b => b.innerText.trim() === 'Step');
  const t0 = performance.now();
  button.click();
  return await new Promise(resolve => {
    const check = () => (month() !== m0 && chart() !== c0)
        ? resolve(performance.now() - t0) : requestAnimationFrame(check);
    check();
  });
}
"""
"""Milliseconds from a click on Step until the month and the share chart are redrawn."""
