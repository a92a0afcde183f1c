import numpy as np
import pytest

from simulation import levers as lv

# A tiny firm: sales, marketing (customer-facing), product, finance (internal); components
# performance (R&D owns it inside) and convenience (finance holds its budget).
FACING = np.array([True, True, False, False])
OWNERS = np.array([[False, False], [False, False], [True, False], [False, True]])
ONE_FIRM = np.ones((1, 4))


def test_clout_gives_the_customer_facing_its_share_of_every_component_and_owners_the_rest():
    rights = lv.clout_rights(np.full(4, 0.8), FACING, OWNERS, ONE_FIRM)
    assert rights == pytest.approx(np.array([[0.4, 0.4], [0.4, 0.4], [0.2, 0.0], [0.0, 0.2]]))
    assert rights.sum(axis=0) == pytest.approx([1.0, 1.0])


def test_clout_with_one_group_missing_gives_the_other_every_right():
    facing_only = lv.clout_rights(np.full(2, 0.9), np.array([True, True]),
                                  np.zeros((2, 1), dtype=bool), np.ones((1, 2)))
    assert facing_only[:, 0] == pytest.approx([0.5, 0.5])
    internal_only = lv.clout_rights(np.full(2, 0.9), np.array([False, False]),
                                    np.array([[True], [False]]), np.ones((1, 2)))
    assert internal_only[:, 0] == pytest.approx([1.0, 0.0])


def test_clout_rights_firm_by_firm():
    # firm A: sales + product (clout 0.9); firm B: sales, marketing, finance (clout 0.3)
    member = np.array([[1, 1, 0, 0, 0], [0, 0, 1, 1, 1]], dtype=float)
    rights = lv.clout_rights(np.array([0.9, 0.9, 0.3, 0.3, 0.3]),
                             np.array([True, False, True, True, False]),
                             np.array([[False], [True], [False], [False], [True]]), member)
    assert rights[:, 0] == pytest.approx([0.9, 0.1, 0.15, 0.15, 0.7])


def test_cooperation_weighs_the_customers_change_against_the_silo_s():
    proposal = lv.cooperation_proposal(0.25, np.array([4.0]), np.array([8.0]))
    assert proposal == pytest.approx([0.25 * 4.0 + 0.75 * 8.0])


def test_a_department_accepts_the_part_of_a_change_its_own_proposal_covers():
    decided = np.array([0.1, 0.1, 0.1, -0.2, 0.0])
    proposal = np.array([0.05, 0.3, -0.1, -0.1, 0.7])
    assert lv.acceptance(proposal, decided) == pytest.approx([0.5, 1.0, 0.0, 0.5, 1.0])


def test_interdependence_carries_a_change_out_as_far_as_the_partner_s_owners_accept_it():
    decided = np.array([0.1, 0.1])
    assert lv.interdependent_move(decided, np.array([1.0, 0.0]), 0.7) == \
        pytest.approx([0.1, 0.03])
    assert lv.interdependent_move(decided, np.array([1.0, 0.0]), 0.0) == \
        pytest.approx([0.1, 0.1])


def test_news_of_a_disruptor_travels_one_link_a_month_and_fades_by_coordination():
    chain = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=float)
    alarm = np.array([1.0, 0.0, 0.0])
    lv.relay_alarm(np.full(3, 0.5), chain, alarm)
    assert alarm == pytest.approx([1.0, 0.45, 0.0])
    lv.relay_alarm(np.full(3, 0.5), chain, alarm)
    assert alarm == pytest.approx([1.0, 0.45, 0.2025])


def test_an_answer_needs_the_rights_holders_to_know_of_the_threat_and_back_it():
    rights = np.array([0.4, 0.4, 0.0, 0.2])    # sales, marketing, product, finance
    favours = np.array([1.0, 1.0, 0.0, 0.0])
    told = np.array([1.0, 0.0, 1.0, 1.0])
    support = lv.answer_support(rights, told, np.full(4, 0.5), favours, ONE_FIRM)
    assert support == pytest.approx([0.4 * 1.0 + 0.2 * 0.5])
    assert lv.answer_cut(0.1, np.array([0.5]), np.array([0.45]), 0.3) == pytest.approx([0.0075])


def test_coordination_moves_the_uninformed_toward_the_informed_only():
    links = np.array([[0.0, 1.0], [1.0, 0.0]])
    fresh = np.array([[1.0], [0.0]])
    beliefs = np.array([[[1.0, 1.0]], [[0.0, 0.0]]])
    lv.coordination_share(0.5, links, fresh, beliefs)
    assert beliefs[0].tolist() == [[1.0, 1.0]]          # the informed hears nobody fresher
    assert beliefs[1] == pytest.approx(np.array([[0.5, 0.5]]))  # halfway at coordination 0.5
    assert fresh[:, 0] == pytest.approx([1.0, 0.45])     # news fades by a hop


def test_coordination_per_department():
    links = np.array([[0.0, 1.0], [1.0, 0.0]])
    fresh = np.array([[1.0], [0.0]])
    beliefs = np.array([[[1.0]], [[0.0]]])
    lv.coordination_share(np.array([0.0, 0.25]), links, fresh, beliefs)
    assert beliefs[1, 0, 0] == pytest.approx(0.25)


def test_no_coordination_means_no_sharing():
    links = np.ones((2, 2)) - np.eye(2)
    fresh = np.array([[1.0], [0.0]])
    beliefs = np.array([[[1.0]], [[0.0]]])
    lv.coordination_share(0.0, links, fresh, beliefs)
    assert beliefs[1, 0, 0] == 0.0


def test_capability_reduces_noise_and_widens_reach_step_and_horizon():
    assert lv.capability_noise(0.2, 1.0) == pytest.approx(0.04)
    assert lv.capability_noise(0.2, 0.0) == pytest.approx(0.2)
    assert lv.capability_reach(0.6) == pytest.approx(0.3)
    assert lv.capability_step(0.04, 0.0) == pytest.approx(0.01)
    assert lv.capability_step(0.04, 1.0) == pytest.approx(0.04)
    assert lv.capability_horizon(4.0, 0.5) == pytest.approx(2.0)


def test_capability_lowers_the_gain_of_fresh_signals_and_raises_the_noise_filter():
    assert lv.capability_gain(0.8, 0.0) == pytest.approx(0.8)
    assert lv.capability_gain(0.8, 1.0) == pytest.approx(0.32)
    assert lv.capability_filter(1.5, 0.0) == 0.0          # no skill: moves on every difference
    assert lv.capability_filter(1.5, 1.0) == pytest.approx(1.5)
    assert lv.capability_execution(0.5, 1.0) == 0.0
    assert lv.capability_trend_skill(0.3) == 0.3


def test_belief_noise_is_the_stationary_sd_of_an_exponential_average():
    # gain 1 keeps the last signal (its own s.d.); gain g gives sqrt(g / (2 - g))
    assert lv.belief_noise(0.2, 1.0) == pytest.approx(0.2)
    assert lv.belief_noise(0.2, 0.5) == pytest.approx(0.2 * np.sqrt(1 / 3))
    rng = np.random.default_rng(0)
    belief, trail = 0.0, []
    for x in rng.normal(0, 0.2, 20_000):
        belief += 0.5 * (x - belief)
        trail.append(belief)
    assert np.std(trail) == pytest.approx(lv.belief_noise(0.2, 0.5), rel=0.05)


def test_a_transition_disrupts_the_acting_levers_but_not_connections():
    levers = np.array([[0.8, 0.8, 0.8, 0.8, 0.8], [0.5, 0.5, 0.5, 0.5, 0.5]])
    out = lv.disrupted(levers, np.array([0.5, 0.0]))
    assert out[0].tolist() == [0.4, 0.4, 0.4, 0.4, 0.8]    # coordination .. capability halved
    assert out[1].tolist() == [0.5] * 5                     # no transition, no change
    assert lv.transition_loyalty(1.0, np.array([0.25])) == pytest.approx([0.75])
    assert lv.transition_error(0.05, np.array([0.0, 1.0])).tolist() == [0.0, 0.05]


def test_connections_lend_capability_and_report_more_precisely():
    assert lv.effective_capability(0.5, 0.0, 0.3) == pytest.approx(0.5)
    assert lv.effective_capability(0.5, 1.0, 0.3) == pytest.approx(0.5 + 0.3 / 2)
    assert lv.connections_noise(0.1, 1.0) < lv.connections_noise(0.1, 0.0)
    assert lv.connections_signal_chance(0.3) == 0.3


def test_upkeep_is_proportional_to_the_levers_not_to_the_departments():
    levers = {"coordination": 1.0, "cooperation": 0.5, "clout": 0.5, "capability": 0.0,
              "connections": 1.0}
    assert lv.upkeep(levers, 0.1) == pytest.approx(0.3)
