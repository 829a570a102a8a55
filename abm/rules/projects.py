"""City project pipeline: ideas, preparation, delivery, operation (domain §3.1-§3.3).

Ideas arise at ``rate * (population / 100k)^alpha`` per year, scaled by commitment and the
remaining emissions gap; their mean cost is the city's investment need (own-sector emissions x
abatement capex) over ``investment_portfolio_years`` ideas' worth, so the need per resident, not
the number of projects, sets what a city can abate per resident (issue 10.1); preparation needs
staff time (``project_prep_person_months_per_meur``) plus silo coordination, and passes the
council vote (fcruztorres: mean of N draws from Normal(openness, variety) above a threshold) and
the departments' joint approval (``abm.rules.silos``). Delivery takes longer across silos and
shorter with experience; completed projects abate ``cost / abatement_capex`` t/yr and need O&M
``o*I`` per year from the city budget, or are abandoned with probability ``p_ab``.
"""

from __future__ import annotations

from math import sqrt
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import ndtr

from abm.agents.state import (
    P_ABANDONED,
    P_DROPPED,
    P_IDEA,
    P_IMPLEMENTING,
    P_OPERATING,
    P_PREPARED,
    SECTORS_CITY,
)
from abm.rules import emissions, finance, staff
from abm.rules._math import cumsum_within
from abm.rules.alignment import permitting_speed
from abm.rules.silos import coordination_pm, effective_coordination, proceed_probability

if TYPE_CHECKING:
    from abm.model import GovernanceModel

WASTE = 3  # index of the waste sector in SECTORS_CITY


def generate_ideas(m: GovernanceModel) -> None:
    """New project ideas: Poisson in population, commitment and the remaining gap."""
    add_case_projects(m)
    _add_ideas(m, m.streams["ideas"], m.dt, P_IDEA)


def add_case_projects(m: GovernanceModel) -> None:
    """Hook: the case file's projects of the focus city enter as prepared in their start year."""
    case = m.config.case
    if case is None or not case.projects or not m.is_year_start:
        return
    due = [q for q in case.projects if q.start_year == int(m.year)]
    if not due:
        return
    k = len(due)
    m.projects.add(
        city=np.full(k, m.focus_city),
        sector=np.array([SECTORS_CITY.index(q.sector) for q in due]),
        n_departments=np.array([q.n_departments for q in due]),
        cost_eur=np.array([q.cost_eur for q in due]),
        abatement_t=np.array([q.abatement_t for q in due]),
        stage=np.full(k, P_PREPARED),
        work_pm=np.zeros(k),
        revenue_ratio=np.array([q.revenue_ratio for q in due]),
    )


def seed_pipeline(m: GovernanceModel) -> None:
    """Projects cities already have ready at the start: one year of ideas, prepared."""
    _add_ideas(m, m.streams["initial_pipeline"], m.params.initial_pipeline_years, P_PREPARED)


def idea_rate_per_year(m: GovernanceModel) -> np.ndarray:
    """Project ideas a city conceives per year at full commitment and a full gap (n,)."""
    p = m.params
    size = (m.cities.population / 1e5) ** p.project_count_scale_exponent
    return np.asarray(p.project_ideas_per_100k_residents_per_year * size)


def investment_need_eur(m: GovernanceModel) -> np.ndarray:
    """A city's investment need for its own sectors: start-year emissions x capex (n,)."""
    p = m.params
    capex = p.abatement_capex_eur_per_tco2_per_year
    return np.asarray(m.cities.emissions_base_t.sum(axis=1) * capex)


def _add_ideas(m: GovernanceModel, rng: np.random.Generator, years: float, stage: int) -> None:
    c = m.cities
    p = m.params
    pr = m.projects
    current = emissions.city_sector_emissions(m)
    gap = current.sum(axis=1) / np.maximum(c.emissions_base_t.sum(axis=1), 1.0)
    waiting = np.bincount(pr.city[: pr.size][pr.stage[: pr.size] == P_IDEA], minlength=c.n)
    rate = idea_rate_per_year(m)
    lam = rate * years * (p.ideas_commitment_offset + c.commitment) * np.clip(gap, 0.0, 1.0)
    cap = np.ceil(p.max_waiting_idea_years * rate).astype(np.int64)
    k = np.minimum(rng.poisson(lam), np.maximum(cap - waiting, 0))
    total = int(k.sum())
    city = np.repeat(np.arange(c.n), k)
    # sector chosen in proportion to the city's current sector emissions
    by_idea = current[city]
    share = by_idea / np.maximum(by_idea.sum(axis=1, keepdims=True), 1e-9)
    u = rng.random(total)
    sector = (u[:, None] > np.cumsum(share, axis=1)).sum(axis=1).clip(0, 3)
    spread = rng.lognormal(0.0, p.project_cost_log_sd, total)
    # the ideas of a portfolio would cover the city's need over investment_portfolio_years, so
    # the need per resident, not the project count, sets what a city can abate per resident
    mean_cost = investment_need_eur(m) / np.maximum(p.investment_portfolio_years * rate, 1e-12)
    cost = np.clip(mean_cost[city] * spread, p.project_cost_min_eur, p.project_cost_max_eur)
    n_dep = 1 + rng.binomial(round(p.extra_departments_max), p.extra_department_probability, total)
    revenue = finance.revenue_ratio(p, sector) * rng.lognormal(0.0, p.revenue_ratio_log_sd, total)
    prep, coord = _preparation_pm(m, city, cost, n_dep)
    pr.add(
        city=city,
        sector=sector,
        n_departments=n_dep,
        cost_eur=cost,
        abatement_t=cost / p.abatement_capex_eur_per_tco2_per_year,
        stage=np.full(total, stage),
        work_pm=np.where(stage == P_IDEA, prep + coord, 0.0),
        revenue_ratio=revenue,
    )


def _preparation_pm(
    m: GovernanceModel, city: np.ndarray, cost: np.ndarray, n_dep: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Preparation and coordination staff time a project idea needs (person-months)."""
    p = m.params
    # ELENA-type project development assistance
    elena = 1.0 - p.lever_financing_prep_cut * m.levers.enhanced_financing
    prep = p.project_prep_person_months_per_meur * cost / 1e6 * elena
    coord = coordination_pm(m.cities.silo[city], n_dep, p.coordination_person_months_per_department)
    return prep, coord


def preparation_backlog(m: GovernanceModel) -> np.ndarray:
    """Preparation work still waiting per city (person-months)."""
    pr = m.projects
    ideas = pr.stage[: pr.size] == P_IDEA
    return np.bincount(
        pr.city[: pr.size][ideas], weights=pr.work_pm[: pr.size][ideas], minlength=m.cities.n
    )


def prepare_projects(m: GovernanceModel) -> None:
    """Prepare ideas in age order while staff lasts; council vote and joint approval decide."""
    c = m.cities
    p = m.params
    pr = m.projects
    rng = m.streams["prepare"]
    idx = np.flatnonzero(pr.stage[: pr.size] == P_IDEA)
    u = rng.random(idx.size)
    if idx.size == 0:
        return
    city = pr.city[idx]
    ndep = pr.n_departments[idx]
    # staff time goes to ideas in age order and accumulates until an idea is fully prepared
    remaining = pr.work_pm[idx]
    before = cumsum_within(city, remaining) - remaining
    free = staff.open_reserve(m, "preparation")  # preparation's held time joins the pool
    spent = np.clip(free[city] - before, 0.0, remaining)
    prep, coord = _preparation_pm(m, city, pr.cost_eur[idx], ndep)
    coord_share = coord / np.maximum(prep + coord, 1e-12)
    spent_coord = np.bincount(city, weights=spent * coord_share, minlength=c.n)
    spent_prep = np.bincount(city, weights=spent * (1.0 - coord_share), minlength=c.n)
    staff.charge_staff(m, "preparation", spent_prep)
    staff.charge_staff(m, "coordination", spent_coord)
    pr.work_pm[idx] = remaining - spent
    covered = pr.work_pm[idx] <= 1e-9
    c_eff = effective_coordination(m)
    council_sd = p.council_opinion_variety / sqrt(p.council_size)  # sd of the mean of N draws
    # the council vote and residents' acceptance depend on the city only: one value per city
    p_council = np.asarray(ndtr((c.commitment - p.council_threshold) / council_sd))[city]
    p_joint = proceed_probability(c.silo[city], c_eff[city], ndep, p.veto_conflict)
    # buildings and transport measures also need residents' acceptance (domain §3.7)
    accept = p.acceptance_at_zero_support
    people = np.where(pr.sector[idx] <= 1, (accept + (1.0 - accept) * m.support)[city], 1.0)
    ok = u < p_council * p_joint * people
    done = idx[covered & ok]
    failed = idx[covered & ~ok]
    pr.stage[done] = P_PREPARED
    pr.age_years[done] = 0.0
    pr.stage[failed] = P_DROPPED
    np.add.at(m.year_flows.prepared, pr.city[done], 1.0)
    np.add.at(m.year_flows.dropped, pr.city[failed], 1.0)
    waiting = idx[~covered]
    pr.age_years[waiting] += m.dt
    stale = waiting[pr.age_years[waiting] > p.max_wait_years_unfunded]
    pr.stage[stale] = P_DROPPED


def implement_projects(m: GovernanceModel) -> None:
    """Deliver funded projects: staff-limited progress; completion adds abatement and learning."""
    c = m.cities
    p = m.params
    pr = m.projects
    rng = m.streams["implement"]
    idx = np.flatnonzero(pr.stage[: pr.size] == P_IMPLEMENTING)
    u = rng.random(idx.size)
    if idx.size == 0:
        return
    city = pr.city[idx]
    ndep = pr.n_departments[idx]
    mgmt = (
        p.management_share_of_preparation
        * p.project_prep_person_months_per_meur
        * pr.cost_eur[idx]
        / 1e6
        * m.dt
    )
    coord = coordination_pm(c.silo[city], ndep, p.coordination_person_months_per_department) * m.dt
    met_impl = staff.use_staff(m, "implementation", np.bincount(city, weights=mgmt, minlength=c.n))
    met_coord = staff.use_staff(m, "coordination", np.bincount(city, weights=coord, minlength=c.n))
    speed = permitting_speed(c.alignment[city], p.permitting_alignment_range)
    progress = m.dt * speed * met_impl[city] * np.where(ndep > 1, met_coord[city], 1.0)
    pr.remaining_years[idx] -= progress
    # cross-silo projects can stall for good (hazard grows with s(1-c) and departments)
    c_eff = effective_coordination(m)
    hazard = (
        p.stall_hazard_per_year
        * c.silo[city]
        * (1.0 - c_eff[city])
        * np.maximum(ndep - 1, 0)
        * m.dt
    )
    fail = u < hazard
    pr.stage[idx[fail]] = P_DROPPED
    np.add.at(m.year_flows.dropped, city[fail], 1.0)
    done = idx[~fail & (pr.remaining_years[idx] <= 0.0)]
    if done.size == 0:
        return
    dcity = pr.city[done]
    factor = np.where(
        pr.sector[done] == WASTE,
        p.circular_without_rni + (1.0 - p.circular_without_rni) * m.levers.research_innovation,
        1.0,
    )
    pr.abatement_t[done] *= factor
    pr.stage[done] = P_OPERATING
    np.add.at(c.abated_t, (dcity, pr.sector[done]), pr.abatement_t[done])
    counts = np.bincount(dcity, minlength=c.n).astype(float)
    c.completed_projects += counts
    m.completed_step += counts
    m.year_flows.completed += counts


def operate_projects(m: GovernanceModel) -> None:
    """Pay O&M from the city budget; unpaid O&M leads to abandonment with ``p_ab``."""
    c = m.cities
    p = m.params
    pr = m.projects
    rng = m.streams["operate"]
    idx = np.flatnonzero(pr.stage[: pr.size] == P_OPERATING)
    u = rng.random(idx.size)
    if idx.size == 0:
        return
    city = pr.city[idx]
    eligible = 1.0 - p.lever_financing_om_cut * m.levers.enhanced_financing  # O&M grant-eligible
    om = p.om_share_per_year * pr.cost_eur[idx] * m.dt * eligible
    need = np.bincount(city, weights=om, minlength=c.n)
    paid = np.minimum(need, m.budget_left_eur)
    m.budget_left_eur -= paid
    m.year_flows.om_paid_eur += paid
    short = np.where(need > 0, 1.0 - paid / np.maximum(need, 1e-9), 0.0)
    abandon = u < p.om_abandon_probability * m.dt * short[city]
    gone = idx[abandon]
    pr.stage[gone] = P_ABANDONED
    np.subtract.at(c.abated_t, (pr.city[gone], pr.sector[gone]), pr.abatement_t[gone])
    np.maximum(c.abated_t, 0.0, out=c.abated_t)
    np.add.at(m.year_flows.abandoned, pr.city[gone], 1.0)
