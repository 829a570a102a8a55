"""Green public procurement adoption and the green demand it creates (domain §3.8).

``logit P(green tender) = g0 + g1*skill_proc + g2*framework + g3*mandate + g4*peer_share``
(after Renda et al. 2012; no published ABM of GPP adoption exists, so the form is [assume]);
the share adjusts towards that level with inertia. The population-weighted share is the green
demand that gives clean plants a premium on the public share of their market.

Green tenders also cut the city's own emissions, through what the city runs and buys: its
buildings, fleets, lighting, public transport and waste contracts. Sector ``s`` emissions are
multiplied by ``1 - share_s * cut * (gpp - gpp_start)`` where ``share_s`` is the municipal share
of the sector (city operations are 1-7% of community-wide emissions, CDP/C40 2011; most waste
services are municipal contracts) and ``cut`` the emissions cut of a green tender; the
start-year share is already in the start-year emissions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from abm.agents.state import SECTORS_CITY
from abm.rules._math import logistic

if TYPE_CHECKING:
    from abm.model import GovernanceModel

WASTE = SECTORS_CITY.index("waste")


def adopt_green_procurement(m: GovernanceModel) -> None:
    """Move each city's green-tender share towards its adoption level; set green demand."""
    c = m.cities
    p = m.params
    g = m.levers.green_procurement
    peer = c.gpp_share[c.peers].mean(axis=1)
    logit = (
        p.gpp_intercept
        + p.gpp_skill_weight * (c.procurement_skill + p.gpp_framework_skill_equivalent * g)
        + p.gpp_framework_weight * g
        + p.gpp_mandate_weight * g * c.target_status.astype(float) / 2.0
        + p.gpp_peer_weight * (peer - 0.3)
    )
    target = logistic(logit)
    c.gpp_share += p.gpp_adjust_per_year * m.dt * (target - c.gpp_share)
    np.clip(c.gpp_share, 0.0, 1.0, out=c.gpp_share)
    m.green_demand_share = float(np.average(c.gpp_share, weights=c.population))


def procured_emissions_factor(m: GovernanceModel) -> np.ndarray:
    """Multiplier (n, 4) on city sector emissions from green tenders beyond the start-year share."""
    c = m.cities
    p = m.params
    share = np.full(len(SECTORS_CITY), p.gpp_municipal_share_city_sectors)
    share[WASTE] = p.gpp_municipal_share_waste
    gain = c.gpp_share - c.gpp_share_start
    return 1.0 - p.gpp_emissions_cut_per_green_tender * gain[:, None] * share[None, :]
