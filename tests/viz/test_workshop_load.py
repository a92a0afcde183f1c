"""A workshop of thirty teams: one round advances and every team page shows the new month.

Thirty teams are joined in the log beforehand and the server resumes it (so the pages open
straight onto their firms); the workshop has been through a practice round and its reset,
one real round (so every page shows an industry report), ten teams bought market research,
and the round has a deadline (so every page counts down; the browser ticks it). Thirty
team pages and the facilitator's console are open when the facilitator presses Advance.
Each page notes, by the machine's clock, when its month changes. Bounded in time (under two minutes
on a 2-core machine); it prints the delays, the server's memory and how long it took.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import pytest

from simulation.viz.workshop.session import Config, Workshop
from tests.viz.browser import CHROMIUM_ARGS, app_server, chromium_path
from tests.viz.test_app_load import rss_mb

pytestmark = pytest.mark.browser

TEAMS = 30
ROUND = 6
LIMIT = 1.0
"""Most seconds (median over the pages) from Advance until a page shows the new month."""

WATCH = """
target => {
  window.__seen = null;
  const check = () => {
    const m = document.querySelector('.oi-month');
    if (window.__seen === null && m && m.innerText.trim() === target) {
      window.__seen = Date.now();
    }
  };
  new MutationObserver(check).observe(document.body,
      {subtree: true, childList: true, characterData: true});
}
"""
"""Notes the time (ms since the epoch) at which the page first shows ``target``."""

ADVANCE = """
() => {
  const button = [...document.querySelectorAll('button')]
      .find(b => b.innerText.trim() === 'Advance');
  const t0 = Date.now();
  button.click();
  return t0;
}
"""


def test_thirty_team_pages_show_the_new_month_soon_after_advance(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    folder = tmp_path / "log"
    shop = Workshop.create(Config(teams=TEAMS, round_months=ROUND), folder)
    tokens = [shop.join(f"Team {i + 1}").token for i in range(TEAMS)]
    shop.act("practice")
    shop.advance()
    shop.act("reset")
    shop.advance()
    for token in tokens[:10]:
        shop.research(token)
    shop.set_deadline(30.0, "lock")
    key = shop.key
    shop.close()
    info: dict[str, int] = {}
    started = time.monotonic()
    with app_server("--resume", str(folder), "--no-qr", command="workshop", info=info,
                    timeout=60) as (url, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        teams_browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            facilitator = browser.new_page(viewport={"width": 1280, "height": 720})
            facilitator.goto(f"{url}?key={key}")
            facilitator.get_by_role("button", name="Advance").wait_for(timeout=60_000)
            base_mb = rss_mb(info["pid"])
            context = teams_browser.new_context(viewport={"width": 1280, "height": 720})
            context.set_default_timeout(90_000)
            pages: list[Any] = [context.new_page() for _ in range(TEAMS)]
            for pg, token in zip(pages, tokens, strict=True):
                pg.goto(f"{url}?team={token}", wait_until="commit")
            for pg in pages:
                pg.locator(".oi-month").get_by_text(f"Month {ROUND}", exact=True).wait_for()
                pg.locator(".oi-countdown").wait_for()
                pg.locator(".oi-report").wait_for()
            opened = time.monotonic() - started
            load_mb = rss_mb(info["pid"])
            for pg in pages:
                pg.evaluate(WATCH, f"Month {2 * ROUND}")
            t0 = facilitator.evaluate(ADVANCE)
            deadline = time.monotonic() + 30
            seen: list[float | None] = [None] * TEAMS
            while time.monotonic() < deadline and None in seen:
                seen = [pg.evaluate("window.__seen") for pg in pages]
                time.sleep(0.2)
            after_mb = rss_mb(info["pid"])
        finally:
            teams_browser.close()
            browser.close()
    delays = sorted((s - t0) / 1000 for s in seen if s is not None)
    print(f"\n{TEAMS} team pages + the facilitator; Advance ({ROUND} months) to the new month "
          f"on each page: median {statistics.median(delays):.2f} s, max {delays[-1]:.2f} s "
          f"({len(delays)} of {TEAMS} pages)")
    print(f"server memory: {base_mb:.0f} MB with the facilitator, {load_mb:.0f} MB with "
          f"{TEAMS + 1} pages, {after_mb:.0f} MB after the round")
    print(f"pages opened in {opened:.0f} s; the whole test took "
          f"{time.monotonic() - started:.0f} s")
    assert len(delays) == TEAMS, "some team pages never showed the new month"
    assert statistics.median(delays) <= LIMIT
