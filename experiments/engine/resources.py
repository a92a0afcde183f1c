"""What a run costs in memory, said before starting something large, refused if it cannot fit.

The model keeps a few arrays per customer, so a run's memory grows with its customers and
hardly with its months. Measured on the OrgModel (peak resident memory of one process,
Python 3.12, Linux): 12 months with 100,000 customers take 34 MB above the interpreter,
400,000 take 127 MB, 1,000,000 take 313 MB; 120 months instead of 12 change nothing. So
about :data:`BYTES_PER_CUSTOMER` per customer plus :data:`RUN_BASE_BYTES`, and each
worker process starts at about :data:`PROCESS_BYTES` with the model's libraries loaded.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from experiments.engine.runner import model_kwargs
from experiments.sweeps.spec import DEFAULT_MODEL, resolve_base
from simulation.errors import OutsideInError
from simulation.params import ModelParams

BYTES_PER_CUSTOMER = 320
"""Memory one customer takes during a run (measured; see the module docstring)."""

RUN_BASE_BYTES = 12 * 2**20
"""Memory of a run with next to no customers: firms, tables, the per-step results."""

PROCESS_BYTES = 180 * 2**20
"""A worker process with numpy, pandas, Mesa and the model imported."""

LARGE_BYTES = 512 * 2**20
"""From this total on, a command says what it will take before it starts."""


class ResourceError(OutsideInError, MemoryError):
    """The work asked for cannot fit in this machine's memory: one line, exit 2."""


@dataclass(frozen=True)
class MemoryEstimate:
    """Memory a piece of work will take, against what the machine has free."""

    customers: int
    workers: int
    per_worker: int
    available: int | None

    @property
    def total(self) -> int:
        """All workers together."""
        return self.per_worker * self.workers

    @property
    def large(self) -> bool:
        """Worth a word before starting: large in itself or against the free memory."""
        return self.total >= LARGE_BYTES or (
            self.available is not None and self.total > self.available // 2)

    @property
    def line(self) -> str:
        """One line: per run, times workers, against the free memory."""
        free = f"; {_size(self.available)} free" if self.available is not None else ""
        return (f"memory: about {_size(self.per_worker)} per run ({self.customers:,} "
                f"customers) x {self.workers} worker(s) = {_size(self.total)}{free}")


def run_bytes(customers: int) -> int:
    """Memory of one worker running one model with ``customers`` customers."""
    return PROCESS_BYTES + RUN_BASE_BYTES + BYTES_PER_CUSTOMER * max(0, customers)


def available_memory() -> int | None:
    """Memory free for new work (Linux ``MemAvailable``, capped by a cgroup limit)."""
    free: int | None = None
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    free = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError):
        try:
            free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, AttributeError):
            return None
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as limit:
            text = limit.read().strip()
        if text.isdigit() and free is not None:
            free = min(free, int(text))
    except OSError:
        pass
    return free


def estimate(customers: int, workers: int) -> MemoryEstimate:
    """Estimate the memory of ``workers`` runs of ``customers`` customers at once."""
    return MemoryEstimate(customers, workers, run_bytes(customers), available_memory())


def require(found: MemoryEstimate, *, hint: str = "use fewer workers or customers") -> \
        MemoryEstimate:
    """Raise :class:`ResourceError` if the estimate does not fit in the free memory."""
    if found.available is not None and found.total > found.available:
        raise ResourceError(f"{found.line}: that does not fit; {hint}")
    return found


def spec_customers(spec: Any) -> int:
    """The most customers any run of an experiment spec has (0 for another model)."""
    if spec.model != DEFAULT_MODEL:
        return 0
    base: Mapping[str, Any] = model_kwargs(resolve_base(spec.base))
    most = int(ModelParams.from_kwargs(**base).customers)
    factor = spec.factors.get("customers")
    if factor is not None:
        values = factor.levels if factor.levels is not None else list(factor.range or ())
        most = max(int(float(v)) for v in values)
    return most


def check_memory(spec: Any, *, workers: int) -> MemoryEstimate:
    """Estimate a sweep's memory; raise :class:`ResourceError` if it cannot fit."""
    return require(estimate(spec_customers(spec), workers),
                   hint="use fewer --workers, or fewer customers in the spec")


def _size(n: int | None) -> str:
    if n is None:
        return "?"
    if n >= 2**30:
        return f"{n / 2**30:.1f} GB"
    return f"{n / 2**20:.0f} MB"
