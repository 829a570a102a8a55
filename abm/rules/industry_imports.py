"""Import competition on EU markets: EU producers' share of EU demand (issue 11).

Third-country imports took a growing share of EU apparent steel consumption after 2013 (less
than a fifth, about a quarter by 2018, 27-28% in 2022-2023; EUROFER), through global
overcapacity and trade diversion, not through EU margins; and of EU27 chemicals consumption
(22% in 2013, 31% in 2023; Cefic), with Chinese and US capacity on cheaper feedstock and energy.
The recorded shares (``abm/data/steel_import_share.csv``, ``chemicals_import_share.csv``) are
exogenous drivers of EU producers' share of their market: a plant's EU sales are scaled by
``(1 - s_y) / (1 - s_start)``, and the share is held at its last record afterwards (runs from
2025 see no change). They are not the output or emissions series of the sectors (those stay
the hindcast's test data). Other sectors: 1.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from abm.config import DATA_DIR
from abm.rules import industry_tech as it

if TYPE_CHECKING:
    from abm.model import GovernanceModel

IMPORT_SHARE_CSV = DATA_DIR / "steel_import_share.csv"
CHEMICALS_IMPORT_SHARE_CSV = DATA_DIR / "chemicals_import_share.csv"
# the sectors with a recorded import share, and their files
IMPORT_SHARE_FILES: dict[str, Path] = {
    "steel": IMPORT_SHARE_CSV,
    "chemicals": CHEMICALS_IMPORT_SHARE_CSV,
}


@lru_cache(maxsize=len(IMPORT_SHARE_FILES))
def recorded_import_share(sector: str = "steel") -> np.ndarray:
    """Import share of the EU market of ``sector`` for each year of ``ENERGY_PRICE_YEARS``."""
    path = IMPORT_SHARE_FILES[sector]
    data = pd.read_csv(path).set_index("year")
    share = it.recorded_years(data, "import_share", path)
    if not ((share >= 0.0) & (share < 1.0)).all():
        raise ValueError(f"{path}: column 'import_share' must be in [0, 1)")
    return share


def import_share(year: float, sector: str = "steel") -> float:
    """The recorded import share in ``year`` (first record before, last record after)."""
    table = recorded_import_share(sector)
    y0 = it.ENERGY_PRICE_YEARS[0]
    col = int(np.clip(np.floor(year), y0, it.ENERGY_PRICE_YEARS[-1]) - y0)
    return float(table[col])


def producer_share_factor(m: GovernanceModel, sector: np.ndarray) -> np.ndarray:
    """EU producers' share of their sector's EU demand relative to the start year (1 for a
    sector without a recorded import share)."""
    factor = np.ones(np.shape(sector))
    start = float(m.config.start_year)
    for name in IMPORT_SHARE_FILES:
        own = (1.0 - import_share(m.year, name)) / (1.0 - import_share(start, name))
        factor = np.where(sector == it.SECTOR_INDEX[name], own, factor)
    return np.asarray(factor)
