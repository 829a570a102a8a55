"""Import competition on the EU steel market: EU producers' share of EU demand (issue 11).

Third-country imports took a growing share of EU apparent steel consumption after 2013 (less
than a fifth, about a quarter by 2018, 27-28% in 2022-2023; EUROFER), through global
overcapacity and trade diversion, not through EU margins. The recorded share
(``abm/data/steel_import_share.csv``) is an exogenous driver of EU producers' share of their
market: a steel plant's EU sales are scaled by ``(1 - s_y) / (1 - s_start)``, and the share is
held at its last record afterwards (runs from 2025 see no change). It is not the output or
emissions series of the sector (those stay the hindcast's test data). Other sectors: 1.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from abm.config import DATA_DIR
from abm.rules import industry_tech as it

if TYPE_CHECKING:
    from abm.model import GovernanceModel

IMPORT_SHARE_CSV = DATA_DIR / "steel_import_share.csv"


@lru_cache(maxsize=1)
def recorded_import_share() -> np.ndarray:
    """Import share of EU apparent steel consumption for each year of ``ENERGY_PRICE_YEARS``."""
    data = pd.read_csv(IMPORT_SHARE_CSV).set_index("year")
    share = it.recorded_years(data, "import_share", IMPORT_SHARE_CSV)
    if not ((share >= 0.0) & (share < 1.0)).all():
        raise ValueError(f"{IMPORT_SHARE_CSV}: column 'import_share' must be in [0, 1)")
    return share


def import_share(year: float) -> float:
    """The recorded import share in ``year`` (first record before, last record after)."""
    table = recorded_import_share()
    y0 = it.ENERGY_PRICE_YEARS[0]
    col = int(np.clip(np.floor(year), y0, it.ENERGY_PRICE_YEARS[-1]) - y0)
    return float(table[col])


def producer_share_factor(m: GovernanceModel, sector: np.ndarray) -> np.ndarray:
    """EU producers' share of EU steel demand relative to the start year (other sectors 1)."""
    own = (1.0 - import_share(m.year)) / (1.0 - import_share(float(m.config.start_year)))
    return np.asarray(np.where(sector == it.SECTOR_INDEX["steel"], own, 1.0))
