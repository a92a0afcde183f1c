"""End-to-end: a facilitator and three teams play a workshop in four browser contexts.

The server is started as a facilitator would (``outsidein workshop --teams 3``), under
``netguard``; every page is cut off from everything but 127.0.0.1. The secrets of the links
are read from the workshop's log, whose first line holds them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulation.viz.workshop.session import KEY_NAME, LOG_NAME, read_log
from tests.viz.browser import ARTIFACTS, app_server, launched_chromium, loopback_page

pytestmark = pytest.mark.browser

PROJECTOR = {"width": 1280, "height": 720}
ROUND = 3


@pytest.fixture(scope="module")
def workshop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    log = tmp_path_factory.mktemp("workshop") / "log"
    output: list[str] = []
    with app_server("--teams", "3", "--round-months", str(ROUND), "--log", str(log),
                    "--no-qr", command="workshop", output=output) as (url, _):
        start = json.loads((log / LOG_NAME).read_text().splitlines()[0])
        key = (log / KEY_NAME).read_text().strip()
        yield {"url": url, "key": key, "code": start["code"], "log": log}
    printed = output[0]
    assert "Traceback" not in printed, printed
    assert f"facilitator: {url}?key={key}" in printed
    assert f"join: {url}?join={start['code']}" in printed


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched_chromium() as b:
        yield b


def open_page(browser: Any, url: str) -> Any:
    return loopback_page(browser, url, PROJECTOR)


def month(pg: Any, n: int) -> None:
    pg.locator(".oi-month").get_by_text(f"Month {n}", exact=True).wait_for(timeout=10_000)


def join(pg: Any, name: str) -> None:
    pg.get_by_label("Team name").fill(name)
    pg.get_by_role("button", name="Join").click()


def submitted(log: Path) -> list[str]:
    return [r.team for r in read_log(log / LOG_NAME) if r.kind == "submit"]


def test_facilitator_and_three_teams_play_two_rounds(browser: Any,
                                                     workshop: dict[str, Any]) -> None:
    url, log = workshop["url"], workshop["log"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    outsider = open_page(browser, url)
    outsider.locator(".oi-refused").wait_for()
    wrong = open_page(browser, f"{url}?key=not-the-key")
    wrong.locator(".oi-refused").wait_for()
    assert wrong.get_by_role("button", name="Advance").count() == 0
    forged = open_page(browser, f"{url}?team=not-a-token")
    forged.locator(".oi-refused").wait_for()
    assert forged.get_by_role("button", name="Submit decisions").count() == 0

    facilitator = open_page(browser, f"{url}?key={workshop['key']}")
    facilitator.get_by_role("button", name="Advance").wait_for()
    join_url = f"{url}?join={workshop['code']}"
    names = ["Red", "Blue", "Green"]
    teams = []
    for _ in names:
        pg = open_page(browser, join_url)
        pg.get_by_label("Team name").wait_for()
        teams.append(pg)
    # bad names get a message in the page, and the workshop goes on
    join(teams[0], "<b>Red</b>")
    teams[0].locator(".oi-error").get_by_text("no < > &").wait_for()
    join(teams[0], "")
    teams[0].locator(".oi-error").get_by_text("type a name").wait_for()
    for pg, name in zip(teams, names, strict=True):
        join(pg, name)
        pg.locator(".oi-team").get_by_text(f"{name} — firm", exact=False).wait_for()
        assert "?team=" in pg.url
    spare = open_page(browser, join_url)
    join(spare, "red")
    spare.locator(".oi-error").get_by_text("full").or_(
        spare.locator(".oi-error").get_by_text("taken")).wait_for()
    firms = [pg.locator(".oi-team").inner_text().split("firm ")[1] for pg in teams]
    assert len(set(firms)) == 3

    # round 1: each team moves a lever; Red first types a bad price
    teams[0].get_by_label(re.compile(r"^Price")).fill("cheap")
    teams[0].get_by_role("button", name="Submit decisions").click()
    teams[0].locator(".oi-error").get_by_text("not a number").wait_for()
    teams[0].get_by_label(re.compile(r"^Price")).fill("9")
    teams[0].get_by_role("button", name="Submit decisions").click()
    teams[0].locator(".oi-error").get_by_text("outside").wait_for()
    teams[0].get_by_label(re.compile(r"^Price")).fill("1.2")
    def label(pg: Any, lever: str) -> str:
        return str(pg.locator(f".oi-lever-{lever} .v-label").inner_text())

    others_before = [label(pg, "clout") for pg in teams[1:]]
    for i, pg in enumerate(teams):
        lever = ["clout", "capability", "coordination"][i]
        before = label(pg, lever)
        slider = pg.locator(f".oi-lever-{lever} [role=slider]")
        slider.focus()
        for _ in range(3):
            slider.press("ArrowLeft")
        pg.locator(f".oi-lever-{lever} .v-label").get_by_text(before).wait_for(
            state="detached")
        if i == 0:  # one team's sliders are its own: no other page moved (no shared state)
            assert [label(other, "clout") for other in teams[1:]] == others_before
        pg.locator(".oi-reorganization").wait_for()  # what moving a lever costs is shown
        pg.get_by_role("button", name="Submit decisions").click()
        pg.locator(".oi-submitted").wait_for()
    assert sorted(submitted(log)) == sorted(names)
    board = facilitator.locator(".oi-board")
    for name in names:
        board.locator(".oi-board-row", has_text=name).get_by_text("submitted").wait_for()
    teams[1].screenshot(path=str(ARTIFACTS / "workshop-team.png"))
    facilitator.get_by_role("button", name="Advance").click()
    for pg in [facilitator, *teams]:
        month(pg, ROUND)

    # a reload gives the team its firm back
    teams[2].reload()
    teams[2].locator(".oi-team").get_by_text(f"Green — firm {firms[2]}").wait_for()

    # round 2: a shock; only Red submits; the others keep their decisions
    facilitator.get_by_role("button", name="Shock customer needs now").click()
    facilitator.locator(".oi-notice").get_by_text(f"month {ROUND + 1}").wait_for()
    teams[0].get_by_role("button", name="Submit decisions").click()
    teams[0].locator(".oi-submitted").wait_for()
    facilitator.get_by_role("button", name="Advance").click()
    for pg in [facilitator, *teams]:
        month(pg, 2 * ROUND)
    assert submitted(log) == [*submitted(log)[:3], "Red"]
    for name in names:
        board.locator(".oi-board-row", has_text=name).wait_for()
    facilitator.screenshot(path=str(ARTIFACTS / "workshop-facilitator.png"))

    # a broadcast reaches every page
    facilitator.get_by_label("Message to every page").fill("Five minutes left")
    facilitator.get_by_role("button", name="Broadcast").click()
    facilitator.locator(".oi-broadcast").get_by_text("Five minutes left").wait_for()
    for pg in teams:
        pg.locator(".oi-broadcast").get_by_text("Five minutes left").wait_for()

    # removing a team asks first; the team's page then has no controls
    assert spare.errors == []  # type: ignore[attr-defined]
    spare.context.close()
    row = board.locator(".oi-board-row", has_text="Green")
    row.get_by_role("button", name="Remove").click()
    facilitator.get_by_role("button", name="Keep it").click()
    # the question goes away (a click on its old buttons would reach nothing)
    facilitator.locator(".oi-confirm").wait_for(state="detached")
    assert board.locator(".oi-board-row", has_text="Green").count() == 1
    row.get_by_role("button", name="Remove").click()
    facilitator.get_by_role("button", name="Remove the team").click()
    board.locator(".oi-board-row", has_text="Green").wait_for(state="detached")
    teams[2].locator(".oi-refused").wait_for()
    assert teams[2].get_by_role("button", name="Submit decisions").count() == 0

    debrief = open_page(browser, f"{url}?key={workshop['key']}&view=debrief")
    debrief.locator(".oi-debrief-team").first.wait_for()
    for name in names:
        section = debrief.locator(".oi-debrief-team", has_text=name)
        assert section.count() == 1
    history = debrief.locator(".oi-debrief-history")
    assert history.count() == 3
    for i in range(3):
        assert history.nth(i).locator("tr").count() == 1 + 2  # header, two rounds
    assert "ghost inside-out" in debrief.content()
    with debrief.expect_download() as download:
        debrief.get_by_role("button", name=re.compile("Download the debrief")).click()
    saved = Path(download.value.path()).read_text(encoding="utf-8")
    assert saved.startswith("<!DOCTYPE html>") and "<script" not in saved
    assert all(f">{name} — firm" in saved for name in names[:2])
    assert ">Green (removed) — firm" in saved
    assert not re.search(r"""(src|href)=["']?https?:""", saved)  # self-contained
    debrief.screenshot(path=str(ARTIFACTS / "workshop-debrief.png"), full_page=True)

    # a team's page steered only its own firm: the log holds each team's own decisions
    records = read_log(log / LOG_NAME)
    joined = {r.team: r.firm for r in records if r.kind == "join"}
    assert joined == dict(zip(names, firms, strict=True))
    for pg in [outsider, wrong, forged, facilitator, *teams, debrief]:
        assert pg.errors == []  # type: ignore[attr-defined]
        assert pg.outside_requests() == []  # nothing asked of any machine but this one
        assert pg.failed == []  # type: ignore[attr-defined]
        pg.context.close()
