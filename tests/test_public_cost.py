"""Known answers for the public cost of the levers (abm/rules/public_cost.py, issue 10.6).

A lever at intensity 0 costs nothing; a per-resident or per-city dose costs intensity x dose x
what it applies to, so it doubles with the intensity and with the dose; the yearly columns add up
to the cumulative account and to the outcome ``levers_public_cost_eur``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from abm.config import ScenarioConfig
from abm.model import GovernanceModel, simulate
from abm.policies import LEVER_NAMES, LeverSetting
from abm.rules import public_cost
from experiments.scenario import load_scenario

BASELINE = Path(__file__).resolve().parents[1] / "experiments" / "scenarios" / "baseline.toml"


def _config(levers: dict[str, float], end_year: int = 2030, **params: float) -> ScenarioConfig:
    base = load_scenario(BASELINE)
    pop = dataclasses.replace(
        base.population,
        n_non_mission_cities=40,
        residents_per_citizen=20000.0,
        generated_installations=20,
    )
    settings = tuple(LeverSetting(name, levers.get(name, 0.0), 2025) for name in LEVER_NAMES)
    parameters = dataclasses.replace(base.parameters, **params)
    return dataclasses.replace(
        base, population=pop, end_year=end_year, levers=settings, parameters=parameters
    )


def _first_step_costs(levers: dict[str, float], **params: float) -> dict[str, float]:
    """Cost of each lever in the first step of a model with ``levers`` in force."""
    m = GovernanceModel(_config(levers, **params), 1)
    m.step()
    return dict(zip(LEVER_NAMES, m.lever_accounts.year_eur, strict=True))


def test_levers_at_intensity_zero_cost_nothing() -> None:
    m = GovernanceModel(_config({}), 1)
    for _ in range(3):
        m.step()
    assert not m.lever_accounts.total_eur.any()
    assert not m.lever_accounts.funded_fte.any()


def test_per_resident_dose_is_intensity_times_dose_times_residents() -> None:
    """Simplification, R&I and the pathway: EUR per resident x residents x intensity x dt."""
    m = GovernanceModel(_config(dict.fromkeys(LEVER_NAMES, 0.5)), 1)
    p = m.params
    m.step()
    cost = dict(zip(LEVER_NAMES, m.lever_accounts.year_eur, strict=True))
    residents = m.modelled_residents
    for lever, dose in (
        ("simplification", p.lever_simplification_eur_per_resident_year),
        ("research_innovation", p.lever_rni_eur_per_resident_year),
        ("predictable_pathway_2040", p.lever_pathway_eur_per_resident_year),
    ):
        assert cost[lever] == pytest.approx(0.5 * dose * residents * m.dt), lever


def test_cost_scales_with_intensity_and_dose() -> None:
    half = _first_step_costs(dict.fromkeys(LEVER_NAMES, 0.5))
    full = _first_step_costs(dict.fromkeys(LEVER_NAMES, 1.0))
    for lever in ("simplification", "research_innovation", "dialogue_platforms"):
        assert full[lever] == pytest.approx(2.0 * half[lever]), lever
    doubled = _first_step_costs(
        dict.fromkeys(LEVER_NAMES, 1.0),
        lever_dialogue_eur_per_city_round=20_000.0,
        lever_dialogue_national_fte_per_country=4.0,
        lever_rni_eur_per_resident_year=10.0,
    )
    assert doubled["dialogue_platforms"] == pytest.approx(2.0 * full["dialogue_platforms"])
    assert doubled["research_innovation"] == pytest.approx(2.0 * full["research_innovation"])


def test_financing_cost_is_the_extra_budget_plus_services() -> None:
    """At least the extra call and fund budgets offered; zero when the boosts and services are 0."""
    m = GovernanceModel(_config({"enhanced_financing": 1.0}), 1)
    p = m.params
    m.step()
    inst = m.eu.instruments
    budget = (
        p.lever_financing_budget_boost
        * sum(inst[k].budget_eur_per_year for k in ("mission", "cohesion", "sme"))
        + p.lever_financing_industry_fund_boost * inst["industry"].budget_eur_per_year
    )
    k = LEVER_NAMES.index("enhanced_financing")
    assert m.lever_accounts.year_eur[k] > budget * m.dt
    none = _first_step_costs(
        {"enhanced_financing": 1.0},
        lever_financing_budget_boost=0.25,
        lever_financing_industry_fund_boost=0.25,
    )
    assert none["enhanced_financing"] < m.lever_accounts.year_eur[k]


def test_preparation_assistance_pays_what_it_takes_off_cities() -> None:
    """PDA cost = preparation person-months done x cut/(1 - cut) x EUR per person-month."""
    m = GovernanceModel(_config({"enhanced_financing": 1.0}), 1)
    p = m.params
    cut = p.lever_financing_prep_cut
    with_prep = public_cost.step_costs_eur(m, 10.0)
    without = public_cost.step_costs_eur(m, 0.0)
    k = LEVER_NAMES.index("enhanced_financing")
    expected = 10.0 * cut / (1.0 - cut) * p.lever_financing_pda_eur_per_person_month
    assert with_prep[k] - without[k] == pytest.approx(expected)


def test_staff_cost_follows_the_gdp_index() -> None:
    m = GovernanceModel(_config({}), 1)
    p = m.params
    m.nations.gdp_index[:] = 100.0
    assert public_cost.staff_cost_eur_per_fte(m, np.array([0]))[0] == pytest.approx(
        p.staff_cost_eur_per_fte_year
    )
    m.nations.gdp_index[0] = 50.0
    assert public_cost.staff_cost_eur_per_fte(m, np.array([0]))[0] == pytest.approx(
        p.staff_cost_eur_per_fte_year * 0.5**p.staff_cost_gdp_elasticity
    )


def test_funded_staff_are_paid_while_they_work() -> None:
    """Capacity building funds staff growth; their salaries are part of the lever's cost."""
    m = GovernanceModel(_config({"capacity_building": 1.0}), 1)
    for _ in range(3):
        m.step()
    acc = m.lever_accounts
    assert acc.funded_fte.sum() > 0.0
    salaries = float(
        (acc.funded_fte * public_cost.staff_cost_eur_per_fte(m, m.cities.country)).sum()
    )
    k = LEVER_NAMES.index("capacity_building")
    assert acc.year_eur[k] > salaries * m.dt


def test_yearly_columns_add_up_to_the_total_and_the_outcome() -> None:
    config = _config(dict.fromkeys(LEVER_NAMES, 1.0), end_year=2032)
    m = GovernanceModel(config, 2)
    result = m.run()
    eu = result.eu_year[result.eu_year["level"] == "EU"]
    columns = [f"public_cost_{name}_eur" for name in LEVER_NAMES]
    np.testing.assert_allclose(eu[columns].sum().to_numpy(), m.lever_accounts.total_eur)
    assert result.headline()["levers_public_cost_eur"] == pytest.approx(
        m.lever_accounts.total_eur.sum()
    )
    assert (eu[columns].to_numpy() > 0.0).all()


def test_quarterly_steps_cost_the_same_per_year_as_yearly_steps() -> None:
    """A per-resident dose books the same EUR per year whatever the step length."""
    yearly = simulate(_config({"research_innovation": 1.0}), 3)
    quarterly = simulate(
        dataclasses.replace(_config({"research_innovation": 1.0}), steps_per_year=4), 3
    )
    col = "public_cost_research_innovation_eur"
    a = yearly.eu_year[yearly.eu_year["level"] == "EU"][col].to_numpy()
    b = quarterly.eu_year[quarterly.eu_year["level"] == "EU"][col].to_numpy()
    np.testing.assert_allclose(a, b)
