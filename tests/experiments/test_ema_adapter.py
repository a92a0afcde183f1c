"""The model under the EMA Workbench: same experiment, same numbers as `outsidein sweep`,
under EMA's sequential evaluator, our local-process evaluator and our Dask evaluator."""

import numpy as np
import pytest
from ema_workbench import ScalarOutcome, SequentialEvaluator, perform_experiments
from ema_workbench.util import EMAError

from experiments.engine.runner import replication_seed
from experiments.sweeps.ema import (
    MARKET_UNCERTAINTIES,
    ORGANIZATION_LEVERS,
    OrgReplications,
    from_spec,
    future_block,
    org_ema_model,
    parameter,
    registry_outcomes,
)
from experiments.sweeps.ema_evaluators import DaskEvaluator, ExecutorEvaluator
from experiments.sweeps.spec import parse_spec
from experiments.sweeps.store import read_runs
from simulation.outcomes import OUTCOMES
from simulation.params import PARAMETERS
from tests.experiments.exp_helpers import run_cli, write_spec

OUTS = ["final_share", "survived", "cumulative_profit", "share_advantage"]
SPEC = {"name": "ema_tiny", "base": {"customers": 100, "rivals": 1}, "steps": 12,
        "levers": {"coordination": {"levels": [0.2, 0.8]}, "structure": {
            "levels": ["inside_out", "outside_in"]}},
        "conditions": {"turbulence": {"levels": [0.0, 0.1]},
                       "shock_rate": {"levels": [0.0, 0.3]}},
        "replications": 2, "seed": 7, "analysis": {"outcomes": OUTS}}


@pytest.fixture(scope="module")
def sequential():
    """EMA's own sequential evaluator on the spec's design (the mean of the replications)."""
    exp = from_spec(parse_spec(SPEC))
    return exp, exp.perform(SequentialEvaluator(exp.model))


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweep")
    spec = write_spec(folder / "spec.yaml", SPEC)
    result = run_cli("sweep", str(spec), "--out", str(folder / "out"), "--workers", "1", "-q")
    assert result.exit_code == 0, result.output
    return read_runs(folder / "out")


def test_ema_experiments_are_the_sweeps_samples_in_order(sequential, swept):
    _, (experiments, _) = sequential
    samples = swept.groupby("sample_id").first()
    assert len(experiments) == len(samples) == 16
    for name in ("coordination", "structure", "turbulence", "shock_rate"):
        assert list(experiments[name]) == list(samples[name]), name


def test_ema_gives_each_experiment_the_mean_outsidein_sweep_gives(sequential, swept):
    _, (_, outcomes) = sequential
    for name in OUTS:
        by_sweep = swept.pivot(index="sample_id", columns="replication", values=name)
        np.testing.assert_array_equal(outcomes[name], np.mean(by_sweep.to_numpy(dtype=float),
                                                              axis=1), err_msg=name)


def test_each_replication_is_the_sweeps_run_with_the_sweeps_seed(sequential, swept):
    exp, (experiments, _) = sequential
    function = exp.model.function
    for sample_id in (0, 5, 15):
        row = experiments.iloc[sample_id]
        params = {n: row[n] for n in ("coordination", "structure", "turbulence",
                                      "shock_rate")}
        for replication in (0, 1):
            run = swept[(swept["sample_id"] == sample_id)
                        & (swept["replication"] == replication)].iloc[0]
            assert function.task(replication, params).seed == run["seed"]
            got = function(replication=replication, **params)
            assert [got[n] for n in OUTS] == [run[n] for n in OUTS]


def test_the_runs_are_paired_across_organizations_and_differ_across_futures(swept):
    # a check that the equality above is not that of constants: the seeds pair the levers
    assert swept.groupby(["turbulence", "shock_rate", "replication"])["seed"].nunique().eq(1).all()
    assert swept["seed"].nunique() == 8
    assert swept["cumulative_profit"].nunique() > 8


def test_the_local_process_evaluator_gives_identical_outcomes(sequential):
    exp, (experiments, outcomes) = sequential
    with ExecutorEvaluator(exp.model, workers=2) as evaluator:
        got_x, got = exp.perform(evaluator)
    assert list(got_x["policy"]) == list(experiments["policy"])
    for name in OUTS:
        np.testing.assert_array_equal(got[name], outcomes[name], err_msg=name)


def test_the_dask_evaluator_gives_identical_outcomes(sequential):
    import distributed  # a declared dependency: its absence is a failure, not a skip

    exp, (experiments, outcomes) = sequential
    with (distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=50) as cluster,
          DaskEvaluator(exp.model, cluster.scheduler_address) as evaluator):
        got_x, got = exp.perform(evaluator)
        assert evaluator.executor is not None and evaluator.executor.backend == "dask"
    assert list(got_x["scenario"]) == list(experiments["scenario"])
    for name in OUTS:
        np.testing.assert_array_equal(got[name], outcomes[name], err_msg=name)


def test_a_failing_experiment_fails_with_its_name_never_with_another_runs_results():
    def flaky(x=0.0, u=0.0):
        if x > 0.5:
            raise ZeroDivisionError("x above a half")
        return {"y": x}

    from ema_workbench import Model, RealParameter
    from ema_workbench.em_framework.points import Sample

    model = Model("flaky", function=flaky)
    model.levers = [RealParameter("x", 0, 1)]
    model.uncertainties = [RealParameter("u", 0, 1)]
    model.outcomes = [ScalarOutcome("y")]
    with ExecutorEvaluator(model) as evaluator, pytest.raises(EMAError) as err:
        perform_experiments(model, policies=[Sample("low", x=0.1), Sample("high", x=0.9)],
                            scenarios=[Sample("future", u=0.5)], evaluator=evaluator)
    assert "policy high" in str(err.value) and "x above a half" in str(err.value)


def test_the_factory_takes_levers_uncertainties_and_outcomes_from_the_model():
    model = org_ema_model(steps=6, replications=3)
    assert [p.name for p in model.levers] == list(ORGANIZATION_LEVERS)
    assert [p.name for p in model.uncertainties] == list(MARKET_UNCERTAINTIES)
    assert [o.name for o in model.outcomes] == list(OUTCOMES)
    for p in model.uncertainties:
        bound = PARAMETERS[p.name].metadata["bound"]
        assert (p.lower_bound, p.upper_bound) == (bound.low, bound.high)
    kinds = {o.name: o.kind for o in model.outcomes}
    assert kinds["final_share"] == ScalarOutcome.MAXIMIZE
    assert kinds["resilience_loss"] == ScalarOutcome.MINIMIZE
    assert kinds["entrants"] == ScalarOutcome.INFO
    reorganize = next(p for p in model.levers if p.name == "reorganize_step")
    assert reorganize.lower_bound == 0  # 0: never
    assert len(model.replications) == 3


def test_a_narrowed_range_must_stay_inside_the_models():
    assert parameter("turbulence", 0.0, 0.2).upper_bound == 0.2
    with pytest.raises(ValueError, match=r"turbulence: range \[0, 0.9\] must lie inside"):
        parameter("turbulence", 0.0, 0.9)
    with pytest.raises(KeyError, match="structure"):
        parameter("structure")
    with pytest.raises(KeyError, match="not a registered outcome"):
        registry_outcomes(["final_shar"])


def test_a_free_ema_run_pairs_organizations_on_the_futures_values():
    run = OrgReplications(base={"customers": 80}, steps=3, seed=11,
                          unpaired=("turbulence",))
    a = run.task(1, {"turbulence": 0.05, "coordination": 0.1})
    b = run.task(1, {"turbulence": 0.05, "coordination": 0.9})
    c = run.task(1, {"turbulence": 0.06, "coordination": 0.1})
    assert a.seed == b.seed != c.seed
    assert a.seed == replication_seed(11, 1, (future_block({"turbulence": 0.05}),))
    assert future_block({"turbulence": 0.05}) == future_block({"turbulence": np.float64(0.05)})


def test_reorganize_step_zero_means_never():
    run = OrgReplications(base={}, steps=3, seed=0, unpaired=())
    assert run.task(0, {"reorganize_step": 0}).params["reorganize_step"] is None
    assert run.task(0, {"reorganize_step": 5}).params["reorganize_step"] == 5


def test_a_factory_model_runs_a_sampled_experiment_with_the_workbenchs_sampler():
    model = org_ema_model(base={"customers": 60}, steps=4, replications=1,
                          levers={"coordination": None, "price": (0.8, 1.2)},
                          uncertainties={"turbulence": (0.0, 0.1)},
                          outcomes=["final_share", "survived"])
    experiments, outcomes = perform_experiments(model, scenarios=2, policies=2)
    assert len(experiments) == 4
    assert ((outcomes["final_share"] >= 0) & (outcomes["final_share"] <= 1)).all()
    assert experiments["price"].between(0.8, 1.2).all()


def test_a_sampled_design_pairs_each_policy_with_its_own_scenario(tmp_path):
    spec = parse_spec({"name": "ema_lhs", "base": {"customers": 60, "rivals": 1}, "steps": 4,
                       "levers": {"capability": {"range": [0.0, 1.0]}},
                       "conditions": {"turbulence": {"range": [0.0, 0.1]}},
                       "design": {"kind": "lhs", "samples": 4}, "replications": 1, "seed": 5,
                       "analysis": {"outcomes": ["cumulative_profit"]}})
    exp = from_spec(spec)
    assert exp.combine == "cycle"
    experiments, outcomes = exp.perform()
    from experiments.sweeps.sweep import run_sweep

    run_sweep(spec, tmp_path / "out", workers=1)
    runs = read_runs(tmp_path / "out")
    assert list(experiments["capability"]) == list(runs["capability"])
    assert list(experiments["turbulence"]) == list(runs["turbulence"])
    np.testing.assert_array_equal(outcomes["cumulative_profit"], runs["cumulative_profit"])


def test_the_evaluator_leaves_the_searchs_random_stream_as_it_found_it():
    import random

    from ema_workbench import Model, RealParameter
    from ema_workbench.em_framework.points import Sample

    def draws(x=0.0, u=0.0):
        return {"y": x + random.random()}  # a model that (wrongly) uses the global stream

    model = Model("draws", function=draws)
    model.levers = [RealParameter("x", 0, 1)]
    model.uncertainties = [RealParameter("u", 0, 1)]
    model.outcomes = [ScalarOutcome("y")]
    random.seed(9)
    before = random.getstate()
    with ExecutorEvaluator(model) as evaluator:
        perform_experiments(model, policies=[Sample("p", x=0.5)],
                            scenarios=[Sample("s", u=0.1), Sample("t", u=0.2)],
                            evaluator=evaluator)
    assert random.getstate() == before
