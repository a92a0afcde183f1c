"""The Solara page: charts first, the controls in a side drawer, the scenario's Info panel.

Made for a projector: at 1280x720 the month, the Play/Step buttons and a row of charts are
on screen without scrolling; the charts, the market and the two firms' networks sit in a
grid that adds columns on wider screens. Each browser tab gets its own
:class:`~simulation.viz.controller.RunController` (held by ``use_memo``), so two tabs are
two independent runs; the page keeps no state of the run itself and redraws from the
controller when its ``version`` changes.

Every text that comes from a scenario file (titles, descriptions, questions, firm names) is
shown as text, never as HTML or markdown: a file someone sent a facilitator can carry no
script into the page. The pictures are SVG strings whose texts ``svg`` escapes.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, cast

import reacton.ipyvuetify as v
import solara

from simulation.params import LEVERS
from simulation.viz import scenarios
from simulation.viz.controller import METRICS, STRUCTURES, RunController
from simulation.viz.scenarios import FOLDER_ENV, SCENARIO_ENV
from simulation.viz.sharing import GATE, release_memory_soon
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

PLAY_FAULT = ("Something went wrong while this run played; it paused (the other tabs play "
              "on). Play tries again, Reset starts afresh.")
"""What a tab says when its play loop failed (the fault is in the server's output)."""

LOG = logging.getLogger(__name__)

_BUTTON = {"text-transform": "none", "font-size": "15px"}
_FIRM_LABELS = ("Firm A (focal)", "Firm B (rival)")
_SMALL = {"font-size": "13px", "color": "#555"}
_PENDING = {"font-size": "14px", "color": "#b45f06", "font-weight": "bold"}
_GRID = {"display": "grid", "grid-template-columns": "repeat(auto-fill, minmax(400px, 1fr))",
         "gap": "8px", "align-items": "start", "width": "100%"}


def _start_path() -> Path | None:
    value = os.environ.get(SCENARIO_ENV, "")
    return Path(value) if value else None


def _folder() -> Path | None:
    value = os.environ.get(FOLDER_ENV, "")
    return Path(value) if value else None


def _svg(markup: str, testid: str = "") -> None:
    """An SVG picture from ``svg`` (which escapes every text it draws)."""
    solara.HTML(tag="div", unsafe_innerHTML=markup,
                attributes={"data-testid": testid} if testid else {})


def _text(text: str, tag: str = "div", classes: str = "", style: dict[str, str] | None = None,
          ) -> None:
    """Plain text in an element: a text node, never parsed as HTML or as a template."""
    css = "; ".join(f"{k}: {val}" for k, val in (style or {}).items())
    v.Html(tag=tag, children=[str(text)], class_=classes, style_=css)


def _pending(marks: dict[str, str], key: str) -> None:
    # always an element, marked or not: the controls after it keep their widgets (a slider
    # being dragged, a button being clicked) when a mark appears or goes
    with solara.Div():
        if key in marks:
            _text(f"● {marks[key]}", classes="oi-pending", style=_PENDING)


def scenario_choices(files: list[Path]) -> list[dict[str, str]]:
    """Picker entries: each file's title as the text and its file name as the value.

    A file that does not load is listed by name; two files of one title add their names.
    """
    titles = {path.name: _title(path) for path in files}
    counts: dict[str, int] = {}
    for title in titles.values():
        counts[title] = counts.get(title, 0) + 1
    return [{"text": t if counts[t] == 1 else f"{t} ({name})", "value": name}
            for name, t in titles.items()]


_TITLES: dict[tuple[Path, int, int], str] = {}
"""Titles of scenario files already read, by path, modification time and size."""


def _title(path: Path) -> str:
    """A scenario file's title, read once per version of the file (for every tab)."""
    try:
        stat = path.stat()
        key = (path, stat.st_mtime_ns, stat.st_size)
        if key not in _TITLES:
            _TITLES[key] = str(scenarios.load(path).title)
        return _TITLES[key]
    except Exception:  # a broken file is listed by name; picking it shows the error
        return f"{path.name} (does not load)"


@solara.component
def FirmControls(  # noqa: N802  (Solara components are named like classes)
        ctrl: RunController, index: int, structure: str, levers: dict[str, float],
        marks: dict[str, str], on_change: Any) -> None:
    """Preset and lever sliders of one incumbent, each slider showing its value."""
    names = [c["name"] for c in ctrl.firm_cards() if not c["entrant"]]
    name = names[index] if index < len(names) else ""

    def choose(value: str) -> None:
        ctrl.set_structure(index, value)
        on_change()

    with solara.Div(classes=[f"oi-firm-controls-{index}"]):
        _text(f"{_FIRM_LABELS[index]}: {name}", style={"font-weight": "bold",
                                                       "font-size": "16px",
                                                       "margin-top": "10px"})
        solara.Select(label="Structure", values=list(STRUCTURES), value=structure,
                      on_value=choose)
        _text(STRUCTURE_TEXT.get(structure, ""), style=_SMALL)
        _pending(marks, f"structure-{index}")
        for lever in LEVERS:
            def move(value: float, lever: str = lever) -> None:
                ctrl.set_lever(lever, value, index)
                on_change()

            value = levers.get(lever, 0.5)
            with solara.Div(classes=[f"oi-lever-{index}-{lever}"]):
                solara.SliderFloat(f"{lever.capitalize()} {value:.2f}", value=value, min=0,
                                   max=1, step=0.05, on_value=move, thumb_label=True)
                if index == 0:
                    _text(LEVER_TEXT[lever], style=_SMALL)
        _pending(marks, f"levers-{index}")


@solara.component
def Controls(  # noqa: N802
        ctrl: RunController, version: int, on_change: Any, set_playing: Any) -> None:
    """The drawer: scenario, both firms' structures and levers, market conditions, seed.

    ``version`` is the controller's ``settings_version``; it is passed so that the controls
    redraw when the settings change, and only then (reacton skips a component whose
    arguments compare equal, and the controller is the same object throughout).
    """
    files = scenarios.list_scenarios(_start_path(), _folder())
    by_name = {p.name: p for p in files}
    choices = solara.use_memo(lambda: scenario_choices(files), [tuple(files)])
    current = ctrl.scenario_path.name if ctrl.scenario_path else None
    asked, set_asked = solara.use_state(cast(str | None, None))
    s = ctrl.settings
    marks = ctrl.pending()

    def load(name: str) -> None:
        set_asked(None)
        set_playing(False)
        ctrl.choose_scenario(by_name[name])  # refused: the error says why
        on_change()

    def keep() -> None:
        set_asked(None)

    def pick(name: str | None) -> None:
        if name is None or name == current or name not in by_name:
            return
        if ctrl.month > 0:
            set_asked(name)  # a run in progress is not thrown away without asking
        else:
            load(name)

    # After a refused or kept choice the redraw puts the running scenario back in the picker
    # (the browser tests check it); a new picker widget, made while its menu was closing,
    # raised an error in the page.
    if by_name:
        v.Select(label="Scenario", items=choices, v_model=current, on_v_model=pick,
                 class_="oi-scenario", hide_details=True)
    else:
        _text("No scenario files found; running the default market.")
    with solara.Div():  # always there, so that the firms' controls keep their widgets
        if asked is not None:
            title = next((c["text"] for c in choices if c["value"] == asked), asked)
            with solara.Card(classes=["oi-confirm"], style={"background": "#fff4e5"}):
                _text(f"Load “{title}”? The current run (month {ctrl.month}) will be lost.")
                with solara.Row():
                    solara.Button("Load it", on_click=lambda: load(asked), color="warning",
                                  style=_BUTTON)
                    solara.Button("Keep the run", on_click=keep, style=_BUTTON)
    for i, structure in enumerate(s.structures[:2]):
        FirmControls(ctrl, i, structure, dict(s.levers[i]) if i < len(s.levers) else {},
                     marks, on_change)

    def turbulence(value: float) -> None:
        ctrl.set_turbulence(value)
        on_change()

    def entrant_rate(value: float) -> None:
        ctrl.set_entrant_rate(value)
        on_change()

    def seed(text: str) -> None:
        ctrl.set_seed(text)
        on_change()

    _text("Market", style={"font-weight": "bold", "font-size": "16px", "margin-top": "10px"})
    with solara.Div(classes=["oi-turbulence"]):
        solara.SliderFloat(f"Turbulence {s.turbulence:.3f}", value=s.turbulence, min=0,
                           max=0.1, step=0.001, on_value=turbulence, thumb_label=True)
        _text("How fast customers' needs drift each month.", style=_SMALL)
        _pending(marks, "turbulence")
    with solara.Div(classes=["oi-entrant-rate"]):
        solara.SliderFloat(f"Disruptor rate {s.entrant_rate:.3f} a month", value=s.entrant_rate,
                           min=0, max=0.05, step=0.001, on_value=entrant_rate,
                           thumb_label=True)
        _text("Chance per month that a disruptive newcomer enters.", style=_SMALL)
        _pending(marks, "entrant_rate")
    solara.InputText("Seed", value=str(s.seed), on_value=seed, continuous_update=False)
    _pending(marks, "seed")


@solara.component
def FirmPanel(  # noqa: N802
        ctrl: RunController, version: int, index: int, card: dict[str, Any],
        on_change: Any) -> None:
    """One incumbent: its facts, its departments as a network, its reorganize buttons."""
    other = "inside-out" if card["structure"] == "outside_in" else "outside-in"

    def to_other() -> None:
        with GATE.click():
            ctrl.reorganize_now(index, "other")
        on_change()

    def to_sliders() -> None:
        with GATE.click():
            ctrl.reorganize_now(index, "sliders")
        on_change()

    with solara.Card(classes=[f"oi-firm-{index}"], style={"margin": "0"}):
        share = card["share"]
        share_text = "–" if share != share else f"{share:.0%}"
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, gap="6px"):
            _text("■", tag="span", style={"color": card["color"], "font-size": "20px"})
            _text(card["name"], tag="span", style={"font-weight": "bold", "font-size": "17px"})
            _text(f"{_FIRM_LABELS[index]} · {card['structure'].replace('_', '-')} · "
                  f"{'alive' if card['alive'] else 'FAILED'} · share {share_text} · "
                  f"cash {card['cash']:,.1f} months of revenue", tag="span",
                  style={"font-size": "15px"})
        failure = ctrl.failure(index)
        with solara.Div():  # always there, so that what follows keeps its widgets
            if failure:
                solara.Error(failure, classes=[f"oi-failed-{index}"], dense=True)
        _text("  ".join(f"{k} {val:.2f}" for k, val in card["levers"].items()),
              style={"font-size": "14px"})
        _svg(ctrl.network_svg(index), testid=f"network-box-{index}")
        _text("Node size: clout. Colour: how wrong its belief is (green right, red wrong). "
              "Thick ring: customer-facing. Lines: the structure's links.", style=_SMALL)
        with solara.Row(gap="6px", style={"flex-wrap": "wrap"}):
            solara.Button(f"Reorganize now: to {other}", on_click=to_other,
                          style=_BUTTON, small=True, disabled=not card["alive"])
            solara.Button("Reorganize now: to the sliders", on_click=to_sliders,
                          style=_BUTTON, small=True, disabled=not card["alive"])


@solara.component
def MarketPanel(ctrl: RunController, version: int) -> None:  # noqa: N802
    """The segments' needs and the firms' offerings, in two attributes one may pick."""
    chosen, set_dims = solara.use_state(cast(tuple[int, int] | None, None))
    names = ctrl.dimension_names()
    dims = chosen if chosen is not None and max(chosen) < len(names) else ctrl.start_dimensions
    entrants = [c for c in ctrl.firm_cards() if c["entrant"]]
    with solara.Card(classes=["oi-market"], style={"margin": "0"}):
        _text("The market", style={"font-weight": "bold", "font-size": "17px"})
        with solara.Row():
            solara.Select(label="Across", values=names, value=names[dims[0]],
                          on_value=lambda val: set_dims((names.index(val), dims[1])))
            solara.Select(label="Up", values=names, value=names[dims[1]],
                          on_value=lambda val: set_dims((dims[0], names.index(val))))
        _svg(ctrl.market_svg(*dims), testid="market-box")
        _text("Green circles: segments' needs (dashed: not yet a market). Squares: each "
              "firm's offering to a segment, in the firm's colour; the longer its line, the "
              "worse the fit.", style=_SMALL)
        entrant_text = ", ".join(
            f"{c['name']} ({'alive' if c['alive'] else 'failed'})" for c in entrants)
        _text(f"Disruptors: {len(entrants)}" + (f" — {entrant_text}" if entrants else ""),
              classes="oi-entrants", style={"margin-top": "6px", "font-size": "15px"})


@solara.component
def InfoPanel(ctrl: RunController, version: int, on_close: Any) -> None:  # noqa: N802
    """The scenario explained, as NetLogo's Info tab explains a model; all plain text."""
    info = ctrl.info()
    sections = (("What it is", [info["what"]]), ("How it works: the five levers", info["how"]),
                ("Things to notice", info["notice"]), ("Things to try", info["try"]),
                ("Questions for the class", info["questions"]))
    with v.Dialog(v_model=True, max_width="980px", scrollable=True,
                  on_v_model=lambda open_: None if open_ else on_close()), v.Card(class_="oi-info"):
        with v.CardTitle():
            _text(f"Info: {info['title']}", classes="oi-info-title",
                  style={"font-size": "22px", "font-weight": "bold"})
        with v.CardText(style_="font-size: 16px; color: #222; max-height: 70vh"):
            for heading, lines in sections:
                _text(heading, tag="h3", style={"margin": "12px 0 4px 0"})
                with v.Html(tag="ul", class_=f"oi-info-{heading.split()[0].lower()}"):
                    for line in lines:
                        _text(line, tag="li")
        with v.CardActions():
            solara.Button("Close", on_click=on_close, style=_BUTTON)


@solara.component
def Page() -> None:  # noqa: N802
    """The app's page; one per browser tab."""
    ctrl = solara.use_memo(lambda: RunController(_start_path()), [])
    version, set_version = solara.use_state(ctrl.version)
    playing, set_playing = solara.use_state(False)
    speed, set_speed = solara.use_state("4 months/s")
    drawer, set_drawer = solara.use_state(False)
    info_open, set_info = solara.use_state(False)
    large, set_large = solara.use_state(cast(str | None, None))
    context = solara.use_memo(_kernel_context, [])

    def on_change() -> None:
        set_version(ctrl.version)

    def free_the_run() -> Any:
        def cleanup() -> None:  # the tab is gone: its run goes with it
            GATE.leave(ctrl)
            ctrl.close()
            release_memory_soon()
        return cleanup

    solara.use_effect(free_the_run, [])
    drawn = solara.use_ref(version)
    drawn_event = solara.use_memo(threading.Event, [])

    def mark_drawn() -> None:
        drawn.current = version
        drawn_event.set()

    solara.use_effect(mark_drawn, [version])  # effects run once the page is drawn

    def play_loop(cancel: threading.Event) -> None:
        if not playing:
            return
        GATE.join(ctrl)
        try:
            while not cancel.is_set():
                if not _connected(context):  # nobody watches: do not spend the server on it
                    if cancel.wait(0.5) or _closed(context):
                        return
                    continue
                start = time.perf_counter()
                with GATE.turn(cancel) as got:
                    if not got:
                        return
                    drawn_event.clear()
                    go_on = ctrl.play_step()
                    target = ctrl.version
                    set_version(target)
                    # the month counts as drawn once the page's effects ran (no polling: thirty
                    # tabs that poll take the server's time from the one that clicks)
                    if drawn.current < target:
                        drawn_event.wait(DRAW_WAIT)
                if cancel.is_set():
                    return
                if not go_on:
                    set_playing(False)
                    return
                pause = GATE.interval(SPEEDS[speed]) - (time.perf_counter() - start)
                cancel.wait(max(MIN_PAUSE, pause))
        except Exception:  # a fault in this tab's run pauses this tab, never the others
            LOG.exception("the play loop of a tab failed")
            ctrl.fail(PLAY_FAULT)
            set_version(ctrl.version)
            set_playing(False)
        finally:
            GATE.leave(ctrl)

    solara.use_thread(play_loop, dependencies=[playing, speed], intrusive_cancel=False)

    def clicked(action: Any) -> Any:
        def run() -> None:
            with GATE.click():
                action()
            on_change()
        return run

    def reset() -> None:
        set_playing(False)
        clicked(ctrl.reset)()

    solara.Title("Outside-In")
    with solara.Column(gap="0px", style={"padding": "4px 8px"}):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, gap="6px"):
            solara.Button("☰ Controls", on_click=lambda: set_drawer(not drawer),
                          style=_BUTTON, outlined=not drawer, classes=["oi-drawer-toggle"])
            _text(f"Month {ctrl.month}", classes="oi-month",
                  style={"font-size": "24px", "font-weight": "bold", "min-width": "120px"})
            solara.Button("Play", on_click=lambda: set_playing(True), disabled=playing,
                          color="primary", style=_BUTTON)
            solara.Button("Pause", on_click=lambda: set_playing(False), disabled=not playing,
                          style=_BUTTON)
            solara.Button("Step", on_click=clicked(ctrl.step), disabled=playing, style=_BUTTON)
            solara.Button("Reset", on_click=reset, style=_BUTTON)
            solara.Select(label="Speed", values=list(SPEEDS), value=speed, on_value=set_speed,
                          style={"max-width": "140px"}, classes=["oi-speed"])
            solara.Button("Shock needs now", on_click=clicked(ctrl.shock_now), color="error",
                          outlined=True, style=_BUTTON)
            solara.Button("Disruptor enters now", on_click=clicked(ctrl.disruptor_now),
                          color="purple", outlined=True, style=_BUTTON)
            solara.Button("Info", on_click=lambda: set_info(True), style=_BUTTON,
                          color="primary", outlined=True, classes=["oi-info-button"])
        with solara.Row(style={"align-items": "center", "min-height": "30px"}, gap="12px"):
            _text(ctrl.scenario_text()["title"], classes="oi-title",
                  style={"font-size": "18px", "font-weight": "bold"})
            if ctrl.end_month is not None:
                _text(f"{ctrl.end_month} months", style={"font-size": "15px", "color": "#555"})
            solara.FileDownload(ctrl.csv, filename=ctrl.csv_name(), label="Download CSV")
            if playing and GATE.interval(SPEEDS[speed]) > SPEEDS[speed] + 1e-9:
                _text("Many tabs are playing: this one plays slower so that every click "
                      "stays quick.", classes="oi-slowed", style=_SMALL)
        with solara.Div():  # always there: a message coming or going redraws nothing below
            if ctrl.error:
                solara.Error(ctrl.error, classes=["oi-error"], dense=True)
            elif ctrl.notice:
                solara.Info(ctrl.notice, dense=True, classes=["oi-notice"])
        with solara.Row(style={"align-items": "flex-start", "flex-wrap": "nowrap"}, gap="8px"):
            if drawer:
                with solara.Column(classes=["oi-drawer"], style={
                        "width": "330px", "flex": "0 0 330px", "padding": "0 8px",
                        "border-right": "1px solid #ddd", "max-height": "calc(100vh - 110px)",
                        "overflow-y": "auto"}):
                    Controls(ctrl, ctrl.settings_version, on_change, set_playing)
            with solara.Div(style=_GRID, classes=["oi-grid"]):
                charts = ctrl.charts(large)
                order = ([large] if large else []) + [m for m in METRICS if m != large]
                for metric in order:
                    wide = metric == large
                    with solara.Div(classes=["oi-chart"], style={
                            "grid-column": "1 / -1" if wide else "auto", "position": "relative",
                            "border": "1px solid #e0e0e0", "border-radius": "4px",
                            "padding": "2px"}):
                        _svg(charts[metric], testid=f"chart-box-{metric}")
                        solara.Button("smaller" if wide else "large",
                                      on_click=lambda m=metric, w=wide: set_large(None if w else m),
                                      small=True, text=True, classes=[f"oi-large-{metric}"],
                                      style={**_BUTTON, "position": "absolute", "top": "0",
                                             "right": "0", "font-size": "14px"})
                MarketPanel(ctrl, version)
                cards = [c for c in ctrl.firm_cards() if not c["entrant"]][:2]
                for i, card in enumerate(cards):
                    FirmPanel(ctrl, version, i, card, on_change)
    if info_open:
        InfoPanel(ctrl, version, lambda: set_info(False))


def _kernel_context() -> Any:
    """The tab's server-side context (``None`` outside a server, as in tests)."""
    try:
        from solara.server import kernel_context

        return kernel_context.get_current_context()
    except Exception:  # no server: a test renders the page alone
        return None


def _connected(context: Any) -> bool:
    """Whether the tab's page is connected (always, outside a server)."""
    if context is None:
        return True
    from solara.server.kernel_context import PageStatus

    statuses = list(dict(context.page_status).values())
    return not statuses or PageStatus.CONNECTED in statuses  # no pages: rendered in a test


def _closed(context: Any) -> bool:
    return context is not None and context.closed_event.is_set()
