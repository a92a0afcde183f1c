"""`outsidein run` prints every number whole, at 80 columns and narrower."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pandas as pd
import pytest
from rich.console import Console

from simulation.cli import main
from simulation.cli.run import build_model, summary_rows, summary_table


def _assert_whole(text: str, rows: list[tuple[str, ...]], width: int) -> None:
    lines = text.splitlines()
    assert lines and max(len(line) for line in lines) <= width
    assert "…" not in text
    tokens = text.split()
    for cells in rows:
        for cell in cells[2:]:  # the numbers (and yes/no, -)
            assert cell in tokens, f"{cell!r} is not printed whole:\n{text}"


@pytest.mark.parametrize("scenario", [None, "partner-ecosystem"])
def test_run_at_80_columns_not_a_terminal_prints_every_number_whole(
        scenario: str | None, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)  # not a terminal: rich's default, 80
    args = [] if scenario is None else [scenario]
    assert main(["run", *args, "--steps", "12", "--seed", "5", "--out",
                 str(tmp_path / "out")]) == 0
    table = capsys.readouterr().out.split("wrote ")[0]
    model, _, _, _ = build_model(scenario, 5)
    for _ in range(12):
        model.step()
    _assert_whole(table, summary_rows(model), 80)


def _stand_in(firms: int) -> SimpleNamespace:
    """A finished run with long names and large numbers, the hardest table to fit."""
    last = pd.DataFrame({
        "step": 600, "firm": [f"rival-number-{i}" for i in range(firms)],
        "structure": "outside_in", "market_share": 0.123456, "satisfaction": 0.87,
        "awareness_gap": 0.123, "action_gap": 0.456, "cash": -123_456_789.0, "alive": True})
    resilience = pd.DataFrame({"firm": last["firm"], "loss_area": 12345.6})
    return SimpleNamespace(steps=600, results=lambda start=0: last, fair_revenue=1.0, firms=[],
                           resilience=lambda: resilience)


@pytest.mark.parametrize("width, firms", [(80, 2), (80, 6), (60, 2), (50, 2), (50, 1)])
def test_the_summary_table_never_cuts_a_number(width: int, firms: int) -> None:
    model = _stand_in(firms)
    console = Console(file=io.StringIO(), width=width)
    console.print(summary_table(model, width))  # type: ignore[arg-type]
    text = console.file.getvalue()  # type: ignore[attr-defined]
    _assert_whole(text, summary_rows(model), width)  # type: ignore[arg-type]


def test_compare_on_a_narrow_terminal_wraps_and_hides_nothing(tmp_path, capsys,
                                                              monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "50")
    assert main(["compare", "stable-market", "--reps", "2", "--steps", "6", "--customers",
                 "200", "--workers", "1", "--out", str(tmp_path), "-q"]) == 0
    printed = capsys.readouterr().out
    assert "…" not in printed and max(len(line) for line in printed.splitlines()) <= 50
    table = pd.read_csv(tmp_path / "stable-market-table.csv")
    assert len(table) > 0 and "outcome" in printed.replace("\n", " ")
