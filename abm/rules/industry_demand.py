"""EU demand for each industrial sector's output, from macro drivers (issue 11, hindcast).

Each sector's EU sales follow one macro driver (``abm/data/industry_demand_drivers.csv``,
Eurostat volume indices, EU27): steel and bulk chemicals the manufacturing production index,
cement the construction production index, refineries the gross inland deliveries of oil
products. A plant sells on the EU market the share ``(D_y / D_peak)^e`` of what it sold at the
peak of its driver since the run's start (capacity is sized to the peak demand; in a downturn
plants run below it rather than close), with a demand elasticity ``e`` per sector (registry).
Spare capacity at the start: a sector whose start fleet ran below its earlier output (2013:
steel 21% and cement about 40% below 2007, chemicals 6.4% below its 2007 peak) can raise output
with demand up to the headroom ``h`` (registry ``start_output_headroom_*``, at most nameplate
capacity ``1 / full_utilisation``) before the peak rule applies: the factor is
``h * (D_y / max(C, D_peak))^e`` with ``C = D_start * h^(1/e)``, which is ``(D_y / D_start)^e``
up to ``h`` and the peak rule above it; ``h = 1`` is the peak rule alone.
After the recorded years (2024) a driver moves by its registry growth rate a year (0 for
manufacturing and construction, so a run from 2025 sells at its start level; oil products fall
with the electrification of transport). None of the sectors' own production or emissions
series is an input: the hindcast against verified emissions stays a test.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from abm.config import DATA_DIR
from abm.rules import industry_tech as it

if TYPE_CHECKING:
    from abm.config import Parameters
    from abm.model import GovernanceModel

DRIVERS_CSV = DATA_DIR / "industry_demand_drivers.csv"
DRIVERS: tuple[str, ...] = ("manufacturing", "construction", "oil_products")
# the driver of each sector's EU demand (battery and aluminium: manufacturing)
SECTOR_DRIVER: dict[str, str] = {
    "steel": "manufacturing",
    "cement": "construction",
    "chemicals": "manufacturing",
    "refinery": "oil_products",
    "battery": "manufacturing",
    "other": "manufacturing",
}
DRIVER_OF_SECTOR = np.array([DRIVERS.index(SECTOR_DRIVER[s]) for s in it.SECTORS])


@lru_cache(maxsize=1)
def recorded_drivers() -> np.ndarray:
    """The recorded driver indices, shape (drivers, years of ``ENERGY_PRICE_YEARS``)."""
    data = pd.read_csv(DRIVERS_CSV)
    table = np.array(
        [
            it.recorded_years(
                data[data["driver"] == name].set_index("year"),
                "index",
                DRIVERS_CSV,
                f"driver {name!r} ",
            )
            for name in DRIVERS
        ]
    )
    if not (table > 0).all():
        raise ValueError(f"{DRIVERS_CSV}: column 'index' must be > 0 in every row")
    return table


def driver_growth(p: Parameters) -> np.ndarray:
    """Yearly growth of each driver after the recorded years (registry)."""
    return np.array(
        [
            p.manufacturing_demand_growth_per_year,
            p.construction_demand_growth_per_year,
            p.oil_products_demand_growth_per_year,
        ]
    )


def driver_path(p: Parameters, first: int, last: int) -> np.ndarray:
    """Each driver's index for the years ``first..last`` (recorded, then the registry path)."""
    table = recorded_drivers()
    y0, y1 = it.ENERGY_PRICE_YEARS[0], it.ENERGY_PRICE_YEARS[-1]
    years = np.arange(first, last + 1)
    col = np.clip(years, y0, y1) - y0
    after = np.maximum(years - y1, 0)
    return np.asarray(table[:, col] * (1.0 + driver_growth(p))[:, None] ** after[None, :])


def elasticity(p: Parameters) -> np.ndarray:
    """Demand elasticity to its driver, per sector (registry)."""
    by_sector = np.full(len(it.SECTORS), p.demand_elasticity_manufacturing_sectors)
    by_sector[it.SECTOR_INDEX["cement"]] = p.demand_elasticity_cement
    by_sector[it.SECTOR_INDEX["refinery"]] = p.demand_elasticity_refinery
    by_sector[it.SECTOR_INDEX["steel"]] = p.demand_elasticity_steel
    return by_sector


def headroom(p: Parameters) -> np.ndarray:
    """Output the start fleet can reach relative to its start output, per sector (>= 1).

    The registry's headroom, capped at nameplate capacity (utilisation 1, i.e.
    ``1 / full_utilisation`` of the start output).
    """
    by_sector = np.full(len(it.SECTORS), p.start_output_headroom_other_sectors)
    by_sector[it.SECTOR_INDEX["steel"]] = p.start_output_headroom_steel
    by_sector[it.SECTOR_INDEX["cement"]] = p.start_output_headroom_cement
    by_sector[it.SECTOR_INDEX["chemicals"]] = p.start_output_headroom_chemicals
    return np.asarray(np.clip(by_sector, 1.0, 1.0 / p.full_utilisation))


def sector_demand_factor(p: Parameters, path: np.ndarray) -> np.ndarray:
    """Each sector's EU sales relative to its start output in the path's last year (<= h).

    ``path`` is the drivers' index from the start year to this year (drivers x years).
    """
    d = path[DRIVER_OF_SECTOR]  # each sector's driver, sectors x years
    e, h = elasticity(p), headroom(p)
    capacity_demand = d[:, 0] * h ** (1.0 / e)  # the demand the start fleet can serve at h
    return np.asarray(h * (d[:, -1] / np.maximum(capacity_demand, d.max(axis=1))) ** e)


def demand_factor(m: GovernanceModel, sector: np.ndarray) -> np.ndarray:
    """EU sales each plant's sector demands this year, relative to its start output (<= h)."""
    path = driver_path(m.params, int(m.config.start_year), int(np.floor(m.year)))
    return np.asarray(sector_demand_factor(m.params, path)[sector])
