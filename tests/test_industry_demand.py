"""Spare capacity at the start: EU sales follow demand up to the headroom, then the peak rule."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from abm.config import Parameters, ScenarioConfig
from abm.model import GovernanceModel
from abm.rules import industry_demand as idm
from abm.rules import industry_tech as it

STEEL, CEMENT = it.SECTOR_INDEX["steel"], it.SECTOR_INDEX["cement"]
CHEMICALS, REFINERY = it.SECTOR_INDEX["chemicals"], it.SECTOR_INDEX["refinery"]


def _path(*values: float) -> np.ndarray:
    """The same index path for every driver (drivers x years)."""
    return np.tile(np.array(values, dtype=float), (len(idm.DRIVERS), 1))


def test_headroom_is_capped_at_nameplate_capacity() -> None:
    p = Parameters()
    h = idm.headroom(p)
    cap = 1.0 / p.full_utilisation
    assert h[STEEL] == pytest.approx(min(p.start_output_headroom_steel, cap))
    assert h[CEMENT] == pytest.approx(cap)  # 1.66 from the 2007 output, above nameplate
    assert h[CHEMICALS] == pytest.approx(p.start_output_headroom_chemicals)
    assert h[REFINERY] == 1.0
    assert (h >= 1.0).all() and (h <= cap + 1e-12).all()


def test_without_headroom_the_peak_rule_is_unchanged() -> None:
    """Known answer, h = 1: (D_y / D_peak)^e; growth above the start sells nothing extra."""
    p = dataclasses.replace(
        Parameters(),
        start_output_headroom_steel=1.0,
        start_output_headroom_cement=1.0,
        start_output_headroom_chemicals=1.0,
    )
    f = idm.sector_demand_factor(p, _path(100.0, 110.0, 99.0))
    np.testing.assert_allclose(f, (99.0 / 110.0) ** idm.elasticity(p))
    np.testing.assert_allclose(idm.sector_demand_factor(p, _path(100.0, 110.0)), 1.0)


def test_with_headroom_sales_follow_demand_up_to_h_then_the_peak() -> None:
    """Known answers for chemicals (h = 1.068, e = 1): +5% demand sells +5%; +10% sells h;
    a fall from a +10% peak to +5% sells h * 105 / 110."""
    p = Parameters()
    h = idm.headroom(p)[CHEMICALS]
    assert idm.elasticity(p)[CHEMICALS] == 1.0
    assert idm.sector_demand_factor(p, _path(100.0))[CHEMICALS] == pytest.approx(1.0)
    assert idm.sector_demand_factor(p, _path(100.0, 105.0))[CHEMICALS] == pytest.approx(1.05)
    assert idm.sector_demand_factor(p, _path(100.0, 110.0))[CHEMICALS] == pytest.approx(h)
    fall = idm.sector_demand_factor(p, _path(100.0, 110.0, 105.0))[CHEMICALS]
    assert fall == pytest.approx(h * 105.0 / 110.0)
    # below the start the headroom does not matter
    assert idm.sector_demand_factor(p, _path(100.0, 90.0))[CHEMICALS] == pytest.approx(0.9)


def test_a_hindcast_steel_plant_runs_above_full_utilisation_when_demand_grows() -> None:
    """2013 start: by 2017 manufacturing grew 9%, so steel plants' utilisation may exceed the
    start's full utilisation (never nameplate), which a run without headroom cannot."""
    cfg = dataclasses.replace(ScenarioConfig(), start_year=2013, end_year=2017)
    m = GovernanceModel(cfg, 1)
    for _ in range(5):
        m.step()
    inst = m.installations
    steel = (inst.sector == STEEL) & inst.open
    assert inst.utilisation[steel].max() > m.params.full_utilisation + 0.01
    assert inst.utilisation.max() <= 1.0 + 1e-12
