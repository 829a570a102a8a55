"""Run many (scenario, seed) pairs in parallel with common random numbers and compare them.

Every scenario is run with the same replicate seeds (derived from one master seed by
:func:`replicate_seeds`), so the difference between two scenarios for one seed comes from the
policy, not from different random draws (common random numbers; the model gives every draw
site its own named stream, see :mod:`abm.rng`). Workers return a small :class:`RunSummary`
rather than the full tables, so pickling stays cheap. Results do not depend on ``n_jobs``:
each run is a pure function of its config and seed.
"""

from __future__ import annotations

import dataclasses
import gc
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import joblib
import numpy as np
import pandas as pd
from scipy import stats
from tqdm import tqdm

from abm.config import ScenarioConfig
from abm.model import simulate
from abm.outputs import SimulationResult
from abm.population import build_population
from abm.rng import stream

# A task (one batch of runs sent to a worker) should take well over the ~0.05 s of process
# overhead: batches hold the seeds of one scenario, at least this many runs where possible.
MIN_RUNS_PER_TASK = 2
# ... and there should be a few tasks per worker so the slowest batch does not dominate.
TASKS_PER_WORKER = 4

PATHWAY_SERIES: tuple[str, ...] = (
    "emissions_total_t",
    "emissions_industry_t",
    "emissions_mission_cities_t",
    "emissions_non_mission_cities_t",
)


class DataFileError(Exception):
    """A data file named by a scenario is missing or malformed (the message names the file)."""


@dataclass(frozen=True, slots=True, eq=False)
class RunSummary:
    """What an experiment keeps of one run: headline outcomes and yearly EU-level pathways."""

    scenario: str
    seed: int
    headline: dict[str, float]
    eu_year: pd.DataFrame  # the ``level == "EU"`` rows of SimulationResult.eu_year, by year
    city_groups: pd.DataFrame  # year, emissions_mission_cities_t, emissions_non_mission_cities_t

    def pathways(self) -> pd.DataFrame:
        """Yearly EU total, industry, mission-city and non-mission-city emissions (t CO2e)."""
        eu = self.eu_year[["year", "emissions_total_t", "emissions_industry_t"]]
        return eu.merge(self.city_groups, on="year", how="left", validate="one_to_one")

    def equals(self, other: RunSummary) -> bool:
        """True if both summaries hold exactly the same numbers (NaN equal to NaN)."""
        same_headline = self.headline.keys() == other.headline.keys() and all(
            _same_float(self.headline[k], other.headline[k]) for k in self.headline
        )
        return (
            self.scenario == other.scenario
            and self.seed == other.seed
            and same_headline
            and self.eu_year.equals(other.eu_year)
            and self.city_groups.equals(other.city_groups)
        )


def _same_float(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def summarise_run(result: SimulationResult) -> RunSummary:
    """The small summary of one run that experiments keep (see :class:`RunSummary`)."""
    eu = result.eu_year[result.eu_year["level"] == "EU"].reset_index(drop=True)
    cy = result.city_year
    mission = cy["mission"].to_numpy(dtype=bool)
    years = np.sort(cy["year"].unique())

    def total(mask: np.ndarray) -> np.ndarray:
        by_year = cy.loc[mask].groupby("year")["emissions_total_t"].sum()
        return by_year.reindex(years, fill_value=0.0).to_numpy(dtype=float)

    groups = pd.DataFrame(
        {
            "year": years.astype(np.int64),
            "emissions_mission_cities_t": total(mission),
            "emissions_non_mission_cities_t": total(~mission),
        }
    )
    return RunSummary(
        scenario=result.config.name,
        seed=int(result.seed),
        headline=result.headline(),
        eu_year=eu,
        city_groups=groups,
    )


def check_data_files(configs: Sequence[ScenarioConfig]) -> None:
    """Build each distinct population once to fail early, and loudly, on a bad data file.

    Raises :class:`DataFileError` (message names the file and the problem) when a data file is
    missing or lacks a required column or value; building a population takes a few
    hundredths of a second, so this runs before any worker is started.
    """
    seen: set[tuple[object, ...]] = set()
    for config in configs:
        key = (config.population, config.parameters, config.start_year)
        if key in seen:
            continue
        seen.add(key)
        try:
            build_population(
                config.population, config.parameters, config.start_year, stream(0, "check")
            )
        except (FileNotFoundError, ValueError) as exc:
            raise DataFileError(f"scenario '{config.name}': {exc}") from exc


Overrides = tuple[tuple[tuple[str, float], ...], ...]


def with_parameters(config: ScenarioConfig, values: Mapping[str, float]) -> ScenarioConfig:
    """The scenario with some parameters replaced (e.g. one posterior draw)."""
    if not values:
        return config
    return dataclasses.replace(config, parameters=config.parameters.replace(**values))


def _run_batch(
    index: int, config: ScenarioConfig, seeds: tuple[int, ...], overrides: Overrides = ()
) -> tuple[int, list[RunSummary]]:
    """Worker task: simulate one scenario for several seeds and summarise each run.

    ``overrides`` (one per seed, or empty) replace parameters run by run.
    """
    per_seed = overrides or tuple(() for _ in seeds)
    summaries = [
        summarise_run(simulate(with_parameters(config, dict(values)), seed))
        for seed, values in zip(seeds, per_seed, strict=True)
    ]
    # finished models sit in reference cycles (Mesa's model and agents); free them now rather
    # than letting worker memory grow until Python's cyclic collector runs
    gc.collect()
    return index, summaries


def _batches(
    configs: Sequence[ScenarioConfig],
    seeds: Sequence[int],
    workers: int,
    overrides: Overrides = (),
) -> list[tuple[ScenarioConfig, tuple[int, ...], Overrides]]:
    """Split the runs into tasks: seeds of one scenario, enough tasks to keep workers busy."""
    total = len(configs) * len(seeds)
    size = max(MIN_RUNS_PER_TASK, math.ceil(total / (TASKS_PER_WORKER * max(workers, 1))))
    return [
        (config, tuple(seeds[i : i + size]), overrides[i : i + size])
        for config in configs
        for i in range(0, len(seeds), size)
    ]


def run_scenarios(
    configs: list[ScenarioConfig],
    seeds: list[int],
    n_jobs: int = -1,
    progress: bool = True,
    parameter_sets: Sequence[Mapping[str, float]] | None = None,
) -> dict[str, list[RunSummary]]:
    """Run every scenario with every seed; summaries by scenario name, in the order of ``seeds``.

    All scenarios share the same seeds (common random numbers). Runs are batched per scenario
    and spread over ``n_jobs`` processes (joblib/loky; -1 = all cores, 1 = in this process);
    the result is identical for any ``n_jobs``. A tqdm bar on stderr counts finished runs.
    ``parameter_sets`` (one per seed, e.g. posterior draws) replace parameters in the runs of
    that seed, in every scenario alike, so the comparison stays paired.
    """
    names = [config.name for config in configs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"scenario names must be unique; repeated: {', '.join(duplicates)}")
    if not seeds:
        raise ValueError("at least one seed is needed")
    if len(set(seeds)) != len(seeds):
        raise ValueError("seeds must be distinct")
    if parameter_sets is not None and len(parameter_sets) != len(seeds):
        raise ValueError("parameter_sets needs one entry per seed")
    overrides: Overrides = tuple(
        tuple(sorted((str(k), float(v)) for k, v in values.items()))
        for values in (parameter_sets or ())
    )
    workers = joblib.effective_n_jobs(n_jobs)
    batches = _batches(configs, list(seeds), workers, overrides)
    collected: dict[int, list[RunSummary]] = {}
    with tqdm(
        total=len(configs) * len(seeds), unit="run", desc="simulating", disable=not progress
    ) as bar:
        if workers == 1:
            outputs: Iterator[tuple[int, list[RunSummary]]] = (
                _run_batch(i, config, batch, extra)
                for i, (config, batch, extra) in enumerate(batches)
            )
            for index, runs in outputs:
                collected[index] = runs
                bar.update(len(runs))
        else:
            parallel = joblib.Parallel(
                n_jobs=workers, backend="loky", return_as="generator_unordered"
            )
            for index, runs in parallel(
                joblib.delayed(_run_batch)(i, config, batch, extra)
                for i, (config, batch, extra) in enumerate(batches)
            ):
                collected[index] = runs
                bar.update(len(runs))
    out: dict[str, list[RunSummary]] = {name: [] for name in names}
    for index in range(len(batches)):
        for summary in collected[index]:
            out[summary.scenario].append(summary)
    return out


def headline_frame(summaries: Mapping[str, Sequence[RunSummary]]) -> pd.DataFrame:
    """Long table of headline outcomes: scenario, seed, outcome, value."""
    rows = [
        (name, run.seed, outcome, float(value))
        for name, runs in summaries.items()
        for run in runs
        for outcome, value in run.headline.items()
    ]
    return pd.DataFrame(rows, columns=["scenario", "seed", "outcome", "value"])


def _outcomes(summaries: Mapping[str, Sequence[RunSummary]]) -> list[str]:
    """Headline outcome names in the order the model reports them."""
    for runs in summaries.values():
        if runs:
            return list(runs[0].headline)
    return []


def summary_table(
    summaries: Mapping[str, Sequence[RunSummary]], interval: float = 0.90
) -> pd.DataFrame:
    """Per scenario and outcome: n, mean, sd and the central ``interval`` across replicates.

    Columns: scenario, outcome, n, mean, sd, low, high, interval (low and high are the
    (1 - interval)/2 and (1 + interval)/2 quantiles over replicates, linear interpolation).
    """
    q_low, q_high = (1.0 - interval) / 2.0, (1.0 + interval) / 2.0
    rows = []
    for name, runs in summaries.items():
        for outcome in _outcomes({name: runs}):
            values = np.array([run.headline[outcome] for run in runs], dtype=float)
            rows.append(
                {
                    "scenario": name,
                    "outcome": outcome,
                    "n": len(values),
                    "mean": float(np.mean(values)),
                    "sd": float(np.std(values, ddof=1)) if len(values) > 1 else math.nan,
                    "low": float(np.quantile(values, q_low)),
                    "high": float(np.quantile(values, q_high)),
                    "interval": interval,
                }
            )
    return pd.DataFrame(rows)


def _paired(
    runs: Sequence[RunSummary], reference: Sequence[RunSummary], name: str, baseline: str
) -> list[tuple[RunSummary, RunSummary]]:
    """Runs of a scenario matched to the reference runs with the same seed."""
    by_seed = {run.seed: run for run in reference}
    seeds = [run.seed for run in runs]
    if set(seeds) != set(by_seed) or len(seeds) != len(by_seed):
        raise ValueError(
            f"scenario '{name}' and baseline '{baseline}' were not run with the same seeds "
            "(paired differences need common random numbers)"
        )
    return [(run, by_seed[run.seed]) for run in runs]


def paired_differences(
    summaries: Mapping[str, Sequence[RunSummary]],
    baseline_name: str,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Paired (same-seed) differences of each scenario from the baseline, per headline outcome.

    Columns: scenario, baseline, outcome, n, mean_scenario, mean_baseline, mean_difference,
    sd_difference, ci_low, ci_high, confidence. The interval is the t-interval of the mean of
    the n per-seed differences (``scipy.stats.t`` with n - 1 degrees of freedom; NaN if n < 2).
    The baseline itself is not a row.
    """
    if baseline_name not in summaries:
        raise KeyError(
            f"baseline '{baseline_name}' not among the scenarios: {', '.join(summaries)}"
        )
    reference = summaries[baseline_name]
    outcomes = _outcomes(summaries)
    rows = []
    for name, runs in summaries.items():
        if name == baseline_name:
            continue
        pairs = _paired(runs, reference, name, baseline_name)
        n = len(pairs)
        for outcome in outcomes:
            a = np.array([run.headline[outcome] for run, _ in pairs], dtype=float)
            b = np.array([ref.headline[outcome] for _, ref in pairs], dtype=float)
            diff = a - b
            mean = float(np.mean(diff))
            if n >= 2:
                sd = float(np.std(diff, ddof=1))
                half = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1)) * sd / math.sqrt(n)
                low, high = mean - half, mean + half
            else:
                sd = low = high = math.nan
            rows.append(
                {
                    "scenario": name,
                    "baseline": baseline_name,
                    "outcome": outcome,
                    "n": n,
                    "mean_scenario": float(np.mean(a)),
                    "mean_baseline": float(np.mean(b)),
                    "mean_difference": mean,
                    "sd_difference": sd,
                    "ci_low": low,
                    "ci_high": high,
                    "confidence": confidence,
                }
            )
    return pd.DataFrame(rows)


def pathway_table(
    summaries: Mapping[str, Sequence[RunSummary]],
    interval: float = 0.90,
    baseline_name: str | None = None,
) -> pd.DataFrame:
    """Yearly emission pathways per scenario: mean and central ``interval`` over replicates.

    Long table with columns scenario, series (one of PATHWAY_SERIES), year, mean_t, low_t,
    high_t. With ``baseline_name``, also the paired difference from the baseline per seed:
    mean_difference_t, low_difference_t, high_difference_t (0 for the baseline itself).
    """
    q_low, q_high = (1.0 - interval) / 2.0, (1.0 + interval) / 2.0
    frames = []
    ref = None
    if baseline_name is not None:
        ref = {run.seed: run.pathways() for run in summaries[baseline_name]}
    for name, runs in summaries.items():
        paths = [run.pathways() for run in runs]
        years = paths[0]["year"].to_numpy()
        for series in PATHWAY_SERIES:
            values = np.vstack([p[series].to_numpy(dtype=float) for p in paths])
            frame = pd.DataFrame(
                {
                    "scenario": name,
                    "series": series,
                    "year": years,
                    "mean_t": values.mean(axis=0),
                    "low_t": np.quantile(values, q_low, axis=0),
                    "high_t": np.quantile(values, q_high, axis=0),
                }
            )
            if ref is not None:
                if {run.seed for run in runs} != set(ref):
                    raise ValueError(
                        f"scenario '{name}' and baseline '{baseline_name}' were not run with "
                        "the same seeds"
                    )
                base = np.vstack([ref[run.seed][series].to_numpy(dtype=float) for run in runs])
                diff = values - base
                frame["mean_difference_t"] = diff.mean(axis=0)
                frame["low_difference_t"] = np.quantile(diff, q_low, axis=0)
                frame["high_difference_t"] = np.quantile(diff, q_high, axis=0)
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)
