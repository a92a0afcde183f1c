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
