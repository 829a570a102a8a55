"""Reproducibility: one config and seed give identical tables; seeds and levers share randomness.

Same config + seed -> bit-identical tables (in this process and in a fresh interpreter with a
different hash seed); different seeds -> different runs; scenarios that differ only in levers
start from the same synthetic EU and, until a lever switches on, follow the same path (common
random numbers, one named stream per draw site).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from abm.config import ScenarioConfig
from abm.model import GovernanceModel, simulate
from abm.outputs import SimulationResult
from abm.policies import LEVER_NAMES, LeverSetting

ROOT = Path(__file__).resolve().parents[1]
TABLES = ("city_year", "installation_year", "eu_year")


def assert_tables_identical(a: SimulationResult, b: SimulationResult) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)


def table_digest(result: SimulationResult) -> dict[str, int]:
    """An order- and value-sensitive fingerprint of each table."""
    return {
        name: int(pd.util.hash_pandas_object(getattr(result, name), index=True).sum())
        for name in TABLES
    }


def same_headline(a: dict[str, float], b: dict[str, float]) -> bool:
    """Headline dicts agree exactly (NaN, for years outside the run, equals NaN)."""
    return a.keys() == b.keys() and all(
        a[k] == b[k] or (np.isnan(a[k]) and np.isnan(b[k])) for k in a
    )


def one_lever(name: str, start_year: int) -> tuple[LeverSetting, ...]:
    return tuple(
        LeverSetting(n, 1.0 if n == name else 0.0, start_year if n == name else 2026)
        for n in LEVER_NAMES
    )


def test_same_seed_same_tables(
    small_config: ScenarioConfig, small_result: SimulationResult
) -> None:
    again = simulate(small_config, small_result.seed)
    assert_tables_identical(small_result, again)
    assert same_headline(small_result.headline(), again.headline())


def test_same_seed_same_tables_in_fresh_interpreter(
    small_config: ScenarioConfig, small_result: SimulationResult
) -> None:
    """A new process with another PYTHONHASHSEED reproduces the run bit for bit."""
    pop = small_config.population
    code = textwrap.dedent(
        f"""
        import dataclasses, json
        import pandas as pd
        from abm.config import PopulationConfig, ScenarioConfig
        from abm.model import simulate
        pop = PopulationConfig(
            n_non_mission_cities={pop.n_non_mission_cities},
            residents_per_citizen={pop.residents_per_citizen!r},
            generated_installations={pop.generated_installations},
        )
        end_year = {small_config.end_year}
        cfg = dataclasses.replace(ScenarioConfig(), population=pop, end_year=end_year)
        r = simulate(cfg, {small_result.seed})
        print(json.dumps({{
            name: int(pd.util.hash_pandas_object(getattr(r, name), index=True).sum())
            for name in ("city_year", "installation_year", "eu_year")
        }}))
        """
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr

    assert json.loads(out.stdout.strip().splitlines()[-1]) == table_digest(small_result)


def test_different_seeds_differ(
    small_config: ScenarioConfig, small_result: SimulationResult
) -> None:
    other = simulate(small_config, small_result.seed + 1)
    a = small_result.city_year
    b = other.city_year
    # the same 112 Mission Cities in both, but a different synthetic EU and path
    mission = a["mission"].to_numpy()
    np.testing.assert_array_equal(a.loc[mission, "city"], b.loc[mission, "city"])
    assert not a["population"].equals(b["population"])
    assert not a["emissions_total_t"].equals(b["emissions_total_t"])
    assert not same_headline(small_result.headline(), other.headline())


def _state_arrays(m: GovernanceModel) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for group in ("nations", "cities", "installations", "smes", "citizens"):
        obj = getattr(m, group)
        for f in dataclasses.fields(obj):
            out[f"{group}.{f.name}"] = np.asarray(getattr(obj, f.name))
    out["support"] = m.support
    out["label_year"] = m.label_year
    return out


def test_population_identical_across_lever_scenarios(make_model) -> None:
    """Common random numbers: levers never change the synthetic EU a seed builds."""
    base = make_model()
    all_on = make_model(levers=tuple(LeverSetting(n, 1.0, 2025) for n in LEVER_NAMES))
    a = _state_arrays(base)
    b = _state_arrays(all_on)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    # the ones the brief names, explicitly
    for name in ("population", "staff_fte", "silo"):
        np.testing.assert_array_equal(getattr(base.cities, name), getattr(all_on.cities, name))


@pytest.mark.parametrize("lever", LEVER_NAMES)
def test_lever_changes_nothing_before_its_start_year(
    small_config: ScenarioConfig, small_result: SimulationResult, lever: str
) -> None:
    """A lever starting in 2030 leaves 2025-2029 bit-identical and then changes the run."""
    start = 2030
    run = simulate(dataclasses.replace(small_config, levers=one_lever(lever, start)), 42)
    for name in ("city_year", "installation_year"):
        before_a = getattr(small_result, name)
        before_b = getattr(run, name)
        pd.testing.assert_frame_equal(
            before_a[before_a["year"] < start].reset_index(drop=True),
            before_b[before_b["year"] < start].reset_index(drop=True),
            check_exact=True,
        )
    after_a = small_result.city_year[small_result.city_year["year"] >= start]
    after_b = run.city_year[run.city_year["year"] >= start]
    numeric = after_a.select_dtypes(include="number").columns
    assert (
        not after_a[numeric].reset_index(drop=True).equals(after_b[numeric].reset_index(drop=True))
    ), f"lever {lever} at intensity 1 changed nothing"


@pytest.mark.parametrize("steps_per_year", [1, 4])
def test_yearly_and_quarterly_runs_work(
    small_config: ScenarioConfig, small_result: SimulationResult, steps_per_year: int
) -> None:
    cfg = dataclasses.replace(small_config, steps_per_year=steps_per_year)
    run = simulate(cfg, 42)
    assert_tables_identical(run, simulate(cfg, 42))
    cy = run.city_year
    assert sorted(cy["year"].unique()) == list(range(cfg.start_year, cfg.end_year + 1))
    assert len(cy) == len(small_result.city_year)
    np.testing.assert_array_equal(cy["city"], small_result.city_year["city"])
    numeric = cy.select_dtypes(include="number").to_numpy(dtype=float)
    assert np.isfinite(numeric).all()
    # the time step is a numerical choice: emissions agree within a few percent
    eu_y = small_result.eu_year.query("level == 'EU'").set_index("year")["emissions_total_t"]
    eu_q = run.eu_year.query("level == 'EU'").set_index("year")["emissions_total_t"]
    np.testing.assert_allclose(eu_q.to_numpy(), eu_y.to_numpy(), rtol=0.05)
    assert eu_q.iloc[-1] < eu_q.iloc[0]


def test_funds_awarded_do_not_depend_on_time_step(
    small_config: ScenarioConfig, small_result: SimulationResult
) -> None:
    quarterly = simulate(dataclasses.replace(small_config, steps_per_year=4), 42)
    yearly_total = small_result.city_year["funds_awarded_eur"].sum()
    quarterly_total = quarterly.city_year["funds_awarded_eur"].sum()
    assert quarterly_total == pytest.approx(yearly_total, rel=0.25)


def test_unmet_staff_time_does_not_depend_on_time_step(
    small_config: ScenarioConfig, small_result: SimulationResult
) -> None:
    quarterly = simulate(dataclasses.replace(small_config, steps_per_year=4), 42)
    yearly_total = small_result.city_year["staff_pm_unmet"].sum()
    quarterly_total = quarterly.city_year["staff_pm_unmet"].sum()
    assert 0.5 < quarterly_total / yearly_total < 2.0
