"""Synthetic survey: every city answers the survey instruments from its state (domain §6).

The model simulates the *survey*, not only the world. A measurement model maps agent state to
answers:

- **Severities.** Each rated item reads one severity ``d`` in [0, 1] from the city's state
  (:func:`severities`): the share of staff workload left undone, the unmet share of capital
  need, ``s(1-c)`` for silos, ``1-a`` for multilevel fragmentation, ``1-skill`` for knowledge
  gaps, and so on (table in docs/ODD.md §7.14).
- **Ratings (1-5).** Latent ``z = L (d - 1/2) + u_i + eta``, with loading ``L``
  (``survey_state_loading``), a per-respondent bias ``u_i ~ N(0, survey_respondent_bias_sd)``
  shared by all its ratings and noise ``eta ~ N(0, 1)``; the answer is one plus the number of
  cut-points ``tau_k = centre + spacing (k - 5/2)`` below ``z`` (ordered probit with cut-points
  shared across items, domain §6).
- **Support values (1 = highly valuable).** The same with their own cut-point centre and the
  scale reversed (a larger gap makes support more valuable); with probability
  ``survey_careless_share`` a respondent reverses the scale.
- **Yes/no and multi-select items** threshold the same latent ``z`` (e.g. staff sufficient iff
  ``z`` of the admin-capacity rating is below the centre; an EoI key barrier is ticked iff the
  city would rate it 4 or 5), so a city's answers are consistent across items.
- **Categorical items** report the state (structure, climate budget, target status) with
  misclassification ``survey_misclassification`` and "other" / "not known" answers.
- **Who answers.** The 2024 survey reaches non-mission cities, which respond with a propensity
  rising with network awareness (``survey_selection_weight``): the sample is self-selected. The
  2021 Expression of Interest is answered by every EoI applicant; the Mission-City items by the
  112 Mission Cities.

Timing: the model starts in 2025 from a population built on 2021-2024 data; the survey is taken
after :data:`WARM_UP_YEARS` simulated year, so flow quantities (workload, funding gap) exist. The
same snapshot stands for both survey dates (2021 EoI, 2024 NMC survey).

:func:`expected_distributions` gives each item's answer distribution in expectation over
respondent noise and self-selection (smooth, for calibration distances); :func:`administer`
draws one concrete survey (a tidy table, for cross-tabulation and predictive checks).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr

from abm.agents.state import P_IDEA, P_PREPARED, REGIONS, SIZE_CLASSES, STRUCTURES
from abm.config import Parameters, ScenarioConfig
from abm.model import GovernanceModel
from abm.rules.projects import investment_need_eur

WARM_UP_YEARS = 1
NMC = "nmc_survey_2024"
EOI = "eoi_2021"
DYNAMICS = "dynamics"
INSTRUMENTS: tuple[str, ...] = (NMC, EOI)
# model time (start of a year) at which each instrument is read: the EoI closed in early 2022
# (answers about 2021), the NMC survey ran in 2024 (read at the end of 2024); a model that starts
# later reads it after WARM_UP_YEARS instead
SURVEY_YEAR: dict[str, float] = {EOI: 2022.0, NMC: 2025.0}
# dynamic patterns: Mission Labels at the ends of 2023-2025, CCCs in mid-2024 (between the ends
# of 2023 and 2024), absorption at the ends of the run's years 5 and 7
LABEL_YEARS: tuple[float, ...] = (2024.0, 2025.0, 2026.0)
CCC_YEAR = 2024.5
ABSORPTION_RUN_YEARS: tuple[int, ...] = (5, 7)
N_CUTS = 4

BARRIER_SCALE: tuple[str, ...] = ("1 (no challenge)", "2", "3", "4", "5 (high challenge)")
VALUE_SCALE: tuple[str, ...] = ("1 (highly valuable)", "2", "3", "4", "5 (least valuable)")

# who answers: non-mission cities (self-selected), EoI applicants, Mission Cities
NON_MISSION, EOI_APPLICANTS, MISSION = "non-mission", "eoi applicants", "mission"


@dataclass(frozen=True, slots=True)
class Item:
    """One survey question as the model answers it.

    ``kind``: ``rating`` (barrier 1-5), ``value`` (support value 1-5, reversed scale),
    ``binary`` (yes-no read off a rating's latent: ``categories[0]`` when the latent lies below
    the ``cut`` if ``below`` else above it), ``multi`` (multi-select: one driver per option,
    ticked on the same rule), ``state`` (categorical state reported with noise) or
    ``attribute`` (who the respondent is: size class, region).
    """

    id: str
    instrument: str
    kind: str
    categories: tuple[str, ...]
    drivers: tuple[str, ...] = ()
    cut: str = "centre"  # for binary/multi: "centre", "tau1" or "tau3"
    below: bool = True  # binary/multi: first category / tick when the latent is below the cut
    responders: str = NON_MISSION


def _rating(item_id: str, driver: str) -> Item:
    return Item(item_id, NMC, "rating", BARRIER_SCALE, (driver,))


def _value(item_id: str, driver: str) -> Item:
    return Item(item_id, NMC, "value", VALUE_SCALE, (driver,))


ITEMS: tuple[Item, ...] = (
    _rating("barrier_insufficient_admin_capacity", "workload"),
    _rating("barrier_lack_funding_schemes", "funding_gap"),
    _rating("barrier_high_initial_capital_costs", "capital_need"),
    _rating("barrier_fragmentation_multilevel_gov", "multilevel"),
    _rating("barrier_municipal_silos", "silos"),
    _rating("barrier_lack_political_commitment", "political"),
    _rating("barrier_lack_citizen_participation", "citizens"),
    _rating("barrier_lack_climate_finance_knowledge", "finance_knowledge"),
    _rating("barrier_lack_technical_knowledge", "technical_knowledge"),
    _rating("barrier_lack_emissions_tools", "technical_knowledge"),
    _rating("barrier_market_uncertainties", "market"),
    _rating("barrier_lack_available_technologies", "technology"),
    _rating("barrier_public_private_collab", "public_private"),
    _value("support_value_financial_support_projects", "funding_gap"),
    _value("support_value_financial_advisory", "finance_knowledge"),
    _value("support_value_capacity_building", "workload"),
    _value("support_value_tools_skills", "technical_knowledge"),
    _value("support_value_technical_strategic_assistance", "technical_knowledge"),
    _value("support_value_coordination", "silos"),
    _value("support_value_policy_regulation", "multilevel"),
    _value("support_value_emissions_reporting", "technical_knowledge"),
    _value("support_value_dissemination_outreach", "citizens"),
    Item(
        "nmc_staff_sufficiency",
        NMC,
        "binary",
        ("no (lack sufficient/trained staff)", "yes (necessary staff in place)"),
        ("workload",),
        below=False,
    ),
    Item(
        "nmc_capacity_to_identify_capital_needs",
        NMC,
        "binary",
        ("yes", "no"),
        ("finance_knowledge",),
    ),
    Item(
        "nmc_admin_structure",
        NMC,
        "state",
        (
            "cross-sectoral collaborative organisation",
            "led by another sectoral department (energy, transport...)",
            "climate office / environmental department (ad-hoc office)",
            "fragmented across departments, no coordination",
            "other (remainder)",
        ),
    ),
    Item(
        "nmc_climate_budget",
        NMC,
        "state",
        ("no climate budget", "climate budget in place", "not known / unsure", "other"),
    ),
    Item(
        "nmc_target_status_count_from_tables",
        NMC,
        "state",
        ("no target", "planned target", "existing target"),
    ),
    Item("nmc_by_size_class_count_derived", NMC, "attribute", SIZE_CLASSES),
    Item(
        "nmc_by_region",
        NMC,
        "attribute",
        ("Southern Europe", "Central/Eastern Europe", "Western Europe", "Northern Europe"),
    ),
    Item(
        "eoi_key_barriers",
        EOI,
        "multi",
        (
            "lack of funding/financing schemes",
            "fragmentation of responsibilities",
            "insufficient administrative and/or operational capacity",
        ),
        ("funding_gap", "multilevel", "workload"),
        cut="tau3",
        below=False,
        responders=EOI_APPLICANTS,
    ),
    Item(
        "eoi_staff_cross_sectoral_skills",
        EOI,
        "binary",
        (
            "staff sufficiently trained and skilled (yes)",
            "not sufficiently trained and skilled (complement, not printed)",
        ),
        ("technical_knowledge",),
        cut="tau1",
        responders=EOI_APPLICANTS,
    ),
    Item(
        "mc_target_status_eoi",
        EOI,
        "state",
        ("target in place", "in process of adopting", "no target beyond 2020"),
        responders=MISSION,
    ),
)
# dynamic patterns (pattern-oriented modelling, issue 12): read off the run, not asked
DYNAMIC_ITEMS: tuple[Item, ...] = (
    Item(
        "mission_label_timing",
        DYNAMICS,
        "dynamic",
        (
            "Label in 2023",
            "Label in 2024",
            "Label in 2025",
            "no Label by the end of 2025",
        ),
        responders=MISSION,
    ),
    Item(
        "mission_ccc_mid_2024",
        DYNAMICS,
        "dynamic",
        ("CCC created by June 2024", "no CCC by June 2024"),
        responders=MISSION,
    ),
    Item(
        "grant_absorption_curve",
        DYNAMICS,
        "dynamic",
        ("paid by the end of year 5", "paid by the end of year 7"),
    ),
)
ITEM_BY_ID: dict[str, Item] = {item.id: item for item in (*ITEMS, *DYNAMIC_ITEMS)}
# Transcribed survey targets the model does not answer, and why (docs/ODD.md §7.14)
NOT_ANSWERED: dict[str, str] = {
    "barrier_geomorphic_climate": "geography and climate are outside the model",
    "nmc_plan_types": "plans are not modelled",
    "nmc_ghg_inventory_status": "monitoring and inventories are not modelled",
    "nmc_citizen_engagement_modes": "cities have one main engagement mode, not a set of "
    "practices to tick",
    "nmc_international_initiatives_participation": "network memberships are not modelled "
    "(awareness stands in for them in the response propensity)",
    "mc_capacity_building_needs_eoi": "needs by knowledge domain are not modelled",
    "eoi_energy_barrier_capital_costs": "sector-specific barriers are not modelled",
    "eoi_mobility_barrier_time_economic": "sector-specific barriers are not modelled",
    "eoi_waste_barrier_behavioural": "sector-specific barriers are not modelled",
    "eoi_citizen_engagement_practices": "cities have one main engagement mode, not a set of "
    "practices to tick",
    "eoi_stakeholder_groups_engaged": "stakeholder groups are not modelled",
    "eoi_vulnerable_groups_engaged": "vulnerable groups are not modelled",
    "eoi_private_sector_collaboration_area": "fields of private-sector collaboration are not "
    "modelled",
    "eoi_cobenefit_assessment_share": "co-benefit assessment is not modelled",
}
# the region labels of nmc_by_region in the order of abm.agents.state.REGIONS
REGION_LABELS = {
    "Northern": "Northern Europe",
    "Western": "Western Europe",
    "Southern": "Southern Europe",
    "Central-Eastern": "Central/Eastern Europe",
}


# ---------------------------------------------------------------------------------------------
def severities(m: GovernanceModel) -> dict[str, np.ndarray]:
    """Per-city severity in [0, 1] of each driver of the survey answers (docs/ODD.md §7.14)."""
    c = m.cities
    pr = m.projects
    alive = slice(0, pr.size)
    # workload relative to capacity: r = (done + undone) / capacity, severity r / (1 + r)
    used = m.staff_use_pm.sum(axis=1)
    capacity = np.maximum(c.staff_fte * m.params.climate_time_share * 12.0, 1e-9)
    ratio = (used + m.year_flows.unmet_pm) / capacity
    # unmet capital need: the city's yearly investment need (its climate-neutrality plan)
    # against the money in reach; not the queue of prepared projects, which grows with the
    # staff that prepares them (the funding items then asked for more staff: issue 12)
    need_eur = investment_need_eur(m) / m.params.investment_portfolio_years
    in_reach = m.budget_left_eur + m.year_flows.awarded_eur
    prepared = pr.stage[alive] == P_PREPARED
    # capital need of the whole pipeline (ideas and prepared projects) against the own budget
    pipeline = (pr.stage[alive] == P_IDEA) | prepared
    pipeline_eur = np.bincount(
        pr.city[alive][pipeline], weights=pr.cost_eur[alive][pipeline], minlength=c.n
    )
    enables = m.nations.enables_instruments[c.country].astype(float)
    deal_gap = private_deal_gap(m)
    return {
        "workload": ratio / (1.0 + ratio),
        "funding_gap": need_eur / (need_eur + in_reach + 1.0),
        "capital_need": pipeline_eur / (pipeline_eur + c.climate_budget_eur + 1.0),
        "multilevel": 0.75 * (1.0 - c.alignment) + 0.25 * (1.0 - enables),
        "silos": c.silo * (1.0 - c.coordination),
        "political": 1.0 - c.commitment,
        "citizens": 0.5 * (1.0 - m.support) + 0.5 * (1.0 - m.participation_rate),
        "finance_knowledge": 1.0 - c.finance_skill,
        "technical_knowledge": 1.0 - c.skill,
        # the barrier items the levers act on (issue 12): price risk, technology, collaboration
        "market": 0.5 * price_uncertainty(m) + 0.5 * deal_gap,
        "technology": technology_gap(m),
        "public_private": 0.5 * (1.0 - c.industry_dialogue) + 0.5 * deal_gap,
    }


def price_uncertainty(m: GovernanceModel) -> float:
    """Carbon-price risk in [0, 1): effective log volatility against the registry's default.

    ``v / (v + v0)`` with ``v`` the EUA volatility after the predictable-2040-pathway lever and
    ``v0`` = ``carbon_price_volatility`` itself, so the baseline reads 1/2 and the lever lowers it.
    """
    p = m.params
    v = p.carbon_price_volatility * (
        1.0 - p.lever_pathway_uncertainty_cut * m.levers.predictable_pathway_2040
    )
    return float(v / (v + p.carbon_price_volatility + 1e-9))


def private_deal_gap(m: GovernanceModel) -> np.ndarray:
    """Per city: share of its bankable prepared projects without a closed private deal.

    From the private-finance mechanism (abm/rules/finance.py): a bankable project that waits
    without private capital is a failed or pending deal with investors; cities with no
    bankable project read the mean of the others.
    """
    from abm.rules.finance import bankable_share

    c = m.cities
    pr = m.projects
    idx = np.flatnonzero(pr.stage[: pr.size] == P_PREPARED)
    if idx.size == 0:
        return np.full(c.n, 0.5)
    bankable = bankable_share(m, idx) > 0.0
    city = pr.city[idx][bankable]
    open_deal = (pr.private_eur[idx][bankable] <= 0.0).astype(float)
    count = np.bincount(city, minlength=c.n)
    gap = np.bincount(city, weights=open_deal, minlength=c.n)
    mean = float(gap.sum()) / max(int(count.sum()), 1)
    return np.where(count > 0, gap / np.maximum(count, 1), mean)


def technology_gap(m: GovernanceModel) -> np.ndarray:
    """Per city: 1 - technology readiness: its SMEs' mean innovation and circular options.

    Half the mean innovation propensity of the city's SMEs (R&I raises adoption), half the
    availability of circular-economy options (``circular_without_rni`` and the R&I lever).
    """
    c = m.cities
    s = m.smes
    p = m.params
    count = np.bincount(s.city, minlength=c.n)
    total = np.bincount(s.city, weights=s.innovation, minlength=c.n)
    mean = float(s.innovation.mean()) if s.innovation.size else 0.5
    innovation = np.where(count > 0, total / np.maximum(count, 1), mean)
    rni = m.levers.research_innovation
    circular = p.circular_without_rni + (1.0 - p.circular_without_rni) * rni
    return np.asarray(1.0 - 0.5 * innovation - 0.5 * circular)


def cut_points(params: Parameters, value_scale: bool = False) -> np.ndarray:
    """The four ordered-probit cut-points tau_1..tau_4 (latent units)."""
    centre = params.survey_value_cut_center if value_scale else params.survey_cut_center
    return centre + params.survey_cut_spacing * (np.arange(1, N_CUTS + 1) - 2.5)


def latent_mean(params: Parameters, severity: np.ndarray) -> np.ndarray:
    """Mean latent ``L (d - 1/2)`` of a rating given the severity ``d``."""
    return params.survey_state_loading * (np.asarray(severity) - 0.5)


def _threshold(params: Parameters, cut: str) -> float:
    """The latent threshold of a yes/no or multi-select item."""
    taus = cut_points(params)
    return {"centre": params.survey_cut_center, "tau1": taus[0], "tau3": taus[2]}[cut]


def _total_sd(params: Parameters) -> float:
    """Sd of the latent around its mean: respondent noise (1) and respondent bias."""
    return float(np.sqrt(1.0 + params.survey_respondent_bias_sd**2))


def rating_probabilities(params: Parameters, mean: np.ndarray, value_scale: bool) -> np.ndarray:
    """(cities, 5) answer probabilities of a rating, marginal over noise and bias."""
    taus = cut_points(params, value_scale)
    below = ndtr((taus[None, :] - mean[:, None]) / _total_sd(params))  # P(z < tau_k)
    cdf = np.concatenate([np.zeros((mean.size, 1)), below, np.ones((mean.size, 1))], axis=1)
    probs = np.diff(cdf, axis=1)  # P(answer = 1..5), answer 1 = lowest latent
    if value_scale:  # high latent value = answer 1 (highly valuable); careless reversal
        probs = probs[:, ::-1]
        rho = params.survey_careless_share
        probs = (1.0 - rho) * probs + rho * probs[:, ::-1]
    return np.asarray(probs)


def _state_categories(m: GovernanceModel, item: Item) -> np.ndarray:
    """The category index the city's state points to, for a ``state`` item."""
    c = m.cities
    if item.id == "nmc_admin_structure":
        return c.structure
    if item.id == "nmc_climate_budget":
        return c.has_climate_budget.astype(np.int64)
    if item.id == "nmc_target_status_count_from_tables":
        return c.target_status
    if item.id == "mc_target_status_eoi":  # existing -> in place, planned -> in process
        return np.asarray(2 - c.target_status, dtype=np.int64)
    raise KeyError(item.id)


def _state_probabilities(m: GovernanceModel, item: Item) -> np.ndarray:
    """(cities, K) answer probabilities of a categorical state item."""
    p = m.params
    truth = _state_categories(m, item)
    extra: dict[str, float] = {}  # answers that do not report the state
    if item.id == "nmc_admin_structure":
        extra = {"other (remainder)": p.survey_other_share}
    elif item.id == "nmc_climate_budget":
        extra = {"not known / unsure": p.survey_unknown_share, "other": p.survey_other_share}
    k_state = len(item.categories) - len(extra)
    eps = p.survey_misclassification
    probs = np.full((truth.size, len(item.categories)), eps / max(k_state - 1, 1))
    probs[:, k_state:] = 0.0
    probs[np.arange(truth.size), truth] = 1.0 - eps
    reporting = 1.0 - sum(extra.values())
    probs *= reporting
    for label, share in extra.items():
        probs[:, item.categories.index(label)] = share
    return probs


def _attribute_categories(m: GovernanceModel, item: Item) -> np.ndarray:
    c = m.cities
    if item.id == "nmc_by_size_class_count_derived":
        return c.size_class
    region = np.asarray(m.nations.region)[c.country]
    labels = [REGION_LABELS[REGIONS[int(r)]] for r in region]
    return np.array([item.categories.index(lab) for lab in labels], dtype=np.int64)


def answer_probabilities(
    m: GovernanceModel, item: Item, sev: Mapping[str, np.ndarray] | None = None
) -> np.ndarray:
    """(cities, categories) probability of each answer of every city (all cities).

    For ``multi`` items the columns are independent tick probabilities, not a distribution.
    ``sev`` is :func:`severities` of ``m`` when the caller has it already.
    """
    p = m.params
    sev = severities(m) if sev is None else sev
    if item.kind in ("rating", "value"):
        return rating_probabilities(p, latent_mean(p, sev[item.drivers[0]]), item.kind == "value")
    if item.kind in ("binary", "multi"):
        threshold = _threshold(p, item.cut)
        cols = []
        for driver in item.drivers:
            below = ndtr((threshold - latent_mean(p, sev[driver])) / _total_sd(p))
            cols.append(below if item.below else 1.0 - below)
        first = np.stack(cols, axis=1)
        if item.kind == "multi":
            return first
        return np.concatenate([first, 1.0 - first], axis=1)
    if item.kind == "state":
        return _state_probabilities(m, item)
    onehot = np.zeros((m.cities.n, len(item.categories)))
    onehot[np.arange(m.cities.n), _attribute_categories(m, item)] = 1.0
    return onehot


def responders(m: GovernanceModel, group: str) -> np.ndarray:
    """Boolean mask of the cities an instrument reaches."""
    c = m.cities
    return {
        NON_MISSION: ~c.mission,
        EOI_APPLICANTS: c.eoi_applicant,
        MISSION: c.mission,
    }[group]


def response_weights(m: GovernanceModel, group: str) -> np.ndarray:
    """Relative response propensity of each reached city (zero for the others)."""
    reached = responders(m, group).astype(float)
    if group != NON_MISSION:
        return reached
    return reached * np.exp(m.params.survey_selection_weight * m.cities.awareness)


def expected_distributions(
    m: GovernanceModel, items: Sequence[Item] = ITEMS
) -> dict[str, np.ndarray]:
    """Each item's expected answer shares among respondents (self-selection weighted)."""
    sev = severities(m)
    weights = {group: response_weights(m, group) for group in {i.responders for i in items}}
    out = {}
    for item in items:
        w = weights[item.responders]
        probs = answer_probabilities(m, item, sev)
        out[item.id] = (w[:, None] * probs).sum(axis=0) / w.sum()
    return out


# ---------------------------------------------------------------------------------------------
def sample_respondents(
    m: GovernanceModel, group: str, n: int | None, rng: np.random.Generator
) -> np.ndarray:
    """Indices of ``n`` respondents drawn without replacement by response propensity.

    ``None`` (or more than reachable) takes every reached city. Weighted sampling without
    replacement uses exponential keys (Efraimidis and Spirakis 2006).
    """
    w = response_weights(m, group)
    reached = np.flatnonzero(w > 0)
    if n is None or n >= reached.size:
        return reached
    keys = rng.exponential(size=reached.size) / w[reached]
    return np.sort(reached[np.argsort(keys)[:n]])


def _draw_categorical(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    u = rng.random(int(probs.shape[0]))
    cdf = np.cumsum(probs, axis=1)
    cdf[:, -1] = 1.0
    return np.asarray((u[:, None] > cdf).sum(axis=1), dtype=np.int64)


def _draw_answers(
    m: GovernanceModel,
    item: Item,
    bias: np.ndarray,
    rng: np.random.Generator,
    sev: Mapping[str, np.ndarray],
) -> list[tuple[int, str]]:
    """(city, answer) pairs of every reached city for one item, drawn with shared bias."""
    p = m.params
    who = np.flatnonzero(responders(m, item.responders))
    if item.kind in ("state", "attribute"):
        k = _draw_categorical(answer_probabilities(m, item, sev)[who], rng)
        return [(int(i), item.categories[int(j)]) for i, j in zip(who, k, strict=True)]
    rows: list[tuple[int, str]] = []
    for col, driver in enumerate(item.drivers):
        z = latent_mean(p, sev[driver][who]) + bias[who] + rng.standard_normal(who.size)
        if item.kind in ("rating", "value"):
            value = item.kind == "value"
            level = (z[:, None] > cut_points(p, value)[None, :]).sum(axis=1)  # 0..4
            if value:
                level = 4 - level
                flip = rng.random(who.size) < p.survey_careless_share
                level = np.where(flip, 4 - level, level)
            rows.extend((int(i), item.categories[int(j)]) for i, j in zip(who, level, strict=True))
            continue
        threshold = _threshold(p, item.cut)
        first = (z < threshold) if item.below else (z > threshold)
        if item.kind == "multi":
            rows.extend((int(i), item.categories[col]) for i in who[first])
        else:
            rows.extend(
                (int(i), item.categories[0 if f else 1]) for i, f in zip(who, first, strict=True)
            )
    return rows


def administer(
    m: GovernanceModel, rng: np.random.Generator, sample_size: int | None = None
) -> pd.DataFrame:
    """Draw one synthetic survey: one row per city and item (per ticked option for multi).

    Every reached city answers; ``respondent`` marks the self-selected sample of
    ``sample_size`` non-mission cities (all reached cities when ``None``), the cities a
    comparison with the real 2024 survey should tabulate.
    """
    c = m.cities
    bias = rng.normal(0.0, m.params.survey_respondent_bias_sd, c.n)
    sampled = np.zeros(c.n, dtype=bool)
    sampled[sample_respondents(m, NON_MISSION, sample_size, rng)] = True
    sev = severities(m)
    records = []
    for item in ITEMS:
        for city, answer in _draw_answers(m, item, bias, rng, sev):
            records.append((city, item.instrument, item.id, answer))
    frame = pd.DataFrame(records, columns=["city_id", "instrument", "item", "answer"])
    ids = frame["city_id"].to_numpy()
    frame.insert(1, "city", c.name[ids])
    frame.insert(2, "mission_status", np.where(c.mission[ids], "mission", "non-mission"))
    frame.insert(3, "size_class", np.asarray(SIZE_CLASSES, dtype=object)[c.size_class[ids]])
    frame.insert(4, "country", m.nations.code[c.country[ids]])
    statuses = np.array(["no target", "planned target", "existing target"], dtype=object)
    frame.insert(5, "target_status", statuses[c.target_status[ids]])
    frame.insert(6, "admin_structure", np.asarray(STRUCTURES, dtype=object)[c.structure[ids]])
    # NMC items are compared among the self-selected sample; EoI items among all applicants
    nmc = frame["instrument"].to_numpy() == NMC
    frame["respondent"] = np.where(nmc, sampled[ids], True)
    return frame


def survey_year(config: ScenarioConfig, instrument: str) -> float:
    """Model time at which an instrument is read: its date, or after the warm-up if later."""
    return max(SURVEY_YEAR[instrument], float(config.start_year + WARM_UP_YEARS))


def warm_up(config: ScenarioConfig, seed: int) -> GovernanceModel:
    """Build the model and run it to the NMC survey date."""
    model = GovernanceModel(config, seed, record=False)  # surveys read state, not tables
    steps = round((survey_year(config, NMC) - config.start_year) * config.steps_per_year)
    for _ in range(steps):
        model.step()
    return model


def has_dynamics(config: ScenarioConfig) -> bool:
    """Whether a set-up starts early enough, with endogenous Labels, for the dynamic patterns."""
    return config.start_year <= SURVEY_YEAR[EOI] - 1 and not bool(
        config.parameters.mission_labels_from_data
    )


def simulate_survey(
    config: ScenarioConfig,
    seed: int,
    sample_sizes: Mapping[str, int] | None = None,
    rng: np.random.Generator | None = None,
) -> dict[str, np.ndarray]:
    """Run one model and read every instrument at its date, and the dynamic patterns.

    Without ``sample_sizes`` each survey item gets its expected answer shares
    (:func:`expected_distributions`); with them, the shares of one drawn survey of that many
    respondents per item (:func:`sampled_distributions`, respondent bias shared across a
    respondent's items). Dynamic patterns (only when :func:`has_dynamics`) are read off the run.
    """
    model = GovernanceModel(config, seed, record=False)  # surveys read state, not tables
    due = {inst: survey_year(config, inst) for inst in INSTRUMENTS}
    dynamic = has_dynamics(config)
    marks: dict[float, tuple[float, float, float]] = {}
    wanted = set(LABEL_YEARS) | {np.floor(CCC_YEAR), np.ceil(CCC_YEAR)}
    wanted |= {float(config.start_year + k) for k in ABSORPTION_RUN_YEARS}
    end = max([*due.values(), *(wanted if dynamic else [])])
    out: dict[str, np.ndarray] = {}
    mc = model.cities.mission
    while True:
        year = round(model.year, 6)
        for inst, when in due.items():
            if abs(year - when) < 1e-6:
                items = [i for i in ITEMS if i.instrument == inst]
                if sample_sizes is None:
                    shares = expected_distributions(model, items)
                else:
                    assert rng is not None, "sampled surveys need a generator"
                    shares = sampled_distributions(model, items, sample_sizes, rng)
                out.update(shares)
        if dynamic and year in wanted:
            awarded = model.accounts["awarded_eur"]
            marks[year] = (
                float(model.cities.label[mc].mean()),
                float(model.cities.ccc_signed[mc].mean()),
                model.accounts["paid_eur"] / awarded if awarded > 0 else 0.0,
            )
        if year >= end - 1e-6:
            break
        model.step()
    if dynamic:
        cum = [marks[y][0] for y in LABEL_YEARS]
        out["mission_label_timing"] = np.diff(np.array([0.0, *cum, 1.0]))
        lo, hi = np.floor(CCC_YEAR), np.ceil(CCC_YEAR)
        ccc = marks[lo][1] + (CCC_YEAR - lo) * (marks[hi][1] - marks[lo][1])
        out["mission_ccc_mid_2024"] = np.array([ccc, 1.0 - ccc])
        out["grant_absorption_curve"] = np.array(
            [marks[float(config.start_year + k)][2] for k in ABSORPTION_RUN_YEARS]
        )
    return out


def sampled_distributions(
    m: GovernanceModel,
    items: Sequence[Item],
    sample_sizes: Mapping[str, int],
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Answer shares of one drawn survey: ``sample_sizes[item]`` respondents per item.

    Each respondent group answers as one sample: its members are drawn by response
    propensity (self-selection) and each has one bias shared by all its ratings, so answers of
    one respondent are correlated as in the real survey. An item with fewer answers (e.g. 47 of
    62) takes the first of the sample.
    """
    p = m.params
    sev = severities(m)
    # the groups in the items' order: a set's order of strings changes with the process's hash
    # seed, and the groups draw their samples from one stream in turn
    groups = list(dict.fromkeys(i.responders for i in items))
    largest = {
        g: max(sample_sizes.get(i.id, 0) for i in items if i.responders == g) for g in groups
    }
    sample = {g: rng.permutation(sample_respondents(m, g, largest[g], rng)) for g in groups}
    bias = rng.normal(0.0, p.survey_respondent_bias_sd, m.cities.n)
    out: dict[str, np.ndarray] = {}
    for item in items:
        who = sample[item.responders][: max(sample_sizes.get(item.id, 0), 1)]
        k = len(item.categories)
        if item.kind in ("state", "attribute"):
            draws = _draw_categorical(answer_probabilities(m, item, sev)[who], rng)
            out[item.id] = np.bincount(draws, minlength=k) / who.size
            continue
        shares = np.zeros(k)
        for col, driver in enumerate(item.drivers):
            z = latent_mean(p, sev[driver][who]) + bias[who] + rng.standard_normal(who.size)
            if item.kind in ("rating", "value"):
                value = item.kind == "value"
                level = (z[:, None] > cut_points(p, value)[None, :]).sum(axis=1)
                if value:
                    level = 4 - level
                    flip = rng.random(who.size) < p.survey_careless_share
                    level = np.where(flip, 4 - level, level)
                shares = np.bincount(level, minlength=k) / who.size
                continue
            threshold = _threshold(p, item.cut)
            first = (z < threshold) if item.below else (z > threshold)
            if item.kind == "multi":
                shares[col] = first.mean()
            else:
                shares = np.array([first.mean(), 1.0 - first.mean()])
        out[item.id] = shares
    return out
