"""The Solara page rendered without a browser (solara's test renderer)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipyvuetify as v
import pytest
import solara
import solara.widgets
import yaml

from simulation.viz import page as app_page
from simulation.viz.controller import RunController
from simulation.viz.scenarios import FOLDER_ENV, SCENARIO_ENV

HOSTILE = "<img src=x onerror=\"document.title='x'\"> {{ 7*7 }}"

SCENARIO = yaml.safe_dump({
    "extends": "stable-market",
    "title": f"Hostile {HOSTILE}",
    "description": "A plain market; the title carries markup.",
    "teaches": "Text stays text.",
    "questions": [f"Which firm wins? {HOSTILE}", "Why does the second question show?"],
    "steps": 3,
    "firms": [{"name": f"Us {HOSTILE}", "structure": "inside_out"},
              {"name": "Them", "structure": "outside_in"}],
})


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    monkeypatch.delenv(SCENARIO_ENV, raising=False)
    monkeypatch.setenv(FOLDER_ENV, str(tmp_path))
    (tmp_path / "broken.yaml").write_text("turbulence: [0.1\n")
    (tmp_path / "hostile.yaml").write_text(SCENARIO)
    _, rc = solara.render(app_page.Page(), handle_error=False)
    button(rc, "☰ Controls").click()
    return rc


@pytest.fixture
def hostile(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    path = tmp_path / "hostile.yaml"
    path.write_text(SCENARIO)
    monkeypatch.setenv(SCENARIO_ENV, str(path))
    monkeypatch.delenv(FOLDER_ENV, raising=False)
    _, rc = solara.render(app_page.Page(), handle_error=False)
    return rc


def button(rc: Any, label: str) -> Any:
    return rc.find(v.Btn, children=[label]).widget


def month(rc: Any) -> str:
    return str(rc.find(v.Html, class_="oi-month").widget.children[0])


def slider_labels(rc: Any) -> list[str]:
    return [w.label for w in rc.find(v.Slider).widgets]


def texts(rc: Any, class_: str) -> list[str]:
    return [str(c) for w in rc.find(v.Html, class_=class_).widgets for c in w.children]


def card(rc: Any, class_: str) -> Any:
    """The card of that class (solara adds its own classes beside ours)."""
    from reacton.find import Finder

    found = [w for w in rc.find(v.Card).widgets if class_ in w.class_.split()]
    assert len(found) == 1, f"{len(found)} cards of class {class_}"
    return Finder(found)


def scenario_select(rc: Any) -> Any:
    return rc.find(v.Select, class_="oi-scenario").widget


def test_step_and_reset_move_the_month(rendered: Any) -> None:
    assert month(rendered) == "Month 0"
    button(rendered, "Step").click()
    button(rendered, "Step").click()
    assert month(rendered) == "Month 2"
    button(rendered, "Reset").click()
    assert month(rendered) == "Month 0"


def test_every_slider_shows_its_value_and_redraws_it(rendered: Any) -> None:
    labels = slider_labels(rendered)
    assert len(labels) == 2 * 5 + 2  # both firms' levers, turbulence, disruptor rate
    assert all(any(ch.isdigit() for ch in label) for label in labels), labels
    clout = next(w for w in rendered.find(v.Slider).widgets if w.label.startswith("Clout"))
    clout.v_model = 0.35
    assert "Clout 0.35" in slider_labels(rendered)
    turbulence = next(w for w in rendered.find(v.Slider).widgets
                      if w.label.startswith("Turbulence"))
    turbulence.v_model = 0.1
    assert "Turbulence 0.100" in slider_labels(rendered)


def test_both_firms_levers_can_be_set(rendered: Any) -> None:
    rival = rendered.find(v.Html, class_="oi-lever-1-clout").find(v.Slider).widget
    rival.v_model = 0.9
    assert "Clout 0.90" in slider_labels(rendered)
    button(rendered, "Reset").click()
    lines = [str(c) for w in card(rendered, "oi-firm-1").find(v.Html).widgets
             for c in w.children]
    assert any("clout 0.90" in line for line in lines), lines


def test_choosing_a_preset_moves_that_firms_sliders(rendered: Any) -> None:
    select = next(w for w in rendered.find(v.Select).widgets if w.label == "Structure")
    select.v_model = "inside_out"
    assert "Coordination 0.20" in slider_labels(rendered)
    assert "Connections 0.10" in slider_labels(rendered)


def test_pending_changes_are_marked_until_they_apply(rendered: Any) -> None:
    assert texts(rendered, "oi-pending") == []
    clout = next(w for w in rendered.find(v.Slider).widgets if w.label.startswith("Clout"))
    clout.v_model = 0.35
    turbulence = next(w for w in rendered.find(v.Slider).widgets
                      if w.label.startswith("Turbulence"))
    turbulence.v_model = 0.1
    marks = texts(rendered, "oi-pending")
    assert "● applies at Reset, or Reorganize to the sliders" in marks
    assert "● applies at Reset" in marks
    card(rendered, "oi-firm-0").find(v.Btn, children=["Reorganize now: to the sliders"]).widget \
        .click()  # the lever applies now
    assert texts(rendered, "oi-pending") == ["● applies at Reset"]  # turbulence still waits
    button(rendered, "Reset").click()
    assert texts(rendered, "oi-pending") == []


def test_a_broken_scenario_is_a_message_on_the_page(rendered: Any) -> None:
    assert any(c["text"] == "broken.yaml (does not load)" for c in scenario_select(rendered).items)
    scenario_select(rendered).v_model = "broken.yaml"
    error = rendered.find(v.Alert, class_="oi-error").widget
    assert "broken.yaml could not be loaded" in str(error.children)
    assert scenario_select(rendered).v_model is None
    button(rendered, "Step").click()
    assert month(rendered) == "Month 1"


def test_the_picker_shows_titles(rendered: Any) -> None:
    items = {c["value"]: c["text"] for c in scenario_select(rendered).items}
    assert items["freeze-up.yaml"] == "Freeze-up"


def test_changing_scenario_mid_run_asks_first(rendered: Any) -> None:
    button(rendered, "Step").click()
    scenario_select(rendered).v_model = "freeze-up.yaml"
    card(rendered, "oi-confirm")
    button(rendered, "Keep the run").click()
    assert month(rendered) == "Month 1" and scenario_select(rendered).v_model is None
    scenario_select(rendered).v_model = "freeze-up.yaml"
    button(rendered, "Load it").click()
    assert month(rendered) == "Month 0" and texts(rendered, "oi-title") == ["Freeze-up"]


def test_a_bad_seed_is_a_message_on_the_page(rendered: Any) -> None:
    seed = next(w for w in rendered.find(v.TextField).widgets if w.label == "Seed")
    seed.v_model = "twelve"
    seed.fire_event("keyup.enter", None)
    rendered.find(v.Alert, class_="oi-error").assert_single()


def test_the_disruptor_button_adds_an_entrant(rendered: Any) -> None:
    button(rendered, "Disruptor enters now").click()
    assert texts(rendered, "oi-entrants") == ["Disruptors: 1 — entrant-1 (alive)"]


def test_the_run_pauses_at_the_scenarios_last_month(hostile: Any) -> None:
    button(hostile, "Play").click()
    import time

    deadline = time.monotonic() + 20
    while month(hostile) != "Month 3" and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    assert month(hostile) == "Month 3"
    assert not button(hostile, "Play").disabled  # paused; Play again goes on
    assert "last month" in str(hostile.find(v.Alert, class_="oi-notice").widget.children)


def test_the_info_panel_shows_the_scenarios_story_and_questions(hostile: Any) -> None:
    button(hostile, "Info").click()
    info = hostile.find(v.Card, class_="oi-info")
    lines = [str(c) for w in info.find(v.Html, tag="li").widgets for c in w.children]
    assert f"Which firm wins? {HOSTILE}" in lines
    assert "Why does the second question show?" in lines
    assert any("Reset" in line for line in lines)  # things to try
    assert any("strong in" in line or "weak in" in line for line in lines)


def test_scenario_text_is_never_markup(hostile: Any) -> None:
    button(hostile, "Info").click()
    assert texts(hostile, "oi-title") == [f"Hostile {HOSTILE}"]
    # the pictures (inserted as HTML, never compiled as templates) carry the names escaped
    pictures = [str(w.unsafe_innerHTML) for w in hostile.find(solara.widgets.HTML).widgets]
    assert any("Us &lt;img src=x onerror=" in p for p in pictures)
    assert not any("<img" in p for p in pictures)
    # no template (markdown renders as one) carries any text of the scenario
    templates = [str(getattr(w, "template", "")) for w in hostile.find(v.VuetifyTemplate).widgets]
    assert not any("7*7" in t or "onerror" in t for t in templates)


def test_a_failed_firm_says_when_and_why() -> None:
    from tests.viz.test_controller import Factory

    ctrl = RunController(model_factory=Factory(starting_cash=0.5, fixed_cost=1.5))
    ctrl.step(5)
    card = [c for c in ctrl.firm_cards() if not c["entrant"]][0]
    _, rc = solara.render(app_page.FirmPanel(ctrl, ctrl.version, 0, card, lambda: None),
                          handle_error=False)
    alert = rc.find(v.Alert, class_="oi-failed-0").widget
    text = str(alert.children)
    assert "focal failed in month" in text and "cash ran out" in text
    assert button(rc, "Reorganize now: to inside-out").disabled


def test_a_tab_with_no_connected_page_does_not_play() -> None:
    import threading
    from types import SimpleNamespace

    from solara.server.kernel_context import PageStatus

    def context(*statuses: PageStatus) -> Any:
        return SimpleNamespace(page_status={str(i): s for i, s in enumerate(statuses)},
                               closed_event=threading.Event())

    assert app_page._connected(None)  # no server: a test renders the page
    assert app_page._connected(context())
    assert app_page._connected(context(PageStatus.DISCONNECTED, PageStatus.CONNECTED))
    assert not app_page._connected(context(PageStatus.DISCONNECTED))
    assert not app_page._connected(context(PageStatus.CLOSED))
    closed = context(PageStatus.CLOSED)
    closed.closed_event.set()
    assert app_page._closed(closed) and not app_page._closed(None)


def test_scenario_titles_are_read_once_per_version_of_a_file(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    calls: list[Path] = []
    real = app_page.scenarios.load

    def counting(p: Path) -> Any:
        calls.append(p)
        return real(p)

    monkeypatch.setattr(app_page.scenarios, "load", counting)
    assert app_page.scenario_choices([path]) == app_page.scenario_choices([path])
    assert len(calls) == 1
    path.write_text(SCENARIO.replace("Hostile", "Changed title"))  # another size
    assert app_page.scenario_choices([path])[0]["text"].startswith("Changed")


def test_a_play_loop_that_fails_pauses_its_own_tab_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.delenv(SCENARIO_ENV, raising=False)
    monkeypatch.delenv(FOLDER_ENV, raising=False)
    first: list[RunController] = []
    play_step = RunController.play_step

    def faulty(self: RunController) -> bool:  # the first tab's run breaks at its month 2
        if not first:
            first.append(self)
        if self is first[0] and self.month >= 2:
            raise RuntimeError("a fault in this run")
        return play_step(self)

    monkeypatch.setattr(RunController, "play_step", faulty)
    _, broken = solara.render(app_page.Page(), handle_error=False)
    _, other = solara.render(app_page.Page(), handle_error=False)
    button(broken, "Play").click()
    button(other, "Play").click()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (button(broken, "Play").disabled
                                           or month(other) in ("Month 0", "Month 1",
                                                               "Month 2", "Month 3")):
        time.sleep(0.05)
    seen = month(other)
    time.sleep(0.5)
    assert month(broken) == "Month 2"
    assert not button(broken, "Play").disabled  # paused: Play again is offered
    assert str(broken.find(v.Alert, class_="oi-error").widget.children[0]) == app_page.PLAY_FAULT
    assert button(other, "Play").disabled and month(other) != seen  # the other tab plays on
    button(other, "Pause").click()
