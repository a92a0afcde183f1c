"""March (1991): each rule exactly, the model's invariants, and its seed discipline."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.docking.march import (
    MarchModel,
    MarchParams,
    act,
    dominant_view,
    is_absorbing,
    knowledge,
    learn_code,
    march_run,
    outperformers,
    score,
    socialize,
    socialize_gradual,
    superior_group,
)
from simulation.errors import ParameterError

I8 = np.int8


def arr(*values: object) -> np.ndarray:
    return np.array(values, dtype=I8)


# --- the rules -----------------------------------------------------------------------------


def test_socialization_adopts_the_code_where_it_has_a_view_and_the_draw_is_below_p1():
    beliefs = np.array([[1, -1, 0, -1], [0, 0, 1, 1]], dtype=I8)
    code = arr(1, 0, -1, -1)
    draws = np.array([[0.0, 0.0, 0.0, 0.0], [0.29, 0.0, 0.3, 0.31]])
    new = socialize(beliefs, code, draws, p1=0.3)
    # row 0: dim 1 has no code view; dim 2 adopts; dim 3 already agrees
    # row 1: dim 0 adopts (0.29 < 0.3); dims 2 and 3 do not (0.3, 0.31 are not below 0.3)
    assert new.tolist() == [[1, -1, -1, -1], [1, 0, 1, 1]]
    assert beliefs.tolist() == [[1, -1, 0, -1], [0, 0, 1, 1]], "the input is not changed"


def test_gradual_socialization_moves_one_step_towards_the_code():
    beliefs = np.array([[-1, 0, 1, -1, 1]], dtype=I8)
    code = arr(1, 1, -1, -1, 0)
    new = socialize_gradual(beliefs, code, np.zeros((1, 5)), p1=0.5)
    assert new.tolist() == [[0, 1, 0, -1, 1]]
    assert socialize_gradual(beliefs, code, np.ones((1, 5)), p1=0.5).tolist() == \
        beliefs.tolist()


def test_acting_replaces_each_zero_belief_by_its_coin():
    beliefs = np.array([[1, 0, -1, 0]], dtype=I8)
    coins = np.array([[-1, -1, 1, 1]], dtype=I8)
    assert act(beliefs, coins).tolist() == [[1, -1, -1, 1]]


def test_knowledge_counts_matches_and_score_counts_matches_minus_mismatches():
    reality = arr(1, -1, 1, 1)
    views = np.array([[1, -1, 0, -1], [1, -1, 1, 1]], dtype=I8)
    assert knowledge(views, reality).tolist() == [0.5, 1.0]
    assert score(views, reality).tolist() == [1, 4]


def test_the_superior_group_knows_strictly_more_than_the_code():
    reality = arr(1, 1, 1, 1)
    code = arr(1, 1, 0, 0)  # 2 right
    beliefs = np.array([[1, 1, 1, 0],   # 3 right: superior
                        [1, 1, -1, 0],  # 2 right: a tie is not superior
                        [0, 0, 1, 1],   # 2 right
                        [1, 1, 1, 1]], dtype=I8)
    assert superior_group(beliefs, code, reality).tolist() == [True, False, False, True]


def test_outperformers_score_their_actions_strictly_above_the_code():
    reality = arr(1, 1, 1)
    code = arr(1, 0, 0)  # score 1
    actions = np.array([[1, 1, -1], [1, 1, 1], [-1, 1, 1], [1, -1, -1]], dtype=I8)
    # scores 1, 3, 1, -1
    assert outperformers(actions, code, reality).tolist() == [False, True, False, False]


def test_the_dominant_view_and_its_lead_k_over_the_opposite_view():
    views = np.array([[1, -1, 1, 0, 1],
                      [1, -1, -1, 0, 1],
                      [1, 1, 0, 0, 1],
                      [-1, 0, 0, 1, -1]], dtype=I8)
    superior = np.array([True, True, True, False])
    code = arr(0, 1, 0, 0, 1)
    dominant, k = dominant_view(views, code, superior)
    assert dominant.tolist() == [1, -1, 0, 0, 1]
    # dim 0: 3 vs 0 -> k 3; dim 1: 2 vs 1 -> k 1; dim 2: tie; dim 3: no view;
    # dim 4: the code already holds the dominant view
    assert k.tolist() == [3, 1, 0, 0, 0]
    _, none = dominant_view(views, code, np.zeros(4, dtype=bool))
    assert none.tolist() == [0, 0, 0, 0, 0]


def test_the_code_moves_with_chance_one_minus_one_minus_p2_to_the_k():
    code = arr(0, -1, 1, 0)
    dominant = arr(1, 1, -1, 1)
    k = np.array([2, 2, 1, 0])
    # p2 = 0.5: chances 0.75, 0.75, 0.5, 0
    draws = np.array([0.74, 0.75, 0.49, 0.0])
    assert learn_code(code, dominant, k, draws, p2=0.5).tolist() == [1, -1, -1, 0]
    assert learn_code(code, dominant, k, np.zeros(4), p2=0.0).tolist() == code.tolist()


def test_a_state_is_absorbing_only_when_no_rule_can_change_it():
    reality = arr(1, 1, -1)
    code = arr(1, 1, -1)
    agree = np.array([[1, 1, -1], [1, 1, -1]], dtype=I8)
    assert is_absorbing(agree, code, reality, 0.5, 0.5)
    assert is_absorbing(agree, code, reality, 0.5, 0.5, "paper")
    differs = np.array([[1, 0, -1], [1, 1, -1]], dtype=I8)
    assert not is_absorbing(differs, code, reality, 0.5, 0.5)
    assert is_absorbing(differs, code, reality, 0.0, 0.5), "p1 = 0: nobody is socialized, " \
        "and nobody can outscore a perfect code"
    # the code has no view on dim 2; an individual's coin there may land right
    partial = arr(1, 1, 0)
    same = np.array([[1, 1, 0], [1, 1, 0]], dtype=I8)
    assert not is_absorbing(same, partial, reality, 0.5, 0.5)
    assert is_absorbing(same, partial, reality, 0.5, 0.5, "paper"), \
        "in the paper's reading a 0 is no view: nothing can move the code"
    assert is_absorbing(same, partial, reality, 0.5, 0.0)


# --- the model -----------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_run_and_another_seed_another():
    a, _ = march_run({"p1": 0.3, "p2": 0.7}, 11, steps=10_000)
    b, _ = march_run({"p1": 0.3, "p2": 0.7}, 11, steps=10_000)
    runs = [march_run({"p1": 0.3, "p2": 0.7}, s, steps=10_000)[0] for s in range(5)]
    assert a == b
    assert len({(r["code_score"], r["periods"]) for r in runs}) > 1


@pytest.mark.parametrize(("name", "value"), [
    ("p1", 0.9), ("p2", 0.1), ("p3", 0.05), ("p4", 0.05), ("m", 20), ("n", 20),
    ("algorithm", "paper")])
def test_every_parameter_changes_the_runs(name, value):
    base = {"p1": 0.3, "p2": 0.6}
    def results(params):
        return [march_run(params, seed, steps=200)[0] for seed in range(6)]
    assert results(base) != results({**base, name: value})


def test_turnover_replaces_individuals_by_newcomers_and_keeps_the_headcount():
    model = MarchModel(rng=3, p1=0.5, p2=0.5, p3=0.2)
    first = {a.unique_id for a in model.agents}
    model.run(20)
    assert model.departures > 0
    assert len(model.agents) == model.params.n
    assert {a.unique_id for a in model.agents} != first
    assert sorted(a.row for a in model.agents) == list(range(model.params.n))
    assert model.period == 20 and not model.absorbed, "turnover: nothing is absorbing"


def test_turbulence_flips_reality():
    model = MarchModel(rng=4, p4=0.2)
    start = model.reality.copy()
    model.run(10)
    assert (model.reality != start).any()
    assert set(np.unique(model.reality)) <= {-1, 1}


def test_an_individual_is_its_row_of_the_belief_matrix():
    model = MarchModel(rng=5, n=4, m=6)
    agent = next(a for a in model.agents if a.row == 2)
    assert agent.beliefs.tolist() == model.beliefs[2].tolist()
    assert agent.knowledge == pytest.approx(float((model.beliefs[2] == model.reality).mean()))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32), p1=st.floats(0.05, 1.0), p2=st.floats(0.05, 1.0),
       algorithm=st.sampled_from(["original", "paper"]))
def test_a_run_ends_in_a_state_that_no_rule_can_change(seed, p1, p2, algorithm):
    model = MarchModel(rng=seed, m=10, n=12, p1=p1, p2=p2, algorithm=algorithm)
    model.run(20_000)
    assert model.absorbed and not model.running
    assert set(np.unique(model.beliefs)) <= {-1, 0, 1}
    assert set(np.unique(model.code)) <= {-1, 0, 1}
    code = model.code
    assert not ((code != 0) & (model.beliefs != code)).any(), "all agree with the code's views"
    before = (model.beliefs.copy(), model.code.copy(), model.period)
    model.step()
    assert (model.beliefs == before[0]).all() and (model.code == before[1]).all()
    assert model.period == before[2]
    assert 0.0 <= model.code_knowledge <= 1.0 and -1.0 <= model.code_score <= 1.0


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32), p1=st.floats(0.0, 1.0), p2=st.floats(0.0, 1.0))
def test_the_code_never_loses_a_view_once_it_holds_one(seed, p1, p2):
    model = MarchModel(rng=seed, m=8, n=10, p1=p1, p2=p2)
    held = np.zeros(8, dtype=bool)
    for _ in range(50):
        model.step()
        assert not (held & (model.code == 0)).any()
        held |= model.code != 0


def test_a_series_is_kept_when_asked():
    outcomes, series = march_run({"p1": 0.5, "p2": 0.5}, 2, steps=1_000, series_every=5)
    assert series is not None
    assert list(series.columns) == ["step", "code_knowledge", "code_score", "mean_knowledge"]
    assert series["step"].iloc[-1] == outcomes["periods"]
    assert series["code_score"].iloc[-1] == outcomes["code_score"]
    assert march_run({"p1": 0.5, "p2": 0.5}, 2, steps=1_000)[0] == outcomes


@pytest.mark.parametrize(("params", "field"), [
    ({"p1": 1.5}, "p1"), ({"p3": -0.1}, "p3"), ({"m": 0}, "m"), ({"n": 2.5}, "n"),
    ({"algorithm": "basic"}, "algorithm"), ({"q": 1}, "q"), ({"p2": True}, "p2")])
def test_a_bad_parameter_is_refused_naming_it(params, field):
    with pytest.raises(ParameterError) as err:
        MarchParams.from_mapping(params)
    assert err.value.field == field and str(err.value).startswith(f"{field}: ")
