"""The Solara page rendered without a browser (solara's test renderer)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipyvuetify as v
import pytest
import solara

from simulation.viz import page as app_page
from simulation.viz.scenarios import FOLDER_ENV, SCENARIO_ENV


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    monkeypatch.delenv(SCENARIO_ENV, raising=False)
    monkeypatch.setenv(FOLDER_ENV, str(tmp_path))
    (tmp_path / "broken.yaml").write_text("turbulence: [0.1\n")
    _, rc = solara.render(app_page.Page(), handle_error=False)
    return rc


def button(rc: Any, label: str) -> Any:
    return rc.find(v.Btn, children=[label]).widget


def month(rc: Any) -> str:
    return str(rc.find(v.Html, class_="oi-month").widget.children[0])


def slider_labels(rc: Any) -> list[str]:
    return [w.label for w in rc.find(v.Slider).widgets]


def test_step_and_reset_move_the_month(rendered: Any) -> None:
    assert month(rendered) == "Month 0"
    button(rendered, "Step").click()
    button(rendered, "Step").click()
    assert month(rendered) == "Month 2"
    button(rendered, "Reset").click()
    assert month(rendered) == "Month 0"


def test_moving_a_slider_redraws_its_label(rendered: Any) -> None:
    clout = next(w for w in rendered.find(v.Slider).widgets if w.label.startswith("Clout"))
    clout.v_model = 0.35
    assert "Clout 0.35" in slider_labels(rendered)


def test_choosing_a_preset_moves_the_sliders(rendered: Any) -> None:
    select = next(w for w in rendered.find(v.Select).widgets
                  if w.label == "Firm A (focal) structure")
    select.v_model = "inside_out"
    assert "Coordination 0.20" in slider_labels(rendered)
    assert "Connections 0.10" in slider_labels(rendered)


def test_a_broken_scenario_is_a_message_on_the_page(rendered: Any) -> None:
    select = next(w for w in rendered.find(v.Select).widgets if w.label == "Scenario")
    select.v_model = "broken.yaml"
    error = rendered.find(v.Alert, class_="oi-error").widget
    assert "broken.yaml could not be loaded" in str(error.children)
    assert next(w for w in rendered.find(v.Select).widgets
                if w.label == "Scenario").v_model is None
    button(rendered, "Step").click()
    assert month(rendered) == "Month 1"


def test_a_bad_seed_is_a_message_on_the_page(rendered: Any) -> None:
    seed = next(w for w in rendered.find(v.TextField).widgets if w.label == "Seed")
    seed.v_model = "twelve"
    seed.fire_event("keyup.enter", None)
    rendered.find(v.Alert, class_="oi-error").assert_single()


def test_the_disruptor_button_adds_an_entrant(rendered: Any) -> None:
    button(rendered, "A disruptor enters now").click()
    entrants = rendered.find(v.Html, class_="oi-entrants").widget
    assert "Disruptors: 1" in str(entrants.children)
