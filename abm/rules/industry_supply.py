"""Short-run supply response: output falls with the margin while it is still positive (issue 11).

Plants of a sector differ in their cash costs (lines, furnaces, contracts), so when energy or
carbon costs rise the dearest capacity stops first and the sector's output falls smoothly,
long before the average plant runs at a loss (EU 2022: crude steel -10.5% while its users
grew; chemical capacity utilisation 74-75% against a 81.6% mean; ammonia curtailed by up to
half). Within a plant this is a linear supply curve: the plant keeps the share
``1 - eta_s * max(c(m_ref) - c(m), 0) / world_price`` of its output, where ``m`` is this
year's margin on a market, ``c`` clips it to ``[0, world_price / eta_s]``, ``m_ref`` the same
margin in the plant's reference year (the start year, or the year its new route came online or
it entered) and ``eta_s`` the short-run supply elasticity of its sector (registry, derived
from the 2022-2023 output falls). Below zero the loss-making part is the leakage rule's, so the
two do not overlap; above ``world_price / eta_s`` (the width of a uniform cost spread) every
unit earns money, so a fall from a windfall margin (a clean route behind a high CBAM charge)
cuts nothing. A margin above the reference adds nothing: the plant already runs at full
utilisation.

Curtailment persists (``restart_limited``): lines idled when the margin fell restart only
slowly when it recovers (restart costs, lost customers and contracts, lines closed for good):
the share of its capacity a plant's margins keep running may rise by at most
``curtailed_capacity_restart_share_per_year`` a year, while it may fall at once. EU27 chemical
capacity utilisation stayed at about 75% through 2023-2024 although energy prices fell from
their 2022 peak (Cefic Facts and Figures 2024), and 11 Mt of capacity closed in 2023-2024
(Cefic competitiveness study 2024). Demand (``industry_demand``) and imports
(``industry_imports``) are separate factors and recover at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from abm.rules import industry_tech as it

if TYPE_CHECKING:
    from abm.config import Parameters


def supply_elasticity(p: Parameters, sector: np.ndarray) -> np.ndarray:
    """Short-run supply elasticity of each plant's sector (output share per margin share)."""
    by_sector = np.full(len(it.SECTORS), p.short_run_supply_elasticity_other_sectors)
    by_sector[it.SECTOR_INDEX["steel"]] = p.short_run_supply_elasticity_steel
    by_sector[it.SECTOR_INDEX["chemicals"]] = p.short_run_supply_elasticity_chemicals
    return np.asarray(by_sector[sector])


def supply_factor(
    p: Parameters, sector: np.ndarray, margin: np.ndarray, ref_margin: np.ndarray
) -> np.ndarray:
    """Share of a plant's output kept on one market as its margin falls below the reference."""
    eta = supply_elasticity(p, sector)
    price = it.PRICE_BY_SECTOR[sector]
    # the width of the cost spread: above it every unit earns money and runs
    width = price / np.maximum(eta, 1e-9)
    fall = np.maximum(np.clip(ref_margin, 0.0, width) - np.clip(margin, 0.0, width), 0.0)
    return np.asarray(np.clip(1.0 - eta * fall / price, 0.0, 1.0))


def restart_limited(
    p: Parameters,
    kept_eu: np.ndarray,
    kept_export: np.ndarray,
    export_share: np.ndarray,
    running: np.ndarray,
    reset: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The two markets' kept shares after the restart limit, and the share of capacity running.

    ``kept_*`` are this year's ``supply_factor`` on each market, ``running`` the share of its
    capacity the plant's margins kept running last year. The share the margins now allow,
    ``(1 - x) kept_eu + x kept_export``, is capped at ``running + restart``; both markets are
    scaled by the same ratio (idled lines serve neither). ``reset`` plants (start year, a new
    route online, an entrant) take the allowed share as it is.
    """
    allowed = (1.0 - export_share) * kept_eu + export_share * kept_export
    cap = running + p.curtailed_capacity_restart_share_per_year
    now = np.where(reset, allowed, np.minimum(allowed, cap))
    scale = np.where(allowed > 0.0, now / np.maximum(allowed, 1e-12), 1.0)
    return np.asarray(kept_eu * scale), np.asarray(kept_export * scale), np.asarray(now)
