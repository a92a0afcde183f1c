from __future__ import annotations

import math

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
    assert out.count("<line") == 1
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
    assert ">1.0</text>" in out and ">100</text>" not in out
