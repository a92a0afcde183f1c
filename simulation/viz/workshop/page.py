"""The workshop's pages: join, a team's firm, the facilitator's console, the debrief.

One address serves them all; the query says which page it is and carries its secret:
``?join=CODE`` (the join page), ``?team=TOKEN`` (a team's page, given when it joins: a reload
brings the team back to its firm, and without the token no page can steer it), ``?key=KEY``
(the facilitator's console; ``&view=debrief`` for the debrief), ``?observe=CODE`` (the
observers' join page) and ``?observer=TOKEN`` (an observer's page: every team, read-only).
An address without a valid secret shows a line saying so and no controls.

The market is the process's one :class:`~simulation.viz.workshop.session.Workshop`; each
browser session keeps only what its user is typing, and a thread per page (with a secret)
waits for the market's version to move and then redraws the page.

Every value a widget sends is parsed by its action's model
(:mod:`~simulation.viz.workshop.messages`) before it touches the page's state or the
session; a refused one is shown on the page and logged. Whatever else goes wrong while a page
is drawn or handles a click, the page shows "something went wrong" (never a traceback) and
the fault is logged for the facilitator.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import Any, cast

import reacton.ipyvuetify as v
import solara

from simulation.outcomes import MONTHS_OF_REVENUE
from simulation.params import LEVERS
from simulation.viz.controller import preset_levers
from simulation.viz.page import _svg, _text
from simulation.viz.texts import LEVER_TEXT
from simulation.viz.workshop import exports, views, whatif
from simulation.viz.workshop.messages import (
    GRANT_MAX,
    PRICE_RANGE,
    ActMessage,
    BroadcastMessage,
    DeadlineMessage,
    DraftMessage,
    GrantMessage,
    JoinMessage,
    LeverMessage,
    PriceMessage,
    Query,
    RefusedError,
    RemoveMessage,
    ReorganizeMessage,
    ResearchMessage,
    SubmitMessage,
    WorkshopError,
    parse,
)
from simulation.viz.workshop.session import RESEARCH_COST, Team, Workshop

LOG = logging.getLogger(__name__)

FAULT_TEXT = "Something went wrong; the facilitator has been told."
"""What a page shows instead of a traceback."""

NEVER_JOINED_CULL_S = 2.0
"""Seconds a disconnected page without a team or key is kept (solara's default: minutes)."""

_SHOP: list[Workshop] = []
"""The process's workshop (set by the server before the first page is served)."""

_RUNNER: list[whatif.Runner] = []
"""The engine that runs the debrief's futures (handed over by the command that serves)."""

_BUTTON = {"text-transform": "none", "font-size": "15px"}
_SMALL = {"font-size": "13px", "color": "#555"}
_BIG = {"font-size": "24px", "font-weight": "bold"}
_GRID = {"display": "grid",
         "grid-template-columns": "repeat(auto-fill, minmax(min(380px, 100%), 1fr))",
         "gap": "8px", "align-items": "start", "width": "100%"}
_CSS = """
.oi-wide { grid-column: span 2; }
@media (max-width: 820px) { .oi-wide { grid-column: 1 / -1; } }
"""
"""A card two columns wide on a projector, the page's width on a phone."""

_REORGANIZE = {"": "no: the sliders", "inside_out": "inside-out preset",
               "outside_in": "outside-in preset"}


def install(shop: Workshop, runner: whatif.Runner | None = None) -> None:
    """Make ``shop`` the workshop every page of this process shows.

    ``runner`` runs the debrief's "what if" futures (without one the debrief has none).
    """
    _SHOP.clear()
    _SHOP.append(shop)
    _RUNNER.clear()
    if runner is not None:
        _RUNNER.append(runner)


def shared() -> Workshop:
    """The process's workshop."""
    if not _SHOP:
        raise RuntimeError("no workshop is installed; start it with `outsidein workshop`")
    return _SHOP[0]


def _query(search: str | None) -> Query | None:
    """The address's query, parsed (``None``: not one this workshop gives out)."""
    try:
        pairs = urllib.parse.parse_qs(search or "", max_num_fields=8, errors="strict")
        return parse(Query, **{k: vals[0] for k, vals in pairs.items()})
    except (RefusedError, ValueError):
        return None


def admits(query: str) -> bool:
    """Whether a page load with this query string opens a page (the server's gate).

    Only an address with the facilitator's key, a team's or an observer's token, the join
    code or the observers' code starts a session; any other gets a plain page and costs the
    server nothing.
    """
    parsed = _query(query)
    if parsed is None or not _SHOP:
        return False
    shop = _SHOP[0]
    return (shop.check_key(parsed.key) or (parsed.team is not None
                                           and shop.team(parsed.team) is not None)
            or (parsed.observer is not None and shop.observer(parsed.observer) is not None)
            or shop.check_code(parsed.join) or shop.check_observe_code(parsed.observe))


def guarded(shop: Workshop, page: str, action: str, set_error: Callable[[str | None], None],
            team: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., None]]:
    """Wrap a widget's handler: refusals and faults become a line on the page.

    Never a traceback.
    A :class:`~simulation.viz.workshop.messages.RefusedError` message (no page offers it) is
    logged as refused; a :class:`WorkshopError` (a rule of the session) is only shown; any
    other exception is logged as a fault, with its traceback in the server's output.
    """
    def wrap(handler: Callable[..., Any]) -> Callable[..., None]:
        def run(*args: Any) -> None:
            try:
                handler(*args)
            except RefusedError as exc:
                shop.note_refused(page, action, str(exc), team)
                set_error(f"Refused: {exc}")
            except WorkshopError as exc:
                set_error(str(exc))
            except Exception as exc:
                LOG.exception("workshop page %s, action %s", page, action)
                shop.note_fault(page, f"{action}: {type(exc).__name__}: {exc}")
                set_error(FAULT_TEXT)
        return run
    return wrap


def _context() -> Any:
    """The page's solara session (``None`` when drawn outside a server, as in tests)."""
    try:
        from solara.server import kernel_context

        return kernel_context.get_current_context()
    except Exception:  # noqa: BLE001 - no server, no session
        return None


def _cull_soon(context: Any, soon: bool) -> None:
    """Let solara drop this page's session within seconds once it disconnects (or not).

    A page without a team or key holds nothing to come back to, and a flood of them must not
    hold memory and threads for solara's usual minutes.
    """
    if context is None:
        return
    if soon:
        context._cull_timeout_seconds = lambda: NEVER_JOINED_CULL_S  # type: ignore[method-assign]
    else:
        context.__dict__.pop("_cull_timeout_seconds", None)


def _connected(context: Any) -> bool:
    """Whether this page's browser is connected (a dropped page is not redrawn)."""
    if context is None:
        return True
    from solara.server import kernel_context

    statuses = list(getattr(context, "page_status", {}).values())
    return not statuses or kernel_context.PageStatus.CONNECTED in statuses


def _money(value: float) -> str:
    """Money in months of one firm's fair share of revenue, as every face shows it.

    On a team's page with a second decimal below 10: a lever's upkeep is a fraction of a month.
    """
    return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.1f}"


@solara.component
def Page() -> None:  # noqa: N802
    """The workshop page; which one depends on the address's query.

    The error boundary of every workshop page: whatever a part below raises while it is
    drawn or handles a click, the page says :data:`FAULT_TEXT` and the fault is logged.
    """
    shop = shared()
    exc, clear = solara.use_exception()
    if exc is not None:  # (solara.Title here would make the boundary render in a loop)
        FaultNotice(shop, exc, clear)
        return
    Body(shop)


@solara.component
def FaultNotice(shop: Workshop, exc: BaseException, clear: Callable[[], None]) -> None:  # noqa: N802
    """What a page shows when something went wrong: one line, and a way back."""
    def tell() -> None:
        LOG.error("workshop page fault", exc_info=exc)
        shop.note_fault("none", f"{type(exc).__name__}: {exc}")

    solara.use_effect(tell, [exc])
    with solara.Column(style={"padding": "10px"}):
        _text(FAULT_TEXT, classes="oi-fault", style={"font-size": "18px"})
        solara.Button("Back to the page", on_click=clear, style=_BUTTON)


@solara.component
def Body(shop: Workshop) -> None:  # noqa: N802
    """The page its address's secret opens (or a line saying there is none)."""
    router = solara.use_router()
    query = _query(router.search)
    version, set_version = solara.use_state(shop.version)
    facilitator = query is not None and shop.check_key(query.key)
    team = shop.team(query.team) if query is not None and query.team else None
    observer = shop.observer(query.observer) if query is not None and query.observer else None
    live = facilitator or team is not None or observer is not None
    context = _context()
    solara.use_effect(lambda: _cull_soon(context, not live), [live])

    def watch(cancel: threading.Event) -> None:
        seen = version
        while live and not cancel.is_set():
            now = shop.wait_for_change(seen, 1.0)
            # a dropped page is not redrawn; it catches up when its browser comes back
            if now != seen and not cancel.is_set() and _connected(context):
                seen = now
                set_version(now)

    solara.use_thread(watch, dependencies=[live], intrusive_cancel=False)
    solara.Title("Outside-In workshop")
    solara.Style(_CSS)
    with solara.Column(gap="4px", style={"padding": "4px 10px"}):
        messages = shop.messages()
        with solara.Div():  # always there, so that what follows keeps its place (and state)
            if messages:
                solara.Warning(f"From the facilitator: {messages[-1]}", dense=True,
                               classes=["oi-broadcast"])
        with solara.Div():  # always there, so that what follows keeps its place (and state)
            if live:
                RoundBanner(shop, version)
        if facilitator:
            assert query is not None
            if query.view == "debrief":
                Debrief(shop, version)
            else:
                Facilitator(shop, version, str(query.key))
            return
        if team is not None:
            TeamPage(shop, str(query.team if query else ""), version)
        elif observer is not None:
            ObserverPage(shop, observer, version)
        elif query is not None and (query.team is not None or query.observer is not None):
            _text("This link is not valid (the team may have been removed). "
                  "Ask the facilitator for the join link.", classes="oi-refused",
                  style={"font-size": "18px"})
        elif query is not None and shop.check_code(query.join):
            JoinPage(shop, lambda token: router.push(f"{router.path}?team={token}"))
        elif query is not None and shop.check_observe_code(query.observe):
            JoinPage(shop, lambda token: router.push(f"{router.path}?observer={token}"),
                     role="observer")
        else:
            _text("Outside-In workshop. Open the join link your facilitator gives you; "
                  "this address alone has no controls.", classes="oi-refused",
                  style={"font-size": "18px"})


@solara.component
def JoinPage(shop: Workshop, on_joined: Any, role: str = "team") -> None:  # noqa: N802
    """A team (or an observer) types its name, and the room's password if it has one."""
    name, set_name = solara.use_state("")
    password, set_password = solara.use_state("")
    error, set_error = solara.use_state(cast(str | None, None))
    guard = guarded(shop, "join", "join", set_error)

    @guard
    def type_name(value: Any) -> None:
        set_name(parse(JoinMessage, name=value).name)

    @guard
    def type_password(value: Any) -> None:
        set_password(parse(JoinMessage, name="", password=value).password)

    @guard
    def join() -> None:
        message = parse(JoinMessage, name=name, password=password)
        if role == "observer":
            on_joined(shop.watch(message.name, message.password))
        else:
            on_joined(shop.join(message.name, message.password).token)

    joined, allowed = shop.joined()[role]
    full = " The workshop is full." if joined >= allowed else ""
    if role == "observer":
        _text("Observe the workshop", style=_BIG)
        _text(f"Month {shop.month} · round {shop.round}. An observer sees every team's page "
              f"and changes nothing. Observers: {joined} / {allowed}.{full}",
              style={"font-size": "16px"}, classes="oi-caps")
    else:
        _text("Join the workshop", style=_BIG)
        _text(f"Month {shop.month} · round {shop.round}. Each team steers one firm of the "
              f"market. Teams: {joined} / {allowed}.{full}", style={"font-size": "16px"},
              classes="oi-caps")
    with solara.Row(style={"align-items": "center", "max-width": "560px",
                           "flex-wrap": "wrap"}):
        v.TextField(label="Observer name" if role == "observer" else "Team name",
                    v_model=name, on_v_model=type_name, class_="oi-team-name")
        if shop.has_password:
            v.TextField(label="Room password", v_model=password, on_v_model=type_password,
                        type="password", class_="oi-password")
        solara.Button("Watch" if role == "observer" else "Join", on_click=join,
                      color="primary", style=_BUTTON)
    if error:
        solara.Error(error, dense=True, classes=["oi-error"])


@solara.component_vue("countdown.vue")
def Countdown(seconds: float, number: int, then: str) -> None:  # noqa: N802
    """A round's countdown: the seconds left when drawn, the round, and what comes then.

    The browser ticks it (``countdown.vue``); the server sends nothing while it counts.
    """


def countdown_text(seconds: float, round_: int, then: str) -> str:
    """What the countdown says with ``seconds`` left (the browser's template says the same)."""
    if seconds <= 0:
        return f"Round {round_} is closing…"
    left = math.ceil(seconds)
    said = "then it runs" if then == "advance" else "then it locks"
    return f"Round {round_} closes in {left // 60}:{left % 60:02d}, {said}."


@solara.component
def RoundBanner(shop: Workshop, version: int) -> None:  # noqa: N802
    """On every page: a practice round says so; a round's deadline counts down."""
    view = views.snapshot(shop)
    deadline = view["deadline"]
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}, gap="12px"):
        if view["practice"]:
            _text("PRACTICE ROUND: the market goes back to month 0 before the real rounds.",
                  classes="oi-practice", tag="span",
                  style={"background": "#fff3cd", "padding": "2px 8px", "font-weight": "bold",
                         "font-size": "15px"})
        if deadline is not None:
            Countdown(seconds=max(0.0, deadline[0] - time.time()), number=view["round"],
                      then=deadline[1])


@solara.component
def TeamPage(shop: Workshop, token: str, version: int) -> None:  # noqa: N802
    """A team's firm: its figures, network, the market, and this round's decisions."""
    view = views.snapshot(shop)
    found = shop.team(token)
    if found is None:  # removed while the page was drawn
        _text("This team has been removed from the workshop.", classes="oi-refused")
        return
    team: Team = found
    card = view["cards"][team.firm]
    levers, set_levers = solara.use_state(dict(team.decisions.levers))
    price, set_price = solara.use_state(f"{team.decisions.price:.2f}")
    target, set_target = solara.use_state("")
    error, set_error = solara.use_state(cast(str | None, None))
    guard = guarded(shop, "team", "submit", set_error, team.name)

    def new_round() -> None:  # a new round starts from the decisions in force
        set_levers(dict(team.decisions.levers))
        set_price(f"{team.decisions.price:.2f}")
        set_target("")

    solara.use_effect(new_round, [view["round"]])

    @guard
    def submit() -> None:
        try:
            value = float(price.strip())
        except ValueError:
            raise WorkshopError(f"Price: {price!r} is not a number between "
                                f"{PRICE_RANGE[0]:g} and {PRICE_RANGE[1]:g}.") from None
        if not PRICE_RANGE[0] <= value <= PRICE_RANGE[1]:  # typed: a person's slip
            raise WorkshopError(f"Price: {price.strip()} is outside [{PRICE_RANGE[0]:g}, "
                                f"{PRICE_RANGE[1]:g}].")
        d = parse(SubmitMessage, role="team", decisions={
            "levers": levers, "price": value, "reorganize": target}).decisions
        shop.submit(token, d.levers, d.price, d.reorganize)
        set_error(None)

    @guarded(shop, "team", "research", set_error, team.name)
    def research() -> None:
        parse(ResearchMessage, role="team")
        shop.research(token)
        set_error(None)

    done = team.submitted
    closed = done or view["locked"] or not card["alive"]
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, gap="14px"):
        _text(f"Month {view['month']}", classes="oi-month", style=_BIG)
        _text(f"Round {view['round']}", classes="oi-round", style={"font-size": "18px"})
        _text("■", tag="span", style={"color": view["colors"][team.firm], "font-size": "22px"})
        _text(f"{team.name} — firm {team.firm}", classes="oi-team",
              style={"font-size": "18px", "font-weight": "bold"})
    with solara.Row(style={"flex-wrap": "wrap", "font-size": "16px"}, gap="18px",
                    classes=["oi-figures"]):
        status = "" if card["alive"] else " · FAILED (cash ran out)"
        _text(f"Share {card['share']:.1%}", tag="span", classes="oi-share")
        _text(f"Cash {_money(card['cash'])} {MONTHS_OF_REVENUE}", tag="span", classes="oi-cash")
        _text(f"Awareness gap {card['awareness_gap']:.3f}", tag="span")
        _text(f"Action gap {card['action_gap']:.3f}", tag="span")
        _text(f"Satisfaction {views.number(card['satisfaction'])}{status}", tag="span")
    with solara.Div():  # always there, so that what follows keeps its place (and state)
        if error:
            solara.Error(error, dense=True, classes=["oi-error"])
        if done:
            solara.Success(f"Decisions in for round {view['round']}: waiting for the "
                           "facilitator to advance.", dense=True, classes=["oi-submitted"])
        elif view["locked"]:
            solara.Info(f"Round {view['round']} is locked by the facilitator.", dense=True)
    with solara.Div(style=_GRID):
        with solara.Card(style={"margin": "0"}, classes=["oi-decisions"]):
            Decide(shop, team, card, levers, set_levers, price, set_price, target,
                   set_target, closed, submit, set_error)
        with solara.Card(style={"margin": "0"}):
            _text("Your departments", style={"font-weight": "bold", "font-size": "16px"})
            _text(f"{card['structure'].replace('_', '-')}"
                  f"{' · reorganizing' if card['in_transition'] else ''}; levers now: "
                  + "  ".join(f"{k} {val:.2f}" for k, val in card["levers"].items()),
                  style=_SMALL)
            _svg(view["networks"][team.firm], testid="team-network")
        with solara.Card(style={"margin": "0"}, classes=["oi-research"]):
            researched = team.name in view["researched"]
            _text("Customers' needs", style={"font-weight": "bold", "font-size": "16px"})
            _svg(views.needs_html(shop.needs_view(token), researched), testid="team-needs")
            solara.Button(f"Buy market research ({RESEARCH_COST:g} months)",
                          on_click=research, disabled=researched or view["locked"]
                          or not card["alive"], style=_BUTTON, outlined=True)
        _report(view, "team")
        _share_and_market(view, "team")


def _report(view: dict[str, Any], who: str) -> None:
    """The last round's industry report, as a card of a page's grid (none before round 1)."""
    if view["report"]:
        with solara.Card(style={"margin": "0"}):
            _svg(view["report"], testid=f"{who}-report")


def _share_and_market(view: dict[str, Any], who: str) -> None:
    """The market-share chart and the market view, as cards of a page's grid."""
    with solara.Card(style={"margin": "0"}):
        _svg(view["share"], testid=f"{who}-share")
    with solara.Card(style={"margin": "0"}):
        _text("The market", style={"font-weight": "bold", "font-size": "16px"})
        _svg(view["market"], testid=f"{who}-market")


@solara.component
def Decide(  # noqa: N802
        shop: Workshop, team: Team, card: dict[str, Any], levers: dict[str, float],
        set_levers: Any, price: str, set_price: Any, target: str, set_target: Any,
        closed: bool, submit: Any, set_error: Any) -> None:
    """The five lever sliders, price and "reorganize to…", with what they cost a month.

    Each widget's value is parsed by its action's model before it reaches the page's state.
    """
    _text("This round's decisions", style={"font-weight": "bold", "font-size": "16px"})
    for lever in LEVERS:
        @guarded(shop, "team", f"lever {lever}", set_error, team.name)
        def move(value: Any, lever: str = lever) -> None:
            set_levers({**levers, lever: parse(LeverMessage, lever=lever, value=value).value})

        with solara.Div(classes=[f"oi-lever-{lever}"]):
            v.Slider(label=f"{lever.capitalize()} {levers[lever]:.2f}", v_model=levers[lever],
                     min=0, max=1, step=0.05, on_v_model=move, thumb_label=True, dense=False,
                     hide_details=True, disabled=closed or bool(target))
    with solara.Details("What the levers mean"):
        for lever in LEVERS:
            _text(f"{lever.capitalize()}: {LEVER_TEXT[lever]}", style=_SMALL)
    @guarded(shop, "team", "price", set_error, team.name)
    def type_price(value: Any) -> None:
        set_price(parse(PriceMessage, text=value).text)

    @guarded(shop, "team", "reorganize", set_error, team.name)
    def choose(value: Any) -> None:
        set_target(parse(ReorganizeMessage, choice=value).choice or "")

    v.TextField(label=f"Price ({PRICE_RANGE[0]:g} to {PRICE_RANGE[1]:g})", v_model=price,
                on_v_model=type_price, disabled=closed, class_="oi-price")
    v.Select(label="Reorganize to…", items=[{"text": t, "value": k}
                                            for k, t in _REORGANIZE.items()],
             v_model=target, on_v_model=choose,
             disabled=closed, class_="oi-reorganize", hide_details=True)
    chosen = preset_levers(target) if target else levers
    now_cost = shop.upkeep_per_month(card["levers"], team.firm)
    new_cost = shop.upkeep_per_month(chosen, team.firm)
    moves = any(abs(chosen[k] - team.decisions.levers[k]) > 1e-9 for k in LEVERS)
    once, months = shop.reorganize_cost()
    _text(f"Levers' upkeep: {_money(new_cost)} {MONTHS_OF_REVENUE} a month "
          f"(now {_money(now_cost)}).",
          classes="oi-upkeep", style={"font-size": "15px", "margin-top": "6px"})
    with solara.Div():  # always there: the button below keeps its widget, so no click is lost
        if moves:
            _text(f"Changing the levers is a reorganization: {months} months of transition "
                  f"and {_money(once)} {MONTHS_OF_REVENUE} once.", style=_SMALL,
                  classes="oi-reorganization")
    solara.Button("Submit decisions", on_click=submit, color="primary", disabled=closed,
                  style={**_BUTTON, "margin-top": "8px"})


@solara.component
def Facilitator(shop: Workshop, version: int, key: str) -> None:  # noqa: N802
    """Who joined and submitted, the leaderboard, the market, and the round's controls."""
    view = views.snapshot(shop)
    error, set_error = solara.use_state(cast(str | None, None))
    notice, set_notice = solara.use_state(cast(str | None, None))
    message, set_message = solara.use_state("")

    def act(action: Any, said: str | None = None, name: str = "act") -> Any:
        @guarded(shop, "facilitator", name, set_error)
        def run() -> None:
            action()
            set_error(None)
            set_notice(said.format(month=shop.month + 1) if said else None)
        return run

    def do(kind: str, said: str | None = None) -> Any:
        def action() -> None:
            shop.act(parse(ActMessage, kind=kind, role="facilitator").kind)
        return act(action, said, kind)

    @guarded(shop, "facilitator", "message", set_error)
    def type_message(value: Any) -> None:
        set_message(parse(DraftMessage, text=value).text)

    def send() -> None:
        def action() -> None:
            shop.broadcast(parse(BroadcastMessage, text=message.strip(),
                                 role="facilitator").text)
        act(action, name="broadcast")()
        set_message("")

    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, gap="8px"):
        _text(f"Month {view['month']}", classes="oi-month", style=_BIG)
        _text(f"Round {view['round']}{' (locked)' if view['locked'] else ''}",
              classes="oi-round", style={"font-size": "18px"})
        solara.Button("Advance", on_click=do("advance"), color="primary", style=_BUTTON)
        solara.Button("Shock customer needs now", color="error", outlined=True, style=_BUTTON,
                      on_click=do("shock", "Customer needs jump in month {month}."))
        solara.Button("A disruptor enters now", color="purple", outlined=True, style=_BUTTON,
                      on_click=do("disruptor", "A disruptor enters in month {month}."))
        if view["locked"]:
            solara.Button("Reopen round", on_click=do("reopen"), style=_BUTTON)
        else:
            solara.Button("Lock round", on_click=do("lock"), style=_BUTTON)
        solara.Button("Debrief", href=f"?key={key}&view=debrief", target="_blank",
                      style=_BUTTON, outlined=True)
    Session(shop, view, act, do)
    teams = view["leaderboard"]
    (joined, cap), (watching, watchers) = view["joined"]["team"], view["joined"]["observer"]
    _text(f"{sum(r['submitted'] for r in teams)} of {len(teams)} teams have submitted. "
          f"{shop.start.round_months} months a round. Join code {shop.start.code}.",
          classes="oi-status", style={"font-size": "15px"})
    _text(f"Teams {joined} / {cap} · observers {watching} / {watchers} · room password: "
          f"{'on' if shop.has_password else 'off'} · observers' link: "
          f"?observe={shop.start.observe_code}", classes="oi-caps", style=_SMALL)
    with solara.Div():  # always there, so that what follows keeps its place (and state)
        if error:
            solara.Error(error, dense=True, classes=["oi-error"])
        elif notice:
            solara.Info(notice, dense=True, classes=["oi-notice"])
    refusals = shop.refusals()
    with solara.Div():  # always there, so that what follows keeps its place (and state)
        if refusals:
            last = refusals[-1]
            said = (f"{last.action}: {last.reason}" if last.kind == "refused"
                    else f"something went wrong: {last.error}")
            who = f"{last.page} page" + (f" of “{last.team}”" if getattr(last, "team", None)
                                          else "")
            _text(f"{len(refusals)} refused message(s) or fault(s) lately (the log has them "
                  f"all); the last, from the {who}: {said}", classes="oi-refusals",
                  style=_SMALL)
    with solara.Div(style=_GRID):
        with solara.Card(style={"margin": "0"}, classes=["oi-leaderboard", "oi-wide"]):
            _text("Leaderboard", style={"font-weight": "bold", "font-size": "17px"})
            Leaderboard(view["leaderboard"], shop, act)
            with solara.Row(style={"align-items": "center"}):
                v.TextField(label="Message to every page", v_model=message,
                            on_v_model=type_message, class_="oi-message")
                solara.Button("Broadcast", on_click=send, style=_BUTTON)
        with solara.Card(style={"margin": "0"}, classes=["oi-grants"]):
            GrantForm(shop, [r["team"] for r in teams], act)
        _report(view, "facilitator")
        _share_and_market(view, "facilitator")


@solara.component
def Session(shop: Workshop, view: dict[str, Any], act: Any, do: Any) -> None:  # noqa: N802
    """The practice round, the reset to month 0, and the round's deadline."""
    minutes, set_minutes = solara.use_state("5")
    then, set_then = solara.use_state("lock")
    asked, set_asked = solara.use_state(False)

    @guarded(shop, "facilitator", "deadline", lambda e: None)
    def type_minutes(value: Any) -> None:
        set_minutes(parse(DraftMessage, text=value).text)

    @guarded(shop, "facilitator", "deadline", lambda e: None)
    def choose_then(value: Any) -> None:
        set_then(parse(DeadlineMessage, role="facilitator", minutes=None, then=value).then)

    def set_deadline() -> None:
        try:
            wanted = float(minutes.strip())
        except ValueError:
            raise WorkshopError(f"Deadline: {minutes.strip()[:20]!r} is not a number of "
                                "minutes.") from None
        message = parse(DeadlineMessage, role="facilitator", minutes=wanted, then=then)
        shop.set_deadline(message.minutes, message.then)

    def clear_deadline() -> None:
        parse(DeadlineMessage, role="facilitator", minutes=None)
        shop.set_deadline(None)

    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, gap="8px",
                    classes=["oi-session"]):
        if view["month"] == 0 and not view["practice"]:
            solara.Button("Practice round", on_click=do("practice"), style=_BUTTON,
                          outlined=True)
        if view["month"] > 0 or view["practice"]:
            solara.Button("Reset to month 0", on_click=lambda: set_asked(True), style=_BUTTON,
                          outlined=True, color="warning")
        v.TextField(label="Deadline (minutes)", v_model=minutes, on_v_model=type_minutes,
                    class_="oi-deadline-minutes", style_="max-width: 150px", dense=True,
                    hide_details=True)
        v.Select(label="then", items=[{"text": "lock the round", "value": "lock"},
                                      {"text": "run the round", "value": "advance"}],
                 v_model=then, on_v_model=choose_then, class_="oi-deadline-then",
                 style_="max-width: 170px", dense=True, hide_details=True)
        solara.Button("Set deadline", on_click=act(set_deadline, name="deadline"),
                      style=_BUTTON, disabled=view["locked"])
        if view["deadline"] is not None:
            solara.Button("Clear deadline", on_click=act(clear_deadline, name="deadline"),
                          style=_BUTTON, text=True)
    with solara.Div():  # always there, so that what follows keeps its place (and state)
        if asked:
            with solara.Card(classes=["oi-confirm-reset"], style={"background": "#fff4e5"}):
                _text("Reset to month 0? The same teams keep the same firms; every decision, "
                      "grant and research since month 0 is undone, and the rounds start "
                      "again. The log keeps the practice.")
                with solara.Row():
                    solara.Button("Reset the market", color="warning", style=_BUTTON,
                                  on_click=lambda: (do("reset")(), set_asked(False)))
                    solara.Button("Keep going", style=_BUTTON, on_click=lambda: set_asked(False))


@solara.component
def GrantForm(shop: Workshop, teams: list[str], act: Any) -> None:  # noqa: N802
    """A cash grant or a fine for one team, with a reason (logged; the debrief lists it)."""
    team, set_team = solara.use_state(cast(str | None, None))
    amount, set_amount = solara.use_state("1")
    reason, set_reason = solara.use_state("")

    @guarded(shop, "facilitator", "grant", lambda e: None)
    def choose(value: Any) -> None:
        set_team(parse(RemoveMessage, role="facilitator", team=value).team)

    @guarded(shop, "facilitator", "grant", lambda e: None)
    def type_amount(value: Any) -> None:
        set_amount(parse(DraftMessage, text=value).text)

    @guarded(shop, "facilitator", "grant", lambda e: None)
    def type_reason(value: Any) -> None:
        set_reason(parse(DraftMessage, text=value).text)

    def give(sign: float) -> Any:
        def action() -> None:
            if team is None:
                raise WorkshopError("Grant: choose a team.")
            try:
                value = abs(float(amount.strip()))
            except ValueError:
                raise WorkshopError(f"Grant: {amount.strip()[:20]!r} is not a number of "
                                    "months of revenue.") from None
            message = parse(GrantMessage, role="facilitator", team=team, amount=sign * value,
                            reason=reason.strip())
            shop.grant(message.team, message.amount, message.reason)
            set_reason("")
        return act(action, name="grant")

    _text("Grant or fine a team", style={"font-weight": "bold", "font-size": "16px"})
    _text(f"Cash, in months of revenue (at most {GRANT_MAX:g}); logged and shown in the "
          "debrief.", style=_SMALL)
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, gap="6px"):
        v.Select(label="Team", items=teams, v_model=team, on_v_model=choose,
                 class_="oi-grant-team", style_="max-width: 170px", dense=True,
                 hide_details=True)
        v.TextField(label="Months of revenue", v_model=amount, on_v_model=type_amount,
                    class_="oi-grant-amount", style_="max-width: 130px", dense=True,
                    hide_details=True)
        v.TextField(label="Reason", v_model=reason, on_v_model=type_reason,
                    class_="oi-grant-reason", dense=True, hide_details=True)
    with solara.Row(gap="6px"):
        solara.Button("Grant", on_click=give(1.0), style=_BUTTON, color="success",
                      outlined=True)
        solara.Button("Fine", on_click=give(-1.0), style=_BUTTON, color="error",
                      outlined=True)


@solara.component
def Leaderboard(rows: list[dict[str, Any]], shop: Workshop, act: Any) -> None:  # noqa: N802
    """The balanced scorecard, one team a row, with its submitted mark and Remove.

    Without ``act`` (an observer's page) there is no Remove.
    """
    asked, set_asked = solara.use_state(cast(str | None, None))
    with solara.Div():  # always there, so that what follows keeps its place (and state)
        if asked is not None:
            with solara.Card(classes=["oi-confirm"], style={"background": "#fff4e5"}):
                _text(f"Remove “{asked}”? Its link stops working; its firm keeps its last "
                      "decisions. This cannot be undone.")
                with solara.Row():
                    solara.Button("Remove the team", color="warning", style=_BUTTON,
                                  on_click=lambda: (act(lambda: shop.remove(
                                      parse(RemoveMessage, team=asked, role="facilitator"
                                            ).team), name="remove")(),
                                      set_asked(None)))
                    solara.Button("Keep it", style=_BUTTON, on_click=lambda: set_asked(None))
    if not rows:
        _text("No team has joined yet.", style={"font-size": "15px"})
        return
    head = ["#", "Team", "Firm", "Share", "Cash (months of revenue)", "Satisfaction",
            "Loss after shock",
            "Decisions", ""]
    with v.Html(tag="div", style_="overflow-x: auto; max-width: 100%"), \
            v.Html(tag="table", class_="oi-board",
                   style_="border-collapse: collapse; font-size: 15px; width: 100%"):
            with v.Html(tag="tr"):
                for h in head:
                    v.Html(tag="th", children=[h], style_="text-align: left; padding: 2px 6px")
            for r in rows:
                res = r["resilience"]
                cells = [str(r["rank"]), r["team"], r["firm"],
                         f"{r['share']:.1%} ({r['share_rank']})",
                         f"{_money(r['cash'])} ({r['cash_rank']})",
                         "–" if r["satisfaction"] != r["satisfaction"] else
                         f"{r['satisfaction']:.2f} ({r['satisfaction_rank']})",
                         "–" if res != res else f"{res:.2f} ({r['resilience_rank']})",
                         "submitted" if r["submitted"] else "waiting"]
                with v.Html(tag="tr", class_="oi-board-row"):
                    for c in cells:
                        v.Html(tag="td", children=[c],
                               style_="padding: 2px 6px; border-top: 1px solid #ddd")
                    with v.Html(tag="td"):
                        if act is not None:
                            solara.Button("Remove", small=True, text=True, style=_BUTTON,
                                          on_click=lambda name=r["team"]: set_asked(name))
    _text("Ranks in brackets (1 best); loss after shock: share lost after the last shock, "
          "lower is better.", style=_SMALL)


@solara.component
def ObserverPage(shop: Workshop, name: str, version: int) -> None:  # noqa: N802
    """Every team's page at once, read-only: figures, decisions, networks, the market."""
    view = views.snapshot(shop)
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, gap="14px"):
        _text(f"Month {view['month']}", classes="oi-month", style=_BIG)
        _text(f"Round {view['round']}{' (locked)' if view['locked'] else ''}",
              classes="oi-round", style={"font-size": "18px"})
        _text(f"Observer: {name} (read-only)", classes="oi-observer",
              style={"font-size": "16px", "font-weight": "bold"})
    with solara.Div(style=_GRID):
        with solara.Card(style={"margin": "0"}, classes=["oi-leaderboard", "oi-wide"]):
            _text("Leaderboard", style={"font-weight": "bold", "font-size": "17px"})
            Leaderboard(view["leaderboard"], shop, None)
        for row in view["leaderboard"]:
            card = view["cards"][row["firm"]]
            d = view["decisions"].get(row["team"])
            with solara.Card(style={"margin": "0"}, classes=["oi-observed-team"]):
                _text(f"■ {row['team']} — firm {row['firm']}",
                      style={"font-weight": "bold", "font-size": "16px",
                             "color": view["colors"].get(row["firm"], "#222")})
                _text(f"Share {card['share']:.1%} · cash {_money(card['cash'])} "
                      f"{MONTHS_OF_REVENUE} · awareness gap {card['awareness_gap']:.3f} · "
                      f"action gap {card['action_gap']:.3f}"
                      f"{'' if card['alive'] else ' · FAILED'}", style=_SMALL)
                if d is not None:
                    research = " · research bought" if row["team"] in view["researched"] \
                        else ""
                    _text(("submitted: " if row["submitted"] else "in force: ")
                          + "  ".join(f"{k[:5]} {val:.2f}" for k, val in d.levers.items())
                          + f"; price {d.price:.2f}"
                          + (f"; to {d.reorganize.replace('_', '-')}" if d.reorganize else "")
                          + research, style=_SMALL, classes="oi-observed-decisions")
                _svg(view["networks"][row["firm"]], testid="observer-network")
        _report(view, "observer")
        _share_and_market(view, "observer")


@solara.component
def Debrief(shop: Workshop, version: int) -> None:  # noqa: N802
    """The debrief, its "what if" futures, and its downloads (HTML, CSV tables, .xlsx)."""
    futures, set_futures = solara.use_state(cast(whatif.WhatIf | None, None))
    running, set_running = solara.use_state(False)
    error, set_error = solara.use_state(cast(str | None, None))
    current = futures if futures is not None and futures.version == version else None
    body = solara.use_memo(lambda: views.debrief_body(shop, current),
                           [version, id(current) if current is not None else 0])

    def compute() -> None:  # in a thread of its own: the page stays live meanwhile
        @guarded(shop, "facilitator", "what if", set_error)
        def work() -> None:
            set_futures(whatif.what_if(shop, _RUNNER[0], whatif.FUTURES))
            set_error(None)
        try:
            work()
        finally:
            set_running(False)

    def run_futures() -> None:
        if not running:
            set_running(True)
            threading.Thread(target=compute, name="workshop-what-if", daemon=True).start()

    stem = f"workshop-month{shop.month}"
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, gap="8px"):
        solara.FileDownload(lambda: views.debrief_html(shop, current).encode(),
                            filename=f"{stem}-debrief.html",
                            label="Download the debrief (HTML)")
        solara.FileDownload(lambda: exports.xlsx(shop), filename=f"{stem}.xlsx",
                            label="Download the spreadsheet (.xlsx)")
        solara.FileDownload(lambda: exports.csv_zip(shop), filename=f"{stem}-tables.zip",
                            label="Download the tables (CSV, zip)")
        solara.Button(f"What if ({whatif.FUTURES} futures)", on_click=run_futures,
                      disabled=not _RUNNER or running, style=_BUTTON, color="primary",
                      outlined=True)
        _text(f"replays each team's decisions in {whatif.FUTURES} other futures: skill or "
              "luck?", tag="span", style=_SMALL)
    with solara.Div():  # always there, so that what follows keeps its place (and state)
        if running:
            solara.Info(f"Replaying {whatif.FUTURES} futures: this takes a while (some "
                        "seconds for a short workshop, a minute for a long one).",
                        dense=True, classes=["oi-what-if-running"])
        elif error:
            solara.Error(error, dense=True, classes=["oi-error"])
        elif current is not None:
            solara.Success(f"What if: {current.runs} futures replayed (seeds from "
                           f"{current.root_seed}); each team's row ends its section.",
                           dense=True, classes=["oi-what-if-done"])
    _svg(body, testid="debrief")
