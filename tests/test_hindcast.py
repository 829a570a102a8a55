"""Hindcast 2013-2024: recorded EUA price, phase-3 free allocation, model against ETS data."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from abm.config import ScenarioConfig
from abm.model import simulate
from abm.rules import industry_tech as it
from abm.rules.industry import free_allocation_share
from experiments import hindcast
from experiments.scenario import load_scenario

SEEDS = (1, 2, 3)


def _eu_price(eu_year: pd.DataFrame) -> pd.Series:
    """The EU row's carbon price by year."""
    eu = eu_year[eu_year["level"] == "EU"]
    return eu.set_index("year")["carbon_price_eur_per_t"]


@pytest.fixture(scope="module")
def config() -> ScenarioConfig:
    """The shipped hindcast scenario."""
    return load_scenario(hindcast.SCENARIO)


@pytest.fixture(scope="module")
def table(config: ScenarioConfig) -> pd.DataFrame:
    """The model-versus-verified table for seeds 1-3."""
    return hindcast.compare(config, SEEDS)


def test_scenario_starts_in_2013_with_levers_off(config: ScenarioConfig) -> None:
    assert (config.start_year, config.end_year) == (2013, 2024)
    assert all(lv.intensity == 0.0 for lv in config.levers)


def test_a_2013_run_prices_carbon_at_the_recorded_annual_means(config: ScenarioConfig) -> None:
    short = dataclasses.replace(config, end_year=2016)
    eu = _eu_price(simulate(short, 1).eu_year)
    expected = [it.HISTORICAL_EUA_EUR_PER_T[y] for y in range(2013, 2017)]
    np.testing.assert_allclose(eu.loc[2013:2016].to_numpy(), expected)


def test_the_announced_path_starts_where_the_record_ends() -> None:
    """A 2025 start is untouched by the record: the first price is the 2025 parameter."""
    cfg = ScenarioConfig(end_year=2026)
    eu = _eu_price(simulate(cfg, 1).eu_year)
    assert eu.loc[2025] != pytest.approx(it.HISTORICAL_EUA_EUR_PER_T[2024])
    assert max(it.HISTORICAL_EUA_EUR_PER_T) == 2024


def test_phase_three_free_allocation_carries_the_correction_factor() -> None:
    cbam, other = free_allocation_share(np.array([2013.0, 2020.0, 2021.0, 2026.0]), 0.022)
    np.testing.assert_allclose(cbam, [0.94272, 0.82438, 1.0, 0.975])
    np.testing.assert_allclose(other[:3], [0.94272, 0.82438, 1.0])


def test_verified_data_cover_every_sector_and_year_with_a_source() -> None:
    data = pd.read_csv(hindcast.VERIFIED_CSV)
    assert set(data["sector"]) == set(hindcast.SECTORS)
    for sector, years in data.groupby("sector")["year"]:
        assert sorted(years) == list(range(2013, 2025)), sector
    assert data["source"].str.contains(r"\[src").all()
    assert (data["verified_emissions_mt"] > 0).all()


def test_index_comparison_is_relative_to_2013(table: pd.DataFrame) -> None:
    first = table[table["year"] == 2013]
    np.testing.assert_allclose(first["model_index"], 1.0)
    np.testing.assert_allclose(first["verified_index"], 1.0)
    steel_2024 = table[(table["sector"] == "steel") & (table["year"] == 2024)]
    assert steel_2024["verified_index"].iloc[0] == pytest.approx(93.23 / 115.77)  # GB-free base


def test_hindcast_meets_the_tolerance_before_covid(table: pd.DataFrame) -> None:
    """2013-2019 (no demand shock in the data yet): every sector within the tolerance."""
    early = table[table["year"] <= 2019]
    assert early["gap_index"].abs().max() <= hindcast.TOLERANCE_INDEX


@pytest.mark.xfail(
    strict=True,
    reason="Against the GB-free verified series (2019-2020 not compared) steel, refining, bulk "
    "chemicals and the four sectors are within 0.10 in every year, but cement follows the "
    "construction index up to its spare capacity while verified clinker emissions fell from "
    "2019 (extra-EU imports up, exports halved, residential building down; no yearly trade "
    "series found, not modelled): 0.246 (2024); index points; tol. 0.10",
)
def test_hindcast_meets_the_tolerance_2013_2024(table: pd.DataFrame) -> None:
    assert table["gap_index"].abs().max() <= hindcast.TOLERANCE_INDEX


def test_the_four_sectors_together_meet_the_tolerance_2013_2024(table: pd.DataFrame) -> None:
    """The four sectors' total stays within 0.10 in every year (persistent curtailment)."""
    total = table[table["sector"] == hindcast.ALL]
    assert total["gap_index"].abs().max() <= hindcast.TOLERANCE_INDEX


def test_steel_meets_the_tolerance_2013_2024(table: pd.DataFrame) -> None:
    """Steel, with the import share, spare capacity and supply response, stays within 0.10."""
    steel = table[table["sector"] == "steel"]
    assert steel["gap_index"].abs().max() <= hindcast.TOLERANCE_INDEX


def test_bulk_chemicals_meet_the_tolerance_2013_2024(table: pd.DataFrame) -> None:
    """Bulk chemicals, with the import share of EU chemicals consumption (Cefic: 22% in 2013,
    31% in 2023), stay within 0.10 (0.160 in 2023 without it)."""
    chemicals = table[table["sector"] == "chemicals"]
    assert chemicals["gap_index"].abs().max() <= hindcast.TOLERANCE_INDEX


def test_refining_meets_the_tolerance_2013_2024(table: pd.DataFrame) -> None:
    """Refining, against the GB-free series, stays within 0.10 (0.111 in 2021 with GB in)."""
    refining = table[table["sector"] == "refinery"]
    assert refining["gap_index"].abs().max() <= hindcast.TOLERANCE_INDEX


def test_the_2022_energy_shock_is_within_the_tolerance(table: pd.DataFrame) -> None:
    """2022: output falls with the margins (supply response), every sector within 0.10."""
    assert table.loc[table["year"] == 2022, "gap_index"].abs().max() <= hindcast.TOLERANCE_INDEX


def test_write_hindcast_writes_table_figure_and_manifest(tmp_path: Path) -> None:
    out = tmp_path / "hc"
    hindcast.write_hindcast(out, (1,), argv=["--seeds", "1"])
    assert {p.name for p in out.iterdir()} >= {
        "hindcast.csv",
        "summary.csv",
        "hindcast.png",
        "README.md",
        "hindcast.json",
    }
    manifest = json.loads((out / "hindcast.json").read_text())
    assert manifest["kind"] == "hindcast" and manifest["tolerance_index"] == 0.10


def test_the_2020_demand_fall_lowers_every_sectors_index(table: pd.DataFrame) -> None:
    """The demand drivers' COVID fall shows in the model, as in the verified data."""
    model = table.pivot(index="year", columns="sector", values="model_index")
    for sector in hindcast.SECTORS:
        assert model.loc[2020, sector] < model.loc[2019, sector] - 0.03, sector
