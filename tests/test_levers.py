import numpy as np
import pytest

from simulation import levers as lv


def test_clout_splits_power_between_customer_facing_and_internal():
    facing = np.array([True, True, True, False, False, False])
    w = lv.clout_weights(np.full(6, 0.8), facing, np.full(6, 3), np.full(6, 3))
    assert w == pytest.approx([0.8 / 3] * 3 + [0.2 / 3] * 3)
    assert w.sum() == pytest.approx(1.0)


def test_clout_with_one_group_missing_is_equal_weights():
    w = lv.clout_weights(np.full(2, 0.9), np.array([True, True]), np.full(2, 2), np.zeros(2))
    assert w == pytest.approx([0.5, 0.5])


def test_clout_weights_firm_by_firm():
    # firm A: sales + product (clout 0.9); firm B: sales, marketing, finance (clout 0.3)
    facing = np.array([True, False, True, True, False])
    w = lv.clout_weights(np.array([0.9, 0.9, 0.3, 0.3, 0.3]), facing,
                         np.array([1, 1, 2, 2, 2]), np.array([1, 1, 1, 1, 1]))
    assert w == pytest.approx([0.9, 0.1, 0.15, 0.15, 0.7])


def test_cooperation_splits_the_pull_into_customer_and_silo_parts():
    customer, silo = lv.cooperation_blend(0.25, np.array([4.0]), np.array([8.0]))
    assert customer == pytest.approx([1.0])
    assert silo == pytest.approx([6.0])


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


def test_upkeep_is_proportional_to_the_levers():
    levers = {"coordination": 1.0, "cooperation": 0.5, "clout": 0.5, "capability": 0.0,
              "connections": 1.0}
    assert lv.upkeep(levers, 0.1) == pytest.approx(0.3)
    assert lv.upkeep(levers, 0.1, 12) == pytest.approx(0.6)   # twice the people, twice the cost


def test_followable_speed_is_the_capability_step_over_the_silos_resistance():
    class P:
        max_change, silo_lag, borrowed_capability = 0.05, 12.0, 0.0

    full = dict.fromkeys(("coordination", "clout", "connections"), 0.0)
    # capability 1, cooperation 1: the whole step, no silo resistance
    assert lv.followable_speed(P, {**full, "capability": 1.0, "cooperation": 1.0}) == \
        pytest.approx(0.05)
    # capability 0 (a quarter step), cooperation 0.5: 0.0125 / (1 + 0.5 * 12)
    assert lv.followable_speed(P, {**full, "capability": 0.0, "cooperation": 0.5}) == \
        pytest.approx(0.0125 / 7)


def test_internal_departments_lean_toward_their_silo_unless_coordinated():
    facing = np.array([True, False, False])
    lean = lv.coordination_lean(np.array([0.2, 0.2, 0.9]), facing)
    assert lean == pytest.approx([0.0, 0.8, 0.1])
