"""SME cash flow under delayed grant payment (domain §3.6).

Cash ``K_{t+1} = K_t + pi_t - capex_t + grant_paid_t``; a negative balance is borrowed at
``r_SME``; an SME defaults when debt exceeds ``L * revenue``. An SME applies if
``P(win)*g*I - prep_cost - g*I*r_SME*D/12 > 0``; city advisory branches (enhanced financing)
raise ``P(win)`` and cut ``prep_cost``; simplification cuts the delay ``D`` and raises the
advance share ``phi``. All [assume]: no SME survey exists, so these are scenario/SA factors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from abm.agents.state import SME_DEFAULTED, SME_GREEN, SME_IDLE, SME_WAITING
from abm.kernels import kernels
from abm.rules._math import logistic

if TYPE_CHECKING:
    from abm.model import GovernanceModel


def sme_finance(m: GovernanceModel) -> None:
    """Operating cash flow, grant applications and awards, payments, debt and defaults."""
    s = m.smes
    p = m.params
    lv = m.levers
    dt = m.dt
    rng = m.streams["sme"]
    u_consider = rng.random(s.n)
    u_score = rng.random(s.n)  # Gumbel noise for applicants only, from one uniform per SME
    active = s.status != SME_DEFAULTED
    # capacity building for local actors includes SMEs' funding know-how (the brief); then
    # the operating cash flow of active firms (one compiled pass, abm.kernels)
    kernels().sme_cash_flow(
        s.know_how,
        s.cash_eur,
        s.revenue_eur,
        s.debt_eur,
        active,
        p.capacity_skill_gain_per_training_hour
        * p.lever_capacity_sme_training_hours_per_year
        * lv.capacity_building
        * dt,
        p.sme_margin_share,
        p.sme_interest_rate,
        dt,
    )
    cut = p.lever_simplification_burden_cut * lv.simplification
    delay_m = p.sme_disbursement_delay_months * (1.0 - cut)
    phi = min(
        p.sme_advance_share + p.lever_simplification_sme_advance * lv.simplification,
        p.sme_advance_share_max,
    )
    # payments of earlier awards come first; this step's winners start waiting next step.
    # Updates touch only the SMEs concerned (index arrays), not every SME
    waiting = np.flatnonzero(s.status == SME_WAITING)
    s.wait_months[waiting] += 12.0 * dt
    paid = waiting[s.wait_months[waiting] >= delay_m]
    due = s.grant_due_eur[paid]
    s.cash_eur[paid] += due
    s.grants_paid_eur[paid] += due
    m.eu.pay_sme(float(due.sum()))
    s.grant_due_eur[paid] = 0.0
    s.status[paid] = SME_GREEN
    s.emissions_t[paid] *= p.sme_green_emissions_factor
    if m.is_year_start:
        consider = u_consider < p.sme_consider_per_year * s.innovation * (
            1.0 + p.lever_rni_sme_consider_boost * lv.research_innovation
        )
        candidate = np.flatnonzero((s.status == SME_IDLE) & consider)
        capex = p.sme_capex_share * s.revenue_eur[candidate]
        grant = p.sme_grant_share * capex
        p_win = logistic(
            p.sme_win_intercept
            + p.sme_win_know_how_weight * s.know_how[candidate]
            + p.lever_financing_sme_win_weight * lv.enhanced_financing
        )
        prep = (
            p.sme_prep_cost_share
            * grant
            * (1.0 - p.lever_financing_sme_prep_cut * lv.enhanced_financing)
        )
        value = p_win * grant - prep - grant * (1.0 - phi) * p.sme_interest_rate * delay_m / 12.0
        applies = value > 0.0
        idx = candidate[applies]
        capex, grant = capex[applies], grant[applies]
        s.cash_eur[idx] -= prep[applies]
        gumbel = -np.log(-np.log(np.clip(u_score[idx], 1e-12, 1.0 - 1e-12)))
        # advisory branches close part of each applicant's know-how gap: weak applicants gain most
        advised = p.lever_financing_sme_advice_know_how_gain * lv.enhanced_financing
        score = s.know_how[idx] + advised * (1.0 - s.know_how[idx]) + gumbel
        rank = np.argsort(-score, kind="stable")
        order, grant, capex = idx[rank], grant[rank], capex[rank]
        within = np.cumsum(grant) <= m.eu.remaining_eur("sme")
        win, grant, capex = order[within], grant[within], capex[within]
        # a winner that cannot bridge the delay from cash drops the project (domain §3.6)
        bridge = s.cash_eur[win] + phi * grant - capex
        go = ~((bridge < 0) & (delay_m > p.sme_max_wait_months))
        win, grant, capex = win[go], grant[go], capex[go]
        m.eu.award("sme", float(grant.sum()))
        s.cash_eur[win] += phi * grant - capex
        s.grants_paid_eur[win] += phi * grant
        m.eu.pay_sme(float((phi * grant).sum()))
        s.grant_due_eur[win] = (1.0 - phi) * grant
        s.capex_eur[win] = capex
        s.wait_months[win] = 0.0
        s.status[win] = SME_WAITING
    # borrow to cover negative cash, repay from positive cash; over-indebted firms default
    kernels().sme_settle(
        s.cash_eur,
        s.debt_eur,
        s.revenue_eur,
        active,
        s.status,
        p.sme_default_debt_to_revenue,
        SME_DEFAULTED,
    )


def sme_emissions_by_city(m: GovernanceModel) -> np.ndarray:
    """SME emissions per city (defaulted firms emit nothing), t/yr."""
    s = m.smes
    live = s.status != SME_DEFAULTED
    return np.bincount(s.city, weights=s.emissions_t * live, minlength=m.cities.n)
