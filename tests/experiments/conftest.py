"""The experiment tests' own model functions, registered so that their specs may name them.

A spec may name only registered model functions (a spec is data and imports no code); the
toy functions in ``exp_helpers`` are registered here, as a project registers its own.
"""

from __future__ import annotations

from experiments.spec import register_model

HELPER_MODELS = ("toy", "fragile", "toy_with_series", "hungry")

for _name in HELPER_MODELS:
    register_model(f"tests.experiments.exp_helpers:{_name}")
