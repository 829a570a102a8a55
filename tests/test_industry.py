"""Industry decarbonises rather than leaks: CBAM, export markets, cuts by cause (issue 11)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from abm.config import ScenarioConfig
from abm.model import GovernanceModel, simulate
from abm.outcomes import headline_outcomes
from abm.rules import industry
from abm.rules import industry_tech as it
from conftest import advance, make_small_config

CAUSES = ("route", "output", "closure")


def _flat_price(config: ScenarioConfig, eur_per_t: float, **changes: float) -> ScenarioConfig:
    """``config`` with a flat carbon price (outside the registry range: a verification run)."""
    params = dataclasses.replace(
        config.parameters,
        carbon_price_2025_eur_per_t=eur_per_t,
        carbon_price_2050_eur_per_t=eur_per_t,
        **changes,
    )
    return dataclasses.replace(config, parameters=params)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_baseline_closes_at_most_a_tenth_of_a_sector_in_any_year(seed: int) -> None:
    """Done-when of issue 11: no cliff-edge closures (before: 73-81% of kilns in 2034)."""
    out = headline_outcomes(simulate(ScenarioConfig(), seed))
    assert out["industry_max_closure_share_pct"] <= 10.0


def test_very_high_carbon_price_with_cbam_cuts_by_switching_not_closing() -> None:
    out = headline_outcomes(simulate(_flat_price(ScenarioConfig(), 1000.0), 1))
    route, output, closure = (out[f"industry_cut_{c}_2050_pct"] for c in CAUSES)
    assert route > 50.0  # most of the start-year plant emissions are gone through switches
    assert route > 5.0 * max(closure, 0.0)
    assert route > max(output, 0.0) + max(closure, 0.0)


def _leaked_by_2045(effectiveness: float) -> float:
    """Output and closure cut of the plants by 2045 at EUR 600/t (% of start-year emissions)."""
    cfg = _flat_price(make_small_config(end_year=2045), 600.0, cbam_effectiveness=effectiveness)
    table = simulate(cfg, 3).installation_year
    table = table[table["sector"] != it.SME_CLUSTER]
    start = table.loc[table["year"] == 2025, "emissions_t"].sum()
    end = table[table["year"] == 2045]
    return float(100.0 * (end["cut_output_t"] + end["cut_closure_t"]).sum() / start)


def test_cbam_keeps_output_at_home_under_a_high_carbon_price() -> None:
    """Without CBAM the same carbon price sheds more output and closes more plants."""
    assert _leaked_by_2045(0.0) > _leaked_by_2045(1.0) + 1.0


def test_cuts_by_cause_add_up_to_each_plants_cut(small_result) -> None:
    table = small_result.installation_year
    plants = table[table["sector"] != it.SME_CLUSTER].copy()
    start = plants[plants["year"] == 2025].set_index("installation_id")["emissions_t"]
    plants["cut"] = plants["installation_id"].map(start) - plants["emissions_t"]
    causes = plants[[f"cut_{c}_t" for c in CAUSES]].sum(axis=1)
    np.testing.assert_allclose(causes, plants["cut"], rtol=1e-9, atol=1e-3)
    assert (plants.loc[~plants["open"], "cut_route_t"] == 0.0).all()
    assert pd.isna(table.loc[table["sector"] == it.SME_CLUSTER, "cut_route_t"]).all()


def test_a_plant_sheds_exports_first_when_only_exports_lose(make_model) -> None:
    """EU market protected by CBAM, export market not: output falls by the export share."""
    m: GovernanceModel = make_model(end_year=2045)
    advance(m, 15)  # 2040: no free allocation left in CBAM sectors
    inst = m.installations
    plant = int(np.flatnonzero((inst.tech == it.TECH_INDEX["BF-BOF"]) & inst.open)[0])
    sector, tech = inst.sector[[plant]], inst.tech[[plant]]
    eu_market, export = industry.market_margins(m, sector, tech, 400.0, 2040.0)
    assert eu_market[0] > 0.0 > export[0]  # CBAM covers 90% of the carbon cost at home only
    cut = industry.export_share(m.params, sector)[0]
    m.eu.carbon_price_eur_per_t = 400.0
    m.year = 2040.0
    inst.margin_shock_eur_per_t[plant] = 0.0
    industry.decide_investments(m)
    full = m.params.full_utilisation
    price = it.PRICE_BY_SECTOR[sector][0]
    leak = np.clip(1.0 + m.params.leakage_elasticity * export[0] / price, 0.0, 1.0)
    assert inst.utilisation[plant] == pytest.approx(full * (1.0 - cut + cut * leak), rel=1e-9)
