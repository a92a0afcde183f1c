"""One run of the model as the app shows it: settings, actions, and the data to draw.

The page holds one :class:`RunController` per browser tab, so two tabs are two runs. The
controller never draws or touches the browser; it turns the page's controls into model
parameters, applies the workshop actions through the model's own methods, and keeps the
plotted series incrementally (a step appends one value per firm and metric instead of
rebuilding the run's table), so a step costs the same at month 10 and month 1000.

Every user mistake (a broken scenario, an impossible value) becomes ``self.error``, a line
the page shows; the run that was there keeps going.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulation.agents import Firm
from simulation.errors import OutsideInError
from simulation.model import OrgModel
from simulation.outcomes import in_revenue_months
from simulation.params import DEFAULT_SEED, LEVERS, PARAMETERS, FirmSpec, ModelParams
from simulation.presets import PRESETS
from simulation.structures import with_listed_firms
from simulation.viz import export, info, scenarios, svg
from simulation.viz.pictures import (
    event_marks,
    market_picture,
    network_picture,
    spread_dimensions,
)
from simulation.viz.texts import METRIC_TEXT, METRIC_UNITS

if TYPE_CHECKING:
    from simulation.scenario import Scenario

__all__ = ["METRICS", "SHOWN_FIRMS", "STRUCTURES", "FirmTrace", "ModelFactory", "RunController",
           "Settings", "event_marks", "market_picture", "network_picture", "preset_levers",
           "spread_dimensions"]

METRICS: tuple[str, ...] = tuple(METRIC_TEXT)
"""The metrics plotted per firm, in order."""

STRUCTURES: tuple[str, ...] = ("inside_out", "outside_in")
"""The presets a user may pick for an incumbent firm."""


SHOWN_FIRMS = 2
"""Incumbents the page shows and lets a user set (the focal firm and its first rival)."""


@dataclass
class Settings:
    """What the controls say; takes effect on the next reset (or a reorganization).

    ``structures`` and ``levers`` hold one entry per incumbent shown (focal first).
    """

    structures: list[str] = field(default_factory=lambda: ["outside_in", "inside_out"])
    levers: list[dict[str, float]] = field(default_factory=list)
    turbulence: float = ModelParams().turbulence
    entrant_rate: float = ModelParams().entrant_rate
    seed: int = DEFAULT_SEED


@dataclass
class FirmTrace:
    """The plotted history of one firm: its months and each metric's values."""

    name: str
    color: str
    entrant: bool
    steps: list[int] = field(default_factory=list)
    values: dict[str, list[float]] = field(
        default_factory=lambda: {m: [] for m in METRICS})


def _bound(name: str) -> tuple[float, float]:
    b = PARAMETERS[name].metadata["bound"]
    return float(b.low), float(b.high)


ModelFactory = Callable[..., OrgModel]
"""``factory(scenario, rng=..., **overrides)``: builds the run's model."""


def _default_factory(scenario: Scenario | None, **kwargs: Any) -> OrgModel:
    if scenario is None:
        return OrgModel(**kwargs)
    return OrgModel.from_scenario(scenario, **kwargs)


def preset_levers(name: str) -> dict[str, float]:
    """The lever values of a structure preset."""
    return PRESETS[name].lever_values()


class RunController:
    """Holds one model run and what the page shows of it.

    Args:
        scenario_path: A scenario file to start from; ``None`` starts from the defaults.
        model_factory: ``factory(scenario, rng=..., **overrides)`` building a model; the
            default builds :class:`simulation.OrgModel` (tests pass one that builds small markets).

    """

    def __init__(self, scenario_path: Path | None = None,
                 model_factory: ModelFactory | None = None) -> None:
        self.lock = threading.RLock()
        self.factory: ModelFactory = model_factory or _default_factory
        self.error: str | None = None
        self.notice: str | None = None
        self.scenario_path: Path | None = None
        self.scenario: Scenario | None = None
        self.settings = Settings()
        self.traces: dict[str, FirmTrace] = {}
        self.colors: dict[str, str] = {}
        self.start_dimensions: tuple[int, int] = (0, 1)
        self.version = 0
        self.settings_version = 0  # bumped when what the controls show may have changed
        self.failed_loads = 0
        self.applied_seed = self.settings.seed
        self.start_levers: info.StartLevers = {}
        self.incumbent_names: list[str] = []  # the running model's, focal first
        self.model: OrgModel
        if scenario_path is None or not self.choose_scenario(scenario_path):
            self._adopt_model(self._build(), self.settings.seed)

    # --- settings ------------------------------------------------------------------------
    def choose_scenario(self, path: Path) -> bool:
        """Load a scenario and start a run of it; on failure keep the current run.

        Returns whether the scenario was loaded.
        """
        with self.lock:
            try:
                scenario = scenarios.load(Path(path))
                seed = scenario.to_model_kwargs().get("rng")
                seed = seed if isinstance(seed, int) and seed >= 0 else self.settings.seed
                model = self.factory(scenario, rng=seed)
            except Exception as exc:  # a broken file must never take the page down
                expected = isinstance(exc, OutsideInError | ValueError | OSError)
                reason = str(exc) if expected else f"{type(exc).__name__}: {exc}"
                self.failed_loads += 1
                self._fail(f"Scenario {Path(path).name} could not be loaded: {reason}")
                return False
            self.scenario_path, self.scenario = Path(path), scenario
            self.settings.seed = seed
            self.settings = self._settings_of(model)
            self.settings_version += 1
            self._adopt_model(model, seed)
            self.error = None
            return True

    def _settings_of(self, model: OrgModel) -> Settings:
        """Read the controls' starting values off a freshly built model."""
        firms = _incumbents(model)[:SHOWN_FIRMS]
        return Settings(
            structures=[str(f.structure) for f in firms],
            levers=[{k: float(f.levers[k]) for k in LEVERS} for f in firms],
            turbulence=float(model.params.turbulence),
            entrant_rate=float(model.params.entrant_rate),
            seed=self.settings.seed,
        )

    def set_structure(self, firm: int, name: str) -> None:
        """Pick the preset of incumbent ``firm`` (0 focal); that firm's sliders follow."""
        with self.lock:
            if name not in STRUCTURES:
                return self._fail(f"structure: {name!r} is not one of {list(STRUCTURES)}")
            if not 0 <= firm < len(self.settings.structures):
                return self._fail(f"firm: {firm} is not an incumbent of this scenario")
            self.settings.structures[firm] = name
            self.settings.levers[firm] = preset_levers(name)
            self._ok()

    def set_lever(self, lever: str, value: float, firm: int = 0) -> None:
        """Set a lever of incumbent ``firm`` (used at reset or by "reorganize to sliders")."""
        with self.lock:
            if lever not in LEVERS:
                return self._fail(f"lever: {lever!r} is not one of {list(LEVERS)}")
            if not 0 <= firm < len(self.settings.levers):
                return self._fail(f"firm: {firm} is not an incumbent of this scenario")
            if not _in_range(value, 0.0, 1.0):
                return self._fail(f"{lever}: {value!r} is outside [0, 1]")
            self.settings.levers[firm][lever] = float(value)
            self._ok()

    def set_turbulence(self, value: float) -> None:
        """Set the turbulence of customer needs for the next reset."""
        self._set_number("turbulence", value)

    def set_entrant_rate(self, value: float) -> None:
        """Set the monthly probability that a disruptor enters, for the next reset."""
        self._set_number("entrant_rate", value)

    def _set_number(self, name: str, value: float) -> None:
        with self.lock:
            low, high = _bound(name)
            if not _in_range(value, low, high):
                return self._fail(f"{name}: {value!r} is outside [{low:g}, {high:g}]")
            setattr(self.settings, name, float(value))
            self._ok()

    def set_seed(self, text: str) -> None:
        """Set the random seed for the next reset from what the user typed."""
        with self.lock:
            try:
                seed = int(str(text).strip())
            except ValueError:
                return self._fail(f"seed: {text!r} is not a whole number >= 0")
            if seed < 0:
                return self._fail(f"seed: {seed} is not a whole number >= 0")
            self.settings.seed = seed
            self._ok()

    # --- running -------------------------------------------------------------------------
    def reset(self) -> None:
        """Start a new run from month 0 with the current settings."""
        with self.lock:
            try:
                model = self._build()
            except (OutsideInError, ValueError) as exc:
                return self._fail(str(exc))
            self._adopt_model(model, self.settings.seed)
            self._ok()

    def step(self, n: int = 1) -> None:
        """Advance the run ``n`` months, recording what the plots show."""
        with self.lock:
            try:
                for _ in range(n):
                    self.model.step()
                    self._record()
                self.notice = None
            except (OutsideInError, ValueError) as exc:
                return self._fail(str(exc))
            self.version += 1

    def play_step(self) -> bool:
        """One month of a playing run; whether play should go on.

        Play stops once at the scenario's last month (with a notice); Play again goes on.
        """
        with self.lock:
            self.step()
            if self.error is not None:
                return False
            end = self.end_month
            if end is not None and self.month == end:
                self.notice = (f"Month {end} is the scenario's last month; the run paused. "
                               "Play goes on beyond it.")
                self.version += 1
                return False
            return True

    @property
    def month(self) -> int:
        """The run's current month (0 before the first step)."""
        return int(self.model.steps)

    @property
    def end_month(self) -> int | None:
        """The scenario's last month (``None`` for the default market: it runs on)."""
        return int(self.scenario.steps) if self.scenario is not None else None

    def close(self) -> None:
        """Free the run (its tab is gone); the controller must not be used afterwards."""
        with self.lock:
            del self.model  # its memory goes with the tab
            self.traces = {}

    # --- workshop actions ----------------------------------------------------------------
    def shock_now(self) -> None:
        """Customer needs jump at the next step."""
        self._act(lambda: self.model.inject_shock(), "Customer needs will jump next month.")

    def disruptor_now(self) -> None:
        """A disruptive entrant enters at the next step."""
        self._act(lambda: self.model.add_entrant(), "A disruptor enters the market.")

    def reorganize_now(self, firm: int, to: str) -> None:
        """Reorganize incumbent ``firm`` to the other preset (``to="other"``) or the sliders.

        The transition starts at the next step and takes the model's transition period.
        """
        with self.lock:
            incumbents = _incumbents(self.model)
            if not 0 <= firm < len(incumbents):
                return self._fail(f"firm: {firm} is not an incumbent of this run")
            if not incumbents[firm].alive:
                return self._fail(f"firm: {incumbents[firm].name} has failed and cannot "
                                  "reorganize")
            pending = incumbents[firm].transition
            if pending is not None and pending.start == self.month + 1:
                # a second click in the same month would pay for the same move twice
                self.notice = f"{incumbents[firm].name} already reorganizes from next month."
                self.version += 1
                return None
            current = str(incumbents[firm].structure)
            target: str | dict[str, float]
            if to == "other":
                target = "inside_out" if current == "outside_in" else "outside_in"
                what = target.replace("_", "-")
            elif to == "sliders":
                target = dict(self.settings.levers[firm])
                what = "the sliders' levers"
            else:
                return self._fail(f"reorganize: {to!r} is not 'other' or 'sliders'")
            index = self.model.firms.index(incumbents[firm])
            self._act(lambda: self.model.reorganize(firm=index, to=target),
                      f"{incumbents[firm].name} reorganizes to {what} from next month.")

    def _act(self, action: Callable[[], Any], notice: str) -> None:
        with self.lock:
            try:
                action()
            except (OutsideInError, ValueError) as exc:
                return self._fail(str(exc))
            self.notice = notice
            self._ok()

    # --- data for the page ---------------------------------------------------------------
    def charts(self, large: str | None = None) -> dict[str, str]:
        """One SVG line chart per metric, every firm a line, events marked and named.

        ``large`` names a metric drawn wide (a whole row of the page) instead of in a cell.
        """
        with self.lock:
            events = self.events()
            x_max = max(self.month, self.end_month or 12)
            out = {}
            for metric in METRICS:
                series = [svg.Series(t.name, t.color, t.steps, t.values[metric], t.entrant)
                          for t in self.traces.values()]
                y_range = (0.0, 1.0) if metric in ("market_share", "satisfaction") else None
                size = (1000, 380) if metric == large else (400, 260)
                out[metric] = svg.line_chart(
                    METRIC_TEXT[metric], series, events, unit=METRIC_UNITS[metric],
                    x_max=x_max, y_range=y_range, percent=metric == "market_share",
                    width=size[0], height=size[1], test_id=f"chart-{metric}")
            return out

    def events(self) -> list[svg.Event]:
        """The run's events so far, with a label each."""
        with self.lock:
            return event_marks(self.model)

    def network_svg(self, firm: int) -> str:
        """The departments of incumbent ``firm`` as a network picture."""
        with self.lock:
            return network_picture(_incumbents(self.model)[firm], f"network-{firm}")

    def dimension_names(self) -> list[str]:
        """Names of the attributes of the need space."""
        return [str(n) for n in self.model.market.dimension_names]

    def default_dimensions(self) -> tuple[int, int]:
        """The two attributes in which the active segments' needs differ most.

        Showing those first keeps the segments apart on the market picture.
        """
        with self.lock:
            return spread_dimensions(self.model)

    def market_svg(self, x: int = 0, y: int = 1) -> str:
        """Segments' needs and every living firm's offerings in attributes ``x`` and ``y``."""
        with self.lock:
            return market_picture(self.model, self._color, x, y)

    def firm_cards(self) -> list[dict[str, Any]]:
        """A few facts per firm for the page: name, structure, levers, alive, cash, share.

        Cash is in months of revenue, as the handout and the charts show money.
        """
        with self.lock:
            cards = []
            for f in self.model.firms:
                trace = self.traces.get(f.name)
                share = trace.values["market_share"][-1] if trace and trace.steps else math.nan
                cards.append({"name": f.name, "structure": str(f.structure),
                              "entrant": f.entrant, "alive": bool(f.alive),
                              "cash": f.cash_months,
                              "share": share,
                              "levers": {k: float(v) for k, v in f.levers.items()},
                              "color": self._color(f.name)})
            return cards

    def pending(self) -> dict[str, str]:
        """Controls whose value differs from the running model's, with when they apply.

        Keys: ``structure-I``, ``levers-I`` (incumbent ``I``), ``turbulence``,
        ``entrant_rate``, ``seed``. A lever waits for a Reset or a reorganization, the rest
        for a Reset.
        """
        with self.lock:
            out: dict[str, str] = {}
            s, model = self.settings, self.model
            for i, firm in enumerate(_incumbents(model)[:len(s.structures)]):
                transition = firm.transition
                running = str(transition.to_structure) if transition is not None \
                    else str(firm.structure)
                target = transition.to_levers if transition is not None else firm.levers
                if s.structures[i] != running:
                    out[f"structure-{i}"] = "applies at Reset"
                if i < len(s.levers) and any(
                        not math.isclose(v, float(target.get(k, math.nan)), abs_tol=1e-9)
                        for k, v in s.levers[i].items()):
                    out[f"levers-{i}"] = ("applies at Reset, or Reorganize to the sliders"
                                          if firm.alive else "applies at Reset")
            for name in ("turbulence", "entrant_rate"):
                if not math.isclose(getattr(s, name), float(getattr(model.params, name)),
                                    abs_tol=1e-12):
                    out[name] = "applies at Reset"
            if s.seed != self.applied_seed:
                out["seed"] = "applies at Reset"
            return out

    def failure(self, firm: int) -> str | None:
        """Why and when incumbent ``firm`` failed (``None`` while it lives)."""
        with self.lock:
            f = _incumbents(self.model)[firm]
            if f.alive:
                return None
            month = next((int(e["step"]) for e in self.model.events
                          if e["kind"] == "failure" and e.get("firm") == f.name), None)
            when = f"in month {month}" if month is not None else "during the run"
            return (f"{f.name} failed {when}: its cash ran out (it paid more than it "
                    "earned until nothing was left). Its customers must find another seller.")

    def info(self) -> dict[str, Any]:
        """The scenario explained for the Info panel, as plain texts (never markup).

        Keys: ``title``, ``what`` (the situation), ``how`` (lines on the five levers of each
        firm and the market), ``notice`` (what to watch), ``try`` (changes to make),
        ``questions`` (:func:`simulation.viz.info.info_text`).
        """
        with self.lock:
            shown = dict(list(self.start_levers.items())[:SHOWN_FIRMS])
            return info.info_text(self.scenario, self.scenario_path, shown)

    def csv(self) -> str:
        """The run's per-month, per-firm table as CSV text, with what made the run.

        Lines starting with ``#`` come first: the scenario, the seed, the market settings, each
        firm's structure and levers at the start, and every event; then the table, with the
        month's events in a last column (``pandas.read_csv(path, comment="#")`` reads it).
        """
        with self.lock:
            return export.csv_text(self.model, self.run_description())

    def run_description(self) -> list[str]:
        """What made this run, one fact a line: scenario, seed, market, firms, events."""
        with self.lock:
            name = self.scenario_path.name if self.scenario_path else "default"
            return export.run_description(self.model,
                                          f"{name} ({self.scenario_text()['title']})",
                                          self.applied_seed, self.start_levers)

    def scenario_text(self) -> dict[str, Any]:
        """What the scenario tells a class: title, description, lesson, questions (plain text)."""
        return info.scenario_text(self.scenario, self.scenario_path)

    def csv_name(self) -> str:
        """A file name for the CSV download that says which run it is."""
        return export.csv_name(self.scenario_path, self.settings.seed, self.month)

    # --- internals -----------------------------------------------------------------------
    def _build(self) -> OrgModel:
        # The scenario's market (or the default one) with every incumbent a listed firm, so
        # that the controls set the shown firms' presets and levers in place.
        s = self.settings
        market = {"turbulence": s.turbulence, "entrant_rate": s.entrant_rate}
        if self.scenario is not None:
            kw = with_listed_firms(self.scenario.to_model_kwargs(**market))
            kw.pop("rng", None)
            firms = list(kw.pop("firms"))
        else:
            kw, firms = market, list(self._default_firms())
        for i, name in enumerate(s.structures[:len(firms)]):
            levers = s.levers[i] if i < len(s.levers) else {}
            # a new preset comes whole; the sliders then show that preset's levers
            firms[i] = dataclasses.replace(firms[i], structure=name, levers=dict(levers))
        return self.factory(None, rng=s.seed, firms=tuple(firms), **kw)

    def _default_firms(self) -> tuple[FirmSpec, ...]:
        """The default market's incumbents as firm specs (names as the running model has them)."""
        names = list(self.incumbent_names)
        names = (names + ["focal", "rival"][len(names):])[:len(self.settings.structures)]
        return tuple(FirmSpec(name, structure)
                     for name, structure in zip(names, self.settings.structures, strict=True))

    def _adopt_model(self, model: OrgModel, seed: int) -> None:
        self.model = model
        self.applied_seed = seed
        self.incumbent_names = [f.name for f in _incumbents(model)]
        self.start_levers = {f.name: (str(f.structure), {k: float(v) for k, v in f.levers.items()})
                             for f in model.firms}
        self.traces = {}
        self.colors = {}
        for firm in model.firms:
            self._color(firm.name)
        self._record()
        self.start_dimensions = self.default_dimensions()  # fixed for the run: no jumping
        if not self.settings.levers:
            self.settings = self._settings_of(model)
        self.notice = None
        self.version += 1
        self.settings_version += 1

    def _color(self, name: str) -> str:
        """A firm's colour, fixed the first time the run shows it (focal first)."""
        if name not in self.colors:
            self.colors[name] = svg.FIRM_COLORS[len(self.colors) % len(svg.FIRM_COLORS)]
        return self.colors[name]

    def _record(self) -> None:
        """Append this month's value of every metric for every firm in the market."""
        month = self.month
        for row in self._latest_rows():
            name = str(row["firm"])
            trace = self.traces.get(name)
            if trace is None:
                firm = next((f for f in self.model.firms if f.name == name), None)
                trace = FirmTrace(name, self._color(name),
                                  entrant=firm is not None and firm.entrant)
                self.traces[name] = trace
            trace.steps.append(month)
            alive = bool(row.get("alive", True))
            row = in_revenue_months(row, self.model.fair_revenue)  # money as the handout shows it
            for metric in METRICS:
                value = float(row[metric])
                trace.values[metric].append(value if alive else math.nan)

    def _latest_rows(self) -> list[dict[str, Any]]:
        """Read the month's metrics of every firm off the firms (not the run's table).

        Reading the firms costs the same every month; rebuilding ``results()`` would grow
        with the run. Before the first step the firms have no metrics yet, and the run's
        one-month table is read instead.
        """
        firms = self.model.firms
        if all(f.metrics for f in firms):
            return [{"firm": f.name, **f.metrics, "cash": f.cash, "alive": f.alive}
                    for f in firms]
        df = self.model.results()
        if df.empty:
            return []
        last = df[df["step"] == df["step"].max()]
        return list(last.to_dict("records"))

    def fail(self, message: str) -> None:
        """Show ``message`` as the run's error (a fault the page caught); the run stays."""
        with self.lock:
            self._fail(message)

    def _fail(self, message: str) -> None:
        self.error = message
        self.version += 1
        self.settings_version += 1

    def _ok(self) -> None:
        self.error = None
        self.version += 1
        self.settings_version += 1


def _incumbents(model: OrgModel) -> list[Firm]:
    """The model's firms that are not disruptors, focal first (the page's Firm A and B)."""
    return [f for f in model.firms if not f.entrant]


def _in_range(value: Any, low: float, high: float) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value) and low <= value <= high)
