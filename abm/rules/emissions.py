"""Emissions: city sectors follow projects, adoption and a background trend (domain §7).

City sector emissions are ``base * background - abated`` (floored at zero), with citizens'
low-carbon adoption cutting buildings and transport (see ``GovernanceModel.city_sector_
emissions``); industrial emissions follow plant routes and output (``industry``) and SMEs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from abm.model import GovernanceModel


def account(m: GovernanceModel) -> None:
    """Apply the exogenous background decline (grid decarbonisation, efficiency) [assume]."""
    m.cities.background_factor *= 1.0 - m.params.background_decline_per_year * m.dt
