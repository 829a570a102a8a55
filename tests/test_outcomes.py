"""Outcomes as data: the table covers what a run computes, with a label and unit for each."""

from __future__ import annotations

import math

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
