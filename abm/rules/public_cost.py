"""Public cost of the levers: what each lever's dose costs the EU and national budgets (issue 10.6).

Every lever at intensity ``I`` buys a stated dose (registry ``lever_*``: EUR, FTE, hours) and the
rule modules apply its effects per unit of that dose; this module books what the dose costs,
each step, in EUR (counted once, when the money is offered or the work paid):

- enhanced financing: the extra call and industry-fund budgets offered, the preparation work
  project development assistance takes off cities (ELENA-type, EUR per person-month), the O&M
  share made grant-eligible, and the advisers of the cities' SME consulting branches;
- dialogue platforms: organising each city's rounds, national coordination desks;
- simplification: one-stop shop and portal upkeep per resident;
- capacity building: training hours of climate staff and SMEs, twinning beyond the baseline
  share, and the salaries of the staff the lever has funded (``funded_fte``);
- research and innovation: extra R&I funding per resident;
- green procurement: framework and helpdesk per resident, procurement staff training hours;
- Climate City Contracts: platform support per signatory city;
- 2040 pathway: the running cost of the commitment (the ETS price is not a budget outlay).

Staff time of the cities themselves is not booked here: the model already charges it to their
capacity. Staff costs per FTE follow the country (Eurostat 2023 labour costs, through the GDP
index); a lever at intensity 0 costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from abm.agents.state import P_OPERATING, SME_DEFAULTED
from abm.policies import LEVER_NAMES
from abm.rules.staff import STAFF_USES

if TYPE_CHECKING:
    from abm.model import GovernanceModel

PREPARATION = STAFF_USES.index("preparation")


@dataclass(slots=True)
class LeverAccounts:
    """What the levers bought and cost: this year's and the cumulative EUR per lever."""

    year_eur: np.ndarray  # (n_levers,) cost booked in the current calendar year
    total_eur: np.ndarray  # (n_levers,) cost booked since the start
    funded_fte: np.ndarray  # (n_cities,) climate staff paid by the capacity lever
    prep_pm_seen: float = 0.0  # preparation person-months already costed this year

    @classmethod
    def zeros(cls, n_cities: int) -> LeverAccounts:
        """Empty accounts for ``n_cities`` cities."""
        k = len(LEVER_NAMES)
        return cls(np.zeros(k), np.zeros(k), np.zeros(n_cities))


def staff_cost_eur_per_fte(m: GovernanceModel, country: np.ndarray) -> np.ndarray:
    """Yearly employer cost of one FTE in each ``country`` (EU average scaled by GDP index)."""
    p = m.params
    gdp = m.nations.gdp_index[country] / 100.0
    return p.staff_cost_eur_per_fte_year * gdp**p.staff_cost_gdp_elasticity


def step_costs_eur(m: GovernanceModel, prep_pm_done: float) -> np.ndarray:
    """EUR each lever costs in this step (order of ``LEVER_NAMES``); 0 for a lever at 0.

    ``prep_pm_done`` is the preparation staff time cities spent in the step (person-months).
    """
    p = m.params
    lv = m.levers
    c = m.cities
    dt = m.dt
    acc = m.lever_accounts
    residents = m.modelled_residents
    city_fte_cost = staff_cost_eur_per_fte(m, c.country)
    hour_cost = p.training_cost_eur_per_participant_hour
    cost = dict.fromkeys(LEVER_NAMES, 0.0)

    # enhanced financing
    f = lv.enhanced_financing
    if f > 0.0:
        inst = m.eu.instruments
        calls = sum(inst[k].budget_eur_per_year for k in ("mission", "cohesion", "sme"))
        extra_budget = (
            p.lever_financing_budget_boost * calls
            + p.lever_financing_industry_fund_boost * inst["industry"].budget_eur_per_year
        )
        # preparation needs were cut by ``cut``: assistance did cut/(1-cut) of what cities did
        cut = p.lever_financing_prep_cut * f  # at most 0.8 (its registry range)
        pda = prep_pm_done * cut / (1.0 - cut) * p.lever_financing_pda_eur_per_person_month
        pr = m.projects
        operating = pr.stage[: pr.size] == P_OPERATING
        om = p.om_share_per_year * float(pr.cost_eur[: pr.size][operating].sum())
        advisers = p.lever_financing_sme_advisory_fte_per_100k * c.population / 1e5
        cost["enhanced_financing"] = (
            f * extra_budget * dt
            + pda
            + p.lever_financing_om_cut * f * om * dt
            + f * float((advisers * city_fte_cost).sum()) * dt
        )
    # dialogue platforms
    d = lv.dialogue_platforms
    if d > 0.0:
        countries = np.unique(c.country)
        desks = p.lever_dialogue_national_fte_per_country * staff_cost_eur_per_fte(m, countries)
        cost["dialogue_platforms"] = (
            d * p.lever_dialogue_rounds_per_year * c.n * p.lever_dialogue_eur_per_city_round
            + d * float(desks.sum())
        ) * dt
    cost["simplification"] = (
        lv.simplification * p.lever_simplification_eur_per_resident_year * residents * dt
    )
    # capacity building: training hours, twinning, funded staff
    k = lv.capacity_building
    if k > 0.0 or acc.funded_fte.any():
        smes_active = float((m.smes.status != SME_DEFAULTED).sum())
        hours = k * (
            p.lever_capacity_training_hours_per_fte_year * float(c.staff_fte.sum())
            + p.lever_capacity_sme_training_hours_per_year * smes_active
        )
        twinning = (
            k
            * (1.0 - p.twinning_baseline_share)
            * c.n
            * p.lever_capacity_twinning_eur_per_city_year
        )
        salaries = float((acc.funded_fte * city_fte_cost).sum())
        cost["capacity_building"] = (hours * hour_cost + twinning + salaries) * dt
    cost["research_innovation"] = (
        lv.research_innovation * p.lever_rni_eur_per_resident_year * residents * dt
    )
    g = lv.green_procurement
    if g > 0.0:
        procurement_fte = p.procurement_fte_per_100k_residents * residents / 1e5
        cost["green_procurement"] = (
            g
            * (
                p.lever_gpp_framework_eur_per_resident_year * residents
                + p.lever_gpp_training_hours_per_procurement_fte_year * procurement_fte * hour_cost
            )
            * dt
        )
    cost["climate_city_contracts"] = (
        lv.climate_city_contracts
        * p.lever_ccc_eur_per_signatory_year
        * float(c.ccc_signed.sum())
        * dt
    )
    cost["predictable_pathway_2040"] = (
        lv.predictable_pathway_2040 * p.lever_pathway_eur_per_resident_year * residents * dt
    )
    return np.array([cost[name] for name in LEVER_NAMES])


def account_public_cost(m: GovernanceModel) -> None:
    """Book this step's public cost of every lever into the year's and the cumulative account."""
    acc = m.lever_accounts
    if m.is_year_start:
        acc.year_eur[:] = 0.0
        acc.prep_pm_seen = 0.0  # staff use is counted afresh each year (capacity.give_staff_time)
    prep_now = float(m.staff_use_pm[:, PREPARATION].sum())
    step = step_costs_eur(m, prep_now - acc.prep_pm_seen)
    acc.prep_pm_seen = prep_now
    acc.year_eur += step
    acc.total_eur += step
