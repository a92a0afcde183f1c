"""Model functions and spec builders shared by the experiment tests.

The toy functions follow the runner's model-function protocol so the whole
sample-run-store path runs without the OrgModel where a test is about the machinery.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[2]


def toy(params: dict[str, Any], seed: int, *, steps: int, **_: Any) -> dict[str, Any]:
    """Deterministic in (params, seed); optionally slow and logging each execution."""
    if params.get("sleep"):
        time.sleep(float(params["sleep"]))
    x = float(params.get("x", 0.0))
    y = 2.0 * x + (seed % 1000) / 1000.0 + steps / 1000.0
    if params.get("log"):
        with open(params["log"], "a", encoding="utf-8") as log:
            log.write(f"{seed}\n")
    return {"y": y, "positive": y > 1.0}


def fragile(params: dict[str, Any], seed: int, **kwargs: Any) -> dict[str, Any]:
    """Like :func:`toy`, but raises for x == 2 (one failing parameter combination)."""
    if float(params.get("x", 0.0)) == 2.0:
        raise ZeroDivisionError("x = 2 is the combination that fails")
    return toy(params, seed, **kwargs)


def killer(params: dict[str, Any], seed: int, **kwargs: Any) -> dict[str, Any]:
    """Like :func:`toy`, but its worker process dies (SIGKILL, as the OOM killer does) for
    x == 2; in the main process it raises instead, so a test never kills itself."""
    if float(params.get("x", 0.0)) == 2.0:
        import multiprocessing
        import signal

        if multiprocessing.parent_process() is None:
            raise RuntimeError("killer runs only in worker processes")
        os.kill(os.getpid(), signal.SIGKILL)
    return toy(params, seed, **kwargs)


def toy_with_series(params: dict[str, Any], seed: int, *, steps: int, series_every: int = 0,
                    series_columns: tuple[str, ...] = (), **_: Any) -> Any:
    """Like :func:`toy` with a per-step series ``v = x * step``."""
    summary = toy(params, seed, steps=steps)
    if not series_every:
        return summary
    rows = [{"step": s, "v": float(params.get("x", 0.0)) * s}
            for s in range(0, steps + 1, series_every)]
    return summary, pd.DataFrame(rows)


def write_spec(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def cli_env() -> dict[str, str]:
    """Environment for a CLI subprocess: this interpreter's import path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *[p for p in sys.path if p]])
    return env


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "simulation.cli", *args]


PI = math.pi


def run_cli(*args: str) -> SimpleNamespace:
    """Invoke ``outsidein`` in this process (fast) through its real entry point.

    Returns ``exit_code``, ``stdout``, ``stderr`` and ``output`` (both streams), so that a
    test sees exactly what a user would, error handling included.
    """
    from simulation.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return SimpleNamespace(exit_code=code, stdout=out.getvalue(), stderr=err.getvalue(),
                           output=out.getvalue() + err.getvalue())
