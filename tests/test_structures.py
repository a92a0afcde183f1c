import numpy as np
import pytest

from simulation.structures import (
    PRESETS,
    functional_hierarchy,
    other_preset,
    roles_for,
    segment_teams,
)


def hops(links: np.ndarray, a: int, b: int) -> int:
    frontier, seen, n = {a}, {a}, 0
    while b not in frontier:
        frontier = {j for i in frontier for j in np.flatnonzero(links[i])} - seen
        seen |= frontier
        n += 1
    return n


def test_roles_cycle():
    assert roles_for(8) == ("sales", "marketing", "service", "product", "operations",
                            "finance", "sales", "marketing")


def test_functional_hierarchy_routes_customer_news_through_the_top():
    links = functional_hierarchy(roles_for(6))
    assert links.tolist() == [
        [0, 1, 1, 0, 0, 1],
        [1, 0, 1, 0, 0, 0],
        [1, 1, 0, 0, 0, 0],
        [0, 0, 0, 0, 1, 1],
        [0, 0, 0, 1, 0, 0],
        [1, 0, 0, 1, 0, 0],
    ]
    assert hops(links, 1, 3) == 3   # marketing -> sales -> finance -> product


def test_segment_teams_put_everyone_one_hop_apart_in_a_team():
    links = segment_teams(roles_for(6))
    assert links.tolist() == (np.ones((6, 6)) - np.eye(6)).tolist()


def test_segment_teams_link_customer_facing_roles_across_teams():
    links = segment_teams(roles_for(12))
    assert links[0, 6] == 1.0          # sales of team 1 and sales of team 2
    assert links[3, 9] == 0.0          # product of team 1 and product of team 2
    assert hops(links, 3, 9) == 3


@pytest.mark.parametrize("n", [2, 3, 6, 24])
def test_links_are_symmetric_without_self_loops(n):
    for build in (functional_hierarchy, segment_teams):
        links = build(roles_for(n))
        assert np.array_equal(links, links.T) and not np.diag(links).any()


def test_presets_are_opposite_poles():
    inside, outside = PRESETS["inside_out"].levers, PRESETS["outside_in"].levers
    assert all(outside[k] > inside[k] for k in inside)
    assert other_preset("inside_out") == "outside_in"
    assert other_preset("outside_in") == "inside_out"
    assert PRESETS["inside_out"].lever_values({"clout": 0.9})["clout"] == 0.9
