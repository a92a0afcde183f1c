import hashlib
import subprocess
import sys

import mesa
import numpy as np
import pandas as pd
import pytest

from simulation import LEVERS, OrgModel, ParameterError
from simulation.model import RESULT_COLUMNS


def digest(frame: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).values.tobytes()
                          ).hexdigest()


def test_results_have_one_row_per_step_and_firm_focal_first(small):
    model = OrgModel(rng=1, **small).run(30)
    results = model.results()
    assert list(results.columns) == RESULT_COLUMNS
    assert results.groupby("step")["firm"].first().eq("focal").all()
    assert not results.duplicated(["step", "firm"]).any()
    assert results["step"].min() == 0 and results["step"].max() == 30
    assert results.loc[results.firm == "focal", "structure"].iloc[0] == "outside_in"
    assert results.loc[results.firm == "rival", "structure"].iloc[0] == "inside_out"


def test_same_seed_same_numbers_other_seed_other_numbers(small):
    a = OrgModel(rng=11, **small).run(40).results()
    b = OrgModel(rng=11, **small).run(40).results()
    c = OrgModel(rng=12, **small).run(40).results()
    pd.testing.assert_frame_equal(a, b)
    assert not a["market_share"].equals(c["market_share"])


def test_same_seed_same_numbers_in_another_process(small):
    code = ("import hashlib, pandas as pd; from simulation import OrgModel; "
            f"r = OrgModel(rng=5, **{small!r}).run(25).results(); "
            "print(hashlib.sha256(pd.util.hash_pandas_object(r, index=False).values.tobytes())"
            ".hexdigest())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=".").stdout.strip()
    assert out == digest(OrgModel(rng=5, **small).run(25).results())


def test_model_reporters_and_batch_run(small):
    model = OrgModel(rng=2, **small).run(5)
    # the model's own recorder, read as Mesa's DataCollector is read (none of its internals)
    assert not isinstance(model.datacollector, mesa.DataCollector)
    frame = model.datacollector.get_model_vars_dataframe()
    assert {"market_share", "awareness_gap", "action_gap", "cash"} <= set(frame.columns)
    assert len(frame) == 6
    focal = model.results().query("firm == 'focal'")
    assert frame["market_share"].tolist() == pytest.approx(focal["market_share"].tolist())
    runs = mesa.batch_run(OrgModel, parameters={"customers": 300, "turbulence": [0.0, 0.05]},
                          rng=[1, 2], max_steps=5, number_processes=1,
                          display_progress=False)
    assert len(runs) == 4                       # 2 conditions x 2 seeds, last step each
    assert {r["Step"] for r in runs} == {5.0}
    assert all(0.0 <= r["market_share"] <= 1.0 for r in runs)


@pytest.mark.parametrize("kwargs, field", [
    ({"turbulence": 2.0}, "turbulence"),
    ({"turbulence": float("nan")}, "turbulence"),
    ({"customers": 10}, "customers"),
    ({"customers": 100.5}, "customers"),
    ({"structure": "matrix"}, "structure"),
    ({"clout": -0.1}, "clout"),
    ({"bogus": 1}, "bogus"),
    ({"shock_steps": (0,)}, "shock_steps"),
    ({"reorganize_to": {"charisma": 1.0}}, "reorganize_to.charisma"),
])
def test_bad_parameters_name_the_field(kwargs, field):
    with pytest.raises(ParameterError) as info:
        OrgModel(rng=1, **kwargs)
    assert info.value.field == field
    assert str(info.value).startswith(field)


def test_bad_steps_is_a_parameter_error(small):
    with pytest.raises(ParameterError, match="steps"):
        OrgModel(rng=1, **small).run(-1)


def test_scheduled_events_happen_at_their_month(small):
    model = OrgModel(rng=3, shock_rate=0.0, entrant_rate=0.0, new_segment_rate=0.0,
                     shock_steps=(5, 12), entrant_steps=(8,), new_segment_steps=(10,),
                     **small).run(15)
    kinds = [(e["step"], e["kind"]) for e in model.events]
    assert kinds == [(5, "shock"), (8, "entrant"), (10, "new_segment"), (12, "shock")]
    results = model.results()
    assert results.loc[results.firm == "entrant-1", "step"].min() == 8
    assert model.market.active.all()
    assert model.resilience()["shock_step"].unique().tolist() == [5, 12]


def test_random_events_are_logged_in_the_month_they_happen(small):
    model = OrgModel(rng=3, shock_rate=1.0, entrant_rate=0.0, new_segment_rate=0.0,
                     **small).run(4)
    assert [e["step"] for e in model.events if e["kind"] == "shock"] == [1, 2, 3, 4]
    assert model.resilience()["shock_step"].unique().tolist() == [1, 2, 3, 4]


def test_reorganization_moves_levers_over_the_transition(small):
    model = OrgModel(rng=4, structure="inside_out", reorganize_step=5, transition_steps=4,
                     **small).run(12)
    focal = model.results().query("firm == 'focal'").set_index("step")
    assert focal.loc[4, "clout"] == pytest.approx(0.2)
    assert focal.loc[5:8, "in_transition"].tolist() == [True, True, True, False]
    assert focal.loc[5, "clout"] == pytest.approx(0.2 + 0.6 / 4)
    assert focal.loc[8, "clout"] == pytest.approx(0.8)
    assert focal.loc[8, "structure"] == "outside_in"
    # the one-off cost lands in the first month of the transition
    assert focal.loc[5, "profit"] < focal.loc[4, "profit"] - 1.5 * model.fair_revenue


def test_reorganize_to_lever_values_keeps_the_structure(small):
    model = OrgModel(rng=4, structure="inside_out", **small)
    model.reorganize(0, {"clout": 0.9})
    model.run(model.params.transition_steps)
    assert model.focal.levers["clout"] == pytest.approx(0.9)
    assert model.focal.structure == "inside_out"


def test_lever_keywords_override_the_focal_preset_only(small):
    model = OrgModel(rng=1, structure="inside_out", clout=0.95, **small)
    assert model.focal.levers["clout"] == 0.95
    assert model.focal.levers["cooperation"] == 0.2
    assert model.firms[1].levers["clout"] == 0.8


def test_failed_firm_leaves_and_its_customers_choose_again(small):
    model = OrgModel(rng=1, starting_cash=0.0, fixed_cost=3.0, structure="inside_out",
                     rival_structure="inside_out", **small).run(3)
    results = model.results()
    assert not results.query("step == 3")["alive"].any()
    failures = [(e["step"], e["firm"]) for e in model.events if e["kind"] == "failure"]
    assert failures == [(1, "focal"), (1, "rival")]
    assert (model.market.supplier == -1).all()        # nobody left to buy from
    assert model.summary()["survived"] == 0.0


def test_dead_firms_lose_their_departments(small):
    model = OrgModel(rng=1, starting_cash=0.0, fixed_cost=3.0, **small).run(2)
    assert all(not f.alive and f.departments == [] for f in model.firms)
    from simulation.agents import Department
    assert len(model.agents_by_type.get(Department, [])) == 0


def test_summary_is_flat_floats(small):
    summary = OrgModel(rng=1, shock_steps=(5,), **small).run(20).summary()
    assert all(isinstance(v, float) and np.isfinite(v) for v in summary.values())
    assert summary["shocks"] >= 1.0


def test_department_views(small):
    model = OrgModel(rng=1, **small)
    depts = model.focal.departments
    assert [d.role for d in depts] == ["sales", "marketing", "service", "product",
                                       "operations", "finance"]
    assert sum(d.clout_weight for d in depts) == pytest.approx(1.0)
    assert depts[0].customer_facing and not depts[3].customer_facing
    assert depts[0].belief.shape == (model.market.n_segments, 4)
    assert depts[0].belief_error >= 0.0


def test_workshop_actions(small):
    model = OrgModel(rng=1, **small).run(2)
    model.inject_shock()
    entrant = model.add_entrant()
    model.reorganize("focal")
    model.run(1)
    assert [e["kind"] for e in model.events][-3:] == ["shock", "entrant", "reorganization"]
    assert entrant.alive and model.firms[-1] is entrant
    with pytest.raises(ParameterError):
        model.reorganize("nobody")


def test_disruptor_detection_table(small):
    model = OrgModel(rng=1, entrant_steps=(3,), entrant_rate=0.0, **small).run(40)
    table = model.disruptions()
    assert table["firm"].tolist() == ["focal", "rival"]
    assert (table["entry_step"] == 3).all()
    detected = table["time_to_notice"].dropna()
    assert (detected >= 0).all() and len(detected) >= 1
    answered = table.dropna(subset=["time_to_answer"])
    assert (answered["time_to_answer"] >= answered["time_to_notice"]).all()


def test_every_lever_is_reported(small):
    results = OrgModel(rng=1, **small).run(1).results()
    assert set(LEVERS) <= set(results.columns)


@pytest.mark.parametrize("fraction, grows", [(0.5, False), (0.75, False), (2.0, True)])
def test_a_firm_keeps_up_with_a_lasting_trend_below_its_followable_speed_only(fraction, grows):
    # A firm alone in a market whose needs keep one direction: below the speed it can follow
    # (measured on other seeds by the calibration) its action gap settles; above it, the gap
    # keeps growing (until the firm fails).
    from simulation.calibration import CALIBRATION_SEEDS, followable_speed
    from simulation.presets import PRESETS

    assert 4 not in CALIBRATION_SEEDS
    speed = fraction * followable_speed(PRESETS["outside_in"].lever_values())
    model = OrgModel(rng=4, customers=500, rivals=0, structure="outside_in", turbulence=speed,
                     momentum=0.999, need_noise=0.0, shock_rate=0.0, entrant_rate=0.0,
                     new_segment_rate=0.0).run(120)
    table = model.results().set_index("step")
    gap = table["action_gap"]
    early, late = gap.loc[40:60].mean(), gap.loc[100:120].mean()
    assert (late > 1.5 * early or not table["alive"].iloc[-1]) == grows


QUIET = {"customers": 500, "shock_rate": 0.0, "entrant_rate": 0.0, "new_segment_rate": 0.0}


def test_a_firm_that_only_listens_to_its_customers_never_notices_a_disruptor():
    # No prospecting (capability 0) and no partners (connections 0): the firm hears only its
    # own customers, and none of them buys from the entrant (Christensen).
    deaf = {k: 0.0 for k in ("capability", "connections")}
    model = OrgModel(rng=2, **QUIET, entrant_steps=(3,), **deaf).run(60)
    noticed = model.disruptions().set_index("firm")["time_to_notice"]
    assert np.isnan(noticed["focal"])
    assert not np.isnan(noticed["rival"])  # the inside-out rival prospects a little


def test_a_disruptor_enters_with_one_beachhead_product_capped_in_performance():
    model = OrgModel(rng=1, **QUIET, entrant_performance=0.2)
    entrant = model.add_entrant()
    offer = entrant.offering
    market = model.market
    beachhead = int(np.argmin(np.where(market.active, market.ideal[:, 0], np.inf)))
    assert (offer == offer[0]).all()                           # one product for every segment
    assert offer[0, 0] == min(market.ideal[beachhead, 0], 0.2)  # capped performance
    assert (offer[0, 1:] == market.ideal[beachhead, 1:]).all()
    assert entrant.unit_cost == model.params.entrant_unit_cost


def test_costs_are_set_on_the_active_market_only():
    with_latent = OrgModel(rng=1, **QUIET, emerging_segments=1)
    market = with_latent.market
    active_spend = float((market.sizes * market.value)[market.active].sum())
    assert with_latent.fair_revenue == pytest.approx(active_spend / 2)
    assert with_latent.fair_customers == pytest.approx(market.sizes[market.active].sum() / 2)


@pytest.mark.parametrize("keyword", [{"price": 1.2}, {"rival_price": 0.9}, {"rivals": 2},
                                     {"rival_structure": "outside_in"}])
def test_per_firm_keywords_with_explicit_firms_are_refused_not_ignored(keyword):
    from simulation.params import FirmSpec

    firms = (FirmSpec("a", "inside_out"), FirmSpec("b", "outside_in"))
    with pytest.raises(ParameterError, match=next(iter(keyword))):
        OrgModel(rng=1, firms=firms, **keyword)


def test_a_failed_entrant_costs_nothing_afterwards_and_leaves_the_table():
    model = OrgModel(rng=5, **QUIET, entrant_steps=(2,), entrant_cash=0.0, entrant_price=0.2)
    model.run(30)
    entrant = next(f for f in model.firms if f.entrant)
    assert not entrant.alive and entrant.failed_step is not None
    rows = model.results().query("firm == @entrant.name")
    assert rows["step"].max() == entrant.failed_step         # its last row: the failure month
    assert model.org.firm_of.size == 12                      # only the incumbents' departments
    assert entrant.index not in set(model.org.firm_of.tolist())


def test_columns_are_the_results_table_as_arrays() -> None:
    model = OrgModel(rng=6, customers=300, entrant_rate=0.05, shock_rate=0.03).run(150)
    table, columns = model.results(), model.columns()
    assert set(columns) == set(table.columns) - {"structure"}
    assert list(columns["firm"]) == table["firm"].tolist()
    for name, values in columns.items():
        if name != "firm":
            assert np.array_equal(values, table[name].to_numpy(dtype=float)), name


def test_summary_of_any_incumbent_reads_as_from_the_table() -> None:
    # Each firm's summary, read from the arrays, says what its rows of results() say.
    model = OrgModel(rng=8, customers=300, rivals=2, shock_rate=0.03).run(120)
    table = model.results()
    incumbents = [f.name for f in model.firms if not f.entrant]
    end = table[table["step"] == 120].set_index("firm")
    for name in incumbents:
        mine = table[(table["firm"] == name) & (table["step"] > 0)]
        got = model.summary(firm=name)
        assert got["final_share"] == end.loc[name, "market_share"]
        assert got["cumulative_profit"] == pytest.approx(mine["profit"].sum())
        assert got["mean_share"] == pytest.approx(mine["market_share"].mean())
        assert got["final_cash"] == end.loc[name, "cash"]
        assert got["survived"] == float(end.loc[name, "alive"])
        rivals = end.loc[[n for n in incumbents if n != name], "market_share"]
        assert got["rival_final_share"] == rivals.max()
        resilience = model.resilience()
        assert got["resilience_loss"] == pytest.approx(
            resilience[resilience["firm"] == name]["loss_area"].mean())
    assert model.summary() == pytest.approx(model.summary(firm=incumbents[0]), nan_ok=True)
    assert len({model.summary(firm=n)["final_share"] for n in incumbents}) == 3


def test_only_an_entrant_is_held_by_a_technology_ceiling() -> None:
    # The need space is open: an incumbent follows performance demanded past 1.0; a
    # disruptor's performance stays under its ceiling, which rises to the frontier (1.0).
    model = OrgModel(rng=1, turbulence=0.02, momentum=0.95, entrant_rate=0.0,
                     entrant_steps=(5,), shock_rate=0.0).run(240)
    org = model.org
    incumbents = [f.index for f in model.firms if not f.entrant]
    entrant = next(f.index for f in model.firms if f.entrant)
    assert np.isinf(org.ceiling[incumbents]).all()
    assert model.market.ideal[:, 0].max() > 1.2
    assert org.offering[incumbents, :, 0].max() > 1.1
    assert org.ceiling[entrant] <= 1.0
    assert org.offering[entrant, :, 0].max() <= org.ceiling[entrant] + 1e-12


def test_a_failed_firm_s_gaps_and_satisfaction_are_no_values_in_its_means(small):
    # After it fails a firm's rows hold 0 for its gaps and satisfaction; a mean over them
    # would flatter a firm that died. The summary averages the months it was in business,
    # and the series a sweep or a comparison keeps hold no value (NaN) there.
    from experiments.engine.runner import org_model
    from simulation.outcomes import IN_BUSINESS_ONLY

    kwargs = dict(starting_cash=3.0, fixed_cost=1.2, structure="outside_in",
                  rival_structure="inside_out", **small)
    model = OrgModel(rng=1, **kwargs).run(24)
    focal = model.results().query("firm == 'focal' and step > 0")
    alive = focal["alive"].to_numpy()
    assert 0 < alive.sum() < len(focal)  # in business for a few months, then failed
    summary = model.summary()
    for name in IN_BUSINESS_ONLY:
        assert (focal[name].to_numpy()[~alive] == 0.0).all()
        assert summary[f"mean_{name}"] == focal[name].to_numpy()[alive].mean()
        assert summary[f"mean_{name}"] != focal[name].mean()
    assert summary["mean_share"] == focal["market_share"].mean()  # no customers is a share
    _, series = org_model(kwargs, 1, steps=24, series_every=1,
                          series_columns=("market_share", "awareness_gap", "cash"))
    assert series is not None
    dead = ~model.results().query("firm == 'focal'")["alive"].to_numpy()
    assert series["awareness_gap"].isna().to_numpy().tolist() == dead.tolist()
    assert not series["market_share"].isna().any()
    assert series["cash"].tolist() == (model.results().query("firm == 'focal'")["cash"]
                                       / model.fair_revenue).tolist()


def test_a_shock_s_window_ends_at_the_next_disturbance_exactly():
    # Share 0.5; a shock at month 10 takes it to 0.4 for 5 months; a disruptor entering at
    # month 20 takes it to 0.2 for good. The shock's loss is its own: 5 months of a fifth of
    # the pre-shock share, recovered after 5 months, not the disruptor's share.
    from simulation.metrics import firm_resilience

    steps = np.arange(31)
    share = np.where((steps >= 10) & (steps < 15), 0.4, np.where(steps >= 20, 0.2, 0.5))
    alive = np.ones(31, dtype=bool)
    (row,) = firm_resilience(steps, share, alive, [10], [10, 20], 30, 0.95)
    assert row["window"] == 10.0 and row["recovered"] and row["time_to_recover"] == 5.0
    assert row["depth"] == pytest.approx(0.2) and row["loss_area"] == pytest.approx(1.0)
    (unbounded,) = firm_resilience(steps, share, alive, [10], [10], 30, 0.95)
    assert unbounded["window"] == 21.0 and not unbounded["recovered"]
    assert unbounded["depth"] == pytest.approx(0.6)


def test_the_model_ends_a_shock_s_window_at_a_disruptor_s_entry(small):
    model = OrgModel(rng=3, shock_steps=(10,), entrant_steps=(25,), entrant_rate=0.0,
                     shock_rate=0.0, new_segment_rate=0.0, **small).run(60)
    windows = model.resilience()["window"].unique().tolist()
    assert windows == [15.0]  # months 10 ... 24
