import numpy as np
import pytest

from simulation.presets import PRESETS, other_preset
from simulation.structures import (
    CUSTOMER_FACING,
    budget_owners,
    component_partners,
    functional_hierarchy,
    internal_owners,
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


def test_roles_make_teams_of_six_and_fill_the_rest_keeping_the_mix():
    assert roles_for(8) == ("sales", "marketing", "service", "product", "operations",
                            "finance", "sales", "product")
    assert roles_for(3) == ("sales", "product", "marketing")


@pytest.mark.parametrize("n", [2, 3, 4, 6, 9, 12, 24])
def test_every_size_keeps_half_its_departments_customer_facing_within_rounding(n):
    facing = sum(r in CUSTOMER_FACING for r in roles_for(n))
    assert abs(facing - n / 2) <= 0.5 and 0 < facing < n


def test_internal_rights_go_to_the_owner_role_then_its_function_then_every_internal():
    owners = internal_owners(roles_for(6), 4)
    # performance: product; reliability: operations; convenience and service: finance
    assert owners.astype(int).tolist() == [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0],
                                           [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 1]]
    # sales, product: reliability falls to the technical function, the budgets to product
    assert internal_owners(("sales", "product"), 4).astype(int).tolist() == [
        [0, 0, 0, 0], [1, 1, 1, 1]]


def test_components_pair_up_and_an_odd_last_one_leans_on_the_one_before():
    assert component_partners(4).tolist() == [1, 0, 3, 2]
    assert component_partners(3).tolist() == [1, 0, 1]


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


def test_the_rights_over_price_and_cost_sit_with_finance_then_control_then_the_internal():
    assert budget_owners(roles_for(6)).tolist() == [False] * 5 + [True]
    assert budget_owners(("sales", "product", "marketing")).tolist() == [False, True, False]
