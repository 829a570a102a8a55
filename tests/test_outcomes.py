"""Outcomes as data: the table covers what a run computes, with a label and unit for each."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from abm import outcomes
from abm.config import ScenarioConfig
from abm.outputs import SimulationResult
from experiments import figures


def test_every_outcome_has_a_label_unit_description_and_computation() -> None:
    for o in outcomes.OUTCOMES:
        for field in ("label", "unit", "diff_unit", "description", "computed"):
            text = getattr(o, field)
            assert text and text.strip(), f"{o.name} has no {field}"
        assert o.label != o.name.replace("_", " "), f"{o.name}'s label is its identifier"
        assert "model units" not in (o.unit, o.diff_unit)
        assert o.scale > 0 and (o.scale == 1.0) == (not o.raw_unit), o.name
    assert len(outcomes.OUTCOME_NAMES) == len(set(outcomes.OUTCOME_NAMES))


def test_the_table_lists_exactly_what_a_run_computes_in_order(
    small_result: SimulationResult,
) -> None:
    headline = small_result.headline()
    assert tuple(headline) == outcomes.OUTCOME_NAMES
    assert all(isinstance(v, float) for v in headline.values())
    # the small run ends in 2035: outcomes of later years are NaN, earlier ones are numbers
    assert math.isfinite(headline["emissions_reduction_2030_vs_2019_pct"])
    assert math.isnan(headline["share_cities_neutral_2050"])


def test_selections_and_figure_labels_come_from_the_table() -> None:
    for view, names in outcomes.SELECTIONS.items():
        assert names, view
        assert set(names) <= set(outcomes.OUTCOME_NAMES), view
    for o in outcomes.OUTCOMES:
        info = figures.describe_outcome(o.name)
        assert (info.label, info.unit, info.scale) == (o.label, o.unit, o.scale)
    assert "2019" in figures.describe_outcome("emissions_reduction_2050_vs_2019_pct").label


def test_unknown_names_are_refused_with_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"unknown outcome 'cut_2050'.*emissions_reduction_2030"):
        outcomes.outcome("cut_2050")
    with pytest.raises(KeyError, match="unknown outcome selection 'main'; known: key, run"):
        outcomes.selection("main")


def test_vs_2019_outcomes_use_the_registry_ratio(small_result: SimulationResult) -> None:
    h = small_result.headline()
    ratio = ScenarioConfig().parameters.emissions_2025_relative_to_2019
    start = 1.0 - h["emissions_reduction_2030_pct"] / 100.0
    vs2019 = 1.0 - h["emissions_reduction_2030_vs_2019_pct"] / 100.0
    assert vs2019 == pytest.approx(start * ratio)


def _shuffled(result: SimulationResult, seed: int) -> SimulationResult:
    """The same run with the rows of its three tables in a random order (years unsorted)."""
    import dataclasses

    import numpy as np

    rng = np.random.default_rng(seed)

    def shuffle(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)

    return dataclasses.replace(
        result,
        city_year=shuffle(result.city_year),
        installation_year=shuffle(result.installation_year),
        eu_year=shuffle(result.eu_year),
    )


def test_headline_reads_year_blocks_as_masks_would(small_result: SimulationResult) -> None:
    """The year-sorted tables are read by slices, unsorted ones by masks: same outcomes (up to
    the order of float additions), every outcome finite where the sorted run has it finite."""
    sorted_run = small_result.headline()
    assert not small_result.city_year["year"].is_monotonic_decreasing
    for seed in (1, 2):
        shuffled = _shuffled(small_result, seed)
        assert not shuffled.city_year["year"].is_monotonic_increasing
        other = shuffled.headline()
        assert list(other) == list(sorted_run)
        for name, value in sorted_run.items():
            if math.isnan(value):
                assert math.isnan(other[name]), name
            else:
                assert other[name] == pytest.approx(value, rel=1e-9, abs=1e-9), name


def test_closure_share_by_sector_in_a_year_sorted_table() -> None:
    """Known answer on a table laid out as a run writes it (year blocks, plants in id order):
    3 of 4 steel plants close in 2027 (75%), 1 of 3 cement plants in 2026 (33%); the SME
    cluster rows, which all close in 2026, are not plants. A plant without a 2026 row neither
    closes nor reopens there."""
    states = {  # installation: sector, open at the end of 2025, 2026, 2027
        0: ("steel", (True, True, False)),
        1: ("steel", (True, True, False)),
        2: ("steel", (True, True, False)),
        3: ("steel", (True, True, True)),
        4: ("cement", (True, False, False)),
        5: ("cement", (True, None, True)),
        6: ("cement", (True, True, True)),
        7: ("sme_cluster", (True, False, False)),
        8: ("sme_cluster", (True, False, False)),
    }
    rows = [
        {
            "installation_id": pid,
            "year": 2025 + k,
            "sector": sector,
            "open": flag,
            "emissions_t": 1.0 if flag else 0.0,
            "cut_route_t": 0.0,
            "cut_output_t": 0.0,
            "cut_closure_t": 0.0,
        }
        for k in range(3)
        for pid, (sector, flags) in states.items()
        if (flag := flags[k]) is not None
    ]
    table = pd.DataFrame(rows)
    assert table["year"].is_monotonic_increasing
    out = outcomes._industry_causes(table, 2025)
    assert out["industry_max_closure_share_pct"] == pytest.approx(75.0)
    assert outcomes._industry_causes(table[table["sector"] != "steel"], 2025)[
        "industry_max_closure_share_pct"
    ] == pytest.approx(100.0 / 3.0)
    assert outcomes.open_at_start(table, 2025).tolist() == [True] * 9
