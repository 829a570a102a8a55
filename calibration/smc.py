"""ABC-SMC calibration with pyabc: spec file, simulator, priors, sampler, resumable runs.

The pieces are pyabc's: ``ABCSMC`` with a uniform prior over each calibrated parameter's
registry range, our n-respecting deviance (:mod:`calibration.distance`), a quantile epsilon
schedule, and a sampler that is either local processes (``MulticoreEvalParallelSampler``) or a
Dask cluster (``DaskDistributedSampler`` on a ``distributed.Client``). The History database
(SQLite) lives in the run directory, so an interrupted calibration resumes where it stopped.

Every simulation builds the calibration set-up with the proposed parameters, runs it to the
survey date and returns each item's expected answer shares (:func:`abm.survey.
expected_distributions`). Its seed derives from the parameter values, so a particle is
reproducible from its parameters alone.
"""

from __future__ import annotations

import dataclasses
import logging
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from abm.config import PARAMETER_META, ScenarioConfig
from abm.population import POPULATION_CACHE
from abm.rng import generator, parameter_seed
from abm.survey import ITEM_BY_ID, simulate_survey
from calibration.distance import SurveyDistance, modelled, observed_statistics
from calibration.targets import TargetError, TargetSet, load_all_targets

SPEC_FILE = Path(__file__).resolve().parent / "calibration.toml"
SPEC_KEYS = {
    "scenario": str,
    "population_size": int,
    "generations": int,
    "min_epsilon": float,
    "max_simulations": int,
    "quantile": float,
    "seed": int,
    "parameters": list,
    "held_out": list,
    "inputs": list,
    "engine": str,
    "simulations": int,
    "coverage_surveys": int,
}
ENGINES = ("npe", "npe_flow", "abc")


# Perturbation kernel: a Gaussian with the particles' weighted covariance times Silverman's
# factor times this scaling. A wider kernel than pyabc's default (1) keeps the importance
# weights even (effective sample size) in 13 dimensions, at the price of lower acceptance.
KERNEL_SCALING = 2.0
# simulations per Dask task: 8 x ~0.05 s keeps each task above the ~0.2 s scheduling floor
DASK_BATCH = 8


class SpecError(ValueError):
    """A calibration spec file is invalid; the message names the file and key."""


@dataclass(frozen=True)
class CalibrationSpec:
    """What to calibrate, against what, and how long (from ``calibration/calibration.toml``)."""

    file: Path
    scenario: Path
    population_size: int
    generations: int
    min_epsilon: float
    max_simulations: int
    quantile: float
    seed: int
    parameters: tuple[str, ...]
    held_out: tuple[str, ...]
    inputs: tuple[str, ...] = ()  # items whose shares build the population: not scored
    engine: str = "npe"  # the default engine: "npe" (neural posterior) or "abc" (ABC-SMC)
    simulations: int = 6000  # reference-table size of NPE (and the budget of the comparison)
    coverage_surveys: int = 200  # synthetic surveys of the coverage test

    def with_changes(self, **changes: Any) -> CalibrationSpec:
        """A copy with some settings overridden (command-line options)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def priors(self) -> dict[str, tuple[float, float]]:
        """Uniform prior bounds of each calibrated parameter: its registry range."""
        return {n: (PARAMETER_META[n]["low"], PARAMETER_META[n]["high"]) for n in self.parameters}

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready settings for manifests."""
        out = dataclasses.asdict(self)
        out["file"] = str(self.file)
        out["scenario"] = str(self.scenario)
        out["parameters"] = list(self.parameters)
        out["held_out"] = list(self.held_out)
        out["inputs"] = list(self.inputs)
        return out


def load_spec(path: Path | None = None) -> CalibrationSpec:
    """Read and check a calibration spec; every problem is reported with file and key."""
    file = Path(path) if path is not None else SPEC_FILE
    try:
        raw = tomllib.loads(file.read_text())
    except FileNotFoundError as exc:
        raise SpecError(f"{file}: no such calibration spec file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{file}: not valid TOML: {exc}") from exc
    table = raw.get("calibration")
    if not isinstance(table, dict) or set(raw) != {"calibration"}:
        raise SpecError(f"{file}: expected exactly one table [calibration]; found {sorted(raw)}")
    problems = []
    for key in sorted(set(table) - set(SPEC_KEYS)):
        problems.append(f"{file}: [calibration] {key}: unknown key; allowed: {sorted(SPEC_KEYS)}")
    for key, kind in SPEC_KEYS.items():
        if key not in table:
            problems.append(f"{file}: [calibration] {key}: missing ({kind.__name__})")
        elif kind is float and isinstance(table[key], int) and not isinstance(table[key], bool):
            table[key] = float(table[key])
        elif not isinstance(table[key], kind) or isinstance(table[key], bool):
            problems.append(f"{file}: [calibration] {key}: expected {kind.__name__}")
    if problems:
        raise SpecError("\n".join(problems))
    if table["engine"] not in ENGINES:
        problems.append(
            f"{file}: [calibration] engine: {table['engine']!r}; allowed: {', '.join(ENGINES)}"
        )
    for key in ("population_size", "generations", "max_simulations", "simulations"):
        if table[key] < 1:
            problems.append(f"{file}: [calibration] {key}: must be >= 1, got {table[key]}")
    if not 0.0 < table["quantile"] < 1.0:
        problems.append(f"{file}: [calibration] quantile: must lie in (0, 1)")
    for name in table["parameters"]:
        if name not in PARAMETER_META:
            problems.append(
                f"{file}: [calibration] parameters: unknown parameter {name!r}; "
                "see `govsim params` for the registry"
            )
    if len(set(table["parameters"])) != len(table["parameters"]) or not table["parameters"]:
        problems.append(f"{file}: [calibration] parameters: must be non-empty and unique")
    if table["coverage_surveys"] < 0:
        problems.append(f"{file}: [calibration] coverage_surveys: must be >= 0")
    for key in ("held_out", "inputs"):
        for item in table[key]:
            if item not in ITEM_BY_ID:
                problems.append(
                    f"{file}: [calibration] {key}: {item!r} is not a survey item the model "
                    f"answers; allowed: {', '.join(ITEM_BY_ID)}"
                )
    if problems:
        raise SpecError("\n".join(problems))
    scenario = (file.parent / table["scenario"]).resolve()
    return CalibrationSpec(
        file=file.resolve(),
        scenario=scenario,
        population_size=table["population_size"],
        generations=table["generations"],
        min_epsilon=table["min_epsilon"],
        max_simulations=table["max_simulations"],
        quantile=table["quantile"],
        seed=table["seed"],
        parameters=tuple(table["parameters"]),
        held_out=tuple(table["held_out"]),
        inputs=tuple(table["inputs"]),
        engine=table["engine"],
        simulations=table["simulations"],
        coverage_surveys=table["coverage_surveys"],
    )


def split_targets(spec: CalibrationSpec, targets: TargetSet) -> tuple[TargetSet, TargetSet]:
    """(fit, held-out) targets: every modelled target not held out is fitted."""
    answered = modelled(targets.ids)
    missing = [i for i in spec.held_out if i not in targets]
    if missing:
        raise TargetError(f"held-out item(s) without a target file entry: {', '.join(missing)}")
    fit = [i for i in answered if i not in spec.held_out and i not in spec.inputs]
    return targets.select(fit), targets.select(spec.held_out)


def sample_sizes(targets: TargetSet) -> dict[str, int]:
    """Respondents per item of the real surveys (the drawn synthetic surveys use the same n)."""
    return {tid: t.n for tid, t in targets.items()}


@dataclass(frozen=True)
class SurveySimulator:
    """Parameters -> each survey item's answer shares and the dynamic patterns (picklable).

    ``sizes`` None: expected shares (smooth); else the shares of one drawn survey of that many
    respondents per item, with each respondent's bias shared across its items, so the
    respondent effect is integrated by simulation (the calibration engines use this).
    """

    config: ScenarioConfig
    names: tuple[str, ...]
    sizes: Mapping[str, int] | None = None

    def configure(self, theta: Mapping[str, float]) -> ScenarioConfig:
        """The scenario with the calibrated parameters set to ``theta``."""
        params = self.config.parameters.replace(**{n: float(theta[n]) for n in self.names})
        return dataclasses.replace(self.config, parameters=params)

    def __call__(self, theta: Mapping[str, float]) -> dict[str, np.ndarray]:
        values = {n: float(theta[n]) for n in self.names}
        return self.simulate(values, parameter_seed(values))

    def simulate(self, theta: Mapping[str, float], seed: int) -> dict[str, np.ndarray]:
        """Answer shares of every survey item (and the dynamics) under ``theta`` with ``seed``.

        Each particle has its own seed, so its population is never asked for again: it is
        built without the population cache (no copy kept).
        """
        rng = None if self.sizes is None else generator(seed, "survey_sample")
        with POPULATION_CACHE.bypassed():
            return simulate_survey(self.configure(theta), seed, self.sizes, rng)

    def expected(self) -> SurveySimulator:
        """The same simulator returning expected shares (predictive checks)."""
        return dataclasses.replace(self, sizes=None)


def make_prior(spec: CalibrationSpec) -> Any:
    """pyabc prior: independent uniforms over the registry ranges."""
    import pyabc

    return pyabc.Distribution(
        **{n: pyabc.RV("uniform", lo, hi - lo) for n, (lo, hi) in spec.priors().items()}
    )


def make_sampler(jobs: int, client: Any = None) -> Any:
    """Local processes, or the workers of a Dask ``distributed.Client`` when one is given."""
    from pyabc import sampler

    if client is not None:
        return sampler.DaskDistributedSampler(dask_client=client, batch_size=DASK_BATCH)
    if jobs <= 1:
        return sampler.SingleCoreSampler()
    return sampler.MulticoreEvalParallelSampler(n_procs=jobs)


def build_abc(
    spec: CalibrationSpec,
    config: ScenarioConfig,
    fit: TargetSet,
    *,
    jobs: int,
    client: Any = None,
) -> Any:
    """The pyabc ABCSMC object for this spec (Dask sampler when ``client`` is given)."""
    import pyabc

    return pyabc.ABCSMC(
        SurveySimulator(config, spec.parameters, sample_sizes(load_all_targets())),
        make_prior(spec),
        SurveyDistance(fit),
        population_size=spec.population_size,
        eps=pyabc.QuantileEpsilon(alpha=spec.quantile),
        transitions=pyabc.MultivariateNormalTransition(scaling=KERNEL_SCALING),
        sampler=make_sampler(jobs, client),
    )


def run_abc(
    spec: CalibrationSpec,
    config: ScenarioConfig,
    db_path: Path,
    *,
    jobs: int,
    client: Any = None,
    fit: TargetSet | None = None,
) -> Any:
    """Run or resume ABC-SMC into the History database ``db_path``; return the History.

    ``fit`` overrides the fitted targets (parameter-recovery tests fit synthetic surveys).
    """
    if fit is None:
        fit, _ = split_targets(spec, load_all_targets())
    abc = build_abc(spec, config, fit, jobs=jobs, client=client)
    db = f"sqlite:///{db_path}"
    np.random.seed(spec.seed)  # noqa: NPY002 - pyabc samples from numpy's global generator
    done = 0
    if db_path.exists():
        history = abc.load(db, 1)
        done = history.max_t + 1
        used = history.total_nr_simulations
        logging.getLogger("govsim").info(
            "resuming %s after %d generation(s), %d simulations", db_path, done, used
        )
    else:
        abc.new(db, observed_statistics(fit))
        used = 0
    remaining = spec.generations - done
    if remaining > 0 and used < spec.max_simulations:
        abc.run(
            minimum_epsilon=spec.min_epsilon,
            max_nr_populations=remaining,
            max_total_nr_simulations=spec.max_simulations,
        )
    return abc.history


def generations_table(history: Any) -> pd.DataFrame:
    """Per generation: epsilon, effective sample size, simulations, acceptance, wall time."""
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].reset_index(drop=True)
    rows = []
    for _, row in pops.iterrows():
        t = int(row["t"])
        _, w = history.get_distribution(m=0, t=t)
        w = np.asarray(w, dtype=float)
        w = w / w.sum()
        n_accepted = len(w)
        rows.append(
            {
                "generation": t,
                "epsilon": float(row["epsilon"]),
                "ess": float(1.0 / np.sum(w**2)),
                "n_particles": n_accepted,
                "n_simulations": int(row["samples"]),
                "acceptance_rate": n_accepted / max(int(row["samples"]), 1),
                "end_time": row["population_end_time"],
            }
        )
    table = pd.DataFrame(rows)
    if not table.empty:
        ends = pd.to_datetime(table["end_time"])
        start = pd.to_datetime(history.get_abc().start_time)  # first generation starts here
        previous = pd.concat([pd.Series([start]), ends.iloc[:-1]])
        table["wall_s"] = (ends.to_numpy() - previous.to_numpy()) / np.timedelta64(1, "s")
        table = table.drop(columns=["end_time"])
    return table


def posterior_frame(history: Any, t: int | None = None) -> pd.DataFrame:
    """The (last) generation's particles: one column per parameter plus normalised ``weight``."""
    df, w = history.get_distribution(m=0, t=t)
    out = df.reset_index(drop=True).copy()
    out.columns = [str(c) for c in out.columns]
    weights = np.asarray(w, dtype=float)
    out["weight"] = weights / weights.sum()
    return out


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Quantiles of weighted samples (inverse of the weighted empirical CDF, interpolated)."""
    order = np.argsort(values)
    v = np.asarray(values, dtype=float)[order]
    cw = np.cumsum(np.asarray(weights, dtype=float)[order])
    cw = (cw - 0.5 * np.asarray(weights, dtype=float)[order]) / cw[-1]
    return np.interp(qs, cw, v)


def resample(posterior: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` equally weighted draws from weighted particles (systematic resampling)."""
    w = posterior["weight"].to_numpy(dtype=float)
    positions = (rng.random() + np.arange(n)) / n
    idx = np.minimum(np.searchsorted(np.cumsum(w / w.sum()), positions), len(w) - 1)
    return posterior.drop(columns=["weight"]).iloc[idx].reset_index(drop=True)
