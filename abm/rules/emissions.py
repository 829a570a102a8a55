"""Emissions: city sectors follow the energy system, the drift, citizens and projects (domain §7).

A city sector's emissions are ``(grid_s + drift_s) * max(base_s * (1 - cut * adoption_s) *
gpp_s - abated_s, 0)``: ``base`` is the start-year inventory, ``grid_s + drift_s`` the
multiplier of its carbon content (``abm.rules.energy``: the national grid for the electric
share, the exogenous drift for the rest), citizens' low-carbon choices cut buildings and
transport activity, green tenders beyond the start-year share cut the municipal part
(``procurement.procured_emissions_factor``), and completed projects abate ``abated_s``
start-year tonnes. Industrial emissions on a city's
territory are its plants' (``industry.installation_emissions``) plus its SMEs'.
:func:`decomposition` splits the cut from the start year into these causes exactly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from abm.agents.state import SECTORS_CITY
from abm.rules import energy, industry, procurement, smes

if TYPE_CHECKING:
    from abm.model import GovernanceModel

# the causes a city's own-sector cut is booked to, in the order of decomposition()'s columns
CUT_CAUSES: tuple[str, ...] = ("drift", "grid", "adoption", "procurement", "projects")


def _household(m: GovernanceModel) -> np.ndarray:
    """Activity multiplier from citizens' low-carbon choices (buildings and transport)."""
    c = m.cities
    cut = m.params.adoption_household_cut
    household = np.ones((c.n, len(SECTORS_CITY)))
    household[:, 0] -= cut * m.adoption_city
    household[:, 1] -= cut * m.adoption_city
    return household


def city_sector_emissions(m: GovernanceModel) -> np.ndarray:
    """Current city emissions by sector (n, 4), t/yr, after projects and adoption."""
    c = m.cities
    grid, drift = energy.sector_factors(m)
    procured = procurement.procured_emissions_factor(m)
    activity = np.maximum(c.emissions_base_t * _household(m) * procured - c.abated_t, 0.0)
    return np.asarray((grid + drift) * activity)


def decomposition(m: GovernanceModel) -> np.ndarray:
    """Cut of each city's own-sector emissions from the start year by cause (n, 4), t/yr.

    Columns follow ``CUT_CAUSES``; they sum to start-year minus current emissions exactly.
    """
    c = m.cities
    base = c.emissions_base_t
    grid, drift = energy.sector_factors(m)
    e = energy.electricity_shares(m.params)[None, :]
    factor = grid + drift
    household = _household(m)
    procured = procurement.procured_emissions_factor(m)
    projects = factor * np.minimum(c.abated_t, base * household * procured)
    return np.stack(
        [
            (base * ((1.0 - e) - drift)).sum(axis=1),
            (base * (e - grid)).sum(axis=1),
            (factor * base * (1.0 - household)).sum(axis=1),
            (factor * base * household * (1.0 - procured)).sum(axis=1),
            projects.sum(axis=1),
        ],
        axis=1,
    )


def city_industry_emissions(m: GovernanceModel) -> np.ndarray:
    """Industrial emissions on each city's territory (plants plus SMEs), t/yr."""
    inst = industry.installation_emissions(m)
    plants = np.bincount(m.installations.city, weights=inst, minlength=m.cities.n)
    return plants + smes.sme_emissions_by_city(m)


def account(m: GovernanceModel) -> None:
    """Apply the exogenous drift (EU product and building standards) [assume]."""
    m.cities.background_factor *= 1.0 - m.params.background_decline_per_year * m.dt
