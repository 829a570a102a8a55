"""Cities and the energy system: national power sectors decarbonise with the carbon price.

Each country's power-sector carbon intensity ``g`` (gCO2e/kWh, from ``grid_intensity.csv``)
closes its gap to a floor at a rate that rises with the ETS price:
``g <- floor + (g - floor) (1 - r(P))^dt`` with ``r(P) = r_min + (r_max - r_min) P / (P + P_half)``
(fuel switching and renewables build-out; the EEA's -35% 2013-2023 at about EUR 29/t anchors
``P_half``). A city's sector emissions follow the grid in proportion to the share of that
sector's emissions that comes from electricity (its energy sector fully: local power and heat
generation), and the exogenous drift (EU product and building standards) for the rest; city
projects and citizens' choices act on top of both (``abm.rules.emissions``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from abm.agents.state import SECTORS_CITY

if TYPE_CHECKING:
    from abm.config import Parameters
    from abm.model import GovernanceModel


def decline_rate(price_eur_per_t: float, p: Parameters) -> float:
    """Yearly share of the gap to the floor the power sector closes at this carbon price."""
    price = max(price_eur_per_t, 0.0)
    span = p.grid_decline_max_per_year - p.grid_decline_min_per_year
    half = p.grid_decline_half_price_eur_per_t
    return p.grid_decline_min_per_year + span * price / (price + half)


def electricity_shares(p: Parameters) -> np.ndarray:
    """Share of each city sector's emissions that comes from electricity (power and heat)."""
    shares = {
        "buildings": p.buildings_electricity_share,
        "transport": p.transport_electricity_share,
        "energy": 1.0,  # local power and heat generation follows the national fuel switch
        "waste": 0.0,
    }
    return np.array([shares[s] for s in SECTORS_CITY])


def grid_ratio(m: GovernanceModel) -> np.ndarray:
    """Each city's national grid intensity relative to the start year (n,)."""
    nat = m.nations
    start = np.maximum(nat.grid_intensity_start, 1e-9)
    return np.asarray(np.where(nat.grid_intensity_start > 0, nat.grid_intensity / start, 1.0))[
        m.cities.country
    ]


def sector_factors(m: GovernanceModel) -> tuple[np.ndarray, np.ndarray]:
    """Multipliers of start-year sector emissions from the grid and from the drift (n, 4) each.

    Their sum is the factor the sectors' activity emissions are multiplied by; each part is
    what a decomposition books to the energy system and to the exogenous drift.
    """
    e = electricity_shares(m.params)[None, :]
    grid = e * grid_ratio(m)[:, None]
    drift = (1.0 - e) * m.cities.background_factor[:, None]
    return grid, drift


def decarbonise_grid(m: GovernanceModel) -> None:
    """Move every national power sector towards its floor at the carbon price's rate."""
    p = m.params
    nat = m.nations
    rate = decline_rate(m.eu.carbon_price_eur_per_t, p)
    floor = np.minimum(p.grid_floor_g_per_kwh, nat.grid_intensity_start)
    nat.grid_intensity = floor + (nat.grid_intensity - floor) * (1.0 - rate) ** m.dt
