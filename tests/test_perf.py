"""Speed refactors (issue 14) leave results as they were: the shortcuts change cost, not state."""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import SMALL_SEED, ModelFactory, advance

from abm import population
from abm.config import Parameters, PopulationConfig, ScenarioConfig
from abm.model import GovernanceModel
from abm.outputs import CITY_COLUMNS
from abm.rules import emissions, funding, industry, smes
from abm.rules import industry_tech as it


def _state(model: GovernanceModel) -> dict[str, np.ndarray]:
    """The arrays a survey or a later step reads, plus the next draw of two streams."""
    out: dict[str, np.ndarray] = {}
    for part in (model.cities, model.citizens, model.installations, model.smes):
        for f in dataclasses.fields(part):
            value = getattr(part, f.name)
            if isinstance(value, np.ndarray):
                out[f"{type(part).__name__}.{f.name}"] = value
    out["projects.stage"] = model.projects.stage[: model.projects.size]
    out["next_opinions_draw"] = model.streams["opinions"].random(3)
    out["next_funding_draw"] = model.streams["funding"].random(3)
    return out


def test_unrecorded_model_follows_the_recorded_one(small_config: ScenarioConfig) -> None:
    """record=False (the calibration path) gives the same state and streams, year by year."""
    recorded = advance(GovernanceModel(small_config, SMALL_SEED), 6)
    bare = advance(GovernanceModel(small_config, SMALL_SEED, record=False), 6)
    assert bare.recorder is None and recorded.recorder is not None
    assert recorded.accounts == bare.accounts
    a, b = _state(recorded), _state(bare)
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_unrecorded_model_has_no_tables(small_config: ScenarioConfig) -> None:
    """Asking an unrecorded model for its tables is an error, not empty tables."""
    with pytest.raises(RuntimeError, match="record=False"):
        GovernanceModel(small_config, SMALL_SEED, record=False).run()


def test_recorded_industry_emissions_are_the_rules(make_model: ModelFactory) -> None:
    """The recorder's shared plant and SME sums equal emissions.city_industry_emissions."""
    model = make_model(steps=3)
    industry = emissions.city_industry_emissions(model)
    assert industry.sum() > 0
    rec = model.recorder
    assert rec is not None
    rec.record_year(2030)
    k = len(rec.years) - 1
    col = CITY_COLUMNS.index("emissions_industry_t")
    np.testing.assert_array_equal(rec.city[k, :, col], industry)
    col = CITY_COLUMNS.index("emissions_sme_t")
    np.testing.assert_array_equal(rec.city[k, :, col], smes.sme_emissions_by_city(model))


def _ranked_winners(score: np.ndarray, request: np.ndarray, budget: float, cap: int) -> np.ndarray:
    """The reference: every candidate ranked with a stable sort (the rule as written before)."""
    order = np.argsort(-score, kind="stable")
    wins = (np.cumsum(request[order]) <= budget) & (np.arange(order.size) < cap)
    return np.asarray(order[wins])


@pytest.mark.parametrize("n", [1, 10, 255, 256, 257, 3000])
def test_budget_winners_match_the_full_ranking(n: int) -> None:
    """Same winners in the same order: budgets inside and past the prefix, caps, ties, NaN."""
    g = np.random.default_rng(n)
    for trial in range(60):
        score = g.gumbel(size=n)
        if trial % 3 == 1:  # ties everywhere, across the cut too
            score = np.round(score, 1)
        if trial % 10 == 7:
            score[g.integers(0, n)] = np.nan
        request = g.lognormal(12.0, 1.0, n)
        request[g.random(n) < 0.05] = 0.0
        total = float(request.sum())
        budget = [0.0, 1e5, 0.02 * total, 0.5 * total, 2.0 * total][trial % 5]
        cap = [n, max(1, n // 10), 1, 300, 0][trial % 5 if trial % 7 else 0]
        got = funding.budget_winners(score, request, budget, cap)
        want = _ranked_winners(score, request, budget, cap)
        np.testing.assert_array_equal(got, want)
        assert float(request[got].sum()) == float(request[want].sum())


def test_calibration_sim_benchmark_times_distinct_particles(
    load_benchmark: Callable[[str], ModuleType],
) -> None:
    """bench_calibration_sim: prior draws inside their bounds, one timing per particle."""
    bench = load_benchmark("bench_calibration_sim")
    spec = bench.smc.load_spec()
    thetas = bench.particles(spec, 5, seed=1)
    assert len({tuple(t.values()) for t in thetas}) == 5
    for theta in thetas:
        assert all(lo <= theta[k] <= hi for k, (lo, hi) in spec.priors().items())
    result = bench.main(["--sims", "2", "--no-skeleton"])
    assert result["sims"] == 2 and "ratio_to_skeleton_run" not in result
    assert 0 < result["phases_ms"]["build"] < result["ms_per_sim_mean"]
    assert result["cpu_ms_per_sim_min"] > 0
    assert bench.abm.survey.GovernanceModel is GovernanceModel  # the timing wrappers are undone


def _named_sites_row_by_row(
    cfg: PopulationConfig, names: list[str], params: Parameters
) -> dict[str, list[object]]:
    """The reference: industrial_sites.csv read row by row as the build did before the cache."""
    df = pd.read_csv(cfg.industrial_sites_csv, keep_default_na=False, na_values=[""])
    out: dict[str, list[object]] = {k: [] for k in ("city", "sector", "tech", "cap", "jpm")}
    for row in df.itertuples(index=False):
        sector = str(row.sector)
        tech = it.technology_from_text(sector, str(row.technology))
        given = pd.to_numeric(pd.Series([row.capacity_mt_per_year]), errors="coerce")[0]
        capacity = float(given) if np.isfinite(given) else it.default_capacity_mt(sector, tech)
        jobs = float(pd.to_numeric(pd.Series([row.direct_jobs]), errors="coerce")[0])
        jpm = (
            jobs / capacity
            if np.isfinite(jobs) and capacity > 0
            else it.JOBS_PER_MT[sector]
            * float(industry.jobs_factor(params, np.array([it.TECH_INDEX[tech]]))[0])
        )
        out["city"].append(population._match_city(str(row.city), names))
        out["sector"].append(it.SECTOR_INDEX[sector])
        out["tech"].append(it.TECH_INDEX[tech])
        out["cap"].append(capacity)
        out["jpm"].append(jpm)
    return out


def test_named_sites_parsed_once_match_the_row_by_row_reading() -> None:
    cfg = ScenarioConfig().population
    params = dataclasses.replace(Parameters(), eaf_job_change_share=-0.4)
    model = GovernanceModel(dataclasses.replace(ScenarioConfig(), end_year=2026), 1)
    names = [str(x) for x in model.cities.name]
    sites = population._named_sites(cfg, tuple(names), population._files_key(cfg))
    ref = _named_sites_row_by_row(cfg, names, params)
    assert sites.city.tolist() == ref["city"]
    assert sites.sector.tolist() == ref["sector"]
    assert sites.tech.tolist() == ref["tech"]
    assert sites.capacity_mt.tolist() == ref["cap"]
    assert population._named_jobs_per_mt(params, sites).tolist() == ref["jpm"]
    assert not sites.capacity_mt.flags.writeable, "the cached parse is shared: read-only"
    again = population._named_sites(cfg, tuple(names), population._files_key(cfg))
    assert again is sites, "a second build of the same files reuses the parse"
    n_named = sites.city.size
    np.testing.assert_array_equal(model.installations.tech[:n_named], sites.tech)
    assert model.installations.tech.flags.writeable


def test_an_edited_sites_file_is_parsed_again(tmp_path: Path) -> None:
    base = ScenarioConfig().population
    edited = tmp_path / "sites.csv"
    shutil.copy(base.industrial_sites_csv, edited)
    cfg = dataclasses.replace(base, industrial_sites_csv=edited)
    model = GovernanceModel(dataclasses.replace(ScenarioConfig(), end_year=2026), 1)
    names = tuple(str(x) for x in model.cities.name)
    before = population._named_sites(cfg, names, population._files_key(cfg)).capacity_mt[0]
    df = pd.read_csv(edited, keep_default_na=False, na_values=[""])
    df.loc[0, "capacity_mt_per_year"] = 12.5
    df.to_csv(edited, index=False)
    os.utime(edited, ns=(0, 10**18))  # a new modification time whatever the clock's resolution
    after = population._named_sites(cfg, names, population._files_key(cfg)).capacity_mt[0]
    assert before != 12.5 and after == 12.5


def test_the_waiting_list_after_each_call_is_the_one_gathered_afresh(
    make_model: ModelFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Removing a call's winners from the year's list gives what a fresh gather finds."""
    model = make_model()
    run_call = funding._run_call
    removed: list[int] = []

    def checked(m: GovernanceModel, *args: Any) -> funding.Waiting:
        before = args[-1]
        after = run_call(m, *args)
        fresh = funding.Waiting.gather(m)
        for f in dataclasses.fields(fresh):
            np.testing.assert_array_equal(getattr(after, f.name), getattr(fresh, f.name))
        removed.append(before.idx.size - after.idx.size)
        return after

    monkeypatch.setattr(funding, "_run_call", checked)
    advance(model, 3 * model.config.steps_per_year)
    assert len(removed) == 9, "three calls a year"
    assert sum(removed) > 0, "no call funded a project: the test would prove nothing"
