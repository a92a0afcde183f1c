"""NK landscapes: the contribution table, fitness, peaks and search, each exactly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.docking.nk import (
    NKModel,
    NKParams,
    Organization,
    all_configurations,
    contribution_table,
    fitness,
    interaction_matrix,
    local_optima,
    nk_run,
)
from simulation.errors import ParameterError


def test_the_contribution_table_has_one_uniform_per_locus_and_neighbourhood_setting():
    table = contribution_table(np.random.default_rng(0), 6, 2)
    assert table.shape == (6, 8)
    assert ((table >= 0) & (table < 1)).all()
    assert len(np.unique(table)) == table.size


def test_adjacent_interactions_are_the_next_k_loci_cyclically():
    assert interaction_matrix(4, 2).tolist() == [[0, 1, 2], [1, 2, 3], [2, 3, 0], [3, 0, 1]]
    assert interaction_matrix(3, 0).tolist() == [[0], [1], [2]]


def test_random_interactions_put_the_locus_first_then_k_distinct_others():
    loci = interaction_matrix(8, 3, "random", np.random.default_rng(1))
    assert loci.shape == (8, 4)
    for i, row in enumerate(loci):
        assert row[0] == i and i not in row[1:] and len(set(row)) == 4


def test_configurations_list_bit_i_of_c_in_column_i():
    assert all_configurations(2).tolist() == [[0, 0], [1, 0], [0, 1], [1, 1]]


def test_fitness_is_the_mean_of_the_contributions_indexed_by_each_neighbourhood():
    table = np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8]])
    loci = interaction_matrix(2, 1)  # [[0, 1], [1, 0]]
    # bits (1, 0): locus 0 reads (b0, b1) = (1, 0) -> index 2; locus 1 reads (b1, b0) = (0, 1)
    # -> index 1
    assert fitness(np.array([1, 0]), loci, table)[0] == pytest.approx((0.3 + 0.6) / 2)
    every = fitness(all_configurations(2), loci, table)
    assert every.tolist() == pytest.approx([(0.1 + 0.5) / 2, (0.3 + 0.6) / 2,
                                            (0.2 + 0.7) / 2, (0.4 + 0.8) / 2])


def test_a_local_optimum_is_strictly_fitter_than_each_one_flip_neighbour():
    # configurations 0..3 of N = 2; neighbours of c are c ^ 1 and c ^ 2
    values = np.array([0.1, 0.5, 0.3, 0.2])
    assert local_optima(values, 2).tolist() == [False, True, True, False]
    assert local_optima(np.array([0.4, 0.4, 0.1, 0.1]), 2).tolist() == [False] * 4, \
        "a tie is not a peak"


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(1, 9))
def test_k0_has_one_peak_the_global_one_with_the_mean_of_the_loci_maxima(seed, n):
    model = NKModel(rng=seed, n=n, k=0, organizations=0)
    assert int(model.peaks.sum()) == 1
    assert bool(model.peaks[model.global_peak])
    assert model.landscape.max() == pytest.approx(model.table.max(axis=1).mean())


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(2, 8), k=st.integers(0, 7))
def test_local_search_stops_only_on_peaks_and_never_loses_fitness(seed, n, k):
    k = min(k, n - 1)
    model = NKModel(rng=seed, n=n, k=k, organizations=20)
    before = [o.fitness for o in model.organizations]
    model.run(5_000)
    after = [o.fitness for o in model.organizations]
    assert all(b <= a for b, a in zip(before, after, strict=True))
    assert model.settled()
    if k == 0:
        assert all(o.configuration == model.global_peak for o in model.organizations)


def test_an_organization_moves_only_to_a_fitter_configuration():
    model = NKModel(rng=2, n=3, k=2, organizations=0)
    start = int(np.argmin(model.landscape))
    org = Organization(model, start)
    fitter = start ^ 1
    org.search(jump_draw=0.9, flip=0, jump_to=0)
    assert org.configuration == fitter  # anything beats the least fit
    top = model.global_peak
    org.configuration = top
    for flip in range(3):
        org.search(jump_draw=0.9, flip=flip, jump_to=0)
    assert org.configuration == top


def test_a_long_jump_tries_the_drawn_configuration_instead_of_a_flip():
    model = NKModel(rng=2, n=3, k=2, organizations=0, jump=0.5)
    org = Organization(model, int(np.argmin(model.landscape)))
    org.search(jump_draw=0.1, flip=0, jump_to=model.global_peak)
    assert org.configuration == model.global_peak


@pytest.mark.parametrize(("name", "value"), [
    ("k", 3), ("n", 8), ("organizations", 10), ("jump", 0.2), ("interaction", "random")])
def test_every_parameter_changes_the_runs(name, value):
    base = {"n": 10, "k": 5, "organizations": 50}
    def results(params):
        return [nk_run(params, seed, steps=200)[0] for seed in range(3)]
    assert results(base) != results({**base, name: value})


def test_the_same_seed_gives_the_same_landscape_and_search():
    assert nk_run({"k": 4}, 7, steps=100) == nk_run({"k": 4}, 7, steps=100)
    assert nk_run({"k": 4}, 7, steps=100) != nk_run({"k": 4}, 8, steps=100)


def test_a_series_of_the_mean_fitness_is_kept_when_asked():
    outcomes, series = nk_run({"k": 3, "organizations": 30}, 1, steps=500, series_every=2)
    assert series is not None and list(series.columns) == ["step", "mean_fitness"]
    assert series["step"].iloc[-1] == outcomes["periods"]
    assert series["mean_fitness"].iloc[-1] == pytest.approx(outcomes["mean_fitness"])
    assert series["mean_fitness"].is_monotonic_increasing


@pytest.mark.parametrize(("params", "field"), [
    ({"n": 21}, "n"), ({"n": 5, "k": 5}, "k"), ({"k": -1}, "k"), ({"jump": 2}, "jump"),
    ({"interaction": "ring"}, "interaction"), ({"organisations": 3}, "organisations")])
def test_a_bad_parameter_is_refused_naming_it(params, field):
    with pytest.raises(ParameterError) as err:
        NKParams.from_mapping(params)
    assert err.value.field == field
