"""The app's Info panel, as NetLogo's Info tab: what the scenario is, how it works, what to try.

Plain texts, never markup (the page escapes nothing it did not write). They are read off the
scenario (``None``: the default market) and the run's firms as they started.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulation.viz.texts import EVENT_TEXT, LEVER_TEXT

if TYPE_CHECKING:
    from simulation.scenario import Scenario

StartLevers = dict[str, tuple[str, dict[str, float]]]
"""Per firm name, its structure and lever values at the run's start (focal first)."""

DEFAULT_TITLE = "The default market"


def scenario_text(scenario: Scenario | None, path: Path | None) -> dict[str, Any]:
    """What the scenario tells a class: title, description, lesson, questions (plain text)."""
    if scenario is None:
        return {"title": DEFAULT_TITLE, "description": "", "teaches": "", "questions": []}
    return {"title": str(scenario.title or path),
            "description": str(scenario.description or ""),
            "teaches": str(scenario.teaches or ""),
            "questions": [str(q) for q in scenario.questions]}


def info_text(scenario: Scenario | None, path: Path | None,
              start_levers: StartLevers) -> dict[str, Any]:
    """The scenario explained for the Info panel.

    Keys: ``title``, ``what`` (the situation), ``how`` (lines on the five levers of each
    firm in ``start_levers`` and the market), ``notice`` (what to watch), ``try`` (changes
    to make), ``questions``.
    """
    text = scenario_text(scenario, path)
    how = []
    for name, (structure, levers) in start_levers.items():
        strong = [k for k, v in levers.items() if v >= 0.6]
        weak = [k for k, v in levers.items() if v <= 0.3]
        parts = [f"strong in {', '.join(strong)}" if strong else "",
                 f"weak in {', '.join(weak)}" if weak else ""]
        how.append(f"{name} starts {structure.replace('_', '-')}: "
                   f"{'; '.join(p for p in parts if p) or 'middling levers'}.")
    how += [f"{k.capitalize()}: {v}" for k, v in LEVER_TEXT.items()]
    notice = [text["teaches"]] if text["teaches"] else [
        "The awareness gap (what customers need vs. what the firm believes) and the "
        "action gap (what it believes vs. what it offers) come before the shares move."]
    timeline = scenario.scheduled_events() if scenario is not None else []
    for step, kind in timeline:
        notice.append(f"Month {step}: {EVENT_TEXT.get(kind, kind.replace('_', ' '))}"
                      " — watch the two gaps and the shares in the months after.")
    return {"title": text["title"], "what": text["description"] or
            "Two firms, one outside-in and one inside-out, sell to the same customers "
            "whose needs drift; disruptors may enter.", "how": how,
            "notice": notice, "try": things_to_try(start_levers),
            "questions": text["questions"] or [
                "Which firm closes its awareness gap faster, and why?",
                "What does the inside-out firm's network show about its silos?"]}


def things_to_try(start_levers: StartLevers) -> list[str]:
    """Changes to make in the app, the first naming the focal firm's weakest lever."""
    first = next(iter(start_levers.items()), None)
    out = []
    if first is not None:
        name, (structure, levers) = first
        weakest = min(levers, key=lambda k: levers[k])
        other = "inside-out" if structure == "outside_in" else "outside-in"
        out.append(f"Raise {name}'s weakest lever ({weakest}, {levers[weakest]:.2f}) to "
                   "0.8 in the controls and press Reset: which gap closes?")
        out.append(f"Run to month 60, then press \"Reorganize now: to {other}\" on {name}'s "
                   "panel: what does the move cost, and when does it pay?")
    out.append("Press \"Shock needs now\" and watch which firm's awareness gap "
               "rises less, and which recovers first.")
    out.append("Change the seed and press Reset: is the story the same with other luck?")
    return out
