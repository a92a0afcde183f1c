import pandas as pd
import pytest

from simulation.cli import main


def test_run_writes_tables_and_figure(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", "--steps", "12", "--seed", "3", "--out", str(out)]) == 0
    results = pd.read_parquet(out / "results.parquet")
    assert results["step"].max() == 12
    assert pd.read_csv(out / "results.csv").shape == results.shape
    assert (out / "run.png").stat().st_size > 10_000
    assert "After 12 months" in capsys.readouterr().out


def test_run_is_reproducible(tmp_path):
    for name in ("a", "b"):
        assert main(["run", "--steps", "8", "--seed", "9", "--out", str(tmp_path / name)]) == 0
    assert (tmp_path / "a" / "results.csv").read_text() == (
        tmp_path / "b" / "results.csv").read_text()


@pytest.mark.parametrize("args, word", [
    (["run", "--steps", "0"], "--steps"),
    (["run", "--steps", "many"], "--steps"),
    (["run", "--seed", "-1"], "--seed"),
    (["run", "--bogus"], "--bogus"),
])
def test_bad_arguments_exit_2_with_one_line_and_write_nothing(tmp_path, capsys, args, word):
    out = tmp_path / "out"
    assert main([*args, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and word in err and "Traceback" not in err
    assert not out.exists()


def test_out_that_is_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("keep me")
    assert main(["run", "--steps", "2", "--out", str(target)]) == 2
    assert target.read_text() == "keep me"
    assert "--out" in capsys.readouterr().err


@pytest.mark.parametrize("scenario, seed", [(None, 42), ("turbulent-market", 12)])
def test_run_records_the_seed_it_ran_on_and_shows_money_in_months(scenario, seed, tmp_path,
                                                                    capsys):
    import json

    from simulation.cli.run import build_model, summary_rows
    from simulation.figures import run_figure

    out = tmp_path / "out"
    assert main(["run", *([scenario] if scenario else []), "--steps", "24", "--out",
                 str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    model, _, _, used = build_model(scenario, None)
    assert used == manifest["seed"] == seed  # the seed that makes the run again
    model.run(24)
    assert manifest["fair_revenue"] == model.fair_revenue
    results = pd.read_parquet(out / "results.parquet")  # the model's own units
    pd.testing.assert_frame_equal(results, model.results())
    # the table's cash and the figure's cash panel are months of revenue
    last = results[results["step"] == 24]
    months = [f"{c / model.fair_revenue:,.1f}" for c in last["cash"]]
    assert [row[6] for row in summary_rows(model)] == months
    printed = capsys.readouterr().out
    assert all(m in printed for m in months)
    figure = run_figure(model.results(), model.events, fair_revenue=model.fair_revenue)
    cash_panel, share_panel = figure.axes[-1], figure.axes[0]
    focal = model.results()[model.results()["firm"] == model.focal.name]
    assert cash_panel.get_title(loc="left") == "Cash (months of revenue)"
    assert list(cash_panel.lines[0].get_ydata()) == list(focal["cash"] / model.fair_revenue)
    assert share_panel.get_title(loc="left") == "Market share (%)"
    assert list(share_panel.lines[0].get_ydata()) == list(100.0 * focal["market_share"])


def test_the_table_lists_a_disruptor_that_failed_as_the_figure_draws_it():
    from simulation.cli.run import build_model, summary_rows

    model, steps, _, _ = build_model("low-end-disruption", None)
    model.run(steps)
    failed = [f.name for f in model.firms if f.entrant and not f.alive]
    assert failed  # this scenario's second disruptor fails (seed 13)
    rows = {row[0]: row for row in summary_rows(model)}
    assert list(rows) == [f.name for f in model.firms]
    for name in failed:
        assert rows[name][3:6] == ("-", "-", "-") and rows[name][7] == "no"


def test_the_default_market_runs_on_the_parameter_tables_seed(tmp_path):
    from simulation.cli.run import build_model
    from simulation.params import DEFAULT_SEED

    assert DEFAULT_SEED == 42
    model, _, title, used = build_model(None, None)
    assert (title, used) == ("default market", DEFAULT_SEED)
    assert build_model(None, 7)[3] == 7
    for name, seed in (("default", []), ("given", ["--seed", str(DEFAULT_SEED)])):
        assert main(["run", "--steps", "3", *seed, "--out", str(tmp_path / name)]) == 0
    assert (tmp_path / "default" / "results.csv").read_text() == (
        tmp_path / "given" / "results.csv").read_text()
