"""The app's CSV download: a run's per-month, per-firm table with what made the run.

Lines starting with ``#`` come first: the scenario, the seed, the market settings, each
firm's structure and levers at the start, and every event; then the table, with the month's
events in a last column (``pandas.read_csv(path, comment="#")`` reads it).
"""

from __future__ import annotations

from pathlib import Path

from simulation.model import OrgModel
from simulation.viz.info import StartLevers
from simulation.viz.pictures import event_marks


def run_description(model: OrgModel, scenario: str, seed: int,
                    start_levers: StartLevers) -> list[str]:
    """What made this run, one fact a line: scenario, seed, market, firms, events.

    ``scenario`` names it as the first line says (file name and title).
    """
    params = model.params
    lines = [f"scenario: {scenario}",
             f"seed: {seed}",
             f"turbulence: {params.turbulence:g}",
             f"entrant_rate: {params.entrant_rate:g}",
             f"money (revenue, profit, cash, lever_upkeep): in the model's units; "
             f"divide by {model.fair_revenue:g}, one firm's fair share of a "
             "month's revenue, for months of revenue as the charts show it"]
    for firm, levers in start_levers.items():
        text = ", ".join(f"{k} {v:.2f}" for k, v in levers[1].items())
        lines.append(f"firm {firm}: {levers[0]}; {text}")
    lines += [f"event: {ev.label}" for ev in event_marks(model)]
    return lines


def csv_text(model: OrgModel, description: list[str]) -> str:
    """The run's table as CSV text after ``description``'s lines, each behind ``# ``."""
    table = model.results()
    by_month: dict[int, list[str]] = {}
    for ev in event_marks(model):
        by_month.setdefault(ev.step, []).append(ev.label.split(": ", 1)[1])
    table["events"] = [", ".join(by_month.get(int(m), [])) for m in table["step"]]
    return "".join(f"# {line}\n" for line in description) + str(table.to_csv(index=False))


def csv_name(scenario_path: Path | None, seed: int, month: int) -> str:
    """A file name for the CSV download that says which run it is."""
    stem = scenario_path.stem if scenario_path else "default"
    return f"outside-in-{stem}-seed{seed}-month{month}.csv"
