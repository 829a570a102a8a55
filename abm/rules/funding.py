"""Funding: applications, competitive awards, co-finance and absorption (domain §3.1).

* Apply: ``P(apply) = sigma(b0 + b1*aware + b2*need*fit - b3*burden/C_free)`` (Hansum 2025).
* Award: rank applications by a score with ``beta*log2(staff per capita)`` (Urban Institute 2023,
  beta ~1.45 per doubling), alignment (Zia & Koliba 2015) and skill; fund down the list until the
  call's budget runs out (Zia & Koliba 2015, option 1).
* Absorb: awarded money moves committed -> implemented -> certified -> paid with stage delays
  (Cunico, Aivazidou & Mollona 2023, PERCEIVE); grant management needs ~0.95 FTE-years per
  EUR 1 M over a 7-year period (DG REGIO 2018); commitments unclaimed after N+3 are lost.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np

from abm.agents.state import (
    P_DROPPED,
    P_IMPLEMENTING,
    P_PREPARED,
    SRC_COHESION,
    SRC_MISSION,
    SRC_NATIONAL,
    SRC_OWN,
)
from abm.rules import finance, staff
from abm.rules._math import cumsum_within, logistic, rank_within
from abm.rules.silos import start_delivery

if TYPE_CHECKING:
    from abm.model import GovernanceModel

# the unit of admin_fte_years_per_meur: FTE-years per EUR 1 M over a 7-year programme period
# (DG REGIO 2018), not a parameter of its own
PROGRAMME_YEARS = 7.0


@dataclass(slots=True)
class YearFlows:
    """Per-city flows accumulated over the current year (reset at each year start)."""

    applied_eur: np.ndarray
    awarded_eur: np.ndarray
    absorbed_eur: np.ndarray
    decommitted_eur: np.ndarray
    own_funded_eur: np.ndarray
    unmet_pm: np.ndarray
    applications: np.ndarray
    awards: np.ndarray
    prepared: np.ndarray
    completed: np.ndarray
    dropped: np.ndarray
    abandoned: np.ndarray
    om_paid_eur: np.ndarray
    private_eur: np.ndarray  # private, utility and community capital of projects going ahead

    @classmethod
    def zeros(cls, n: int) -> YearFlows:
        """All flows zero for ``n`` cities."""
        return cls(**{f.name: np.zeros(n) for f in fields(cls)})


def absorb_funds(m: GovernanceModel) -> None:
    """Move grant money through the pipeline; staff shortfalls slow it; N+3 decommits."""
    c = m.cities
    p = m.params
    dt = m.dt
    cut = 1.0 - p.lever_simplification_burden_cut * m.levers.simplification
    if m.is_year_start:
        # cohorts age by one year; the oldest (beyond N+3) is lost and the city must cover it
        lost = c.committed_eur[:, -1].copy()
        c.committed_eur[:, 1:] = c.committed_eur[:, :-1]
        c.committed_eur[:, 0] = 0.0
        m.year_flows.decommitted_eur += lost
        m.accounts["decommitted_eur"] += float(lost.sum())
        m.city_debt_eur += lost
    pipeline = c.committed_eur.sum(axis=1) + c.implemented_eur + c.certified_eur
    demand = p.admin_fte_years_per_meur * cut * 12.0 / PROGRAMME_YEARS * pipeline / 1e6 * dt
    met = staff.use_staff(m, "grant_management", demand)

    def moved(delay_months: float) -> np.ndarray:
        # exponential stage delay; the stages cascade within a step so the expected time to
        # payment does not depend on the step length
        return np.asarray((1.0 - np.exp(-dt * 12.0 / max(delay_months * cut, 1e-9))) * met)

    # the first stage waits for the instruments' time to disbursement (money-weighted per city)
    first = np.asarray(
        (1.0 - np.exp(-dt * 12.0 / np.maximum(c.committed_delay_months * cut, 1e-9))) * met
    )
    to_impl = c.committed_eur * first[:, None]
    c.committed_eur -= to_impl
    c.implemented_eur += to_impl.sum(axis=1)
    to_cert = c.implemented_eur * moved(p.stage_delay_certify_months)
    c.implemented_eur -= to_cert
    c.certified_eur += to_cert
    to_pay = c.certified_eur * moved(p.stage_delay_pay_months)
    c.certified_eur -= to_pay
    m.year_flows.absorbed_eur += to_pay
    m.accounts["paid_eur"] += float(to_pay.sum())


def blend_delay(
    delay_months: np.ndarray, stock_eur: np.ndarray, added_eur: np.ndarray, added_delay: float
) -> np.ndarray:
    """Money-weighted time to disbursement after adding an award to a committed stock."""
    total = stock_eur + added_eur
    blended = (delay_months * stock_eur + added_delay * added_eur) / np.maximum(total, 1e-9)
    return np.asarray(np.where(total > 0, blended, delay_months))


def _need(m: GovernanceModel, prepared_cost_city: np.ndarray) -> np.ndarray:
    """Unmet capital need: prepared project cost against own money."""
    return prepared_cost_city / (prepared_cost_city + m.budget_left_eur + 1.0)


def _staff_per_10k(m: GovernanceModel) -> np.ndarray:
    c = m.cities
    return c.staff_fte / (c.population / 1e4)


def apply_and_award(m: GovernanceModel) -> None:
    """Yearly calls (mission, cohesion, national): apply, rank, award; then the own budget."""
    pr = m.projects
    p = m.params
    lv = m.levers
    rng = m.streams["funding"]
    if m.is_year_start:
        staff.open_reserve(m, "applications")  # time held for bids joins the free pool
        cut = 1.0 - p.lever_simplification_burden_cut * lv.simplification
        staff_pc = _staff_per_10k(m)
        log_staff = np.log2(staff_pc / np.median(staff_pc))
        calls = (
            ("mission", SRC_MISSION, p.mission_call_burden_person_months * cut),
            ("cohesion", SRC_COHESION, p.cohesion_burden_person_months * cut),
            ("national", SRC_NATIONAL, p.national_burden_person_months * cut),
        )
        waiting = Waiting.gather(m)  # gathered once; each call removes its winners
        for key, src, burden in calls:
            waiting = _run_call(m, key, src, burden, log_staff, rng, waiting)
        # municipal capital budgets are annual: own-funded projects are approved with them
        idx = _fund_from_own_budget(m, waiting)
    else:
        idx = np.flatnonzero(pr.stage[: pr.size] == P_PREPARED)
    # projects left waiting age; those waiting too long are dropped
    pr.age_years[idx] += m.dt
    old = idx[pr.age_years[idx] > p.max_wait_years_unfunded]
    pr.stage[old] = P_DROPPED
    np.add.at(m.year_flows.dropped, pr.city[old], 1.0)


@dataclass(frozen=True, slots=True)
class Waiting:
    """The prepared projects waiting for money, in index order, with what the calls read of them.

    Within ``apply_and_award`` a project leaves the list only by winning (its stage becomes
    implementing) and nothing the calls read of the others changes (cost, private capital,
    city, country, fiscal room), so the list is gathered once a year and each call removes its
    winners: the same arrays as gathering them afresh for each call.
    """

    idx: np.ndarray  # project indices (stage prepared), ascending
    city: np.ndarray
    country: np.ndarray
    cost_eur: np.ndarray  # public cost: cost less private capital (finance.public_cost)
    fiscal_room: np.ndarray

    @classmethod
    def gather(cls, m: GovernanceModel) -> Waiting:
        """The prepared projects now."""
        pr = m.projects
        idx = np.flatnonzero(pr.stage[: pr.size] == P_PREPARED)
        city = pr.city[idx]
        country = m.cities.country[city]
        cost = finance.public_cost(m, idx)  # private capital lined up covers the rest
        return cls(idx, city, country, cost, m.nations.fiscal_room[country])

    def without(self, gone: np.ndarray) -> Waiting:
        """The list less the entries at positions ``gone`` (winners, in any order)."""
        keep = np.ones(self.idx.size, dtype=bool)
        keep[gone] = False
        return Waiting(
            self.idx[keep],
            self.city[keep],
            self.country[keep],
            self.cost_eur[keep],
            self.fiscal_room[keep],
        )


def _run_call(
    m: GovernanceModel,
    key: str,
    src: int,
    burden_pm: float,
    log_staff: np.ndarray,
    rng: np.random.Generator,
    waiting: Waiting,
) -> Waiting:
    """One call: cities apply, projects are ranked and funded; returns those still waiting."""
    pr = m.projects
    c = m.cities
    p = m.params
    n = c.n
    u_apply = rng.random(n)  # drawn whatever happens, to keep streams aligned across scenarios
    idx = waiting.idx
    gumbel = rng.gumbel(size=idx.size)
    if idx.size == 0:
        return waiting
    city = waiting.city
    cost = waiting.cost_eur
    fiscal = waiting.fiscal_room
    if key == "cohesion":
        cofin = np.full(idx.size, p.cohesion_cofinance_share)
        eligible = m.nations.eu_member[waiting.country]
    elif key == "mission":
        cofin = np.zeros(idx.size)
        eligible = np.ones(idx.size, dtype=bool)
    else:  # national programmes fund less where fiscal room is thin [assume]
        cofin = p.national_cofinance_share_no_fiscal_room * (1.0 - fiscal)
        eligible = np.ones(idx.size, dtype=bool)
    # the city pays its co-finance share less national help (a share of it x fiscal room)
    city_share = cofin * (1.0 - p.national_cofinance_help_share * fiscal)
    eligible &= city_share * cost <= m.budget_left_eur[city]
    prepared_cost_city = np.bincount(city, weights=cost, minlength=n)
    has_fit = np.bincount(city[eligible], minlength=n) > 0
    room_pm = m.free_pm * m.config.steps_per_year + p.apply_free_capacity_offset_person_months
    logit = (
        p.apply_intercept
        + p.apply_awareness_weight * c.awareness
        + p.apply_need_weight * _need(m, prepared_cost_city) * has_fit
        - p.apply_burden_weight * burden_pm / room_pm
    )
    applies = (u_apply < logistic(logit)) & has_fit
    # each application costs ``burden`` person-months, written over the year the call is open
    year_pm = m.free_pm * m.config.steps_per_year
    n_affordable = np.floor(year_pm / max(burden_pm, 1e-9))
    rank = rank_within(city)
    submit = eligible & applies[city] & (rank < n_affordable[city])
    if not submit.any():
        return waiting
    positions = np.flatnonzero(submit)
    sub = idx[positions]
    scity = city[positions]
    n_sub = np.bincount(scity, minlength=n).astype(float)
    staff.use_staff(m, "applications", n_sub * burden_pm, spread_over_year=True)
    sub_cost = cost[positions]
    sub_cofin = cofin[positions]
    sub_city_share = city_share[positions]
    request = sub_cost * (1.0 - sub_cofin)
    own_share = sub_cost * sub_city_share
    m.year_flows.applied_eur += np.bincount(scity, weights=request, minlength=n)
    m.year_flows.applications += n_sub
    score = (
        p.award_staff_log2_weight * log_staff[scity]
        + p.award_alignment_weight * c.alignment[scity]
        + p.award_skill_weight * (c.skill[scity] - 0.5)
        + p.award_finance_skill_weight * (c.finance_skill[scity] - 0.3)
        + p.award_label_bonus * c.label[scity]
        + gumbel[positions]
    )
    if key == "mission":
        score = score + p.award_mission_bonus * c.mission[scity]
    if key == "national":
        order = np.argsort(-score, kind="stable")
        win = order[m.national.fund_programmes(c.country[scity[order]], request[order])]
    else:
        cap = score.size
        if key == "mission":
            cap = int(np.ceil(p.mission_call_success_rate * score.size))
        win = budget_winners(score, request, m.eu.remaining_eur(key), cap)
        m.eu.award(key, float(request[win].sum()))
    won = sub[win]
    wcity = scity[win]
    grant = request[win]
    pr.stage[won] = P_IMPLEMENTING
    pr.source[won] = src
    pr.grant_eur[won] = grant
    start_delivery(m, won)
    np.subtract.at(m.budget_left_eur, wcity, own_share[win])
    np.maximum(m.budget_left_eur, 0.0, out=m.budget_left_eur)
    per_city = np.bincount(wcity, weights=grant, minlength=n)
    delay = (
        p.stage_delay_implement_months if key == "national" else m.eu.instruments[key].delay_months
    )
    c.committed_delay_months = blend_delay(
        c.committed_delay_months, c.committed_eur.sum(axis=1), per_city, delay
    )
    c.committed_eur[:, 0] += per_city
    # the national share of co-finance is booked, not spent here
    help_eur = sub_cost[win] * (sub_cofin[win] - sub_city_share[win])
    m.national.book_cofinance(float(help_eur.sum()))
    finance.book_leveraged(m, won)
    m.accounts["awarded_eur"] += float(grant.sum())
    m.year_flows.awarded_eur += per_city
    m.year_flows.awards += np.bincount(wcity, minlength=n)
    # a won grant rallies the council (domain §3.1)
    c.commitment = np.minimum(
        c.commitment + p.award_commitment_gain * np.bincount(wcity, minlength=n), 1.0
    )
    return waiting.without(positions[win])


# candidates ranked in full only when the budget reaches past this many (see budget_winners)
PREFIX_CANDIDATES = 256


def budget_winners(
    score: np.ndarray, request: np.ndarray, budget_eur: float, cap: int
) -> np.ndarray:
    """Winners of a call: by score (highest first, ties in given order) while the budget lasts.

    The same winners, in the same order, as ranking every candidate with a stable sort and
    keeping the ranks below ``cap`` whose running total of ``request`` (>= 0) stays within
    ``budget_eur``. A call's budget is usually spent on a few of its thousands of candidates,
    so only the best ``PREFIX_CANDIDATES`` are ranked (``argpartition``) and the full ranking
    is made only when the budget or a tie at the cut reaches past them.
    """
    neg = -score
    n = neg.size
    k = min(PREFIX_CANDIDATES, cap)
    if 0 < k < n:
        part = np.argpartition(neg, k)
        best = np.sort(part[:k])  # given order, so the stable sort breaks ties as in full
        if neg[best].max() < neg[part[k]]:  # no tie straddles the cut
            order = best[np.argsort(neg[best], kind="stable")]
            wins = np.cumsum(request[order]) <= budget_eur
            if not wins[-1] or k == cap:  # the running total passed the budget within them
                return np.asarray(order[wins])
    order = np.argsort(neg, kind="stable")
    wins = (np.cumsum(request[order]) <= budget_eur) & (np.arange(n) < cap)
    return np.asarray(order[wins])


def _fund_from_own_budget(m: GovernanceModel, waiting: Waiting) -> np.ndarray:
    """Prepared projects no call funded: pay from the city's own capex budget if it allows.

    Returns the indices of the projects still waiting.
    """
    pr = m.projects
    c = m.cities
    p = m.params
    n = c.n
    idx = waiting.idx
    if idx.size == 0:
        return idx
    city = waiting.city
    # loans, green bonds and EIB frameworks: usable where national rules allow them and staff
    # know climate finance (domain §3.2); the Label opens privileged finance
    instruments = (
        1.0
        + p.borrowing_room_full_finance_skill
        * m.nations.enables_instruments[c.country]
        * c.finance_skill
        + p.label_borrowing_room * c.label
    )
    capex_room = m.budget_left_eur * p.own_funding_share_of_budget * instruments
    public = waiting.cost_eur
    running = cumsum_within(city, public)
    fund = running <= capex_room[city]
    won = idx[fund]
    wcity = city[fund]
    pr.stage[won] = P_IMPLEMENTING
    pr.source[won] = SRC_OWN
    start_delivery(m, won)
    spent = np.bincount(wcity, weights=public[fund], minlength=n)
    m.budget_left_eur = np.maximum(m.budget_left_eur - spent / instruments, 0.0)
    m.year_flows.own_funded_eur += spent
    finance.book_leveraged(m, won)
    return np.asarray(idx[~fund])
