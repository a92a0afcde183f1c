"""End-to-end: a facilitator, an observer and three teams run a whole workshop.

The server is started as a facilitator would (``outsidein workshop --teams 4 --team-cap 3
--password …``), under ``netguard``. A practice round, a reset to month 0, two real rounds
(one team buys market research; the second round closes by its deadline alone), a grant,
then the debrief with its "what if" futures, downloaded as HTML and as a spreadsheet. The
observer sees every team and has nothing to act with; the cap refuses a fourth team though
a firm is free. Bounded in time (about a minute on a 2-core machine).
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulation.viz.workshop.session import KEY_NAME, LOG_NAME, RESEARCH_COST, read_log
from tests.viz.browser import ARTIFACTS, app_server, launched_chromium, loopback_page
from tests.viz.test_workshop_facilitator import sheet_values

pytestmark = pytest.mark.browser

PROJECTOR = {"width": 1280, "height": 720}
ROUND = 3
PASSWORD = "open sesame"
LIMIT_S = 90.0


@pytest.fixture(scope="module")
def workshop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    log = tmp_path_factory.mktemp("workshop") / "log"
    output: list[str] = []
    with app_server("--teams", "4", "--team-cap", "3", "--round-months", str(ROUND),
                    "--password", PASSWORD, "--log", str(log), "--no-qr",
                    command="workshop", output=output) as (url, _):
        start = json.loads((log / LOG_NAME).read_text().splitlines()[0])
        key = (log / KEY_NAME).read_text().strip()
        yield {"url": url, "key": key, "code": start["code"],
               "observe": start["observe_code"], "log": log}
    printed = output[0]
    assert "Traceback" not in printed, printed
    assert f"observe: {url}?observe={start['observe_code']}" in printed
    assert PASSWORD not in (log / LOG_NAME).read_text()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched_chromium() as b:
        yield b


def month(pg: Any, n: int) -> None:
    pg.locator(".oi-month").get_by_text(f"Month {n}", exact=True).wait_for(timeout=15_000)


def join(pg: Any, name: str, password: str = PASSWORD, button: str = "Join") -> None:
    pg.get_by_label(re.compile("(Team|Observer) name")).fill(name)
    pg.get_by_label("Room password").fill(password)
    pg.get_by_role("button", name=button).click()


def choose(pg: Any, select: str, option: str) -> None:
    pg.locator(select).click()
    pg.get_by_role("option", name=option).click()


def kinds(log: Path) -> list[str]:
    return [r.kind for r in read_log(log / LOG_NAME)]


def test_a_whole_workshop_with_practice_observer_deadline_grant_and_debrief(
        browser: Any, workshop: dict[str, Any]) -> None:
    started = time.monotonic()
    url, log = workshop["url"], workshop["log"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    facilitator = loopback_page(browser, f"{url}?key={workshop['key']}", PROJECTOR)
    facilitator.get_by_role("button", name="Advance").wait_for()
    facilitator.locator(".oi-caps").get_by_text("Teams 0 / 3 · observers 0 / 2 · room "
                                                "password: on").wait_for()

    # the observer joins with the room's password and lands on its own read-only page
    observer = loopback_page(browser, f"{url}?observe={workshop['observe']}", PROJECTOR)
    join(observer, "TA", "wrong", button="Watch")
    observer.locator(".oi-error").get_by_text("Room password").wait_for()
    join(observer, "TA", button="Watch")
    observer.locator(".oi-observer").get_by_text("Observer: TA (read-only)").wait_for()
    assert "?observer=" in observer.url

    names = ["Red", "Blue", "Green"]
    teams = [loopback_page(browser, f"{url}?join={workshop['code']}", PROJECTOR)
             for _ in names]
    for pg, name in zip(teams, names, strict=True):
        join(pg, name)
        pg.locator(".oi-team").get_by_text(f"{name} — firm", exact=False).wait_for()
    # the cap is three teams: a fourth is refused, though a fourth firm is free
    late = loopback_page(browser, f"{url}?join={workshop['code']}", PROJECTOR)
    late.locator(".oi-caps").get_by_text("Teams: 3 / 3.", exact=False).wait_for()
    join(late, "Gold")
    late.locator(".oi-error").get_by_text("3 / 3 teams").wait_for()
    assert kinds(log).count("join") == 3
    facilitator.locator(".oi-caps").get_by_text("Teams 3 / 3 · observers 1 / 2",
                                                exact=False).wait_for()

    # a practice round, then back to month 0 with the same teams on the same firms
    firms = [pg.locator(".oi-team").inner_text().split("firm ")[1] for pg in teams]
    facilitator.get_by_role("button", name="Practice round").click()
    for pg in [facilitator, observer, *teams]:
        pg.locator(".oi-practice").wait_for()
    teams[0].get_by_role("button", name="Submit decisions").click()
    teams[0].locator(".oi-submitted").wait_for()
    facilitator.get_by_role("button", name="Advance").click()
    for pg in [facilitator, observer, *teams]:
        month(pg, ROUND)
    facilitator.get_by_role("button", name="Reset to month 0").click()
    facilitator.get_by_role("button", name="Reset the market").click()
    for pg in [facilitator, observer, *teams]:
        month(pg, 0)
        pg.locator(".oi-practice").wait_for(state="detached")
    assert [pg.locator(".oi-team").inner_text().split("firm ")[1] for pg in teams] == firms

    # round 1: Blue buys market research; its page shows the survey; every team submits
    blue = teams[1]
    blue.get_by_role("button", name=re.compile("^Buy market research")).click()
    needs = blue.locator("[data-testid=team-needs]")
    needs.get_by_text(re.compile(r"^· research ±")).first.wait_for()
    assert blue.get_by_role("button", name=re.compile("^Buy market research")).is_disabled()
    assert teams[0].locator("[data-testid=team-needs]").get_by_text(
        re.compile(r"^· research ±")).count() == 0  # Red bought none: no survey
    for pg in teams:
        pg.get_by_role("button", name="Submit decisions").click()
        pg.locator(".oi-submitted").wait_for()
    facilitator.get_by_role("button", name="Advance").click()
    for pg in [facilitator, observer, *teams]:
        month(pg, ROUND)
    for pg in [observer, *teams]:  # the same industry report on every page
        pg.get_by_text("Industry report, round 1").first.wait_for()

    # a grant for Green, logged
    choose(facilitator, ".oi-grant-team", "Green")
    facilitator.get_by_label("Months of revenue").fill("1.5")
    facilitator.get_by_label("Reason").fill("clear pitch")
    facilitator.get_by_role("button", name="Grant").click()
    deadline = time.monotonic() + 10
    while "grant" not in kinds(log) and time.monotonic() < deadline:
        time.sleep(0.1)
    grant = next(r for r in read_log(log / LOG_NAME) if r.kind == "grant")
    assert (grant.team, grant.amount, grant.reason) == ("Green", 1.5, "clear pitch")

    # round 2 closes by its deadline alone: a countdown on every page, then the round runs
    facilitator.get_by_label("Deadline (minutes)").fill("0.1")
    choose(facilitator, ".oi-deadline-then", "run the round")
    facilitator.get_by_role("button", name="Set deadline").click()
    for pg in [facilitator, observer, *teams]:
        pg.locator(".oi-countdown").get_by_text("then it runs", exact=False).wait_for()
    teams[2].screenshot(path=str(ARTIFACTS / "workshop-countdown.png"))
    for pg in [facilitator, observer, *teams]:
        month(pg, 2 * ROUND)  # nobody pressed Advance
    auto = [r for r in read_log(log / LOG_NAME) if getattr(r, "auto", False)]
    assert [r.kind for r in auto] == ["advance"]
    records = read_log(log / LOG_NAME)
    assert [r.team for r in records if r.kind == "research"] == ["Blue"]

    # the observer sees every team and can do nothing: no control on its page
    for name in names:
        observer.locator(".oi-observed-team", has_text=f"{name} — firm").wait_for()
    for label in ("Advance", "Submit decisions", "Remove", "Grant", "Practice round",
                  "Reset to month 0", "Set deadline", "Broadcast"):
        assert observer.get_by_role("button", name=label).count() == 0, label
    assert observer.get_by_role("button").count() == 0
    assert observer.locator("input").count() == 0

    # the debrief: the what-if futures, then the HTML and the spreadsheet
    debrief = loopback_page(browser, f"{url}?key={workshop['key']}&view=debrief", PROJECTOR)
    debrief.locator(".oi-debrief-team").first.wait_for()
    debrief.get_by_role("button", name=re.compile("^What if")).click()
    debrief.locator(".oi-what-if-done").wait_for(timeout=60_000)
    assert debrief.locator(".oi-what-if").count() == 3
    with debrief.expect_download() as download:
        debrief.get_by_role("button", name=re.compile("Download the debrief")).click()
    saved = Path(download.value.path()).read_text(encoding="utf-8")
    assert saved.startswith("<!DOCTYPE html>") and "<script" not in saved
    assert "clear pitch" in saved and "200 futures" in saved
    assert saved.count("class='oi-what-if'") == 3
    assert "A practice round came first" in saved
    with debrief.expect_download() as download:
        debrief.get_by_role("button", name=re.compile("Download the spreadsheet")).click()
    sheets = sheet_values(Path(download.value.path()).read_bytes())
    assert [row[2] for row in sheets["grants"][1:]] == ["Green"]
    assert [row[2] for row in sheets["research"][1:]] == ["Blue"]
    assert float(sheets["research"][1][3]) == RESEARCH_COST
    assert len(sheets["rounds"]) == 1 + 3 * 2  # after the reset: three teams, two rounds
    with debrief.expect_download() as download:
        debrief.get_by_role("button", name=re.compile("Download the tables")).click()
    with zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes())) as zf:
        assert "industry_firms.csv" in zf.namelist()

    for pg in [facilitator, observer, late, *teams, debrief]:
        assert pg.errors == []  # type: ignore[attr-defined]
        assert pg.outside_requests() == []
        assert pg.failed == []  # type: ignore[attr-defined]
        pg.context.close()
    took = time.monotonic() - started
    print(f"\nthe whole workshop in the browser took {took:.0f} s")
    assert took < LIMIT_S
