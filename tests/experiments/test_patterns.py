"""The pattern definitions are consistent, and the run function measures what they read."""

import numpy as np
import pandas as pd
import pytest

from experiments.engine.executors.local import LocalExecutor
from experiments.patterns.catalog import MEASURES, PATTERNS, _first_times, pattern_run
from experiments.patterns.stats import split_measure
from experiments.patterns.suite import plan, run_params, select

ACROSS_LEVELS = ("slope", "adjacent", "adjacent_proportion")


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.name)
def test_every_check_names_arms_and_measures_the_pattern_has(pattern):
    arms = {arm.name for arm in pattern.arms}
    assert len(arms) == len(pattern.arms)
    for check in pattern.checks:
        assert set(check.arms) <= arms
        assert {m for m in split_measure(check.measure) if m} <= set(MEASURES)
        needed = {"difference": 2, "interaction": 4}.get(check.kind, 1)
        assert len(check.arms) == needed, check.label
        if check.kind in ACROSS_LEVELS:
            assert len(pattern.levels) == 1 and len(pattern.levels[0].values) > 1


def test_names_are_unique_and_the_regime_map_comes_first():
    names = [p.name for p in PATTERNS]
    assert len(set(names)) == len(names) and names[0] == "regime_map"


def test_levels_override_the_arm_and_quick_changes_apply_only_in_quick_runs():
    invariance = next(p for p in PATTERNS if p.name == "invariance")
    assert run_params(invariance, "20,000 customers", (), quick=False)["customers"] == 20000
    assert run_params(invariance, "20,000 customers", (), quick=True)["customers"] == 8000
    dose = next(p for p in PATTERNS if p.name == "dose_response")
    assert run_params(dose, "head_to_head", (0.008,), quick=True)["turbulence"] == 0.008


def test_runs_shared_by_two_patterns_are_made_once_on_the_same_seeds():
    patterns = select(["beyond_followable", "io_survival_monotone"])
    planned = plan(patterns, quick=True, root_seed=3)
    # turbulence 0.06 and 0.1 at momentum 0.95 appear in both patterns
    pilot = patterns[0].pilot(quick=True)
    assert planned.cell_count == len(planned.tasks) + 2 * pilot
    shared = [cells for cells in planned.cells.values() if len(cells) == 2]
    assert len(shared) == 2 * pilot
    assert {c.replication for c in shared[0]} == {shared[0][0].replication}


def test_the_run_function_reports_firm_entrant_and_window_measures():
    out = pattern_run({"customers": 300, "rivals": 1, "entrant_steps": [3], "window": [5, 10],
                       "after": 20, "shock_rate": 0.0}, 11, steps=30)
    assert set(out) <= set(MEASURES)
    for i in (0, 1):
        assert 0.0 <= out[f"f{i}_mean_share"] <= 1.0
        assert out[f"f{i}_survived"] in (0.0, 1.0)
        assert {f"f{i}_window_share", f"f{i}_after_profit"} <= set(out)
        assert 0 <= out[f"f{i}_time_to_notice"] <= 30 - 3     # censored at the run's end
    assert out["entrant_won"] in (0.0, 1.0)
    assert 0.0 <= out["entrant_survived"] <= 1.0


def test_a_run_without_events_has_no_event_measures():
    out = pattern_run({"customers": 300, "shock_rate": 0.0, "entrant_rate": 0.0,
                       "new_segment_rate": 0.0}, 1, steps=5)
    assert "f0_time_to_notice" not in out and "f0_window_share" not in out
    assert out["entrant_won"] == 0.0


def test_a_firm_failed_before_a_segment_emerged_never_serves_it_censored_at_the_end():
    # emergences() lists only the incumbents alive when the segment emerged: "focal" had
    # failed by month 36, "rival" served at month 50, and a second segment came later
    table = pd.DataFrame({"emerge_step": [36, 80], "firm": ["rival", "rival"],
                          "time_to_serve": [14.0, np.nan]})
    out = _first_times(table, "emerge_step", "time_to_serve", ["focal", "rival"], 240)
    assert out == {"f0_time_to_serve": 204.0, "f1_time_to_serve": 14.0}
    table.loc[0, "time_to_serve"] = np.nan  # listed but never served: censored as well
    assert _first_times(table, "emerge_step", "time_to_serve", ["rival"], 240) == {
        "f0_time_to_serve": 204.0}


def test_the_executor_runs_the_pattern_function_by_name():
    planned = plan(select(["quiet"]), quick=True, root_seed=1, steps=2, replications=2)
    records = []
    with LocalExecutor(1) as executor:
        executor.run(planned.tasks, records.append, planned=len(planned.tasks))
    assert len(records) == 2 and all(r.seed == planned.tasks[r.run_id].seed for r in records)


def test_the_sensitivity_constants_come_from_the_parameter_table(monkeypatch):
    import experiments.patterns.catalog as catalog
    import simulation.params as params
    from experiments.patterns.catalog import VARIANTS, behavioural_constants

    quiet = next(p for p in PATTERNS if p.name == "quiet")
    found = behavioural_constants(quiet)
    assert "lever_cost" in found and "max_change" in found
    assert not set(found) & set(params.LEVERS)
    assert not set(found) & {k for v in VARIANTS for k in v.params}
    assert not set(found) & set(quiet.base)                  # the regime is not a factor
    for name, (low, high) in found.items():
        bound = params.PARAMETERS[name].metadata["bound"]
        assert bound.low <= low < params.PARAMETERS[name].default < high <= bound.high
    renamed = {("lever_upkeep" if k == "lever_cost" else k): v
               for k, v in params.PARAMETERS.items()}
    monkeypatch.setattr(catalog, "PARAMETERS", renamed)  # the table the catalog reads
    again = behavioural_constants(quiet)
    assert "lever_upkeep" in again and "lever_cost" not in again


def test_every_variant_is_a_valid_setting_of_the_model():
    from experiments.patterns.catalog import VARIANTS
    from simulation.params import PARAMETERS, ModelParams

    assert len(VARIANTS) >= 15 and len({v.name for v in VARIANTS}) == len(VARIANTS)
    for variant in VARIANTS:
        assert set(variant.params) <= set(PARAMETERS), variant.name
        ModelParams.from_kwargs(**variant.params)


def test_every_deciding_check_states_its_size_and_reason_and_every_pattern_its_regime():
    for pattern in PATTERNS:
        assert pattern.regime, pattern.name
        for check in pattern.checks:
            if check.criterion is not None:
                assert check.criterion.size > 0 and check.criterion.why
                assert check.unit, check.label
