"""The seeds' claims as a test: the pattern suite's ``--quick`` run over every pattern.

Marked ``slow`` (a statistical test over seeded replications) but part of the default test
command. Every pattern must pass on the quick seeds (exit code 0); the full suite
(``outsidein patterns``, 16 seeds) is the documented long check.
"""

import pandas as pd
import pytest

from experiments.patterns import PATTERNS
from simulation.cli import main

pytestmark = pytest.mark.slow


def test_every_pattern_passes_the_quick_suite(tmp_path, capsys):
    out = tmp_path / "patterns"
    code = main(["patterns", "--quick", "--workers", "2", "--quiet", "--out", str(out)])
    capsys.readouterr()
    summary = pd.read_csv(out / "patterns.csv")
    gated = {p.name for p in PATTERNS if p.gate}
    assert set(summary["pattern"]) == gated
    failing = summary[summary["verdict"] != "PASS"]
    regime = pd.read_csv(out / "regime-map.csv")
    assert len(regime) == 6 * 3 and regime["oi_survival"].between(0, 1).all()
    assert code == 0, failing[["pattern", "check", "mean", "lower", "upper",
                               "error"]].to_string()
