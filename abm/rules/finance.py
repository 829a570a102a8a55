"""Private and leveraged finance: bankable city projects draw ESCOs, utilities and lenders.

A project's revenues or savings are worth ``r * cost`` (``revenue_ratio``, by sector, drawn per
project). Private capital lends against them up to ``r / hurdle`` of the cost; an EU guarantee
(enhanced financing) lowers the hurdle. A city that owns its utility finances energy projects
in-house at the utility's hurdle, and residents' energy communities add a share that grows with
their support. Closing a deal takes finance skill, national rules that allow the instruments
(ESCO, PPP, municipal loans) and staff time; the Mission Label makes investors more willing.
A project whose revenues cover it fully goes ahead on private money alone; otherwise the
private part is lined up and grants or the city budget need only cover the gap, so public
money leverages private money (``abm.rules.funding`` requests the gap). Cities as shareholders
of local utilities and energy communities are the brief's financing sub-point.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from abm.agents.state import P_IMPLEMENTING, P_PREPARED, SECTORS_CITY, SRC_PRIVATE
from abm.rules import staff
from abm.rules.silos import start_delivery

if TYPE_CHECKING:
    from abm.config import Parameters
    from abm.model import GovernanceModel

ENERGY = SECTORS_CITY.index("energy")


def revenue_ratio(p: Parameters, sector: np.ndarray) -> np.ndarray:
    """Median ratio of discounted revenues or savings to cost for projects of each sector."""
    medians = np.array(
        [
            p.revenue_ratio_buildings,
            p.revenue_ratio_transport,
            p.revenue_ratio_energy,
            p.revenue_ratio_waste,
        ]
    )
    return np.asarray(medians[sector])


def hurdle_ratio(m: GovernanceModel) -> float:
    """Revenues a lender needs per euro lent, after EU guarantees (enhanced financing)."""
    p = m.params
    cut = p.lever_financing_guarantee_hurdle_cut * m.levers.enhanced_financing
    return float(p.private_hurdle_ratio * (1.0 - cut))


def bankable_share(m: GovernanceModel, idx: np.ndarray) -> np.ndarray:
    """Share of each project's cost that private, utility or community capital can cover."""
    p = m.params
    pr = m.projects
    c = m.cities
    city = pr.city[idx]
    energy = pr.sector[idx] == ENERGY
    ratio = pr.revenue_ratio[idx]
    lenders = ratio / hurdle_ratio(m)
    utility = np.where(energy & c.utility_owned[city], ratio / p.utility_hurdle_ratio, 0.0)
    community = np.where(energy, p.energy_community_share * m.support[city], 0.0)
    return np.asarray(np.clip(np.maximum(lenders, utility) + community, 0.0, 1.0))


def deal_probability(m: GovernanceModel, idx: np.ndarray) -> np.ndarray:
    """Chance this step that a prepared project closes its private finance."""
    p = m.params
    pr = m.projects
    c = m.cities
    city = pr.city[idx]
    rules = m.nations.enables_instruments[c.country[city]]
    market = np.where(rules, 1.0, p.private_market_without_instruments)
    label = 1.0 + p.label_private_deal_gain * c.label[city]
    odds = p.private_deal_probability_per_year * c.finance_skill[city] * market * label
    per_year = np.clip(odds, 0.0, 1.0)
    in_house = (pr.sector[idx] == ENERGY) & c.utility_owned[city]
    per_year = np.where(in_house, 1.0, per_year)
    return np.asarray(1.0 - (1.0 - per_year) ** m.dt)


def raise_private_finance(m: GovernanceModel) -> None:
    """Line up private capital for prepared projects; fully bankable ones go ahead on it."""
    pr = m.projects
    c = m.cities
    p = m.params
    rng = m.streams["private_finance"]
    idx = np.flatnonzero((pr.stage[: pr.size] == P_PREPARED) & (pr.private_eur[: pr.size] <= 0.0))
    u = rng.random(idx.size)
    if idx.size == 0:
        return
    share = bankable_share(m, idx)
    candidate = share > 0.0
    prob = deal_probability(m, idx) * candidate
    # structuring a deal takes staff time: the expected deals' time is asked for, and deals
    # close in proportion to the share of it the city can give
    city = pr.city[idx]
    demand = np.bincount(city, weights=prob * p.private_deal_person_months, minlength=c.n)
    met = staff.use_staff(m, "applications", demand)
    deal = u < prob * met[city]
    won = idx[deal]
    pr.private_eur[won] = share[deal] * pr.cost_eur[won]
    full = won[share[deal] >= 1.0]
    if full.size:
        fcity = pr.city[full]
        pr.stage[full] = P_IMPLEMENTING
        pr.source[full] = SRC_PRIVATE
        start_delivery(m, full)
        m.year_flows.private_eur += np.bincount(fcity, weights=pr.cost_eur[full], minlength=c.n)


def public_cost(m: GovernanceModel, idx: np.ndarray) -> np.ndarray:
    """What grants or the city budget must cover of each project: its cost less private capital."""
    pr = m.projects
    return np.asarray(np.maximum(pr.cost_eur[idx] - pr.private_eur[idx], 0.0))


def book_leveraged(m: GovernanceModel, won: np.ndarray) -> None:
    """Count the private capital of projects that public money has just made go ahead."""
    pr = m.projects
    m.year_flows.private_eur += np.bincount(
        pr.city[won], weights=pr.private_eur[won], minlength=m.cities.n
    )
