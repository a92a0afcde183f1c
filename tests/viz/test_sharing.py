"""The play gate: played months take turns in order, clicks go first, pace shrinks with load."""

from __future__ import annotations

import threading
import time

import pytest

from simulation.viz.sharing import PlayGate


def test_the_interval_grows_with_the_tabs_playing() -> None:
    gate = PlayGate(budget=0.5, initial_cost=0.02)
    assert gate.interval(0.25) == 0.25  # nobody plays: as asked
    tabs = [object() for _ in range(30)]
    for tab in tabs:
        gate.join(tab)
    assert gate.playing == 30
    assert gate.interval(0.25) == pytest.approx(30 * 0.02 / 0.5)
    for tab in tabs:
        gate.leave(tab)
    assert gate.interval(0.25) == 0.25


def test_a_click_goes_before_any_waiting_month() -> None:
    gate = PlayGate()
    order: list[str] = []

    def play() -> None:
        with gate.turn() as got:
            assert got
            order.append("month")

    with gate.click():
        thread = threading.Thread(target=play)
        thread.start()
        time.sleep(0.2)
        order.append("click")
    thread.join(5)
    assert order == ["click", "month"]


def test_turns_go_in_the_order_asked() -> None:
    gate = PlayGate()
    order: list[int] = []
    threads = []
    with gate.click():  # hold every turn until all have asked
        for i in range(5):
            def play(i: int = i) -> None:
                with gate.turn():
                    order.append(i)
            threads.append(threading.Thread(target=play))
            threads[-1].start()
            time.sleep(0.05)
    for thread in threads:
        thread.join(5)
    assert order == [0, 1, 2, 3, 4]


def test_a_cancelled_wait_gets_no_turn_and_blocks_nobody() -> None:
    gate = PlayGate()
    cancel = threading.Event()
    result: list[bool] = []

    def play() -> None:
        with gate.turn(cancel) as got:
            result.append(got)

    with gate.click():
        thread = threading.Thread(target=play)
        thread.start()
        cancel.set()
        thread.join(5)
    assert result == [False]
    with gate.turn() as got:
        assert got


def test_the_cost_estimate_follows_the_time_a_month_takes() -> None:
    gate = PlayGate(initial_cost=0.0)
    for _ in range(20):
        with gate.turn():
            time.sleep(0.01)
    assert 0.008 < gate.cost < 0.05


@pytest.mark.parametrize("budget", [0, -0.1, 1.5])
def test_an_impossible_budget_is_refused(budget: float) -> None:
    with pytest.raises(ValueError, match="budget"):
        PlayGate(budget=budget)
