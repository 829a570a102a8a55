"""Shared fixtures: a small EU (142 cities, 2025-2035) that runs in a fraction of a second.

The small configuration keeps every behavioural parameter at its registry default and only
shrinks the population (30 generated non-mission cities, one simulated citizen per 20,000
residents, 15 generated plants), so tests exercise the same code paths as a full run.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from abm.config import PopulationConfig, ScenarioConfig
from abm.model import GovernanceModel, simulate
from abm.outputs import SimulationResult

SMALL_SEED = 42
SMALL_POPULATION = PopulationConfig(
    n_non_mission_cities=30, residents_per_citizen=20000.0, generated_installations=15
)


def make_small_config(**changes: Any) -> ScenarioConfig:
    """The small test scenario (2025-2035), with any ``ScenarioConfig`` fields replaced."""
    base = dataclasses.replace(ScenarioConfig(), population=SMALL_POPULATION, end_year=2035)
    return dataclasses.replace(base, **changes)


def advance(model: GovernanceModel, n_steps: int) -> GovernanceModel:
    """Step ``model`` ``n_steps`` times and return it."""
    for _ in range(n_steps):
        model.step()
    return model


ModelFactory = Callable[..., GovernanceModel]


@pytest.fixture(scope="session")
def small_config() -> ScenarioConfig:
    """The small scenario with default parameters and all levers off."""
    return make_small_config()


@pytest.fixture(scope="session")
def small_result(small_config: ScenarioConfig) -> SimulationResult:
    """A finished small run (seed 42); shared, so tests must not modify its tables."""
    return simulate(small_config, SMALL_SEED)


@pytest.fixture
def make_model() -> ModelFactory:
    """Factory: ``make_model(seed=42, steps=0, **config_changes)`` -> a fresh small model.

    ``config_changes`` replace fields of the small ``ScenarioConfig`` (e.g. ``steps_per_year=4``
    or ``levers=...``); ``steps`` advances the model before it is returned.
    """

    def factory(seed: int = SMALL_SEED, steps: int = 0, **config_changes: Any) -> GovernanceModel:
        model = GovernanceModel(make_small_config(**config_changes), seed)
        return advance(model, steps)

    return factory


REPO = Path(__file__).resolve().parents[1]
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@pytest.fixture
def load_benchmark(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], ModuleType]:
    """Import ``benchmarks.<name>`` without leaking its one-thread settings into the session."""

    def load(name: str) -> ModuleType:
        monkeypatch.syspath_prepend(str(REPO))
        for var in THREAD_VARS:  # restored by monkeypatch after the test
            if var in os.environ:
                monkeypatch.setenv(var, os.environ[var])
            else:
                monkeypatch.delenv(var, raising=False)
        return importlib.import_module(f"benchmarks.{name}")

    return load
