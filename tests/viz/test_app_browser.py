"""End-to-end: the app's server and Debian's chromium driven by Playwright.

One server for the module; each test opens its own tab, which is its own run.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.viz.browser import ARTIFACTS, CHROMIUM_ARGS, app_server, chromium_path

pytestmark = pytest.mark.browser

BROKEN = "turbulence: [0.1\nfirms: {oops\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("scenarios")
    (folder / "broken.yaml").write_text(BROKEN)
    with app_server("--scenarios", str(folder)) as (url, started):
        yield {"url": url, "started": started}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, server: dict[str, Any]) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1500, "height": 1700})
    # cut the page off from everything but this machine: the app must work without a network
    context.route(re.compile(r"^(?!(https?|wss?)://127\.0\.0\.1:\d+/)"),
                  lambda route: route.abort())
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    requests: list[str] = []
    pg.on("request", lambda r: requests.append(r.url))
    pg.goto(server["url"])
    pg.get_by_role("button", name="Step", exact=True).wait_for()
    pg.outside_requests = lambda: [  # type: ignore[attr-defined]
        u for u in requests
        if not re.match(r"^(https?|wss?)://127\.0\.0\.1:\d+/|^(data|blob):", u)]
    yield pg
    outside = pg.outside_requests()
    context.close()
    assert outside == [], f"the page asked for something beyond this machine: {outside}"


def month(pg: Any) -> int:
    return int(pg.locator(".oi-month").inner_text().split()[-1])


def wait_month(pg: Any, target: int) -> None:
    pg.wait_for_function(
        "n => parseInt(document.querySelector('.oi-month').innerText.split(' ').pop()) >= n",
        arg=target)


def shot(pg: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    pg.screenshot(path=str(path))
    return path


def points(pg: Any, metric: str) -> str:
    return str(pg.locator(f'[data-testid="chart-{metric}"] polyline').first
               .get_attribute("points"))


def test_page_loads_offline_and_step_advances_the_plots(page: Any) -> None:
    assert month(page) == 0
    before = points(page, "market_share")
    page.get_by_role("button", name="Step", exact=True).click()
    wait_month(page, 1)
    assert month(page) == 1
    page.wait_for_function(
        "before => document.querySelector('[data-testid=\"chart-market_share\"] polyline')"
        ".getAttribute('points') !== before", arg=before)
    assert page.locator('[data-testid="network-0"] circle').count() >= 2
    assert page.locator('[data-testid="market"] [data-segment]').count() >= 2
    assert page.outside_requests() == []
    shot(page, "app-loaded")


def test_play_advances_and_pause_stops(page: Any) -> None:
    page.get_by_role("button", name="Play", exact=True).click()
    wait_month(page, 3)
    page.get_by_role("button", name="Pause", exact=True).click()
    page.get_by_role("button", name="Step", exact=True).wait_for(state="visible")
    page.wait_for_function("!document.querySelector('button[disabled]') || true")
    time.sleep(0.6)
    stopped = month(page)
    time.sleep(0.8)
    assert month(page) == stopped >= 3


def test_a_lever_slider_moves_and_reset_builds_a_firm_with_it(page: Any) -> None:
    from playwright.sync_api import expect

    card = page.locator(".v-card").filter(has_text="focal").first
    expect(card).to_contain_text("clout 0.80")
    thumb = page.locator(".oi-lever-clout [role=slider]")
    thumb.focus()
    for _ in range(4):
        thumb.press("ArrowLeft")
    expect(page.locator(".oi-lever-clout")).to_contain_text("Clout 0.60")
    expect(card).to_contain_text("clout 0.80")  # the running firm waits for Reset
    page.get_by_role("button", name="Reset", exact=True).click()
    expect(card).to_contain_text("clout 0.60")


def test_a_disruptor_enters_now(page: Any) -> None:
    page.get_by_role("button", name="Step", exact=True).click()
    wait_month(page, 1)
    assert "Disruptors: 0" in page.locator(".oi-entrants").inner_text()
    page.get_by_role("button", name="A disruptor enters now").click()
    page.get_by_text("Disruptors: 1").wait_for()
    page.get_by_role("button", name="Step", exact=True).click()
    wait_month(page, 2)
    chart = '[data-testid="chart-market_share"]'
    page.locator(f'{chart} [data-event="entrant"]').wait_for(state="attached")
    page.wait_for_function(  # the entrant's line, dashed, beside the two incumbents'
        f"() => document.querySelectorAll('{chart} polyline[stroke-dasharray]').length === 1"
        f" && document.querySelectorAll('{chart} polyline').length === 3")
    shot(page, "app-disruptor")


def test_a_broken_scenario_shows_an_error_and_the_app_keeps_running(page: Any) -> None:
    page.get_by_role("button", name="Step", exact=True).click()
    wait_month(page, 1)
    page.locator(".v-select").filter(has_text="Scenario").first.click()
    page.locator(".v-menu__content .v-list-item").filter(has_text="broken.yaml").click()
    error = page.locator(".oi-error")
    error.wait_for()
    assert "broken.yaml could not be loaded" in error.inner_text()
    picker = page.locator(".v-select").filter(has_text="Scenario").first
    page.wait_for_timeout(300)
    assert "broken.yaml" not in picker.inner_text()  # the refused file is not shown as picked
    shot(page, "app-broken-scenario")
    page.get_by_role("button", name="Step", exact=True).click()
    wait_month(page, 2)


def test_an_impossible_seed_is_a_message(page: Any) -> None:
    seed = page.get_by_label("Seed")
    seed.fill("minus one")
    seed.press("Enter")
    page.locator(".oi-error").filter(has_text="seed").wait_for()
    page.get_by_role("button", name="Step", exact=True).click()
    wait_month(page, 1)


def test_two_tabs_are_two_runs(page: Any, browser: Any, server: dict[str, Any]) -> None:
    other = browser.new_page()
    try:
        other.goto(server["url"])
        other.get_by_role("button", name="Step", exact=True).wait_for()
        for _ in range(3):
            page.get_by_role("button", name="Step", exact=True).click()
        wait_month(page, 3)
        assert month(other) == 0
    finally:
        other.close()


def test_shock_and_reorganize_buttons_mark_their_months(page: Any) -> None:
    page.get_by_role("button", name="Shock customer needs now").click()
    page.get_by_text("Customer needs will jump next month").wait_for()
    page.get_by_role("button", name="Reorganize this firm now: to outside-in").click()
    page.get_by_text("reorganizes to outside-in").wait_for()
    page.get_by_role("button", name="Step", exact=True).click()
    wait_month(page, 1)
    chart = '[data-testid="chart-satisfaction"]'
    page.locator(f'{chart} [data-event="shock"]').first.wait_for(state="attached")
    page.locator(f'{chart} [data-event="reorganization"]').first.wait_for(state="attached")


def test_a_shipped_scenario_runs_with_its_title(page: Any) -> None:
    from simulation.scenario import load_scenario
    from simulation.viz.scenarios import PROJECT_SCENARIOS

    shipped = sorted(PROJECT_SCENARIOS.glob("*.yaml"))
    assert shipped, f"no scenarios shipped in {PROJECT_SCENARIOS}"

    title = load_scenario(shipped[0]).title
    page.locator(".v-select").filter(has_text="Scenario").first.click()
    page.locator(".v-menu__content .v-list-item").filter(has_text=shipped[0].name).click()
    page.get_by_text(title).first.wait_for()
    assert page.locator(".oi-error").count() == 0
    page.get_by_role("button", name="Step", exact=True).click()
    wait_month(page, 1)


def test_download_csv_gives_the_run_table(page: Any, tmp_path: Path) -> None:
    for _ in range(2):
        page.get_by_role("button", name="Step", exact=True).click()
    wait_month(page, 2)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename == "outside-in-default-seed1-month2.csv"
    path = tmp_path / "run.csv"
    download.save_as(str(path))
    lines = path.read_text().splitlines()
    assert lines[0].startswith("step,firm,structure,market_share")
    assert len(lines) == 1 + 3 * 2  # months 0, 1, 2 for two firms
