import numpy as np
import pytest

from simulation.market import Market, logit_choice, weighted_distance
from simulation.params import ModelParams, SegmentSpec


def logit_probabilities(utilities: np.ndarray) -> np.ndarray:
    """Multinomial-logit choice probabilities of each row's options (the closed form)."""
    shifted = utilities - utilities.max(axis=1, keepdims=True)
    expu = np.exp(shifted)
    return expu / expu.sum(axis=1, keepdims=True)


def two_segment_market(**kw) -> Market:
    segments = (
        SegmentSpec("a", 1.0, 1.0, (0.2, 0.8), (0.5, 0.5), 1.0),
        SegmentSpec("b", 1.0, 2.0, (0.7, 0.3), (0.9, 0.1), 2.0),
    )
    params = ModelParams(dimensions=2, segment_specs=segments, **kw)
    return Market(params, np.random.default_rng(0))


def test_weighted_distance_exact():
    positions = np.array([[0.0, 0.0], [1.0, 0.5]])
    offers = np.array([[[0.5, 0.5], [0.5, 0.5]], [[0.0, 1.0], [1.0, 0.5]]])
    weights = np.array([[0.5, 0.5], [0.25, 0.75]])
    assert weighted_distance(positions, offers, weights) == pytest.approx(
        np.array([[0.5, 0.5], [0.125, 0.0]]))


def test_logit_probabilities_closed_form():
    u = np.array([[0.0, np.log(3.0)], [1.0, 1.0]])
    assert logit_probabilities(u) == pytest.approx(np.array([[0.25, 0.75], [0.5, 0.5]]))


def test_logit_choice_never_picks_unavailable_option():
    u = np.array([[0.0, -np.inf, 0.0]] * 1000)
    picks = logit_choice(u, np.random.default_rng(1))
    assert set(np.unique(picks)) == {0, 2}


def test_choice_shares_match_closed_form_logit():
    """With fixed offerings, no loyalty and no scatter, shares are the MNL probabilities."""
    market = two_segment_market(customers=40_000, switch_rate=1.0, loyalty=0.0)
    market.offset[:] = 0.0
    offerings = np.array([[[0.3, 0.7], [0.6, 0.4]], [[0.5, 0.5], [0.9, 0.1]]])
    prices = np.array([1.0, 0.8])
    market.choose(np.random.default_rng(5), offerings, prices, np.array([True, True]),
                  np.array([np.inf, np.inf]))
    p = market.params
    for s in range(2):
        need = market.ideal[s]
        dist = (np.abs(offerings[:, s] - need) * market.weights[s]).sum(axis=1)
        pw = market.price_weight[s]
        u = np.append(-p.fit_sensitivity * dist - pw * prices, -(pw + p.outside_option))
        expected = logit_probabilities(u[None])[0]
        chosen = market.supplier[market.segment == s]
        observed = np.array([(chosen == 0).mean(), (chosen == 1).mean(), (chosen == -1).mean()])
        # 20,000 customers a segment: a share's standard error is below 0.0036; allow 4 of them.
        assert observed == pytest.approx(expected, abs=0.015)


def test_loyalty_keeps_customers_with_their_supplier():
    offerings = np.array([[[0.2, 0.8], [0.7, 0.3]], [[0.2, 0.8], [0.7, 0.3]]])
    kept = []
    for loyalty in (0.0, 3.0):
        market = two_segment_market(customers=4000, switch_rate=1.0, loyalty=loyalty)
        market.assign(np.zeros(4000, dtype=int))
        market.any_must_choose = False
        market.must_choose[:] = False
        market.choose(np.random.default_rng(2), offerings, np.ones(2), np.ones(2, bool),
                      np.full(2, np.inf))
        kept.append((market.supplier == 0).mean())
    assert kept[1] > kept[0] + 0.2


def test_capacity_is_never_exceeded():
    market = two_segment_market(customers=3000, switch_rate=1.0)
    offerings = np.array([[[0.0, 0.0], [0.0, 0.0]], [[0.2, 0.8], [0.7, 0.3]]])
    market.choose(np.random.default_rng(3), offerings, np.array([1.0, 0.5]),
                  np.ones(2, bool), np.array([np.inf, 25.0]))
    assert (market.supplier == 1).sum() == 25


def test_two_limited_firms_keep_their_capacity_and_the_counts_stay_exact():
    # Customers turned away by one limited firm may go back to another limited firm; the
    # capacity check reads the kept (segment, supplier) counts, so they must match a
    # recount every month.
    market = two_segment_market(customers=2000, switch_rate=0.3)
    rng = np.random.default_rng(5)
    capacity = np.array([np.inf, 60.0, 90.0])
    for month in range(40):
        offerings = rng.random((3, 2, 2))
        market.choose(rng, offerings, np.array([1.0, 0.4, 0.4]), np.ones(3, bool), capacity)
        served = np.bincount(market.supplier + 1, minlength=4)[1:]
        assert served[1] <= capacity[1] and served[2] <= capacity[2], month
        recount = np.zeros_like(market.counts)
        np.add.at(recount, (market.segment, market.supplier + 1), 1)
        assert np.array_equal(market.counts, recount), month
        capacity[1:] += 5.0


def test_tally_counts_shares_and_revenue_exactly():
    market = two_segment_market(customers=50)          # segment a: 0-24, b: 25-49
    market.assign(np.array([0] * 10 + [1] * 10 + [-1] * 5 + [0] * 5 + [1] * 15 + [-1] * 5))
    offerings = np.array([[[0.2, 0.8], [0.7, 0.3]], [[0.2, 0.8], [0.7, 0.3]]])
    tally = market.tally(offerings, np.array([1.0, 2.0]))
    assert tally.customers.tolist() == [15.0, 25.0]
    assert tally.share.tolist() == [0.3, 0.5]
    assert tally.no_purchase == pytest.approx(0.2)
    # firm 0: 10 customers of a (value 1) and 5 of b (value 2) at price 1; firm 1 at price 2.
    assert tally.revenue.tolist() == [20.0, 80.0]
    assert tally.satisfaction.tolist() == [1.0, 1.0]
    assert tally.segment_share.tolist() == [[0.4, 0.4], [0.2, 0.6]]


def test_no_turbulence_means_needs_stand_still():
    market = two_segment_market(turbulence=0.0)
    before = market.ideal.copy()
    market.drift(np.random.default_rng(0))
    assert np.array_equal(market.ideal, before)


def test_needs_move_exactly_turbulence_per_month_along_their_trend():
    market = two_segment_market(turbulence=0.03, need_noise=0.0)
    rng = np.random.default_rng(0)
    for _ in range(50):
        before = market.ideal.copy()
        market.drift(rng)
        assert np.linalg.norm(market.ideal - before, axis=1) == pytest.approx([0.03, 0.03])
        assert np.array_equal(market.needs, market.ideal)  # no transient noise


def test_momentum_sets_how_long_a_trend_keeps_its_direction():
    def persistence(momentum: float) -> float:
        market = two_segment_market(turbulence=0.01, momentum=momentum, need_noise=0.0)
        rng = np.random.default_rng(1)
        cosines = []
        for _ in range(400):
            before = market.direction.copy()
            market.drift(rng)
            cosines.extend((before * market.direction).sum(axis=1))
        return float(np.mean(cosines))

    assert persistence(0.95) > 0.9      # one direction for months
    assert abs(persistence(0.0)) < 0.1  # a new direction every month: a random walk


def test_fast_persistent_change_leaves_the_unit_box_instead_of_folding_into_noise():
    # The need space is open: a trend that lasts carries needs past 1 (the old box reflected
    # them back, turning fast change into stationary noise).
    market = two_segment_market(turbulence=0.05, momentum=0.999, need_noise=0.0)
    rng = np.random.default_rng(2)
    start = market.ideal.copy()
    for _ in range(60):
        market.drift(rng)
    travelled = np.linalg.norm(market.ideal - start, axis=1)
    assert (travelled > 2.5).all()       # of 3.0 walked, nearly all is net displacement


def test_transient_noise_does_not_accumulate():
    market = two_segment_market(turbulence=0.0, need_noise=0.05)
    rng = np.random.default_rng(3)
    deviations = []
    for _ in range(2000):
        market.drift(rng)
        deviations.append(market.needs - market.ideal)
    deviations = np.array(deviations)
    assert np.array_equal(market.ideal, two_segment_market().ideal)   # the trend stays put
    assert deviations.std() == pytest.approx(0.05, rel=0.05)
    # independent from month to month: nothing in it a firm could learn
    lag1 = np.corrcoef(deviations[1:, 0, 0], deviations[:-1, 0, 0])[0, 1]
    assert abs(lag1) < 0.06


def test_shock_moves_each_segment_by_shock_size():
    market = two_segment_market(shock_size=0.1)
    before = market.ideal.copy()
    market.shock(np.random.default_rng(4))
    assert np.linalg.norm(market.ideal - before, axis=1) == pytest.approx([0.1, 0.1])


def test_emerging_segment_enters_and_must_choose():
    segments = (
        SegmentSpec("old", 1.0, 1.0, (0.5, 0.5), (0.5, 0.5)),
        SegmentSpec("new", 1.0, 1.0, (0.9, 0.9), (0.5, 0.5), emerging=True),
    )
    market = Market(ModelParams(dimensions=2, segment_specs=segments, customers=100),
                    np.random.default_rng(0))
    market.must_choose[:] = False
    assert market.active_weights.tolist() == [1.0, 0.0]
    assert market.emerge() == 1
    assert market.active.all() and market.must_choose[market.segment == 1].all()
    assert market.active_weights.tolist() == [0.5, 0.5]
    assert market.emerge() is None


def test_running_counts_match_a_recount_after_a_long_run():
    from simulation import OrgModel

    model = OrgModel(rng=8, customers=800, entrant_steps=(5, 9), new_segment_steps=(7,),
                     shock_rate=0.2).run(60)
    market = model.market
    kept = market.counts.copy()
    market.assign(market.supplier.copy())
    assert np.array_equal(kept, market.counts)


def test_reconsidering_customers_follow_the_switch_rate():
    market = two_segment_market(customers=20_000, switch_rate=0.1)
    market.must_choose[:] = False
    market.any_must_choose = False
    drawn = [market._reconsidering(np.random.default_rng(i)).size for i in range(20)]
    # Binomial(20000, 0.1): mean 2000, sd 42; the mean of 20 draws within 3 sd of it (28).
    assert abs(np.mean(drawn) - 2000) < 30
