"""The studies' compiled kernels against the numpy model, as same-run ratios (``make bench``).

Every comparison runs the numpy path (``OUTSIDEIN_KERNELS=0``, or ``OrgModel`` itself) and
the kernels (``simulation.kernels.KernelModel``) one after the other in this session, so the
ratio holds on a busy machine even when the seconds do not. ``bench.py`` calls these and
prints them in its table.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import yaml
from bench_sweep import grid_spec

from simulation.model import OrgModel

Report = Callable[[str, str, str, bool], None]
ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NUMPY = {**os.environ, "OUTSIDEIN_KERNELS": "0"}
KERNELS = {**os.environ, "OUTSIDEIN_KERNELS": "1"}


def _kernel_model() -> type[OrgModel]:
    from simulation import kernels

    kernels.warm(lambda line: print(f"  {line}", flush=True))
    return kernels.KernelModel


def _best_run(cls: type[OrgModel], repeat: int, months: int, **params: object) -> float:
    best = float("inf")
    for r in range(repeat):
        start = time.process_time()
        cls(rng=r, **params).run(months).summary()
        best = min(best, time.process_time() - start)
    return best


def default_run(report: Report, repeat: int) -> None:
    fast = _kernel_model()
    # interleaved, best of each: the two sides see the same machine
    numpy_s = min(_best_run(OrgModel, 1, 240) for _ in range(repeat))
    kernel_s = min(_best_run(fast, 1, 240) for _ in range(repeat))
    report(f"default run (240 months, 5,000 customers), CPU, best of {repeat}: kernels vs "
           "numpy", f"{kernel_s:.3f} vs {numpy_s:.3f} s: {numpy_s / kernel_s:.2f}x",
           ">= 3.5x (<= 0.015 s)", numpy_s / kernel_s >= 3.5)


def month_at(report: Report, customers: int, months: int) -> None:
    fast = _kernel_model()
    per = {}
    for label, cls in (("numpy", OrgModel), ("kernels", fast)):
        model = cls(rng=1, customers=customers).run(12)  # past the first month's choosing
        start = time.process_time()
        model.run(months)
        per[label] = (time.process_time() - start) / months
    ratio = per["kernels"] / per["numpy"]
    report(f"a month at {customers:,} customers, CPU: kernels vs numpy",
           f"{per['kernels'] * 1e3:.2f} vs {per['numpy'] * 1e3:.2f} ms: {ratio:.2f}x",
           "<= 0.5x", ratio <= 0.5)


def _wall(args: list[str], env: dict[str, str], cwd: str) -> float:
    start = time.perf_counter()
    subprocess.run(args, check=True, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def compare_command(report: Report, reps: int, folder: str) -> None:
    args = [str(BIN / "outsidein"), "compare", "turbulent-market", "--reps", str(reps),
            "--quiet"]
    numpy_s = _wall([*args, "--out", str(Path(folder) / "c-numpy")], NUMPY, folder)
    kernel_s = _wall([*args, "--out", str(Path(folder) / "c-kernels")], KERNELS, folder)
    report(f"`outsidein compare turbulent-market --reps {reps}`, wall: kernels vs numpy",
           f"{kernel_s:.1f} vs {numpy_s:.1f} s: {numpy_s / kernel_s:.2f}x", "<= 2.5 s",
           kernel_s <= 2.5)


def pattern_suite(report: Report, quick: bool, folder: str) -> None:
    args = [str(BIN / "outsidein"), "patterns", "--workers", "2", "--quiet",
            *(["--quick"] if quick else [])]
    # (exit 1 is a verdict, not a failure of the command: the time is what is measured)
    times = {}
    for label, env in (("numpy", NUMPY), ("kernels", KERNELS)):
        start = time.perf_counter()
        subprocess.run([*args, "--out", str(Path(folder) / f"p-{label}")], cwd=folder,
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times[label] = time.perf_counter() - start
    name = "quick pattern suite" if quick else "full pattern suite"
    report(f"{name}, 2 workers, wall: kernels vs numpy",
           f"{times['kernels']:.1f} vs {times['numpy']:.1f} s: "
           f"{times['numpy'] / times['kernels']:.2f}x", "<= 30 s (full)",
           times["kernels"] <= 30.0)


class WorkerMemory:
    """Peak private memory (USS) of a command's pool workers, and the whole tree's PSS."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.worker_uss = 0
        self.tree_pss = 0

    def sample(self) -> None:
        try:
            tree = [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        pss = 0
        for proc in tree:
            try:
                info = proc.memory_full_info()
                pss += getattr(info, "pss", info.rss)
                parent = proc.parent()
                # a worker is a child of the fork server (forked from it, sharing its pages)
                if parent is not None and "forkserver" in " ".join(parent.cmdline()):
                    self.worker_uss = max(self.worker_uss, info.uss)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        self.tree_pss = max(self.tree_pss, pss)


def sweep(report: Report, runs_wanted: int, steps: int, folder: str) -> None:
    per_setting = -(-runs_wanted // 24)
    spec = Path(folder) / "sweep-kernels.yaml"
    spec.write_text(yaml.safe_dump(grid_spec(5000, steps, per_setting, name="kernels")))
    runs = 24 * per_setting
    walls: dict[tuple[str, int], float] = {}
    memory: dict[int, WorkerMemory] = {}
    for workers in (1, 2):
        for label, env in (("numpy", NUMPY), ("kernels", KERNELS)):
            out = Path(folder) / f"s-{label}-{workers}"
            start = time.perf_counter()
            proc = subprocess.Popen([str(BIN / "outsidein"), "sweep", str(spec), "--workers",
                                     str(workers), "--out", str(out)], cwd=folder, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            watch = WorkerMemory(proc.pid)
            while proc.poll() is None:
                if label == "kernels":
                    watch.sample()
                time.sleep(0.1)
            walls[(label, workers)] = time.perf_counter() - start
            if proc.returncode != 0:
                raise RuntimeError(f"sweep exited with {proc.returncode}")
            if label == "kernels":
                memory[workers] = watch
    one = walls[("numpy", 1)] / walls[("kernels", 1)]
    two = walls[("numpy", 2)] / walls[("kernels", 2)]
    report(f"{runs}-run sweep (5,000 customers, {steps} months), wall: kernels vs numpy, "
           "1 worker; 2 workers",
           f"{walls[('kernels', 1)]:.1f} vs {walls[('numpy', 1)]:.1f} s: {one:.2f}x; "
           f"{walls[('kernels', 2)]:.1f} vs {walls[('numpy', 2)]:.1f} s: {two:.2f}x",
           ">= 2x; >= 1.8x", one >= 2.0 and two >= 1.8)
    uss, pss = memory[2].worker_uss / 2**20, memory[2].tree_pss / 2**20
    report("memory of that sweep with the kernels, 2 workers: private per worker (USS); the "
           "command and its workers (PSS)", f"{uss:.1f} MiB; {pss:.0f} MiB",
           "<= 15 MiB; <= 400 MiB", uss <= 15 and pss <= 400)


def start_up(report: Report, repeat: int, folder: str) -> None:
    def cpu(args: list[str]) -> float:
        best = float("inf")
        for _ in range(repeat):
            code = ("import resource, subprocess, sys\n"
                    f"subprocess.run({args!r}, check=True, stdout=subprocess.DEVNULL)\n"
                    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
                    "print(u.ru_utime + u.ru_stime)")
            out = subprocess.run([sys.executable, "-c", code], check=True, cwd=folder,
                                 capture_output=True, text=True).stdout
            best = min(best, float(out.strip()))
        return best

    version = cpu([str(BIN / "outsidein"), "--version"])
    run = cpu([str(BIN / "outsidein"), "run", "--out", str(Path(folder) / "startup-run")])
    report(f"start-up: `outsidein --version`; `outsidein run` (default), CPU, best of {repeat}",
           f"{version:.2f} s; {run:.2f} s", "<= 0.25 s; <= 1.7 s",
           version <= 0.25 and run <= 1.7)
