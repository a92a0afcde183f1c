"""How long `outsidein compare` takes: 30 replications of a 240-step scenario, end to end.

Run by hand from the repository root:  python benchmarks/compare_speed.py [SCENARIO] [REPS]
Prints the wall-clock time of the whole command (interpreter start, runs, figure, report)
for 1 and 2 worker processes, best of three, and the time of one model run for reference.
The target is <= 10 s on a 2-core machine for the default scenario.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from simulation.model import OrgModel
from simulation.scenario import load_scenario


def command_seconds(scenario: str, reps: int, workers: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "simulation.cli", "compare", scenario, "--reps",
                        str(reps), "--workers", str(workers), "--out", out, "--quiet"],
                       check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start


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
    print(f"one model run: {one:.3f} s  ({2 * reps} runs = {2 * reps * one:.1f} s of CPU)")
    for workers in (1, 2):
        times = [command_seconds(scenario, reps, workers) for _ in range(3)]
        print(f"outsidein compare --reps {reps} --workers {workers}: best {min(times):.2f} s, "
              f"runs {', '.join(f'{t:.2f}' for t in times)}")


if __name__ == "__main__":
    main()
