"""Issue 10's city mechanisms: energy link, decomposition, need per resident, size, finance."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from abm.agents.state import P_IMPLEMENTING, P_PREPARED, SECTORS_CITY, SRC_PRIVATE
from abm.config import Parameters, PopulationConfig, ScenarioConfig
from abm.outputs import SimulationResult
from abm.population import _logistic_with_mean, _ordered_draw, _tilted_choice
from abm.rules import emissions, energy, finance, projects

ModelFactory = Callable[..., Any]
SMALL = PopulationConfig(
    n_non_mission_cities=30, residents_per_citizen=20000.0, generated_installations=15
)


def make_small_config(**changes: Any) -> ScenarioConfig:
    """The conftest's small scenario (2025-2035), with fields replaced."""
    base = dataclasses.replace(ScenarioConfig(), population=SMALL, end_year=2035)
    return dataclasses.replace(base, **changes)


OWN = [f"emissions_{s}_t" for s in SECTORS_CITY]


def _params(**changes: float) -> Parameters:
    return dataclasses.replace(Parameters(), **changes)


# --- the energy system -----------------------------------------------------------------------


def test_decline_rate_known_answers() -> None:
    p = Parameters()
    assert energy.decline_rate(0.0, p) == pytest.approx(p.grid_decline_min_per_year)
    half = p.grid_decline_half_price_eur_per_t
    mid = 0.5 * (p.grid_decline_min_per_year + p.grid_decline_max_per_year)
    assert energy.decline_rate(half, p) == pytest.approx(mid)
    assert energy.decline_rate(1e9, p) == pytest.approx(p.grid_decline_max_per_year, rel=1e-6)
    assert energy.decline_rate(-5.0, p) == energy.decline_rate(0.0, p)  # no negative prices
    # the EEA anchor: ~-4%/yr at the 2013-2023 mean ETS price of about EUR 29/t
    assert 0.03 < energy.decline_rate(29.0, p) < 0.045


def test_grid_moves_towards_its_floor_and_never_below(make_model: ModelFactory) -> None:
    m = make_model()
    start = m.nations.grid_intensity_start.copy()
    for _ in range(60):
        m.eu.carbon_price_eur_per_t = 500.0
        energy.decarbonise_grid(m)
    floor = np.minimum(m.params.grid_floor_g_per_kwh, start)
    assert np.all(m.nations.grid_intensity >= floor - 1e-9)
    assert np.all(m.nations.grid_intensity <= start + 1e-9)
    dirty = start > 100.0
    assert np.all(m.nations.grid_intensity[dirty] < 0.2 * start[dirty])


def _energy_emissions(result: SimulationResult, year: int) -> float:
    cy = result.city_year
    return float(cy.loc[cy["year"] == year, "emissions_energy_t"].sum())


def test_a_carbon_price_change_moves_city_energy_emissions() -> None:
    from abm.model import simulate

    def run(price: float) -> SimulationResult:
        p = _params(carbon_price_2025_eur_per_t=price, carbon_price_2050_eur_per_t=price)
        return simulate(make_small_config(parameters=p, end_year=2032), 42)

    low, high = run(20.0), run(400.0)
    # the first year's rows already show one year of the price (state at the end of 2025)
    assert _energy_emissions(high, 2025) < _energy_emissions(low, 2025)
    assert _energy_emissions(high, 2032) < 0.85 * _energy_emissions(low, 2032)
    bld = "emissions_buildings_t"
    assert (
        high.city_year.loc[high.city_year["year"] == 2032, bld].sum()
        < low.city_year.loc[low.city_year["year"] == 2032, bld].sum()
    )
    # waste has no electricity share: the carbon price leaves its drift alone
    waste = "emissions_waste_t"
    assert high.city_year.loc[high.city_year["year"] == 2025, waste].sum() == pytest.approx(
        low.city_year.loc[low.city_year["year"] == 2025, waste].sum(), rel=0.05
    )


# --- decomposition ---------------------------------------------------------------------------


def test_decomposition_sums_exactly_to_the_cut(make_model: ModelFactory) -> None:
    m = make_model(steps=6)
    parts = emissions.decomposition(m)
    assert parts.shape == (m.cities.n, len(emissions.CUT_CAUSES))
    # only green procurement can book a negative part (a share fallen below its start)
    others = [k for k, cause in enumerate(emissions.CUT_CAUSES) if cause != "procurement"]
    assert np.all(parts[:, others] >= -1e-6)
    cut = m.cities.emissions_base_t.sum(axis=1) - emissions.city_sector_emissions(m).sum(axis=1)
    np.testing.assert_allclose(parts.sum(axis=1), cut, rtol=1e-9, atol=1e-6)
    assert parts[:, emissions.CUT_CAUSES.index("grid")].sum() > 0.0
    assert parts[:, emissions.CUT_CAUSES.index("projects")].sum() > 0.0


def test_decomposition_outcomes_sum_to_the_city_cut() -> None:
    from abm.model import simulate

    result = simulate(make_small_config(end_year=2050), 42)
    h = result.headline()
    parts = [h[f"city_cut_2050_from_{c}_pp"] for c in emissions.CUT_CAUSES]
    assert sum(parts) == pytest.approx(h["city_emissions_reduction_2050_pct"], rel=1e-6)
    causes = zip(emissions.CUT_CAUSES, parts, strict=True)
    assert min(p for c, p in causes if c != "procurement") >= 0
    assert h["private_funded_eur"] > 0.0


# --- investment need per resident ------------------------------------------------------------


def test_need_per_resident_does_not_grow_with_city_size(make_model: ModelFactory) -> None:
    m = make_model()
    c = m.cities
    need_pc = projects.investment_need_eur(m) / c.population
    big = c.population > 500_000
    town = c.population < 50_000
    assert big.any() and town.any()
    # the need follows emissions per resident (income), not the city's size
    ratio = np.median(need_pc[big]) / np.median(need_pc[town])
    assert 0.8 < ratio < 1.25
    # the idea flow (count x mean cost) per resident at full factors is the need spread over
    # the portfolio years, whatever the size
    p = m.params
    flow = projects.investment_need_eur(m) / p.investment_portfolio_years / c.population
    np.testing.assert_allclose(flow, need_pc / p.investment_portfolio_years)
    rate = projects.idea_rate_per_year(m)
    assert np.all(np.diff(rate[np.argsort(c.population)]) >= -1e-12)  # more ideas when bigger
    per_resident = rate / c.population
    assert per_resident[big].max() < per_resident[town].min()  # but fewer per resident


# --- size effects ----------------------------------------------------------------------------


def test_towns_have_fewer_climate_staff_per_resident_than_large_metros(
    small_result: SimulationResult,
) -> None:
    cy = small_result.city_year
    y0 = cy[cy["year"] == cy["year"].min()]
    per_10k = y0["staff_fte"] / (y0["population"] / 1e4)
    towns = per_10k[y0["size_class"] == "Towns"]
    metros = per_10k[y0["population"] >= 1_000_000]
    assert towns.size and metros.size
    assert towns.median() < metros.median()


def test_ordered_draw_keeps_the_shares_and_orders_by_the_shift() -> None:
    rng = np.random.default_rng(3)
    n = 20_000
    shift = np.linspace(-2.0, 2.0, n)
    shares = np.array([0.1, 0.4, 0.5])
    got = _ordered_draw(rng, shares, shift, np.ones(n, dtype=bool))
    np.testing.assert_allclose(np.bincount(got, minlength=3) / n, shares, atol=0.002)
    assert got[: n // 4].mean() < got[-n // 4 :].mean()


def test_tilted_choice_keeps_the_shares() -> None:
    rng = np.random.default_rng(4)
    n = 20_000
    tilt = np.zeros((n, 4))
    tilt[:, 0] = np.linspace(-1.0, 1.0, n)
    shares = np.array([0.3, 0.2, 0.2, 0.3])
    got = _tilted_choice(rng, shares, tilt, np.ones(n, dtype=bool))
    np.testing.assert_allclose(np.bincount(got, minlength=4) / n, shares, atol=0.015)
    assert (got[-n // 4 :] == 0).mean() > (got[: n // 4] == 0).mean()


def test_logistic_with_mean_hits_the_mean() -> None:
    logit = np.linspace(-3.0, 3.0, 1001)
    probs = _logistic_with_mean(logit, 0.42, np.ones(logit.size, dtype=bool))
    assert probs.mean() == pytest.approx(0.42, abs=1e-6)
    assert np.all(np.diff(probs) > 0)


# --- private and leveraged finance -----------------------------------------------------------


def test_bankable_share_known_answers(make_model: ModelFactory) -> None:
    m = make_model()
    pr = m.projects
    idx = np.arange(min(pr.size, 6))
    pr.sector[idx] = SECTORS_CITY.index("transport")  # no utility, no community share
    pr.revenue_ratio[idx] = np.array([0.0, 0.6, 1.2, 2.4, 0.3, 0.9])[: idx.size]
    hurdle = m.params.private_hurdle_ratio
    expected = np.clip(pr.revenue_ratio[idx] / hurdle, 0.0, 1.0)
    np.testing.assert_allclose(finance.bankable_share(m, idx), expected)


def test_guarantees_lower_the_hurdle(make_model: ModelFactory) -> None:
    from abm.policies import LeverSetting

    off = make_model()
    on = make_model(levers=(LeverSetting("enhanced_financing", 1.0, 2025),))
    cut = on.params.lever_financing_guarantee_hurdle_cut
    assert finance.hurdle_ratio(off) == pytest.approx(off.params.private_hurdle_ratio)
    assert finance.hurdle_ratio(on) == pytest.approx(on.params.private_hurdle_ratio * (1 - cut))


def test_fully_bankable_projects_go_ahead_on_private_money(make_model: ModelFactory) -> None:
    m = make_model()
    pr = m.projects
    prepared = np.flatnonzero(pr.stage[: pr.size] == P_PREPARED)
    assert prepared.size > 0
    pr.revenue_ratio[prepared] = 10.0  # pays back many times over
    m.cities.finance_skill[:] = 0.99
    m.free_pm[:] = 1e6
    for _ in range(20):
        finance.raise_private_finance(m)
    went = prepared[pr.stage[prepared] == P_IMPLEMENTING]
    assert went.size > 0.5 * prepared.size
    assert np.all(pr.source[went] == SRC_PRIVATE)
    np.testing.assert_allclose(pr.private_eur[went], pr.cost_eur[went])
    assert m.year_flows.private_eur.sum() == pytest.approx(pr.cost_eur[went].sum())


def test_lined_up_private_capital_cuts_the_public_cost(make_model: ModelFactory) -> None:
    m = make_model()
    pr = m.projects
    idx = np.flatnonzero(pr.stage[: pr.size] == P_PREPARED)[:3]
    pr.private_eur[idx] = 0.25 * pr.cost_eur[idx]
    np.testing.assert_allclose(finance.public_cost(m, idx), 0.75 * pr.cost_eur[idx])


def test_no_deals_without_staff(make_model: ModelFactory) -> None:
    m = make_model()
    pr = m.projects
    prepared = np.flatnonzero(pr.stage[: pr.size] == P_PREPARED)
    pr.revenue_ratio[prepared] = 10.0
    m.free_pm[:] = 0.0
    finance.raise_private_finance(m)
    assert np.all(pr.private_eur[prepared] == 0.0)


def test_baseline_workload_and_staff_by_size_class_follow_the_evidence() -> None:
    """Issue 10's check on the default EU: towns' median workload is at least the large
    metros', and towns have no more climate staff per resident than large metros."""
    import govsim

    config = dataclasses.replace(govsim.scenario("baseline"), end_year=2030)
    table = govsim.run(config, seed=1).by_size_class().set_index("size_class")
    towns, metros = table.loc["Towns"], table.loc["Large metropolitan areas"]
    assert towns["median_workload"] >= metros["median_workload"]
    assert towns["staff_fte_per_100k"] <= metros["staff_fte_per_100k"]
    assert (table["investment_eur_per_resident_year"] >= 0).all()
    assert table["cities"].sum() == 362
