"""Nine tabs playing at once each advance: the server's turns are fair.

Nine tabs of one browser press Play together and play for ten seconds; every tab must have
advanced, and none by much less than the others (the turns go round). Bounded in time
(under a minute on a 2-core machine); it prints each tab's months.
"""

from __future__ import annotations

import time

import pytest

from tests.viz.browser import CHROMIUM_ARGS, app_server, chromium_path
from tests.viz.test_app_load import month

pytestmark = pytest.mark.browser

TABS = 9
PLAY_S = 10.0


def test_nine_tabs_playing_together_each_advance() -> None:
    from playwright.sync_api import sync_playwright

    with app_server() as (url, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 720})
            context.set_default_timeout(60_000)
            tabs = [context.new_page() for _ in range(TABS)]
            for tab in tabs:
                tab.goto(url, wait_until="commit")
            for tab in tabs:
                tab.get_by_role("button", name="Play", exact=True).wait_for()
            start = [month(tab) for tab in tabs]
            for tab in tabs:
                tab.get_by_role("button", name="Play", exact=True).click()
            time.sleep(PLAY_S)
            for tab in tabs:
                tab.get_by_role("button", name="Pause", exact=True).click()
            time.sleep(1.0)
            months = [month(tab) - m for tab, m in zip(tabs, start, strict=True)]
        finally:
            browser.close()
    print(f"\n{TABS} tabs, {PLAY_S:.0f} s of play: months advanced {months}")
    assert min(months) > 0, "a playing tab never got a month"
    assert min(months) >= max(months) / 3, "the turns are not fair"
