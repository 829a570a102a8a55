"""Sampling the scenarios of a robustness study and running every variant in each (resumable).

A scenario is one posterior draw (a joint row of the committed draws, so correlations between
calibrated parameters are kept), one value of every deep uncertainty (a Latin hypercube over
the numeric ones, a uniform choice for categorical ones such as the staff rule) and one run
seed (:func:`abm.rng.replicate_seeds`, distinct per scenario). Every variant (baseline, each
lever alone, each package) runs in every scenario with the same draw, values and seed, so a
lever's effect is a paired difference (common random numbers within a scenario, independent
noise between scenarios). Runs are kept in ``DIR/store.sqlite`` as they finish: a killed
study resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
import gc
import time
from collections.abc import Sequence
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from scipy.stats import qmc
from tqdm import tqdm

from abm.config import ScenarioConfig
from abm.model import simulate
from abm.policies import LeverSetting
from abm.rng import child_seed, generator, replicate_seeds
from experiments.errors import BadInput
from experiments.robustness.definition import RobustnessStudy
from experiments.store import RunStore, StoredRun, code_version, run_keys

STORE = "store.sqlite"
BASELINE = "baseline"
GROUP_PREFIX = "city_cut_2050_pct@"  # per-group outcome keys in the store
MISSION_GROUPS = {True: "Mission Cities", False: "other cities"}
CHUNK = 8  # runs per worker task


def sample_scenarios(study: RobustnessStudy) -> pd.DataFrame:
    """One row per scenario: seed, posterior draw index and values, deep-uncertainty values."""
    n = study.scenarios
    rows = pd.DataFrame({"scenario": np.arange(n), "seed": replicate_seeds(study.seed, n)})
    rng = generator(study.seed, "robustness_scenarios")
    if study.posterior_dir is not None:
        draws = pd.read_csv(study.posterior_dir / "draws.csv")
        pick = rng.integers(0, len(draws), n)
        rows["posterior_draw"] = pick
        rows = pd.concat([rows, draws.iloc[pick].reset_index(drop=True)], axis=1)
    numeric = [d for d in study.deep if not d.categorical]
    if numeric:
        lhs = qmc.LatinHypercube(
            d=len(numeric), seed=child_seed(study.seed, "robustness_scenarios")
        ).random(n)
        for k, d in enumerate(numeric):
            rows[d.name] = np.clip(d.low + lhs[:, k] * (d.high - d.low), d.low, d.high)
    for d in study.deep:
        if d.categorical:
            rows[d.name] = [d.choices[i] for i in rng.integers(0, len(d.choices), n)]
    return rows


def parameter_columns(study: RobustnessStudy, scenarios: pd.DataFrame) -> list[str]:
    """The columns of the scenario table that set model parameters."""
    skip = {"scenario", "seed", "posterior_draw", *(d.name for d in study.deep if d.categorical)}
    return [c for c in scenarios.columns if c not in skip]


def config_for(
    study: RobustnessStudy, row: pd.Series, variant: str, params: Sequence[str]
) -> ScenarioConfig:
    """The base scenario with one scenario's parameters and choices and one variant's levers."""
    on = set(study.packages.get(variant, (variant,))) if variant != BASELINE else set()
    levers = tuple(
        LeverSetting(s.name, study.intensity, study.start_year or s.start_year)
        if s.name in on
        else s
        for s in study.base.levers
    )
    changes: dict[str, object] = {
        "name": f"{study.name}-s{int(row['scenario'])}-{variant}",
        "parameters": study.base.parameters.replace(**{p: float(row[p]) for p in params}),
        "levers": levers,
    }
    for d in study.deep:
        if d.categorical:
            changes[d.name] = str(row[d.name])
    return dataclasses.replace(study.base, **changes)  # type: ignore[arg-type]


def _run(key: str, config: ScenarioConfig, seed: int) -> StoredRun:
    """Simulate one run: its headline outcomes and the 2050 city cut of each city group."""
    started = time.perf_counter()
    try:
        result = simulate(config, seed)
    except Exception as exc:  # a failed run is recorded, not fatal (as in sweeps)
        return StoredRun(key, "failed", {}, f"{type(exc).__name__}: {exc}")
    outcomes = {k: float(v) for k, v in result.headline().items()}
    cy = result.city_year
    first, last = int(cy["year"].min()), min(int(cy["year"].max()), 2050)
    start = cy[cy["year"] == first]
    end = cy[cy["year"] == last]
    groups = {**{str(v): ("size_class", v) for v in start["size_class"].unique()}}
    groups.update({name: ("mission", flag) for flag, name in MISSION_GROUPS.items()})
    for label, (column, value) in groups.items():
        e0 = float(start.loc[start[column] == value, "emissions_total_t"].sum())
        e1 = float(end.loc[end[column] == value, "emissions_total_t"].sum())
        outcomes[GROUP_PREFIX + label] = 100.0 * (1.0 - e1 / e0) if e0 > 0 else float("nan")
    del result
    gc.collect()
    return StoredRun(key, "ok", outcomes, None, time.perf_counter() - started)


def _run_chunk(tasks: list[tuple[str, ScenarioConfig, int]]) -> list[StoredRun]:
    return [_run(key, config, seed) for key, config, seed in tasks]


def run_study(
    study: RobustnessStudy,
    out: Path,
    jobs: int = 1,
    progress: bool = True,
    stored_only: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Run every variant in every scenario (reusing stored runs); the scenario and runs tables.

    With ``stored_only`` nothing is run: the tables hold the scenarios whose every variant is
    stored and ok (an interrupted study, analysed as far as it got). The scenarios are
    sampled independently (a posterior draw, a seed each), so the complete ones are a smaller
    sample of the same scenario distribution, except that the Latin hypercube over the deep
    uncertainties is only stratified over all of them. ``counts`` gives ``scenarios`` (in the
    tables) and ``scenarios_sampled``.
    """
    scenarios = sample_scenarios(study)
    params = parameter_columns(study, scenarios)
    code = code_version()
    tasks: list[tuple[str, ScenarioConfig, int, int, str]] = []
    for _, row in scenarios.iterrows():
        for variant in study.variants():
            config = config_for(study, row, variant, params)
            key = run_keys(config, [int(row["seed"])], code)[0]
            tasks.append((key, config, int(row["seed"]), int(row["scenario"]), variant))
    out.mkdir(parents=True, exist_ok=True)
    counts = {"runs": len(tasks), "reused": 0, "new": 0, "failed": 0}
    with RunStore(out / STORE) as store:
        done = store.get_many(t[0] for t in tasks)
        todo = [t for t in tasks if done.get(t[0]) is None or done[t[0]].status != "ok"]
        if stored_only:
            missing = {t[3] for t in todo}
            tasks = [t for t in tasks if t[3] not in missing]
            scenarios = scenarios[~scenarios["scenario"].isin(missing)].reset_index(drop=True)
            if scenarios.empty:
                raise BadInput(
                    f"{out / STORE}: no scenario has all its runs stored; run the study "
                    "without --stored-only first"
                )
            counts = {"runs": len(tasks), "reused": len(tasks), "new": 0, "failed": 0}
            todo = []
        counts["reused"] = len(tasks) - len(todo)
        workers = joblib.effective_n_jobs(jobs)
        chunks = [
            [(k, c, s) for k, c, s, _, _ in todo[i : i + CHUNK]] for i in range(0, len(todo), CHUNK)
        ]
        with tqdm(
            total=len(tasks),
            initial=counts["reused"],
            unit="run",
            disable=not progress,
            desc=f"robustness {study.name}",
        ) as bar:
            if workers == 1 or len(chunks) < 2:
                results = (_run_chunk(c) for c in chunks)
            else:
                results = joblib.Parallel(n_jobs=workers, return_as="generator_unordered")(
                    joblib.delayed(_run_chunk)(c) for c in chunks
                )
            for rows in results:
                store.put_many(rows)  # stored as they finish: kill -9 loses one chunk at most
                counts["new"] += len(rows)
                counts["failed"] += sum(r.status != "ok" for r in rows)
                bar.update(len(rows))
        stored = store.get_many(t[0] for t in tasks)
    counts["scenarios"] = len(scenarios)
    counts["scenarios_sampled"] = study.scenarios
    records = []
    for key, _, seed, scenario, variant in tasks:
        run = stored[key]
        records.append(
            {
                "scenario": scenario,
                "variant": variant,
                "seed": seed,
                "status": run.status,
                **run.outcomes,
            }
        )
    return scenarios, pd.DataFrame.from_records(records), counts
