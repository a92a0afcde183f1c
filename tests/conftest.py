"""Shared fixtures: small, fast model settings for tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    """Close the figures a test left open (pyplot keeps every figure until it is closed)."""
    yield
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")

SMALL = {"customers": 600}


@pytest.fixture
def small() -> dict[str, int]:
    """Keywords for a small market that runs fast."""
    return dict(SMALL)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Name the rule when a test skipped itself: a skip is a test that did not run."""
    skipped = terminalreporter.stats.get("skipped", [])
    if skipped:
        terminalreporter.write_line(
            f"{len(skipped)} test(s) skipped, and a skip fails the run: install what the "
            "reason names (a browser: scripts/install-browser) and run again.", red=True)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A run with skipped tests fails: nothing is skipped silently."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and reporter.stats.get("skipped") and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
