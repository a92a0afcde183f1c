"""The workshop handout: intervals made for their kind, a page per shipped scenario that
answers its questions, plain words, and a page that prints on A4."""

from __future__ import annotations

import functools
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from experiments.comparison.compare import Comparison, compare
from experiments.comparison.handout import figure_png, html_report, subjects_shown
from simulation import outcomes as reg
from simulation.scenario import ScenarioError, scenario_names
from simulation.scenario_files import load_scenario, parse_scenario

SHIPPED = scenario_names()


def test_money_is_converted_in_one_place() -> None:
    got = reg.in_revenue_months({"final_cash": 600.0, "final_share": 0.3, "cash": 60.0},
                                fair_revenue=100.0)
    assert got == {"final_cash": 6.0, "final_share": 0.3, "cash": 0.6}


class _Text(HTMLParser):
    """The text a reader sees and every data-subjects attribute of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.subjects: set[str] = set()
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("style", "title")
        for name, value in attrs:
            if name == "data-subjects" and value:
                self.subjects.update(value.split())

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "title")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


def _steps(name: str) -> int:
    scenario = load_scenario(name)
    last = max((e.step for e in scenario.timeline), default=0)
    return min(scenario.steps, last + 12 if last else 24)


@functools.cache
def _handout(name: str) -> tuple[Comparison, str]:
    result = compare(load_scenario(name), name=name, reps=2, steps=_steps(name),
                     overrides={"customers": 300})
    return result, html_report(result, figure_png(result, dpi=40))


@pytest.mark.parametrize("name", SHIPPED)
def test_every_question_of_a_shipped_scenario_is_answered_on_its_handout(name: str) -> None:
    scenario = load_scenario(name)
    assert len(scenario.answered_by) == len(scenario.questions)  # every question is mapped
    result, page = _handout(name)
    seen = _Text()
    seen.feed(page)
    for question, subjects in zip(scenario.questions, scenario.answered_by, strict=True):
        assert subjects, question
        assert set(subjects) <= seen.subjects, (question, set(subjects) - seen.subjects)
    assert set(seen.subjects) <= set(subjects_shown(scenario))
    text = " ".join(seen.text)
    assert "0.000 [0.000, 0.000]" not in text and "[–, –]" not in text
    code = re.findall(r"\b[a-z]+_[a-z_]+\b", text)
    assert not code, code  # no inside_out, final_share, ...
    assert text.index(f"Over {result.reps} paired runs") < text.index("The situation")
    for _, row in result.table.iterrows():  # bounded outcomes keep their intervals in range
        if reg.OUTCOMES[row["outcome"]].unit == "share" and np.isfinite(row["a_low"]):
            assert row["a_low"] >= 0.0 and row["a_high"] <= 1.0
            assert row["b_low"] >= 0.0 and row["b_high"] <= 1.0


def test_the_organizations_are_described_as_the_model_runs_them() -> None:
    # reorganization.yaml: month 72, to outside-in, cost 2, 12 months; one arm stays put.
    _, page = _handout("reorganization")
    seen = _Text()
    seen.feed(page)
    text = " ".join(seen.text)
    assert ("From month 72 it reorganizes to Outside-in over 12 months, for a one-off 2 "
            "months of revenue: coordination 0.8, cooperation 0.8, clout 0.8, capability 0.7, "
            "connections 0.6") in text
    assert text.count("it does not reorganize") == 1


def test_a_run_without_shocks_explains_its_missing_rows_in_words() -> None:
    result, page = _handout("stable-market")
    assert "no needs shock happened in any run, so there is nothing to measure" in page
    assert "<td>resilience loss" not in page and "<td>months to recover" not in page


def test_a_question_mapped_to_what_the_scenario_cannot_show_is_refused() -> None:
    text = ("title: T\ndescription: d\nteaches: t\nquestions: [q]\n"
            "answered_by: [[notice]]\nsteps: 12\nentrants: {rate: 0.0}\n"
            "firms: [{name: A}, {name: B}]\n")
    with pytest.raises(ScenarioError, match="answered_by.*'notice' needs events of kind 'entrant'"):
        parse_scenario(text)
    with pytest.raises(ScenarioError, match="answered_by.*'panel' is not one of"):
        parse_scenario(text.replace("[[notice]]", "[[panel]]"))
    with pytest.raises(ScenarioError, match="1 questions"):
        parse_scenario(text.replace("[[notice]]", "[[profit], [cash]]"))


def test_a_scenario_that_extends_with_new_questions_drops_the_old_answers(
        tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("extends: stable-market\nquestions: ['Why?']\n", encoding="utf-8")
    assert load_scenario(path).answered_by == []
    path.write_text("extends: stable-market\nquestions: ['Why?']\nanswered_by: [[profit]]\n",
                    encoding="utf-8")
    assert load_scenario(path).answered_by == [["profit"]]
    path.write_text("extends: stable-market\ntitle: Mine\n", encoding="utf-8")
    assert len(load_scenario(path).answered_by) == 4  # the questions and their answers stay


def test_the_handout_prints_on_a4_without_cut_off(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tests.viz.browser import CHROMIUM_ARGS, chromium_path

    _, page_html = _handout("low-end-disruption")
    page_file = tmp_path / "handout.html"
    page_file.write_text(page_html, encoding="utf-8")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 703, "height": 1000})  # 186 mm at 96 dpi
        page.goto(page_file.as_uri())
        page.emulate_media(media="print")
        widest = page.evaluate("""() => Math.max(...[...document.querySelectorAll('body *')]
            .map(e => e.getBoundingClientRect().right))""")
        assert widest <= 703, widest
        pdf = page.pdf(format="A4", print_background=True)
        browser.close()
    assert pdf.startswith(b"%PDF")
    boxes = {tuple(int(float(v)) for v in m.groups())
             for m in re.finditer(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)}
    assert boxes == {(595, 842)}  # A4 portrait (595.3 x 841.9 pt), every page
