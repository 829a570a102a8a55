"""Mesa agents for the few: one object per nation, city and installation.

They hold an index into the model's arrays and read their state from there, so code that wants
one actor at a time (case-city reports, inspection, a browser view) has an object, while the
rules update all actors at once on the arrays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from abm.agents.state import SECTORS_CITY, STRUCTURES
from abm.rules.industry_tech import SECTORS, TECHNOLOGIES

if TYPE_CHECKING:
    from abm.model import GovernanceModel


class NationalGovernment(mesa.Agent):
    """A national government (one per country present)."""

    def __init__(self, model: GovernanceModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def code(self) -> str:
        """ISO 3166-1 alpha-2 code."""
        return str(self.model.nations.code[self.index])

    @property
    def omega_econ(self) -> float:
        """Weight on jobs/GDP against climate in national priorities."""
        return float(self.model.nations.omega_econ[self.index])

    @property
    def coordination(self) -> float:
        """Coordination offered to cities, [0, 1]."""
        return float(self.model.nations.coordination[self.index])


class City(mesa.Agent):
    """A city (mission or non-mission)."""

    def __init__(self, model: GovernanceModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def name(self) -> str:
        """City name (generated non-mission cities are NMC-xxxx)."""
        return str(self.model.cities.name[self.index])

    @property
    def mission(self) -> bool:
        """Whether the city is one of the 112 Mission Cities."""
        return bool(self.model.cities.mission[self.index])

    @property
    def structure(self) -> str:
        """Departmental structure for climate work."""
        return STRUCTURES[int(self.model.cities.structure[self.index])]

    @property
    def emissions_t(self) -> dict[str, float]:
        """Current emissions by sector, t/yr (industry on territory included)."""
        m = self.model
        sector = m.city_sector_emissions()[self.index]
        out = {name: float(sector[k]) for k, name in enumerate(SECTORS_CITY)}
        out["industry"] = float(m.city_industry_emissions()[self.index])
        return out


class Installation(mesa.Agent):
    """A large industrial installation."""

    def __init__(self, model: GovernanceModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def name(self) -> str:
        """Site name."""
        return str(self.model.installations.name[self.index])

    @property
    def sector(self) -> str:
        """Industrial sector."""
        return SECTORS[int(self.model.installations.sector[self.index])]

    @property
    def technology(self) -> str:
        """Current production route."""
        return TECHNOLOGIES[int(self.model.installations.tech[self.index])].name
