"""Behavioural direction tests: each lever moves its outcomes the way the brief expects.

Baseline and lever runs share seeds (common random numbers); a lever passes when the mean
paired difference has the expected sign and is at least two standard errors from zero.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import numpy as np
import pytest

from abm.config import ScenarioConfig
from abm.model import simulate
from abm.outputs import SimulationResult
from abm.policies import LEVER_NAMES, LeverSetting
from experiments.scenario import load_scenario

SEEDS = (11, 12, 13, 14, 15, 16)
# R&I moves industry through a few lumpy route switches of the small scenario's 60 plants: the
# 2050 effect (about -1.4 Mt) is below two SE on six seeds (t = 1.7), so it gets sixteen (t = 2.7)
SEEDS_FOR: dict[str, tuple[int, ...]] = {"research_innovation": tuple(range(11, 27))}
EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments" / "scenarios"


def _small(config: ScenarioConfig) -> ScenarioConfig:
    pop = dataclasses.replace(
        config.population,
        n_non_mission_cities=80,
        residents_per_citizen=8000.0,
        generated_installations=60,
    )
    return dataclasses.replace(config, population=pop, end_year=2050)


@functools.cache
def _run(scenario: str, seed: int) -> SimulationResult:
    if scenario == "baseline":
        cfg = load_scenario(EXPERIMENTS / "baseline.toml")
    elif scenario == "full_package":
        cfg = load_scenario(EXPERIMENTS / "full_package.toml")
    else:
        cfg = load_scenario(EXPERIMENTS / "levers" / f"{scenario}.toml")
    return simulate(_small(cfg), seed)


def _eu(result: SimulationResult, column: str, year: int | None = None) -> float:
    eu = result.eu_year[result.eu_year["level"] == "EU"]
    y = int(eu["year"].max()) if year is None else year
    return float(eu.loc[eu["year"] == y, column].iloc[0])


def _headline(result: SimulationResult, key: str) -> float:
    return result.headline()[key]


def _paired(scenario: str, outcome: functools.partial[float]) -> np.ndarray:
    seeds = SEEDS_FOR.get(scenario, SEEDS)
    return np.array([outcome(_run(scenario, s)) - outcome(_run("baseline", s)) for s in seeds])


def _assert_direction(diff: np.ndarray, sign: int, what: str) -> None:
    mean = float(diff.mean())
    se = float(diff.std(ddof=1) / np.sqrt(diff.size)) if diff.size > 1 else 0.0
    assert sign * mean > 0.0, f"{what}: mean paired difference {mean:.4g} has the wrong sign"
    assert sign * mean >= 2.0 * se, f"{what}: effect {mean:.4g} within 2 SE ({se:.4g}) of zero"


CASES = [
    ("enhanced_financing", functools.partial(_headline, key="funds_awarded_eur"), +1),
    (
        "enhanced_financing",
        functools.partial(_headline, key="city_emissions_reduction_2050_pct"),
        +1,
    ),
    ("simplification", functools.partial(_headline, key="admin_staff_years_per_meur_awarded"), -1),
    # simpler rules lose less money to absorption failure. (Absorbed euros are not the test:
    # decommitted money returns to the funds and is awarded again, so with the calibrated staff
    # level the absorbed total moves by less than its seed noise, t = 0.9 on these seeds.)
    ("simplification", functools.partial(_headline, key="funds_decommitted_eur"), -1),
    ("capacity_building", functools.partial(_eu, column="skill"), +1),
    (
        "capacity_building",
        functools.partial(_headline, key="city_emissions_reduction_2050_pct"),
        +1,
    ),
    ("dialogue_platforms", functools.partial(_eu, column="alignment"), +1),
    ("climate_city_contracts", functools.partial(_eu, column="cities_with_ccc"), +1),
    ("green_procurement", functools.partial(_eu, column="gpp_share"), +1),
    # green tenders cut the city's own operations and procured services (issue 10.6)
    (
        "green_procurement",
        functools.partial(_headline, key="city_emissions_reduction_2050_pct"),
        +1,
    ),
    ("research_innovation", functools.partial(_eu, column="emissions_industry_t"), -1),
    ("predictable_pathway_2040", functools.partial(_eu, column="emissions_industry_t"), -1),
    ("full_package", functools.partial(_headline, key="emissions_reduction_2050_pct"), +1),
]


@pytest.mark.parametrize(("lever", "outcome", "sign"), CASES)
def test_lever_moves_outcome(lever: str, outcome: functools.partial[float], sign: int) -> None:
    name = outcome.keywords.get("key") or outcome.keywords.get("column")
    _assert_direction(_paired(lever, outcome), sign, f"{lever} -> {name}")


def test_every_lever_has_a_direction_test() -> None:
    tested = {lever for lever, _, _ in CASES}
    assert set(LEVER_NAMES) <= tested


def test_full_package_beats_each_single_lever_on_emissions() -> None:
    key = functools.partial(_headline, key="emissions_reduction_2050_pct")
    full = _paired("full_package", key).mean()
    for lever in LEVER_NAMES:
        assert full > _paired(lever, key).mean(), lever


def test_lever_before_start_year_changes_nothing() -> None:
    """A lever that starts after the horizon is identical to the baseline (same seed)."""
    base = dataclasses.replace(_small(load_scenario(EXPERIMENTS / "baseline.toml")), end_year=2045)
    late = dataclasses.replace(
        base,
        levers=tuple(
            LeverSetting(lv.name, 1.0, 2050) if lv.name == "enhanced_financing" else lv
            for lv in base.levers
        ),
    )
    a = simulate(base, 3).eu_year
    b = simulate(late, 3).eu_year
    assert a.equals(b)


def test_population_is_shared_across_scenarios() -> None:
    """Common random numbers: the same seed builds the same EU under any lever setting."""
    from abm.model import GovernanceModel

    base = _small(load_scenario(EXPERIMENTS / "baseline.toml"))
    full = _small(load_scenario(EXPERIMENTS / "full_package.toml"))
    a = GovernanceModel(base, 5)
    b = GovernanceModel(full, 5)
    np.testing.assert_array_equal(a.cities.staff_fte, b.cities.staff_fte)
    np.testing.assert_array_equal(a.citizens.support, b.citizens.support)
    np.testing.assert_array_equal(
        a.installations.next_decision_year, b.installations.next_decision_year
    )


@pytest.mark.parametrize("lever", LEVER_NAMES)
def test_every_lever_costs_public_money_at_intensity_one(lever: str) -> None:
    """Each lever's dose has a price: at intensity 1 its cumulative public cost is positive."""
    seed = SEEDS[0]
    assert _headline(_run("baseline", seed), "levers_public_cost_eur") == 0.0
    result = _run(lever, seed)
    eu = result.eu_year[result.eu_year["level"] == "EU"]
    own = eu[f"public_cost_{lever}_eur"]
    assert own.sum() > 0.0
    assert _headline(result, "levers_public_cost_eur") == pytest.approx(own.sum())
    # before the lever starts (2026) it costs nothing
    assert float(eu.loc[eu["year"] == 2025, f"public_cost_{lever}_eur"].iloc[0]) == 0.0
