"""A class of thirty: 30 tabs play at once while one more tab clicks Step.

Bounded in time (a few minutes at most on a 2-core machine). It prints what it measured:
the Step latency in a quiet server and under the load, each playing tab's pace, the
server's memory, and whether the closed tabs' runs were freed.
"""

from __future__ import annotations

import json
import statistics
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.viz.browser import CHROMIUM_ARGS, IN_PAGE_STEP, app_server, chromium_path

pytestmark = pytest.mark.browser

TABS = 30
STEPS = 10
STEP_LIMIT = 0.5
"""Most seconds a Step may take (median) in a tab while 30 others play."""



def step_latencies(page: Any, n: int) -> list[float]:
    """Seconds per Step, by the page's own clock."""
    out = []
    for _ in range(n):
        out.append(page.evaluate(IN_PAGE_STEP) / 1000)
        page.wait_for_timeout(100)
    return out


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for process {pid}")


def kernels(url: str) -> int:
    with urllib.request.urlopen(url + "resourcez", timeout=10) as response:
        return int(json.load(response)["kernels"]["total"])


def month(page: Any) -> int:
    return int(page.locator(".oi-month").inner_text().split()[-1])


def describe(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    return f"median {statistics.median(ms):.0f} ms, max {ms[-1]:.0f} ms over {len(ms)} steps"


def test_thirty_playing_tabs_keep_a_step_in_another_tab_quick() -> None:
    from playwright.sync_api import sync_playwright

    info: dict[str, int] = {}
    started = time.monotonic()
    with app_server(info=info) as (url, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        # the class's tabs in a browser of their own, as on their own laptops: the clicking
        # tab's page never waits for theirs, only for the server they share
        players = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            clicker = browser.new_page(viewport={"width": 1280, "height": 720})
            context = players.new_context(viewport={"width": 1280, "height": 720})
            context.set_default_timeout(60_000)
            clicker.goto(url)
            clicker.get_by_role("button", name="Step", exact=True).wait_for()
            quiet = step_latencies(clicker, STEPS)
            base_mb = rss_mb(info["pid"])
            tabs = [context.new_page() for _ in range(TABS)]
            for tab in tabs:
                tab.goto(url, wait_until="commit")
            for tab in tabs:
                tab.get_by_role("button", name="Play", exact=True).click()
            time.sleep(3)
            months = [month(tab) for tab in tabs]
            time.sleep(5)
            pace = [(month(tab) - m) / 5 for tab, m in zip(tabs, months, strict=True)]
            loaded = step_latencies(clicker, STEPS)
            final = [month(tab) for tab in tabs]
            load_mb = rss_mb(info["pid"])
            assert kernels(url) == TABS + 1
            for tab in tabs:
                tab.close(run_before_unload=True)  # as closing a browser tab does
            deadline = time.monotonic() + 30
            while kernels(url) > 1 and time.monotonic() < deadline:
                time.sleep(0.5)
            left = kernels(url)
            time.sleep(4)  # the server collects the closed runs 2 s after the last close
            after_mb = rss_mb(info["pid"])
            after_step = step_latencies(clicker, 3)
        finally:
            players.close()
            browser.close()
    print(f"\nStep, quiet server: {describe(quiet)}")
    print(f"Step, {TABS} tabs playing: {describe(loaded)}")
    print(f"each playing tab's pace: median {statistics.median(pace):.2f} months/s "
          f"(min {min(pace):.2f}, max {max(pace):.2f})")
    print(f"server memory: {base_mb:.0f} MB with one tab, {load_mb:.0f} MB with {TABS + 1}, "
          f"{after_mb:.0f} MB after {TABS} closed ({left} tab's run left)")
    print(f"the whole test took {time.monotonic() - started:.0f} s")
    assert statistics.median(loaded) <= STEP_LIMIT
    assert min(final) > 0, "a playing tab never got a month"
    assert left == 1, f"{left - 1} closed tabs kept their runs"
    assert max(after_step) < 2 * STEP_LIMIT
