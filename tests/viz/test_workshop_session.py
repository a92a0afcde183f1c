"""The workshop's shared session: joining, deciding, rounds, ghosts, and replay from the log."""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from simulation.errors import OutsideInError
from simulation.params import DEFAULT_SEED, LEVERS
from simulation.presets import PRESETS
from simulation.viz.workshop import views
from simulation.viz.workshop.records import Start, line, seal_start
from simulation.viz.workshop.session import (
    LOG_NAME,
    Config,
    Workshop,
    WorkshopError,
    read_log,
)


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Workshop]:
    w = Workshop.create(Config(teams=4, round_months=3), tmp_path / "log")
    yield w
    w.close()


def levers_of(firm: object) -> dict[str, float]:
    t = getattr(firm, "transition", None)
    source = t.to_levers if t is not None else firm.levers  # type: ignore[attr-defined]
    return {k: float(source[k]) for k in LEVERS}


def test_a_workshop_without_a_seed_starts_on_the_parameter_tables_seed() -> None:
    assert Config().seed == DEFAULT_SEED == 42


def test_teams_join_each_with_its_own_firm_until_the_market_is_full(shop: Workshop) -> None:
    teams = [shop.join(n) for n in ("Red", "Blue", "Green", "Gold")]
    assert len({t.firm for t in teams}) == 4
    assert len({t.token for t in teams}) == 4
    assert [t.firm for t in teams][:2] == [f.name for f in shop.market.model.firms][:2]
    with pytest.raises(WorkshopError, match="full"):
        shop.join("Late")


@pytest.mark.parametrize(("name", "why"), [
    ("", "type a name"), ("   ", "type a name"), ("x" * 31, "at most 30"),
    ("<b>Red</b>", "no <"), ("Red & Co", "no <"), ('"Red"', "quotes"),
    ("red", "taken"), (" RED ", "taken")])
def test_a_bad_team_name_is_refused_with_a_reason(shop: Workshop, name: str, why: str) -> None:
    shop.join("Red")
    with pytest.raises(WorkshopError, match=why.replace("(", r"\(")):
        shop.join(name)
    assert [t.name for t in shop.teams()] == ["Red"]


def test_decisions_out_of_range_are_refused_and_nothing_is_logged(shop: Workshop) -> None:
    team = shop.join("Red")
    good = dict(team.decisions.levers)
    lines = (shop.folder / LOG_NAME).read_text().count("\n")
    for levers, price, target in [({**good, "clout": 1.5}, 1.0, ""),
                                  ({**good, "clout": math.nan}, 1.0, ""),
                                  ({**good, "clout": True}, 1.0, ""),
                                  ({**good, "oops": 0.5}, 1.0, ""),
                                  ({k: v for k, v in good.items() if k != "clout"}, 1.0, ""),
                                  (good, 99.0, ""), (good, 0.0, ""),
                                  (good, 1.0, "matrix")]:
        with pytest.raises(WorkshopError):
            shop.submit(team.token, levers, price, target)
    assert (shop.folder / LOG_NAME).read_text().count("\n") == lines
    assert not shop.team(team.token).submitted  # type: ignore[union-attr]


def test_a_round_applies_each_teams_decisions_to_its_own_firm_only(shop: Workshop) -> None:
    red, blue = shop.join("Red"), shop.join("Blue")
    blue_before = levers_of(shop.market.firm(blue.firm))
    wanted = {**red.decisions.levers, "clout": 0.15, "capability": 0.95}
    shop.submit(red.token, wanted, 1.3, "")
    assert shop.team(red.token).submitted  # type: ignore[union-attr]
    with pytest.raises(WorkshopError, match="already in"):
        shop.submit(red.token, wanted, 1.3, "")
    shop.advance()
    assert shop.month == 3 and shop.round == 2
    red_firm, blue_firm = shop.market.firm(red.firm), shop.market.firm(blue.firm)
    assert levers_of(red_firm) == pytest.approx(wanted)
    assert red_firm.price == 1.3
    assert levers_of(blue_firm) == pytest.approx(blue_before)  # Blue did not submit
    assert not any(t.submitted for t in shop.teams())
    # a team that does not submit keeps its last decisions: no new reorganization
    moves = sum(e["kind"] == "reorganization" for e in shop.market.model.events)
    shop.advance()
    assert sum(e["kind"] == "reorganization" for e in shop.market.model.events) == moves
    assert red_firm.price == 1.3


def test_reorganize_to_a_preset_takes_its_levers_whole(shop: Workshop) -> None:
    red = shop.join("Red")
    preset = "inside_out" if shop.market.firm(red.firm).structure == "outside_in" \
        else "outside_in"
    shop.submit(red.token, red.decisions.levers, 1.0, preset)
    shop.advance()
    firm = shop.market.firm(red.firm)
    assert firm.transition is not None and firm.transition.to_structure == preset
    assert shop.team(red.token).decisions.levers == PRESETS[preset].lever_values()  # type: ignore[union-attr]


def test_lock_refuses_decisions_until_reopened_and_advance_reopens(shop: Workshop) -> None:
    red = shop.join("Red")
    shop.lock_round()
    with pytest.raises(WorkshopError, match="locked"):
        shop.submit(red.token, red.decisions.levers, 1.0, "")
    shop.reopen_round()
    shop.submit(red.token, red.decisions.levers, 1.0, "")
    shop.lock_round()
    shop.advance()
    assert not shop.market.locked


def test_a_removed_team_cannot_steer_and_its_token_is_void(shop: Workshop) -> None:
    red = shop.join("Red")
    shop.remove("Red")
    assert shop.team(red.token) is None and shop.teams() == []
    with pytest.raises(WorkshopError):
        shop.submit(red.token, red.decisions.levers, 1.0, "")
    with pytest.raises(WorkshopError, match="no team"):
        shop.remove("Nobody")
    blue = shop.join("Blue")  # the removed team's firm is free for the next team
    assert blue.firm == red.firm and shop.team(blue.token) is blue
    assert shop.team(red.token) is None


def test_shock_and_disruptor_act_at_the_next_month(shop: Workshop) -> None:
    shop.join("Red")
    shop.shock()
    shop.disruptor()
    kinds = {(e["kind"], e["step"]) for e in shop.market.model.events}
    assert ("shock", 1) in kinds and ("entrant", 1) in kinds
    assert any(f.entrant for f in shop.market.model.firms)
    shop.advance()
    board = shop.leaderboard()
    assert board[0]["resilience"] == board[0]["resilience"]  # measured after the shock


def test_leaderboard_ranks_every_team_on_four_measures(shop: Workshop) -> None:
    for name in ("Red", "Blue", "Green"):
        shop.join(name)
    shop.advance()
    board = shop.leaderboard()
    assert sorted(r["team"] for r in board) == ["Blue", "Green", "Red"]
    # the score is the mean of a team's four ranks, each 1 for the best value of its measure
    for measure, best in (("share", max), ("cash", max), ("satisfaction", max)):
        top = best(r[measure] for r in board)
        assert all((r[f"{measure}_rank"] == 1) == (r[measure] == top) for r in board), measure
    for r in board:
        ranks = [r[f"{m}_rank"] for m in ("share", "cash", "satisfaction", "resilience")]
        assert r["score"] == sum(ranks) / 4
    assert [r["rank"] for r in board] == [1, 2, 3]
    assert [r["score"] for r in board] == sorted(r["score"] for r in board)


def test_a_failed_firm_has_no_satisfaction_on_the_leaderboard_as_in_its_history(
        shop: Workshop) -> None:
    # the outcome registry's rule: a failed firm's satisfaction and gaps are no values
    for name in ("Red", "Blue"):
        shop.join(name)
    for _ in range(3):
        shop.grant("Red", -3.0)  # 6 months of starting cash less 9: Red fails in month 1
    shop.advance()
    board = {r["team"]: r for r in shop.leaderboard()}
    red, blue = shop.history()["Red"][-1], shop.history()["Blue"][-1]
    assert not board["Red"]["alive"] and not red.alive and board["Blue"]["alive"]
    assert math.isnan(board["Red"]["satisfaction"]) and math.isnan(red.satisfaction)
    assert math.isnan(red.awareness_gap) and math.isnan(red.action_gap)
    assert board["Red"]["share"] == red.share == 0.0
    assert board["Blue"]["satisfaction"] == blue.satisfaction > 0.0
    assert (board["Blue"]["satisfaction_rank"], board["Red"]["satisfaction_rank"]) == (1, 2)
    card = views.snapshot(shop)["cards"][shop.market.by_name("Red").firm]
    assert math.isnan(card["satisfaction"]) and views.number(card["satisfaction"]) == "–"
    row = views.debrief_body(shop).split("<td>Red</td>", 1)[1].split("</tr>")[0]
    assert row.count("<td>–</td>") == 2  # no satisfaction, and no shock to lose share after


def test_ghosts_run_the_team_firms_by_each_preset_on_the_same_events(shop: Workshop) -> None:
    red = shop.join("Red")
    shop.submit(red.token, {k: 0.05 for k in LEVERS}, 2.0, "")
    shop.advance()
    shop.shock()
    shop.advance()
    for preset in ("inside_out", "outside_in"):
        ghost = shop.ghost(preset)
        firm = ghost.firm(red.firm)
        assert firm.structure == preset and firm.price != 2.0
        assert levers_of(firm) == pytest.approx(PRESETS[preset].lever_values())
        assert ghost.month == shop.month
        assert [r.round for r in ghost.history["Red"]] == [1, 2]
        kinds = [(e["kind"], e["step"]) for e in ghost.model.events if e["kind"] == "shock"]
        assert kinds == [(e["kind"], e["step"]) for e in shop.market.model.events
                         if e["kind"] == "shock"]


def test_a_ghost_kept_up_to_date_is_the_ghost_replayed_afresh(shop: Workshop) -> None:
    # The debrief's ghosts are brought up to date record by record, not replayed on every
    # submit; a team joining starts them again. Either way they are the same market.
    red = shop.join("Red")
    shop.advance()
    early = shop.ghost("outside_in")
    shop.submit(red.token, {k: 0.05 for k in LEVERS}, 2.0, "")
    assert shop.ghost("outside_in") is early  # a submit changes no ghost
    shop.advance()
    shop.join("Blue")
    shop.shock()
    shop.advance()
    kept = shop.ghost("outside_in")
    shop._ghosts.clear()
    fresh = shop.ghost("outside_in")
    assert kept is not fresh and kept.month == fresh.month == shop.month
    pd.testing.assert_frame_equal(kept.model.results(), fresh.model.results())


def test_replay_of_the_log_gives_the_live_state(tmp_path: Path) -> None:
    live = Workshop.create(Config(teams=3, round_months=4, seed=7), tmp_path / "log")
    red, blue = live.join("Red"), live.join("Blue")
    live.submit(red.token, {**red.decisions.levers, "coordination": 0.2}, 1.4, "")
    live.advance()
    live.shock()
    live.submit(blue.token, blue.decisions.levers, 0.9, "inside_out")
    live.broadcast("Halfway")
    live.disruptor()
    live.advance()
    live.join("Green")
    live.remove("Green")
    live.advance()
    live.close()
    again = Workshop.resume(tmp_path / "log")
    try:
        assert again.month == live.month == 12 and again.round == live.round
        assert again.market.model.results().equals(live.market.model.results())
        assert again.market.model.events == live.market.model.events
        assert repr(again.history()) == repr(live.history())  # nan: as written
        assert again.messages() == ["Halfway"]
        assert again.team(red.token).name == "Red"  # type: ignore[union-attr]
        assert again.key == live.key and again.check_key(live.key)
        assert again.check_code(live.start.code.lower())
        again.advance()  # and it carries on, appending to the same log
        assert read_log(tmp_path / "log" / LOG_NAME)[-1].kind == "advance"
    finally:
        again.close()


def test_replay_of_a_log_with_practice_caps_deadlines_grants_and_research(
        tmp_path: Path) -> None:
    import time

    live = Workshop.create(Config(teams=4, round_months=3, seed=11, team_cap=3,
                                  password="pw"), tmp_path / "log")
    red, blue = live.join("Red", "pw"), live.join("Blue", "pw")
    watcher = live.watch("TA", "pw")
    live.act("practice")
    live.submit(red.token, {**red.decisions.levers, "clout": 0.9}, 1.8, "")
    live.grant("Blue", 2.0, "practice")
    live.advance()
    live.act("reset")
    live.research(red.token)
    live.submit(blue.token, blue.decisions.levers, 0.9, "inside_out")
    live.grant("Red", -1.0, "late")
    live.set_deadline(0.01, "advance")  # the server runs this round by itself
    end = time.monotonic() + 5
    while live.month != 3 and time.monotonic() < end:
        time.sleep(0.02)
    live.disruptor()
    live.research(blue.token)
    live.set_deadline(30.0, "lock")  # still pending when the server stops
    live.advance()
    live.join("Green", "pw")
    live.close()
    again = Workshop.resume(tmp_path / "log")
    try:
        assert again.month == live.month == 6 and again.round == live.round == 3
        pd.testing.assert_frame_equal(again.market.model.results(),
                                      live.market.model.results())
        assert again.market.model.events == live.market.model.events
        assert repr(again.history()) == repr(live.history())  # nan: as written
        assert again.market.grants == live.market.grants
        assert again.market.bought == live.market.bought == [(1, 0, "Red"), (2, 3, "Blue")]
        assert again.market.reports == live.market.reports
        assert again.market.deadline is None and again.joined() == live.joined()
        assert again.observer(watcher) == "TA"
        assert [r.kind for r in again.records if getattr(r, "auto", False)] == ["advance"]
        assert views.debrief_html(again) == views.debrief_html(live)
    finally:
        again.close()


def test_a_log_folder_serves_one_workshop_at_a_time(shop: Workshop, tmp_path: Path) -> None:
    with pytest.raises(OutsideInError, match="in use"):
        Workshop.resume(shop.folder)
    shop.close()
    with pytest.raises(OutsideInError, match="exists"):
        Workshop.create(Config(), shop.folder)


@pytest.mark.parametrize(("line", "why"), [
    ('{"kind": "advance"}', "line 1"), ("{oops", "line 2"),
    ('{"kind": "join", "team": "A", "token_sha256": "' + "0" * 64 + '", "firm": "focal", '
     '"x": 1}', "line 2: join.x"),
    ('{"kind": "launch"}', "line 2")])
def test_a_damaged_log_is_one_clear_error(tmp_path: Path, line: str, why: str) -> None:
    folder = tmp_path / "log"
    Workshop.create(Config(), folder).close()
    path = folder / LOG_NAME
    lines = path.read_text().splitlines()
    path.write_text("\n".join([line] if why == "line 1" else [lines[0], line]) + "\n")
    with pytest.raises(OutsideInError, match=why):
        Workshop.resume(folder)


def test_many_sessions_at_once_are_served_one_after_the_other(shop: Workshop) -> None:
    errors: list[Exception] = []

    def join(i: int) -> None:
        try:
            shop.join(f"Team {i}")
        except WorkshopError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=join, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(shop.teams()) == 4 and len(errors) == 4
    assert len({t.firm for t in shop.teams()}) == 4
    records = read_log(shop.folder / LOG_NAME)
    assert sum(r.kind == "join" for r in records) == 4


def test_a_page_waiting_for_a_change_wakes_when_the_market_moves(shop: Workshop) -> None:
    seen = shop.version
    timer = threading.Timer(0.05, shop.advance)
    timer.start()
    assert shop.wait_for_change(seen, 5.0) > seen
    timer.join()


def test_debrief_lists_every_teams_rounds_as_text_never_markup(shop: Workshop) -> None:
    red = shop.join("Red (1)")
    shop.broadcast("<script>alert(1)</script>")
    shop.submit(red.token, red.decisions.levers, 1.2, "")
    shop.advance()
    shop.advance()
    page = views.debrief_html(shop)
    assert "<script" not in page and "Red (1)" in page
    assert page.count("oi-debrief-team") == 1
    assert page.count("<tr><td>") >= 2 + 1  # two rounds and the leaderboard
    assert "ghost inside-out" in page and "ghost outside-in" in page


def test_log_lines_are_written_as_things_happen(shop: Workshop) -> None:
    red = shop.join("Red")
    lines = (shop.folder / LOG_NAME).read_text().splitlines()
    last = json.loads(lines[-1])
    assert {k: last[k] for k in ("kind", "team", "firm")} == {
        "kind": "join", "team": "Red", "firm": red.firm}
    assert last["token_sha256"] == hashlib.sha256(red.token.encode()).hexdigest()
    assert red.token not in (shop.folder / LOG_NAME).read_text()


def test_a_scenarios_firms_come_first_then_more_of_their_kind(tmp_path: Path) -> None:
    from simulation.scenario_files import resolve

    path = resolve("freeze-up")
    shop = Workshop.create(Config(scenario=path, teams=4, round_months=2), tmp_path / "log")
    try:
        firms = [f for f in shop.market.model.firms if not f.entrant]
        assert len(firms) == 4 and len({f.name for f in firms}) == 4
        first, second = firms[0], firms[1]
        assert firms[2].structure == first.structure and firms[2].name.startswith(first.name)
        assert firms[3].structure == second.structure
        assert dict(firms[2].levers) == pytest.approx(dict(first.levers))
        shop.join("Red")
        shop.advance()
        assert shop.month == 2
    finally:
        shop.close()


def test_resume_refuses_a_scenario_file_changed_since_the_start(tmp_path: Path) -> None:
    from simulation.scenario_files import resolve

    path = tmp_path / "market.yaml"
    path.write_bytes(resolve("freeze-up").read_bytes())
    Workshop.create(Config(scenario=path), tmp_path / "log").close()
    Workshop.resume(tmp_path / "log").close()  # unchanged: it resumes
    path.write_bytes(path.read_bytes() + b"\n# edited\n")
    with pytest.raises(OutsideInError, match="has changed"):
        Workshop.resume(tmp_path / "log")


def test_resume_refuses_a_log_written_by_another_version(tmp_path: Path) -> None:
    Workshop.create(Config(), tmp_path / "log").close()
    path = tmp_path / "log" / LOG_NAME
    lines = path.read_text().splitlines()
    start = Start.model_validate(json.loads(lines[0]))
    path.write_text(line(seal_start(start.model_copy(update={"version": "0.0.1"}))))
    with pytest.raises(OutsideInError, match="0.0.1"):
        Workshop.resume(tmp_path / "log")


def test_money_is_in_months_of_revenue_as_in_the_app_and_the_handouts(shop: Workshop) -> None:
    from simulation.levers import upkeep

    red = shop.join("Red")
    shop.advance()
    model = shop.market.model
    firm = shop.market.firm(red.firm)
    fair = model.fair_revenue
    assert fair > 1.0  # so that a figure left in money would not pass for months of revenue
    assert shop.leaderboard()[0]["cash"] == pytest.approx(firm.cash / fair, rel=1e-12)
    assert shop.history()["Red"][-1].cash == pytest.approx(firm.cash / fair, rel=1e-12)
    assert views.snapshot(shop)["cards"][red.firm]["cash"] == pytest.approx(firm.cash / fair)
    levers = {k: 0.5 for k in LEVERS}
    assert shop.upkeep_per_month(levers, red.firm) == pytest.approx(
        upkeep(levers, model.params.lever_cost), rel=1e-12)
    assert shop.reorganize_cost() == (model.params.reorganize_cost,
                                      model.params.transition_steps)
    # the month's upkeep is what the firm pays: its booked lever upkeep, in the same unit
    assert shop.upkeep_per_month(dict(firm.levers), red.firm) == pytest.approx(
        firm.metrics["lever_upkeep"] / fair, rel=1e-12)


@pytest.mark.parametrize(("change", "said"), [
    ({"clout": 1.5}, "Clout: 1.5 is not a number in [0, 1]."),
    ({"clout": True}, "Clout: True is not a number in [0, 1]."),
    ({"clout": "0.5"}, "Clout: '0.5' is not a number in [0, 1]."),
    ({"clout": 10**400}, "Clout: an integer of about 401 digits is not a number in [0, 1]."),
    ({"oops": 0.5}, "Oops: is not a lever; levers are coordination, cooperation, clout, "
                    "capability, connections."),
    ({"clout": None}, "Levers: no value for clout.")])
def test_a_bad_lever_is_named_for_the_team_by_the_models_own_rule(
        change: dict[str, object], said: str) -> None:
    from simulation.viz.workshop.session import check_decisions

    levers = {k: 0.5 for k in LEVERS} | change
    levers = {k: v for k, v in levers.items() if v is not None}
    with pytest.raises(WorkshopError) as caught:
        check_decisions(levers, 1.0, "")
    assert str(caught.value) == said
