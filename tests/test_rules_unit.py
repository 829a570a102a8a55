"""Unit tests of the behavioural rules with hand-computed expectations.

Each test either calls a pure function with small arrays or sets a controlled state on a small
model and calls one stage function directly (not ``step()``), so the expected numbers follow
from the formula in the rule's docstring.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from abm.agents.state import P_PREPARED, SME_DEFAULTED, SME_GREEN, SME_IDLE, SME_WAITING
from abm.config import PARAMETER_META, Parameters, registry
from abm.model import GovernanceModel
from abm.policies import LEVER_NAMES, LeverSetting, LeverState
from abm.rng import Streams, stream
from abm.rules import capacity, citizens, funding, industry, politics, procurement, silos, smes
from abm.rules import industry_tech as it
from abm.rules._math import cumsum_within, rank_within
from abm.rules.staff import STAFF_USES

GRANT_MANAGEMENT = STAFF_USES.index("grant_management")
STEEL = np.array([it.SECTOR_INDEX["steel"]])
CHEMICALS = np.array([it.SECTOR_INDEX["chemicals"]])


def mid_year_quarterly(make_model) -> GovernanceModel:
    """A quarterly small model after one step: ``is_year_start`` is False (no yearly events)."""
    m = make_model(steps_per_year=4, steps=1)
    assert not m.is_year_start
    return m


# --- silos --------------------------------------------------------------------------------------


def test_proceed_probability_single_department_is_certain() -> None:
    got = silos.proceed_probability(np.array([0.9]), np.array([0.0]), np.array([1]), 0.5)
    assert got[0] == 1.0


def test_proceed_probability_known_value() -> None:
    # (1 - 0.5*(1-0.2))^2 * (1 - 0.5*0.1)^2 = 0.6^2 * 0.95^2 = 0.36 * 0.9025
    got = silos.proceed_probability(np.array([0.5]), np.array([0.2]), np.array([3]), 0.1)
    assert got[0] == pytest.approx(0.3249, rel=1e-12)


def test_proceed_probability_falls_with_silo_and_departments() -> None:
    s = np.array([0.2, 0.5, 0.8])
    p = silos.proceed_probability(s, np.full(3, 0.2), np.full(3, 3), 0.1)
    assert np.all(np.diff(p) < 0)
    p_dep = silos.proceed_probability(np.full(3, 0.5), np.full(3, 0.2), np.array([2, 3, 4]), 0.1)
    assert np.all(np.diff(p_dep) < 0)


def test_coordination_pm() -> None:
    got = silos.coordination_pm(np.array([0.5, 0.5, 0.0]), np.array([3, 1, 4]), 2.0)
    # h*s*|D| = 2*0.5*3 = 3; single department costs nothing; no silo costs nothing
    np.testing.assert_allclose(got, [3.0, 0.0, 0.0], rtol=1e-12)


def test_implementation_years_base_silo_and_learning() -> None:
    years = silos.implementation_years(
        np.array([0.0, 0.5, 0.0, 0.5]),
        np.array([1, 3, 1, 3]),
        np.array([0.0, 0.0, 20.0, 20.0]),
        20.0,
        2.0,
        Parameters().silo_delivery_slowdown,
    )
    # base 2 y; silo 0.5 across 3 departments: 2*(1+0.5*0.5*2) = 3 y; 20 prior projects halve it
    np.testing.assert_allclose(years, [2.0, 3.0, 1.0, 1.5], rtol=1e-12)
    assert years[0] == Parameters().base_implementation_years == 2.0
    assert Parameters().silo_delivery_slowdown == 0.5


def test_effective_coordination_mayor_backing(make_model) -> None:
    m = make_model()
    m.params = m.params.replace(mayor_backing_coordination=0.2)
    c = m.cities
    c.coordination[:3] = [0.3, 0.3, 0.95]
    c.commitment[:3] = [0.8, 0.4, 1.0]
    got = silos.effective_coordination(m)[:3]
    # 0.3 + 0.2*(0.8-0.5); no backing below 0.5; clipped at 1
    np.testing.assert_allclose(got, [0.36, 0.3, 1.0], rtol=1e-12)


# --- funding helpers ----------------------------------------------------------------------------


def test_rank_within_group() -> None:
    city = np.array([2, 0, 2, 1, 0, 2])
    np.testing.assert_array_equal(rank_within(city), [0, 0, 1, 0, 1, 2])


def test_cumsum_within_group() -> None:
    city = np.array([2, 0, 2, 1, 0, 2])
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    np.testing.assert_allclose(cumsum_within(city, values), [1.0, 2.0, 4.0, 4.0, 7.0, 10.0])


def test_within_city_helpers_on_empty_input() -> None:
    empty = np.zeros(0, dtype=np.int64)
    assert rank_within(empty).size == 0
    assert cumsum_within(empty, np.zeros(0)).size == 0


# --- funding: absorption pipeline ---------------------------------------------------------------


def _pipeline_state(m: GovernanceModel) -> None:
    """City 0 holds EUR 1 M committed (age 0, 9 months to disbursement), 2 M implemented,
    4 M certified; other cities none.

    The parameters the expectations use are pinned, so a change of defaults does not matter.
    """
    m.params = m.params.replace(
        admin_fte_years_per_meur=0.95,
        stage_delay_implement_months=9.0,
        stage_delay_certify_months=6.0,
        stage_delay_pay_months=3.0,
        decommitment_years=3.0,
    )
    c = m.cities
    c.committed_eur[:] = 0.0
    c.committed_delay_months[:] = 9.0  # time to disbursement of the committed stock
    c.implemented_eur[:] = 0.0
    c.certified_eur[:] = 0.0
    c.committed_eur[0, 0] = 1e6
    c.implemented_eur[0] = 2e6
    c.certified_eur[0] = 4e6


def _expected_cascade(dt_years: float, met: float) -> tuple[float, float, float, float]:
    """Committed 1e6, implemented 2e6, certified 4e6 after one step of exponential stages."""
    f_impl = (1 - np.exp(-dt_years * 12 / 9)) * met
    f_cert = (1 - np.exp(-dt_years * 12 / 6)) * met
    f_pay = (1 - np.exp(-dt_years * 12 / 3)) * met
    committed = 1e6 * (1 - f_impl)
    implemented = 2e6 + 1e6 * f_impl
    certified = 4e6 + implemented * f_cert
    implemented *= 1 - f_cert
    paid = certified * f_pay
    return committed, implemented, certified - paid, paid


def test_absorb_moves_money_at_configured_rates_quarterly(make_model) -> None:
    m = mid_year_quarterly(make_model)
    _pipeline_state(m)
    m.free_pm = np.full(m.cities.n, 1e9)  # staff unlimited
    paid0 = m.accounts["paid_eur"]
    absorbed0 = m.year_flows.absorbed_eur[0]
    use0 = m.staff_use_pm[0, GRANT_MANAGEMENT]
    funding.absorb_funds(m)
    c = m.cities
    # quarter: exponential stages with delays 9, 6 and 3 months, cascading within the step
    committed, implemented, certified, paid = _expected_cascade(0.25, 1.0)
    assert c.committed_eur[0, 0] == pytest.approx(committed, rel=1e-12)
    assert c.implemented_eur[0] == pytest.approx(implemented, rel=1e-12)
    assert c.certified_eur[0] == pytest.approx(certified, rel=1e-12)
    assert m.accounts["paid_eur"] - paid0 == pytest.approx(paid, rel=1e-12)
    assert m.year_flows.absorbed_eur[0] - absorbed0 == pytest.approx(paid, rel=1e-12)
    # grant management: 0.95 FTE-y/EUR M * 12/7 pm per year * EUR 7 M * 0.25 y = 2.85 pm
    assert m.staff_use_pm[0, GRANT_MANAGEMENT] - use0 == pytest.approx(2.85, rel=1e-12)
    # nothing appears in cities with an empty pipeline
    assert c.implemented_eur[1:].sum() == 0.0
    assert c.certified_eur[1:].sum() == 0.0


def test_absorb_yearly_cascades_through_stages(make_model) -> None:
    m = make_model()  # yearly: every step is a year start
    _pipeline_state(m)
    m.free_pm = np.full(m.cities.n, 1e9)
    paid0 = m.accounts["paid_eur"]
    funding.absorb_funds(m)
    c = m.cities
    committed, implemented, certified, paid = _expected_cascade(1.0, 1.0)
    assert c.committed_eur[0].sum() == pytest.approx(committed, rel=1e-12)
    assert c.implemented_eur[0] == pytest.approx(implemented, rel=1e-12)
    assert c.certified_eur[0] == pytest.approx(certified, rel=1e-12)
    assert m.accounts["paid_eur"] - paid0 == pytest.approx(paid, rel=1e-12)
    # most of last year's award is paid within the year, not three years later
    assert paid > 0.9 * 4e6


def test_absorb_with_zero_staff_moves_nothing(make_model) -> None:
    m = mid_year_quarterly(make_model)
    _pipeline_state(m)
    m.free_pm = np.zeros(m.cities.n)
    paid0 = m.accounts["paid_eur"]
    unmet0 = m.year_flows.unmet_pm[0]
    funding.absorb_funds(m)
    c = m.cities
    assert c.committed_eur[0, 0] == 1e6
    assert c.implemented_eur[0] == 2e6
    assert c.certified_eur[0] == 4e6
    assert m.accounts["paid_eur"] == paid0
    # the demand is recorded as unmet staff time
    assert m.year_flows.unmet_pm[0] - unmet0 == pytest.approx(2.85, rel=1e-12)


def test_absorb_with_half_the_staff_moves_half(make_model) -> None:
    m = mid_year_quarterly(make_model)
    _pipeline_state(m)
    m.free_pm = np.zeros(m.cities.n)
    m.free_pm[0] = 2.85 / 2.0
    paid0 = m.accounts["paid_eur"]
    funding.absorb_funds(m)
    committed, _, _, paid = _expected_cascade(0.25, 0.5)
    assert m.accounts["paid_eur"] - paid0 == pytest.approx(paid, rel=1e-12)
    assert m.cities.committed_eur[0, 0] == pytest.approx(committed, rel=1e-12)
    assert m.free_pm[0] == 0.0


def test_n_plus_3_decommits_oldest_cohort_at_year_start(make_model) -> None:
    m = make_model(parameters=Parameters().replace(decommitment_years=3.0))
    c = m.cities
    assert c.committed_eur.shape[1] == int(m.params.decommitment_years) + 1
    c.committed_eur[:] = 0.0
    c.committed_eur[0] = [1e6, 2e6, 3e6, 4e6]
    m.free_pm = np.zeros(c.n)  # nothing is claimed
    dec0 = m.accounts["decommitted_eur"]
    debt0 = m.city_debt_eur[0]
    funding.absorb_funds(m)
    np.testing.assert_array_equal(c.committed_eur[0], [0.0, 1e6, 2e6, 3e6])
    assert m.accounts["decommitted_eur"] - dec0 == 4e6
    assert m.year_flows.decommitted_eur[0] == 4e6
    # the city must cover the lost money
    assert m.city_debt_eur[0] - debt0 == 4e6


def test_award_cohort_is_lost_at_the_fourth_year_start(make_model) -> None:
    m = make_model(parameters=Parameters().replace(decommitment_years=3.0))
    c = m.cities
    c.committed_eur[:] = 0.0
    c.committed_eur[0, 0] = 5e6  # awarded in year N
    m.free_pm = np.zeros(c.n)
    dec0 = m.accounts["decommitted_eur"]
    for _ in range(3):  # starts of N+1, N+2, N+3: still claimable
        funding.absorb_funds(m)
        assert m.accounts["decommitted_eur"] == dec0
    funding.absorb_funds(m)  # start of N+4
    assert m.accounts["decommitted_eur"] - dec0 == 5e6
    assert c.committed_eur[0].sum() == 0.0


def test_no_decommitment_mid_year(make_model) -> None:
    m = mid_year_quarterly(make_model)
    c = m.cities
    c.committed_eur[:] = 0.0
    c.committed_eur[0, -1] = 1e6
    m.free_pm = np.zeros(c.n)
    dec0 = m.accounts["decommitted_eur"]
    funding.absorb_funds(m)
    assert m.accounts["decommitted_eur"] == dec0
    assert c.committed_eur[0, -1] == 1e6


# --- funding: applications ----------------------------------------------------------------------


def _applications(model: GovernanceModel, awareness: float | None = None) -> float:
    """Applications submitted in the first year's calls when every city has 3 prepared projects."""
    m = model
    n = m.cities.n
    city = np.repeat(np.arange(n), 3)
    m.projects.add(
        city=city,
        sector=np.zeros(city.size, dtype=np.int64),
        n_departments=np.ones(city.size, dtype=np.int64),
        cost_eur=np.full(city.size, 1e6),
        stage=np.full(city.size, P_PREPARED),
    )
    m.begin_step()  # opens the calls, sets budgets and staff time
    if awareness is not None:
        m.cities.awareness[:] = awareness
    funding.apply_and_award(m)
    return float(m.year_flows.applications.sum())


def test_applications_rise_with_awareness(make_model) -> None:
    low = _applications(make_model(), awareness=0.0)
    high = _applications(make_model(), awareness=1.0)
    assert high > low > 0


def test_applications_fall_with_burden(make_model) -> None:
    def with_burden(pm: float) -> float:
        m = make_model()
        m.params = m.params.replace(
            mission_call_burden_person_months=pm,
            cohesion_burden_person_months=pm,
            national_burden_person_months=pm,
        )
        return _applications(m)

    assert with_burden(0.5) > with_burden(6.0) > 0


# --- industry -----------------------------------------------------------------------------------


def _margin_slopes(m: GovernanceModel, tech: str, year: float) -> tuple[float, float]:
    """Change in the EU-market and export margins per EUR/t of carbon price (steel route)."""
    t = np.array([it.TECH_INDEX[tech]])
    lo = industry.market_margins(m, STEEL, t, 100.0, year)
    hi = industry.market_margins(m, STEEL, t, 200.0, year)
    eu_market, export = ((h - low).ravel()[0] / 100.0 for h, low in zip(hi, lo, strict=True))
    return float(eu_market), float(export)


def test_margins_carbon_price_sensitivity_with_cbam(make_model) -> None:
    m = make_model()
    p = m.params
    # CBAM on imports: the embedded emissions of the comparator (BF-BOF x ratio) less free
    # allocation, times the share CBAM really levies; exports get no relief
    cbam = p.cbam_effectiveness * p.cbam_import_intensity_ratio * 2.0
    eu_market, export = _margin_slopes(m, "BF-BOF", 2040.0)
    assert export == pytest.approx(-2.0, rel=1e-9)  # no free allocation left, no export relief
    assert eu_market == pytest.approx(cbam - 2.0, rel=1e-9)
    eu_market, export = _margin_slopes(m, "H2-DRI-EAF", 2040.0)
    assert export == pytest.approx(-0.1, rel=1e-9)
    assert eu_market == pytest.approx(cbam - 0.1, rel=1e-9)  # a clean plant gains from CBAM
    # in 2025 (before CBAM's definitive period) the steel benchmark (1.3 t/t) is free
    assert _margin_slopes(m, "BF-BOF", 2025.0) == pytest.approx((-0.7, -0.7), rel=1e-9)
    assert _margin_slopes(m, "H2-DRI-EAF", 2025.0) == (0.0, 0.0)
    # 2030: CBAM factor 51.5%; imports pay for embedded emissions above the free allocation
    fa = 1.3 * 0.515
    eu_market, export = _margin_slopes(m, "BF-BOF", 2030.0)
    assert export == pytest.approx(-(2.0 - fa), rel=1e-9)
    assert eu_market == pytest.approx(
        p.cbam_effectiveness * (p.cbam_import_intensity_ratio * 2.0 - fa) - (2.0 - fa), rel=1e-9
    )


def test_cbam_charge_outside_cbam_sectors_is_zero(make_model) -> None:
    m = make_model()
    chem = np.array([it.SECTOR_INDEX["chemicals"]])
    assert industry.cbam_charge(m, chem, 500.0, 2040.0).ravel()[0] == 0.0
    steel = industry.cbam_charge(m, STEEL, 500.0, np.array([2025.0, 2026.0, 2040.0]))
    assert steel[0, 0] == 0.0 and 0.0 < steel[1, 0] < steel[2, 0]


def test_free_allocation_path_cbam_sector() -> None:
    bench = it.BENCHMARK_T_PER_T["steel"]

    def fa(year: float) -> float:
        return float(np.asarray(industry.free_allocation(Parameters(), STEEL, year)).ravel()[0])

    assert fa(2025.0) == pytest.approx(bench, rel=1e-12)
    assert fa(2025.9) == pytest.approx(bench, rel=1e-12)
    # the legal CBAM factors of Directive 2003/87/EC Art. 10a(1a), one per calendar year
    legal = {2026: 0.975, 2027: 0.95, 2028: 0.9, 2029: 0.775, 2030: 0.515, 2033: 0.14}
    for year, factor in legal.items():
        assert fa(float(year)) == pytest.approx(bench * factor, rel=1e-12), year
        assert fa(year + 0.75) == pytest.approx(bench * factor, rel=1e-12), year
    assert fa(2034.0) == 0.0
    assert fa(2045.0) == 0.0
    path = [fa(y) for y in np.arange(2025.0, 2051.0, 0.25)]
    assert np.all(np.diff(path) <= 0.0)


def test_free_allocation_non_cbam_sector_declines_slowly() -> None:
    def fa(year: float) -> float:
        return float(np.asarray(industry.free_allocation(Parameters(), CHEMICALS, year)).ravel()[0])

    bench = it.BENCHMARK_T_PER_T["chemicals"]
    assert fa(2025.0) == pytest.approx(bench, rel=1e-12)
    assert fa(2035.0) == pytest.approx(bench * (1 - 0.022 * 10), rel=1e-12)
    assert fa(2034.0) > 0.0  # not phased out with CBAM


def test_eu_free_allocation_share_follows_the_path(make_model) -> None:
    m = make_model()
    for year in (2025.0, 2026.0, 2030.0, 2033.5, 2034.0, 2040.0):
        m.year = year
        m.eu.set_carbon_price(np.random.default_rng(0))
        cbam = (
            industry.free_allocation(Parameters(), STEEL, year).ravel()[0]
            / it.BENCHMARK_T_PER_T["steel"]
        )
        assert m.eu.free_allocation_share == pytest.approx(cbam, rel=1e-12, abs=1e-15), year


def test_installation_emissions_formula(make_model) -> None:
    m = make_model()
    inst = m.installations
    inst.capacity_mt[:2] = [3.0, 2.0]
    inst.utilisation[:2] = [0.5, 0.8]
    inst.tech[:2] = [it.TECH_INDEX["BF-BOF"], it.TECH_INDEX["clinker kiln"]]
    inst.open[:2] = [True, False]
    got = industry.installation_emissions(m)
    assert got[0] == pytest.approx(3.0 * 0.5 * 2.0 * 1e6, rel=1e-12)
    assert got[1] == 0.0  # closed plants emit nothing
    expected = inst.open * inst.capacity_mt * inst.utilisation * it.INTENSITY[inst.tech] * 1e6
    np.testing.assert_allclose(got, expected, rtol=1e-12)


# --- industry_tech tables -----------------------------------------------------------------------


def test_switch_matrix_diagonal_and_targets() -> None:
    assert np.all(np.diag(it.ALLOWED))
    for i, tech in enumerate(it.TECHNOLOGIES):
        assert tech.sector in it.SECTORS, tech.name
        assert it.TECH_SECTOR[i] == it.SECTOR_INDEX[tech.sector]
        for target in tech.targets:
            assert target in it.TECH_INDEX, f"{tech.name} -> unknown route {target!r}"
            j = it.TECH_INDEX[target]
            assert it.TECHNOLOGIES[j].sector == tech.sector, f"{tech.name} -> {target}"
            assert it.ALLOWED[i, j]
            # a switch never raises emissions
            assert it.INTENSITY[j] <= it.INTENSITY[i], f"{tech.name} -> {target}"
    # ALLOWED holds exactly the diagonal plus the declared targets
    declared = sum(len(t.targets) for t in it.TECHNOLOGIES)
    assert int(it.ALLOWED.sum()) == it.N_TECH + declared


def test_sector_tables_cover_every_sector() -> None:
    for table in (
        it.WORLD_PRICE_EUR_PER_T,
        it.BENCHMARK_T_PER_T,
        it.JOBS_PER_MT,
        it.DEFAULT_CAPACITY_MT,
    ):
        assert set(table) == set(it.SECTORS)
    assert it.CBAM_SECTORS.issubset(it.SECTORS)
    assert len(it.TECH_INDEX) == it.N_TECH  # route names are unique


@pytest.mark.parametrize("sector", it.SECTORS)
def test_technology_from_text_stays_in_sector(sector: str) -> None:
    for text in ("BF-BOF", "scrap EAF", "hot rolling", "unknown plant"):
        name = it.technology_from_text(sector, text)
        assert it.TECHNOLOGIES[it.TECH_INDEX[name]].sector == sector


# --- SMEs ---------------------------------------------------------------------------------------


def test_waiting_sme_paid_after_delay_and_debt_repaid(make_model) -> None:
    m = mid_year_quarterly(make_model)
    m.params = m.params.replace(
        sme_interest_rate=0.07, sme_disbursement_delay_months=9.0, sme_default_debt_to_revenue=0.5
    )
    assert m.params.sme_margin_share == 0.06
    s = m.smes
    k = 0
    s.revenue_eur[k] = 1e6
    s.cash_eur[k] = 0.0
    s.debt_eur[k] = 1e5
    s.status[k] = SME_WAITING
    s.wait_months[k] = 0.0
    s.grant_due_eur[k] = 2e5
    paid_before = s.grants_paid_eur[k]
    emissions_before = s.emissions_t[k]
    account0 = m.eu.sme_paid_eur
    # profit 0.06*1e6*0.25 = 15,000 per quarter; interest 7%/yr on debt; delay 9 months
    smes.sme_finance(m)  # month 3: 15,000 - 1,750 repays debt
    assert s.status[k] == SME_WAITING
    assert s.debt_eur[k] == pytest.approx(86_750.0, rel=1e-12)
    assert s.cash_eur[k] == 0.0
    smes.sme_finance(m)  # month 6: 15,000 - 1,518.125
    assert s.status[k] == SME_WAITING
    assert s.debt_eur[k] == pytest.approx(73_268.125, rel=1e-12)
    smes.sme_finance(m)  # month 9: paid; 15,000 - 1,282.1921875 + 200,000 - 73,268.125
    assert s.status[k] == SME_GREEN
    assert s.grant_due_eur[k] == 0.0
    assert s.grants_paid_eur[k] - paid_before == 2e5
    assert s.debt_eur[k] == 0.0
    assert s.cash_eur[k] == pytest.approx(140_449.6828125, rel=1e-12)
    assert s.emissions_t[k] == pytest.approx(emissions_before * m.params.sme_green_emissions_factor)
    assert m.eu.sme_paid_eur - account0 >= 2e5


def test_sme_defaults_when_debt_exceeds_limit(make_model) -> None:
    m = mid_year_quarterly(make_model)
    m.params = m.params.replace(sme_interest_rate=0.07, sme_default_debt_to_revenue=0.5)
    assert m.params.sme_margin_share == 0.06
    s = m.smes
    s.revenue_eur[:2] = 1e6
    s.cash_eur[:2] = 0.0
    s.status[:2] = SME_IDLE
    s.debt_eur[:2] = [0.6e6, 0.4e6]
    smes.sme_finance(m)
    # 0.6e6 - (15,000 - 10,500) = 595,500 > 500,000; 0.4e6 - (15,000 - 7,000) = 392,000
    assert s.status[0] == SME_DEFAULTED
    assert s.debt_eur[0] == pytest.approx(595_500.0, rel=1e-12)
    assert s.status[1] == SME_IDLE
    assert s.debt_eur[1] == pytest.approx(392_000.0, rel=1e-12)
    # a defaulted firm no longer trades, and emits nothing
    smes.sme_finance(m)
    assert s.debt_eur[0] == pytest.approx(595_500.0, rel=1e-12)
    by_city = smes.sme_emissions_by_city(m)
    live = s.status != SME_DEFAULTED
    expected = np.bincount(s.city, weights=s.emissions_t * live, minlength=m.cities.n)
    np.testing.assert_allclose(by_city, expected)


# --- citizens -----------------------------------------------------------------------------------


def test_aggregate_mean_and_variance_per_city(make_model) -> None:
    m = make_model()
    z = m.citizens
    z.support[:] = np.random.default_rng(3).random(z.n).astype(np.float32)
    citizens.aggregate(m)
    for c in range(m.cities.n):
        block = z.support[z.city_start[c] : z.city_start[c] + z.city_count[c]].astype(np.float64)
        assert np.all(z.city[z.city_start[c] : z.city_start[c] + z.city_count[c]] == c)
        assert m.support[c] == pytest.approx(block.mean(), abs=1e-12)
        assert m.polarisation[c] == pytest.approx(block.var(), abs=1e-12)


def test_aggregate_consensus_has_zero_variance(make_model) -> None:
    m = make_model()
    m.citizens.support[:] = np.float32(0.7)
    citizens.aggregate(m)
    np.testing.assert_allclose(m.support, 0.7, rtol=1e-6)
    np.testing.assert_allclose(m.polarisation, 0.0, atol=1e-12)


def _trust_gain_by_mode(m: GovernanceModel, free_pm: float) -> dict[int, np.ndarray]:
    c = m.cities
    z = m.citizens
    c.engagement_mode[:] = np.arange(c.n) % 3
    m.free_pm = np.full(c.n, free_pm)
    before = z.trust.copy()
    citizens.engage_citizens(m)
    gain = (z.trust - before).astype(np.float64)
    mode = c.engagement_mode[z.city]
    return {k: gain[mode == k] for k in range(3)}


def test_engagement_raises_trust_only_in_consult_and_empower(make_model) -> None:
    m = make_model()  # yearly: engagement happens at every (year-start) step
    g = m.params.empower_trust_gain
    gain = _trust_gain_by_mode(m, free_pm=1e9)
    assert np.all(gain[0] == 0.0)  # inform
    for mode, per_participant in ((1, 0.5 * g), (2, g)):
        assert np.all(gain[mode] >= 0.0)
        assert np.any(gain[mode] > 0.0)
        nonzero = gain[mode][gain[mode] > 0]
        # a participant gains gain*mode/2 (less only if trust hits 1)
        assert np.all(nonzero <= per_participant * (1 + 1e-5))
        assert np.median(nonzero) == pytest.approx(per_participant, rel=1e-5)


def test_engagement_without_staff_raises_no_trust(make_model) -> None:
    m = make_model()
    gain = _trust_gain_by_mode(m, free_pm=0.0)
    assert all(np.all(v == 0.0) for v in gain.values())


# --- politics -----------------------------------------------------------------------------------


def test_commitment_moves_towards_support(make_model) -> None:
    m = mid_year_quarterly(make_model)  # no elections mid-year
    c = m.cities
    rng = np.random.default_rng(5)
    m.support = rng.random(c.n)
    c.commitment = rng.random(c.n)
    old = c.commitment.copy()
    politics.update_commitment(m)
    rate = m.params.commitment_adjust_per_year * m.dt
    np.testing.assert_allclose(c.commitment, old + rate * (m.support - old), rtol=1e-12)
    assert np.all(np.abs(c.commitment - m.support) < np.abs(old - m.support))
    assert np.all(np.sign(c.commitment - old) == np.sign(m.support - old))


# --- procurement --------------------------------------------------------------------------------


def test_gpp_share_rises_with_green_procurement_lever(make_model) -> None:
    off = make_model()
    on = make_model()
    on.levers = LeverState(green_procurement=1.0)
    procurement.adopt_green_procurement(off)
    procurement.adopt_green_procurement(on)
    assert np.all(on.cities.gpp_share > off.cities.gpp_share)
    assert on.green_demand_share > off.green_demand_share
    expected = np.average(on.cities.gpp_share, weights=on.cities.population)
    assert on.green_demand_share == pytest.approx(expected, rel=1e-12)


# --- capacity -----------------------------------------------------------------------------------


def test_staff_capacity_formula(make_model) -> None:
    for spy, expected in ((1, 42.24), (4, 10.56)):
        m = make_model(steps_per_year=spy)
        m.params = m.params.replace(climate_time_share=0.5)
        c = m.cities
        c.staff_fte[0] = 10.0
        c.skill[0] = 0.6
        c.silo[0] = 0.5
        c.coordination[0] = 0.2
        # 10 FTE * 0.5 climate share * 12 months * dt * (0.5+0.3) * (1 - 0.3*0.5*0.8)
        assert capacity.staff_capacity_pm(m)[0] == pytest.approx(expected, rel=1e-12)


# --- rng ----------------------------------------------------------------------------------------


def test_stream_same_name_and_seed_same_draws() -> None:
    np.testing.assert_array_equal(stream(7, "x").random(5), stream(7, "x").random(5))


def test_stream_different_names_or_seeds_differ() -> None:
    a = stream(7, "funding").random(5)
    assert not np.array_equal(a, stream(7, "ideas").random(5))
    assert not np.array_equal(a, stream(8, "funding").random(5))


def test_stream_seed_zero_is_a_real_seed() -> None:
    # seed 0 must not fall back to fresh OS entropy (the ``if seed:`` anti-pattern)
    np.testing.assert_array_equal(stream(0, "x").random(5), stream(0, "x").random(5))
    assert not np.array_equal(stream(0, "x").random(5), stream(1, "x").random(5))


def test_stream_negative_seed_rejected() -> None:
    with pytest.raises(ValueError, match="seed"):
        stream(-1, "x")


def test_streams_cache_one_generator_per_name() -> None:
    s = Streams(3)
    assert s["a"] is s["a"]
    first = s["b"].random(3)
    np.testing.assert_array_equal(first, stream(3, "b").random(3))


# --- parameters and levers ----------------------------------------------------------------------


def test_replace_rejects_unknown_name() -> None:
    with pytest.raises(KeyError, match="no_such_parameter"):
        Parameters().replace(no_such_parameter=1.0)


def test_replace_rejects_out_of_range_value() -> None:
    meta = PARAMETER_META["discount_rate"]
    with pytest.raises(ValueError, match="discount_rate"):
        Parameters().replace(discount_rate=meta["high"] * 2)
    with pytest.raises(ValueError, match="discount_rate"):
        Parameters().replace(discount_rate=meta["low"] - 0.01)


def test_replace_returns_changed_copy() -> None:
    base = Parameters()
    changed = base.replace(discount_rate=0.05)
    assert changed.discount_rate == 0.05
    assert base.discount_rate == 0.07
    assert dataclasses.replace(changed, discount_rate=0.07) == base


def test_registry_defaults_in_range_with_unit_and_source() -> None:
    rows = registry()
    assert len(rows) == len(dataclasses.fields(Parameters))
    assert len({r["name"] for r in rows}) == len(rows)
    for row in rows:
        assert row["low"] <= row["value"] <= row["high"], row["name"]
        assert row["low"] < row["high"], row["name"]
        assert isinstance(row["unit"], str) and row["unit"].strip(), row["name"]
        assert isinstance(row["source"], str) and row["source"].strip(), row["name"]
        assert isinstance(row["doc"], str) and row["doc"].strip(), row["name"]


def test_lever_setting_validation() -> None:
    with pytest.raises(ValueError, match="unknown lever"):
        LeverSetting("no_such_lever")
    with pytest.raises(ValueError, match="intensity"):
        LeverSetting(LEVER_NAMES[0], intensity=1.5)
    with pytest.raises(ValueError, match="intensity"):
        LeverSetting(LEVER_NAMES[0], intensity=-0.1)
    with pytest.raises(ValueError, match="start_year"):
        LeverSetting(LEVER_NAMES[0], intensity=0.5, start_year=2051)
    with pytest.raises(ValueError, match="start_year"):
        LeverSetting(LEVER_NAMES[0], intensity=0.5, start_year=2024)


def test_lever_active_from_start_year() -> None:
    lever = LeverSetting("simplification", intensity=0.6, start_year=2030)
    assert lever.active(2029.75) == 0.0
    assert lever.active(2030.0) == 0.6
    state = LeverState.at((lever,), 2031.0)
    assert state.simplification == 0.6
    assert state.enhanced_financing == 0.0


def test_blend_delay_weights_by_money() -> None:
    """Committed money waits the instruments' time to disbursement, weighted by amount."""
    out = funding.blend_delay(
        np.array([9.0, 9.0, 12.0]), np.array([1e6, 0.0, 5e6]), np.array([3e6, 2e6, 0.0]), 18.0
    )
    np.testing.assert_allclose(out, [(9.0 + 3 * 18.0) / 4.0, 18.0, 12.0])
