"""The facilitator's workshop: practice and reset, caps, password, observers, deadlines,
grants, the industry report, market research, exports and the debrief's "what if"."""

from __future__ import annotations

import csv
import importlib.util
import io
import math
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import ipyvuetify as v
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.engine.many_seeds import run_seeds
from simulation.params import LEVERS
from simulation.viz.workshop import exports, page, views, whatif
from simulation.viz.workshop.messages import (
    ActMessage,
    BroadcastMessage,
    DeadlineMessage,
    GrantMessage,
    RefusedError,
    RemoveMessage,
    ResearchMessage,
    SubmitMessage,
    parse,
)
from simulation.viz.workshop.session import (
    GRANT_MAX,
    LOG_NAME,
    RESEARCH_COST,
    Config,
    Market,
    Workshop,
    WorkshopError,
    read_log,
)
from tests.viz.test_workshop_messages import page_text, served


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Workshop]:
    w = Workshop.create(Config(teams=4, round_months=3, team_cap=3), tmp_path / "log")
    page.install(w, run_seeds)
    yield w
    w.close()


def lines(shop: Workshop) -> int:
    return (shop.folder / LOG_NAME).read_text().count("\n")


# --- practice and reset ------------------------------------------------------------------
def test_a_reset_after_practice_is_month_0_with_the_same_teams_and_firms(
        shop: Workshop, tmp_path: Path) -> None:
    red, blue = shop.join("Red"), shop.join("Blue")
    fresh = Market(shop.start)  # the market as it started, never touched
    shop.act("practice")
    assert shop.market.practice
    with pytest.raises(WorkshopError, match="one already"):
        shop.act("practice")
    shop.submit(red.token, {**red.decisions.levers, "clout": 0.1}, 1.5, "")
    shop.grant("Blue", 2.0, "practice help")
    shop.advance()
    shop.shock()
    shop.advance()
    assert shop.month == 6 and shop.round == 3
    shop.act("reset")
    assert (shop.month, shop.round, shop.market.practice) == (0, 1, False)
    assert [(t.name, t.firm) for t in shop.teams()] == [("Red", red.firm), ("Blue", blue.firm)]
    assert shop.team(red.token) is not None  # the links still work
    assert shop.history() == {"Red": [], "Blue": []}
    assert shop.market.grants == [] and shop.market.reports == []
    pd.testing.assert_frame_equal(shop.market.model.results(), fresh.model.results())
    assert shop.market.model.events == []
    assert shop.team(red.token).decisions == shop.market.current_decisions(  # type: ignore[union-attr]
        shop.market.firm(red.firm))
    with pytest.raises(WorkshopError, match="month 0 already"):
        shop.act("reset")
    # the real rounds from month 0 are the market's first rounds: as if no practice was played
    shop.submit(red.token, {**red.decisions.levers, "clout": 0.1}, 1.5, "")
    shop.advance()
    with pytest.raises(WorkshopError, match="starts at month 0"):
        shop.act("practice")
    plain = Workshop.create(Config(teams=4, round_months=3, team_cap=3), tmp_path / "plain")
    try:
        r2 = plain.join("Red")
        plain.join("Blue")
        plain.submit(r2.token, {**r2.decisions.levers, "clout": 0.1}, 1.5, "")
        plain.advance()
        pd.testing.assert_frame_equal(plain.market.model.results(),
                                      shop.market.model.results())
        assert repr(plain.history()) == repr(shop.history())  # nan: as written
    finally:
        plain.close()


# --- caps, password, observers ----------------------------------------------------------------
def test_the_team_cap_refuses_a_fourth_team_though_a_firm_is_free(shop: Workshop) -> None:
    for name in ("Red", "Blue", "Green"):
        shop.join(name)
    assert shop.joined()["team"] == (3, 3)
    assert shop.market.free_firm() is not None  # a firm is free: the cap refuses, not the firms
    before = lines(shop)
    with pytest.raises(WorkshopError, match="3 / 3 teams"):
        shop.join("Gold")
    assert lines(shop) == before
    shop.remove("Green")
    assert shop.joined()["team"] == (2, 3)
    shop.join("Gold")


def test_caps_are_shown_as_joined_over_allowed_on_the_pages(shop: Workshop) -> None:
    shop.join("Red")
    assert "Teams: 1 / 3." in page_text(served(f"/?join={shop.start.code}"))
    assert "Observers: 0 / 2." in page_text(served(f"/?observe={shop.start.observe_code}"))
    said = page_text(served(f"/?key={shop.key}"))
    assert "Teams 1 / 3 · observers 0 / 2 · room password: off" in said


def test_a_team_cap_above_the_firms_is_refused_at_the_start(tmp_path: Path) -> None:
    from simulation.errors import OutsideInError

    with pytest.raises(OutsideInError, match="outside"):
        Workshop.create(Config(teams=3, team_cap=4), tmp_path / "log")


def test_the_room_password_is_asked_of_teams_and_observers(tmp_path: Path) -> None:
    shop = Workshop.create(Config(teams=3, password="blue sky"), tmp_path / "log")
    try:
        for wrong in ("", "Blue sky", "blue sky "):
            with pytest.raises(WorkshopError, match="Room password"):
                shop.join("Red", wrong)
            with pytest.raises(WorkshopError, match="Room password"):
                shop.watch("TA", wrong)
        assert lines(shop) == 1  # nothing logged but the start
        shop.join("Red", "blue sky")
        shop.watch("TA", "blue sky")
        text = (shop.folder / LOG_NAME).read_text()
        assert "blue sky" not in text  # only a salted hash is kept
        page.install(shop)
        rc = served(f"/?join={shop.start.code}")
        assert rc.find(v.TextField, class_="oi-password").widgets
    finally:
        shop.close()


def test_observers_join_up_to_their_cap_and_see_every_team(shop: Workshop) -> None:
    shop.join("Red")
    shop.join("Blue")
    first = shop.watch("TA one")
    shop.watch("TA two")
    with pytest.raises(WorkshopError, match="2 / 2"):
        shop.watch("TA three")
    assert shop.observer(first) == "TA one" and shop.team(first) is None
    assert page.admits(f"observer={first}") and page.admits(
        f"observe={shop.start.observe_code}")
    assert not page.admits("observer=not-a-token") and not page.admits("observe=wrong")
    rc = served(f"/?observer={first}")
    said = page_text(rc)
    assert "Observer: TA one (read-only)" in said
    assert said.count("— firm") == 2  # every team's card
    assert rc.find(v.Btn).widgets == []  # not a button on the page: nothing to act with


@pytest.mark.parametrize(("model", "fields"), [
    (ActMessage, {"kind": "advance"}), (ActMessage, {"kind": "reset"}),
    (DeadlineMessage, {"minutes": 1.0}), (GrantMessage, {"team": "Red", "amount": 1.0}),
    (RemoveMessage, {"team": "Red"}), (BroadcastMessage, {"text": "hi"}),
    (ResearchMessage, {}),
    (SubmitMessage, {"decisions": {"levers": dict.fromkeys(LEVERS, 0.5), "price": 1.0}})])
def test_the_message_models_refuse_every_action_from_an_observer(
        model: Any, fields: dict[str, Any]) -> None:
    with pytest.raises(RefusedError, match="the observer's page may not send this"):
        parse(model, role="observer", **fields)
    allowed = model.ROLES[0]
    assert parse(model, role=allowed, **fields).role == allowed
    other = "team" if allowed == "facilitator" else "facilitator"
    with pytest.raises(RefusedError, match=f"the {other}'s page may not"):
        parse(model, role=other, **fields)


# --- deadlines ------------------------------------------------------------------------------
def wait_for(condition: Any, seconds: float = 5.0, every: float = 0.02) -> None:
    end = time.monotonic() + seconds
    while not condition() and time.monotonic() < end:
        time.sleep(every)
    assert condition()


def test_a_deadline_locks_the_round_by_itself_and_the_log_says_so(shop: Workshop) -> None:
    red = shop.join("Red")
    shop.set_deadline(0.01, "lock")  # 0.6 s
    assert shop.market.deadline is not None
    shown = countdown(served(f"/?team={red.token}"))
    assert (shown.number, shown.then) == (1, "lock") and 0 < shown.seconds <= 0.6
    assert page.countdown_text(shown.seconds, shown.number, shown.then) == \
        "Round 1 closes in 0:01, then it locks."
    wait_for(lambda: shop.market.locked)
    last = read_log(shop.folder / LOG_NAME)[-1]
    assert (last.kind, last.auto) == ("lock", True)
    assert shop.market.deadline is None
    with pytest.raises(WorkshopError, match="locked"):
        shop.submit(red.token, red.decisions.levers, 1.0, "")


@pytest.mark.parametrize(("seconds", "said"), [
    (125.2, "Round 2 closes in 2:06, then it runs."), (60.0, "Round 2 closes in 1:00, then "
                                                         "it runs."),
    (0.01, "Round 2 closes in 0:01, then it runs."), (0.0, "Round 2 is closing…")])
def test_the_countdown_says_minutes_and_seconds_left(seconds: float, said: str) -> None:
    assert page.countdown_text(seconds, 2, "advance") == said
    # the browser's template computes the same text by the same rule
    vue = (Path(page.__file__).parent / "countdown.vue").read_text()
    assert "Math.ceil(left)" in vue and "'then it runs'" in vue and "is closing…" in vue


def countdown(rc: Any) -> Any:
    """The page's countdown widget (the browser ticks it)."""
    import ipyvuetify

    found = [w for w in rc.find(ipyvuetify.VuetifyTemplate).widgets if hasattr(w, "seconds")]
    assert len(found) == 1
    return found[0]


def test_a_deadline_that_runs_the_round_advances_once(shop: Workshop) -> None:
    shop.join("Red")
    shop.set_deadline(0.01, "advance")
    wait_for(lambda: shop.month == 3)
    time.sleep(0.8)
    assert shop.month == 3 and shop.market.deadline is None
    autos = [r for r in read_log(shop.folder / LOG_NAME) if getattr(r, "auto", False)]
    assert [r.kind for r in autos] == ["advance"]


def test_a_cleared_or_overtaken_deadline_does_nothing(shop: Workshop) -> None:
    shop.join("Red")
    shop.set_deadline(0.01, "advance")
    shop.set_deadline(None)
    shop.set_deadline(0.01, "advance")
    shop.advance()  # the facilitator was quicker: the deadline goes with the round
    time.sleep(1.0)
    assert shop.month == 3 and not any(getattr(r, "auto", False) for r in shop.records)
    with pytest.raises(WorkshopError, match="none to clear"):
        shop.set_deadline(None)


def test_a_deadline_passed_while_the_server_was_down_closes_on_resume(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shop = Workshop.create(Config(teams=2, round_months=2), tmp_path / "log")
    shop.join("Red")
    with monkeypatch.context() as m:  # the server stops before its timer could fire
        m.setattr(Workshop, "_arm", lambda self: None)
        shop.set_deadline(1.0, "advance", clock=lambda: time.time() - 3600)  # long past
        shop.close()
    assert shop.month == 0 and read_log(tmp_path / "log" / LOG_NAME)[-1].kind == "deadline"
    again = Workshop.resume(tmp_path / "log")
    try:  # the resumed server closes the round at once
        wait_for(lambda: again.month == 2)
        assert read_log(tmp_path / "log" / LOG_NAME)[-1].auto
    finally:
        again.close()


# --- grants and fines ---------------------------------------------------------------------------
def test_a_grant_or_fine_moves_the_teams_cash_by_exactly_its_amount(shop: Workshop) -> None:
    red, blue = shop.join("Red"), shop.join("Blue")
    firm, other = shop.market.firm(red.firm), shop.market.firm(blue.firm)
    before, other_before = firm.cash_months, other.cash_months
    ghost_before = shop.ghost("outside_in").firm(red.firm).cash_months
    shop.grant("Red", 1.5, "a good question")
    assert firm.cash_months == pytest.approx(before + 1.5, abs=1e-12)
    # the ghosts get the same grant: the same events for the firm
    assert shop.ghost("outside_in").firm(red.firm).cash_months == pytest.approx(
        ghost_before + 1.5, abs=1e-12)
    shop.grant("Red", -0.5, "late")
    assert firm.cash_months == pytest.approx(before + 1.0, abs=1e-12)
    assert other.cash_months == other_before
    for amount in (0.0, GRANT_MAX + 0.01, -GRANT_MAX - 0.01, math.nan, math.inf):
        with pytest.raises(WorkshopError, match="Grant"):
            shop.grant("Red", amount)
    with pytest.raises(RefusedError, match="Amount"):
        parse(GrantMessage, role="facilitator", team="Red", amount=GRANT_MAX * 2)
    with pytest.raises(WorkshopError, match="no team"):
        shop.grant("Nobody", 1.0)
    assert [(g.team, g.amount, g.reason) for g in shop.market.grants] == [
        ("Red", 1.5, "a good question"), ("Red", -0.5, "late")]
    shop.advance()
    html = views.debrief_html(shop)
    assert "a good question" in html and "+1.50" in html and "-0.50" in html


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(min_value=-GRANT_MAX, max_value=GRANT_MAX, allow_nan=False)
                .filter(lambda x: x != 0), min_size=1, max_size=6))
def test_any_grants_and_fines_move_cash_by_their_sum_and_replay(
        tmp_path_factory: pytest.TempPathFactory, amounts: list[float]) -> None:
    folder = tmp_path_factory.mktemp("grants") / "log"
    live = Workshop.create(Config(teams=2, round_months=1), folder)
    red = live.join("Red")
    start = live.market.firm(red.firm).cash_months
    for amount in amounts:
        live.grant("Red", amount)
    assert live.market.firm(red.firm).cash_months == pytest.approx(start + sum(amounts),
                                                                   abs=1e-9)
    live.advance()
    live.close()
    again = Workshop.resume(folder)
    try:
        assert again.market.grants == live.market.grants
        assert repr(again.history()) == repr(live.history())  # nan: as written
    finally:
        again.close()


# --- the industry report --------------------------------------------------------------------------
def test_every_round_ends_with_one_industry_report_for_every_team(shop: Workshop) -> None:
    red = shop.join("Red")
    shop.join("Blue")
    ideal = shop.market.model.market.ideal.copy()
    shop.disruptor()
    shop.advance()
    report = shop.market.reports[-1]
    model = shop.market.model
    assert (report["round"], report["from_month"], report["to_month"]) == (1, 0, 3)
    shares = {f.name: f.metrics["market_share"] for f in model.firms if f.alive}
    assert {f["firm"]: f["share"] for f in report["firms"]} == pytest.approx(shares)
    assert {f["firm"]: f["team"] for f in report["firms"]}[red.firm] == "Red"
    moved = np.linalg.norm(model.market.ideal - ideal, axis=1)
    assert [s["needs_moved"] for s in report["segments"]] == pytest.approx(
        [moved[i] for i in np.flatnonzero(model.market.active)])
    assert [d["firm"] for d in report["disruptors"]] == ["entrant-1"]
    assert [e["kind"] for e in report["events"]] == ["entrant"]
    # the same report on every team's page and the facilitator's
    html = views.snapshot(shop)["report"]
    assert "Industry report, round 1" in html and "entrant-1" in html
    for address in (f"/?team={red.token}", f"/?key={shop.key}"):
        assert any("Industry report, round 1" in w.unsafe_innerHTML
                   for w in _html_widgets(served(address)))


def _html_widgets(rc: Any) -> list[Any]:
    import solara.widgets

    return list(rc.find(solara.widgets.HTML).widgets)


# --- market research ----------------------------------------------------------------------------
def test_research_costs_cash_and_narrows_the_view_for_that_round_only(shop: Workshop) -> None:
    red = shop.join("Red")
    shop.advance()
    firm = shop.market.firm(red.firm)
    cash = firm.cash_months
    assert shop.needs_view(red.token).survey is None
    shop.research(red.token)
    assert firm.cash_months == pytest.approx(cash - RESEARCH_COST, abs=1e-12)
    view = shop.needs_view(red.token)
    assert view.survey is not None and view.asked > 0
    assert view.survey.shape == view.believed.shape
    assert (view.survey_se < 0.02).all()  # type: ignore[operator]
    again = shop.needs_view(red.token)
    np.testing.assert_array_equal(again.survey, view.survey)  # type: ignore[arg-type]
    with pytest.raises(WorkshopError, match="already"):
        shop.research(red.token)
    shop.advance()
    assert shop.needs_view(red.token).survey is None  # for that round only
    assert ("research" not in [r.kind for r in shop.ghost("outside_in").model.events])
    ghost = shop.ghost("inside_out").firm(red.firm)
    assert ghost.cash_months > 0  # a ghost buys no research (and pays nothing for it)


@pytest.mark.parametrize("shocked", [False, True])
def test_bought_research_is_closer_to_the_true_needs_on_every_seed(
        tmp_path: Path, shocked: bool) -> None:
    closer = []
    for seed in range(1, 9):
        shop = Workshop.create(Config(seed=seed, teams=3, round_months=6),
                               tmp_path / f"log{seed}")
        try:
            red = shop.join("Red")
            shop.advance()
            if shocked:
                shop.shock()
                shop.advance()
            shop.research(red.token)
            view = shop.needs_view(red.token)
            assert view.survey is not None
            closer.append(shop.market.view_error(view.survey)
                          < shop.market.view_error(view.believed))
        finally:
            shop.close()
    assert closer == [True] * 8


def test_a_team_page_buys_research_and_shows_it(shop: Workshop) -> None:
    red = shop.join("Red")
    rc = served(f"/?team={red.token}")
    button = f"Buy market research ({RESEARCH_COST:g} months)"
    rc.find(v.Btn, children=[button]).widget.click()
    assert shop.market.research == {"Red": 1}
    rc = served(f"/?team={red.token}")
    assert rc.find(v.Btn, children=[button]).widget.disabled
    assert any(">· research ±" in w.unsafe_innerHTML for w in _html_widgets(rc))


# --- exports ------------------------------------------------------------------------------------
def played(shop: Workshop) -> None:
    red, blue = shop.join("Red"), shop.join("Blue & Co".replace("&", "and"))
    shop.submit(red.token, {**red.decisions.levers, "clout": 0.2}, 1.3, "")
    shop.research(blue.token)
    shop.grant("Red", 1.0, 'said "<hello>"')
    shop.advance()
    shop.disruptor()
    shop.advance()


def test_the_csv_zip_holds_one_table_a_file_with_every_round(shop: Workshop) -> None:
    played(shop)
    with zipfile.ZipFile(io.BytesIO(exports.csv_zip(shop))) as zf:
        names = sorted(zf.namelist())
        rounds = list(csv.DictReader(io.StringIO(zf.read("rounds.csv").decode())))
        grants = list(csv.DictReader(io.StringIO(zf.read("grants.csv").decode())))
    assert names == sorted(f"{n}.csv" for n in exports.tables(shop))
    assert len(rounds) == 4 and {r["team"] for r in rounds} == {"Red", "Blue and Co"}
    history = shop.history()["Red"]
    assert float(rounds[0]["share"]) == history[0].share
    assert grants == [{"round": "1", "month": "0", "team": "Red",
                       "amount_months_of_revenue": "1.0", "reason": 'said "<hello>"'}]


NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def sheet_values(data: bytes) -> dict[str, list[list[str]]]:
    """Each sheet's cells as text, read from the workbook's XML parts."""
    out = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
        for part in zf.namelist():
            ElementTree.fromstring(zf.read(part))  # every part is well-formed XML
        book = ElementTree.fromstring(zf.read("xl/workbook.xml"))
        types = zf.read("[Content_Types].xml").decode()
        for i, sheet in enumerate(book.find("m:sheets", NS), start=1):  # type: ignore[union-attr]
            assert f"/xl/worksheets/sheet{i}.xml" in types
            root = ElementTree.fromstring(zf.read(f"xl/worksheets/sheet{i}.xml"))
            rows = []
            for row in root.iter(f"{{{NS['m']}}}row"):
                cells = []
                for c in row:
                    t = c.find("m:is/m:t", NS)
                    value = c.find("m:v", NS)
                    cells.append(t.text if t is not None else
                                 value.text if value is not None else "")
                rows.append(cells)
            out[sheet.get("name")] = rows
    return out


def test_the_xlsx_is_a_valid_workbook_with_a_sheet_a_table(shop: Workshop) -> None:
    played(shop)
    data = exports.xlsx(shop)
    tables = exports.tables(shop)
    sheets = sheet_values(data)
    assert list(sheets) == list(tables)
    for name, (columns, rows) in tables.items():
        assert sheets[name][0] == columns
        assert len(sheets[name]) == 1 + len(rows)
    assert sheets["grants"][1][-1] == 'said "<hello>"'
    assert float(sheets["rounds"][1][3]) == tables["rounds"][1][0][3]
    if importlib.util.find_spec("openpyxl") is not None:  # pragma: no cover - not a dependency
        frame = pd.read_excel(io.BytesIO(data), sheet_name="rounds")
        assert list(frame.columns) == tables["rounds"][0]


# --- the debrief's "what if" -----------------------------------------------------------------
def test_the_what_if_futures_are_deterministic_by_seed(shop: Workshop) -> None:
    played(shop)
    first = whatif.what_if(shop, run_seeds, runs=12)
    again = whatif.what_if(shop, run_seeds, runs=12)
    other = whatif.what_if(shop, run_seeds, runs=12, root_seed=shop.start.seed + 1)
    assert set(first.teams) == {"Red", "Blue and Co"}
    for team in first.teams:
        np.testing.assert_array_equal(first.teams[team].share, again.teams[team].share)
        np.testing.assert_array_equal(first.teams[team].cash, again.teams[team].cash)
        assert not np.array_equal(first.teams[team].share, other.teams[team].share)
        assert first.teams[team].share.size == 12
        assert np.isfinite(first.teams[team].share).all()
    # futures differ from each other (other seeds), and the room is one of many outcomes
    assert np.unique(first.teams["Red"].share).size > 1


def test_a_future_on_the_rooms_own_seed_is_the_room(shop: Workshop) -> None:
    played(shop)
    out = whatif.replay(whatif.replay_params(shop), shop.start.seed)
    for team, rows in shop.history().items():
        assert out[f"share|{team}"] == rows[-1].share
        assert out[f"cash|{team}"] == rows[-1].cash


def test_the_debrief_has_a_what_if_row_for_every_team(shop: Workshop,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    played(shop)
    monkeypatch.setattr(whatif, "FUTURES", 8)
    futures = whatif.what_if(shop, run_seeds, runs=8)
    html = views.debrief_html(shop, futures)
    assert html.count("class='oi-what-if'") == 2
    assert "In 8 futures" in html
    rc = served(f"/?key={shop.key}&view=debrief")
    label = f"What if ({whatif.FUTURES} futures)"
    rc.find(v.Btn, children=[label]).widget.click()
    wait_for(lambda: shop.version >= 0 and rc.find(
        v.Alert, class_="oi-what-if-done").widgets != [], 60.0, every=0.25)
    assert "8 futures replayed" in page_text(rc)


def test_a_future_skips_the_practice_rounds_and_gives_the_same_room(shop: Workshop) -> None:
    red = shop.join("Red")
    shop.act("practice")
    shop.advance()
    shop.act("reset")
    shop.submit(red.token, {**red.decisions.levers, "capability": 0.9}, 1.1, "")
    shop.advance()
    params = whatif.replay_params(shop)
    # the practice's advance is left out; the reset stays (it counts the resets)
    assert [r["kind"] for r in params["records"]] == ["join", "reset", "submit", "advance"]
    out = whatif.replay(params, shop.start.seed)
    assert out["share|Red"] == shop.history()["Red"][-1].share
