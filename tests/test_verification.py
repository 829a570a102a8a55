"""Verification scenarios (experiments/scenarios/verification/): what each extreme must do.

Each scenario is loaded from its file (so the files and the ``verification`` flag are tested
too) and run on the reduced test population (tests/conftest.py) to 2050 with seed 1. City cuts
are of the cities' own sectors (buildings, transport, energy, waste), 2050 against the first
year of the run.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SMALL_POPULATION

from abm.agents.state import SECTORS_CITY
from abm.model import simulate
from abm.outputs import SimulationResult
from abm.rules.staff import STAFF_USES
from experiments.scenario import ScenarioError, load_scenario

FOLDER = Path(__file__).resolve().parents[1] / "experiments" / "scenarios" / "verification"
SCENARIOS = (
    "no_governance",
    "unconstrained",
    "zero_funding",
    "zero_staff",
    "carbon_price_zero",
    "carbon_price_high",
)
SEED = 1
OWN = [f"emissions_{s}_t" for s in SECTORS_CITY]


@functools.cache
def run(name: str) -> SimulationResult:
    """A verification scenario (or the baseline) on the reduced population, seed 1."""
    file = FOLDER / f"{name}.toml" if name != "baseline" else FOLDER.parent / "baseline.toml"
    config = dataclasses.replace(load_scenario(file), population=SMALL_POPULATION)
    return simulate(config, SEED)


def own_emissions(result: SimulationResult) -> pd.DataFrame:
    """Cities' own-sector emissions by city (rows) and year (columns)."""
    cy = result.city_year
    return cy.assign(own=cy[OWN].sum(axis=1)).pivot(index="city_id", columns="year", values="own")


def city_cut(result: SimulationResult) -> pd.Series:
    """Each city's 2050 cut of its own-sector emissions against the first year (share)."""
    own = own_emissions(result)
    return 1.0 - own[2050] / own[own.columns.min()]


def total_cut(result: SimulationResult) -> float:
    """All cities' 2050 cut of own-sector emissions against the first year (share)."""
    own = own_emissions(result).sum()
    return float(1.0 - own[2050] / own.iloc[0])


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_verification_scenario_loads_with_the_flag(name: str) -> None:
    """Each file exists, loads, carries the flag and goes past a plausible range (or has no
    reason to be here)."""
    config = load_scenario(FOLDER / f"{name}.toml")
    assert config.verification is True
    assert config.as_dict()["verification"] is True  # recorded in every run manifest
    assert config.end_year == 2050


def test_the_flag_is_needed_to_leave_plausible_ranges(tmp_path: Path) -> None:
    """Without the flag, an implausible value is an error whose message names the flag."""
    text = (FOLDER / "zero_staff.toml").read_text().replace("verification = true", "")
    file = tmp_path / "zero_staff.toml"
    file.write_text(text.replace('"../baseline.toml"', f'"{FOLDER.parent / "baseline.toml"}"'))
    with pytest.raises(ScenarioError) as err:
        load_scenario(file)
    message = str(err.value)
    assert "parameters.climate_time_share" in message and "verification = true" in message


def test_the_flag_does_not_allow_impossible_values(tmp_path: Path) -> None:
    """Even a verification scenario keeps signs and shares: the message says why, no hint."""
    file = tmp_path / "bad.toml"
    file.write_text(
        '[scenario]\nname = "bad"\nverification = true\n'
        "[parameters]\nclimate_time_share = 1.5\nproject_ideas_per_100k_residents_per_year = -1.0\n"
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(file)
    lines = err.value.problems
    assert len(lines) == 2
    assert all("even for a verification scenario" in line for line in lines)
    assert "number in [0, 1]" in lines[0] and "number >= 0" in lines[1]


def test_an_out_of_range_value_mentions_the_flag_only_where_it_would_help(tmp_path: Path) -> None:
    """A share above 1 cannot be fixed by the flag, so its message does not suggest it."""
    file = tmp_path / "share.toml"
    file.write_text('[scenario]\nname = "s"\n[parameters]\nclimate_time_share = 1.5\n')
    with pytest.raises(ScenarioError) as err:
        load_scenario(file)
    assert "verification" not in str(err.value)
    file.write_text('[scenario]\nname = "s"\n[parameters]\nclimate_time_share = 0.9\n')
    with pytest.raises(ScenarioError, match="verification = true"):
        load_scenario(file)


def test_zero_staff_prepares_no_projects() -> None:
    """No climate staff time: nothing prepared, no staff time spent, no applications."""
    cy = run("zero_staff").city_year
    assert cy.staff_pm_available.max() == 0.0
    assert cy.projects_prepared.sum() == 0.0
    assert cy.applications.sum() == 0.0
    spent = cy[[f"staff_pm_{use}" for use in STAFF_USES]].to_numpy()
    assert spent.max() < 1e-6  # up to rounding in the age-order cumulative sums
    assert run("baseline").city_year.projects_prepared.sum() > 0.0  # the test can fail


def test_zero_funding_awards_no_grants() -> None:
    """No grant budgets: no city, plant or SME grant is awarded in any year."""
    result = run("zero_funding")
    assert result.city_year.funds_awarded_eur.sum() == 0.0
    eu = result.eu_year[result.eu_year.level == "EU"]
    grant_columns = [c for c in eu.columns if "awarded" in c]
    assert grant_columns and eu[grant_columns].to_numpy().sum() == 0.0
    assert run("baseline").city_year.funds_awarded_eur.sum() > 0.0


def test_no_governance_has_no_city_projects() -> None:
    """No ideas and no initial pipeline: no project prepared, completed or operating."""
    cy = run("no_governance").city_year
    for column in ("projects_prepared", "projects_completed", "projects_operating"):
        assert cy[column].sum() == 0.0, column
    assert cy.projects_in_pipeline.max() == 0.0


def test_carbon_price_moves_plant_emissions() -> None:
    """A very high carbon price cuts plant emissions by 2050 well below a zero price."""

    def plants_2050(name: str) -> float:
        iy = run(name).installation_year
        plants = iy[(iy.year == 2050) & (iy.sector != "sme_cluster")]
        return float(plants.emissions_t.sum())

    assert plants_2050("carbon_price_high") < 0.8 * plants_2050("carbon_price_zero")


def test_carbon_price_moves_city_energy_emissions() -> None:
    """Once cities' energy emissions follow the carbon price, a high price cuts them."""

    def energy_2050(name: str) -> float:
        cy = run(name).city_year
        return float(cy[cy.year == 2050].emissions_energy_t.sum())

    assert energy_2050("carbon_price_high") < 0.95 * energy_2050("carbon_price_zero")


def test_unconstrained_brings_most_cities_to_an_80_percent_cut() -> None:
    """Unlimited money and staff, no silos, full alignment: half the cities cut 80% by 2050."""
    assert (city_cut(run("unconstrained")) >= 0.8).mean() >= 0.5


def test_unconstrained_cuts_40_points_more_than_no_governance() -> None:
    """Governance without constraints adds at least 40 pp to the 2050 cut of no governance."""
    assert total_cut(run("unconstrained")) - total_cut(run("no_governance")) >= 0.40


def test_unconstrained_costs_every_size_class_about_the_same_per_resident() -> None:
    """Every size class gets to -80% (half its cities at least), at a similar cost per resident.

    Investment is grants awarded, own-budget and private capital over the run, per resident; the
    medians of the size classes, over their cities at -80%, lie within a factor of 2.
    """
    result = run("unconstrained")
    cy = result.city_year
    money = ["funds_awarded_eur", "own_funded_eur", "private_funded_eur"]
    spent = cy.groupby("city_id")[money].sum().sum(axis=1)
    first = cy[cy.year == cy.year.min()].set_index("city_id")
    reached = city_cut(result) >= 0.8
    share = reached.groupby(first.size_class).mean()
    assert len(share) == 5 and share.min() >= 0.5, share.round(2).to_dict()
    per_resident = (spent / first.population)[reached]
    medians = per_resident.groupby(first.size_class[reached]).median()
    assert medians.max() <= 2.0 * medians.min(), medians.round(0).to_dict()


def test_unconstrained_spends_more_and_cuts_more_than_the_baseline() -> None:
    """What works already: no constraint means more money used and a deeper city cut."""
    free, base = run("unconstrained"), run("baseline")
    assert free.city_year.funds_awarded_eur.sum() > 2.0 * base.city_year.funds_awarded_eur.sum()
    assert total_cut(free) > total_cut(base) > total_cut(run("no_governance"))
    assert np.isfinite(total_cut(free))
