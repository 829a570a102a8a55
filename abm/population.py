"""Build the synthetic EU: nations, cities, installations, SMEs and citizens from the data files.

Mission Cities, countries and named industrial sites come from ``abm/data`` (copied from the
project's shared reference data, see ``abm/data/README.md``). Non-mission cities are generated to
match the 2024 Non-Mission City survey's size classes and regions. Every random draw here uses
the ``population`` stream, so the same seed builds the same EU in every scenario.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import functools
import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from abm.agents.state import (
    REGIONS,
    SECTORS_CITY,
    Cities,
    Citizens,
    Installations,
    Nations,
    SMEs,
)
from abm.config import CaseConfig, NewInstallation, Parameters, PopulationConfig
from abm.kernels import keep_freed_memory, kernels
from abm.rules import industry_tech as it
from abm.rules._math import logistic
from abm.rules.industry import jobs_factor
from abm.validation import ConfigError

# Size-class bounds (residents): the survey names Towns <50k, Small 50-200k, Medium 200-500k;
# Metropolitan 500k-1.5M and Large metropolitan >=1.5M are our reading [assume].
SIZE_BOUNDS = (
    (1_500_000.0, 2_000_000.0),
    (500_000.0, 1_500_000.0),
    (200_000.0, 500_000.0),
    (50_000.0, 200_000.0),
    (3_000.0, 50_000.0),
)
# nmc_by_size_class_count_derived: 1, 8, 13, 26, 14 of 62 respondents [src]
NMC_SIZE_SHARES = np.array([1, 8, 13, 26, 14], dtype=float) / 62.0
# nmc_by_region: Southern 30, C/E 16, Western 16, Northern 6 (sums to 68, not 62) [src]
NMC_REGION_WEIGHTS = {"Southern": 30.0, "Central-Eastern": 16.0, "Western": 16.0, "Northern": 6.0}
# nmc_admin_structure: 32 / 19 / 15 / 24 % (+10% other, spread pro rata) [src]
NMC_STRUCTURE_SHARES = np.array([32.0, 19.0, 15.0, 24.0]) / 90.0
# Mission Cities were selected for integrated governance: tilt towards cross-sectoral [assume]
MC_STRUCTURE_SHARES = np.array([0.45, 0.2, 0.2, 0.15])
# (s, c) ranges by structure, domain §3.3 [assume]
SILO_RANGES = ((0.2, 0.4), (0.4, 0.6), (0.4, 0.6), (0.7, 0.9))
COORD_RANGES = ((0.6, 0.8), (0.2, 0.4), (0.3, 0.5), (0.0, 0.1))
# nmc_target_status_count_from_tables: none 4, planned 25, existing 33 of 62 [src]
NMC_TARGET_SHARES = np.array([4.0, 25.0, 33.0]) / 62.0
# nmc_climate_budget: 44% none, 32% in place, 24% unknown/other; the unknown/other answers are
# spread pro rata over none/in place, so P(budget) = 0.32 / 0.76 [src, der]
NMC_CLIMATE_BUDGET_SHARE = 0.32 / 0.76
# sector emissions per resident at EU-average income, t/yr [assume; EU ~4-6 t non-industry]
SECTOR_T_PER_CAPITA = np.array([1.8, 1.6, 1.0, 0.3])
# engagement: 73% inform, 60% consult, 15-20 of 62 empower -> main mode shares [der]
ENGAGEMENT_SHARES = np.array([0.35, 0.37, 0.28])
PEERS_PER_CITY = 4
RAKING_ITERATIONS = 20  # iterations that hold a survey share while a covariate tilts it


def _beta_shape(mean: float, concentration: float) -> tuple[float, float]:
    """Beta(a, b) with the given mean and a + b = concentration."""
    return mean * concentration, (1.0 - mean) * concentration


def file_sha256(path: Path) -> str:
    """SHA-256 of a data file, for manifests."""
    return _sha256_cached(str(path), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _sha256_cached(path: str, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@functools.lru_cache(maxsize=16)
def _read_csv_cached(path: str, mtime_ns: int) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def read_csv(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    """Read a data file once per process; fail loudly on a missing file or column.

    The cached frame is shared: callers must not modify it in place.
    """
    if not path.is_file():
        raise FileNotFoundError(f"data file not found: {path}")
    frame = _read_csv_cached(str(path), path.stat().st_mtime_ns)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{path}: missing column(s) {', '.join(missing)}; required: {', '.join(required)}"
        )
    return frame


@dataclass(slots=True)
class Population:
    """Everything the model starts from."""

    nations: Nations
    cities: Cities
    installations: Installations
    smes: SMEs
    citizens: Citizens
    label_year: np.ndarray  # per city: year the Mission Label was (or will be) awarded, or inf


def size_class_of(population: np.ndarray) -> np.ndarray:
    """Index into SIZE_CLASSES for each population figure."""
    cls = np.full(population.shape, 4, dtype=np.int64)
    for k, (low, _high) in enumerate(SIZE_BOUNDS[:4]):
        cls = np.where((population >= low) & (cls == 4), k, cls)
    return cls


def read_countries(cfg: PopulationConfig) -> pd.DataFrame:
    """countries.csv, checked: required columns and known regions."""
    df = read_csv(
        cfg.countries_csv,
        (
            "country",
            "name",
            "eu_member",
            "region",
            "gdp_per_capita_pps_index",
            "government_effectiveness",
        ),
    )
    unknown = sorted(set(df["region"]) - set(REGIONS))
    if unknown:
        raise ValueError(f"{cfg.countries_csv}: column 'region' has {unknown}; allowed: {REGIONS}")
    return df


def read_mission_cities(cfg: PopulationConfig, country_codes: list[str]) -> pd.DataFrame:
    """mission_cities.csv, checked: required columns and countries present in countries.csv."""
    df = read_csv(cfg.mission_cities_csv, ("city", "country", "population", "mission_label_date"))
    bad = sorted(set(df["country"]) - set(country_codes))
    if bad:
        raise ValueError(
            f"{cfg.mission_cities_csv}: country code(s) {bad} not in {cfg.countries_csv}"
        )
    return df


def read_industrial_sites(cfg: PopulationConfig, city_names: list[str]) -> pd.DataFrame:
    """industrial_sites.csv, checked: required columns, known sectors, sites in Mission Cities."""
    df = read_csv(
        cfg.industrial_sites_csv,
        (
            "city",
            "country",
            "operator",
            "sector",
            "technology",
            "capacity_mt_per_year",
            "direct_jobs",
            "national_asset_note",
        ),
    )
    bad = sorted(set(df["sector"]) - set(it.SECTORS))
    if bad:
        raise ValueError(
            f"{cfg.industrial_sites_csv}: column 'sector' has {bad}; allowed: {it.SECTORS}"
        )
    for site_city in df["city"]:
        if _match_city(str(site_city), city_names) < 0:
            raise ValueError(
                f"{cfg.industrial_sites_csv}: city {site_city!r} is not a Mission City "
                f"in {cfg.mission_cities_csv}"
            )
    return df


def check_data_files(cfg: PopulationConfig) -> None:
    """Read and check the population's data files without building it (fails loudly, cheaply).

    Raises FileNotFoundError or ValueError naming the file and the problem: the same checks
    :func:`build_population` makes on the files, without drawing cities, plants or citizens.
    """
    countries = read_countries(cfg)
    read_grid_intensity(cfg, [str(code) for code in countries["country"]])
    read_energy_prices(cfg, [str(code) for code in countries["country"]])
    cities = read_mission_cities(cfg, [str(code) for code in countries["country"]])
    read_industrial_sites(cfg, [str(name) for name in cities["city"]])


def read_grid_intensity(cfg: PopulationConfig, country_codes: list[str]) -> np.ndarray:
    """grid_intensity.csv: each country's power-sector carbon intensity (gCO2e/kWh), checked."""
    df = read_csv(cfg.grid_intensity_csv, ("country", "gco2e_per_kwh"))
    values = pd.to_numeric(df["gco2e_per_kwh"], errors="coerce")
    if values.isna().any() or (values < 0).any():
        raise ValueError(
            f"{cfg.grid_intensity_csv}: column 'gco2e_per_kwh' must be a number >= 0 in every row"
        )
    by_code = dict(zip(df["country"].astype(str), values, strict=True))
    missing = sorted(set(country_codes) - set(by_code))
    if missing:
        raise ValueError(
            f"{cfg.grid_intensity_csv}: no row for country code(s) {missing} of {cfg.countries_csv}"
        )
    return np.array([by_code[code] for code in country_codes], dtype=np.float64)


def read_energy_prices(
    cfg: PopulationConfig, country_codes: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """energy_prices.csv: recorded electricity and gas prices (EUR/MWh) per country and year.

    Rows are per country and year of ``industry_tech.ENERGY_PRICE_YEARS``; the ``EU27`` rows
    must cover every year and stand in for a country without its own rows (a country with
    rows must cover every year too). Returns two (countries, years) arrays.
    """
    path = cfg.energy_prices_csv
    cols = ("electricity_eur_per_mwh", "gas_eur_per_mwh")
    df = read_csv(path, ("country", "year", *cols, "source"))
    for col in cols:
        values = pd.to_numeric(df[col], errors="coerce")
        if values.isna().any() or (values < 0).any():
            raise ValueError(f"{path}: column '{col}' must be a number >= 0 in every row")
        df[col] = values
    tables: dict[str, np.ndarray] = {}
    for code, rows in df.groupby(df["country"].astype(str)):
        by_year = rows.set_index(pd.to_numeric(rows["year"], errors="coerce"))
        tables[str(code)] = it.recorded_years(by_year, list(cols), path, f"country {code!r} ")
    if "EU27" not in tables:
        raise ValueError(f"{path}: rows for country 'EU27' (the fallback path) are required")
    stack = np.array([tables.get(code, tables["EU27"]) for code in country_codes])
    return stack[:, :, 0].copy(), stack[:, :, 1].copy()


def build_nations(cfg: PopulationConfig, params: Parameters) -> Nations:
    """National governments from countries.csv (and their grids from grid_intensity.csv).

    They depend on the data files only (no parameter, no draw), so they are parsed once per
    process and set of files and copied for each build.
    """
    return cast(Nations, _copy_state(_nations_from_files(cfg, _files_key(cfg))))


@functools.lru_cache(maxsize=8)
def _nations_from_files(cfg: PopulationConfig, files_key: tuple[object, ...]) -> Nations:
    """The parsing behind :func:`build_nations`, keyed on the files' paths, sizes and times."""
    df = read_countries(cfg)
    grid = read_grid_intensity(cfg, [str(code) for code in df["country"]])
    electricity, gas = read_energy_prices(cfg, [str(code) for code in df["country"]])
    gdp_raw = pd.to_numeric(df["gdp_per_capita_pps_index"], errors="coerce").to_numpy(dtype=float)
    gdp = np.where(np.isnan(gdp_raw), np.nanmedian(gdp_raw), gdp_raw).astype(np.float64)
    ge_raw = pd.to_numeric(df["government_effectiveness"], errors="coerce").to_numpy(dtype=float)
    ge = np.where(np.isnan(ge_raw), 0.0, ge_raw).astype(np.float64)
    eu = df["eu_member"].astype(str).str.lower().eq("true").to_numpy()
    n = len(df)
    fiscal = np.clip(0.2 + 0.6 * (gdp - 40.0) / 100.0, 0.1, 1.0)
    return Nations(
        code=df["country"].to_numpy(dtype=object),
        name=df["name"].to_numpy(dtype=object),
        region=np.array([REGIONS.index(r) for r in df["region"]], dtype=np.int64),
        eu_member=eu,
        gdp_index=gdp,
        gov_effectiveness=ge,
        fiscal_room=fiscal,
        omega_econ=np.full(n, 0.5),
        # WGI > 0.5 taken as rules that let cities borrow, issue bonds or levy local taxes [assume]
        enables_instruments=ge > 0.5,
        coordination=np.zeros(n),  # nmc_support_received_from_higher_gov: coordination 0% [src]
        protects_assets=np.zeros(n, dtype=bool),
        programme_eur_per_year=np.zeros(n),
        programme_budget_eur=np.zeros(n),
        aid_paid_eur=np.zeros(n),
        grid_intensity_start=grid,
        grid_intensity=grid.copy(),
        electricity_price_recorded=electricity,
        gas_price_recorded=gas,
    )


def _log_uniform(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return np.exp(np.log(low) + rng.random(low.shape) * (np.log(high) - np.log(low)))


def _ordered_draw(
    rng: np.random.Generator, shares: np.ndarray, shift: np.ndarray, among: np.ndarray
) -> np.ndarray:
    """Ordered categories 0..K-1 with ``shares`` among ``among``; higher ``shift``, higher class.

    A latent ``shift + logistic noise`` is cut at the quantiles that give the shares, so a
    covariate moves who gets which class without changing how many get it.
    """
    latent = shift + rng.logistic(size=shift.size)
    if not among.any():
        return np.zeros(shift.size, dtype=np.int64)
    cuts = np.quantile(latent[among], np.cumsum(shares)[:-1])
    return np.searchsorted(cuts, latent).astype(np.int64)


def _tilted_choice(
    rng: np.random.Generator, shares: np.ndarray, tilt: np.ndarray, among: np.ndarray
) -> np.ndarray:
    """One category per row with log-odds ``tilt``, raked so the ``among`` mean is ``shares``."""
    weights = shares[None, :] * np.exp(tilt)
    for _ in range(RAKING_ITERATIONS):
        probs = weights / weights.sum(axis=1, keepdims=True)
        if among.any():
            observed = np.asarray(probs[among].mean(axis=0))
            weights = weights * (shares / observed)[None, :]
    probs = weights / weights.sum(axis=1, keepdims=True)
    u = np.asarray(rng.random(tilt.shape[0]))
    return np.asarray((u[:, None] > np.cumsum(probs, axis=1)).sum(axis=1).clip(0, len(shares) - 1))


def _logistic_with_mean(logit: np.ndarray, mean: float, among: np.ndarray) -> np.ndarray:
    """``logistic(a + logit)`` with the intercept ``a`` that gives ``mean`` over ``among``."""
    if not among.any():
        return np.full(logit.shape, mean)
    low, high = -20.0, 20.0
    for _ in range(RAKING_ITERATIONS * 3):
        mid = 0.5 * (low + high)
        if logistic(mid + logit[among]).mean() < mean:
            low = mid
        else:
            high = mid
    return np.asarray(logistic(0.5 * (low + high) + logit))


# the range tables as arrays, indexed by size class or structure (same values as the tuples)
_SIZE_LOWS, _SIZE_HIGHS = np.array(SIZE_BOUNDS).T.copy()
_SILO_RANGES = np.array(SILO_RANGES)
_COORD_RANGES = np.array(COORD_RANGES)


@dataclass(frozen=True)
class _MissionCityData:
    """The Mission Cities' columns parsed from mission_cities.csv (read-only; the build copies)."""

    name: np.ndarray
    country: np.ndarray
    population: np.ndarray
    population_imputed: np.ndarray
    label_year: np.ndarray


@functools.lru_cache(maxsize=8)
def _mission_city_data(
    cfg: PopulationConfig, country_codes: tuple[str, ...], files_key: tuple[object, ...]
) -> _MissionCityData:
    """Parse and check mission_cities.csv once per file version and country list.

    A calibration builds a fresh population per particle (its own seed); the string work here
    (codes to indices, label dates) is the same for every one of them. ``files_key`` (path,
    size, modification time) makes an edited file a new entry.
    """
    code_index = {c: i for i, c in enumerate(country_codes)}
    df = read_mission_cities(cfg, list(code_index))
    mc_pop = pd.to_numeric(df["population"], errors="coerce").to_numpy(dtype=float)
    imputed_mc = np.isnan(mc_pop)
    # Missing populations: the median of the known Mission-City figures (no guessing per city).
    mc_pop = np.where(imputed_mc, np.nanmedian(mc_pop), mc_pop)
    label = df["mission_label_date"].fillna("").astype(str)
    label_year = np.array(
        [float(s[:4]) + (float(s[5:7]) - 1) / 12 if len(s) >= 7 else np.inf for s in label]
    )
    out = _MissionCityData(
        name=df["city"].to_numpy(dtype=object),
        country=df["country"].map(code_index).to_numpy(dtype=np.int64),
        population=mc_pop,
        population_imputed=imputed_mc,
        label_year=label_year,
    )
    for f in dataclasses.fields(out):  # astuple would set the flags on deep copies
        getattr(out, f.name).flags.writeable = False
    return out


@functools.lru_cache(maxsize=8)
def _nmc_names(n: int) -> np.ndarray:
    """Names of ``n`` generated non-mission cities, NMC-0001 ... (read-only)."""
    names = np.array([f"NMC-{i + 1:04d}" for i in range(n)], dtype=object)
    names.flags.writeable = False
    return names


def build_cities(
    cfg: PopulationConfig, params: Parameters, nations: Nations, rng: np.random.Generator
) -> tuple[Cities, np.ndarray]:
    """The 112 Mission Cities from data plus generated non-mission cities."""
    mc = _mission_city_data(cfg, tuple(str(code) for code in nations.code), _files_key(cfg))
    mc_pop, imputed_mc, label_year = mc.population, mc.population_imputed, mc.label_year
    n_mc = mc_pop.size
    n_nmc = cfg.n_non_mission_cities
    # --- generated non-mission cities: size class, population, region, country
    cls = rng.choice(5, size=n_nmc, p=NMC_SIZE_SHARES)
    lows = _SIZE_LOWS[cls]
    highs = _SIZE_HIGHS[cls]
    nmc_pop = _log_uniform(rng, lows, highs) if n_nmc else np.zeros(0)
    region_names = list(NMC_REGION_WEIGHTS)
    region_p = np.array(list(NMC_REGION_WEIGHTS.values()))
    region_draw = rng.choice(len(region_names), size=n_nmc, p=region_p / region_p.sum())
    nmc_country = np.empty(n_nmc, dtype=np.int64)
    for r, rname in enumerate(region_names):
        pool = np.flatnonzero((nations.region == REGIONS.index(rname)) & nations.eu_member)
        idx = np.flatnonzero(region_draw == r)
        nmc_country[idx] = rng.choice(pool, size=idx.size)
    names = np.concatenate([mc.name, _nmc_names(n_nmc)])
    country = np.concatenate([mc.country, nmc_country])
    population = np.concatenate([mc_pop, nmc_pop])
    n = n_mc + n_nmc
    mission = np.arange(n) < n_mc
    # 19 of 62 NMC respondents had applied in 2021 (second wave) [src]
    eoi = mission | (rng.random(n) < 19.0 / 62.0)
    log_size = np.log10(population / 100_000.0)
    # --- target status: the survey's shares; larger cities more often have a target
    nmc = ~mission
    target = np.where(
        mission,
        2,
        _ordered_draw(rng, NMC_TARGET_SHARES, params.target_log10_size_slope * log_size, nmc),
    )
    target_year = np.where(
        mission, 2030, rng.choice(np.array([2030, 2040, 2050]), size=n, p=[0.15, 0.3, 0.55])
    )
    # --- structure, silo, coordination: the survey's shares, cross-sectoral bodies in larger
    # cities and fragmented structures in smaller ones
    tilt = np.zeros((n, 4))
    tilt[:, 0] = params.structure_log10_size_tilt * log_size
    tilt[:, 3] = -params.structure_log10_size_tilt * log_size
    structure = np.where(
        mission,
        _tilted_choice(rng, MC_STRUCTURE_SHARES, tilt, mission),
        _tilted_choice(rng, NMC_STRUCTURE_SHARES, tilt, nmc),
    )
    s_lo, s_hi = _SILO_RANGES[structure].T
    c_lo, c_hi = _COORD_RANGES[structure].T
    silo = np.clip(s_lo + rng.random(n) * (s_hi - s_lo) + params.silo_initial_shift, 0.0, 1.0)
    coord = c_lo + rng.random(n) * (c_hi - c_lo)
    # --- staff and skills: specialised staff grow faster than population (exponent > 1), so
    # towns have the fewest climate staff per resident
    staff = (
        params.staff_fte_per_10k_residents
        * 10.0
        * (population / 100_000.0) ** params.staff_scale_exponent
        * rng.lognormal(0.0, 0.3, n)
    )
    staff = np.maximum(staff, params.staff_fte_floor)
    gdp = nations.gdp_index[country]
    ge = nations.gov_effectiveness[country]
    skill = np.clip(
        rng.beta(*_beta_shape(params.skill_initial_mean, 5.0), n)
        + 0.05 * ge
        + 0.1 * mission
        + params.skill_log10_size_slope * log_size,
        0.02,
        0.95,
    )
    # climate finance is the weakest skill (D13.1; NMC report) [src]
    finance_skill = np.clip(
        rng.beta(*_beta_shape(params.finance_skill_initial_mean, 5.5), n)
        + 0.05 * mission
        + params.skill_log10_size_slope * log_size,
        0.01,
        0.95,
    )
    procurement_skill = np.clip(rng.beta(2.0, 4.0, n), 0.01, 0.95)
    # --- budget: 32% of NMCs have a dedicated climate budget [src], more often the larger ones
    # and those with a target; EUR per resident [assume]
    budget_logit = (
        params.climate_budget_log10_size_logit * log_size
        + params.climate_budget_target_logit * (target == 2)
    )
    p_budget = np.where(
        mission,
        params.mission_climate_budget_share,
        _logistic_with_mean(budget_logit, NMC_CLIMATE_BUDGET_SHARE, nmc),
    )
    has_budget = rng.random(n) < p_budget
    budget_pc = rng.lognormal(0.0, params.climate_budget_log_sd, n) * np.where(
        has_budget,
        params.climate_budget_eur_per_resident_dedicated,
        params.climate_budget_eur_per_resident_other,
    )
    budget = budget_pc * population * (gdp / 100.0)
    # --- emissions by sector, scaled mildly with income [assume]
    income = (gdp / 100.0) ** 0.3
    emissions = (
        population[:, None]
        * SECTOR_T_PER_CAPITA[None, :]
        * income[:, None]
        * rng.lognormal(0.0, 0.15, (n, 4))
    )
    gpp = np.clip(rng.beta(3.0, 6.0, n), 0.05, 0.9)  # baseline ~0.2-0.5 (Renda et al. 2012)
    engagement = rng.choice(3, size=n, p=ENGAGEMENT_SHARES)
    commitment = np.clip(
        rng.normal(params.commitment_initial_mean + 0.1 * mission, 0.12, n), 0.05, 0.95
    )
    awareness = np.clip(rng.beta(2.0, 2.0, n) + 0.25 * mission, 0.02, 0.98)
    # with endogenous Labels (calibration set-up, starting before 2023) no city starts with a CCC
    ccc = (
        mission & (label_year_full(label_year, n) <= 2025.0) & bool(params.mission_labels_from_data)
    )
    peers = build_peers(nations.region[country], population, PEERS_PER_CITY)
    label_all = label_year_full(label_year, n)
    cities = Cities(
        name=names,
        country=country,
        mission=mission,
        eoi_applicant=eoi,
        population=population,
        population_imputed=np.concatenate([imputed_mc, np.zeros(n_nmc, dtype=bool)]),
        size_class=size_class_of(population),
        target_status=target.astype(np.int64),
        target_year=target_year.astype(np.int64),
        climate_budget_eur=budget,
        has_climate_budget=has_budget,
        staff_fte=staff,
        skill=skill,
        finance_skill=finance_skill,
        procurement_skill=procurement_skill,
        structure=structure.astype(np.int64),
        silo=silo,
        coordination=coord,
        commitment=commitment,
        awareness=awareness,
        emissions_base_t=emissions,
        abated_t=np.zeros((n, len(SECTORS_CITY))),
        gpp_share=gpp,
        engagement_mode=engagement.astype(np.int64),
        industry_dialogue=np.where(mission, 0.2, 0.05) * np.ones(n),
        alignment=np.zeros(n),  # set in build_population once national priorities are known
        alignment_base=np.zeros(n),
        ccc_signed=ccc,
        industry_in_ccc=np.zeros(n, dtype=bool),
        label=ccc.copy(),
        peers=peers,
        completed_projects=np.zeros(n),
        committed_eur=np.zeros((n, int(params.decommitment_years) + 1)),
        committed_delay_months=np.full(n, params.stage_delay_implement_months),
        implemented_eur=np.zeros(n),
        certified_eur=np.zeros(n),
        background_factor=np.ones(n),
        job_threat_scale=np.ones(n),
        utility_owned=rng.random(n)
        < np.where(
            nations.region[country] <= REGIONS.index("Western"),
            params.municipal_utility_share_north_west,
            params.municipal_utility_share_south_east,
        ),
        gpp_share_start=gpp.copy(),
        ccc_prep_pm=np.zeros(n),
        ccc_prep_years=np.full(n, np.nan),
        ccc_submit_year=np.full(n, np.inf),
        label_due_year=np.full(n, np.inf),
    )
    return cities, label_all


def label_year_full(label_year_mc: np.ndarray, n: int) -> np.ndarray:
    """Label years for all cities (non-mission cities never get the Mission Label)."""
    out = np.full(n, np.inf)
    out[: label_year_mc.size] = label_year_mc
    return out


def build_peers(region: np.ndarray, population: np.ndarray, k: int) -> np.ndarray:
    """Each city's k peers: the cities of its region closest in log population."""
    n = population.size
    peers = np.zeros((n, k), dtype=np.int64)
    logp = np.log(population)
    for r in np.unique(region):
        idx = np.flatnonzero(region == r)
        if idx.size == 1:
            peers[idx] = idx[0]
            continue
        d = np.abs(logp[idx][:, None] - logp[idx][None, :])
        np.fill_diagonal(d, np.inf)
        kk = min(k, idx.size - 1)
        nearest = np.argsort(d, axis=1, kind="stable")[:, :kk]
        chosen = idx[nearest]
        if kk < k:
            chosen = np.concatenate([chosen, np.repeat(chosen[:, :1], k - kk, axis=1)], axis=1)
        peers[idx] = chosen
    return peers


def _match_city(site_city: str, names: list[str]) -> int:
    if site_city in names:
        return names.index(site_city)
    head = site_city.split(" (")[0].strip()
    for i, name in enumerate(names):
        if name.split(" (")[0].strip() == head:
            return i
    return -1


# generated plants: capacity ~ sector default x lognormal(-0.3, 0.5); a third of steel is EAF
GEN_CAPACITY_LOG_MEAN = -0.3
GEN_CAPACITY_LOG_SD = 0.5
GEN_EAF_SHARE = 0.35
# generated plants start on their sector's conventional route, at the sector's default capacity
_CONVENTIONAL_TECH_BY_SECTOR = np.array(
    [it.TECH_INDEX[it.CONVENTIONAL[s]] for s in it.SECTORS], dtype=np.int64
)
_DEFAULT_CAPACITY_BY_SECTOR = np.array([it.DEFAULT_CAPACITY_MT[s] for s in it.SECTORS])


@functools.lru_cache(maxsize=8)
def _ets_sector_shares(cfg: PopulationConfig, files_key: tuple[object, ...]) -> np.ndarray:
    """Each sector's share of verified ETS emissions (ets_sector_emissions.csv), read-only.

    Parsed once per file version (``files_key``: paths, sizes, modification times).
    """
    df = read_csv(cfg.ets_sector_emissions_csv, ("sector", "verified_emissions_mt"))
    bad = sorted(set(df["sector"]) - set(it.SECTORS))
    if bad or set(df["sector"]) != set(it.SECTORS):
        raise ValueError(
            f"{cfg.ets_sector_emissions_csv}: column 'sector' must list each of {it.SECTORS} "
            f"once (unknown: {bad})"
        )
    verified = df.set_index("sector")["verified_emissions_mt"].astype(float)
    share = np.array([verified[s] for s in it.SECTORS]) / float(verified.sum())
    share.flags.writeable = False
    return share


def generated_sector_shares(
    cfg: PopulationConfig, params: Parameters, named_mt: np.ndarray, m: int
) -> np.ndarray:
    """Sector probabilities of generated plants so that all plants match the ETS sector mix.

    With ``s`` the sectors' shares of verified ETS emissions (ets_sector_emissions.csv), ``N``
    the named sites' emissions and ``e`` a generated plant's mean emissions by sector, the
    modelled total ``T`` solves ``sum_s (s T - N_s) / e_s = m`` and sector ``s`` gets
    ``max(s T - N_s, 0) / e_s`` of the ``m`` generated plants.
    """
    share = _ets_sector_shares(cfg, _files_key(cfg))
    mean_capacity = np.exp(GEN_CAPACITY_LOG_MEAN + GEN_CAPACITY_LOG_SD**2 / 2.0)
    conventional = it.CONVENTIONAL_INTENSITY_BY_SECTOR.copy()
    steel = it.SECTOR_INDEX["steel"]
    conventional[steel] = (1.0 - GEN_EAF_SHARE) * conventional[steel] + GEN_EAF_SHARE * float(
        it.INTENSITY[it.TECH_INDEX["scrap-EAF"]]
    )
    per_plant = (
        np.array([it.DEFAULT_CAPACITY_MT[s] for s in it.SECTORS])
        * mean_capacity
        * params.full_utilisation
        * conventional
    )
    total = (m + float((named_mt / per_plant).sum())) / float((share / per_plant).sum())
    counts = np.maximum(share * total - named_mt, 0.0) / per_plant
    return np.asarray(counts / counts.sum()) if counts.sum() > 0 else share


@dataclass(frozen=True)
class _NamedSites:
    """The named sites of industrial_sites.csv and their announced projects, parsed and checked.

    Read-only arrays (the build copies what it changes). ``jobs`` is the raw direct-jobs column
    (NaN where missing); the jobs per Mt that need a parameter are worked out in the build.
    Announced projects that change a plant's state, in file order: ``project_site`` (index of
    the named site), ``project_route``, ``project_funded`` (else announced), decision and
    online years.
    """

    city: np.ndarray
    sector: np.ndarray
    tech: np.ndarray
    capacity_mt: np.ndarray
    jobs: np.ndarray
    national_asset: np.ndarray
    labels: tuple[str, ...]
    operators: tuple[str, ...]
    project_site: np.ndarray
    project_route: np.ndarray
    project_funded: np.ndarray
    project_decision_year: np.ndarray
    project_online_year: np.ndarray


@functools.lru_cache(maxsize=8)
def _named_sites(
    cfg: PopulationConfig, names: tuple[str, ...], files_key: tuple[object, ...]
) -> _NamedSites:
    """Parse industrial_sites.csv and announced_projects.csv once per file version and city list.

    The row-by-row string work (matching cities, routes from free text, site labels) is the same
    for every build; ``files_key`` (paths, sizes, modification times) makes an edited file a new
    entry. Errors name the file, the row's site or city and the allowed values.
    """
    name_list = list(names)
    df = read_industrial_sites(cfg, name_list)
    capacities = pd.to_numeric(df["capacity_mt_per_year"], errors="coerce").to_numpy(dtype=float)
    direct_jobs = pd.to_numeric(df["direct_jobs"], errors="coerce").to_numpy(dtype=float)
    city_idx: list[int] = []
    sector_idx: list[int] = []
    tech_idx: list[int] = []
    cap: list[float] = []
    asset: list[bool] = []
    labels: list[str] = []
    ops: list[str] = []
    for r, row in enumerate(df.itertuples(index=False)):
        ci = _match_city(str(row.city), name_list)
        if ci < 0:
            raise ValueError(
                f"{cfg.industrial_sites_csv}: city {row.city!r} is not a Mission City "
                f"in {cfg.mission_cities_csv}"
            )
        sector = str(row.sector)
        tech = it.technology_from_text(sector, str(row.technology))
        given = capacities[r]
        capacity = float(given) if np.isfinite(given) else it.default_capacity_mt(sector, tech)
        note = str(row.national_asset_note).lower()
        city_idx.append(ci)
        sector_idx.append(it.SECTOR_INDEX[sector])
        tech_idx.append(it.TECH_INDEX[tech])
        cap.append(capacity)
        # named steelworks and sites described as the largest/national are national assets
        asset.append(sector == "steel" or any(w in note for w in ("largest", "national", "gdp")))
        site = getattr(row, "site_name", None)
        labels.append(
            str(site) if isinstance(site, str) and site else f"{row.operator} ({row.city})"
        )
        ops.append(str(row.operator))
    sector_arr = np.array(sector_idx, dtype=np.int64)
    tech_arr = np.array(tech_idx, dtype=np.int64)
    projects = _announced_projects(cfg, labels, tech_arr, sector_arr)
    out = _NamedSites(
        np.array(city_idx, dtype=np.int64),
        sector_arr,
        tech_arr,
        np.array(cap, dtype=float),
        np.asarray(direct_jobs, dtype=float),
        np.array(asset, dtype=bool),
        tuple(labels),
        tuple(ops),
        *projects,
    )
    for f in dataclasses.fields(out):  # astuple would set the flags on deep copies
        value = getattr(out, f.name)
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
    return out


def _named_jobs_per_mt(params: Parameters, sites: _NamedSites) -> np.ndarray:
    """Observed jobs per Mt where given; else the sector default scaled to the starting route."""
    jobs, capacity = sites.jobs, sites.capacity_mt
    observed = np.isfinite(jobs) & (capacity > 0)
    default = it.JOBS_PER_MT_BY_SECTOR[sites.sector] * jobs_factor(params, sites.tech)
    return np.asarray(
        np.where(observed, jobs / np.where(observed, capacity, 1.0), default), dtype=float
    )


def build_installations(
    cfg: PopulationConfig,
    params: Parameters,
    nations: Nations,
    cities: Cities,
    start_year: int,
    rng: np.random.Generator,
) -> Installations:
    """Named sites from industrial_sites.csv plus generated conventional plants."""
    sites = _named_sites(cfg, tuple(str(name) for name in cities.name), _files_key(cfg))
    labels = list(sites.labels)
    ops = list(sites.operators)
    sector_idx = sites.sector
    tech_idx = sites.tech
    cap = sites.capacity_mt
    n_named = sites.city.size
    # --- generated plants: cities drawn with probability ~ population^0.7 [assume]
    m = cfg.generated_installations
    w = cities.population**0.7
    gen_city = rng.choice(cities.n, size=m, p=w / w.sum()) if m else np.zeros(0, dtype=np.int64)
    named_emissions = np.bincount(
        np.array(sector_idx, dtype=np.int64),
        weights=cap * params.full_utilisation * it.INTENSITY[tech_idx],
        minlength=len(it.SECTORS),
    )
    # stratified: each sector gets its expected number of plants (largest remainder), in a
    # random order, so the ETS mix does not hang on the luck of m independent draws
    exact = generated_sector_shares(cfg, params, named_emissions, m) * m
    counts = np.floor(exact).astype(np.int64)
    counts[np.argsort(-(exact - counts), kind="stable")[: m - int(counts.sum())]] += 1
    gen_sector = rng.permutation(np.repeat(np.arange(len(it.SECTORS)), counts))
    gen_tech = _CONVENTIONAL_TECH_BY_SECTOR[gen_sector]
    # a third of generated steel plants are scrap-EAF already [assume]
    eaf = (gen_sector == it.SECTOR_INDEX["steel"]) & (rng.random(m) < GEN_EAF_SHARE)
    gen_tech = np.where(eaf, it.TECH_INDEX["scrap-EAF"], gen_tech)
    gen_cap = _DEFAULT_CAPACITY_BY_SECTOR[gen_sector] * rng.lognormal(
        GEN_CAPACITY_LOG_MEAN, GEN_CAPACITY_LOG_SD, m
    )
    gen_jpm = it.JOBS_PER_MT_BY_SECTOR[gen_sector] * jobs_factor(params, gen_tech)
    gen_asset = gen_cap * gen_jpm >= 2500.0
    n = n_named + m
    city = np.concatenate([sites.city, gen_city.astype(np.int64)])
    sector_arr = np.concatenate([sector_idx, gen_sector.astype(np.int64)])
    tech_arr = np.concatenate([tech_idx, gen_tech])
    capacity_arr = np.concatenate([cap, gen_cap])
    asset_arr = np.concatenate([sites.national_asset, gen_asset])
    name_arr = np.array(
        labels + [f"{it.SECTORS[s]} plant G{i + 1:03d}" for i, s in enumerate(gen_sector)],
        dtype=object,
    )
    kappa = np.where(asset_arr, params.kappa_national_asset, params.kappa_private_plant)
    # reinvestment points spread over one cycle from the start year [Steel-IQ; MPP]
    next_decision = start_year + rng.random(n) * params.investment_cycle_years
    capex = it.CAPEX[tech_arr] * capacity_arr * 1e6
    pending = np.full(n, -1, dtype=np.int64)
    online = np.full(n, np.inf)
    _apply_announced_projects(sites, start_year, next_decision, pending, online)
    return Installations(
        name=name_arr,
        operator=np.array(ops + ["generic"] * m, dtype=object),
        city=city,
        country=cities.country[city],
        sector=sector_arr,
        tech=tech_arr,
        start_tech=tech_arr.copy(),
        capacity_mt=capacity_arr,
        utilisation=np.full(n, 0.85),
        jobs_per_mt=np.concatenate([_named_jobs_per_mt(params, sites), gen_jpm]),
        national_asset=asset_arr,
        kappa=kappa.copy(),
        kappa_base=kappa,
        entry_year=np.full(n, -np.inf),
        margin_shock_eur_per_t=np.zeros(n),
        margin_shock_year=np.full(n, np.inf),
        next_decision_year=next_decision,
        pending_tech=pending,
        pending_online_year=online,
        equity_eur=np.maximum(capex, 1e6) * rng.uniform(0.5, 2.0, n),
        cum_loss_eur=np.zeros(n),
        open=np.ones(n, dtype=bool),
        aid_eur=np.zeros(n),
        named=np.arange(n) < n_named,
        ref_production_mt=np.zeros(n),
        inventory_scale=np.ones(n),
        ref_margin_eu_eur_per_t=np.zeros(n),
        ref_margin_export_eur_per_t=np.zeros(n),
        running_share=np.ones(n),
    )


PROJECT_STATUSES = ("funded", "announced", "dropped")


def _announced_projects(
    cfg: PopulationConfig, labels: list[str], tech: np.ndarray, sector: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The announced projects (announced_projects.csv) that change a named site's state.

    Checked row by row (a site_name of industrial_sites.csv, a known funding status, a route of
    the site's sector); dropped projects and those keeping the site's route are left out.
    Returns site index, route, funded (else announced), decision year and online year.
    """
    path = cfg.announced_projects_csv
    df = read_csv(path, ("site_name", "route", "decision_year", "online_year", "funding_status"))
    decided = pd.to_numeric(df["decision_year"], errors="coerce").to_numpy(dtype=float)
    opens = pd.to_numeric(df["online_year"], errors="coerce").to_numpy(dtype=float)
    keep: list[int] = []
    sites: list[int] = []
    routes: list[int] = []
    funded: list[bool] = []
    for r, row in enumerate(df.itertuples(index=False)):
        where = f"{path}: site {row.site_name!r}"
        if row.site_name not in labels:
            raise ValueError(f"{where} is not a site_name in {cfg.industrial_sites_csv}")
        if row.funding_status not in PROJECT_STATUSES:
            raise ValueError(
                f"{where}: funding_status {row.funding_status!r}; allowed: {PROJECT_STATUSES}"
            )
        k = labels.index(str(row.site_name))
        route = it.TECH_INDEX.get(str(row.route), -1)
        if route < 0 or it.TECH_SECTOR[route] != sector[k]:
            allowed = [t.name for t in it.TECHNOLOGIES if it.SECTOR_INDEX[t.sector] == sector[k]]
            raise ValueError(f"{where}: route {row.route!r}; allowed: {allowed}")
        if route == tech[k] or row.funding_status == "dropped":
            continue
        keep.append(r)
        sites.append(k)
        routes.append(route)
        funded.append(str(row.funding_status) == "funded")
    rows = np.array(keep, dtype=np.int64)
    return (
        np.array(sites, dtype=np.int64),
        np.array(routes, dtype=np.int64),
        np.array(funded, dtype=bool),
        decided[rows],
        opens[rows],
    )


def _apply_announced_projects(
    sites: _NamedSites,
    start_year: int,
    next_decision: np.ndarray,
    pending: np.ndarray,
    online: np.ndarray,
) -> None:
    """Announced projects of named sites (announced_projects.csv) enter the plants' state.

    A funded route change still being built is under way from the start (its online year);
    an announced one makes the plant review its route in the project's decision year (the
    NPV rule decides); dropped projects and funded relines of the same route change nothing
    (left out when the file is parsed, :func:`_announced_projects`).
    """
    for j in range(sites.project_site.size):
        k = int(sites.project_site[j])
        decided = float(sites.project_decision_year[j])
        opens = float(sites.project_online_year[j])
        if sites.project_funded[j]:
            if opens > start_year:
                pending[k] = sites.project_route[j]
                online[k] = opens
        elif np.isfinite(decided):
            next_decision[k] = min(next_decision[k], max(decided, start_year))


def build_smes(params: Parameters, cities: Cities, rng: np.random.Generator) -> SMEs:
    """SMEs per city (10-100 per city; domain §2), with revenue, cash and funding know-how."""
    per_city = np.clip(
        np.round(params.smes_per_100k_residents * cities.population / 1e5), 10, 100
    ).astype(np.int64)
    city = np.repeat(np.arange(cities.n, dtype=np.int64), per_city)
    k = city.size
    revenue = rng.lognormal(np.log(5e6), 0.8, k)
    return SMEs(
        city=city,
        revenue_eur=revenue,
        cash_eur=revenue * rng.uniform(0.05, 0.25, k),
        debt_eur=np.zeros(k),
        innovation=rng.beta(2.0, 4.0, k),
        know_how=rng.beta(1.5, 4.0, k),
        # one modelled SME stands for a group of firms: ~0.3 t/EUR k revenue [assume]
        emissions_t=revenue * 3e-4 * rng.lognormal(0.0, 0.5, k),
        status=np.zeros(k, dtype=np.int64),
        wait_months=np.zeros(k),
        grant_due_eur=np.zeros(k),
        capex_eur=np.zeros(k),
        grants_paid_eur=np.zeros(k),
    )


def build_citizens(
    cfg: PopulationConfig,
    params: Parameters,
    cities: Cities,
    nations: Nations,
    installations: Installations,
    rng: np.random.Generator,
) -> Citizens:
    """Citizens per city: one simulated citizen per ``residents_per_citizen`` (with a floor)."""
    count = np.maximum(
        np.round(cities.population / cfg.residents_per_citizen), cfg.min_citizens_per_city
    ).astype(np.int64)
    start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    city = np.repeat(np.arange(cities.n, dtype=np.int64), count)
    n = city.size
    # Eurobarometer 538: 77% 'very serious' (45% EE .. 93% MT) -> mean support ~0.6 [der]
    region_shift = np.array([0.05, 0.02, 0.05, -0.08])[nations.region[cities.country]]
    mean = np.clip(0.58 + region_shift + 0.1 * (cities.commitment - 0.55), 0.2, 0.9)
    # logit-normal around the city mean (sd ~0.2 on [0, 1]); as spread as a Beta with
    # concentration 4 but several times cheaper to draw for a million citizens
    logit_mean = np.log(mean / (1.0 - mean))[city]
    support = (logistic(logit_mean + rng.normal(0.0, 1.0, n))).astype(np.float32)
    eps = np.clip(
        rng.normal(params.confidence_bound_mean, params.confidence_bound_sd, n), 0.01, 1.0
    ).astype(np.float32)
    trust = logistic(rng.normal(0.0, 0.9, n)).astype(np.float32)  # mean 0.5, sd ~0.2
    participation = rng.normal(0.0, 1.0, n).astype(np.float32)
    # employment: each plant employs a share of its city's citizens (jobs / population, <=30%)
    jobs = installations.capacity_mt * installations.jobs_per_mt * installations.utilisation
    order = np.argsort(installations.city, kind="stable")
    p_city = installations.city[order]
    share = np.minimum(jobs[order] / cities.population[p_city], 0.3)
    # interval [lo, hi) of each plant on the axis city + u, u ~ U(0, 1) per citizen
    cum = share.copy()
    for k in range(1, cum.size):
        if p_city[k] == p_city[k - 1]:
            cum[k] += cum[k - 1]
    hi = p_city + np.minimum(cum, 1.0)
    key = city + rng.random(n)
    plant = kernels().assign_plants(key, city, start, count, hi, p_city, order)
    return Citizens(
        city=city,
        support=support,
        epsilon=eps,
        trust=trust,
        participation=participation,
        plant=plant,
        adoption=np.zeros(n, dtype=np.float32),
        city_start=start,
        city_count=count,
        weight=cities.population / count,
        block_first=start[city].astype(np.int32),
        block_size=count[city].astype(np.float32),
        employed=np.flatnonzero(plant >= 0),
    )


def set_structural_alignment(cities: Cities, nations: Nations, shift: float = 0.0) -> None:
    """Alignment of each city's ambition with its nation's priorities (domain §3.4).

    ``shift`` (``alignment_initial_shift``) moves every city's structural alignment: the
    ambition gap alone does not capture unclear responsibilities between levels of government.
    """
    national_ambition = 1.0 - 0.5 * nations.omega_econ[cities.country]
    ambition = np.where(
        cities.target_year <= 2030, 1.0, np.where(cities.target_year <= 2040, 0.75, 0.5)
    )
    ambition = np.where(cities.target_status == 2, ambition, 0.4)
    cities.alignment_base = np.clip(1.0 - np.abs(ambition - national_ambition) + shift, 0.05, 0.95)
    cities.alignment = cities.alignment_base.copy()


def focus_city_index(cities: Cities, name: str, source: Path) -> int:
    """Index of a case's focus city; a clear error naming close matches if it is unknown."""
    names = [str(x) for x in cities.name]
    index = _match_city(name, names)
    if index < 0 or not cities.mission[index]:
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        hint = f"; close names: {', '.join(close)}" if close else ""
        raise ValueError(f"case.focus_city {name!r} is not a Mission City in {source}{hint}")
    return index


def apply_case(
    pop: Population,
    case: CaseConfig,
    cfg: PopulationConfig,
    params: Parameters,
    start_year: int,
    rng: np.random.Generator,
) -> int:
    """Apply a case city's settings (domain §5) and return the focus city's index.

    Uses its own random stream, so the rest of the EU is the same as without the case.
    """
    c = pop.cities
    nat = pop.nations
    inst = pop.installations
    focus = focus_city_index(c, case.focus_city, cfg.mission_cities_csv)
    country = int(c.country[focus])
    if case.omega_econ is not None:
        nat.omega_econ[country] = case.omega_econ
        set_structural_alignment(c, nat, params.alignment_initial_shift)
    _pin_case_plants(pop, case, focus, params, rng)
    local = inst.city == focus
    c.job_threat_scale[focus] = case.job_threat_multiplier
    inst.margin_shock_eur_per_t[local] = case.margin_shock_eur_per_t
    inst.margin_shock_year[local] = case.margin_shock_year
    for new in case.new_installations:
        _append_installation(pop, new, focus, params, rng)
    if case.kappa is not None:
        local = inst.city == focus
        inst.kappa_base[local] = case.kappa
        inst.kappa[local] = case.kappa
    return focus


def _append_installation(
    pop: Population, new: NewInstallation, city: int, params: Parameters, rng: np.random.Generator
) -> None:
    """Add an entering plant (closed until its start year) and its future workers."""
    inst = pop.installations
    tech = it.TECH_INDEX[new.technology]
    capacity = new.capacity_mt
    capex = it.CAPEX[tech] * capacity * 1e6
    kappa = params.kappa_national_asset if new.national_asset else params.kappa_private_plant
    row: dict[str, object] = {
        "name": new.name,
        "operator": "case",
        "city": city,
        "country": pop.cities.country[city],
        "sector": it.SECTOR_INDEX[new.sector],
        "tech": tech,
        "start_tech": tech,
        "capacity_mt": capacity,
        "utilisation": 0.85,
        "jobs_per_mt": new.jobs / capacity,
        "national_asset": new.national_asset,
        "kappa": kappa,
        "kappa_base": kappa,
        "entry_year": float(new.start_year),
        "margin_shock_eur_per_t": 0.0,
        "margin_shock_year": np.inf,
        "next_decision_year": new.start_year + params.investment_cycle_years,
        "pending_tech": -1,
        "pending_online_year": np.inf,
        "equity_eur": max(capex, 1e6),
        "cum_loss_eur": 0.0,
        "open": False,
        "aid_eur": 0.0,
        "named": True,
        "ref_production_mt": 0.0,
        "inventory_scale": 1.0,
        "ref_margin_eu_eur_per_t": 0.0,
        "ref_margin_export_eur_per_t": 0.0,
        "running_share": 1.0,
    }
    for f in dataclasses.fields(inst):
        old = getattr(inst, f.name)
        setattr(inst, f.name, np.append(old, np.array([row[f.name]], dtype=old.dtype)))
    # its future workers: a share of the city's citizens without a plant job
    _hire(pop, inst.n - 1, city, new.jobs, rng)


def _hire(pop: Population, plant: int, city: int, jobs: float, rng: np.random.Generator) -> None:
    """Give ``plant``'s jobs to citizens of ``city`` without a plant job (at most 30%)."""
    z = pop.citizens
    block = np.arange(z.city_start[city], z.city_start[city] + z.city_count[city])
    free = block[z.plant[block] < 0]
    share = min(jobs / pop.cities.population[city], 0.3)
    k = min(round(share * block.size), free.size)
    hired = rng.choice(free, size=k, replace=False)
    z.plant[hired] = plant
    z.employed = np.flatnonzero(z.plant >= 0)


def _site_index(inst: Installations, site: str, local: np.ndarray) -> int:
    """Index of the named site ``site`` (site name or operator) among ``local`` plants, or -1."""
    for i in local:
        if inst.named[i] and site in (str(inst.name[i]), str(inst.operator[i])):
            return int(i)
    return -1


def _pin_case_plants(
    pop: Population, case: CaseConfig, focus: int, params: Parameters, rng: np.random.Generator
) -> None:
    """Make the focus city's plants those the case file states, with the facts it pins.

    Generated plants never stay in a case city; when the case lists ``plants``, named sites
    it does not list (a neighbour's plant matched to the city) move out too. A plant that
    moves goes to another city of its country (population^0.7 weights, as generated plants
    are placed), or of the EU if its country has no other city, and takes its jobs along.
    """
    inst = pop.installations
    c = pop.cities
    z = pop.citizens
    local = np.flatnonzero(inst.city == focus)
    pinned = {}
    for plant in case.plants:
        k = _site_index(inst, plant.site, local)
        if k < 0:
            sites = ", ".join(str(inst.name[i]) for i in local if inst.named[i]) or "none"
            raise ConfigError(
                "case.plants.site",
                plant.site,
                f"a named site in {c.name[focus]} (sites there: {sites})",
                problem=f"{plant.site!r} is not a named site in the focus city",
            )
        pinned[k] = plant
    shares = [k for k, plant in pinned.items() if plant.share_of_city_emissions is not None]
    if len(shares) > 1:
        raise ConfigError(
            "case.plants.share_of_city_emissions",
            len(shares),
            "at most one plant per case",
            problem="several plants pin their share of city emissions",
        )
    movers = [i for i in local if not inst.named[i] or (pinned and i not in pinned)]
    weights = c.population**0.7
    weights[focus] = 0.0
    for i in movers:
        same = (c.country == inst.country[i]) & (weights > 0)
        w = np.where(same, weights, 0.0) if same.any() else weights
        target = int(rng.choice(c.n, p=w / w.sum()))
        jobs = float(inst.capacity_mt[i] * inst.jobs_per_mt[i] * inst.utilisation[i])
        z.plant[z.plant == i] = -1
        inst.city[i] = target
        inst.country[i] = c.country[target]
        _hire(pop, int(i), target, jobs, rng)
    for k, plant in pinned.items():
        if plant.jobs is not None:
            inst.jobs_per_mt[k] = plant.jobs / inst.capacity_mt[k]
            z.plant[z.plant == k] = -1
            _hire(pop, k, focus, plant.jobs * inst.utilisation[k] / params.full_utilisation, rng)
    for k in shares:
        share = float(pinned[k].share_of_city_emissions or 0.0)
        here = np.flatnonzero(inst.city == focus)
        modelled = inst.capacity_mt * params.full_utilisation * it.INTENSITY[inst.tech] * 1e6
        rest = (
            float(c.emissions_base_t[focus].sum())
            + float(pop.smes.emissions_t[pop.smes.city == focus].sum())
            + float(modelled[here[here != k]].sum())
        )
        inst.inventory_scale[k] = share / (1.0 - share) * rest / max(float(modelled[k]), 1.0)


def build_population(
    cfg: PopulationConfig, params: Parameters, start_year: int, rng: np.random.Generator
) -> Population:
    """Build nations, cities, installations, SMEs and citizens (in that order).

    Kept in :data:`POPULATION_CACHE` from the second time the same population is asked for
    (same population config and data files, start year and state of ``rng``, so the same seed,
    and the same values of every parameter the build read) and copied from then on. The caller
    always gets its own copy and ``rng`` ends in the state a fresh build leaves it in, so a
    cached build and a fresh one are indistinguishable.
    """
    keep_freed_memory()  # once per process: fewer page faults for the many citizen arrays
    return POPULATION_CACHE.get(cfg, params, start_year, rng)


def _build_population(
    cfg: PopulationConfig, params: Parameters, start_year: int, rng: np.random.Generator
) -> Population:
    """The build itself (uncached)."""
    nations = build_nations(cfg, params)
    cities, label_year = build_cities(cfg, params, nations, rng)
    installations = build_installations(cfg, params, nations, cities, start_year, rng)
    # nations with a national-asset plant weigh jobs/GDP more (domain §3.4) [assume]
    asset_countries = np.unique(installations.country[installations.national_asset])
    nations.protects_assets[asset_countries] = True
    nations.omega_econ[asset_countries] = params.omega_econ_asset_country
    pop_by_country = np.bincount(cities.country, weights=cities.population, minlength=nations.n)
    nations.programme_eur_per_year = (
        params.national_programme_eur_per_capita_per_year
        * pop_by_country
        * nations.fiscal_room
        / max(float(np.mean(nations.fiscal_room)), 1e-9)
    )
    set_structural_alignment(cities, nations, params.alignment_initial_shift)
    smes = build_smes(params, cities, rng)
    citizens = build_citizens(cfg, params, cities, nations, installations, rng)
    return Population(nations, cities, installations, smes, citizens, label_year)


# --- the population cache ---------------------------------------------------------------------

_PARAMETER_NAMES: frozenset[str] = frozenset(f.name for f in dataclasses.fields(Parameters))


class _RecordingParameters:
    """Stands in for ``Parameters`` during a build and notes every parameter value read.

    The cache keys a build on exactly the parameters it read, found by running it, so a rule
    that starts reading a new parameter in the build is keyed on it without anyone listing it.
    """

    def __init__(self, params: Parameters) -> None:
        self._params = params
        self.read: dict[str, object] = {}

    def __getattr__(self, name: str) -> object:
        value = getattr(self._params, name)
        if name in _PARAMETER_NAMES:
            self.read[name] = value
        return value


@dataclass(slots=True)
class _CachedBuild:
    """One cached population: what it was built from and the stream state after the build."""

    key: tuple[object, ...]
    read: dict[str, object]
    population: Population
    rng_state_after: Mapping[str, Any]
    nbytes: int


def _rng_key(rng: np.random.Generator) -> str:
    """The generator's full state as a string (equal strings: identical draws to come)."""
    return repr(rng.bit_generator.state)


def _files_key(cfg: PopulationConfig) -> tuple[object, ...]:
    """Each data file's path, size and modification time (a changed file is a new population)."""
    out: list[object] = []
    paths = [getattr(cfg, f.name) for f in dataclasses.fields(cfg) if f.name.endswith("_csv")]
    for path in paths:  # every data file the build reads (a new *_csv field is covered)
        try:
            st = Path(path).stat()
        except OSError:
            out.append((str(path), None))
        else:
            out.append((str(path), st.st_size, st.st_mtime_ns))
    return tuple(out)


def _copy_state(obj: object) -> object:
    """A copy of one state dataclass whose arrays share nothing with the original."""
    changes = {}
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        changes[f.name] = value.copy() if isinstance(value, np.ndarray) else copy.deepcopy(value)
    return type(obj)(**changes)


def copy_population(pop: Population) -> Population:
    """A deep copy of a population (the model changes its arrays in place)."""
    return Population(
        nations=cast(Nations, _copy_state(pop.nations)),
        cities=cast(Cities, _copy_state(pop.cities)),
        installations=cast(Installations, _copy_state(pop.installations)),
        smes=cast(SMEs, _copy_state(pop.smes)),
        citizens=cast(Citizens, _copy_state(pop.citizens)),
        label_year=pop.label_year.copy(),
    )


def _population_nbytes(pop: Population) -> int:
    """Bytes held by a population's arrays."""
    total = pop.label_year.nbytes
    for part in (pop.nations, pop.cities, pop.installations, pop.smes, pop.citizens):
        for f in dataclasses.fields(part):
            value = getattr(part, f.name)
            total += value.nbytes if isinstance(value, np.ndarray) else 0
    return total


class PopulationCache:
    """Built populations of this process (a worker), least recently used first out.

    Bounded by ``max_entries`` and ``max_bytes``: a sweep over parameters that the build does
    not read, or over levers, with a few seeds builds each seed's population at most twice per
    worker. A population is kept only when it is asked for a second time (the first request
    leaves its key in a short list of recent misses): runs that never repeat a seed (a
    benchmark, a seed sweep) then pay no copy and, above all, no fresh memory for it; on the
    project's 2-core VMs a page of new memory costs about 0.1 ms, and filling the cache with
    1M-citizen populations cost about a quarter of each EU-scale run's CPU time.
    """

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.entries: list[_CachedBuild] = []
        self.recent_misses: list[tuple[tuple[object, ...], dict[str, object]]] = []
        self.hits = 0
        self.misses = 0

    @staticmethod
    def _matches(
        key: tuple[object, ...],
        read: dict[str, object],
        wanted: tuple[object, ...],
        params: Parameters,
    ) -> bool:
        """Whether a stored key and parameter record stand for the population asked for."""
        return key == wanted and all(getattr(params, k) == v for k, v in read.items())

    @contextmanager
    def bypassed(self) -> Iterator[None]:
        """Build without caching inside the block (callers whose populations never repeat).

        A calibration particle has its own seed, so caching its population would only cost a
        copy per simulation.
        """
        saved = self.max_entries
        self.max_entries = 0
        try:
            yield
        finally:
            self.max_entries = saved

    def clear(self) -> None:
        """Forget every cached population."""
        self.entries.clear()
        self.recent_misses.clear()
        self.hits = self.misses = 0

    def get(
        self, cfg: PopulationConfig, params: Parameters, start_year: int, rng: np.random.Generator
    ) -> Population:
        """A copy of the cached population for these inputs, building it on a miss."""
        key = (cfg, _files_key(cfg), int(start_year), _rng_key(rng))
        entries = self.entries if self.max_entries > 0 else []
        for k, entry in enumerate(entries):
            if self._matches(entry.key, entry.read, key, params):
                self.hits += 1
                self.entries.append(self.entries.pop(k))  # most recently used last
                rng.bit_generator.state = entry.rng_state_after
                return copy_population(entry.population)
        self.misses += 1
        recording = _RecordingParameters(params)
        built = _build_population(cfg, cast(Parameters, recording), start_year, rng)
        nbytes = _population_nbytes(built)
        if self.max_entries <= 0:
            return built
        if not any(self._matches(k, r, key, params) for k, r in self.recent_misses):
            self.recent_misses.append((key, recording.read))  # first request: the key only
            del self.recent_misses[: -RECENT_MISSES_PER_ENTRY * self.max_entries]
            return built
        if nbytes <= self.max_bytes:
            entry = _CachedBuild(
                key, recording.read, copy_population(built), rng.bit_generator.state, nbytes
            )
            self.entries.append(entry)
            while len(self.entries) > self.max_entries or (
                sum(e.nbytes for e in self.entries) > self.max_bytes
            ):
                self.entries.pop(0)
        return built


# four populations of at most 512 MB in all: a few seeds of an EU-scale sweep, or many of the
# calibration set-up's ~6 MB populations would not fit, so seeds beyond four rebuild
POPULATION_CACHE = PopulationCache(max_entries=4, max_bytes=512 * 2**20)
# populations asked for once, remembered per cache entry (a key is a few kB)
RECENT_MISSES_PER_ENTRY = 4
