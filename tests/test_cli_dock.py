"""``outsidein dock``: the quick docking runs meet every published target (slow: ~20 s)."""

from __future__ import annotations

import struct

import pandas as pd
import pytest

from experiments.docking import studies
from simulation.cli import main


def _png_size(path):
    """Width and height from a PNG's header (its IHDR chunk)."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def _targets(out):
    return pd.read_csv(out / "targets.csv")


@pytest.mark.slow
def test_march_quick_meets_every_target_and_writes_the_figure(tmp_path, capsys):
    out = tmp_path / "march"
    code = main(["dock", "march1991", "--quick", "--workers", "2", "--quiet", "--out", str(out)])
    printed = capsys.readouterr().out
    table = _targets(out)
    assert code == 0, table[["target", "published", "measured", "low", "high"]].to_string()
    assert (table["verdict"] == "PASS").all() and len(table) == 12
    assert "March (1991)" in printed and "PASS" in printed
    assert _png_size(out / "figure.png") == (1280, 720)
    assert (out / "figure.svg").stat().st_size > 0
    assert (out / "runs" / "manifest.json").is_file()


@pytest.mark.slow
def test_nk_quick_meets_every_target_and_a_missed_target_exits_1(tmp_path, capsys,
                                                                   monkeypatch):
    out = tmp_path / "nk"
    code = main(["dock", "nk", "--quick", "--workers", "2", "--quiet", "--out", str(out)])
    table = _targets(out)
    assert code == 0, table.to_string()
    assert (table["verdict"] == "PASS").all() and len(table) == 5
    # the same command again resumes the stored runs; a tolerance of 0 cannot be met
    monkeypatch.setattr(studies, "GLOBAL_MAX_TOLERANCE", 0.0)
    assert main(["dock", "nk", "--quick", "--workers", "2", "--quiet", "--out", str(out)]) == 1
    missed = _targets(out)
    assert missed.set_index("target").loc["global_max_at_k0", "verdict"] == "FAIL"
    assert "0 run now" in capsys.readouterr().out


def test_an_unknown_study_is_one_line_and_exit_2_with_nothing_written(tmp_path, capsys):
    out = tmp_path / "x"
    assert main(["dock", "march", "--quick", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: no docking study 'march'; choose from march1991, nk"
    assert not out.exists()


def test_an_output_path_that_is_a_file_is_refused(tmp_path, capsys):
    path = tmp_path / "file"
    path.write_text("mine")
    assert main(["dock", "nk", "--quick", "--out", str(path)]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert path.read_text() == "mine"


def test_every_option_reaches_the_library(tmp_path, monkeypatch):
    from experiments.docking import run as dock_run

    seen = {}

    def fake(chosen, out, **kwargs):
        seen.update(study=chosen.name, out=out, **kwargs)
        raise SystemExit(0)

    monkeypatch.setattr(dock_run, "run_study", fake)
    with pytest.raises(SystemExit):
        main(["dock", "nk", "--quick", "--seed", "7", "--workers", "1", "--quiet",
              "--out", str(tmp_path / "o")])
    assert seen["study"] == "nk" and seen["quick"] is True and seen["seed"] == 7
    assert seen["out"] == tmp_path / "o" and seen["executor"].workers == 1
    with pytest.raises(SystemExit):
        main(["dock", "march1991", "--workers", "1", "-q"])
    assert seen["quick"] is False and seen["seed"] == studies.ROOT_SEED
    assert str(seen["out"]) == "dock/march1991"
