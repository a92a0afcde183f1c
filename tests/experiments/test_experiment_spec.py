import subprocess

import pytest

from experiments.sweeps.spec import SpecError, load_spec, parse_spec
from experiments.sweeps.sweep import make_plan
from simulation.params import LEVERS
from tests.experiments.exp_helpers import REPO, cli, cli_env, run_cli, write_spec

SPECS = sorted((REPO / "experiments" / "specs").glob("*.yaml"))

GOOD = {"name": "ok", "base": {"customers": 300}, "steps": 10,
        "conditions": {"turbulence": {"levels": [0.01, 0.05]}}}


def with_(**changes):
    return {**GOOD, **changes}


@pytest.mark.parametrize(("data", "field", "detail"), [
    (with_(colour="red"), "colour", "unknown field"),
    (with_(conditions={"turbulance": {"levels": [0.1]}}), "conditions.turbulance",
     "is not a parameter of OrgModel; did you mean 'turbulence'?"),
    (with_(conditions={"turbulence": {"levels": [2.0]}}), "conditions.turbulence",
     "outside [0, 0.5]"),
    (with_(conditions={"turbulence": {"range": [0.0, 0.9]}}, design={"kind": "lhs",
                                                                      "samples": 4}),
     "conditions.turbulence",
     "outside [0, 0.5]"),
    (with_(conditions={"turbulence": {"range": [0.3, 0.1]}}), "conditions.turbulence",
     "low < high"),
    (with_(conditions={"turbulence": {"range": [0.0, 0.1]}}), "conditions.turbulence",
     "a range in a grid design needs 'points'"),
    (with_(design={"kind": "sobol", "samples": 100}), "design", "power of 2"),
    (with_(levers={"turbulence": {"levels": [0.1]}}), "turbulence",
     "listed as both a lever and a condition"),
    (with_(conditions={"rivals": {"levels": [1, "two"]}}), "conditions.rivals",
     "levels mix names and numbers"),
    (with_(design={"kind": "morris"}), "design", "needs 'trajectories'"),
    (with_(design={"kind": "latin"}), "design.kind", "'latin' is not allowed"),
    (with_(outputs={"series": True, "columns": ["market_share", "mood"]}), "outputs.columns",
     "'mood' is not a per-step column"),
    (with_(analysis={"heatmap": ["turbulence", "colour"]}), "analysis.heatmap",
     "'colour' is not a lever or condition"),
    (with_(analysis={"discovery": {"outcome": "y", "where": {"size": 1}}}),
     "analysis.discovery.where", "'size' is not a lever or condition"),
    (with_(replications=0), "replications", "0 is outside [1, 100000]"),
    (with_(base={"customers": 10}), "base.customers", "outside [50, 2e+06]"),
    (with_(conditions={}), "vary", "vary at least one lever or condition"),
    (with_(levers={"structure": {"levels": ["inside_out", "sideways"]}}), "levers.structure",
     "'sideways' is not one of"),
])
def test_bad_spec_names_the_field(data, field, detail):
    with pytest.raises(SpecError) as err:
        parse_spec(data, source="s.yaml")
    message = str(err.value)
    assert message.startswith(f"s.yaml: {field}"), message
    assert detail in message


def test_bad_spec_on_the_cli_is_one_line_exit_2_and_writes_nothing(tmp_path):
    spec = write_spec(tmp_path / "bad.yaml", with_(conditions={"turbulence": {"levels": [2.0]}}))
    out = tmp_path / "out"
    proc = subprocess.run(cli("sweep", str(spec), "--out", str(out), "-q"), cwd=tmp_path,
                          env=cli_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "conditions.turbulence" in lines[0] and "outside [0, 0.5]" in lines[0]
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [spec]


@pytest.mark.parametrize("args", [
    ["missing.yaml"],
    ["{spec}", "--workers", "0"],
    ["{spec}", "--max-runs", "-3"],
    ["{spec}", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"],
])
def test_bad_options_exit_2_with_one_line(tmp_path, args):
    spec = write_spec(tmp_path / "good.yaml", GOOD)
    argv = [a.format(spec=spec) for a in args]
    result = run_cli("sweep", *argv, "-q", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("error: ")
    assert not (tmp_path / "o").exists()


def test_analyze_of_a_folder_that_is_not_a_sweep_exits_2(tmp_path):
    result = run_cli("analyze", str(tmp_path))
    assert result.exit_code == 2
    assert "no manifest.json" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_invalid_yaml_is_a_spec_error(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_spec(path)


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_shipped_specs_are_valid_and_plan_their_runs(path):
    spec = load_spec(path)
    plan = make_plan(spec)
    assert plan.planned == len(plan.samples) * spec.replications > 0
    assert spec.analysis.outcomes


def test_shipped_specs_include_the_crossover_and_the_lever_sobol():
    names = {load_spec(p).name: load_spec(p) for p in SPECS}
    crossover = names["crossover"]
    assert crossover.design.kind == "grid"
    assert {"structure"} <= set(crossover.levers) and "turbulence" in crossover.conditions
    sobol = names["levers_sobol"]
    assert sobol.design.kind == "sobol"
    assert set(sobol.levers) == set(LEVERS)
    assert {"resilience_loss", "survived"} <= set(sobol.analysis.outcomes)


def test_out_folder_of_another_experiment_is_refused(tmp_path):
    from experiments.sweeps.store import StoreError
    from experiments.sweeps.sweep import run_sweep

    spec = parse_spec({**GOOD, "model": "tests.experiments.exp_helpers:toy",
                       "conditions": {"x": {"levels": [0.0, 1.0]}}})
    run_sweep(spec, tmp_path / "out", workers=1)
    other = spec.model_copy(update={"steps": 11})
    with pytest.raises(StoreError, match="holds another experiment"):
        run_sweep(other, tmp_path / "out", workers=1)
    with pytest.raises(StoreError, match="holds another experiment"):
        run_sweep(spec, tmp_path / "out", workers=1, max_runs=1)




def test_dry_run_prints_the_count_and_an_estimate_and_writes_nothing(tmp_path):
    spec = write_spec(tmp_path / "s.yaml", {**GOOD, "replications": 3})
    result = run_cli("sweep", str(spec), "--dry-run", "--workers", "2", "--out",
                     str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert "ok: 6 runs (grid design, 3 replication(s), 10 steps); about" in result.stdout
    assert "on 2 worker(s)" in result.stdout
    assert not (tmp_path / "out").exists()


def test_every_sweep_flag_reaches_the_library(tmp_path):
    import json

    from experiments.sweeps.store import read_runs

    toy = {**GOOD, "model": "tests.experiments.exp_helpers:toy",
           "conditions": {"x": {"levels": [0.0, 1.0, 2.0, 3.0]}}, "replications": 2}
    spec = write_spec(tmp_path / "toy.yaml", toy)
    out = tmp_path / "out"
    result = run_cli("sweep", str(spec), "--out", str(out), "--max-runs", "3", "--steps", "7",
                     "--workers", "2", "--flush-every", "1", "-q")
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["planned"] == 3 and manifest["spec"]["steps"] == 7
    assert manifest["identity"]["max_runs"] == 3
    assert manifest["sessions"][-1]["workers"] == 2
    assert manifest["sessions"][-1]["backend"] == "local"
    assert len(list((out / "runs").glob("part-*.parquet"))) == 3
    runs = read_runs(out)
    assert len(runs) == 3 and runs["x"].nunique() == 3  # spread, not the first three runs
    assert ((runs["y"] - 2 * runs["x"] - (runs["seed"] % 1000) / 1000) * 1000).round(6).eq(
        7).all()


@pytest.mark.parametrize(("before", "now", "factor"), [
    ("experiments.testfunctions:ishigami", "experiments.sweeps.testfunctions:ishigami", "x1"),
    ("experiments.runner:org_model", "experiments.engine.runner:org_model", "turbulence"),
])
def test_a_spec_naming_a_model_by_its_path_before_the_wings_runs_and_resumes(before, now,
                                                                             factor):
    def spec(model: str):
        return parse_spec({"name": "moved", "model": model, "steps": 3,
                           "conditions": {factor: {"range": [0.0, 0.1]}},
                           "design": {"kind": "lhs", "samples": 4}})

    import hashlib
    import json

    old, new = spec(before), spec(now)
    assert old.model == new.model == now
    assert old.digest() == new.digest()
    # the digest a folder begun before the move recorded: the dump with the old name
    dump = {**new.model_dump(mode="json"), "model": before}
    dump["design"].pop("groups", None)
    text = json.dumps(dump, sort_keys=True)
    assert new.digest() == hashlib.sha256(text.encode()).hexdigest()[:16]
