"""End-to-end: the app's server and Debian's chromium driven by Playwright, at 1280x720.

One server for the module, started as a teacher would (``outsidein app freeze-up``, a shipped
scenario by name, with a folder of extra scenarios); each test opens its own tab, which is
its own run. Every address but 127.0.0.1 is cut off from the page, and the server runs
under ``netguard``: a request beyond this machine from either fails the tests.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.viz.browser import ARTIFACTS, app_server, launched_chromium, loopback_page
from tests.viz.test_page import HOSTILE, SCENARIO

pytestmark = pytest.mark.browser

BROKEN = "turbulence: [0.1\nfirms: {oops\n"
PROJECTOR = {"width": 1280, "height": 720}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("scenarios")
    (folder / "broken.yaml").write_text(BROKEN)
    (folder / "hostile.yaml").write_text(SCENARIO)
    output: list[str] = []
    with app_server("freeze-up", "--scenarios", str(folder), output=output) as (url, started):
        yield {"url": url, "started": started}
    printed = output[0]
    assert "Warning" not in printed and "Traceback" not in printed, printed


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched_chromium() as b:
        yield b


def open_page(browser: Any, url: str, viewport: dict[str, int]) -> Any:
    # cut the page off from everything but this machine: the app must work without a network
    pg = loopback_page(browser, url, viewport)
    pg.get_by_role("button", name="Step", exact=True).wait_for()
    return pg


@pytest.fixture
def page(browser: Any, server: dict[str, Any]) -> Iterator[Any]:
    pg = open_page(browser, server["url"], PROJECTOR)
    yield pg
    outside, failed, errors = pg.outside_requests(), pg.failed, pg.errors
    pg.context.close()
    assert outside == [], f"the page asked for something beyond this machine: {outside}"
    assert failed == [], f"requests that failed: {failed}"
    assert errors == [], f"errors in the page: {errors}"


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


def step(pg: Any) -> None:
    before = month(pg)
    pg.get_by_role("button", name="Step", exact=True).click()
    wait_month(pg, before + 1)


def inside_viewport(pg: Any, selector: str) -> bool:
    box = pg.locator(selector).bounding_box()
    size = pg.viewport_size
    return (box is not None and box["x"] >= 0 and box["y"] >= 0
            and box["x"] + box["width"] <= size["width"]
            and box["y"] + box["height"] <= size["height"])


def open_drawer(pg: Any) -> None:
    pg.get_by_role("button", name="☰ Controls").click()
    pg.locator(".oi-drawer").wait_for()


def pick_scenario(pg: Any, text: str) -> None:
    open_drawer(pg)
    pg.locator(".oi-scenario").click()
    pg.locator(".v-menu__content .v-list-item").filter(has_text=text).first.click()


def picker_shows(pg: Any, text: str) -> None:
    pg.locator(".oi-scenario .v-select__selection").filter(has_text=text).wait_for()
    assert pg.locator(".oi-scenario .v-select__selection").count() == 1


def test_a_scenario_named_on_the_command_line_loads(page: Any) -> None:
    page.locator(".oi-title").filter(has_text="Freeze-up").wait_for()
    assert month(page) == 0


def test_at_1280x720_two_charts_are_in_view_and_a_step_redraws_them(page: Any) -> None:
    for metric in ("market_share", "awareness_gap"):
        assert inside_viewport(page, f'[data-testid="chart-box-{metric}"]'), metric
    assert inside_viewport(page, ".oi-month")
    assert inside_viewport(page, "button:has-text('Play')")
    before = {m: points(page, m) for m in ("market_share", "awareness_gap")}
    step(page)
    for metric, old in before.items():
        page.wait_for_function(
            "([m, old]) => document.querySelector(`[data-testid=\"chart-${m}\"] polyline`)"
            ".getAttribute('points') !== old", arg=[metric, old])
    legend = page.locator('[data-testid="chart-market_share"] text').all_text_contents()
    assert "Focal" in legend and "Rival" in legend and "100%" in legend
    size = page.evaluate("""() => Math.min(...[...document.querySelectorAll(
        '[data-testid="chart-market_share"] text')].map(t => t.getBoundingClientRect().height))""")
    assert size >= 14 * 0.95, f"chart text {size:.1f} px high"
    assert page.locator('[data-testid="network-0"] circle').count() >= 2
    assert page.locator('[data-testid="market"] [data-segment]').count() >= 2
    shot(page, "app-1280x720")


def test_at_1920x1080_the_grid_uses_the_width(browser: Any, server: dict[str, Any]) -> None:
    pg = open_page(browser, server["url"], {"width": 1920, "height": 1080})
    try:
        for metric in ("market_share", "satisfaction", "awareness_gap", "action_gap"):
            assert inside_viewport(pg, f'[data-testid="chart-box-{metric}"]'), metric
        shot(pg, "app-1920x1080")
    finally:
        pg.context.close()


def test_large_puts_one_chart_full_width(page: Any) -> None:
    from playwright.sync_api import expect

    page.locator(".oi-large-action_gap").click()
    page.get_by_role("button", name="smaller").wait_for()
    chart = page.locator('[data-testid="chart-box-action_gap"]')
    expect(chart).to_have_count(1)  # the grid's small copy is gone once the page has redrawn
    box = chart.bounding_box()
    assert box["width"] > 1000
    shot(page, "app-large-chart")
    page.get_by_role("button", name="smaller").click()
    page.locator(".oi-large-action_gap").wait_for()


def test_play_advances_and_pause_stops(page: Any) -> None:
    page.get_by_role("button", name="Play", exact=True).click()
    wait_month(page, 3)
    page.get_by_role("button", name="Pause", exact=True).click()
    page.get_by_role("button", name="Step", exact=True).wait_for(state="visible")
    time.sleep(0.6)
    stopped = month(page)
    time.sleep(0.8)
    assert month(page) == stopped >= 3


def test_every_slider_shows_its_value_and_waits_for_reset(page: Any) -> None:
    from playwright.sync_api import expect

    open_drawer(page)
    labels = page.locator(".oi-drawer .v-input__slider .v-label").all_inner_texts()
    assert len(labels) == 12 and all(re.search(r"\d", label) for label in labels), labels
    card = page.locator(".oi-firm-0")
    expect(card).to_contain_text("clout 0.10")
    thumb = page.locator(".oi-lever-0-clout [role=slider]")
    thumb.focus()
    for _ in range(4):
        thumb.press("ArrowRight")
    expect(page.locator(".oi-lever-0-clout")).to_contain_text("Clout 0.30")
    expect(page.locator(".oi-drawer .oi-pending")).to_contain_text(
        "applies at Reset, or Reorganize to the sliders")
    expect(card).to_contain_text("clout 0.10")  # the running firm waits for Reset
    rival = page.locator(".oi-lever-1-cooperation [role=slider]")
    rival.focus()
    rival.press("ArrowLeft")
    expect(page.locator(".oi-lever-1-cooperation")).to_contain_text("Cooperation 0.75")
    shot(page, "app-controls-pending")
    page.get_by_role("button", name="Reset", exact=True).click()
    expect(card).to_contain_text("clout 0.30")
    expect(page.locator(".oi-firm-1")).to_contain_text("cooperation 0.75")
    expect(page.locator(".oi-drawer .oi-pending")).to_have_count(0)


def test_a_disruptor_enters_now(page: Any) -> None:
    step(page)
    before = int(page.locator(".oi-entrants").inner_text().split()[1])
    page.get_by_role("button", name="Disruptor enters now").click()
    page.get_by_text(f"Disruptors: {before + 1}").wait_for()
    step(page)
    chart = '[data-testid="chart-market_share"]'
    page.locator(f'{chart} [data-event="entrant"]').first.wait_for(state="attached")
    page.wait_for_function(  # the entrant's line, dashed, beside the two incumbents'
        f"() => document.querySelectorAll('{chart} polyline[stroke-dasharray]').length >= 1")
    assert "disruptor enters" in page.locator(chart).text_content()  # the legend names it


def test_a_broken_scenario_shows_an_error_and_the_app_keeps_running(page: Any) -> None:
    pick_scenario(page, "broken.yaml (does not load)")
    error = page.locator(".oi-error")
    error.wait_for()
    assert "broken.yaml could not be loaded" in error.inner_text()
    assert "Freeze-up" in page.locator(".oi-title").inner_text()
    picker_shows(page, "Freeze-up")  # the refused choice is not left in the picker
    step(page)


def test_an_impossible_seed_is_a_message(page: Any) -> None:
    open_drawer(page)
    seed = page.get_by_label("Seed")
    seed.fill("minus one")
    seed.press("Enter")
    page.locator(".oi-error").filter(has_text="seed").wait_for()
    step(page)


def test_two_tabs_are_two_runs(page: Any, browser: Any, server: dict[str, Any]) -> None:
    other = open_page(browser, server["url"], PROJECTOR)
    try:
        for _ in range(3):
            page.get_by_role("button", name="Step", exact=True).click()
        wait_month(page, 3)
        assert month(other) == 0
    finally:
        other.context.close()


def test_shock_and_reorganize_buttons_mark_their_months(page: Any) -> None:
    page.get_by_role("button", name="Shock needs now").click()
    page.get_by_text("Customer needs will jump next month").wait_for()
    page.locator(".oi-firm-0").get_by_role("button", name="Reorganize now: to outside-in").click()
    page.get_by_text("reorganizes to outside-in").wait_for()
    step(page)
    chart = '[data-testid="chart-satisfaction"]'
    page.locator(f'{chart} [data-event="shock"]').first.wait_for(state="attached")
    page.locator(f'{chart} [data-event="reorganization"]').first.wait_for(state="attached")


def test_the_picker_shows_titles_and_a_change_mid_run_asks_first(page: Any) -> None:
    step(page)
    pick_scenario(page, "Stable market")
    page.locator(".oi-confirm").wait_for()
    page.get_by_role("button", name="Keep the run").click()
    page.locator(".oi-confirm").wait_for(state="detached")
    picker_shows(page, "Freeze-up")  # the picker shows the running scenario again
    assert month(page) == 1 and "Freeze-up" in page.locator(".oi-title").inner_text()
    page.locator(".oi-scenario").click()
    page.locator(".v-menu__content .v-list-item").filter(has_text="Stable market").first.click()
    page.get_by_role("button", name="Load it").click()
    page.locator(".oi-title").filter(has_text="Stable market").wait_for()
    assert month(page) == 0


def test_hostile_scenario_text_shows_as_text_and_runs_nothing(page: Any) -> None:
    pick_scenario(page, "Hostile")
    title = page.locator(".oi-title")
    title.filter(has_text="7*7").wait_for()
    assert title.inner_text() == f"Hostile {HOSTILE}"
    page.get_by_role("button", name="Info").click()
    info = page.locator(".oi-info")
    info.wait_for()
    assert f"Which firm wins? {HOSTILE}" in info.inner_text()
    assert f"Us {HOSTILE}" in page.locator(".oi-firm-0").inner_text()
    assert page.title() == "Outside-In"  # the onerror never ran
    assert page.locator("img").count() == 0
    assert "49" not in title.inner_text()  # the template syntax was never evaluated
    shot(page, "app-hostile-text")


def test_the_info_panel_shows_the_scenarios_questions(page: Any) -> None:
    from simulation.scenario_files import load_scenario

    questions = load_scenario("freeze-up").questions
    page.get_by_role("button", name="Info").click()
    info = page.locator(".oi-info")
    info.wait_for()
    text = info.inner_text()
    for heading in ("What it is", "How it works", "Things to notice", "Things to try",
                    "Questions for the class"):
        assert heading in text
    assert all(q in text for q in questions)
    page.wait_for_timeout(400)  # the dialog's fade-in
    shot(page, "app-info")
    page.get_by_role("button", name="Close").click()
    info.wait_for(state="detached")


def test_the_run_pauses_at_the_scenarios_end(page: Any) -> None:
    pick_scenario(page, "Hostile")  # a 3-month scenario
    page.locator(".oi-title").filter(has_text="Hostile").wait_for()
    page.get_by_role("button", name="Play", exact=True).click()
    page.locator(".oi-notice").filter(has_text="last month").wait_for()
    time.sleep(0.8)
    assert month(page) == 3
    page.get_by_role("button", name="Play", exact=True).click()  # Play again goes on
    wait_month(page, 5)
    page.get_by_role("button", name="Pause", exact=True).click()


def test_download_csv_gives_the_run_table_with_its_settings_and_events(page: Any,
                                                                      tmp_path: Path) -> None:
    import pandas as pd

    page.get_by_role("button", name="Shock needs now").click()
    step(page)
    step(page)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename == "outside-in-freeze-up-seed17-month2.csv"
    path = tmp_path / "run.csv"
    download.save_as(str(path))
    text = path.read_text()
    assert "# seed: 17" in text and "# turbulence:" in text and "# firm Focal:" in text
    assert "# event: month 1: needs shock" in text
    table = pd.read_csv(path, comment="#")
    assert list(table["step"]) == [0, 0, 1, 1, 2, 2]
    assert table.loc[table["step"] == 1, "events"].str.contains("needs shock").all()
