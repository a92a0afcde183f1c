"""The pattern suite's ``--quick`` run over every pattern: the model's claims as a test.

Marked ``slow`` (a statistical test over seeded replications) but part of the default test
command. Until the revised model lands, patterns may fail; this test then checks that the
suite runs every pattern, reports each one and exits as its verdicts say. Set
:data:`REQUIRE_PASS` to True once the model is meant to pass: the test then demands exit
code 0, i.e. every pattern passing on the quick seeds.
"""

import pandas as pd
import pytest

from experiments.patterns import PATTERNS
from simulation.cli import main

REQUIRE_PASS = False
"""True once every pattern must pass the quick suite."""

pytestmark = pytest.mark.slow


def test_the_quick_suite_runs_every_pattern_and_exits_as_its_verdicts_say(tmp_path, capsys):
    out = tmp_path / "patterns"
    code = main(["patterns", "--quick", "--workers", "2", "--quiet", "--out", str(out)])
    capsys.readouterr()
    summary = pd.read_csv(out / "patterns.csv")
    gated = {p.name for p in PATTERNS if p.gate}
    assert set(summary["pattern"]) == gated
    failing = summary[summary["verdict"] != "PASS"]
    assert code == (1 if len(failing) else 0)
    regime = pd.read_csv(out / "regime-map.csv")
    assert len(regime) == 6 * 3 and regime["oi_survival"].between(0, 1).all()
    if REQUIRE_PASS:
        assert code == 0, failing[["pattern", "check", "mean", "lower", "upper",
                                   "error"]].to_string()
