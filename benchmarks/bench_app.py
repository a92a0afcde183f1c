"""Time to interactive and per-step update latency of the app, in Debian's chromium.

Run by hand from the repository's root:  python benchmarks/bench_app.py [--steps 30]

It starts ``outsidein app`` on a free loopback port, opens the page, and prints:
- how long after the server process starts the page answers and is interactive (the Step
  button present and the month shown);
- how long one click on Step takes to show the next month *and* the redrawn plots, at the
  start of a run and again after fast-forwarding it (redraws must not grow with the run).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.viz.browser import (  # noqa: E402
    CHROMIUM_ARGS,
    IN_PAGE_STEP,
    app_server,
    chromium_path,
)

CHART = '[data-testid="chart-market_share"] polyline'


def month(page) -> int:
    return int(page.locator(".oi-month").inner_text().split()[-1])


def step_latencies_in_page(page, n: int) -> list[float]:
    """Seconds from a click on Step (in the page) until the month and the plots are redrawn.

    Timed by the page's own clock, so the test tool's round trips are not counted.
    """
    out = []
    for _ in range(n):
        out.append(page.evaluate(IN_PAGE_STEP) / 1000)
        page.wait_for_timeout(50)
    return out


def step_latencies(page, n: int) -> list[float]:
    """Seconds from Playwright's click on Step until the month and the share chart changed.

    Includes Playwright's own checks and round trips (what a test sees).
    """
    out = []
    for _ in range(n):
        before_month = month(page)
        before = page.locator(CHART).first.get_attribute("points")
        start = time.perf_counter()
        page.get_by_role("button", name="Step", exact=True).click()
        page.wait_for_function(
            "([m, pts]) => parseInt(document.querySelector('.oi-month').innerText.split(' ')"
            ".pop()) === m + 1 && document.querySelector("
            "'[data-testid=\"chart-market_share\"] polyline').getAttribute('points') !== pts",
            arg=[before_month, before], polling="raf")
        out.append(time.perf_counter() - start)
    return out


def describe(name: str, values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    p90 = ms[int(0.9 * (len(ms) - 1))]
    return (f"{name}: median {statistics.median(ms):.0f} ms, p90 {p90:.0f} ms, "
            f"max {ms[-1]:.0f} ms over {len(ms)} steps")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=30, help="steps timed per phase")
    parser.add_argument("--forward", type=int, default=600,
                        help="month to fast-forward to before the second phase")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    # the browser is open before the server starts, as a teacher's is: the figure is the
    # server's start-up plus the page's load, not chromium's own start
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 720})  # a projector
        with app_server() as (url, started):
            answered = time.perf_counter() - started
            opened = time.perf_counter()
            page.goto(url)
            page.get_by_role("button", name="Step", exact=True).wait_for()
            page.locator(".oi-month").wait_for()
            interactive = time.perf_counter()
            print(f"server answers HTTP {answered:.2f} s after its process starts")
            print(f"page interactive {interactive - started:.2f} s after the server process "
                  f"starts ({interactive - opened:.2f} s after the browser asks for it)")
            print(describe("step -> page redrawn (page clock), months 1..",
                           step_latencies_in_page(page, args.steps)))
            print(describe("step -> page redrawn (Playwright click), months 1..",
                           step_latencies(page, args.steps)))
            page.locator(".oi-speed").click()
            page.locator(".v-menu__content .v-list-item").filter(
                has_text="fastest").click()
            t0 = time.perf_counter()
            page.get_by_role("button", name="Play", exact=True).click()
            page.wait_for_function(
                "n => parseInt(document.querySelector('.oi-month').innerText.split(' ').pop())"
                " >= n", arg=args.forward, timeout=300_000)
            page.get_by_role("button", name="Pause", exact=True).click()
            page.get_by_role("button", name="Step", exact=True).wait_for(state="visible")
            time.sleep(0.5)
            reached = month(page)
            print(f"played to month {reached} in {time.perf_counter() - t0:.1f} s "
                  f"({reached / (time.perf_counter() - t0):.0f} months/s with redraws)")
            print(describe(f"step -> page redrawn (page clock), months {reached}..",
                           step_latencies_in_page(page, args.steps)))
            print(describe(f"step -> page redrawn (Playwright click), months {reached}..",
                           step_latencies(page, args.steps)))
            browser.close()


if __name__ == "__main__":
    main()
