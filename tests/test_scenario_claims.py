"""What each shipped scenario teaches, checked against its own runs.

A scenario's ``teaches`` text makes claims about what its run shows. Each test here replays the
scenario on paired seeds (common random numbers: the arms compared use the same seeds) and
asserts the claim with an explicit statistical tolerance: a mean paired difference more than
two standard errors from zero in the claimed direction, or a Wilson 95% bound for a
proportion. The arms are either two firms read from one run (head-to-head) or the scenario as
written against the same market with the focal firm organized another way. Runs use 2,000
customers: the customer count is resolution, not a setting of the story.

When a claim fails here, the scenario's text (or its situation) must change, not the test's
tolerance.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from simulation.model import OrgModel
from simulation.scenario import scenario_names
from simulation.scenario_files import load_scenario

SEEDS = range(8)
DETECTION_SEEDS = range(24)
"""Who notices a newcomer first differs by a month or less, in whole months: more pairs."""
CUSTOMERS = 2000

pytestmark = pytest.mark.slow


# --- runs and statistics ----------------------------------------------------------------------

@functools.cache
def run(name: str, seed: int, **overrides: object) -> OrgModel:
    """The scenario ``name`` run in full on ``seed`` (cached: several claims read one run)."""
    scenario = load_scenario(name)
    model = OrgModel.from_scenario(scenario, rng=seed, customers=CUSTOMERS, **overrides)
    return model.run(scenario.steps)


def runs(name: str, seeds: Iterable[int] = SEEDS, **overrides: object) -> list[OrgModel]:
    """One run of the scenario per seed."""
    return [run(name, seed, **overrides) for seed in seeds]


def assert_positive(diffs: Iterable[float], claim: str) -> None:
    """The mean of paired differences lies more than two standard errors above zero."""
    d = np.asarray(list(diffs), dtype=float)
    mean, se = d.mean(), d.std(ddof=1) / math.sqrt(d.size)
    print(f"measured | {claim} | {mean:+.4g} [{mean - 2 * se:.4g}, {mean + 2 * se:.4g}], "
          f"n {d.size}")  # shown with -s: the figures docs/scenarios.md quotes
    assert mean > 2 * se, f"{claim}: mean paired difference {mean:.4g}, 2 SE {2 * se:.4g}, " \
                          f"n {d.size}"


def differences(a: Iterable[object], b: Iterable[object],
                measure: Callable[[Any], float]) -> list[float]:
    """Paired differences ``measure(a_i) - measure(b_i)`` (a and b in seed order)."""
    return [measure(x) - measure(y) for x, y in zip(a, b, strict=True)]


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion (95% by default)."""
    p = successes / n
    print(f"measured | proportion | {successes}/{n}")  # shown with -s
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def firm(model: OrgModel, structure: str | None = None, name: str | None = None
         ) -> pd.DataFrame:
    """One firm's rows after the start, indexed by step; found by its structure or name.

    A structure names the one incumbent organized that way at the start of the run.
    """
    r = model.results()
    if name is None:
        start = r[(r["step"] == 0) & (r["structure"] == structure)]
        assert len(start) == 1, f"expected one {structure} firm, found {list(start['firm'])}"
        name = start["firm"].iloc[0]
    rows = r[(r["firm"] == name) & (r["step"] > 0)]
    return rows.set_index("step")


def focal_profit(model: OrgModel) -> float:
    """The focal firm's profit summed over the run."""
    return float(firm(model, name=model.focal.name)["profit"].sum())


def focal_alive_mean(column: str) -> Callable[[OrgModel], float]:
    """A measure: the focal firm's mean of ``column`` over its months alive."""
    return lambda model: alive_mean(firm(model, name=model.focal.name), column)


def alive_mean(rows: pd.DataFrame, column: str) -> float:
    """Mean of a column over the months the firm was alive (a dead firm's gaps are moot)."""
    return float(rows.loc[rows["alive"], column].mean())


def censored_times(table: pd.DataFrame, time: str, start: str, firm_name: str, steps: int
                   ) -> pd.Series:
    """A firm's times to an event, a never-reached event counted as the months that were left.

    Indexed by the event's own key (entrant or segment), so that two arms pair up.
    """
    rows = table[table["firm"] == firm_name]
    key = "entrant" if "entrant" in rows else "segment"
    left = steps - rows[start]
    return pd.Series(np.where(rows[time].isna(), left, rows[time]), index=rows[key].to_numpy())


def paired_times(a: list[OrgModel], b: list[OrgModel], table: str, time: str, start: str,
                 steps: int) -> list[float]:
    """Per (seed, event) differences of the focal firm's censored times: arm a minus arm b."""
    diffs: list[float] = []
    for ma, mb in zip(a, b, strict=True):
        ta = censored_times(getattr(ma, table)(), time, start, ma.focal.name, steps)
        tb = censored_times(getattr(mb, table)(), time, start, mb.focal.name, steps)
        common = ta.index.intersection(tb.index)
        assert len(common), "the two arms share no event to compare"
        diffs += (ta[common] - tb[common]).tolist()
    return diffs


def swapped(name: str, seeds: Iterable[int] = SEEDS) -> tuple[list[OrgModel], list[OrgModel]]:
    """The scenario as written (an inside-out focal firm) and with an outside-in focal firm."""
    return runs(name, seeds), runs(name, seeds, structure="outside_in")


def final_lead(model: OrgModel, leader: str, others: Iterable[str]) -> float:
    """The leader's final market share minus the largest of the others'."""
    final = model.results().query("step == step.max()").set_index("firm")["market_share"]
    return float(final[leader] - max(final[o] for o in others))


def assert_inside_out_serves_later(name: str) -> tuple[list[OrgModel], list[OrgModel]]:
    """An inside-out focal firm takes longer to serve each new segment than an outside-in one."""
    inside, outside = swapped(name)
    assert_positive(paired_times(inside, outside, "emergences", "time_to_serve", "emerge_step",
                                 load_scenario(name).steps),
                    "an inside-out focal firm takes longer to serve a new group")
    return inside, outside


def test_the_claims_cover_every_shipped_scenario() -> None:
    tested = {name.removeprefix("test_").split("__")[0].replace("_", "-")
              for name in globals() if name.startswith("test_") and "__" in name}
    assert tested == set(scenario_names())


# --- the scenarios --------------------------------------------------------------------------

def test_stable_market__the_levers_upkeep_does_not_pay() -> None:
    models = runs("stable-market")
    inside = [firm(m, "inside_out") for m in models]
    outside = [firm(m, "outside_in") for m in models]
    assert_positive(differences(inside, outside, lambda f: f["profit"].sum()),
                    "inside-out earns more than outside-in, head-to-head")
    # "a few more customers ... far fewer than in a turbulent market": outside-in's share lead
    # is smaller here than in the turbulent market, seed by seed.
    def lead(name: str) -> np.ndarray:
        models = runs(name)
        return np.array(differences([firm(m, "outside_in") for m in models],
                                    [firm(m, "inside_out") for m in models],
                                    lambda f: f["market_share"].mean()))

    assert_positive(list(lead("turbulent-market") - lead("stable-market")),
                    "outside-in's share lead is smaller in the stable market")


@pytest.mark.parametrize("structure", ["inside_out", "outside_in"])
@pytest.mark.parametrize("gap", ["awareness_gap", "action_gap"])
def test_turbulent_market__turbulence_widens_both_gaps(structure: str, gap: str) -> None:
    turbulent = [firm(m, structure) for m in runs("turbulent-market")]
    stable = [firm(m, structure) for m in runs("stable-market")]
    assert_positive(differences(turbulent, stable, lambda f: alive_mean(f, gap)),
                    f"{structure}'s {gap} is wider in the turbulent market than in the stable")


def test_turbulent_market__inside_outs_action_gap_widens_most() -> None:
    def widening(structure: str) -> np.ndarray:
        return np.array(differences(runs("turbulent-market"), runs("stable-market"),
                                    lambda m: alive_mean(firm(m, structure), "action_gap")))

    assert_positive(widening("inside_out") - widening("outside_in"),
                    "inside-out's action gap widens more than outside-in's")


def test_turbulent_market__outside_in_loses_less_after_shocks_and_keeps_more_customers() -> None:
    models = runs("turbulent-market")
    loss_diffs, share_diffs = [], []
    for m in models:
        inside, outside = firm(m, "inside_out"), firm(m, "outside_in")
        res = m.resilience().pivot(index="shock_step", columns="firm", values="loss_area")
        both = res[[inside["firm"].iloc[0], outside["firm"].iloc[0]]].dropna()
        assert len(both), "no shock found both firms alive"
        loss_diffs.append(float((both.iloc[:, 0] - both.iloc[:, 1]).mean()))
        share_diffs.append(outside["market_share"].mean() - inside["market_share"].mean())
    assert_positive(loss_diffs, "outside-in loses less share after a shock (loss area)")
    assert_positive(share_diffs, "outside-in keeps more customers over the run")


def test_freeze_up__small_awareness_gap_wide_action_gap() -> None:
    frozen = runs("freeze-up")
    plain = runs("freeze-up", structure="inside_out")
    assert_positive(differences(plain, frozen, focal_alive_mean("awareness_gap")),
                    "the frozen firm knows its customers better than a plain inside-out firm")
    own = [focal_alive_mean("action_gap")(m) for m in frozen]
    rival = [alive_mean(firm(m, "outside_in"), "action_gap") for m in frozen]
    assert_positive(np.subtract(own, rival),
                    "the frozen firm's offering lags its knowledge more than outside-in's")


def test_low_end_disruption__the_newcomer_wins_a_large_share() -> None:
    models = runs("low-end-disruption")
    peaks = [float(firm(m, name="entrant-1")["market_share"].max()) for m in models]
    assert_positive([p - 0.3 for p in peaks], "the first newcomer's share peaks above 30%")

    def lead_at_peak(m: OrgModel) -> float:
        newcomer = firm(m, name="entrant-1")["market_share"]
        peak = newcomer.idxmax()
        return float(newcomer[peak]) - max(
            float(firm(m, name=n).loc[peak, "market_share"]) for n in ("Focal", "Rival"))

    assert_positive([lead_at_peak(m) for m in models],
                    "at its peak the newcomer has more customers than either incumbent")
    failed = sum(not bool(firm(m, name="entrant-1")["alive"].iloc[-1]) for m in models)
    assert wilson(failed, len(models))[0] > 0.25, \
        f"the first newcomer failed after its peak in {failed} of {len(models)} runs"


def test_low_end_disruption__outside_in_notices_sooner_and_answers_inside_out_does_not() -> None:
    inside, outside = swapped("low-end-disruption", DETECTION_SEEDS)
    steps = load_scenario("low-end-disruption").steps
    assert_positive(paired_times(inside, outside, "disruptions", "time_to_notice", "entry_step",
                                 steps),
                    "an inside-out focal firm notices each newcomer later than an outside-in one")

    def answered(m: OrgModel) -> bool:
        d = m.disruptions()
        return bool(d.loc[d["firm"] == m.focal.name, "time_to_answer"].notna().any())

    assert not any(answered(m) for m in inside), "an inside-out focal firm answered"
    assert all(answered(m) for m in outside), "an outside-in focal firm did not answer"
    assert all(m.focal.price < 1.0 for m in outside)
    assert_positive(differences(outside, inside, focal_profit),
                    "the outside-in focal firm earns more than the inside-out focal firm")


def test_new_market_disruption__the_new_group_starts_as_non_consumers() -> None:
    # Before the newcomer: when the group emerges (month 30) many of its people buy nothing.
    diffs = []
    for m in runs("new-market-disruption"):
        bought_nothing = m.datacollector.get_model_vars_dataframe()["no_purchase"]
        diffs.append(bought_nothing.loc[30:41].mean() - bought_nothing.loc[18:29].mean())
    assert_positive(diffs, "non-consumption rises when the new group emerges")


def test_new_market_disruption__incumbents_lose_little_at_first_and_more_later() -> None:
    diffs, failed = [], 0
    for m in runs("new-market-disruption"):
        r = m.results()
        incumbents = r[r["firm"].isin(["Focal", "Rival"])].groupby("step")["market_share"].sum()
        first_year = incumbents[41] - incumbents[53]       # the newcomer enters in month 42
        later_per_year = (incumbents[53] - incumbents[89]) / 3
        diffs.append(later_per_year - first_year)
        failed += not bool(firm(m, name="entrant-1")["alive"].iloc[-1])
    assert_positive(diffs, "the incumbents lose share faster in years 2-4 than in year 1")
    assert wilson(failed, 8)[0] > 0.25, f"the newcomer failed after its peak in {failed} of 8"


def test_new_market_disruption__outside_in_serves_the_new_groups_sooner() -> None:
    assert_inside_out_serves_later("new-market-disruption")


def test_commodity_trap__an_outside_in_focal_firm_escapes_the_price_war() -> None:
    inside, outside = swapped("commodity-trap")
    assert_positive(differences(outside, inside, focal_profit),
                    "the outside-in focal firm earns more than the inside-out focal firm")
    assert_positive([final_lead(m, "Focal", ["Discounter", "Rival"]) for m in outside],
                    "the outside-in focal firm ends with more customers than either rival")


def test_narrow_customer__outside_in_wins_the_new_groups_within_months() -> None:
    inside, outside = assert_inside_out_serves_later("narrow-customer")
    steps = load_scenario("narrow-customer").steps

    def within(models: list[OrgModel], months: int) -> tuple[int, int]:
        times = pd.concat([censored_times(m.emergences(), "time_to_serve", "emerge_step",
                                          "Focal", steps) for m in models])
        return int((times <= months).sum()), len(times)

    fast, n = within(outside, 24)
    assert wilson(fast, n)[0] > 0.5, f"outside-in served {fast} of {n} new groups in 2 years"
    fast, n = within(inside, 24)
    assert wilson(fast, n)[1] < 0.5, f"inside-out served {fast} of {n} new groups in 2 years"


def _partner_arms(seeds: Iterable[int] = SEEDS) -> tuple[list[OrgModel], list[OrgModel]]:
    """The scenario's two arms: the outside-in focal firm alone and with partners."""
    arms = dict(load_scenario("partner-ecosystem").organizations())
    return (runs("partner-ecosystem", seeds, **arms["alone"]),
            runs("partner-ecosystem", seeds, **arms["partnered"]))


def test_partner_ecosystem__partners_bring_knowledge_and_earlier_sight() -> None:
    alone, partnered = _partner_arms(DETECTION_SEEDS)
    assert_positive(differences(alone, partnered, focal_alive_mean("awareness_gap")),
                    "the partnered firm's picture of its customers is closer to the truth")
    steps = load_scenario("partner-ecosystem").steps
    assert_positive(paired_times(alone, partnered, "disruptions", "time_to_notice", "entry_step",
                                 steps),
                    "the partnered firm notices each newcomer sooner")


def test_partner_ecosystem__partners_cost_money_every_month() -> None:
    alone, partnered = _partner_arms()
    assert_positive(differences(partnered, alone, focal_alive_mean("lever_upkeep")),
                    "the partnered firm pays more upkeep")


REORGANIZATION_SEEDS = range(10)


def test_reorganization__it_dips_first_then_pays() -> None:
    reorganizes = runs("reorganization", REORGANIZATION_SEEDS)
    stays = runs("reorganization", REORGANIZATION_SEEDS, reorganize_step=None)
    start = next(e.step for e in load_scenario("reorganization").timeline
                 if e.event == "reorganization")
    first_half = slice(start, start + 5)        # the transition takes 12 months
    after = slice(start + 12, None)
    r = [firm(m, name="Focal") for m in reorganizes]
    s = [firm(m, name="Focal") for m in stays]
    assert_positive(differences(s, r, lambda f: f.loc[first_half, "profit"].mean()),
                    "the reorganizing firm earns less at first")
    dip = np.array(differences(s, r, lambda f: f.loc[first_half, "market_share"].mean()))
    se = dip.std(ddof=1) / math.sqrt(dip.size)
    print(f"measured | the reorganizing firm's share dip at first | {dip.mean():+.4g} "
          f"[{dip.mean() - 2 * se:.4g}, {dip.mean() + 2 * se:.4g}], n {dip.size}")
    assert abs(dip.mean()) + 2 * se < 0.01, "a dip in share of a point or more"
    assert_positive(differences(r, s, lambda f: f.loc[after, "market_share"].mean()),
                    "after the transition the reorganized firm holds more of the market")
