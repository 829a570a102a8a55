"""Typed, frozen model configuration: one parameter registry (value, unit, range, source).

Every behavioural parameter of the model is a field of :class:`Parameters`. Its metadata carry
the unit, the plausible range (the prior for calibration and sensitivity analysis) and the
source, tagged as in ``docs/ODD.md``: ``[src]`` sourced, ``[der]`` derived from a sourced
number, ``[assume]`` our assumption. :func:`registry` turns the fields into one table, so the
documentation, the scenario validator and the sensitivity analysis read the same numbers.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from abm.agents.state import SECTORS_CITY
from abm.policies import FIRST_LEVER_YEAR, LAST_LEVER_YEAR, LEVER_NAMES, LeverSetting
from abm.validation import ConfigError, Range, check_choice

DATA_DIR = Path(__file__).resolve().parent / "data"
MIN_YEAR = 2000
MAX_YEAR = 2100
ALLOWED_STEPS_PER_YEAR: tuple[int, ...] = (1, 4)


def _p(value: float, unit: str, low: float, high: float, source: str, doc: str) -> Any:
    """A registry entry: default value with unit, plausible range, source and meaning."""
    if not low <= value <= high:
        raise ValueError(f"default {value} outside its range [{low}, {high}] ({doc})")
    return field(
        default=value,
        metadata={"unit": unit, "low": low, "high": high, "source": source, "doc": doc},
    )


@dataclass(frozen=True, slots=True)
class Parameters:
    """All behavioural parameters; names carry units.

    Defaults are literature values or assumptions; calibrated ones are posterior medians.
    """

    # --- Funding (domain §3.1) -----------------------------------------------------------------
    apply_intercept: float = _p(
        -1.0, "logit", -3.0, 0.0, "Hansum 2025 [assume]", "b0: baseline log-odds of applying"
    )
    apply_awareness_weight: float = _p(
        1.5, "logit per unit awareness", 0.5, 3.0, "Hansum 2025 [assume]", "b1: awareness effect"
    )
    apply_need_weight: float = _p(
        1.5, "logit per unit need*fit", 0.5, 3.0, "Hansum 2025 [assume]", "b2: need x fit effect"
    )
    apply_burden_weight: float = _p(
        1.5,
        "logit per burden/free capacity",
        0.5,
        3.0,
        "Hansum 2025 [assume]",
        "b3: burden relative to free staff capacity",
    )
    mission_call_budget_eur_per_capita_per_year: float = _p(
        1.5,
        "EUR/resident/yr",
        0.5,
        4.0,
        "Horizon Europe Cities Mission calls (~EUR 360 M 2022-23) [der]",
        "EU mission/Horizon-type call budget, per modelled resident",
    )
    mission_call_burden_person_months: float = _p(
        4.0, "person-months", 0.5, 6.0, "domain §3.1 [assume]", "staff time to write a mission bid"
    )
    mission_call_delay_months: float = _p(
        12.0, "months", 3.0, 24.0, "domain §3.1 [assume]", "award to first disbursement"
    )
    mission_call_success_rate: float = _p(
        0.25, "share", 0.1, 0.5, "Horizon Europe success rates [assume]", "competitiveness"
    )
    cohesion_budget_eur_per_capita_per_year: float = _p(
        20.0,
        "EUR/resident/yr",
        8.0,
        50.0,
        "ERDF/CF low-carbon urban share [der]",
        "cohesion-fund envelope for city climate projects, per modelled resident",
    )
    cohesion_burden_person_months: float = _p(
        3.0, "person-months", 0.5, 6.0, "domain §3.1 [assume]", "staff time for a cohesion bid"
    )
    cohesion_delay_months: float = _p(
        18.0, "months", 6.0, 36.0, "Cunico et al. 2023 [assume]", "award to first disbursement"
    )
    cohesion_cofinance_share: float = _p(
        0.3, "share of project cost", 0.15, 0.5, "ESIF co-financing rates [src]", "city share"
    )
    national_programme_eur_per_capita_per_year: float = _p(
        8.0,
        "EUR/resident/yr",
        2.0,
        20.0,
        "domain §2 [assume]",
        "national climate programme for cities at average fiscal room",
    )
    national_burden_person_months: float = _p(
        2.0, "person-months", 0.5, 6.0, "domain §3.1 [assume]", "staff time for a national bid"
    )
    industry_fund_budget_eur_per_capita_per_year: float = _p(
        9.0,
        "EUR/resident/yr",
        3.0,
        20.0,
        "Innovation Fund ~EUR 4 bn/yr over 450 M residents [der]",
        "EU industry decarbonisation fund (capex grants), per modelled resident",
    )
    industry_fund_max_capex_share: float = _p(
        0.3, "share of capex", 0.1, 0.6, "Innovation Fund rules [assume]", "grant cap per project"
    )
    award_staff_log2_weight: float = _p(
        1.45,
        "logit per doubling of staff per capita",
        0.7,
        2.0,
        "Urban Institute 2023: +31 pp for doubled staff [der]",
        "beta: award chance vs staff",
    )
    award_alignment_weight: float = _p(
        1.0, "logit per unit alignment", 0.0, 3.0, "Zia & Koliba 2015 [assume]", "priority fit"
    )
    admin_fte_years_per_meur: float = _p(
        0.95,
        "FTE-years per EUR 1 M",
        0.5,
        1.5,
        "DG REGIO 2018 [src]",
        "staff to manage, certify and claim EUR 1 M of grants",
    )
    stage_delay_implement_months: float = _p(
        9.0,
        "months",
        1.0,
        12.0,
        "Cunico et al. 2023 [assume]",
        "national programmes: award -> first disbursement (EU calls have their own delays)",
    )
    stage_delay_certify_months: float = _p(
        6.0, "months", 1.0, 12.0, "Cunico et al. 2023 [assume]", "implemented -> certified"
    )
    stage_delay_pay_months: float = _p(
        3.0, "months", 1.0, 12.0, "Cunico et al. 2023 [assume]", "certified -> paid"
    )
    decommitment_years: float = _p(
        3.0, "years", 2.0, 3.0, "N+3 rule [src]", "unclaimed commitments lost after"
    )
    om_share_per_year: float = _p(
        0.03, "share of capex per year", 0.02, 0.05, "domain §3.1 [assume]", "O&M cost o"
    )
    om_abandon_probability: float = _p(
        0.2, "probability per year", 0.0, 0.5, "domain §3.1 [assume]", "p_ab if O&M unpaid"
    )
    abatement_capex_eur_per_tco2_per_year: float = _p(
        1500.0,
        "EUR per tCO2/yr abated",
        800.0,
        3000.0,
        "BwB/NetZeroCities 2025: EUR 307 bn for 100 Mission Cities, EUR 5,486 per resident "
        "(EUR 7,341 in the 28 verified investment plans), for ~4-5 t/resident [der]",
        "capital needed to abate one tonne per year (so a city's investment need follows its "
        "own-sector emissions: ~EUR 7,000 per resident at 4.7 t)",
    )
    # --- Investment needs per resident (issue 10.1) ---------------------------------------------
    investment_portfolio_years: float = _p(
        10.0,
        "years",
        5.0,
        20.0,
        "CCC action and investment plans run to 2030, about 7 years (NetZeroCities) [assume]",
        "years over which a city's project ideas would cover its whole investment need "
        "(own-sector emissions x abatement_capex) at full commitment and a full gap",
    )
    project_count_scale_exponent: float = _p(
        0.7,
        "-",
        0.5,
        1.0,
        "[assume]: larger cities bundle measures into larger projects (a tram line against a "
        "school retrofit); no direct estimate found, so a wide range for the SA",
        "project ideas ~ population^exponent at the same need per resident, so a project's "
        "cost grows as population^(1 - exponent)",
    )
    project_ideas_per_100k_residents_per_year: float = _p(
        3.18,
        "projects/yr at 100k residents",
        0.5,
        4.0,
        "calibrated: posterior median of calibration-20261204T1442Z-2e080d (prior: [assume])",
        "rate of new project ideas",
    )
    project_prep_person_months_per_meur: float = _p(
        1.8,
        "person-months per EUR 1 M",
        0.3,
        3.0,
        "calibrated: posterior median of calibration-20261204T1442Z-2e080d (prior: EIB 2017 ELENA "
        "[assume])",
        "preparation",
    )
    own_funding_share_of_budget: float = _p(
        0.5,
        "share",
        0.1,
        0.9,
        "[assume]",
        "share of the climate budget the city may spend on project capex",
    )
    climate_budget_growth_per_year: float = _p(
        0.03,
        "share per year",
        0.0,
        0.08,
        "[assume] nominal growth of municipal climate budgets",
        "yearly growth of each city's climate budget",
    )
    max_wait_years_unfunded: float = _p(
        4.0, "years", 2.0, 8.0, "[assume]", "prepared projects without funds are dropped after"
    )
    award_skill_weight: float = _p(
        1.5,
        "score per unit skill",
        0.0,
        3.0,
        "[assume]",
        "project-delivery skill in the award score",
    )
    award_finance_skill_weight: float = _p(
        1.0,
        "score per unit skill",
        0.0,
        3.0,
        "[assume]",
        "climate-finance skill in the award score",
    )
    award_label_bonus: float = _p(
        0.5,
        "score",
        0.0,
        1.5,
        "[assume]",
        "Mission Label bonus in the award score (privileged finance)",
    )
    award_mission_bonus: float = _p(
        1.0,
        "score",
        0.0,
        2.0,
        "domain §2 [assume]",
        "Mission City bonus in mission calls (Mission Cities first)",
    )
    award_commitment_gain: float = _p(
        0.02,
        "openness per award",
        0.0,
        0.05,
        "domain §3.1 [assume]",
        "a won grant rallies the council",
    )
    national_cofinance_share_no_fiscal_room: float = _p(
        0.5,
        "share of project cost",
        0.2,
        0.8,
        "[assume]",
        "co-finance national programmes require at zero fiscal room (x (1 - fiscal room))",
    )
    national_cofinance_help_share: float = _p(
        0.5,
        "share of co-finance per unit fiscal room",
        0.0,
        1.0,
        "[assume]",
        "part of the city's co-finance share the nation covers",
    )
    borrowing_room_full_finance_skill: float = _p(
        1.5,
        "extra capex per EUR of budget",
        0.5,
        3.0,
        "domain §3.2 [assume]",
        "loans, green bonds, EIB frameworks at full finance skill where national rules allow",
    )
    label_borrowing_room: float = _p(
        0.2,
        "extra capex per EUR of budget",
        0.0,
        0.5,
        "[assume]",
        "privileged finance the Mission Label opens for own-budget projects",
    )
    max_waiting_idea_years: float = _p(
        3.5,
        "years of new ideas",
        1.0,
        8.0,
        "[assume] (was a cap of 12 ideas per city, 3.5 years at the reference idea rate)",
        "cap on ideas waiting for preparation in one city, in years of its idea rate",
    )
    council_threshold: float = _p(
        0.45,
        "openness [0, 1]",
        0.3,
        0.6,
        "fcruztorres ABM_Energy_Transition (form) [assume]",
        "openness a project needs in the council vote",
    )
    council_opinion_variety: float = _p(
        0.2,
        "openness sd",
        0.05,
        0.4,
        "fcruztorres ABM_Energy_Transition (form) [assume]",
        "political variety among councillors",
    )
    council_size: float = _p(
        5.0,
        "councillors",
        3.0,
        15.0,
        "[assume]",
        "N: councillors' draws averaged in the council vote",
    )
    circular_without_rni: float = _p(
        0.5,
        "share of abatement",
        0.2,
        1.0,
        "[assume]",
        "effectiveness of circular (waste) projects without R&I secondary markets",
    )
    apply_free_capacity_offset_person_months: float = _p(
        0.5,
        "person-months",
        0.1,
        2.0,
        "[assume]",
        "added to a city's free staff time of the year in the burden ratio of P(apply), so "
        "cities with no free time get a large but finite burden",
    )
    ideas_commitment_offset: float = _p(
        0.5,
        "x idea rate",
        0.0,
        1.0,
        "[assume]",
        "idea rate factor at zero council openness (the rate scales with offset + openness)",
    )
    initial_pipeline_years: float = _p(
        1.0,
        "years of ideas",
        0.0,
        3.0,
        "[assume]",
        "projects cities hold prepared at the start, in years of new ideas",
    )
    project_cost_log_sd: float = _p(
        0.6,
        "log sd",
        0.2,
        1.0,
        "[assume]",
        "spread of a project's cost around the city's mean project cost",
    )
    project_cost_min_eur: float = _p(
        2e5, "EUR", 5e4, 1e6, "[assume]", "smallest project an idea can become"
    )
    project_cost_max_eur: float = _p(
        5e8, "EUR", 1e8, 2e9, "[assume]", "largest project an idea can become"
    )
    extra_departments_max: float = _p(
        3.0,
        "departments",
        1.0,
        5.0,
        "[assume]",
        "most departments beyond the lead one a project can need (binomial n, rounded)",
    )
    extra_department_probability: float = _p(
        0.35,
        "probability",
        0.1,
        0.6,
        "[assume]",
        "chance that a project needs each further department (binomial p)",
    )
    acceptance_at_zero_support: float = _p(
        0.6,
        "probability",
        0.3,
        1.0,
        "domain §3.7 [assume]",
        "residents accept a buildings or transport project at zero support; rises linearly "
        "to 1 at full support",
    )
    management_share_of_preparation: float = _p(
        0.3,
        "x preparation intensity per year",
        0.1,
        0.6,
        "[assume]",
        "delivery management per year of a funded project, as a share of "
        "project_prep_person_months_per_meur",
    )
    stall_hazard_per_year: float = _p(
        0.05,
        "probability per year per extra department",
        0.0,
        0.15,
        "[assume]",
        "a cross-silo project stalls for good, at s (1 - c) = 1 (scaled by s (1 - c))",
    )
    # --- Private and leveraged finance (issue 10.4) ---------------------------------------------
    revenue_ratio_buildings: float = _p(
        0.6,
        "PV revenues / capex",
        0.3,
        1.0,
        "[assume]: deep retrofits recover part of their cost in energy savings (EPC/ESCO "
        "contracts cover the bankable share)",
        "median ratio of a buildings project's discounted savings to its cost",
    )
    revenue_ratio_transport: float = _p(
        0.3,
        "PV revenues / capex",
        0.1,
        0.6,
        "[assume]: fares and fuel savings cover a small share of transit and cycling capex",
        "median ratio of a transport project's discounted revenues to its cost",
    )
    revenue_ratio_energy: float = _p(
        1.2,
        "PV revenues / capex",
        0.8,
        1.6,
        "[assume]: renewables and district heating with PPAs or heat tariffs pay back",
        "median ratio of an energy project's discounted revenues to its cost",
    )
    revenue_ratio_waste: float = _p(
        0.5,
        "PV revenues / capex",
        0.2,
        0.9,
        "[assume]: gate fees and recovered materials",
        "median ratio of a waste project's discounted revenues to its cost",
    )
    revenue_ratio_log_sd: float = _p(
        0.4, "log sd", 0.1, 0.8, "[assume]", "spread of projects' revenue ratios"
    )
    private_hurdle_ratio: float = _p(
        1.2,
        "PV revenues / private capital",
        1.0,
        1.6,
        "[assume]: lenders and ESCOs need revenues with a margin over the capital they put in",
        "private capital lent against a project: its discounted revenues / this ratio",
    )
    utility_hurdle_ratio: float = _p(
        1.0,
        "PV revenues / capital",
        0.8,
        1.3,
        "[assume]: a municipal utility invests at its cost of capital",
        "hurdle at which a city's own utility finances energy projects",
    )
    private_deal_probability_per_year: float = _p(
        0.5,
        "probability per year",
        0.1,
        1.0,
        "[assume]",
        "chance a year that a bankable prepared project closes its private finance, at full "
        "finance skill where national rules allow the instruments",
    )
    private_market_without_instruments: float = _p(
        0.3,
        "x deal odds",
        0.0,
        1.0,
        "[assume]: ESCO/PPP frameworks are thin where cities cannot borrow or contract them",
        "deal odds where national rules do not enable city finance instruments",
    )
    private_deal_person_months: float = _p(
        3.0,
        "person-months",
        1.0,
        8.0,
        "[assume]: structuring an EPC, PPP or loan",
        "staff time a private-finance deal takes",
    )
    label_private_deal_gain: float = _p(
        0.3,
        "x deal odds",
        0.0,
        1.0,
        "NetZeroCities 2023: the Label is to give public and private funders confidence "
        "[assume: size]",
        "extra deal odds with the Mission Label",
    )
    energy_community_share: float = _p(
        0.15,
        "share of capex",
        0.0,
        0.4,
        "[assume]: citizens' energy communities co-invest in local renewables",
        "share of an energy project's cost residents invest at full support",
    )
    municipal_utility_share_north_west: float = _p(
        0.5,
        "share of cities",
        0.1,
        0.9,
        "[assume]: Stadtwerke and municipal district heating are common in DE, AT and the Nordics",
        "share of Northern and Western cities that own a local utility",
    )
    municipal_utility_share_south_east: float = _p(
        0.2,
        "share of cities",
        0.0,
        0.6,
        "[assume]",
        "share of Southern and Central-Eastern cities that own a local utility",
    )
    lever_financing_guarantee_hurdle_cut: float = _p(
        0.2,
        "share",
        0.0,
        0.4,
        "InvestEU-type guarantees lower lenders' required margin [assume: size]",
        "cut of the private hurdle ratio at enhanced_financing = 1",
    )
    # --- Capacity (§3.2) -----------------------------------------------------------------------
    staff_fte_per_10k_residents: float = _p(
        1.45,
        "FTE per 10k residents",
        0.4,
        3.0,
        "calibrated: posterior median of calibration-20261204T1442Z-2e080d (prior: NMC survey: 81% "
        "lack staff [assume])",
        "climate-relevant staff at 100k residents",
    )
    staff_scale_exponent: float = _p(
        1.15,
        "-",
        1.0,
        1.35,
        "Bettencourt et al. 2007 (PNAS 104:7301): specialised employment scales super-linearly "
        "(supercreative 1.15, R&D 1.34; total employment ~1.0); EIB Municipalities Survey "
        "2020/2022: capacity and skills gaps are widest in small municipalities [der]",
        "climate staff ~ population^exponent: towns have fewer climate staff per resident",
    )
    climate_time_share: float = _p(
        0.5, "share of FTE", 0.2, 0.8, "domain §3.2 part-time climate staff [assume]", "share"
    )
    skill_initial_mean: float = _p(
        0.535,
        "skill [0, 1]",
        0.2,
        0.6,
        "calibrated: posterior median of calibration-20261204T1442Z-2e080d (prior: D13.1 / NMC "
        "survey: skills gaps [assume])",
        "mean of the initial project-delivery skill (Beta, concentration 5)",
    )
    finance_skill_initial_mean: float = _p(
        0.284,
        "skill [0, 1]",
        0.1,
        0.5,
        "calibrated: posterior median of calibration-20261204T1442Z-2e080d (prior: NMC survey: "
        "climate finance the weakest skill [assume])",
        "mean of the initial climate-finance skill (Beta, concentration 5.5)",
    )
    skill_learning_per_project: float = _p(
        0.05, "skill per completed project", 0.02, 0.1, "domain §3.2 [assume]", "eta"
    )
    skill_turnover_per_year: float = _p(
        0.1, "share per year", 0.05, 0.15, "domain §3.2 [assume]", "delta"
    )
    training_skill_per_year: float = _p(
        0.02, "skill per year", 0.0, 0.1, "domain §3.2 [assume]", "lambda_train baseline"
    )
    twinning_transfer_per_year: float = _p(
        0.2,
        "share of skill gap per year",
        0.05,
        0.8,
        "domain §3.9 (0.05-0.2/quarter) [assume]",
        "kappa_tw",
    )
    learning_projects_divisor: float = _p(
        20.0, "projects", 10.0, 40.0, "fcruztorres ABM_Energy_Transition [src]", "learning"
    )
    hiring_response_per_year: float = _p(
        0.05, "share per year", 0.0, 0.2, "[assume]", "staff added when the backlog is high"
    )
    platform_training_skill_per_year: float = _p(
        0.03,
        "skill per year",
        0.0,
        0.08,
        "[assume]",
        "Mission Platform advisors and capability building for Mission and labelled cities",
    )
    twinning_baseline_share: float = _p(
        0.5,
        "share",
        0.0,
        1.0,
        "[assume]",
        "share of the twinning effect available without the capacity lever",
    )
    silo_capacity_loss: float = _p(
        0.3,
        "share of staff time",
        0.0,
        0.5,
        "domain §3.2 [assume]",
        "staff time lost to silos at s = 1 and c = 0",
    )
    skill_capacity_floor: float = _p(
        0.5,
        "share of full productivity",
        0.2,
        0.8,
        "[assume]",
        "staff productivity at skill 0; rises linearly to 1 at skill 1",
    )
    finance_training_share: float = _p(
        0.5,
        "share of training",
        0.0,
        1.0,
        "[assume]",
        "part of the skill training (baseline and capacity lever) that builds climate-finance "
        "skill",
    )
    procurement_training_share: float = _p(
        0.5,
        "share of training",
        0.0,
        1.0,
        "[assume]",
        "part of the capacity lever's training that builds procurement skill",
    )
    procurement_turnover_share: float = _p(
        0.5,
        "share of turnover",
        0.2,
        1.0,
        "[assume]",
        "procurement skill is lost at this share of skill_turnover_per_year",
    )
    awareness_gain_per_year: float = _p(
        0.05,
        "share of gap per year",
        0.0,
        0.15,
        "[assume]",
        "baseline growth of a city's awareness of funding calls (share of the gap to 1)",
    )
    awareness_gain_mission_per_year: float = _p(
        0.15,
        "share of gap per year",
        0.0,
        0.3,
        "[assume]",
        "extra awareness growth of Mission and labelled cities (Mission Platform)",
    )
    awareness_decay_per_year: float = _p(
        0.03, "share per year", 0.0, 0.1, "[assume]", "awareness lost to staff turnover"
    )
    # --- Size effects (issue 10.2) --------------------------------------------------------------
    staff_fte_floor: float = _p(
        0.2,
        "FTE",
        0.05,
        0.5,
        "[assume]: a town's climate work is at least a day a week of one officer",
        "least climate staff a city has",
    )
    skill_log10_size_slope: float = _p(
        0.05,
        "skill per tenfold population",
        0.0,
        0.15,
        "EIB Municipalities Survey 2022: skills shortages most reported by small "
        "municipalities [assume: size of the slope]",
        "initial delivery and finance skill rise with log10(population / 100k)",
    )
    target_log10_size_slope: float = _p(
        0.8,
        "logit per tenfold population",
        0.0,
        2.0,
        "Reckien et al. 2018 (J. Cleaner Prod. 191:207, 885 EU cities): larger cities are "
        "more likely to have a mitigation plan [assume: size of the slope]",
        "ordered-logit shift of a non-mission city's target status with its size (the survey's "
        "marginal shares are kept)",
    )
    climate_budget_log10_size_logit: float = _p(
        0.6,
        "logit per tenfold population",
        0.0,
        1.5,
        "Reckien et al. 2018; EIB Municipalities Survey 2020 [assume: size of the slope]",
        "log-odds of a dedicated climate budget rise with city size (marginal share kept)",
    )
    climate_budget_target_logit: float = _p(
        1.0,
        "logit",
        0.0,
        2.0,
        "[assume]: a city with an adopted target budgets for it more often",
        "log-odds of a dedicated climate budget with an existing target vs none or planned",
    )
    structure_log10_size_tilt: float = _p(
        0.5,
        "log-odds per tenfold population",
        0.0,
        1.5,
        "[assume]: cross-sectoral climate bodies need staff that small administrations lack",
        "larger cities tilt towards a cross-sectoral body and away from fragmented structures "
        "(the survey's marginal shares are kept)",
    )
    climate_budget_eur_per_resident_dedicated: float = _p(
        35.0,
        "EUR/resident/yr",
        15.0,
        80.0,
        "[assume]",
        "median climate budget of a city with a dedicated climate budget (at EU-average GDP)",
    )
    climate_budget_eur_per_resident_other: float = _p(
        10.0,
        "EUR/resident/yr",
        3.0,
        30.0,
        "[assume]",
        "median climate spending of a city without a dedicated climate budget",
    )
    climate_budget_log_sd: float = _p(
        0.4, "log sd", 0.1, 0.8, "[assume]", "spread of climate budgets per resident"
    )
    mission_climate_budget_share: float = _p(
        0.7,
        "share",
        0.4,
        0.95,
        "[assume]: Mission Cities commit budgets in their CCC investment plans",
        "share of Mission Cities with a dedicated climate budget",
    )
    # --- Staff allocation rule (issue 10.5): shares held under staff_rule = "protected_shares"
    staff_protected_share_coordination: float = _p(
        0.1,
        "share of staff time",
        0.0,
        0.25,
        "Williams 2002 (boundary spanners need dedicated time); Vienna's climate coordination "
        "unit and German municipal climate managers as dedicated roles (Bach 2015) [assume]",
        "share of a city's climate staff time protected for cross-department coordination",
    )
    staff_protected_share_dialogue: float = _p(
        0.05,
        "share of staff time",
        0.0,
        0.15,
        "O'Flynn 2019 (staff need freedom to work across boundaries) [assume]",
        "share of a city's climate staff time protected for multilevel dialogue",
    )
    staff_protected_share_engagement: float = _p(
        0.05,
        "share of staff time",
        0.0,
        0.15,
        "Energy Cities 2022 (human capacity in local governments) [assume]",
        "share of a city's climate staff time protected for citizen engagement",
    )
    # --- Siloing (§3.3) ------------------------------------------------------------------------
    silo_initial_shift: float = _p(
        0.0281,
        "silo index",
        -0.2,
        0.2,
        "calibrated: posterior median of calibration-20261204T1442Z-2e080d (prior: domain §3.3 "
        "ranges by structure [assume])",
        "shift of every city's initial silo index s from its structure's range",
    )
    coordination_person_months_per_department: float = _p(
        1.0, "person-months", 0.2, 3.0, "domain §3.3 h [assume]", "coordination cost per dept"
    )
    veto_conflict: float = _p(
        0.15, "probability", 0.0, 0.5, "domain §3.3 [assume]", "conflict term of dept veto"
    )
    silo_reduction_ccc_per_year: float = _p(
        0.03, "silo index per year", 0.0, 0.1, "Buylova et al. 2025 [assume]", "CCC integration"
    )
    coordination_gain_body_per_year: float = _p(
        0.02, "per year", 0.0, 0.05, "domain §3.3 [assume]", "cross-sectoral body raises c"
    )
    mayor_backing_coordination: float = _p(
        0.2, "c per unit commitment", 0.0, 0.4, "domain §3.3 [assume]", "mayor backing raises c"
    )
    base_implementation_years: float = _p(
        2.0,
        "years",
        1.0,
        4.0,
        "[assume]",
        "delivery time of a single-department project before learning",
    )
    silo_delivery_slowdown: float = _p(
        0.5,
        "x delivery time per extra department at s = 1",
        0.0,
        1.0,
        "domain §3.3 [assume]",
        "delivery takes 1 + slowdown x s x (departments - 1) times the base time",
    )
    # --- Multilevel alignment (§3.4) -----------------------------------------------------------
    dialogue_alignment_gain: float = _p(
        0.05, "alignment per round", 0.02, 0.1, "domain §3.4 [assume]", "gain per dialogue round"
    )
    dialogue_person_months_per_round: float = _p(
        0.5, "person-months", 0.1, 2.0, "domain §3.4 [assume]", "staff cost of a round"
    )
    alignment_initial_shift: float = _p(
        -0.433,
        "alignment",
        -0.5,
        0.1,
        "calibrated: posterior median of calibration-20261204T1442Z-2e080d (prior: NMC survey: 65% "
        "rate multilevel fragmentation 4-5 [assume])",
        "shift of every city's structural alignment a from 1 - |ambition gap|",
    )
    alignment_decay_per_year: float = _p(
        0.05, "share per year", 0.0, 0.2, "[assume]", "drift back to the structural alignment"
    )
    omega_econ_asset_country: float = _p(
        0.7, "weight", 0.4, 0.9, "domain §3.4 [assume]", "national weight on jobs/GDP"
    )
    kappa_national_asset: float = _p(
        0.05, "authority", 0.0, 0.1, "domain §3.4 [assume]", "city authority over asset plant"
    )
    kappa_private_plant: float = _p(
        0.3, "authority", 0.1, 0.5, "domain §3.4 [assume]", "city authority over other plants"
    )
    ccc_alignment_gain: float = _p(
        0.1, "alignment", 0.0, 0.3, "domain §3.4 [assume]", "reciprocal commitments of a CCC"
    )
    ccc_adoption_logit: float = _p(
        -4.0, "logit per year", -6.0, -1.0, "[assume]", "base hazard of a non-mission CCC"
    )
    baseline_dialogue_rounds_per_year: float = _p(
        0.2,
        "rounds/yr",
        0.0,
        1.0,
        "[assume]",
        "dialogue through city networks and ad-hoc contacts without the lever",
    )
    permitting_alignment_range: float = _p(
        0.5,
        "x delivery speed",
        0.0,
        1.0,
        "domain §3.4 [assume]",
        "delivery speed runs from 1 - r/2 at alignment 0 to 1 + r/2 at alignment 1",
    )
    national_budget_coordination_gain: float = _p(
        0.5,
        "share per unit coordination",
        0.0,
        1.0,
        "[assume]",
        "national programme raised by national-local coordination",
    )
    national_coordination_at_full_dialogue: float = _p(
        0.8,
        "coordination [0, 1]",
        0.4,
        1.0,
        "domain §4 [assume]",
        "national coordination offered to cities at dialogue-lever intensity 1",
    )
    ccc_before_label_years: float = _p(
        1.0,
        "years",
        0.5,
        2.0,
        "[assume]",
        "a Mission City's CCC is signed this long before its Label date",
    )
    industry_dialogue_gain_lever_per_year: float = _p(
        0.3,
        "share of gap per year",
        0.0,
        0.6,
        "[assume]",
        "growth of city-industry dialogue at dialogue-lever intensity 1",
    )
    industry_dialogue_gain_ccc_per_year: float = _p(
        0.3,
        "share of gap per year",
        0.0,
        0.6,
        "[assume]",
        "growth of city-industry dialogue where the city's CCC covers its industrial zone",
    )
    industry_dialogue_decay_per_year: float = _p(
        0.05, "share per year", 0.0, 0.2, "[assume]", "city-industry dialogue fades"
    )
    ccc_commitment_weight: float = _p(
        2.0,
        "logit per unit openness",
        0.0,
        4.0,
        "[assume]",
        "council openness (centred at 0.5) in the yearly CCC hazard of non-scheduled cities",
    )
    ccc_skill_weight: float = _p(
        1.5,
        "logit per unit skill",
        0.0,
        3.0,
        "[assume]",
        "project-delivery skill (centred at 0.3) in the yearly CCC hazard",
    )
    # --- Endogenous Mission Labels for calibration (issue 12) ---
    mission_labels_from_data: float = _p(
        1.0,
        "switch (1 data, 0 endogenous)",
        0.0,
        1.0,
        "switch [assume]",
        "1: Mission Cities sign CCCs and get Labels on the data's dates; 0: every Mission City "
        "prepares its CCC with staff time, submits it in a review round and gets its Label after "
        "the assessment (abm/rules/ccc.py; the calibration set-up, where the Label dates are a "
        "target; start before 2023)",
    )
    mission_start_year: float = _p(
        2022.33,
        "year",
        2022.0,
        2023.0,
        "NetZeroCities: 112 Mission Cities announced 28 Apr 2022 [src]",
        "no CCC is signed before the Mission selects its cities",
    )
    # --- CCC preparation, submission rounds and Label assessment (issue 12) ---
    ccc_preparation_person_months: float = _p(
        36.1,
        "person-months",
        3.0,
        60.0,
        "calibrated: posterior median of calibration-20261204T1442Z-2e080d (prior: [assume] a CCC "
        "is three documents (Commitments, Action Plan, Investment Plan) co-created with "
        "stakeholders (NetZeroCities, netzerocities.eu/climate-city-contract); the city's own "
        "climate staff coordinates it (a quarter to 2.5 FTE over about two years: 56 of 112 CCCs "
        "by June 2024, two years after selection, NetZeroCities resource 4241) while NetZeroCities "
        "city advisers and consultants draft much of it: 3-60 person-months of effective city "
        "staff time)",
        "staff time a Mission City spends preparing its CCC before it can be submitted",
    )
    ccc_preparation_size_exponent: float = _p(
        0.5,
        "elasticity",
        0.0,
        1.0,
        "[assume] a larger city's CCC covers more sectors, stakeholders and investment, but the "
        "template and the Mission Platform's support are the same for all (small cities such as "
        "Sonderborg, Kozani or Taurage were labelled in the first rounds): effort grows less than "
        "in proportion to size; 0 (same for all) to 1 (proportional)",
        "CCC preparation effort scales with (residents / 100k) to this power",
    )
    ccc_min_preparation_years: float = _p(
        0.75,
        "years",
        0.5,
        0.92,
        "[der] the fastest Mission Cities, selected 28 Apr 2022, were labelled on 12 Oct 2023 "
        "(10 cities; netzerocities.eu 2023-10-12), so they submitted by spring 2023, at most "
        "0.92 years after selection; 0.5 for a team that had its climate plan already",
        "shortest CCC preparation of any city: its person-months are spent at most this fast",
    )
    ccc_preparation_spread_years: float = _p(
        1.42,
        "years",
        0.1,
        3.0,
        "calibrated: posterior median of calibration-20261204T1442Z-2e080d (prior: [assume] CCCs "
        "were created from spring 2023 to 2025 and later (10 Labels in Oct 2023, 56 CCCs by June "
        "2024, 92 Labels by May 2025; NetZeroCities resource 4241, netzerocities.eu 2026-02-16): "
        "readiness (mandate, team, stakeholder commitments) adds a delay of 0.1-3 years on "
        "average)",
        "mean of each city's exponential extra CCC preparation time over ccc_min_preparation_years",
    )
    ccc_first_submission_year: float = _p(
        2023.25,
        "year",
        2023.0,
        2023.5,
        "[der] first Labels 12 Oct 2023 (2023.78) minus label_assessment_lag_years: the first "
        "review round closed in spring 2023",
        "first CCC submission window of the Mission Platform",
    )
    ccc_submission_interval_years: float = _p(
        0.5,
        "years",
        0.4,
        1.0,
        "[der] Label rounds 12 Oct 2023 (10 cities), 21 Mar 2024 (23), 8 Oct 2024 (20), May "
        "2025 Vilnius (39), Oct 2025 (11), Feb 2026 (3; netzerocities.eu 2024-03-25, "
        "2024-10-22, 2026-02-16): 5 intervals in 2.35 years, 0.47 a round",
        "CCCs are reviewed in submission rounds this far apart",
    )
    label_assessment_lag_years: float = _p(
        0.5,
        "years",
        0.25,
        1.0,
        "[der] 56 CCCs had been created by June 2024 and 53 cities were labelled on 8 Oct 2024 "
        "(33 by Mar 2024; NetZeroCities resource 4241, netzerocities.eu 2024-10-22): a CCC "
        "submitted in spring was labelled by the autumn, 0.3-0.6 years; up to 1 with a "
        "revision round",
        "from a CCC's submission window to its Mission Label (NetZeroCities review, Commission "
        "assessment)",
    )
    # --- CCC first in the staff-time queue (issue 12, bound diagnosis) ---
    ccc_staff_priority: float = _p(
        1.0,
        "share of the step's CCC work",
        0.0,
        1.0,
        "[assume] the CCC is the core of the Cities Mission and the condition of the Label "
        "(netzerocities.eu 2023-10-12), prepared by a dedicated transition team (NetZeroCities "
        "Seasonal School, netzerocities.eu 2024-12-16) with the Mission Platform's advisers, so a "
        "Mission City puts it ahead of its project pipeline; 0 gives the CCC only the time left "
        "after project preparation (the model before this parameter), whose Label timing pulled "
        "staff_fte_per_10k_residents to its upper bound and the CCC effort and readiness delay "
        "to their lower bounds",
        "share of each step's CCC preparation demand held before any stage spends staff time",
    )
    # --- Industry (§3.5) -----------------------------------------------------------------------
    carbon_price_2025_eur_per_t: float = _p(
        70.0, "EUR/tCO2", 50.0, 100.0, "Veyt 2025: EUA ~EUR 67 in 2024 [src]", "start price"
    )
    carbon_price_2050_eur_per_t: float = _p(
        250.0, "EUR/tCO2", 120.0, 400.0, "Steel-IQ illustrative path [der]", "2050 price"
    )
    carbon_price_volatility: float = _p(
        0.2, "log sd per year", 0.0, 0.4, "EUA 2023-24 -22% [der]", "unpredictability of price"
    )
    discount_rate: float = _p(
        0.07, "per year", 0.04, 0.1, "MPP ST-STSM [src]", "plant discount rate"
    )
    policy_uncertainty_premium_pp: float = _p(
        3.0, "percentage points", 0.0, 5.0, "domain §3.5 [assume]", "pi_unc added to r"
    )
    investment_cycle_years: float = _p(
        20.0, "years", 15.0, 25.0, "MPP ST-STSM: 20+-3 [src]", "relining cycle"
    )
    construction_years: float = _p(
        4.0, "years", 2.0, 6.0, "Steel-IQ lags [src]", "decision to operation"
    )
    asset_life_years: float = _p(
        25.0, "years", 15.0, 40.0, "MPP: 40 (horizon shortened) [der]", "NPV horizon"
    )
    hydrogen_premium_eur_per_t: float = _p(
        180.0, "EUR/t product", 60.0, 300.0, "H2 at ~EUR 5-7/kg (ArcelorMittal 2025) [der]", "DRI"
    )
    clean_cost_learning_per_year: float = _p(
        0.02, "share per year", 0.0, 0.06, "FTT:Steel learning [assume]", "clean route cost fall"
    )
    green_premium_eur_per_t: float = _p(
        60.0, "EUR/t product", 0.0, 150.0, "Steel-IQ green grades [assume]", "GPP premium"
    )
    state_aid_capex_share: float = _p(
        0.2, "share of capex", 0.0, 0.5, "Dunkirk EUR 850 M of 1.8 bn [der]", "aid to asset plants"
    )
    eaf_job_change_share: float = _p(
        -0.25, "share of jobs", -0.5, 0.0, "domain §3.5 [assume]", "headcount change under EAF"
    )
    leakage_elasticity: float = _p(
        0.5, "output share per margin share", 0.0, 2.0, "[assume]", "output lost to competitors"
    )
    carbon_price_persistence_per_year: float = _p(
        0.7,
        "autocorrelation per year",
        0.0,
        0.95,
        "[assume]",
        "persistence of EUA price shocks (AR(1))",
    )
    non_cbam_free_decline_per_year: float = _p(
        0.022,
        "share per year",
        0.01,
        0.04,
        "EU ETS linear reduction factor as a proxy [assume]",
        "yearly cut of free allocation in sectors outside CBAM",
    )
    full_utilisation: float = _p(
        0.85,
        "share of capacity",
        0.75,
        0.95,
        "[assume]",
        "plant utilisation at non-negative margins",
    )
    min_utilisation: float = _p(
        0.3,
        "share of capacity",
        0.1,
        0.5,
        "[assume]",
        "plant utilisation floor under negative margins",
    )
    equity_share: float = _p(
        0.2,
        "share of net capex",
        0.1,
        0.4,
        "Steel-IQ 20/80 equity/debt [src]",
        "equity a plant needs for a switch or a reline",
    )
    scrap_premium_eur_per_t: float = _p(
        40.0, "EUR/t product", 0.0, 100.0, "[assume]", "scrap scarcity cost for scrap-using routes"
    )
    city_pressure_capex_share: float = _p(
        0.15,
        "share of capex",
        0.0,
        0.3,
        "[assume]",
        "value of a fully empowered city's pressure for a clean switch",
    )
    close_loss_multiple: float = _p(
        1.0,
        "x capex per t times capacity",
        0.5,
        2.0,
        "Steel-IQ [assume]",
        "a plant closes when cumulative losses exceed this multiple",
    )
    lead_market_multiplier: float = _p(
        4.0,
        "x public green volume",
        1.0,
        8.0,
        "[assume]",
        "lead market: private green volume follows public green demand",
    )
    other_public_demand_share: float = _p(
        0.1, "share", 0.05, 0.2, "[assume]", "public buyers' share of sectors without a figure"
    )
    rescue_omega_econ_threshold: float = _p(
        0.5,
        "weight",
        0.3,
        0.8,
        "[assume]",
        "nations weighing jobs above this keep failing national-asset plants open",
    )
    state_aid_reference_omega_econ: float = _p(
        0.7,
        "weight",
        0.4,
        0.9,
        "[assume]",
        "national weight on jobs at which capex aid is the full state_aid_capex_share",
    )
    capex_noise_log_sd: float = _p(
        0.15,
        "log sd",
        0.0,
        0.4,
        "[assume]",
        "plant-specific spread of a route's capex around its table value",
    )
    reinvestment_timing_spread_years: float = _p(
        3.0,
        "years",
        0.0,
        6.0,
        "MPP ST-STSM: 20+-3 [src]",
        "half-width of the uniform spread of a plant's next reinvestment date",
    )
    equity_retention_share: float = _p(
        0.3,
        "share of profit",
        0.1,
        0.6,
        "[assume]",
        "share of a plant's positive profit kept as equity for investment",
    )
    loss_memory_per_year: float = _p(
        0.9,
        "share per year",
        0.5,
        1.0,
        "[assume]",
        "cumulative losses carried over a profitable year (the rest is written off)",
    )
    job_risk_per_margin_loss: float = _p(
        3.0,
        "job risk per unit loss/price",
        1.0,
        6.0,
        "[assume]",
        "job risk of a loss-making plant per unit loss relative to the world price (capped at 1)",
    )
    close_capex_floor_eur_per_t: float = _p(
        50.0,
        "EUR per t/yr",
        20.0,
        100.0,
        "[assume]",
        "floor of the capex per tonne in the closure threshold, for routes that are cheap to build",
    )
    city_pressure_without_dialogue: float = _p(
        0.5,
        "x pressure",
        0.0,
        1.0,
        "[assume]",
        "city pressure on a plant without city-industry dialogue (full dialogue adds 1)",
    )
    # --- CBAM, export markets and distressed plants (issue 11) ---------------------------------
    cbam_effectiveness: float = _p(
        0.9,
        "share of embedded carbon cost",
        0.6,
        1.0,
        "[assume]: default values, resource shuffling and verification gaps (Regulation (EU) "
        "2023/956 Art. 4-7, 27) let part of the embedded carbon through",
        "share of importers' embedded carbon cost the CBAM charge actually levies",
    )
    cbam_import_intensity_ratio: float = _p(
        1.0,
        "x conventional route intensity",
        0.8,
        1.3,
        "worldsteel 2023 world average ~1.9 tCO2/t crude steel vs BF-BOF 2.0 [der]",
        "embedded emissions of imports relative to the sector's conventional EU route",
    )
    export_share_steel: float = _p(
        0.15,
        "share of output",
        0.1,
        0.25,
        "Eurostat 2024 (iron and steel exports EUR 77.8 bn) / EUROFER European Steel in Figures "
        "2024: ~20 of ~130 Mt [der]",
        "share of EU steel output sold outside the EU (no CBAM relief on exports)",
    )
    export_share_cement: float = _p(
        0.05,
        "share of output",
        0.02,
        0.12,
        "CEMBUREAU activity reports: extra-EU exports a few % of output [assume]",
        "share of EU cement output sold outside the EU",
    )
    export_share_aluminium: float = _p(
        0.1,
        "share of output",
        0.05,
        0.25,
        "European Aluminium: the EU is a net importer of primary metal [assume]",
        "share of EU primary aluminium output sold outside the EU",
    )
    export_share_other_sectors: float = _p(
        0.2,
        "share of output",
        0.1,
        0.35,
        "Cefic Facts & Figures: extra-EU exports about a fifth of chemical sales [assume]",
        "share of output sold outside the EU in sectors without a figure (chemicals, refining)",
    )
    distress_review_loss_share: float = _p(
        0.1,
        "share of the closure threshold",
        0.0,
        0.9,
        "[assume]",
        "a plant whose losses pass this share of its closure threshold reviews its route now",
    )
    outside_equity_profitability_index: float = _p(
        1.0,
        "x net capex",
        0.5,
        3.0,
        "[assume]: profitability index above 1 attracts project equity (Brealey-Myers)",
        "a switch whose net value gain is this multiple of its net capex finds outside equity",
    )
    # --- Routes with supply limits (issue 11) ---------------------------------------------------
    scrap_headroom_share_2025: float = _p(
        0.1,
        "share of steel capacity",
        0.0,
        0.2,
        "BIR World Steel Recycling in Figures: EU-27 net scrap exports ~19 Mt/yr vs ~130 Mt "
        "crude steel (~0.14), less quality limits [der]",
        "steel capacity that can move to scrap routes in 2025 on today's scrap supply",
    )
    scrap_supply_growth_share_per_year: float = _p(
        0.01,
        "share of steel capacity per year",
        0.0,
        0.02,
        "Material Economics 2019 (Industrial Transformation 2050): obsolete scrap arisings grow "
        "~1% of output a year [assume]",
        "yearly growth of the scrap route headroom",
    )
    scrap_price_tightness_slope: float = _p(
        1.0,
        "x scrap premium at full use",
        0.0,
        3.0,
        "[assume]",
        "scrap premium rises by this multiple as new scrap routes use up the headroom",
    )
    ccs_storage_share_2030: float = _p(
        0.1,
        "share of start-year plant emissions",
        0.03,
        0.2,
        "Net-Zero Industry Act Art. 20: 50 Mt/yr CO2 injection capacity by 2030, vs ~450 Mt "
        "industrial ETS emissions [der]",
        "CO2 transport and storage capacity open to the plants by 2030 (0 before 2026)",
    )
    ccs_storage_share_2050: float = _p(
        0.4,
        "share of start-year plant emissions",
        0.15,
        0.7,
        "Commission Industrial Carbon Management Strategy 2024: ~450 Mt/yr captured by 2050, "
        "part for removals [der]",
        "CO2 transport and storage capacity open to the plants by 2050 (linear from 2030)",
    )
    grid_connection_lead_years: float = _p(
        2.0,
        "years",
        0.0,
        5.0,
        "Eurelectric/ENTSO-E: multi-year queues for large industrial grid connections [assume]",
        "extra years before a route needing a large new grid connection comes online",
    )
    # --- Energy prices and permitting (issue 11, item 4) ------------------------------------
    electricity_price_reference_eur_per_mwh: float = _p(
        190.0,
        "EUR/MWh",
        120.0,
        250.0,
        "Eurostat nrg_pc_205, EU27 non-household (band ID) 2024, abm/data/energy_prices.csv [der]",
        "electricity price embedded in the route opex table (a plant pays the difference)",
    )
    gas_price_reference_eur_per_mwh: float = _p(
        50.0,
        "EUR/MWh",
        25.0,
        90.0,
        "Eurostat nrg_pc_203, EU27 non-household (band I3) 2024, abm/data/energy_prices.csv [der]",
        "natural-gas price embedded in the route opex table (a plant pays the difference)",
    )
    electricity_price_longrun_eur_per_mwh: float = _p(
        190.0,
        "EUR/MWh",
        100.0,
        250.0,
        "[assume]: flat at the 2024 EU level; low = Clean Industrial Deal affordable-energy aim",
        "EU non-household electricity price the path reaches by energy_price_convergence_year",
    )
    gas_price_longrun_eur_per_mwh: float = _p(
        50.0,
        "EUR/MWh",
        25.0,
        90.0,
        "[assume]: flat at the 2024 EU level; low = TTF forwards ~EUR 30/MWh plus network",
        "EU non-household gas price the path reaches by energy_price_convergence_year",
    )
    energy_price_convergence_year: float = _p(
        2030.0,
        "year",
        2026.0,
        2045.0,
        "[assume]",
        "year the energy price paths reach their long-run level (linear from the last record)",
    )
    energy_price_gap_persistence: float = _p(
        0.5,
        "share of the 2024 gap",
        0.0,
        1.0,
        "[assume]: national network charges and taxes persist; wholesale prices converge",
        "share of a country's last recorded gap to the EU price that remains in the long run",
    )
    permitting_lead_years: float = _p(
        1.5,
        "years",
        0.5,
        4.0,
        "Net-Zero Industry Act (Regulation (EU) 2024/1735) Art. 9: permit-granting for net-zero "
        "manufacturing projects at most 12 months (<1 GW) or 18 months (>=1 GW) [src]; before "
        "the Act typically 2-4 years [assume]",
        "EU-wide permitting time added to the construction of every route switch",
    )
    competitiveness_fund_budget_eur_per_capita_per_year: float = _p(
        10.0,
        "EUR/resident/yr",
        0.0,
        21.0,
        "MFF 2028-2034 proposal (July 2025): European Competitiveness Fund, clean transition and "
        "industrial decarbonisation window EUR 67.4 bn over 7 years = ~EUR 21/resident/yr; about "
        "half for industrial plants [assume]",
        "EU Competitiveness Fund capex grants to clean switches, per modelled resident",
    )
    competitiveness_fund_first_year: float = _p(
        2028.0,
        "year",
        2028.0,
        2030.0,
        "MFF 2028-2034 proposal: the fund starts with the next MFF in 2028 [src]",
        "first year the Competitiveness Fund awards grants",
    )
    state_aid_framework_ceiling_share: float = _p(
        0.35,
        "share of capex",
        0.2,
        0.6,
        "TCTF (2023-25) and CISAF (25 June 2025, in force to 31 Dec 2030; Commission IP/25/1598) "
        "cap decarbonisation investment aid as a share of eligible costs [src for the frameworks; "
        "the uniform 35% [assume]]",
        "ceiling on national capex aid to a switch while TCTF/CISAF apply (2023-2030)",
    )
    state_aid_ceeag_ceiling_share: float = _p(
        0.3,
        "share of capex",
        0.1,
        0.5,
        "CEEAG 2022 (funding-gap aid for decarbonisation, applies outside the crisis frameworks) "
        "[assume: share]",
        "ceiling on national capex aid to a switch outside the TCTF/CISAF years",
    )
    # --- EU demand by sector from macro drivers (issue 11, hindcast) ----------------------------
    demand_elasticity_steel: float = _p(
        1.0,
        "share of sales per share of driver",
        0.5,
        2.0,
        "[assume]: steel demand moves with the output of steel-using sectors (EUROFER's "
        "steel-weighted industrial production; Doehrn & Kraetschell 2014, Mineral Economics 27: "
        "steel use follows GDP and investment) [src for the driver; elasticity 1 [assume]]",
        "elasticity of a steel plant's EU sales to the manufacturing production index",
    )
    demand_elasticity_cement: float = _p(
        1.0,
        "share of sales per share of driver",
        0.6,
        1.5,
        "[assume]: cement is sold locally to construction; consumption follows construction "
        "output (CEMBUREAU activity reports) [src for the driver; elasticity 1 [assume]]",
        "elasticity of a cement plant's EU sales to the construction production index",
    )
    demand_elasticity_refinery: float = _p(
        1.0,
        "share of sales per share of driver",
        0.5,
        1.5,
        "[der]: throughput follows EU product demand at a constant net-trade share",
        "elasticity of a refinery's EU sales to gross inland deliveries of oil products",
    )
    demand_elasticity_manufacturing_sectors: float = _p(
        1.0,
        "share of sales per share of driver",
        0.5,
        2.0,
        "[assume]: bulk chemicals, cells and aluminium are intermediate goods for manufacturing",
        "elasticity of chemicals, battery and aluminium plants' EU sales to manufacturing output",
    )
    manufacturing_demand_growth_per_year: float = _p(
        0.0,
        "share per year",
        -0.01,
        0.02,
        "[assume]: flat after 2024 (the baseline sells at its start level)",
        "yearly change of the manufacturing production index after the recorded years",
    )
    construction_demand_growth_per_year: float = _p(
        0.0,
        "share per year",
        -0.01,
        0.02,
        "[assume]: flat after 2024 (the baseline sells at its start level)",
        "yearly change of the construction production index after the recorded years",
    )
    oil_products_demand_growth_per_year: float = _p(
        -0.015,
        "share per year",
        -0.04,
        0.0,
        "[assume]: direction from the EU Reference Scenario 2020 (oil's share of gross inland "
        "consumption falls to 2050) and the CO2 standards for cars (Regulation (EU) 2023/851: "
        "no new petrol or diesel cars from 2035); size of the fall [assume]",
        "yearly change of EU demand for oil products after the recorded years",
    )
    # --- Spare capacity at the start (issue 11, hindcast round 4) ------------------------------
    start_output_headroom_steel: float = _p(
        1.263,
        "output / start output",
        1.0,
        1.4,
        "[der]: worldsteel (via Wikipedia, List of European countries by steel production): EU28 "
        "crude steel 210.2 Mt in 2007, 166.4 Mt in 2013; 210.2 / 166.4 = 1.263 (the 2013 fleet "
        "had run at its pre-crisis output)",
        "output the start fleet can reach when EU demand grows, relative to its start output",
    )
    start_output_headroom_cement: float = _p(
        1.66,
        "output / start output",
        1.0,
        2.0,
        "[der]: EU28 cement 166.6 Mt in 2013 (CEMBUREAU Activity Report 2016, via CemNet, 13 Jun "
        "2017) and about 276 Mt in 2007 (Activity Report 2015, via Global Cement: 172 Mt in 2015 "
        "'37.7% below 2007', 172 / 0.623); 276 / 166.6 = 1.66; EC DG GROW: 267.5 Mt from 356 "
        "installations in 2006",
        "output the start fleet can reach when EU demand grows, relative to its start output",
    )
    start_output_headroom_chemicals: float = _p(
        1.068,
        "output / start output",
        1.0,
        1.2,
        "[der]: Cefic Chemicals Trends Report (via Process Worldwide, Feb 2014): EU chemicals "
        "output in 2013 '6.4% below the pre-crisis peak level reached in 2007', capacity "
        "utilisation 79.1% (Q3) and 78.8% (Q4 2013); 1 / (1 - 0.064) = 1.068 (Cefic, Nov 2017: "
        "83.8% in 2017, 'close to its peak level', 83.8 / 79 = 1.06)",
        "output the start fleet can reach when EU demand grows, relative to its start output",
    )
    start_output_headroom_other_sectors: float = _p(
        1.0,
        "output / start output",
        1.0,
        1.2,
        "[assume]: none for refining (13 EU refineries closed or cut in 2009-2013, about 10% of "
        "capacity: Marschinski et al. 2020, JRC100907, so capacity had followed demand down), "
        "aluminium and cells (no figure found)",
        "output the start fleet can reach when EU demand grows, relative to its start output",
    )
    # --- Short-run supply response to the margin (issue 11, hindcast round 2) -----------------
    short_run_supply_elasticity_steel: float = _p(
        1.0,
        "output share per margin share",
        0.5,
        1.5,
        "[der]: worldsteel via GMK Center (2023): EU crude steel output -10.5% in 2022 while "
        "steel-using sectors grew 3.1% (EUROFER Economic and Steel Market Outlook Q2 2023), "
        "about -13.5% relative to demand, as the modelled BF-BOF margin fell by EUR 74/t "
        "(2021 to 2022, 13.5% of the EUR 550/t world price): 0.135/0.135 = 1.0",
        "share of a steel plant's output cut per fall of its margin (share of the world price)",
    )
    short_run_supply_elasticity_chemicals: float = _p(
        0.6,
        "output share per margin share",
        0.3,
        1.2,
        "[der]: Cefic (Chemical Trends Q1 2023; Facts and Figures 2023): EU27 chemical "
        "capacity utilisation 74-75% in 2023 against a long-term mean of 81.6% (-9%) as the "
        "modelled cracker margin stood EUR 138/t (15% of the EUR 900/t world price) below its "
        "2019-2020 level: 0.09/0.15 = 0.6; ammonia curtailed harder at the 2022 peak (CRU: "
        "38-52% of EU capacity, Aug 2022)",
        "share of a chemical plant's output cut per fall of its margin (share of world price)",
    )
    short_run_supply_elasticity_other_sectors: float = _p(
        0.6,
        "output share per margin share",
        0.2,
        1.2,
        "[assume]: the chemicals value for cement, refining, aluminium and cells, for which no "
        "2022 output response separate from demand was found",
        "share of output cut per fall of the margin (share of the world price), other sectors",
    )
    # --- Persistent curtailment (issue 11, hindcast round 3) -----------------------------------
    curtailed_capacity_restart_share_per_year: float = _p(
        0.02,
        "share of capacity per year",
        0.0,
        0.1,
        "[der]: Cefic Facts and Figures 2024 (Growth and Competitiveness): EU27 chemical "
        "capacity utilisation 'shows no sign of improvement in 2023-2024: it fluctuates around "
        "75%' (81% historical mean) while EU gas and power prices fell from their 2022 peak "
        "(abm/data/energy_prices.csv), so at most 1-2 points of capacity restarted a year; "
        "Cefic (competitiveness study 2024): 11 Mt of capacity closed in 2023-2024, 37 Mt (about "
        "9% of capacity) by 2025 (Cefic via Agence Europe, 28 Jan 2026); the chemicals value is "
        "used for every sector [assume]",
        "largest rise a year of the share of its capacity a plant's margins keep running",
    )
    # --- SMEs (§3.6) ---------------------------------------------------------------------------
    smes_per_100k_residents: float = _p(
        20.0, "modelled SMEs/100k", 5.0, 60.0, "domain §2 (10-100/city) [assume]", "SME agents"
    )
    sme_interest_rate: float = _p(
        0.07, "per year", 0.04, 0.1, "domain §3.6 [assume]", "r_SME on bridging debt"
    )
    sme_disbursement_delay_months: float = _p(
        9.0, "months", 3.0, 18.0, "domain §3.6 [assume]", "D: grant paid after spending"
    )
    sme_advance_share: float = _p(0.0, "share", 0.0, 0.4, "domain §3.6 [assume]", "phi")
    sme_grant_share: float = _p(0.4, "share of capex", 0.2, 0.7, "[assume]", "g")
    sme_prep_cost_share: float = _p(
        0.12, "share of grant", 0.05, 0.2, "domain §3.6 [assume]", "application cost"
    )
    sme_default_debt_to_revenue: float = _p(
        0.5, "ratio", 0.2, 1.0, "domain §3.6 [assume]", "L: default threshold"
    )
    sme_max_wait_months: float = _p(
        12.0, "months", 6.0, 24.0, "[assume]", "SME drops a project if unpaid longer than"
    )
    sme_grant_budget_eur_per_capita_per_year: float = _p(
        3.0, "EUR/resident/yr", 0.5, 8.0, "[assume]", "grants for SME green investment"
    )
    sme_margin_share: float = _p(
        0.06, "share of revenue", 0.02, 0.12, "[assume]", "SME operating profit"
    )
    sme_capex_share: float = _p(
        0.25, "share of yearly revenue", 0.1, 0.5, "[assume]", "size of an SME green investment"
    )
    sme_consider_per_year: float = _p(
        0.3,
        "probability per year",
        0.1,
        0.6,
        "[assume]",
        "an innovative SME considers a green project",
    )
    sme_green_emissions_factor: float = _p(
        0.6, "ratio", 0.3, 0.9, "[assume]", "SME emissions after the green investment"
    )
    sme_advance_share_max: float = _p(
        0.9, "share of grant", 0.5, 1.0, "[assume]", "cap on the advance share phi"
    )
    sme_win_intercept: float = _p(
        -0.5, "logit", -2.0, 1.0, "[assume]", "SME's expected log-odds of winning a grant"
    )
    sme_win_know_how_weight: float = _p(
        2.0,
        "logit per unit know-how",
        0.0,
        4.0,
        "[assume]",
        "funding know-how in an SME's expected chance of winning",
    )
    # --- Citizens (§3.7) -----------------------------------------------------------------------
    confidence_bound_mean: float = _p(
        0.3, "opinion units", 0.2, 0.4, "Lorenz 2015 [src]", "m of heterogeneous epsilon"
    )
    confidence_bound_sd: float = _p(
        0.1, "opinion units", 0.05, 0.25, "Lorenz 2015 [src]", "sigma of epsilon"
    )
    convergence_rate: float = _p(
        0.3, "-", 0.05, 0.5, "Deffuant et al. 2000 [src]", "mu: move towards the partner"
    )
    opinion_noise_per_year: float = _p(
        0.02, "probability per year", 0.002, 0.15, "Lorenz 2015 [src]", "redraw noise p"
    )
    interactions_per_year: float = _p(
        2.0, "meetings per citizen per year", 1.0, 12.0, "[assume]", "opinion exchanges"
    )
    job_threat_effect: float = _p(
        0.08, "support per unit risk", 0.0, 0.3, "domain §3.7 alpha_job [assume]", "job threat"
    )
    cobenefit_effect: float = _p(
        0.03, "support per unit", 0.0, 0.1, "domain §3.7 alpha_cob [assume]", "visible results"
    )
    trust_effect: float = _p(
        0.02, "support per unit", 0.0, 0.1, "domain §3.7 alpha_tr [assume]", "trust term"
    )
    participation_intercept: float = _p(
        -2.32,
        "logit",
        -4.0,
        0.0,
        "calibrated: posterior median of calibration-20261204T1442Z-2e080d (prior: domain §3.7 "
        "[assume])",
        "pi0",
    )
    participation_trust_weight: float = _p(1.5, "logit", 0.0, 3.0, "[assume]", "pi1")
    participation_mode_weight: float = _p(0.8, "logit per mode", 0.0, 2.0, "[assume]", "pi2")
    empower_trust_gain: float = _p(
        0.05, "trust per year", 0.02, 0.1, "domain §3.7 [assume]", "empowering modes"
    )
    engagement_person_months_per_100k: float = _p(
        1.0, "person-months/100k/mode level", 0.2, 3.0, "[assume]", "staff cost of engagement"
    )
    adoption_rate_per_year: float = _p(
        0.04,
        "share per year at full support",
        0.01,
        0.1,
        "[assume]",
        "citizens' uptake of low-carbon options",
    )
    adoption_household_cut: float = _p(
        0.3,
        "share of sector emissions",
        0.1,
        0.5,
        "[assume]",
        "cut of buildings and transport emissions at full citizen adoption",
    )
    participation_offset_weight: float = _p(
        0.5,
        "logit",
        0.0,
        1.5,
        "[assume]",
        "pi3: weight of each citizen's own participation propensity (offset ~ N(0, 1))",
    )
    # --- Political commitment (§3.10) ----------------------------------------------------------
    election_interval_years: float = _p(
        5.0, "years", 4.0, 6.0, "domain §3.10 [src]", "municipal election cycle"
    )
    reversal_intercept: float = _p(-3.5, "logit", -5.0, 0.0, "domain §3.10 [assume]", "rho0")
    reversal_support_weight: float = _p(3.0, "logit", 0.0, 6.0, "[assume]", "rho1")
    reversal_ccc_weight: float = _p(1.5, "logit", 0.0, 3.0, "[assume]", "rho2")
    commitment_initial_mean: float = _p(
        0.53,
        "openness [0, 1]",
        0.3,
        0.8,
        "calibrated: posterior median of calibration-20261204T1442Z-2e080d (prior: NMC survey: 34% "
        "rate political commitment a high barrier [assume])",
        "mean initial council green openness of non-mission cities (sd 0.12; +0.1 mission)",
    )
    commitment_adjust_per_year: float = _p(
        0.3, "share per year", 0.1, 1.0, "domain §3.10 6-12 month lag [der]", "openness lag"
    )
    reversal_drop: float = _p(
        0.15, "openness", 0.05, 0.3, "[assume]", "openness lost on an election reversal"
    )
    election_shift: float = _p(
        0.05,
        "openness",
        0.0,
        0.15,
        "fcruztorres ABM_Energy_Transition, +-5 on a 0-100 scale [der]",
        "delta: largest shift of openness at an election",
    )
    reversal_locked_funding_weight: float = _p(
        1.0, "logit", 0.0, 3.0, "[assume]", "rho3: locked-in funding protects against reversal"
    )
    target_demote_probability: float = _p(
        0.3,
        "probability per reversal",
        0.0,
        0.6,
        "[assume]",
        "an election reversal demotes an existing target to planned (not in Mission Cities)",
    )
    target_adoption_intercept: float = _p(
        -3.0, "logit", -5.0, -1.0, "[assume]", "log-odds of adopting a target at an election"
    )
    target_adoption_commitment_weight: float = _p(
        4.0,
        "logit per unit openness",
        1.0,
        6.0,
        "[assume]",
        "council openness in the log-odds of adopting a target",
    )
    commitment_initial_support_weight: float = _p(
        0.5,
        "share",
        0.0,
        1.0,
        "[assume]",
        "initial council openness blends the drawn openness with citizens' initial support",
    )
    # --- Green public procurement (§3.8) -------------------------------------------------------
    gpp_intercept: float = _p(-1.0, "logit", -2.5, 0.5, "Renda et al. 2012 [assume]", "gamma0")
    gpp_skill_weight: float = _p(1.5, "logit", 0.0, 3.0, "[assume]", "gamma1")
    gpp_framework_weight: float = _p(1.0, "logit", 0.0, 3.0, "[assume]", "gamma2")
    gpp_mandate_weight: float = _p(1.0, "logit", 0.0, 3.0, "[assume]", "gamma3")
    gpp_peer_weight: float = _p(1.0, "logit", 0.0, 3.0, "[assume]", "gamma4")
    gpp_adjust_per_year: float = _p(0.3, "share per year", 0.05, 1.0, "[assume]", "inertia")
    public_demand_share_steel: float = _p(
        0.11, "share", 0.05, 0.2, "domain §3.8 [src]", "public buyers' share of steel"
    )
    public_demand_share_cement: float = _p(
        0.31, "share", 0.2, 0.4, "domain §3.8 [src]", "public buyers' share of cement"
    )
    gpp_framework_skill_equivalent: float = _p(
        0.2,
        "skill",
        0.0,
        0.5,
        "[assume]",
        "a standard GPP framework acts like this much extra procurement skill",
    )
    # --- Emissions (§7) ------------------------------------------------------------------------
    emissions_2025_relative_to_2019: float = _p(
        0.85,
        "ratio",
        0.78,
        0.95,
        "EU GHG inventory trend 2019-2025 [assume: re-check against the EEA inventory]",
        "modelled start-year emissions relative to 2019, for cuts 'vs 2019'",
    )
    background_decline_per_year: float = _p(
        0.01,
        "share per year",
        0.0,
        0.03,
        "EU standards for vehicles, appliances and buildings (EPBD, CO2 standards) [assume]",
        "exogenous decline of the non-electric part of city sector emissions",
    )
    # --- Cities and the energy system (issue 10.3) ----------------------------------------------
    grid_decline_min_per_year: float = _p(
        0.02,
        "share of the gap to the floor per year",
        0.0,
        0.04,
        "[assume]: renewables support without a carbon price (RED targets)",
        "decline of power-sector carbon intensity at a zero carbon price",
    )
    grid_decline_max_per_year: float = _p(
        0.12,
        "share of the gap to the floor per year",
        0.06,
        0.2,
        "[assume]: fastest plausible fleet turnover",
        "decline of power-sector carbon intensity at a very high carbon price",
    )
    grid_decline_half_price_eur_per_t: float = _p(
        150.0,
        "EUR/t",
        50.0,
        400.0,
        "EEA indicator (2024): EU power GHG intensity -35% 2013-2023 at a mean ETS price of "
        "~EUR 29/t; with the min and max rates this price reproduces ~-4%/yr [der]",
        "carbon price at which the intensity declines halfway between its min and max rates",
    )
    grid_floor_g_per_kwh: float = _p(
        15.0,
        "gCO2e/kWh",
        5.0,
        40.0,
        "IPCC AR5 WGIII Annex III lifecycle medians: wind 11-12, nuclear 12, hydro 24 [der]",
        "carbon intensity a fully decarbonised power sector keeps (lifecycle)",
    )
    buildings_electricity_share: float = _p(
        0.35,
        "share of emissions",
        0.2,
        0.5,
        "Eurostat final energy: electricity ~25% of households', ~50% of services' use "
        "carbon-weighted and rounded [der]",
        "share of a city's buildings emissions from electricity (follows the national grid)",
    )
    transport_electricity_share: float = _p(
        0.02,
        "share of emissions",
        0.0,
        0.1,
        "Eurostat: rail and e-mobility ~2% of transport energy [der]",
        "share of a city's transport emissions from electricity",
    )
    # --- Lever strengths at intensity 1 (domain §4) ---------------------------------------------
    lever_financing_budget_boost: float = _p(
        1.0, "x budget", 0.25, 2.0, "domain §4 [assume]", "extra call budget at intensity 1"
    )
    lever_simplification_burden_cut: float = _p(
        0.5, "share", 0.2, 0.8, "domain §4 [assume]", "burden, admin and delay cut"
    )
    lever_capacity_staff_growth: float = _p(
        0.04, "share per year", 0.0, 0.1, "domain §4 [assume]", "funded staff growth"
    )
    lever_dialogue_rounds_per_year: float = _p(
        2.0, "rounds/yr", 0.5, 4.0, "domain §4 [assume]", "dialogue rounds at intensity 1"
    )
    lever_dialogue_kappa_gain: float = _p(
        0.15, "authority", 0.0, 0.3, "domain §4 (voice, not control) [assume]", "kappa gain"
    )
    lever_rni_clean_cost_cut: float = _p(
        0.4, "share", 0.1, 0.7, "domain §4 [assume]", "clean-route premium cut by R&I"
    )
    lever_ccc_hazard_boost: float = _p(
        3.0, "logit", 1.0, 5.0, "domain §4 [assume]", "CCC adoption boost"
    )
    lever_pathway_uncertainty_cut: float = _p(
        0.8, "share", 0.3, 1.0, "domain §4 [assume]", "cut in pi_unc and price volatility"
    )
    lever_pathway_price_2040_eur_per_t: float = _p(
        200.0, "EUR/tCO2", 120.0, 300.0, "EU 2040 target alignment [assume]", "committed price"
    )

    # capacity and silos
    lever_simplification_awareness_gain: float = _p(
        0.3,
        "share of gap per year",
        0.0,
        0.5,
        "[assume]",
        "awareness growth from simpler calls and one-stop information at intensity 1",
    )
    lever_capacity_awareness_gain: float = _p(
        0.1, "share of gap per year", 0.0, 0.3, "[assume]", "awareness growth from training"
    )
    lever_dialogue_coordination_gain_per_year: float = _p(
        0.02, "per year", 0.0, 0.05, "[assume]", "mandated dialogue raises c at intensity 1"
    )
    lever_ccc_industry_scope_per_year: float = _p(
        0.5,
        "probability per year",
        0.0,
        1.0,
        "[assume]",
        "an existing CCC takes in the city's industrial zone, at CCC-lever intensity 1",
    )
    # financing: ELENA-type project development assistance, O&M eligibility, SME advisory
    lever_financing_prep_cut: float = _p(
        0.5,
        "share",
        0.0,
        0.8,
        "ELENA-type assistance [assume]",
        "preparation staff time cut by project development assistance",
    )
    lever_financing_om_cut: float = _p(
        0.5, "share", 0.0, 0.8, "[assume]", "O&M cost to the city cut by grant eligibility"
    )
    lever_financing_sme_prep_cut: float = _p(
        0.5, "share", 0.0, 0.8, "[assume]", "SME application cost cut by advisory branches"
    )
    lever_financing_sme_win_weight: float = _p(
        1.0,
        "logit",
        0.0,
        3.0,
        "[assume]",
        "advisory branches raise an SME's expected log-odds of winning",
    )
    lever_simplification_sme_advance: float = _p(
        0.3, "share of grant", 0.0, 0.6, "domain §3.6 [assume]", "advance share phi added"
    )
    # research and innovation
    lever_rni_scrap_premium_cut: float = _p(
        0.5, "share", 0.0, 0.8, "[assume]", "scrap premium cut (secondary-material markets)"
    )
    lever_rni_sme_consider_boost: float = _p(
        0.5,
        "x consideration rate",
        0.0,
        1.0,
        "[assume]",
        "more SMEs consider a green project",
    )
    # --- Lever doses and public cost (issue 10.6) ------------------------------------------------
    # what intensity 1 of each lever buys (hours, FTE, EUR) and what it costs the public purse;
    # abm/rules/public_cost.py books the cost, the rule modules apply the effects per unit of dose
    staff_cost_eur_per_fte_year: float = _p(
        55_000.0,
        "EUR/FTE/yr",
        16_000.0,
        93_000.0,
        "Eurostat lc_lci_lev 2023: EUR 31.8/h EU average (9.3 BG to 53.9 LU) x 1,720 h [der]",
        "employer cost of one full-time public employee at the EU average",
    )
    staff_cost_gdp_elasticity: float = _p(
        1.5,
        "elasticity",
        1.0,
        3.0,
        "Eurostat 2023 labour cost vs GDP per head in PPS (BG 9.3 vs DE 43 EUR/h) [der]",
        "a country's staff cost is the EU average x (gdp_index/100)^elasticity",
    )
    training_cost_eur_per_participant_hour: float = _p(
        60.0,
        "EUR per participant-hour",
        25.0,
        150.0,
        "TAIEX expert fee EUR 350/day plus travel, shared by a group of ~10 [assume]",
        "trainer, venue and material cost of one hour of training for one participant",
    )
    capacity_skill_gain_per_training_hour: float = _p(
        0.002,
        "skill per (hour/FTE/yr)",
        0.0005,
        0.004,
        "[assume] (0.08 skill/yr at 40 h, the former lever_capacity_training)",
        "yearly skill gain (share of the gap) per training hour a year per staff member",
    )
    lever_capacity_training_hours_per_fte_year: float = _p(
        40.0,
        "hours/FTE/yr",
        8.0,
        80.0,
        "NetZeroCities/ICLEI academy course sizes, about a working week a year [assume]",
        "training hours bought per climate-staff FTE at capacity-lever intensity 1",
    )
    lever_capacity_sme_training_hours_per_year: float = _p(
        40.0,
        "hours per modelled SME/yr",
        8.0,
        80.0,
        "[assume] (the same rate as city staff, as before)",
        "funding know-how training bought per modelled SME at capacity-lever intensity 1",
    )
    lever_capacity_twinning_eur_per_city_year: float = _p(
        15_000.0,
        "EUR/city/yr",
        5_000.0,
        50_000.0,
        "NetZeroCities Twinning Learning Programme (20 months, facilitation, paid visits) [assume]",
        "cost of twinning one city that would not be twinned without the lever",
    )
    lever_gpp_training_hours_per_procurement_fte_year: float = _p(
        25.0,
        "hours/FTE/yr",
        0.0,
        75.0,
        "[assume] (0.05 skill/yr, the former lever_procurement_training, at 0.002/h)",
        "green-procurement training bought per procurement FTE at GPP-lever intensity 1",
    )
    procurement_fte_per_100k_residents: float = _p(
        5.0,
        "FTE per 100k residents",
        2.0,
        15.0,
        "[assume]",
        "municipal procurement staff who would take the GPP training",
    )
    lever_gpp_framework_eur_per_resident_year: float = _p(
        0.02,
        "EUR/resident/yr",
        0.005,
        0.1,
        "EU SPP helpdesk service contract (ICLEI/AEIDL 2022-25) plus national GPP helpdesks "
        "and criteria upkeep, about EUR 9 M/yr EU-wide [assume]",
        "standard GPP framework, helpdesk and monitoring at GPP-lever intensity 1",
    )
    gpp_municipal_share_city_sectors: float = _p(
        0.05,
        "share of sector emissions",
        0.01,
        0.1,
        "CDP/C40 2011: city government operations 1-7% of community-wide emissions [src]",
        "share of buildings, transport and energy emissions from the city's own operations "
        "and procured services (public buildings, fleets, lighting, public transport)",
    )
    gpp_municipal_share_waste: float = _p(
        0.5,
        "share of sector emissions",
        0.2,
        0.8,
        "[assume]: municipalities procure most waste collection and treatment",
        "share of waste-sector emissions under municipal contracts",
    )
    gpp_emissions_cut_per_green_tender: float = _p(
        0.3,
        "share",
        0.1,
        0.5,
        "GPP2020 (100+ low-carbon tenders, ~0.9 Mt CO2 saved) [assume for the share]",
        "emissions cut of a procured good, service or work bought with green criteria",
    )
    lever_financing_industry_fund_boost: float = _p(
        1.0,
        "x fund budget",
        0.25,
        2.0,
        "domain §4 [assume] (the former implicit x(1+I))",
        "extra industry-decarbonisation fund budget at financing-lever intensity 1",
    )
    lever_financing_pda_eur_per_person_month: float = _p(
        15_000.0,
        "EUR/person-month",
        7_000.0,
        25_000.0,
        "ELENA covers up to 90% of project development costs (EIB 2017); consultant "
        "EUR 350-800/day x 21 days [der]",
        "cost of the preparation work project development assistance takes off cities",
    )
    lever_financing_sme_advisory_fte_per_100k: float = _p(
        1.0,
        "FTE per 100k residents",
        0.2,
        3.0,
        "[assume]: one adviser per ~100k residents in a city consulting branch",
        "advisory staff of the cities' SME consulting branches at financing-lever intensity 1",
    )
    lever_financing_sme_advice_know_how_gain: float = _p(
        0.5,
        "share of know-how gap",
        0.0,
        1.0,
        "[assume]",
        "advice closes this share of an SME's funding know-how gap for its application",
    )
    lever_dialogue_eur_per_city_round: float = _p(
        10_000.0,
        "EUR per city and round",
        3_000.0,
        30_000.0,
        "TAIEX EUR 350/day fee plus travel for 10-20 organiser and expert days per "
        "multi-city round, shared [assume]",
        "organising cost of one dialogue round for one city (its own staff time not counted)",
    )
    lever_dialogue_national_fte_per_country: float = _p(
        2.0,
        "FTE per country",
        0.5,
        5.0,
        "[assume]: a national-regional-local coordination desk",
        "national staff running the coordination with cities at dialogue-lever intensity 1",
    )
    lever_simplification_eur_per_resident_year: float = _p(
        0.05,
        "EUR/resident/yr",
        0.01,
        0.2,
        "[assume]: one-stop shop, harmonised templates and portal upkeep, ~EUR 22 M/yr EU-wide",
        "running cost of the simplified funding access at simplification intensity 1",
    )
    lever_rni_eur_per_resident_year: float = _p(
        5.0,
        "EUR/resident/yr",
        1.0,
        15.0,
        "Horizon Europe Cluster 5 (~EUR 15 bn 2021-27, ~EUR 5/resident/yr); Innovation Fund "
        "~EUR 9/resident/yr [der]",
        "extra R&I funding for clean routes, circularity and SME innovation at intensity 1",
    )
    lever_rni_learning_boost: float = _p(
        1.0,
        "x learning rate",
        0.0,
        2.0,
        "domain §4 [assume] (the former implicit x(1+I))",
        "faster clean-route cost learning at R&I-lever intensity 1",
    )
    lever_ccc_eur_per_signatory_year: float = _p(
        100_000.0,
        "EUR per signatory city/yr",
        30_000.0,
        260_000.0,
        "SGA-NZC (CORDIS 101121530): EUR 87.2 M public funding 2023-26 for the Mission "
        "Platform, ~EUR 260k per Mission City and year incl. pilots [der]",
        "Mission-Platform-type support of a contract city at CCC-lever intensity 1",
    )
    lever_ccc_silo_reduction_boost: float = _p(
        1.0,
        "x silo reduction",
        0.0,
        2.0,
        "domain §4 [assume] (the former implicit x(1+I))",
        "faster silo reduction in contract cities at CCC-lever intensity 1",
    )
    lever_ccc_industry_scope_new_share: float = _p(
        1.0,
        "share",
        0.0,
        1.0,
        "domain §4 [assume] (the former implicit share I)",
        "share of new contracts that take in industry at CCC-lever intensity 1",
    )
    lever_pathway_eur_per_resident_year: float = _p(
        0.02,
        "EUR/resident/yr",
        0.005,
        0.1,
        "[assume]: legislation, monitoring and an independent carbon-price body; the ETS "
        "price itself is not a budget outlay",
        "public running cost of the 2040 pathway at intensity 1",
    )

    # --- Synthetic survey: measurement model (domain §6) ------------------------------------
    survey_cut_center: float = _p(
        -0.152,
        "latent units (respondent noise sd = 1)",
        -1.5,
        1.5,
        "calibrated: posterior median of calibration-20261204T1442Z-2e080d (prior: domain §6 "
        "ordered probit [assume])",
        "centre of the four cut-points shared by the barrier ratings",
    )
    survey_cut_spacing: float = _p(
        0.865,
        "latent units",
        0.3,
        1.5,
        "calibrated: posterior median of calibration-20261204T1442Z-2e080d (prior: domain §6 "
        "ordered probit [assume])",
        "distance between neighbouring cut-points",
    )
    survey_state_loading: float = _p(
        1.42,
        "latent units per unit severity",
        0.5,
        6.0,
        "calibrated: posterior median of calibration-20261204T1442Z-2e080d (prior: domain §6 "
        "[assume])",
        "how strongly a city's state (severity in [0, 1]) moves its answers",
    )
    survey_value_cut_center: float = _p(
        -0.804,
        "latent units",
        -1.5,
        1.5,
        "calibrated: posterior median of calibration-20261204T1442Z-2e080d (prior: domain §6 "
        "[assume])",
        "centre of the cut-points of the support-value rankings",
    )
    survey_respondent_bias_sd: float = _p(
        0.5,
        "latent units",
        0.0,
        1.0,
        "domain §6 per-city bias [assume]",
        "sd of a respondent's bias shared by all its ratings",
    )
    survey_careless_share: float = _p(
        0.182,
        "probability",
        0.03,
        0.33,
        "calibrated: posterior median of calibration-20261204T1442Z-2e080d (prior: careless "
        "responding in surveys: 10-12% of respondents (Meade & Craig 2012, Psychol. Methods 17: "
        "437-455), 3-10% in typical samples and over 30% in online panels (Ward & Meade 2022, "
        "Annu. Rev. Psychol.), 33% under normal study conditions (Goldammer et al. 2020, "
        "Leadership Quarterly; zora.uzh.ch 183124): 0.03-0.33 [src]; was 0.05-0.2 from domain §6, "
        "6-11 answers of 5 per support item, which the posterior pressed at 0.2)",
        "rho: a respondent reverses the support-value scale or answers carelessly",
    )
    survey_misclassification: float = _p(
        0.07,
        "probability",
        0.05,
        0.1,
        "domain §6: 5-10% [assume]",
        "a categorical answer names another category than the city's state",
    )
    survey_other_share: float = _p(
        0.1,
        "probability",
        0.0,
        0.2,
        "nmc_admin_structure and nmc_climate_budget: 10% 'other' [der]",
        "a respondent answers 'other' to a categorical item that offers it",
    )
    survey_unknown_share: float = _p(
        0.14,
        "probability",
        0.0,
        0.3,
        "nmc_climate_budget: 14% 'not known / unsure' [der]",
        "a respondent does not know whether the city has a climate budget",
    )
    survey_selection_weight: float = _p(
        1.0,
        "log-odds per unit awareness",
        0.0,
        3.0,
        "domain §6: 84% of NMC respondents in an EU initiative [assume]",
        "self-selection: response propensity rises with network awareness",
    )

    def replace(self, **changes: float) -> Parameters:
        """A copy with some values changed; names and ranges are checked."""
        names = {f.name for f in dataclasses.fields(self)}
        for key, value in changes.items():
            if key not in names:
                raise KeyError(f"unknown parameter {key!r}")
            PARAMETER_RANGES[key].check(f"parameters.{key}", float(value))
        return dataclasses.replace(self, **{k: float(v) for k, v in changes.items()})


PARAMETER_META: dict[str, dict[str, Any]] = {
    f.name: dict(f.metadata) for f in dataclasses.fields(Parameters)
}

# unit endings of registry names, left out of a label because the unit follows the number
_UNIT_SUFFIXES = (
    "_eur_per_capita_per_year",
    "_person_months",
    "_eur_per_t",
    "_months",
    "_years",
    "_pp",
)


def _strip_doc(doc: str) -> str:
    """A registry doc without its symbol prefix ('b3: burden ...' -> 'burden ...')."""
    return re.sub(r"^[\w ]{1,12}:\s*", "", doc)


def _readable(doc: str) -> bool:
    """Does a registry doc read as a noun phrase that names the parameter on its own?"""
    words = doc.split()
    return (
        len(words) >= 3
        and not any(mark in doc for mark in ("->", "~", "_", "^"))
        and len(words[0]) > 1
        and len(words[-1]) > 1
        and words[-1] not in {"after", "than", "of", "to", "by", "for", "per"}
    )


_DOC_COUNTS: dict[str, int] = {}
for _meta in PARAMETER_META.values():
    _doc = _strip_doc(str(_meta["doc"]))
    _DOC_COUNTS[_doc] = _DOC_COUNTS.get(_doc, 0) + 1


def parameter_label(name: str) -> str:
    """A parameter's label for people, from its registry doc (KeyError for unknown names).

    The doc is used when it reads as a name on its own (three words or more, no symbols,
    unique in the registry); otherwise the parameter's name with underscores as spaces and its
    unit ending dropped (the unit is shown next to the number).
    """
    doc = _strip_doc(str(PARAMETER_META[name]["doc"]))
    if _readable(doc) and _DOC_COUNTS.get(doc, 0) == 1:
        return doc
    stem = name
    for suffix in _UNIT_SUFFIXES:
        if stem.endswith(suffix) and len(stem) > len(suffix):
            stem = stem.removesuffix(suffix)
            break
    return stem.replace("_", " ")


# the registry's plausible ranges, enforced for scenario files and Parameters.replace (direct
# construction may leave them, e.g. a test that switches a mechanism off)
PARAMETER_RANGES: dict[str, Range] = {
    name: Range(integer=False, low=meta["low"], high=meta["high"])
    for name, meta in PARAMETER_META.items()
}


def _verification_range(meta: dict[str, Any]) -> Range:
    """What a verification scenario may set: the sign of the plausible range, shares <= 1."""
    low = 0.0 if meta["low"] >= 0.0 else None
    unit = str(meta["unit"])
    is_share = ("share" in unit or "probability" in unit) and meta["high"] <= 1.0
    return Range(integer=False, low=low, high=1.0 if is_share and low is not None else None)


# a scenario with ``[scenario] verification = true`` (extreme-condition tests, not a plausible
# world) may leave the plausible ranges but not these: no sign changes, shares stay shares
VERIFICATION_PARAMETER_RANGES: dict[str, Range] = {
    name: _verification_range(meta) for name, meta in PARAMETER_META.items()
}


def registry() -> list[dict[str, Any]]:
    """The parameter registry as rows: name, value, unit, low, high, source, doc."""
    defaults = Parameters()
    return [
        {"name": name, "value": getattr(defaults, name), **meta}
        for name, meta in PARAMETER_META.items()
    ]


POPULATION_RANGES: dict[str, Range] = {
    "n_non_mission_cities": Range(integer=True, low=0, high=5000),
    "residents_per_citizen": Range(integer=False, low=0.0, low_open=True),
    "min_citizens_per_city": Range(integer=True, low=1),  # every city needs citizens
    "generated_installations": Range(integer=True, low=0),
}


@dataclass(frozen=True, slots=True)
class PopulationConfig:
    """How the synthetic EU is built: which cities, how many citizens and firms."""

    n_non_mission_cities: int = 250
    residents_per_citizen: float = 1350.0
    min_citizens_per_city: int = 20
    generated_installations: int = 120
    mission_cities_csv: Path = DATA_DIR / "mission_cities.csv"
    countries_csv: Path = DATA_DIR / "countries.csv"
    grid_intensity_csv: Path = DATA_DIR / "grid_intensity.csv"
    industrial_sites_csv: Path = DATA_DIR / "industrial_sites.csv"
    announced_projects_csv: Path = DATA_DIR / "announced_projects.csv"
    ets_sector_emissions_csv: Path = DATA_DIR / "ets_sector_emissions.csv"
    energy_prices_csv: Path = DATA_DIR / "energy_prices.csv"

    def __post_init__(self) -> None:
        for name, allowed in POPULATION_RANGES.items():
            allowed.check(f"population.{name}", getattr(self, name))


NEW_INSTALLATION_RANGES: dict[str, Range] = {
    "capacity_mt": Range(integer=False, low=0.0, high=50.0, low_open=True),
    "jobs": Range(integer=False, low=0.0, high=100_000.0),
    "start_year": Range(integer=True, low=FIRST_LEVER_YEAR, high=LAST_LEVER_YEAR),
}


def check_route(where: str, sector: str, technology: str) -> None:
    """Raise ConfigError unless ``sector`` is known and ``technology`` is one of its routes."""
    from abm.rules import industry_tech as it

    check_choice(f"{where}.sector", sector, it.SECTORS, f"one of {it.SECTORS}")
    routes = [t.name for t in it.TECHNOLOGIES if t.sector == sector]
    if technology not in routes:
        raise ConfigError(
            f"{where}.technology",
            technology,
            f"one of {', '.join(routes)}",
            problem=f"{technology!r} is not a {sector} route",
        )


@dataclass(frozen=True, slots=True)
class NewInstallation:
    """A plant that enters a case city during the run (e.g. Dunkirk's battery gigafactory)."""

    name: str
    sector: str  # one of abm.rules.industry_tech.SECTORS
    technology: str  # a route of that sector (abm.rules.industry_tech.TECHNOLOGIES)
    capacity_mt: float  # Mt product per year
    jobs: float  # direct jobs at full output
    start_year: int  # first year of operation
    national_asset: bool = False

    def __post_init__(self) -> None:
        where = f"case.new_installations[{self.name!r}]"
        check_route(where, self.sector, self.technology)
        for name, allowed in NEW_INSTALLATION_RANGES.items():
            allowed.check(f"{where}.{name}", getattr(self, name))


CASE_PLANT_RANGES: dict[str, Range] = {
    "jobs": Range(integer=False, low=0.0, high=100_000.0),
    "share_of_city_emissions": Range(integer=False, low=0.0, high=0.99),
}


@dataclass(frozen=True, slots=True)
class CasePlant:
    """A named site pinned in a case city, with the facts the case file states about it.

    When a case lists plants, they are the only plants on the focus city's territory at the
    start (besides its ``new_installations``): other sites and generated plants move out.
    """

    site: str  # site_name (or operator) of a row of industrial_sites.csv
    jobs: float | None = None  # direct jobs at the start (None: the data file's figure)
    # the plant's share of the city's emissions inventory at the start (None: as modelled);
    # sets the plant's inventory emissions (scope 1 and 2 as the city counts them)
    share_of_city_emissions: float | None = None

    def __post_init__(self) -> None:
        for name, allowed in CASE_PLANT_RANGES.items():
            value = getattr(self, name)
            if value is not None:
                allowed.check(f"case.plants[{self.site!r}].{name}", value)


CASE_PROJECT_RANGES: dict[str, Range] = {
    "cost_eur": Range(integer=False, low=0.0, high=1e10, low_open=True),
    "abatement_t": Range(integer=False, low=0.0, high=1e8, low_open=True),
    "revenue_ratio": Range(integer=False, low=0.0, high=5.0),
    "start_year": Range(integer=True, low=FIRST_LEVER_YEAR, high=LAST_LEVER_YEAR),
    "n_departments": Range(integer=True, low=1, high=4),
}


@dataclass(frozen=True, slots=True)
class CaseProject:
    """A project the case file defines for the focus city: it enters as prepared in its year.

    Prepared projects compete for calls, national programmes, own budget and private finance
    like the city's own (``projects.add_case_projects``), so the levers can fund it.
    """

    name: str
    sector: str  # one of abm.agents.state.SECTORS_CITY
    cost_eur: float
    abatement_t: float  # tCO2e/yr once operating
    revenue_ratio: float = 0.0  # present value of revenues or savings / cost
    start_year: int = 2025
    n_departments: int = 1

    def __post_init__(self) -> None:
        for name, allowed in CASE_PROJECT_RANGES.items():
            allowed.check(f"case.projects[{self.name!r}].{name}", getattr(self, name))
        check_choice(
            f"case.projects[{self.name!r}].sector",
            self.sector,
            SECTORS_CITY,
            f"one of {', '.join(SECTORS_CITY)}",
        )


CASE_RANGES: dict[str, Range] = {
    "national_gdp_eur": Range(integer=False, low=0.0, high=1e14, low_open=True),
    "national_co2_t": Range(integer=False, low=0.0, high=1e10, low_open=True),
    "omega_econ": Range(integer=False, low=0.0, high=1.0),
    "kappa": Range(integer=False, low=0.0, high=1.0),
    "job_threat_multiplier": Range(integer=False, low=0.0, high=10.0),
    "margin_shock_eur_per_t": Range(integer=False, low=0.0, high=1000.0),
    "margin_shock_year": Range(integer=True, low=FIRST_LEVER_YEAR, high=LAST_LEVER_YEAR),
}


@dataclass(frozen=True, slots=True)
class CaseConfig:
    """A case city in focus (domain §5): local settings on top of the EU model.

    ``None`` leaves the model's own value. The focus city must be a Mission City.
    """

    focus_city: str
    industry_in_ccc: bool | None = None  # the city's CCC covers its industrial zone (or not)
    omega_econ: float | None = None  # the focus country's weight on jobs/GDP
    kappa: float | None = None  # the city's authority over the plants on its territory
    job_threat_multiplier: float = 1.0  # how strongly plant job risk moves local opinion
    margin_shock_eur_per_t: float = 0.0  # margin lost by local plants (patents, competitors)
    margin_shock_year: int = 2030
    new_installations: tuple[NewInstallation, ...] = ()
    plants: tuple[CasePlant, ...] = ()  # every plant on the city's territory (empty: as built)
    national_gdp_eur: float | None = None  # the focus country's GDP (plant's share reported)
    national_co2_t: float | None = None  # the focus country's CO2 emissions (plant's share)
    projects: tuple[CaseProject, ...] = ()  # projects of the focus city defined by the case

    def __post_init__(self) -> None:
        for name, allowed in CASE_RANGES.items():
            value = getattr(self, name)
            if value is not None:  # None leaves the model's own value
                allowed.check(f"case.{name}", value)


SCENARIO_RANGES: dict[str, Range] = {
    "start_year": Range(integer=True, low=MIN_YEAR, high=MAX_YEAR),
    "end_year": Range(integer=True, low=MIN_YEAR, high=MAX_YEAR),
}
STEPS_PER_YEAR_WORDS = "1 (yearly) or 4 (quarterly)"


@dataclass(frozen=True, slots=True)
class ScenarioConfig:
    """One scenario: time frame, population, parameters and lever settings."""

    name: str = "baseline"
    description: str = ""
    start_year: int = 2025
    end_year: int = 2050
    steps_per_year: int = 1
    population: PopulationConfig = field(default_factory=PopulationConfig)
    parameters: Parameters = field(default_factory=Parameters)
    levers: tuple[LeverSetting, ...] = field(
        default_factory=lambda: tuple(LeverSetting(name) for name in LEVER_NAMES)
    )
    case: CaseConfig | None = None
    # how staff time is shared (abm.rules.staff.STAFF_RULES); protected shares by default:
    # strict priority leaves most cities no time for dialogue or engagement, against the NMC
    # survey, where most cities inform (73%) and consult (60%) their citizens (docs/ODD.md §3)
    staff_rule: str = "protected_shares"
    verification: bool = False  # parameters may leave their plausible ranges (not a world)

    def __post_init__(self) -> None:
        from abm.rules.staff import STAFF_RULE_WORDS, STAFF_RULES

        check_choice("scenario.staff_rule", self.staff_rule, STAFF_RULES, STAFF_RULE_WORDS)
        check_choice(
            "scenario.steps_per_year",
            self.steps_per_year,
            ALLOWED_STEPS_PER_YEAR,
            STEPS_PER_YEAR_WORDS,
        )
        for name, allowed in SCENARIO_RANGES.items():
            allowed.check(f"scenario.{name}", getattr(self, name))
        if self.end_year <= self.start_year:
            raise ConfigError(
                "scenario.end_year",
                self.end_year,
                f"an integer in [{self.start_year + 1}, {MAX_YEAR}]",
                problem=f"end_year {self.end_year} must be after start_year {self.start_year}",
            )

    def lever(self, name: str) -> LeverSetting:
        """The setting of one named lever."""
        for setting in self.levers:
            if setting.name == name:
                return setting
        raise KeyError(f"unknown lever {name!r}; known: {', '.join(LEVER_NAMES)}")

    @property
    def n_years(self) -> int:
        """Number of simulated years (inclusive of start and end)."""
        return self.end_year - self.start_year + 1

    def as_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable form (for manifests)."""
        out = dataclasses.asdict(self)
        out["population"] = {
            k: str(v) if isinstance(v, Path) else v for k, v in out["population"].items()
        }
        out["levers"] = [dataclasses.asdict(lv) for lv in self.levers]
        if self.case is None:
            out.pop("case", None)  # keeps the manifests and run keys of non-case runs unchanged
        return out
