"""The studies' compiled month (simulation.kernels) against the numpy model, its reference."""

import subprocess
import sys

import numpy as np
import pytest

from experiments.engine import runner
from simulation import kernels
from simulation.market import Market
from simulation.model import _NUMERIC, OrgModel
from simulation.params import ModelParams
from simulation.provenance import results_digest

BUSY = {"entrant_rate": 0.04, "shock_rate": 0.02, "new_segment_steps": (40,),
        "reorganize_step": 30, "rivals": 2}
"""Every path of the month: disruptors (capacity limits, detection, answers, failures),
random shocks, a new segment, a reorganization (disruption, slips), three firms."""

RTOL = 1e-9
"""The relative difference allowed in every figure but the choices (summation order)."""


def _run_both(seed: int, steps: int, **params: object) -> tuple[OrgModel, OrgModel]:
    reference, compiled = OrgModel(rng=seed, **params), kernels.KernelModel(rng=seed, **params)
    for _ in range(steps):  # month by month: every customer's supplier, every month
        reference.run(1)
        compiled.run(1)
        np.testing.assert_array_equal(compiled.market.supplier, reference.market.supplier)
    return reference, compiled


def _assert_same_run(reference: OrgModel, compiled: OrgModel) -> None:
    ref, got = reference._rows.data, compiled._rows.data
    assert got.shape == ref.shape
    # step, firm, structure, customers: exact; every other figure within RTOL of its
    # column's scale (a profit that crosses zero has no relative difference of its own)
    for i, name in enumerate(("step", "firm", "structure", *_NUMERIC)):
        if name in ("step", "firm", "structure", "customers", "alive", "in_transition"):
            np.testing.assert_array_equal(got[:, i], ref[:, i], err_msg=name)
        else:
            scale = max(float(np.abs(ref[:, i]).max()), 1e-300)
            np.testing.assert_allclose(got[:, i], ref[:, i], rtol=RTOL, atol=RTOL * scale,
                                       err_msg=name)
    assert compiled.events == reference.events
    assert compiled.detections == [{**d, "fit": pytest.approx(d["fit"], rel=RTOL)}
                                   for d in reference.detections]
    assert compiled.emerged == reference.emerged
    np.testing.assert_array_equal(compiled.market.counts, reference.market.counts)
    np.testing.assert_allclose(compiled.org.offering, reference.org.offering, rtol=RTOL,
                               atol=RTOL)
    # the generator is where the numpy model left it: the same draws, in the same order
    assert compiled.rng.random() == reference.rng.random()
    # and the run's fingerprint, at its stated significant digits, is the same
    assert results_digest(compiled.columns()) == results_digest(reference.columns())


@pytest.mark.parametrize("seed", range(20))
def test_the_compiled_month_makes_the_numpy_models_run(seed: int) -> None:
    _assert_same_run(*_run_both(seed, 240))


@pytest.mark.parametrize("seed", range(20))
def test_the_compiled_month_follows_every_path_of_the_numpy_model(seed: int) -> None:
    reference, compiled = _run_both(seed, 240, **BUSY)
    _assert_same_run(reference, compiled)


def test_the_busy_runs_do_take_every_path() -> None:
    # the seeds of the test above do meet disruptors that are noticed, answered and that
    # fail, random shocks and a reorganization (else it would prove less than it says)
    kinds: set[str] = set()
    answered = detected = 0
    for seed in range(20):
        model = OrgModel(rng=seed, **BUSY).run(240)
        kinds |= {e["kind"] for e in model.events}
        detected += len(model.detections)
        answered += sum(d["answer_step"] is not None for d in model.detections)
    assert {"entrant", "shock", "failure", "reorganization", "new_segment"} <= kinds
    assert detected > 0 and answered > 0


def test_a_large_market_and_every_customer_reconsidering() -> None:
    _assert_same_run(*_run_both(3, 60, customers=20_000))
    _assert_same_run(*_run_both(4, 30, switch_rate=1.0, entrant_steps=(5,)))


@pytest.mark.parametrize("dimensions", [2, 4, 7, 8])
def test_the_compiled_drift_and_reconsidering_are_bit_identical(dimensions: int) -> None:
    params = ModelParams.from_kwargs(dimensions=dimensions, turbulence=0.05, momentum=0.9,
                                     need_noise=0.02, emerging_segments=1, customers=2000)
    ref_rng, got_rng = np.random.default_rng(3), np.random.default_rng(3)
    reference, compiled = Market(params, ref_rng), kernels.KernelMarket(params, got_rng)
    for month in range(120):
        if month == 60:  # a new segment: its customers must choose whatever the draw
            reference.emerge()
            compiled.emerge()
        reference.drift(ref_rng)
        compiled.drift(got_rng)
        for name in ("direction", "velocity", "ideal", "jitter", "needs"):
            np.testing.assert_array_equal(getattr(compiled, name), getattr(reference, name))
        np.testing.assert_array_equal(compiled._reconsidering(got_rng),
                                      reference._reconsidering(ref_rng))
        assert not compiled.must_choose.any() and not compiled.any_must_choose


def test_studies_run_the_kernels_and_the_switch_turns_them_off(
        monkeypatch: pytest.MonkeyPatch) -> None:
    runner.study_model.cache_clear()
    try:
        assert runner.study_model() is kernels.KernelModel
        runner.study_model.cache_clear()
        monkeypatch.setenv(runner.KERNELS_SWITCH, "0")
        assert runner.study_model() is OrgModel
    finally:
        runner.study_model.cache_clear()


def test_a_kernel_source_change_is_a_cache_miss(tmp_path: object) -> None:
    # numba keys its cache by the source file's stamp: the index of every kernel is for
    # this source (cached() is what the one progress line reads)
    kernels.warm()
    assert kernels.cached()
    index = kernels._pick._cache._cache_file
    stamp = index._source_stamp
    try:
        index._source_stamp = (stamp[0] + 1.0, stamp[1])
        assert not kernels.cached()
    finally:
        index._source_stamp = stamp


def _modules_after(args: list[str], cwd: object) -> set[str]:
    """The modules an ``outsidein`` command has loaded when it ends (in a fresh interpreter)."""
    code = ("import sys\nfrom simulation.cli import main\n"
            f"code = main({args!r})\n"
            "print('MODULES', ' '.join(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=cwd).stdout
    return set(out.split("MODULES", 1)[1].split())


@pytest.mark.parametrize("args", [["--version"], ["run", "--steps", "12", "--out", "out"],
                                  ["scenarios"], ["validate", "turbulent-market"]])
def test_commands_that_are_not_studies_never_import_numba(args: list[str], tmp_path: object
                                                          ) -> None:
    loaded = _modules_after(args, tmp_path)
    assert "simulation.cli" in loaded
    assert not {m for m in loaded if m == "numba" or m.startswith(("numba.", "llvmlite"))}
    assert "simulation.kernels" not in loaded


def test_a_study_imports_numba() -> None:
    # the check above can fail: a study's run does load the kernels
    code = ("import sys\nfrom experiments.engine.runner import org_model\n"
            "org_model({}, 1, steps=2)\nprint('numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().endswith("True")


def test_one_compiled_version_of_each_kernel_serves_every_run() -> None:
    # warm() compiles what every run needs: no study compiles in the middle of its runs
    # (a kernel is compiled once per argument layout; the month keeps one)
    kernels.warm()
    for params in ({"rivals": 0}, {"rivals": 3, **BUSY}, {"customers": 50_000},
                   {"turbulence": 0.0, "shock_rate": 0.0, "need_noise": 0.0}):
        kernels.KernelModel(rng=5, **params).run(60)
    # (_pick, called only from _choose_month, may be compiled inside it and not on its own)
    assert all(len(k.signatures) <= 1 for k in kernels.KERNELS)
    called = (kernels._choose_month, kernels._settle, kernels._tally, kernels._hear,
              kernels._learn, kernels._share, kernels._decide, kernels._alignment)
    assert [len(k.signatures) for k in called] == [1] * len(called)
