"""The policy brief's recommendations as named levers with an intensity and a start year.

Each lever is a number in [0, 1] (0 = off, 1 = the strongest version the brief describes) that
switches on in its start year. What each lever changes is written once, in ``LEVERS`` below, and
applied by the rule modules through :class:`LeverState`; the size of each effect at intensity 1,
and the dose it stands for (EUR, FTE, training hours) with its public cost, are registry
parameters (``lever_*`` in :mod:`abm.config`; the cost is booked by ``abm.rules.public_cost``).
"""

from __future__ import annotations

from dataclasses import dataclass

from abm.validation import ConfigError, Range

FIRST_LEVER_YEAR = 2025
LAST_LEVER_YEAR = 2050


@dataclass(frozen=True, slots=True)
class LeverInfo:
    """What a lever stands for in the brief and what it changes in the model."""

    name: str
    label: str  # short, for figures, tables and the explorer
    brief: str
    changes: str


LEVERS: tuple[LeverInfo, ...] = (
    LeverInfo(
        "enhanced_financing",
        "Enhanced financing",
        "Enhanced financing mechanisms for cities, their industries and innovation ecosystems; "
        "urban-led R&D; city consulting branches for SMEs",
        "city call budgets x(1+boost*I); project-preparation (ELENA-type) and O&M costs "
        "eligible (prep staff and O&M -50%*I); industry fund x(1+fund_boost*I); SME advisers "
        "(win odds up, preparation cost -50%*I, know-how gap closed in the ranking). Costs the "
        "extra budgets, the assisted preparation work, the O&M share and the advisers",
    ),
    LeverInfo(
        "dialogue_platforms",
        "Dialogue platforms",
        "Multilevel governance and dialogue platforms, incl. cities in the Clean Industrial "
        "Dialogues and national-regional-local dialogues on industry targets",
        "dialogue rounds per year (alignment up, staff cost); city voice over plants (kappa up); "
        "national coordination with cities. Costs each city's rounds and national desks",
    ),
    LeverInfo(
        "simplification",
        "Simplification",
        "Simplification of bureaucratic barriers to funding access for local authorities and SMEs",
        "application burden, FTE-years per EUR M, stage delays and SME disbursement delay cut by "
        "cut*I; advance payments to SMEs; awareness of funding up. Costs a one-stop shop per "
        "resident",
    ),
    LeverInfo(
        "capacity_building",
        "Capacity building",
        "Capacity building for local authorities and local actors such as SMEs",
        "training hours per FTE x skill per hour; funded staff growth; SME funding know-how; "
        "finance and procurement skills. Costs training hours, twinning and funded salaries",
    ),
    LeverInfo(
        "research_innovation",
        "Research and innovation",
        "Research and innovation incentives: declining sectors, circular economy and secondary "
        "materials (steel recycling)",
        "clean-route cost premium cut; faster learning; scrap/secondary materials unlock "
        "circular (waste) projects; SME green adoption up. Costs R&I funding per resident",
    ),
    LeverInfo(
        "green_procurement",
        "Green public procurement",
        "Standardised sustainable public procurement framework with a capacity duty on Member "
        "States and ambitious city targets",
        "GPP framework and mandate terms switched on (gamma2, gamma3); procurement training "
        "hours; green tenders cut the city's own operations and contracts; green demand "
        "premium for plants. Costs framework, helpdesk and training",
    ),
    LeverInfo(
        "climate_city_contracts",
        "Climate City Contracts",
        "Climate City Contracts streamlined and extended to companies and research, with "
        "sector-specific targets",
        "CCC adoption hazard up (non-mission cities included); industry in CCC scope (dialogue "
        "with industry); reciprocal national commitments (alignment up); silo reduction. "
        "Costs platform support per contract city",
    ),
    LeverInfo(
        "predictable_pathway_2040",
        "2040 pathway",
        "Clean Industrial Deal aligned with the 2040 target: a predictable pathway and carbon "
        "price",
        "policy-uncertainty premium and carbon-price volatility cut; committed 2040 price "
        "floor. Costs only its running (the ETS price is no budget outlay)",
    ),
)

LEVER_NAMES: tuple[str, ...] = tuple(info.name for info in LEVERS)


LEVER_RANGES: dict[str, Range] = {
    "intensity": Range(integer=False, low=0.0, high=1.0),
    "start_year": Range(integer=True, low=FIRST_LEVER_YEAR, high=LAST_LEVER_YEAR),
}


@dataclass(frozen=True, slots=True)
class LeverSetting:
    """One lever as set in a scenario file: intensity in [0, 1] from ``start_year`` on."""

    name: str
    intensity: float = 0.0
    start_year: int = 2026

    def __post_init__(self) -> None:
        if self.name not in LEVER_NAMES:
            raise ConfigError(
                "levers",
                self.name,
                f"one of {', '.join(LEVER_NAMES)}",
                problem=f"unknown lever {self.name!r}",
            )
        for key, allowed in LEVER_RANGES.items():
            allowed.check(f"levers.{self.name}.{key}", getattr(self, key))

    def active(self, year: float) -> float:
        """Intensity in force in ``year`` (0 before the start year)."""
        return self.intensity if year >= self.start_year else 0.0


@dataclass(frozen=True, slots=True)
class LeverState:
    """Intensities of all levers in force at one time step (0 = off)."""

    enhanced_financing: float = 0.0
    dialogue_platforms: float = 0.0
    simplification: float = 0.0
    capacity_building: float = 0.0
    research_innovation: float = 0.0
    green_procurement: float = 0.0
    climate_city_contracts: float = 0.0
    predictable_pathway_2040: float = 0.0

    @classmethod
    def at(cls, settings: tuple[LeverSetting, ...], year: float) -> LeverState:
        """The lever intensities in force in ``year``."""
        return cls(**{s.name: s.active(year) for s in settings})
