"""The seeds' claims as a test: the pattern suite's ``--quick`` run over every pattern.

Marked ``slow`` (a statistical test over seeded replications) but part of the default test
command. The quick run has few seeds, so it holds only the verdicts it can reach: the
patterns in ``PASSES`` must pass (their effects are many times their minimum effect) and
those in ``FAILS`` must fail (on today's model their effect is far below the size that
matters). The others are decided by the full run (``outsidein patterns``), whose table is
in ``docs/ODD.md``; when the model changes, these two lists are updated from it.
"""

import pandas as pd
import pytest

from experiments.patterns.catalog import PATTERNS, SEEDS
from simulation.cli import main

pytestmark = pytest.mark.slow

PASSES = {"dose_response", "io_survival_monotone", "narrow_customer"}
"""The quiet market passes the full run (8 seeds: Holm p 0.005) but not always the quick one
(6 seeds at most: Holm p 0.053 on the second core), so the quick run does not hold it."""
FAILS = {
    "anticipation": "anticipation is worth about 0.0011 share, a ninth of a point",
    "freeze_up": "the frozen firm's awareness advantage is about 0.003, a third of the minimum",
}


def test_the_quick_suite_passes_real_effects_and_fails_effects_too_small_to_matter(
        tmp_path, capsys):
    out = tmp_path / "patterns"
    code = main(["patterns", "--quick", "--workers", "2", "--quiet", "--out", str(out)])
    capsys.readouterr()
    summary = pd.read_csv(out / "patterns.csv")
    gated = {p.name for p in PATTERNS if p.gate}
    assert set(summary["pattern"]) == gated
    status = summary.groupby("pattern")["pattern_status"].first()
    shown = summary[["pattern", "check", "mean", "lower", "upper", "p_holm", "verdict"]]
    assert all(status[name] == "PASS" for name in PASSES), shown.to_string()
    assert all(status[name] == "FAIL" for name in FAILS), shown.to_string()
    assert code == (0 if (status == "PASS").all() else 1)
    assert (summary["p_holm"].dropna() >= summary["p_raw"].dropna()).all()
    assert summary["seeds"].le(max(SEEDS["quick_max"], 16)).all()
    regime = pd.read_csv(out / "regime-map.csv")
    assert len(regime) == 6 * 3 and regime["oi_survival"].between(0, 1).all()
