"""Emissions: city sectors follow projects, adoption and a background trend (domain §7).

City sector emissions are ``base * background * (1 - cut * adoption) - abated`` (floored at
zero), where citizens' low-carbon adoption cuts buildings and transport only; industrial
emissions on a city's territory are its plants' (``industry.installation_emissions``) plus its
SMEs'. The background factor declines every step (grid decarbonisation, efficiency).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from abm.agents.state import SECTORS_CITY
from abm.rules import industry, procurement, smes

if TYPE_CHECKING:
    from abm.model import GovernanceModel


def city_sector_emissions(m: GovernanceModel) -> np.ndarray:
    """Current city emissions by sector (n, 4), t/yr, after projects and adoption."""
    c = m.cities
    base = c.emissions_base_t * c.background_factor[:, None]
    adoption = m.adoption_city
    # citizens' low-carbon choices cut buildings and transport emissions (by up to 30%)
    cut = m.params.adoption_household_cut
    household = np.ones((c.n, len(SECTORS_CITY)))
    household[:, 0] -= cut * adoption
    household[:, 1] -= cut * adoption
    return np.maximum(base * household * procurement.procured_emissions_factor(m) - c.abated_t, 0.0)


def city_industry_emissions(m: GovernanceModel) -> np.ndarray:
    """Industrial emissions on each city's territory (plants plus SMEs), t/yr."""
    inst = industry.installation_emissions(m)
    plants = np.bincount(m.installations.city, weights=inst, minlength=m.cities.n)
    return plants + smes.sme_emissions_by_city(m)


def account(m: GovernanceModel) -> None:
    """Apply the exogenous background decline (grid decarbonisation, efficiency) [assume]."""
    m.cities.background_factor *= 1.0 - m.params.background_decline_per_year * m.dt
