"""Memory: a run's cost is said before something large starts, and refused if it cannot fit."""

from __future__ import annotations

import subprocess
import sys

import pytest

import experiments.engine.resources as resources
from experiments.engine.resources import estimate, run_bytes, spec_customers
from experiments.sweeps.spec import parse_spec
from tests.experiments.exp_helpers import REPO, cli_env, run_cli, write_spec

SPEC = {"name": "big", "base": {"customers": 300}, "steps": 2,
        "conditions": {"customers": {"levels": [300, 1_500_000]}}}


def test_the_estimate_grows_with_customers_and_workers():
    small, large = estimate(1_000, 1), estimate(1_000_000, 1)
    assert large.per_worker > small.per_worker
    assert estimate(1_000_000, 4).total == 4 * large.per_worker
    assert "x 4 worker(s)" in estimate(1_000_000, 4).line


def test_a_spec_is_costed_by_its_largest_run():
    assert spec_customers(parse_spec(SPEC)) == 1_500_000
    other = parse_spec({"name": "t", "model": "experiments.sweeps.testfunctions:ishigami",
                        "conditions": {"x1": {"levels": [0.0]}}})
    assert spec_customers(other) == 0


def peak_bytes(customers: int) -> int:
    """Peak resident memory of one run of ``customers`` customers, in a fresh process."""
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forking parent
    code = ("from simulation import OrgModel; "
            f"m = OrgModel(rng=1, customers={customers}); m.run(3); "
            "print([int(ln.split()[1]) * 1024 for ln in open('/proc/self/status') "
            "if ln.startswith('VmHWM:')][0])")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=cli_env(),
                          capture_output=True, text=True, timeout=120, check=True)
    return int(done.stdout.strip())


def test_the_estimate_follows_a_measured_run():
    small, large = peak_bytes(50_000), peak_bytes(400_000)
    print(f"400,000 customers: measured {large / 2**20:.0f} MB, estimated "
          f"{run_bytes(400_000) / 2**20:.0f} MB; per customer measured "
          f"{(large - small) / 350_000:.0f} B, estimated {resources.BYTES_PER_CUSTOMER} B")
    # the cost per customer is what grows; the process's own size varies more (allocator)
    assert 0.75 <= resources.BYTES_PER_CUSTOMER * 350_000 / (large - small) <= 1.33
    assert 0.6 <= run_bytes(400_000) / large <= 1.33


@pytest.mark.parametrize("argv", [
    ["sweep", "{spec}", "-w", "2", "-q"],
    ["compare", "--customers", "1500000", "--workers", "2", "--reps", "2"],
    ["run"],
])
def test_what_cannot_fit_is_refused_in_one_line(argv, tmp_path, monkeypatch):
    monkeypatch.setattr(resources, "available_memory", lambda: 100 * 2**20)
    spec = write_spec(tmp_path / "s.yaml", SPEC)
    out = tmp_path / "out"
    result = run_cli(*[a.format(spec=spec) for a in argv], "--out", str(out))
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "that does not fit" in lines[0], result.stderr
    assert "MB free" in lines[0]
    assert not out.exists()


def test_a_large_sweep_says_what_it_will_take_before_it_starts(tmp_path):
    spec = write_spec(tmp_path / "s.yaml", SPEC)
    result = run_cli("sweep", str(spec), "--dry-run", "-w", "2")
    assert result.exit_code == 0, result.output
    assert "memory: about" in result.stdout and "1,500,000 customers" in result.stdout


def test_default_workers_is_one_per_core_within_the_limits(monkeypatch) -> None:
    import os

    from experiments.engine.limits import MAX_WORKERS, default_workers

    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert default_workers(3) == 3  # given: kept
    assert default_workers(0) == default_workers(None) == 8
    assert default_workers(None, runs=5) == 5  # no idle workers
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert default_workers(None) == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 1000)
    assert default_workers(None) == MAX_WORKERS
