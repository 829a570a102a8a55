"""The synthetic EU built from ``abm/data``: real Mission Cities, survey-shaped non-mission cities,
named plants in their cities, citizens per city; bad data files fail naming file and column."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from abm.agents.state import SIZE_CLASSES
from abm.config import DATA_DIR, Parameters, PopulationConfig
from abm.population import (
    NMC_SIZE_SHARES,
    SIZE_BOUNDS,
    Population,
    build_population,
    check_data_files,
)
from abm.rng import stream

N_MISSION = 112
START_YEAR = 2025


def build(cfg: PopulationConfig, seed: int = 42) -> Population:
    return build_population(cfg, Parameters(), START_YEAR, stream(seed, "population"))


def read_raw(name: str) -> pd.DataFrame:
    """A data file as text, exactly as stored (no NA conversion)."""
    return pd.read_csv(DATA_DIR / name, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def small_population() -> Population:
    return build(
        PopulationConfig(
            n_non_mission_cities=30, residents_per_citizen=20000.0, generated_installations=15
        )
    )


# --- Mission Cities and non-mission cities -------------------------------------------------------


def test_mission_cities_are_the_112_from_data(small_population: Population) -> None:
    c = small_population.cities
    names = list(c.name[c.mission])
    assert len(names) == N_MISSION
    assert len(set(names)) == N_MISSION
    assert names == read_raw("mission_cities.csv")["city"].tolist()
    for city in ("Košice", "Differdange", "Dunkerque (Dunkirk)", "Klagenfurt"):
        assert city in names
    # Mission Cities come first, then the generated ones
    assert np.all(c.mission[:N_MISSION]) and not np.any(c.mission[N_MISSION:])


def test_mission_city_countries_and_populations(small_population: Population) -> None:
    pop = small_population
    c = pop.cities
    raw = read_raw("mission_cities.csv")
    codes = pop.nations.code[c.country[:N_MISSION]].astype(str)
    np.testing.assert_array_equal(codes, raw["country"].to_numpy())
    given = pd.to_numeric(raw["population"], errors="coerce").to_numpy()
    known = np.isfinite(given)
    np.testing.assert_array_equal(c.population[:N_MISSION][known], given[known])
    # missing populations: the median of the known ones, and flagged
    np.testing.assert_array_equal(c.population_imputed[:N_MISSION], ~known)
    assert (~known).sum() == 18
    np.testing.assert_allclose(c.population[:N_MISSION][~known], np.median(given[known]))
    assert not c.population_imputed[N_MISSION:].any()


@pytest.mark.parametrize("n_nmc", [0, 7, 30])
def test_non_mission_count_follows_config(n_nmc: int) -> None:
    pop = build(
        PopulationConfig(
            n_non_mission_cities=n_nmc, residents_per_citizen=50000.0, generated_installations=3
        )
    )
    c = pop.cities
    assert c.n == N_MISSION + n_nmc
    assert (~c.mission).sum() == n_nmc
    assert list(c.name[N_MISSION:]) == [f"NMC-{i + 1:04d}" for i in range(n_nmc)]


def test_generated_size_classes_match_survey_shares() -> None:
    """1, 8, 13, 26 and 14 of 62 survey respondents per size class; n = 2000, 4 binomial SE."""
    n = 2000
    pop = build(
        PopulationConfig(
            n_non_mission_cities=n, residents_per_citizen=1e6, generated_installations=0
        ),
        seed=7,
    )
    c = pop.cities
    nmc = ~c.mission
    counts = np.bincount(c.size_class[nmc], minlength=len(SIZE_CLASSES))
    expected = n * NMC_SIZE_SHARES
    se = np.sqrt(n * NMC_SIZE_SHARES * (1 - NMC_SIZE_SHARES))
    np.testing.assert_allclose(NMC_SIZE_SHARES * 62, [1, 8, 13, 26, 14])
    assert np.all(np.abs(counts - expected) <= 4 * se), (counts, expected.round(1))
    # populations lie in their class's bounds, all generated cities are in EU member states
    low = np.array([b[0] for b in SIZE_BOUNDS])[c.size_class[nmc]]
    high = np.array([b[1] for b in SIZE_BOUNDS])[c.size_class[nmc]]
    assert np.all((c.population[nmc] >= low) & (c.population[nmc] < high))
    assert pop.nations.eu_member[c.country[nmc]].all()


# --- installations -------------------------------------------------------------------------------


def _head(name: str) -> str:
    return name.split(" (")[0].strip()


def test_named_installations_sit_in_their_cities(small_population: Population) -> None:
    pop = small_population
    inst = pop.installations
    sites = read_raw("industrial_sites.csv")
    n_named = len(sites)
    assert inst.named.sum() == n_named
    assert np.all(inst.named[:n_named])
    assert inst.n == n_named + 15
    for i, row in enumerate(sites.itertuples(index=False)):
        city = str(pop.cities.name[inst.city[i]])
        assert pop.cities.mission[inst.city[i]], row.city
        assert city == row.city or _head(city) == _head(row.city), (row.city, city)
        assert pop.nations.code[inst.country[i]] == row.country, row.city
        assert pop.cities.country[inst.city[i]] == inst.country[i]
    dunkirk = [str(pop.cities.name[inst.city[i]]) for i in range(n_named)][:2]
    assert dunkirk == ["Dunkerque (Dunkirk)", "Dunkerque (Dunkirk)"]


# --- citizens ------------------------------------------------------------------------------------


def test_citizens_sorted_by_city_with_floor(small_population: Population) -> None:
    pop = small_population
    z = pop.citizens
    c = pop.cities
    assert np.all(np.diff(z.city) >= 0)
    np.testing.assert_array_equal(np.bincount(z.city, minlength=c.n), z.city_count)
    np.testing.assert_array_equal(z.city_start, np.concatenate([[0], np.cumsum(z.city_count)[:-1]]))
    assert z.city_count.min() >= 20
    expected = np.maximum(np.round(c.population / 20000.0), 20)
    np.testing.assert_array_equal(z.city_count, expected)
    np.testing.assert_allclose(z.weight * z.city_count, c.population, rtol=1e-12)
    assert z.support.min() >= 0.0 and z.support.max() <= 1.0


def test_citizen_count_tracks_population() -> None:
    rpc = 2000.0
    pop = build(
        PopulationConfig(
            n_non_mission_cities=30,
            residents_per_citizen=rpc,
            min_citizens_per_city=1,
            generated_installations=5,
        )
    )
    c = pop.cities
    z = pop.citizens
    # one citizen per rpc residents, rounded per city (at most 0.5 off per city)
    assert abs(z.n - c.population.sum() / rpc) <= 0.5 * c.n
    assert z.city_count.min() >= 1


def test_plant_employees_live_in_the_plant_city(small_population: Population) -> None:
    z = small_population.citizens
    inst = small_population.installations
    employed = z.plant >= 0
    assert employed.any()
    np.testing.assert_array_equal(inst.city[z.plant[employed]], z.city[employed])


# --- bad inputs ----------------------------------------------------------------------------------


def _files(tmp_path: Path, **frames: pd.DataFrame) -> PopulationConfig:
    """A small PopulationConfig reading copies of the data files, some of them replaced."""
    paths = {}
    for key, name in (
        ("mission_cities_csv", "mission_cities.csv"),
        ("countries_csv", "countries.csv"),
        ("industrial_sites_csv", "industrial_sites.csv"),
    ):
        frame = frames.get(key, read_raw(name))
        path = tmp_path / name
        frame.to_csv(path, index=False)
        paths[key] = path
    return dataclasses.replace(
        PopulationConfig(n_non_mission_cities=5, generated_installations=2), **paths
    )


def _error(cfg: PopulationConfig, kind: type[Exception] = ValueError) -> str:
    """The message building fails with; the cheap data-file check fails with the same one."""
    with pytest.raises(kind) as info:
        build(cfg)
    with pytest.raises(kind) as checked:
        check_data_files(cfg)
    assert str(checked.value) == str(info.value)
    return str(info.value)


def test_copied_files_build(tmp_path: Path) -> None:
    """Control: unmodified copies build, so the failures below come from the edits."""
    assert build(_files(tmp_path)).cities.n == N_MISSION + 5
    check_data_files(_files(tmp_path))  # and pass the data-file check


def test_missing_column_names_file_and_column(tmp_path: Path) -> None:
    frame = read_raw("mission_cities.csv").drop(columns=["population"])
    cfg = _files(tmp_path, mission_cities_csv=frame)
    msg = _error(cfg)
    assert str(cfg.mission_cities_csv) in msg
    assert "population" in msg


def test_unknown_region_names_file_and_column(tmp_path: Path) -> None:
    frame = read_raw("countries.csv")
    frame.loc[0, "region"] = "Atlantis"
    cfg = _files(tmp_path, countries_csv=frame)
    msg = _error(cfg)
    assert str(cfg.countries_csv) in msg
    assert "region" in msg and "Atlantis" in msg


def test_unknown_country_code_in_mission_cities(tmp_path: Path) -> None:
    frame = read_raw("mission_cities.csv")
    frame.loc[5, "country"] = "XX"
    cfg = _files(tmp_path, mission_cities_csv=frame)
    msg = _error(cfg)
    assert str(cfg.mission_cities_csv) in msg
    assert "XX" in msg and "country" in msg


def test_industrial_site_outside_mission_cities(tmp_path: Path) -> None:
    frame = read_raw("industrial_sites.csv")
    frame.loc[2, "city"] = "Atlantis City"
    cfg = _files(tmp_path, industrial_sites_csv=frame)
    msg = _error(cfg)
    assert str(cfg.industrial_sites_csv) in msg
    assert "Atlantis City" in msg and re.search("mission city", msg, re.IGNORECASE)


def test_unknown_sector_names_file_and_column(tmp_path: Path) -> None:
    frame = read_raw("industrial_sites.csv")
    frame.loc[0, "sector"] = "glass"
    cfg = _files(tmp_path, industrial_sites_csv=frame)
    msg = _error(cfg)
    assert str(cfg.industrial_sites_csv) in msg
    assert "sector" in msg and "glass" in msg


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    cfg = dataclasses.replace(PopulationConfig(), countries_csv=tmp_path / "nope.csv")
    msg = _error(cfg, FileNotFoundError)
    assert str(tmp_path / "nope.csv") in msg


def test_zero_citizen_floor_is_rejected() -> None:
    with pytest.raises(ValueError, match="min_citizens_per_city"):
        PopulationConfig(
            n_non_mission_cities=30,
            residents_per_citizen=200000.0,
            min_citizens_per_city=0,
            generated_installations=2,
        )
