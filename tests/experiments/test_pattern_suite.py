"""The suite's seed counts come from power: paired, adaptive and bounded."""

import numpy as np

from experiments.engine.executors import Executor
from experiments.engine.runner import Record
from experiments.patterns.catalog import PATTERNS, SEEDS, Arm, Check, Pattern, at_least
from experiments.patterns.suite import applicable, run_params, run_suite, varied_keywords

WHY = "a synthetic size"


class Synthetic(Executor):
    """Runs no model: arm 'a' measures ``effect`` plus noise, arm 'b' noise (seeded)."""

    backend = "synthetic"

    def map_unordered(self, chunks):
        for chunk in chunks:
            out = []
            for task in chunk:
                rng = np.random.default_rng(task.seed)
                shared = rng.normal(0, 1)                   # common random numbers
                own = rng.normal(0, task.params["noise"], 2)
                y = shared + task.params.get("effect", 0.0) + own[0 if "effect" in
                                                                  task.params else 1]
                out.append(Record(task.run_id, 0, task.replication, task.seed,
                                  dict(task.params), True, {"y": float(y)}))
            yield out


def _pattern(name, effect, noise):
    return Pattern(name, name, "seed 000: toy", "a beats b",
                   arms=(Arm("a", {"effect": effect, "noise": noise}),
                         Arm("b", {"noise": noise})),
                   checks=(Check("a - b", "difference", "y", ("a", "b"), at_least(0.01, WHY)),))


def _suite(*patterns):
    return run_suite(list(patterns), Synthetic(), quick=False, root_seed=5, steps=1)


def test_a_noisy_check_gets_paired_seeds_added_until_it_has_power():
    result = _suite(_pattern("noisy", 0.015, 0.01)).results[0]
    pilot, cap = SEEDS["pilot"], SEEDS["max"]
    table = result.pattern
    assert pilot < result.seeds <= cap and result.needed <= result.seeds
    assert table.name == "noisy"


def test_a_clear_check_keeps_its_pilot_and_a_hopeless_one_stops_at_the_cap():
    suite = _suite(_pattern("clear", 0.5, 0.001), _pattern("hopeless", 0.011, 0.5))
    clear, hopeless = suite.results
    assert clear.seeds == SEEDS["pilot"] and clear.status == "PASS"
    assert hopeless.seeds == SEEDS["max"] and hopeless.needed > SEEDS["max"]
    assert hopeless.status == "FAIL"
    assert suite.rounds >= 1


def test_added_seeds_are_paired_every_arm_runs_every_replication():
    suite = _suite(_pattern("noisy", 0.015, 0.01))
    table = suite.tables["noisy"]
    by_arm = table.groupby("arm")["seed"].apply(lambda s: tuple(sorted(s)))
    assert by_arm.nunique() == 1 and len(by_arm.iloc[0]) == suite.results[0].seeds


def test_the_same_root_seed_gives_the_same_verdicts_and_seed_counts():
    a, b = (_suite(_pattern("noisy", 0.02, 0.01)) for _ in range(2))
    assert a.results[0].seeds == b.results[0].seeds
    assert a.results[0].checks[0].p_adjusted == b.results[0].checks[0].p_adjusted


def test_a_structural_variant_leaves_alone_what_a_pattern_compares():
    anticipation = next(p for p in PATTERNS if p.name == "anticipation")
    assert {"momentum", "anticipation_months"} <= varied_keywords(anticipation)
    assert applicable(anticipation, {"momentum": 0.6, "departments": 3}) == {"departments": 3}
    params = run_params(anticipation, "with, memoryless", (), False, {"momentum": 0.6})
    assert params["momentum"] == 0.0
    dose = next(p for p in PATTERNS if p.name == "dose_response")
    assert run_params(dose, "head_to_head", (0.004,), False,
                      {"momentum": 0.6, "turbulence": 0.5})["momentum"] == 0.6
    assert run_params(dose, "head_to_head", (0.004,), False,
                      {"turbulence": 0.5})["turbulence"] == 0.004
