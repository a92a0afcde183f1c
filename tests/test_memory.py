"""A long run holds its per-month tables in arrays: months add no Python objects."""

from __future__ import annotations

import numpy as np

from simulation import OrgModel
from simulation.model import Rows

_MONTHS_SCRIPT = """
import json, os, sys, tracemalloc
import mesa, simulation
from simulation import OrgModel
LEAK = int(sys.argv[1]) if len(sys.argv) > 1 else 0  # the test's own check that it can fail

def blocks():
    # What the model's and Mesa's code allocated and still holds. (Not numpy's: it keeps
    # freed small buffers in a cache of its own, a few dozen at a time, that looks like
    # blocks still held.)
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(True, os.path.join(os.path.dirname(p.__file__), "*"))
         for p in (simulation, mesa)])
    return sum(stat.count for stat in snapshot.statistics("filename"))

if LEAK:  # the model's own code keeps a dict a month (an event logged every month)
    step = OrgModel.step
    OrgModel.step = lambda self: (step(self), self._log("leak", None))

model = OrgModel(rng=4, customers=100, entrant_rate=0.0, entrant_steps=(3, 10),
                 shock_rate=0.0, new_segment_rate=0.0).run(100)
tracemalloc.start()
model.run(20)
before = blocks()
model.run(400)
grown = blocks() - before
tracemalloc.stop()
results = model.results()
print(json.dumps({"grown": grown, "last": int(results["step"].max()),
                  "collected": len(model.datacollector.get_model_vars_dataframe()),
                  "firms": sorted(set(results["firm"]))}))
"""


def test_months_add_no_python_objects() -> None:
    # Disruptors enter and fail early (by month 70); after that a month must leave nothing
    # behind but numbers in the tables' arrays, which grow by doubling (a few blocks in all).
    # Measured in a fresh interpreter: in the test process, threads that other tests left
    # (servers, pools) allocate while the months run, and tracemalloc counts theirs too.
    import json
    import subprocess
    import sys

    def grown(leak: int) -> dict:
        return json.loads(subprocess.run([sys.executable, "-c", _MONTHS_SCRIPT, str(leak)],
                                         check=True, capture_output=True, text=True).stdout)

    out = grown(0)
    # One object per month (a tuple per row, a float per reporter) would add >= 400 blocks;
    # the arrays' doublings add a few.
    assert out["grown"] < 40, out["grown"]
    assert out["last"] == 520 and out["collected"] == 521
    assert {"entrant-1", "entrant-2"} <= set(out["firms"])
    assert grown(1)["grown"] >= 400  # a tuple kept a month is seen


def test_rows_grow_by_doubling_and_keep_their_order() -> None:
    rows = Rows(3, capacity=2)
    for i in range(5):
        rows.append(np.full((2, 3), float(i)))
    assert rows.data.shape == (10, 3)
    assert rows.data[:, 0].tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    rows.append(np.array([[9.0, 9.0, 9.0]]))
    assert rows.data[-1].tolist() == [9.0, 9.0, 9.0]


def test_a_long_run_is_read_and_written_a_slice_at_a_time(tmp_path, monkeypatch) -> None:
    import io

    import pandas as pd

    import simulation.cli.run as cli_run

    model = OrgModel(rng=5, customers=200, entrant_rate=0.05, shock_rate=0.05).run(300)
    whole = model.results()
    parts = pd.concat([model.results(s, s + 77) for s in range(0, 301, 77)],
                      ignore_index=True)
    pd.testing.assert_frame_equal(parts, whole)
    assert model.results(start=300)["step"].tolist() == [300] * (whole["step"] == 300).sum()
    assert len(model.resilience()) > 0
    # The command writes the table in slices (and draws a long run every k-th month): the
    # files are the table, whole.
    monkeypatch.setattr(cli_run, "CHUNK_MONTHS", 77)
    monkeypatch.setattr(cli_run, "FIGURE_POINTS", 100)
    cli_run.write_outputs(model, tmp_path, "slices")
    text = io.StringIO()
    whole.to_csv(text, index=False)
    assert (tmp_path / "results.csv").read_text() == text.getvalue()
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "results.parquet"), whole)
    assert (tmp_path / "run.png").stat().st_size > 0


def test_rows_append_row_grows_like_append() -> None:
    rows = Rows(2, capacity=1)
    for i in range(5):
        rows.append_row((float(i), -float(i)))
    assert rows.data.tolist() == [[i, -i] for i in range(5)]


def _loaded_after(code: str, modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` a fresh interpreter has loaded after running ``code``."""
    import subprocess
    import sys

    script = f"{code}\nimport sys\nprint(','.join(m for m in {modules!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout.strip()
    return [m for m in out.split(",") if m]


def test_a_sweeps_coordinator_does_not_load_the_model() -> None:
    # The process that plans a sweep, reads its spec and writes its store leaves the model
    # (and Mesa, SciPy) to its workers: a 2-worker sweep's memory is the coordinator's
    # tables and the workers' shared model, not three copies of the model.
    code = ("import simulation, simulation.scenario\n"
            "from experiments.sweeps.spec import parse_spec\n"
            "from experiments.sweeps.sweep import run_sweep\n"
            "import simulation.cli")
    assert _loaded_after(code, ("mesa", "scipy", "simulation.model")) == []
    # ... and the package's own export still gives the model when asked for it
    from simulation import OrgModel as Exported
    from simulation.model import OrgModel as Defined
    assert Exported is Defined


def test_a_comparisons_coordinator_does_not_load_the_model() -> None:
    # compare's own process plans both framings (the head-to-head firms by the model's rule)
    # and writes the handout; the runs load the model in the workers
    code = ("from simulation.scenario_files import load_scenario, resolve\n"
            "from experiments.comparison.compare import compare\n"
            "from experiments.comparison.handout import html_report\n"
            "s = load_scenario(resolve('turbulent-market'))\n"
            "a = s.arms('turbulent-market')\n"
            "assert len(s.head_to_head_kwargs(a[0], a[1])['firms']) == 2")
    assert _loaded_after(code, ("mesa", "simulation.model")) == []
    assert _loaded_after(code + "\nimport simulation.model", ("mesa",)) == ["mesa"]  # it can fail
