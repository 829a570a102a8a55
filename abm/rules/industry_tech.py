"""Sector and technology tables for industrial installations (domain §3.5).

Intensities (tCO2 per tonne product) for steel follow Systemiq's Steel-IQ documentation as
summarised in ``docs/ODD.md``: BF-BOF 2.0, scrap-EAF 0.3, hydrogen DRI-EAF 0.1. Costs are
illustrative round numbers [assume] chosen so that margins before carbon cost are 10-25% of the
world price; they are priors for sensitivity analysis, not estimates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SECTORS: tuple[str, ...] = ("steel", "cement", "chemicals", "refinery", "battery", "other")
SME_CLUSTER = "sme_cluster"


@dataclass(frozen=True, slots=True)
class Technology:
    """One production route: emissions, costs and which routes a plant can switch to."""

    sector: str
    name: str
    intensity_t_per_t: float
    capex_eur_per_t: float  # capex per t/yr of capacity to build (or reline) this route
    opex_eur_per_t: float  # operating cost per t product, excluding carbon
    jobs_factor: float  # direct jobs relative to the sector's conventional route
    targets: tuple[str, ...]  # routes this one can switch to at a reinvestment point
    uses_hydrogen: bool = False
    uses_scrap: bool = False
    clean: bool = False
    available_from: int = 2025  # first year a plant can decide for it (readiness at scale)
    uses_grid: bool = False  # needs a large new grid connection (its lead time adds to building)
    stores_co2: bool = False  # captures CO2 that needs transport and storage capacity


# Readiness years (available_from): first commercial plants, from the announced projects in
# abm/data/announced_projects.csv: H2-DRI Stegra Boden (first steel 2026-27), cement CCS
# Heidelberg Brevik (capture from 2025), e-crackers BASF/SABIC/Linde demo (2024; commercial
# ~2030), inert anodes ELYSIS (~2030) [src for the projects; year of scale-up [assume]].
TECHNOLOGIES: tuple[Technology, ...] = (
    Technology(
        "steel",
        "BF-BOF",
        2.0,
        60.0,
        430.0,
        1.0,
        ("scrap-EAF", "H2-DRI-EAF", "gas-DRI-EAF"),
    ),
    Technology(
        "steel",
        "scrap-EAF",
        0.3,
        350.0,
        400.0,
        0.75,
        ("EAF-green-power",),
        False,
        True,
        uses_grid=True,
    ),
    Technology(
        "steel",
        "H2-DRI-EAF",
        0.1,
        700.0,
        400.0,
        0.9,
        (),
        True,
        False,
        True,
        available_from=2027,
        uses_grid=True,
    ),
    Technology("steel", "EAF-green-power", 0.1, 100.0, 415.0, 0.75, (), False, True, True),
    Technology("steel", "rolling mill", 0.1, 40.0, 90.0, 0.5, ()),
    Technology("cement", "clinker kiln", 0.6, 25.0, 70.0, 1.0, ("kiln+CCS", "low-clinker kiln")),
    Technology(
        "cement",
        "kiln+CCS",
        0.1,
        250.0,
        100.0,
        1.0,
        (),
        clean=True,
        available_from=2026,
        stores_co2=True,
    ),
    Technology("chemicals", "steam cracking", 1.0, 80.0, 760.0, 1.0, ("electrified",)),
    Technology(
        "chemicals",
        "electrified",
        0.3,
        600.0,
        800.0,
        1.0,
        (),
        clean=True,
        available_from=2030,
        uses_grid=True,
    ),
    Technology("refinery", "refinery", 0.3, 20.0, 560.0, 1.0, ("refinery+H2/CCS",)),
    Technology(
        "refinery",
        "refinery+H2/CCS",
        0.12,
        150.0,
        575.0,
        1.0,
        (),
        clean=True,
        available_from=2026,
        stores_co2=True,
    ),
    Technology("battery", "cell plant", 0.05, 900.0, 13000.0, 1.0, (), clean=True),
    Technology("other", "Al smelter", 1.6, 80.0, 2000.0, 1.0, ("inert anode",)),
    Technology(
        "other", "inert anode", 0.3, 900.0, 2030.0, 1.0, (), clean=True, available_from=2030
    ),
    # gas-based DRI with an EAF: the bridge to hydrogen (Midrex/Energiron, ~0.7 t/t incl.
    # power [der]); the DRI shaft later runs on hydrogen at a small extra capex (SWITCH_CAPEX)
    Technology("steel", "gas-DRI-EAF", 0.7, 550.0, 430.0, 0.9, ("H2-DRI-EAF",), uses_grid=True),
    # cement without CO2 storage: clinker partly replaced by calcined clay and limestone (LC3,
    # CEM II/C-M) and alternative fuels in the kiln. LC3 cuts CO2 per tonne of cement by up to
    # 40% (Scrivener et al. 2018, Cement and Concrete Research 114) and the GCCA 2050 roadmap
    # lowers the clinker ratio from 0.63 to 0.52 [src]; 0.6 -> 0.45 t/t [der]; a clay calciner
    # at ~EUR 30 per t/yr of cement and EUR 3/t more opex [assume]. It keeps the kiln, so CCS
    # can follow at the next reinvestment point.
    Technology(
        "cement",
        "low-clinker kiln",
        0.45,
        30.0,
        73.0,
        1.0,
        ("kiln+CCS",),
    ),
)
TECH_INDEX: dict[str, int] = {t.name: i for i, t in enumerate(TECHNOLOGIES)}
SECTOR_INDEX: dict[str, int] = {s: i for i, s in enumerate(SECTORS)}

# World price per tonne of product and the EU ETS free-allocation benchmark (t/t).
WORLD_PRICE_EUR_PER_T: dict[str, float] = {
    "steel": 550.0,
    "cement": 110.0,
    "chemicals": 900.0,
    "refinery": 600.0,
    "battery": 15000.0,  # cells at ~EUR 100/kWh, ~6.5 kg/kWh [assume]
    "other": 2300.0,
}
BENCHMARK_T_PER_T: dict[str, float] = {
    "steel": 1.3,
    "cement": 0.7,
    "chemicals": 0.7,
    "refinery": 0.25,
    "battery": 0.0,
    "other": 1.5,
}
CBAM_SECTORS = frozenset({"steel", "cement", "other"})
# CBAM factor: the share of the benchmark still allocated free to CBAM sectors, by year
# (Directive 2003/87/EC Art. 10a(1a) as amended by Directive (EU) 2023/959; mirrored by the
# free-allocation adjustment of CBAM certificates, Regulation (EU) 2023/956 Art. 31) [src]
CBAM_FACTOR_BY_YEAR: dict[int, float] = {
    2025: 1.0,
    2026: 0.975,
    2027: 0.95,
    2028: 0.90,
    2029: 0.775,
    2030: 0.515,
    2031: 0.39,
    2032: 0.265,
    2033: 0.14,
    2034: 0.0,
}
# CBAM's definitive period (certificates to surrender) starts on 1 January 2026; 2023-25 was
# reporting only (Regulation (EU) 2023/956 Art. 36) [src]
CBAM_FIRST_YEAR = 2026
# Recorded EUA prices before the announced path starts (annual averages, EUR/t), used when a
# run starts before 2025 (the hindcast, ``experiments/hindcast.py``). Sources per year: 2015
# 7.8 and 2016 5.3 (Thomson Reuters market review, in elEconomista 2017-01) [src]; 2018 15.82
# (ICAP status report 2019, in energynomics.ro) [src]; 2019 24.84 and 2020 24.75 (annual means
# quoted by Deia, 2022-08-01) [src]; 2021 53.59 (Global Factor, EUA spot annual mean) [src];
# 2022 81.16 and 2023 ~85 (energypress.ir, annual means) [src]; 2024 64.76 (EEX auction mean,
# Argus 2024-12; Veyt's secondary-market mean was EUR 67) [src]; 2013 4.5, 2014 6.0 and 2017
# 5.8 [assume: approximate annual means of the EUA Dec futures, not yet checked against a
# published annual table; carbon cost was negligible next to free allocation in those years].
HISTORICAL_EUA_EUR_PER_T: dict[int, float] = {
    2013: 4.5,
    2014: 6.0,
    2015: 7.8,
    2016: 5.3,
    2017: 5.8,
    2018: 15.82,
    2019: 24.84,
    2020: 24.75,
    2021: 53.59,
    2022: 81.16,
    2023: 85.0,
    2024: 64.76,
}
# Phase 3 cross-sectoral correction factor: free allocation to industry was the benchmark times
# this uniform factor (values of Commission Decision 2013/448/EU, Annex II [src]; Decision (EU)
# 2017/126 revised them after the CJEU's 2016 ruling, revised values not transcribed here
# [assume: the 2013 values stand for the revised ones]); no correction applied in 2021-2025.
CSCF_BY_YEAR: dict[int, float] = {
    2013: 0.94272,
    2014: 0.92634,
    2015: 0.90978,
    2016: 0.89304,
    2017: 0.87612,
    2018: 0.85903,
    2019: 0.84176,
    2020: 0.82438,
}
# Years the crisis state-aid frameworks apply: the Temporary Crisis and Transition Framework
# (its transition sections from 9 March 2023) and the Clean Industrial Deal State Aid Framework
# that replaced it (adopted 25 June 2025, in force to 31 December 2030; Commission IP/25/1598)
# [src]; outside them aid follows the CEEAG (2022).
STATE_AID_FRAMEWORK_YEARS: tuple[int, int] = (2023, 2030)
JOBS_PER_MT: dict[str, float] = {
    "steel": 1800.0,  # domain §3.5: 8,000 jobs / 4.5 Mt [der]
    "cement": 250.0,
    "chemicals": 1200.0,
    "refinery": 150.0,
    "battery": 40000.0,
    "other": 2000.0,
}
DEFAULT_CAPACITY_MT: dict[str, float] = {
    "steel": 3.0,
    "cement": 1.0,
    "chemicals": 1.5,
    "refinery": 6.0,
    "battery": 0.02,
    "other": 0.25,
}

# named sites without a capacity figure: route-specific where the sector default (an integrated
# plant) would be far too large, e.g. Belval's EAF (national total 2.5 Mt/yr) [assume]
DEFAULT_CAPACITY_MT_BY_ROUTE: dict[str, float] = {"scrap-EAF": 1.0, "rolling mill": 1.0}


def default_capacity_mt(sector: str, route: str) -> float:
    """Capacity to assume for a named site whose capacity is not in the data."""
    return DEFAULT_CAPACITY_MT_BY_ROUTE.get(route, DEFAULT_CAPACITY_MT[sector])


# Purchased energy per tonne of product by route (MWh/t): electricity and natural gas. The
# route costs above embed them at the reference prices (``electricity_price_reference_eur_per_mwh``,
# ``gas_price_reference_eur_per_mwh``); a plant's opex moves with its country's price path
# (``abm/data/energy_prices.csv``, ``industry.energy_prices``). Hydrogen routes buy their
# hydrogen as electricity (electrolysis ~50 kg H2/t steel at ~55 kWh/kg, plus the EAF).
# Sources: EAF ~0.45-0.6 MWh/t and gas-DRI ~10 GJ/t (Midrex; IEA Iron and Steel Roadmap 2020)
# [der]; primary aluminium ~14-15 MWh/t (IAI) [der]; clinker kilns ~110 kWh/t, coal and waste
# fuels (CEMBUREAU) [der]; steam crackers burn mostly their own fuel gas, ~2 MWh/t bought gas
# [assume]; refineries ~0.3 MWh/t bought gas [assume]; cells ~50 kWh per kWh of capacity at
# ~6.5 kg/kWh [der]; electrified crackers ~4 MWh/t [assume].
ENERGY_USE_MWH_PER_T: dict[str, tuple[float, float]] = {
    "BF-BOF": (0.15, 0.3),
    "scrap-EAF": (0.6, 0.3),
    "H2-DRI-EAF": (3.5, 0.1),
    "EAF-green-power": (0.6, 0.3),
    "rolling mill": (0.1, 0.4),
    "clinker kiln": (0.11, 0.0),
    "kiln+CCS": (0.25, 0.0),
    "steam cracking": (0.4, 2.0),
    "electrified": (4.0, 0.5),
    "refinery": (0.05, 0.3),
    "refinery+H2/CCS": (0.1, 0.4),
    "cell plant": (7.7, 0.0),
    "Al smelter": (15.0, 0.0),
    "inert anode": (15.5, 0.0),
    "gas-DRI-EAF": (0.7, 2.8),
    "low-clinker kiln": (0.12, 0.05),
}
# years of the recorded price table (abm/data/energy_prices.csv); later years follow the path
ENERGY_PRICE_YEARS: tuple[int, ...] = tuple(range(2013, 2025))


def recorded_years(
    by_year: pd.DataFrame, columns: str | list[str], path: object, what: str = ""
) -> np.ndarray:
    """``columns`` of a year-indexed table for each of ``ENERGY_PRICE_YEARS`` (float array).

    ValueError naming the file (and ``what``, e.g. "country 'DE' ") unless the table has
    exactly one row for each recorded year: the data files of recorded paths share this rule.
    """
    years = list(ENERGY_PRICE_YEARS)
    if sorted(by_year.index.tolist()) != years:
        raise ValueError(
            f"{path}: {what}needs exactly one row for each year {years[0]}-{years[-1]}"
        )
    return np.asarray(by_year.loc[years, columns].to_numpy(dtype=float))


N_TECH = len(TECHNOLOGIES)
INTENSITY = np.array([t.intensity_t_per_t for t in TECHNOLOGIES])
CAPEX = np.array([t.capex_eur_per_t for t in TECHNOLOGIES])
OPEX = np.array([t.opex_eur_per_t for t in TECHNOLOGIES])
JOBS_FACTOR = np.array([t.jobs_factor for t in TECHNOLOGIES])
USES_H2 = np.array([t.uses_hydrogen for t in TECHNOLOGIES])
USES_SCRAP = np.array([t.uses_scrap for t in TECHNOLOGIES])
IS_CLEAN = np.array([t.clean for t in TECHNOLOGIES])
AVAILABLE_FROM = np.array([t.available_from for t in TECHNOLOGIES], dtype=float)
USES_GRID = np.array([t.uses_grid for t in TECHNOLOGIES])
STORES_CO2 = np.array([t.stores_co2 for t in TECHNOLOGIES])
ELECTRICITY_MWH_PER_T = np.array([ENERGY_USE_MWH_PER_T[t.name][0] for t in TECHNOLOGIES])
GAS_MWH_PER_T = np.array([ENERGY_USE_MWH_PER_T[t.name][1] for t in TECHNOLOGIES])
TECH_SECTOR = np.array([SECTOR_INDEX[t.sector] for t in TECHNOLOGIES])
# switch matrix: ALLOWED[a, b] is True when route a can switch to route b
ALLOWED = np.zeros((N_TECH, N_TECH), dtype=bool)
for _i, _t in enumerate(TECHNOLOGIES):
    ALLOWED[_i, _i] = True
    for _name in _t.targets:
        ALLOWED[_i, TECH_INDEX[_name]] = True
# capex per t/yr of a switch between two routes: building the target route, except where the
# plant keeps its main unit (a gas DRI shaft converted to hydrogen: burners, H2 supply) [assume]
SWITCH_CAPEX_EUR_PER_T: dict[tuple[str, str], float] = {("gas-DRI-EAF", "H2-DRI-EAF"): 120.0}
SWITCH_CAPEX = np.tile(CAPEX, (N_TECH, 1))
for (_a, _b), _capex in SWITCH_CAPEX_EUR_PER_T.items():
    SWITCH_CAPEX[TECH_INDEX[_a], TECH_INDEX[_b]] = _capex
PRICE_BY_SECTOR = np.array([WORLD_PRICE_EUR_PER_T[s] for s in SECTORS])
BENCHMARK_BY_SECTOR = np.array([BENCHMARK_T_PER_T[s] for s in SECTORS])
CBAM_BY_SECTOR = np.array([s in CBAM_SECTORS for s in SECTORS])
CBAM_FACTOR_YEARS = np.array(sorted(CBAM_FACTOR_BY_YEAR), dtype=float)
CBAM_FACTORS = np.array([CBAM_FACTOR_BY_YEAR[y] for y in sorted(CBAM_FACTOR_BY_YEAR)])
EUA_HISTORY_YEARS = np.array(sorted(HISTORICAL_EUA_EUR_PER_T), dtype=float)
EUA_HISTORY = np.array([HISTORICAL_EUA_EUR_PER_T[y] for y in sorted(HISTORICAL_EUA_EUR_PER_T)])
# the correction factor by year, 1.0 outside phase 3 (the endpoints pad the table)
CSCF_YEARS = np.array([min(CSCF_BY_YEAR) - 1, *sorted(CSCF_BY_YEAR), max(CSCF_BY_YEAR) + 1.0])
CSCF = np.array([1.0, *(CSCF_BY_YEAR[y] for y in sorted(CSCF_BY_YEAR)), 1.0])
# the conventional route of each sector: the comparator whose embedded emissions CBAM charges
CONVENTIONAL: dict[str, str] = {
    "steel": "BF-BOF",
    "cement": "clinker kiln",
    "chemicals": "steam cracking",
    "refinery": "refinery",
    "battery": "cell plant",
    "other": "Al smelter",
}
CONVENTIONAL_INTENSITY_BY_SECTOR = np.array(
    [TECHNOLOGIES[TECH_INDEX[CONVENTIONAL[s]]].intensity_t_per_t for s in SECTORS]
)
JOBS_PER_MT_BY_SECTOR = np.array([JOBS_PER_MT[s] for s in SECTORS])


def technology_from_text(sector: str, text: str) -> str:
    """Map a free-text technology description from the site data to a route name."""
    t = text.lower()
    if sector == "steel":
        if "bf-bof" in t or "blast furnace" in t:
            return "BF-BOF"
        if "eaf" in t:
            return "scrap-EAF"
        return "rolling mill"
    conventional = {
        "cement": "clinker kiln",
        "chemicals": "steam cracking",
        "refinery": "refinery",
        "battery": "cell plant",
        "other": "Al smelter",
    }
    return conventional[sector]
