"""How long `outsidein compare` takes: 30 replications of a 240-step scenario, end to end.

Run by hand from the repository root:  python benchmarks/compare_speed.py [SCENARIO] [REPS]
Prints the wall-clock and CPU time of the whole command (interpreter start, runs, figure,
report) for 1 and 2 worker processes, best of three, and the time of one model run. On a
loaded machine the wall time says little; CPU / 2 is what an idle 2-core machine needs at
best.
The target is <= 10 s on a 2-core machine for the default scenario.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time

from experiments.comparison.compare import replication_plan
from simulation.model import OrgModel
from simulation.scenario_files import load_scenario


def command_seconds(scenario: str, reps: int, workers: int) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all processes) of one `outsidein compare`."""
    with tempfile.TemporaryDirectory() as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "simulation.cli", "compare", scenario, "--reps",
                        str(reps), "--workers", str(workers), "--out", out, "--quiet"],
                       check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu


def _burn(seconds: float) -> None:
    start = time.process_time()
    while time.process_time() - start < seconds:
        pass


def parallelism(seconds: float = 1.0) -> float:
    """How many cores two CPU-bound processes actually get now (2.0 on an idle 2-core box)."""
    import multiprocessing

    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.map(_burn, [seconds, seconds])
    return 2 * seconds / (time.perf_counter() - start)


def main() -> None:
    scenario = sys.argv[1] if len(sys.argv) > 1 else "turbulent-market"
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    loaded = load_scenario(scenario)
    start = time.perf_counter()
    for preset in ("inside_out", "outside_in"):
        OrgModel.from_scenario(loaded, structure=preset).run(loaded.steps)
    one = (time.perf_counter() - start) / 2
    print(f"{scenario}: {loaded.steps} steps, {loaded.market.customers} customers, "
          f"{os.cpu_count()} CPUs")
    # a replication is 4 roles where head-to-head is defined (swap's two, head-to-head's two
    # places), else 2; a swap role that is a head-to-head run is read from it
    plan, read_from = replication_plan(loaded, loaded.arms(), {})
    runs = reps * (len(plan) - len(read_from))
    print(f"one model run: {one:.3f} s  ({runs} runs = {runs * one:.1f} s of CPU)")
    print(f"load average {os.getloadavg()[0]:.2f}; two CPU-bound processes get "
          f"{parallelism():.2f} cores (wall times are only meaningful near 2.0)")
    for workers in (1, 2):
        runs = [command_seconds(scenario, reps, workers) for _ in range(3)]
        wall = min(w for w, _ in runs)
        cpu = min(c for _, c in runs)
        print(f"outsidein compare --reps {reps} --workers {workers}: best wall {wall:.2f} s "
              f"(runs {', '.join(f'{w:.2f}' for w, _ in runs)}); CPU {cpu:.2f} s")


if __name__ == "__main__":
    main()
