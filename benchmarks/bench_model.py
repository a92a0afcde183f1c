"""Seconds per run and steps per second of the model (run by hand; prints figures).

    python benchmarks/bench_model.py [--repeat N]

Measures the default run (240 months), 10x the customers and 4x the departments, in CPU
seconds of one process (one core), and reports how the cost scales.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from simulation import OrgModel  # noqa: E402

STEPS = 240
CASES = {
    "default (5,000 customers, 6 departments)": {},
    "10x customers (50,000)": {"customers": 50_000},
    "4x departments (24 per firm)": {"departments": 24},
}


def time_run(kwargs: dict[str, int], seed: int) -> float:
    # CPU time of this process: a busy machine inflates wall time far more than CPU time.
    start = time.process_time()
    OrgModel(rng=seed, **kwargs).run(STEPS)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    time_run({}, 0)  # warm-up: imports, caches
    best: dict[str, float] = {}
    print(f"{'case':45s} {'s/run (median)':>15s} {'s/run (best)':>13s} {'steps/s':>9s}")
    for name, kwargs in CASES.items():
        times = sorted(time_run(kwargs, seed) for seed in range(args.repeat))
        median = times[len(times) // 2]
        best[name] = median
        print(f"{name:45s} {median:15.4f} {times[0]:13.4f} {STEPS / median:9.0f}")
    base = best[next(iter(CASES))]
    names = list(CASES)
    print(f"cost ratio for 10x customers: {best[names[1]] / base:.2f} (linear would be 10)")
    print(f"cost ratio for 4x departments: {best[names[2]] / base:.2f} (linear would be 4)")


if __name__ == "__main__":
    main()
