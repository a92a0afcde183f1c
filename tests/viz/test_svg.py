from __future__ import annotations

import math
import re

import numpy as np
import pytest

from simulation.viz import svg


def test_thin_keeps_short_series_whole() -> None:
    assert svg.thin([1, 2, 3], [4, 5, 6]) == ([1, 2, 3], [4, 5, 6])


@pytest.mark.parametrize("n", [241, 1000, 100_000])
def test_thin_bounds_points_and_keeps_both_ends(n: int) -> None:
    xs = list(range(n))
    tx, ty = svg.thin(xs, [float(x) for x in xs])
    assert len(tx) <= svg.MAX_POINTS
    assert tx[0] == 0 and tx[-1] == n - 1 and ty[-1] == n - 1
    assert tx == sorted(set(tx))


def test_a_long_run_draws_no_more_than_a_short_one() -> None:
    def chart(n: int) -> str:
        xs = list(range(1, n + 1))
        return svg.line_chart("t", [svg.Series("a", "#000", xs, [0.5] * n)], x_max=n)

    assert len(chart(100_000)) < 1.2 * len(chart(svg.MAX_POINTS))


def test_line_chart_marks_events_and_breaks_on_nan() -> None:
    s = svg.Series("Firm B", "#f00", [1, 2, 3, 4], [0.1, math.nan, 0.3, 0.4])
    out = svg.line_chart("Share", [s], [svg.Event(2, "shock", "month 2: shock")],
                         y_range=(0, 1), test_id="chart-x")
    assert out.count("<polyline") == 2
    assert 'data-event="shock"' in out and svg.EVENT_COLORS["shock"] in out
    assert 'data-testid="chart-x"' in out and "Share" in out


def test_line_chart_escapes_names() -> None:
    out = svg.line_chart("<b>", [svg.Series("A&B", "#000", [1], [1.0])])
    assert "<b>" not in out and "&lt;b&gt;" in out and "A&amp;B" in out


def test_error_color_runs_green_to_red() -> None:
    assert svg.error_color(0.0) == "#2ca02c"
    assert svg.error_color(0.25) == "#d62728"
    assert svg.error_color(9.0) == "#d62728"
    assert svg.error_color(0.125) == "#ffbf00"


def test_network_sizes_nodes_by_clout_and_draws_only_linked_pairs() -> None:
    links = np.zeros((3, 3))
    links[0, 1] = 1.0
    out = svg.network(["sales", "R&D", "ops"], [True, False, False], [0.6, 0.3, 0.1],
                      [0.0, 0.2, 0.5], links)
    assert out.count('data-link="under"') == out.count('data-link="over"') == 1
    radii = [float(part.split('"')[0]) for part in out.split(' r="')[1:]]
    assert radii[0] > radii[1] > radii[2]
    assert "R&amp;D" in out


def test_market_hides_offerings_to_latent_segments() -> None:
    needs = np.array([[0.2, 0.8], [0.9, 0.1]])
    off = svg.Offering("A", "#00f", np.array([[0.3, 0.7], [0.5, 0.5]]))
    out = svg.market(["s1", "s2"], needs, [True, False], [off], "x", "y")
    assert out.count("data-offering") == 1
    assert out.count("data-segment") == 2 and 'stroke-dasharray="3,2"' in out


def test_events_look_as_in_the_report_figures() -> None:
    assert svg.EVENT_COLORS["shock"] == "#d62728" and svg.EVENT_COLORS["failure"] == "#000000"
    assert svg.EVENT_LABELS["entrant"] == "disruptor enters"
    assert set(svg.EVENT_COLORS) == set(svg.EVENT_LABELS) == {
        "shock", "entrant", "new_segment", "reorganization", "failure"}


def test_the_axis_fits_the_points_drawn_not_those_thinned_away() -> None:
    n = 1000
    ys = [0.5] * n
    ys[1] = 100.0  # thinning keeps every ~4th point, not this one
    assert 1 not in svg.thin(list(range(n)), ys)[0]
    out = svg.line_chart("t", [svg.Series("a", "#000", list(range(n)), ys)])
    assert ">0.500</text>" in out and ">100</text>" not in out


@pytest.mark.parametrize("low, high, ticks", [
    (14414, 19966, [14000, 16000, 18000, 20000]),
    (0, 1, [0, 0.25, 0.5, 0.75, 1]),
    (0, 0.037, [0, 0.01, 0.02, 0.03, 0.04]),
    (-3.2, 12.5, [-5, 0, 5, 10, 15]),
])
def test_ticks_are_round_and_cover_the_range(low: float, high: float,
                                             ticks: list[float]) -> None:
    assert svg.nice_ticks(low, high) == pytest.approx(ticks)


def test_tick_labels_carry_the_decimals_their_step_needs() -> None:
    assert [svg.tick_label(t, 0.25) for t in (0, 0.25, 1)] == ["0.00", "0.25", "1.00"]
    assert svg.tick_label(16000, 2000) == "16,000"
    assert svg.tick_label(0.5, 0.25, percent=True) == "50%"


def test_the_time_axis_ticks_whole_years_in_long_runs() -> None:
    assert svg.month_ticks(240) == [0, 60, 120, 180, 240]
    assert svg.month_ticks(12) == [0, 3, 6, 9, 12]


def test_a_chart_names_its_firms_and_events_its_unit_and_uses_legible_fonts() -> None:
    series = [svg.Series("Focal", "#1f77b4", [0, 1], [0.4, 0.5]),
              svg.Series("New one", "#8c564b", [1], [0.1], dashed=True)]
    out = svg.line_chart("Market share", series, [svg.Event(1, "entrant", "month 1")],
                         unit="% of customers", y_range=(0, 1), percent=True)
    for text in (">Focal</text>", ">New one</text>", ">disruptor enters</text>",
                 "(% of customers)", ">100%</text>"):
        assert text in out
    sizes = [int(part.split('"')[0]) for part in out.split('font-size="')[1:]]
    assert min(sizes) >= svg.FONT >= 14
    assert 'width="100%"' in out and "min-width:400px" in out


def test_nodes_never_cover_the_gap_between_neighbours() -> None:
    n = 12
    links = np.ones((n, n))
    out = svg.network([f"d{i}" for i in range(n)], [False] * n, [1.0] * n, [0.0] * n, links)
    radii = [float(part.split('"')[0]) for part in out.split(' r="')[1:]]
    cx = [float(part.split('"')[0]) for part in out.split(' cx="')[1:]]
    cy = [float(part.split('"')[0]) for part in out.split(' cy="')[1:]]
    gap = math.dist((cx[0], cy[0]), (cx[1], cy[1]))
    assert radii[0] + radii[1] < gap  # the link between two neighbours stays visible


def test_market_view_widens_its_axes_for_needs_that_left_the_unit_square():
    # The need space is open: a segment whose needs moved to 1.6 is drawn inside the picture,
    # right of one still at 0.5, not piled on the edge.
    needs = np.array([[0.5, 0.5], [1.6, 0.5]])
    page = svg.market(["here", "moved"], needs, [True, True], [], "x", "y")
    xs = [float(x) for x in re.findall(r'<circle cx="([0-9.]+)"', page)]
    assert xs[0] < xs[1] < 400 - 12


def test_each_firm_s_latest_value_is_a_dot_so_month_zero_is_not_empty() -> None:
    alone = svg.line_chart("Share", [svg.Series("focal", "#00f", [0], [0.5]),
                                     svg.Series("rival", "#f00", [0], [0.5])],
                           y_range=(0, 1), x_max=12)
    assert alone.count("<circle") == 2 and 'data-now="focal"' in alone  # one month: two dots
    failed = svg.line_chart("Share", [svg.Series("gone", "#000", [0, 1, 2], [0.4, 0.3, math.nan])],
                            y_range=(0, 1))
    assert "<circle" not in failed  # a firm that failed has no "now"
    two = svg.line_chart("Share", [svg.Series("a", "#000", [0, 10], [0.0, 1.0])],
                         y_range=(0, 1))
    dot = re.search(r'<circle cx="([0-9.]+)" cy="([0-9.]+)"', two)
    assert dot is not None
    end = two.split('<polyline points="')[1].split('"')[0].split()[-1]
    assert end == f"{dot.group(1)},{dot.group(2)}"  # on the line's last point
