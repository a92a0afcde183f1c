"""Analytic model functions with known answers, run through the sweep machinery.

They check the sample-run-analyze path itself: if Ishigami's Sobol indices come out right
through specs, executors, Parquet and analysis, the path is sound for the OrgModel too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

ISHIGAMI_A = 7.0
ISHIGAMI_B = 0.1


def ishigami(params: Mapping[str, Any], seed: int, **_: Any) -> dict[str, float]:
    """Ishigami-Homma function of ``x1, x2, x3`` on ``[-pi, pi]`` (seed unused).

    Analytic Sobol indices (A = 7, B = 0.1): S1 = 0.3139, 0.4424, 0; ST = 0.5576, 0.4424,
    0.2437; S13 = 0.2437 (Ishigami and Homma 1990; Saltelli et al. 2008).
    """
    x1, x2, x3 = (float(params[k]) for k in ("x1", "x2", "x3"))
    y = math.sin(x1) + ISHIGAMI_A * math.sin(x2) ** 2 + ISHIGAMI_B * x3**4 * math.sin(x1)
    return {"y": y}


def ishigami_indices() -> dict[str, dict[str, float]]:
    """Return the analytic first-order, total and second-order (x1, x3) indices."""
    a, b, pi = ISHIGAMI_A, ISHIGAMI_B, math.pi
    v1 = 0.5 * (1 + b * pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * pi**8 * (1 / 18 - 1 / 50)
    var = v1 + v2 + v13
    return {"S1": {"x1": v1 / var, "x2": v2 / var, "x3": 0.0},
            "ST": {"x1": (v1 + v13) / var, "x2": v2 / var, "x3": v13 / var},
            "S2": {"x1,x3": v13 / var}}
