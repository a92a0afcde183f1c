"""Every figure of the performance table against its target, in one command (``make bench``).

    python benchmarks/bench.py [--quick]

Ratios, not absolute times, are the claims: each comparison runs both sides on this machine in
the same session, and the machine's own 2-process ceiling (a pure CPU loop on 2 processes over
1) is measured in the same run; the studies' compiled kernels are measured beside the numpy
model they replace (``bench_kernels.py``). ``--quick`` shrinks every workload (a smoke test of the
command, not figures to quote). Prints a Markdown table (figure, measured, target, met).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import bench_kernels as bk
import yaml
from bench_sweep import PeakMemory, grid_spec, machine_ceiling, ours, with_batch_run

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ROWS: list[tuple[str, str, str, bool]] = []


def report(figure: str, measured: str, target: str, met: bool) -> None:
    ROWS.append((figure, measured, target, met))
    print(f"  {figure}: {measured} (target {target}) {'met' if met else 'NOT met'}", flush=True)


def child(args: list[str], cwd: str) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak resident MiB of one command (a whole process).

    On a shared machine the CPU time of a one-process command is what it costs; its wall
    time also counts the waits for a core that others hold.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, check=True, cwd=cwd, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, after.ru_maxrss / 1024  # the largest child so far


BATCH = """
import mesa
from simulation import OrgModel
mesa.batch_run(OrgModel, parameters={{"customers": {customers}, "rivals": 1,
    "structure": {structures}, "turbulence": {turbulence}, "shock_rate": {shock_rate}}},
    rng=list(range(1, {reps} + 1)), max_steps={steps}, number_processes=1,
    display_progress=False, data_collection_period=-1)
"""

LOOP = """
import itertools
from experiments.engine.runner import study_model
OrgModel = study_model()  # what the sweep runs: the kernels where numba is installed
for s, t, k, r in itertools.product({structures}, {turbulence}, {shock_rate},
                                    range(1, {reps} + 1)):
    m = OrgModel(rng=r, customers={customers}, rivals=1, structure=s, turbulence=t,
                 shock_rate=k).run({steps})
    m.summary()
"""


def whole_processes(customers: int, steps: int, reps: int, folder: str) -> None:
    from bench_sweep import SHOCK_RATE, STRUCTURES, TURBULENCE

    data = grid_spec(customers, steps, reps)
    spec = Path(folder) / "bench.yaml"
    spec.write_text(yaml.safe_dump(data))
    fill = {"customers": customers, "steps": steps, "reps": reps, "structures": STRUCTURES,
            "turbulence": TURBULENCE, "shock_rate": SHOCK_RATE}
    runs = len(STRUCTURES) * len(TURBULENCE) * len(SHOCK_RATE) * reps
    _, sweep, _ = child([str(BIN / "outsidein"), "sweep", str(spec), "--workers", "1",
                         "--out", str(Path(folder) / "sweep")], folder)
    _, batch, _ = child([sys.executable, "-c", textwrap.dedent(BATCH.format(**fill))],
                        str(ROOT))
    _, loop, _ = child([sys.executable, "-c", textwrap.dedent(LOOP.format(**fill))], str(ROOT))
    label = f"{runs} runs ({customers:,} customers, {steps} months), each a whole process, CPU"
    report(f"{label}: `outsidein sweep --workers 1` vs `mesa.batch_run` (1 process)",
           f"{sweep:.2f} vs {batch:.2f} s: {batch / sweep:.2f}x", ">= 1.2x",
           batch / sweep >= 1.2)
    report(f"{label}: ours vs a bare loop of `OrgModel(...).run(); summary()` (the same "
           "model class)", f"{sweep:.2f} vs {loop:.2f} s: {loop / sweep:.2f}x", ">= 0.97x",
           loop / sweep >= 0.97)


def warm(spec_data: dict, workers: int) -> tuple[int, float, float, float]:
    """Ours on a pool already started (the steady state): what the runs themselves cost."""
    from experiments.engine.executors.local import LocalExecutor

    with LocalExecutor(workers) as executor:
        return ours(spec_data, workers, executor)


def pool_start(workers: int) -> float:
    """Wall seconds until a new command's pool of ``workers`` is ready to run: the fork
    server starts and loads the model, then forks the workers (measured in a fresh process)."""
    code = ("import time\nfrom experiments.engine.executors.local import LocalExecutor\n"
            "if __name__ == '__main__':\n    start = time.perf_counter()\n"
            f"    LocalExecutor({workers}).close()\n    print(time.perf_counter() - start)\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT,
                         capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def steady_state(customers: int, steps: int, reps: int) -> None:
    data = grid_spec(customers, steps, reps)
    ceiling_before = machine_ceiling()
    rate = {}
    for label, fn in (("ours 1", lambda: ours(data, 1)), ("batch 1", lambda: with_batch_run(
            customers, steps, reps, 1)), ("ours 2", lambda: ours(data, 2)),
            ("batch 2", lambda: with_batch_run(customers, steps, reps, 2)),
            ("warm 2", lambda: warm(data, 2))):
        n, wall, _, _ = min((fn() for _ in range(2)), key=lambda r: r[1])
        rate[label] = n / wall
    ceiling = max(ceiling_before, machine_ceiling())
    start = min(pool_start(2) for _ in range(3))
    one, two = rate["ours 1"] / rate["batch 1"], rate["ours 2"] / rate["batch 2"]
    report("steady state (`bench_sweep` grid): ours vs `batch_run`, 1 worker vs 1 process; "
           "2 vs 2 (both starting their processes)", f"{one:.2f}x; {two:.2f}x",
           ">= 1.2x both", one >= 1.2 and two >= 1.2)
    speedup = rate["warm 2"] / rate["ours 1"]
    report("our speed-up, 2 workers over 1, on a started pool (the machine's ceiling measured "
           "the same way in the same run)",
           f"{speedup:.2f}x (ceiling {ceiling:.2f}x: {speedup / ceiling:.0%}); starting the "
           f"pool (a new command's fork server and workers) takes {start:.2f} s",
           ">= 90% of the ceiling", speedup >= 0.9 * ceiling)


def tree_peak(args: list[str], cwd: str) -> float:
    """Peak proportional set (MiB) of a command and all its children, sampled every 50 ms.

    A page shared between the fork server and its workers is split between its sharers, so
    the sum is what the command costs the machine.
    """
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    with PeakMemory(proc.pid) as memory:
        proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited with {proc.returncode}")
    return memory.peak_pss / 2**20


def sweep_memory(runs: int, folder: str) -> None:
    peaks = []
    for n in (max(1, runs // 10), runs):
        spec = Path(folder) / f"memory-{n}.yaml"
        spec.write_text(yaml.safe_dump(grid_spec(100, 12, -(-n // 24), name="memory")))
        peaks.append(tree_peak([str(BIN / "outsidein"), "sweep", str(spec), "--workers", "2",
                                "--max-runs", str(n), "--out", str(Path(folder) / f"m-{n}")],
                               folder))
    small, big = peaks
    report(f"peak memory of a {runs:,}-run `outsidein sweep --workers 2` (and of "
           f"{runs // 10:,} runs): the command and its workers, proportional set (shared "
           "pages split)", f"{big:.0f} MiB ({small:.0f})", "< 300 MiB, flat in runs",
           big < 300 and big < 1.2 * small)
    # The same sweep with the fork server loading the same modules without gc.freeze.
    unfrozen = tree_peak([sys.executable, "-c", NO_FREEZE, "sweep", str(spec), "--workers", "2",
                          "--max-runs", str(runs), "--out", str(Path(folder) / "m-unfrozen")],
                         folder)
    report(f"the fork server's `gc.freeze`, on that {runs:,}-run sweep: peak with it and "
           "without", f"{big:.0f} vs {unfrozen:.0f} MiB", "lower with it", big < unfrozen)


NO_FREEZE = """
import sys
import experiments.engine.forkserver as forkserver
forkserver.PRELOAD = ("experiments.engine.runner", "simulation.model")  # preload.py's, unfrozen
from simulation.cli import main
sys.exit(main(sys.argv[1:]))
"""


def long_run(months: int, folder: str) -> None:
    short = months // 4
    (_, a, ma), (_, b, mb) = (child([str(BIN / "outsidein"), "run", "--steps", str(n),
                                     "--out", str(Path(folder) / f"run-{n}")], folder)
                               for n in (short, months))
    per = (b / months) / (a / short)
    report(f"`outsidein run --steps {months:,}` vs {short:,} months: CPU per month, peak "
           "memory", f"{b:.1f} vs {a:.1f} s ({per:.2f}x per month); {mb:.0f} vs {ma:.0f} MiB",
           "linear (<= 1.25x per month), memory bounded (<= 1.25x)",
           per <= 1.25 and mb <= 1.25 * ma)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small workloads (a smoke test)")
    parser.add_argument("--quick-patterns", action="store_true",
                        help="time `patterns --quick` instead of the full suite")
    parser.add_argument("--months", type=int, default=20_000,
                        help="months of the long `outsidein run` (compared with a quarter)")
    args = parser.parse_args()
    q = args.quick
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        long_run(400 if q else args.months, folder)  # first: its peaks are read from rusage
        bk.default_run(report, 3 if q else 10)
        bk.month_at(report, 50_000, 10 if q else 100)
        bk.start_up(report, 2 if q else 5, folder)
        whole_processes(2000, 12 if q else 120, 1 if q else 4, folder)
        steady_state(1000, 12 if q else 60, 1 if q else 8)
        bk.compare_command(report, 2 if q else 30, folder)
        bk.sweep(report, 48 if q else 500, 24 if q else 240, folder)
        bk.pattern_suite(report, True if q else args.quick_patterns, folder)
        sweep_memory(200 if q else 5000, folder)
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end\n")
    ROWS.append(ROWS.pop(0))  # the long run was measured first; it is the table's last row
    print("| figure | measured | target | met |\n|---|---|---|---|")
    for figure, measured, target, met in ROWS:
        print(f"| {figure} | {measured} | {target} | {'yes' if met else 'no'} |")


if __name__ == "__main__":
    main()
