from __future__ import annotations

from pathlib import Path

from simulation.viz import scenarios


def test_lists_the_folder_of_a_named_scenario(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(scenarios, "PROJECT_SCENARIOS", tmp_path / "none")
    for name in ("b.yaml", "a.yml", "notes.txt"):
        (tmp_path / name).write_text("x: 1\n")
    found = scenarios.list_scenarios(tmp_path / "b.yaml")
    assert [p.name for p in found] == ["a.yml", "b.yaml"]


def test_project_scenarios_come_first(tmp_path: Path, monkeypatch) -> None:
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "default.yaml").write_text("x: 1\n")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "class.yaml").write_text("x: 1\n")
    monkeypatch.setattr(scenarios, "PROJECT_SCENARIOS", shipped)
    assert [p.name for p in scenarios.list_scenarios(mine / "class.yaml")] == \
        ["default.yaml", "class.yaml"]
    assert [p.name for p in scenarios.list_scenarios(None)] == ["default.yaml"]
