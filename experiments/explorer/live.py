"""The explorer's live view: one run with chosen lever intensities against the baseline.

Both runs use the calibration set-up (``experiments/scenarios/calibration_setup.toml``: yearly
steps, about 0.1 million citizens, a few tenths of a second per run) and the same seed, so the
difference between them comes from the levers alone (common random numbers). Baseline runs are
cached by seed.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from abm.config import ScenarioConfig
from abm.model import simulate
from abm.policies import FIRST_LEVER_YEAR, LAST_LEVER_YEAR, LEVER_NAMES, LeverSetting
from experiments.paths import CALIBRATION_SETUP
from experiments.runner import (
    RunSummary,
    paired_differences,
    pathway_table,
    summarise_run,
    with_parameters,
)
from experiments.scenario import load_scenario

LIVE_SCENARIO_FILE = CALIBRATION_SETUP
BASELINE = "baseline"
WITH_LEVERS = "with_levers"
DEFAULT_START_YEAR = 2026
LEVER_YEARS = (FIRST_LEVER_YEAR, LAST_LEVER_YEAR)


@functools.cache
def base_config() -> ScenarioConfig:
    """The calibration scenario with every lever off."""
    config = load_scenario(LIVE_SCENARIO_FILE)
    off = tuple(LeverSetting(name) for name in LEVER_NAMES)
    return dataclasses.replace(config, name=BASELINE, levers=off)


def lever_config(intensities: Mapping[str, float], start_year: int) -> ScenarioConfig:
    """The calibration scenario with the given lever intensities from ``start_year`` on."""
    unknown = sorted(set(intensities) - set(LEVER_NAMES))
    if unknown:
        raise ValueError(f"unknown lever(s) {', '.join(unknown)}; known: {', '.join(LEVER_NAMES)}")
    levers = tuple(
        LeverSetting(name, float(intensities.get(name, 0.0)), int(start_year))
        for name in LEVER_NAMES
    )
    return dataclasses.replace(base_config(), name=WITH_LEVERS, levers=levers)


@functools.cache
def posterior_draw(seed: int) -> dict[str, float]:
    """The committed posterior's parameter draw for ``seed`` (``--posterior`` of the live run)."""
    from calibration.posterior import load_posterior

    return load_posterior().sample(1, seed)[0]


def _calibrated(config: ScenarioConfig, seed: int, posterior: bool) -> ScenarioConfig:
    """``config`` with the seed's posterior draw when ``posterior`` (else the medians)."""
    if not posterior:
        return config
    return with_parameters(config, posterior_draw(seed))


@functools.lru_cache(maxsize=32)
def baseline_run(seed: int, posterior: bool = False) -> RunSummary:
    """The baseline run with ``seed`` (cached: every lever setting is compared with it)."""
    return summarise_run(simulate(_calibrated(base_config(), seed, posterior), seed))


@dataclass(frozen=True, slots=True, eq=False)
class LiveResult:
    """A lever run and its same-seed baseline, with their paired differences."""

    seed: int
    start_year: int
    intensities: dict[str, float]
    summaries: dict[str, list[RunSummary]]
    differences: pd.DataFrame  # experiments.runner.paired_differences (n = 1: no interval)
    seconds: float
    posterior: bool = False  # both runs with the seed's posterior draw, not the medians

    def pathways(self) -> pd.DataFrame:
        """Yearly pathways of both runs and the difference from the baseline (long table)."""
        return pathway_table(self.summaries, baseline_name=BASELINE)

    def metadata(self) -> dict[str, str]:
        """Provenance of the live run for a download."""
        levers = {f"lever_{name}": f"{value:g}" for name, value in self.intensities.items()}
        return {
            "view": "live",
            "scenario_file": str(LIVE_SCENARIO_FILE.name),
            "seed": str(self.seed),
            "lever_start_year": str(self.start_year),
            "parameters": "posterior draw of the seed" if self.posterior else "posterior medians",
            **levers,
        }


def run_live(
    intensities: Mapping[str, float], seed: int, start_year: int, posterior: bool = False
) -> LiveResult:
    """Simulate the levers with ``seed`` and compare with the baseline of the same seed.

    ``posterior``: both runs take the committed posterior's draw for this seed (a new seed is
    a new draw of the calibrated parameters and of the model's randomness).
    """
    started = time.perf_counter()
    config = _calibrated(lever_config(intensities, start_year), int(seed), posterior)
    summaries = {
        BASELINE: [baseline_run(int(seed), posterior)],
        WITH_LEVERS: [summarise_run(simulate(config, int(seed)))],
    }
    return LiveResult(
        seed=int(seed),
        start_year=int(start_year),
        intensities={name: float(intensities.get(name, 0.0)) for name in LEVER_NAMES},
        summaries=summaries,
        differences=paired_differences(summaries, BASELINE),
        seconds=time.perf_counter() - started,
        posterior=posterior,
    )
