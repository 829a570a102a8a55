"""The population cache: a cached build is indistinguishable from a fresh one, and it is rebuilt
exactly when something the build reads changes (population config, start year, seed, or the
value of a parameter the build read), never for parameters or levers it does not read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from abm.config import Parameters, PopulationConfig, ScenarioConfig
from abm.model import simulate
from abm.policies import LeverSetting
from abm.population import POPULATION_CACHE, PopulationCache, build_population
from abm.rng import stream

POP = PopulationConfig(n_non_mission_cities=20, residents_per_citizen=40000.0)
START = 2025


@pytest.fixture
def cache() -> Iterator[PopulationCache]:
    """The process cache, emptied before and after the test."""
    POPULATION_CACHE.clear()
    yield POPULATION_CACHE
    POPULATION_CACHE.clear()


def build(params: Parameters, seed: int = 3, cfg: PopulationConfig = POP) -> tuple[object, ...]:
    """Build through the cache; return the population and the stream state after."""
    rng = stream(seed, "population")
    pop = build_population(cfg, params, START, rng)
    return pop, rng.bit_generator.state


def test_a_cached_build_equals_a_fresh_one_and_is_a_copy(cache: PopulationCache) -> None:
    fresh, state_fresh = build(Parameters())
    assert cache.entries == [], "a population asked for once is not kept"
    build(Parameters())  # the second request keeps it
    assert len(cache.entries) == 1
    cached, state_cached = build(Parameters())
    assert (cache.misses, cache.hits) == (2, 1)
    assert state_cached == state_fresh, "the stream must end where a fresh build leaves it"
    for part in ("nations", "cities", "installations", "smes", "citizens"):
        a, b = getattr(fresh, part), getattr(cached, part)  # type: ignore[attr-defined]
        for f in dataclasses.fields(a):
            x, y = getattr(a, f.name), getattr(b, f.name)
            np.testing.assert_array_equal(x, y, err_msg=f"{part}.{f.name}")
            assert not np.shares_memory(x, y), f"{part}.{f.name} shared with the cache"
    # the model changes its arrays in place: a change must not reach the next copy
    cached.citizens.support[:] = 0.0  # type: ignore[attr-defined]
    again, _ = build(Parameters())
    np.testing.assert_array_equal(again.citizens.support, fresh.citizens.support)  # type: ignore[attr-defined]


def test_the_key_is_what_the_build_reads(cache: PopulationCache) -> None:
    base = Parameters()
    build(base)
    build(base.replace(survey_cut_center=base.survey_cut_center + 0.1))  # not read by the build
    assert (cache.misses, cache.hits) == (2, 0) and len(cache.entries) == 1, "the same key"
    build(base.replace(survey_cut_center=base.survey_cut_center - 0.1))
    assert (cache.misses, cache.hits) == (2, 1)
    for _ in range(2):  # each asked for twice: none is the kept population
        build(base.replace(skill_initial_mean=base.skill_initial_mean - 0.05))  # read
        build(base, seed=4)  # another seed: another population stream state
        build(base, cfg=dataclasses.replace(POP, n_non_mission_cities=21))
    assert (cache.misses, cache.hits) == (8, 1) and len(cache.entries) == 4
    read = cache.entries[0].read
    assert "skill_initial_mean" in read and "survey_cut_center" not in read


def test_cache_is_bounded() -> None:
    small = PopulationCache(max_entries=2, max_bytes=2**40)
    for seed in range(4):
        for _ in range(2):
            small.get(POP, Parameters(), START, stream(seed, "population"))
    assert len(small.entries) == 2 and small.misses == 8
    small.get(POP, Parameters(), START, stream(3, "population"))
    assert small.hits == 1
    small.get(POP, Parameters(), START, stream(0, "population"))
    assert small.hits == 1, "the least recently used population was dropped"
    for seed in range(100, 120):  # keys of one-off requests are kept for a few entries only
        small.get(POP, Parameters(), START, stream(seed, "population"))
    assert len(small.recent_misses) == 8 and len(small.entries) == 2
    tiny = PopulationCache(max_entries=4, max_bytes=1000)
    for _ in range(2):
        tiny.get(POP, Parameters(), START, stream(0, "population"))
    assert tiny.entries == [], "a population larger than max_bytes is not kept"


def test_runs_from_a_cached_population_are_identical(
    cache: PopulationCache, small_config: ScenarioConfig
) -> None:
    """Same seed: a fresh run, a run from the cache, and one with a lever (also cached)."""
    first = simulate(small_config, 42)
    simulate(small_config, 42)  # asked for again: now kept
    second = simulate(small_config, 42)
    lever = dataclasses.replace(
        small_config,
        levers=(LeverSetting("capacity_building", intensity=1.0, start_year=2030),),
    )
    simulate(lever, 42)
    assert cache.hits == 2 and cache.misses == 2
    for table in ("city_year", "installation_year", "eu_year"):
        pd.testing.assert_frame_equal(
            getattr(first, table), getattr(second, table), check_exact=True
        )


def test_bypassed_builds_are_not_kept(cache: PopulationCache) -> None:
    with cache.bypassed():
        build(Parameters())
        build(Parameters())
    assert cache.entries == [] and cache.recent_misses == []
    assert cache.misses == 2 and cache.max_entries == 4
