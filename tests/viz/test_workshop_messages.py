"""Raw messages to the workshop's pages, as a websocket client could send them.

A widget's state arrives over the websocket as a comm ``update``; these tests hand each
widget such a message (``Widget._handle_msg``, what the server does with the websocket's
frame), with values no page offers. Each is refused on the page with one line and logged
as refused; no traceback reaches the page and the session is untouched. The renderer runs
with ``handle_error=False``: an exception that escaped the page's own boundary would fail
the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ipyvuetify as v
import pytest
import solara
import solara.routing

from simulation.params import LEVERS
from simulation.viz.workshop import page
from simulation.viz.workshop.page import FAULT_TEXT
from simulation.viz.workshop.session import LOG_NAME, Config, Workshop, read_log


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Workshop]:
    w = Workshop.create(Config(teams=3, round_months=2), tmp_path / "log")
    page.install(w)
    yield w
    w.close()


def served(address: str) -> Any:
    """The workshop page at ``address`` (``?team=…``), rendered as the server would."""
    @solara.component
    def Served() -> None:  # noqa: N802
        path, set_path = solara.use_state(address)
        solara.routing.router_context.provide(solara.routing.Router(path, [], set_path))
        page.Page()

    _, rc = solara.render(Served(), handle_error=False)
    return rc


def send(widget: Any, **state: Any) -> None:
    """A comm ``update`` message for ``widget``, as its websocket frame is handled."""
    widget._handle_msg({"content": {"data": {"method": "update", "state": state,
                                             "buffer_paths": []}}, "buffers": []})


def page_text(rc: Any) -> str:
    return "\n".join(str(w.children) for w in rc.find(v.Alert).widgets) + "\n" + \
        "\n".join(str(w.children) for w in rc.find(v.Html).widgets)


def refused(shop: Workshop) -> list[Any]:
    return [r for r in read_log(shop.folder / LOG_NAME) if r.kind == "refused"]


def lever_slider(rc: Any, lever: str) -> Any:
    return rc.find(v.Html, class_=f"oi-lever-{lever}").find(v.Slider).widget


@pytest.mark.parametrize("value", ["abc", [0.5], {"a": 1}, 10**400, None, True, 1.5])
def test_a_lever_sent_as_something_else_is_refused_on_the_page(shop: Workshop,
                                                                value: Any) -> None:
    team = shop.join("Red")
    rc = served(f"/?team={team.token}")
    before = dict(team.decisions.levers)
    send(lever_slider(rc, "clout"), v_model=value)
    said = page_text(rc)
    assert "Refused: value:" in said and "Traceback" not in said and FAULT_TEXT not in said
    assert [r.action for r in refused(shop)] == ["lever clout"]
    assert refused(shop)[0].team == "Red"
    # the page still works: a good value moves the slider, and a submit goes in
    send(lever_slider(rc, "clout"), v_model=0.25)
    assert lever_slider(rc, "clout").v_model == 0.25
    rc.find(v.Btn, children=["Submit decisions"]).widget.click()
    assert shop.team(team.token).submitted  # type: ignore[union-attr]
    assert shop.team(team.token).decisions.levers == {**before, "clout": 0.25}  # type: ignore[union-attr]


@pytest.mark.parametrize("value", ["bogus", 123, ["inside_out"], {"x": 1}])
def test_a_reorganize_choice_no_page_offers_is_refused(shop: Workshop, value: Any) -> None:
    team = shop.join("Red")
    rc = served(f"/?team={team.token}")
    send(rc.find(v.Select, class_="oi-reorganize").widget, v_model=value)
    said = page_text(rc)
    assert "Refused: choice:" in said and FAULT_TEXT not in said
    assert [r.action for r in refused(shop)] == ["reorganize"]
    rc.find(v.Btn, children=["Submit decisions"]).widget.click()
    assert shop.team(team.token).decisions.reorganize == ""  # type: ignore[union-attr]


@pytest.mark.parametrize("value", [["1.0"], {"p": 1}, 10**400, "9" * 100])
def test_a_price_sent_as_something_else_is_refused(shop: Workshop, value: Any) -> None:
    team = shop.join("Red")
    rc = served(f"/?team={team.token}")
    send(rc.find(v.TextField, class_="oi-price").widget, v_model=value)
    assert "Refused: text:" in page_text(rc)
    assert [r.action for r in refused(shop)] == ["price"]


@pytest.mark.parametrize("value", [["Red"], 7, "x" * 500])
def test_a_team_name_sent_as_something_else_is_refused(shop: Workshop, value: Any) -> None:
    rc = served(f"/?join={shop.start.code}")
    send(rc.find(v.TextField, class_="oi-team-name").widget, v_model=value)
    assert "Refused: name:" in page_text(rc)
    assert [r.page for r in refused(shop)] == ["join"] and shop.teams() == []


@pytest.mark.parametrize("query", ["key=%C3%A9", "join=%C3%A9", "team=%C3%A9",
                                   "key=%FF", "team=" + "a" * 5000, "view=debrief"])
def test_an_address_with_a_strange_secret_shows_a_line_not_a_traceback(
        shop: Workshop, query: str) -> None:
    rc = served(f"/?{query}")
    said = page_text(rc)
    assert "not valid" in said or "has no controls" in said
    assert FAULT_TEXT not in said


def test_a_full_disk_on_advance_is_one_line_on_the_facilitators_page(
        shop: Workshop, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import os

    from simulation.viz.workshop import records

    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    assert shop.key is not None
    rc = served(f"/?key={shop.key}")
    monkeypatch.setattr(records.os, "write", full)
    rc.find(v.Btn, children=["Advance"]).widget.click()
    monkeypatch.undo()
    said = page_text(rc)
    assert "No space left on device" in said and "nothing changed" in said
    assert FAULT_TEXT not in said and shop.month == 0


def test_anything_else_that_goes_wrong_shows_a_line_and_tells_the_facilitator(
        shop: Workshop, monkeypatch: pytest.MonkeyPatch) -> None:
    team = shop.join("Red")
    rc = served(f"/?team={team.token}")

    def broken(*args: Any) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(shop, "submit", broken)
    rc.find(v.Btn, children=["Submit decisions"]).widget.click()
    assert FAULT_TEXT in page_text(rc)
    faults = [r for r in read_log(shop.folder / LOG_NAME) if r.kind == "fault"]
    assert len(faults) == 1 and "KeyError" in faults[0].error
    assert shop.key is not None
    console = served(f"/?key={shop.key}")
    assert "KeyError" in "\n".join(str(w.children) for w in console.find(v.Html).widgets)


def test_a_fault_while_a_page_is_drawn_shows_a_line_not_a_traceback(
        shop: Workshop, monkeypatch: pytest.MonkeyPatch) -> None:
    team = shop.join("Red")

    def broken(shop: Workshop) -> Any:
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(page.views, "snapshot", broken)
    rc = served(f"/?team={team.token}")
    assert FAULT_TEXT in page_text(rc)
    faults = [r for r in read_log(shop.folder / LOG_NAME) if r.kind == "fault"]
    assert len(faults) == 1 and "drawing failed" in faults[0].error


def test_every_lever_and_the_price_reach_the_session_through_their_models(
        shop: Workshop) -> None:
    team = shop.join("Red")
    rc = served(f"/?team={team.token}")
    for i, lever in enumerate(LEVERS):
        send(lever_slider(rc, lever), v_model=0.1 * (i + 1))
    send(rc.find(v.TextField, class_="oi-price").widget, v_model="1.3")
    rc.find(v.Btn, children=["Submit decisions"]).widget.click()
    decided = shop.team(team.token).decisions  # type: ignore[union-attr]
    assert decided.levers == pytest.approx({k: 0.1 * (i + 1) for i, k in enumerate(LEVERS)})
    assert decided.price == 1.3 and refused(shop) == []
