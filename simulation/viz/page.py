"""The Solara page: controls on the left, two firms side by side, plots, the market.

Each browser tab gets its own :class:`~simulation.viz.controller.RunController` (held by
``use_memo`` in the tab's page), so two tabs are two independent runs. The page keeps no
state of the run itself: it calls the controller and redraws from it when the
controller's ``version`` changes. Plots are small SVG strings (see ``svg``), so a redraw
costs the same in month 1000 as in month 10.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any, cast

import solara

from simulation.params import LEVERS
from simulation.viz import scenarios
from simulation.viz.controller import METRICS, STRUCTURES, RunController
from simulation.viz.scenarios import FOLDER_ENV, SCENARIO_ENV
from simulation.viz.svg import EVENT_COLORS, EVENT_LABELS
from simulation.viz.texts import LEVER_TEXT, STRUCTURE_TEXT

SPEEDS: dict[str, float] = {"1 month/s": 1.0, "4 months/s": 0.25, "10 months/s": 0.1,
                             "fastest": 0.0}
"""Play speeds offered, as seconds between two months; a class must be able to follow."""

MIN_PAUSE = 0.03
"""Seconds the play loop leaves the page between two months even at full speed, after the
previous month is drawn: without it, a loop that changes the run while the page redraws
makes every redraw start over."""

DRAW_WAIT = 2.0
"""Most seconds the play loop waits for the page to draw a month before it goes on."""

_BUTTON = {"text-transform": "none"}
_FIRM_LABELS = ("Firm A (focal)", "Firm B (rival)")
_ROLE = ("focal", "rival")


def _start_path() -> Path | None:
    value = os.environ.get(SCENARIO_ENV, "")
    return Path(value) if value else None


def _folder() -> Path | None:
    value = os.environ.get(FOLDER_ENV, "")
    return Path(value) if value else None


def _html(markup: str, testid: str = "") -> None:
    solara.HTML(tag="div", unsafe_innerHTML=markup,
                attributes={"data-testid": testid} if testid else {})


@solara.component
def Controls(  # noqa: N802  (Solara components are named like classes)
        ctrl: RunController, version: int, on_change: Any, set_playing: Any) -> None:
    """The controls: scenario, structures, levers, market conditions, seed.

    ``version`` is the controller's ``settings_version``; it is passed so that the controls
    redraw when the settings change, and only then (reacton skips a component whose
    arguments compare equal, and the controller is the same object throughout).
    """
    files = scenarios.list_scenarios(_start_path(), _folder())
    by_name = {p.name: p for p in files}
    current = ctrl.scenario_path.name if ctrl.scenario_path else None
    s = ctrl.settings

    picked = solara.use_reactive(current)

    def pick(name: str | None) -> None:
        if name is None or name == current:
            return
        set_playing(False)
        if not ctrl.choose_scenario(by_name[name]):
            picked.set(current)  # a refused file must not stay shown as the one running
        on_change()

    if by_name:
        solara.Select(label="Scenario", values=list(by_name), value=picked, on_value=pick)
    else:
        solara.Text("No scenario files found; running the default market.")
    for i, structure in enumerate(s.structures[:2]):
        def choose(name: str, i: int = i) -> None:
            ctrl.set_structure(i, name)
            on_change()
        solara.Select(label=f"{_FIRM_LABELS[i]} structure", values=list(STRUCTURES),
                      value=structure, on_value=choose)
        solara.Text(STRUCTURE_TEXT.get(structure, ""), style={"font-size": "12px"})
    solara.Markdown("**Levers of Firm A** (used at Reset, or by *Reorganize to the sliders*)")
    for lever in LEVERS:
        def move(value: float, lever: str = lever) -> None:
            ctrl.set_lever(lever, value)
            on_change()
        with solara.Div(classes=[f"oi-lever-{lever}"]):
            value = s.levers.get(lever, 0.5)
            solara.SliderFloat(f"{lever.capitalize()} {value:.2f}", value=value, min=0,
                               max=1, step=0.05, on_value=move, thumb_label=True)
            solara.Text(LEVER_TEXT[lever], style={"font-size": "12px", "color": "#555"})
    solara.Markdown("**Market** (used at Reset)")

    def turbulence(value: float) -> None:
        ctrl.set_turbulence(value)
        on_change()

    def entrant_rate(value: float) -> None:
        ctrl.set_entrant_rate(value)
        on_change()

    def seed(text: str) -> None:
        ctrl.set_seed(text)
        on_change()

    solara.SliderFloat("Turbulence", value=s.turbulence, min=0, max=0.2, step=0.005,
                       on_value=turbulence, thumb_label=True)
    solara.Text("How fast customers' needs drift each month.", style={"font-size": "12px"})
    solara.SliderFloat("Disruptor rate", value=s.entrant_rate, min=0, max=0.05, step=0.001,
                       on_value=entrant_rate, thumb_label=True)
    solara.Text("Chance per month that a disruptive newcomer enters.",
                style={"font-size": "12px"})
    solara.InputText("Seed", value=str(s.seed), on_value=seed, continuous_update=False)


@solara.component
def FirmPanel(  # noqa: N802
        ctrl: RunController, version: int, index: int, card: dict[str, Any],
        on_change: Any) -> None:
    """One incumbent: its facts, its departments as a network, its reorganize buttons."""
    other = "inside-out" if card["structure"] == "outside_in" else "outside-in"

    def to_other() -> None:
        ctrl.reorganize_now(index, "other")
        on_change()

    def to_sliders() -> None:
        ctrl.reorganize_now(index, "sliders")
        on_change()

    with solara.Card(style={"width": "318px", "margin": "4px"}):
        state = "alive" if card["alive"] else "FAILED"
        share = card["share"]
        share_text = "–" if share != share else f"{share:.0%}"
        role = f" ({_ROLE[index]})" if card["name"].lower() != _ROLE[index] else ""
        solara.Markdown(
            f"<span style='color:{card['color']}'>&#9632;</span> **{card['name']}**{role} — "
            f"{card['structure'].replace('_', '-')}"
            f", {state}; share {share_text}, cash {card['cash']:.1f}")
        solara.Text("  ".join(f"{k} {v:.2f}" for k, v in card["levers"].items()),
                    style={"font-size": "12px"})
        _html(ctrl.network_svg(index), testid=f"network-box-{index}")
        solara.Text("Node size: clout. Colour: how wrong its belief is (green right, red "
                    "wrong). Thick ring: customer-facing. Lines: the structure's links.",
                    style={"font-size": "11px", "color": "#555"})
        with solara.Column(gap="4px"):
            solara.Button(f"Reorganize this firm now: to {other}", on_click=to_other,
                          style=_BUTTON, small=True, disabled=not card["alive"])
            solara.Button("Reorganize this firm now: to the sliders", on_click=to_sliders,
                          style=_BUTTON, small=True, disabled=not card["alive"])


@solara.component
def ScenarioNote(text: dict[str, Any]) -> None:  # noqa: N802
    """The scenario's title and, folded, what it describes, teaches and asks the class."""
    solara.Markdown(f"**{text['title']}**" + (f" — {text['description']}"
                                             if text["description"] else ""),
                    style={"font-size": "14px"})
    if text["teaches"] or text["questions"]:
        with solara.Details("What it teaches, and questions for the class"):
            if text["teaches"]:
                solara.Markdown(text["teaches"])
            if text["questions"]:
                solara.Markdown("\n".join(f"- {q}" for q in text["questions"]))


@solara.component
def Page() -> None:  # noqa: N802
    """The app's page; one per browser tab."""
    ctrl = solara.use_memo(lambda: RunController(_start_path()), [])
    version, set_version = solara.use_state(ctrl.version)
    playing, set_playing = solara.use_state(False)
    speed, set_speed = solara.use_state("4 months/s")
    chosen, set_dims = solara.use_state(cast(tuple[int, int] | None, None))

    def on_change() -> None:
        set_version(ctrl.version)

    drawn = solara.use_ref(version)

    def mark_drawn() -> None:
        drawn.current = version

    solara.use_effect(mark_drawn, [version])  # effects run once the page is drawn

    def play_loop(cancel: threading.Event) -> None:
        while playing and not cancel.is_set():
            start = time.perf_counter()
            ctrl.step()
            target = ctrl.version
            set_version(target)
            deadline = start + DRAW_WAIT
            while drawn.current < target and time.perf_counter() < deadline:
                if cancel.wait(0.005):
                    return
            cancel.wait(max(MIN_PAUSE, SPEEDS[speed] - (time.perf_counter() - start)))

    solara.use_thread(play_loop, dependencies=[playing, speed], intrusive_cancel=False)

    def step() -> None:
        ctrl.step()
        on_change()

    def reset() -> None:
        set_playing(False)
        ctrl.reset()
        on_change()

    def shock() -> None:
        ctrl.shock_now()
        on_change()

    def disruptor() -> None:
        ctrl.disruptor_now()
        on_change()

    solara.Title("Outside-In")
    # One plain layout (controls in a column on the left, the run on the right) rather than
    # solara's app shell, so what a projector shows does not depend on the window's width.
    with solara.Row(style={"align-items": "flex-start", "flex-wrap": "nowrap"}, gap="0px"):
        with solara.Column(style={"width": "290px", "flex": "0 0 290px", "padding": "8px 10px",
                                  "border-right": "1px solid #ddd"}):
            solara.Markdown("## Outside-In")
            Controls(ctrl, ctrl.settings_version, on_change, set_playing)
        with solara.Column(style={"padding": "8px", "flex": "1 1 auto", "min-width": "0"}):
            with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
                solara.Text(f"Month {ctrl.month}", classes=["oi-month"],
                            style={"font-size": "20px", "font-weight": "bold",
                                   "min-width": "110px"})
                solara.Button("Play", on_click=lambda: set_playing(True), disabled=playing,
                              color="primary", style=_BUTTON)
                solara.Button("Pause", on_click=lambda: set_playing(False), disabled=not playing,
                              style=_BUTTON)
                solara.Button("Step", on_click=step, disabled=playing, style=_BUTTON)
                solara.Button("Reset", on_click=reset, style=_BUTTON)
                solara.Select(label="Speed", values=list(SPEEDS), value=speed, on_value=set_speed,
                              style={"max-width": "170px"}, classes=["oi-speed"])
                solara.Button("Shock customer needs now", on_click=shock, color="error",
                              outlined=True, style=_BUTTON)
                solara.Button("A disruptor enters now", on_click=disruptor, color="purple",
                              outlined=True, style=_BUTTON)
                solara.FileDownload(ctrl.csv, filename=ctrl.csv_name(), label="Download CSV")
            ScenarioNote(ctrl.scenario_text())
            if ctrl.error:
                solara.Error(ctrl.error, classes=["oi-error"])
            elif ctrl.notice:
                solara.Info(ctrl.notice, dense=True)
            cards = ctrl.firm_cards()
            incumbents = [c for c in cards if not c["entrant"]][:2]
            entrants = [c for c in cards if c["entrant"]]
            with solara.Div(style={"display": "flex", "flex-wrap": "wrap",
                                   "align-items": "flex-start"}):
                for i, card in enumerate(incumbents):
                    FirmPanel(ctrl, version, i, card, on_change)
                with solara.Card("The market", style={"width": "390px", "margin": "4px"}):
                    names = ctrl.dimension_names()
                    dims = chosen if chosen is not None and max(chosen) < len(names) \
                        else ctrl.start_dimensions
                    with solara.Row():
                        solara.Select(label="Across", values=names, value=names[dims[0]],
                                      on_value=lambda v: set_dims((names.index(v), dims[1])))
                        solara.Select(label="Up", values=names, value=names[dims[1]],
                                      on_value=lambda v: set_dims((dims[0], names.index(v))))
                    _html(ctrl.market_svg(*dims), testid="market-box")
                    solara.Text("Green circles: segments' needs (dashed: not yet a market). "
                                "Squares: each firm's offering to a segment.",
                                style={"font-size": "11px", "color": "#555"})
                    entrant_text = ", ".join(
                        f"{c['name']} ({'alive' if c['alive'] else 'failed'})" for c in entrants)
                    solara.Div(children=[f"Disruptors: {len(entrants)}"
                                         + (f" — {entrant_text}" if entrants else "")],
                               classes=["oi-entrants"], style={"margin-top": "6px"})
            charts = ctrl.charts()
            with solara.Div(style={"display": "flex", "flex-wrap": "wrap", "gap": "6px"}):
                for metric in METRICS:
                    _html(charts[metric], testid=f"chart-box-{metric}")
            marks = ", ".join(f"<span style='color:{EVENT_COLORS[kind]}'>{label}</span>"
                              for kind, label in EVENT_LABELS.items())
            solara.Markdown(f"Lines: one per firm (dashed: disruptors). Marks: {marks}.")
