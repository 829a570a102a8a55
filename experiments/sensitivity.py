"""Global sensitivity analysis (SALib): Morris screening, Sobol first/total indices and PAWN.

Which factors (levers, uncertain parameters, or whole recommendation packages) move an
outcome, and does the answer survive the model's own randomness? The study is data
(:class:`Study`: method, factors with ranges and groups, base sample size, master seed); the
model is either the governance model, run through :func:`experiments.sweep.run_sweep` (cached
and resumable), or any Python function ``f(**factors) -> float | dict[str, float]``
(``--model module:function``), so sub-models can be analysed the same way.

Method and estimator choices, stated once:

- **Designs.** Morris: ``N`` random one-at-a-time trajectories on a 4-level grid (Morris
  1991; Campolongo et al. 2007 for mu*). Sobol: Saltelli's cross-sampling of a scrambled
  Sobol' sequence, first and total order only (``N * (G + 2)`` rows for ``G`` factors or
  groups; Saltelli et al. 2010 estimators). PAWN: ``N`` scrambled Sobol' points, ``S = 10``
  conditioning slides, KS distance (Pianosi and Wagener 2015, 2018).
- **Dummy factor.** Every design carries one extra factor, :data:`DUMMY` in [0, 1], that the
  model never sees (Khorashadi Zadeh et al. 2017). Its index is the no-influence threshold:
  a factor is flagged ``above_dummy`` when the lower end of its interval lies above the
  upper end of the dummy's. Design rows that differ only in the dummy are run once. Because
  runs share seeds (common random numbers), the dummy's Sobol and Morris indices are exactly
  zero; its PAWN index is the finite-sample KS noise floor.
- **Replicates.** With ``R`` replicates per design point (the same ``R`` seeds at every point),
  indices are computed on the replicate-mean output. ``noise.csv`` gives the share of the
  variance of single runs due to seeds (mean within-point variance / total variance, by a
  one-way ANOVA over points, :func:`noise_summary`) and the share left in the replicate means.
- **Intervals.** ``ci_low``/``ci_high`` are design intervals: SALib's bootstrap over design
  rows for Sobol and Morris (normal approximation). PAWN has none: bootstrapping rows
  inflates KS distances, so its percentile intervals miss the estimate; the dummy's PAWN
  index is the sampling-noise floor instead (Pianosi and Wagener 2018).
  ``noise_ci_low``/``noise_ci_high`` are percentile intervals over ``B`` bootstrap resamples
  of the replicates: each resample draws ``R`` replicate indices with replacement, the
  *same* draw at every point, so the resampled means keep common random numbers, and
  recomputes the indices.
- **Convergence at N/2 and N.** The first half of each design is itself a valid design of
  half the size: the first ``N/2`` base points of a scrambled Sobol' sequence (``N`` a power
  of two) are a Sobol' net, SALib lays out Saltelli rows point by point, and Morris
  trajectories are independent. ``convergence.csv`` reports, per index, the largest absolute
  change between the indices of the first half and of the whole design (for Sobol, max |dST|).
- **Groups.** ``grouped=True`` samples and analyses recommendation packages (``Factor.group``;
  an ungrouped factor is its own group) with SALib's ``groups``: Sobol indices of a group
  are closed/total indices of the set of factors; Morris moves a group's factors together;
  PAWN (SALib) averages the factors of a group.

Seeds: one master seed; the design, SALib's resampling and the replicate bootstrap each get a
child seed (:func:`child_seed`). SALib's Sobol analysis treats seed 0 as "no seed" and then
draws from numpy's global generator, and its PAWN analysis reseeds the global generator, so
child seeds are never 0 and PAWN (which draws nothing) is called without a seed.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import inspect
import json
import math
import os
import re
import shlex
import shutil
import tempfile
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import joblib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from SALib.analyze import morris as morris_analyze
from SALib.analyze import pawn as pawn_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample
from scipy.stats import qmc

from abm.rng import child_seed, replicate_seeds
from experiments.argtypes import int_at_least, jobs
from experiments.errors import BadInput
from experiments.figures import OKABE_ITO, describe_outcome
from experiments.results import fingerprint, run_id_for

if TYPE_CHECKING:
    from experiments.experiment import Experiment

METHODS: tuple[str, ...] = ("morris", "sobol", "pawn")
DUMMY = "_dummy"
DUMMY_LABEL = "dummy (no effect)"
MORRIS_LEVELS = 4
PAWN_SLIDES = 10
CONF_LEVEL = 0.95
DESIGN_RESAMPLES = 100  # SALib's resamples for the Sobol and Morris design intervals
DEFAULT_BOOTSTRAP = 200  # replicate bootstrap resamples
DEFAULT_SAMPLES: dict[str, int] = {"morris": 20, "sobol": 256, "pawn": 512}
MIN_SAMPLES: dict[str, int] = {"morris": 4, "sobol": 4, "pawn": 8 * PAWN_SLIDES}
# the headline index of each method: sorted by, drawn as bars, reported in convergence
MAIN_INDEX: dict[str, str] = {"morris": "mu_star", "sobol": "ST", "pawn": "pawn_median"}
# purposes of the child seeds derived from the master seed (fixed numbers: never reorder)
DEFAULT_FUNCTION_OUTCOME = "y"
SERIAL_SECONDS = 5.0  # a --model study estimated to take less than this runs in-process
INDEX_COLUMNS: tuple[str, ...] = (
    "outcome",
    "method",
    "level",
    "name",
    "index",
    "value",
    "ci_low",
    "ci_high",
    "noise_ci_low",
    "noise_ci_high",
    "is_dummy",
    "above_dummy",
)
DPI = 150


# --- study definition -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FactorSpec:
    """One factor of a study: a uniform range and an optional group (recommendation package)."""

    name: str
    low: float
    high: float
    group: str | None = None


@dataclass(frozen=True, slots=True)
class Study:
    """What to sample and how to analyse it; the model is supplied separately.

    ``samples`` is the base sample size ``N``: Morris trajectories, Sobol base points or PAWN
    points. The design always ends with the :data:`DUMMY` column.
    """

    method: str
    factors: tuple[FactorSpec, ...]
    samples: int
    seed: int = 0
    grouped: bool = False

    def __post_init__(self) -> None:
        problems = check_study(self)
        if problems:
            raise BadInput("invalid sensitivity study:\n" + "\n".join(problems))

    @property
    def factor_names(self) -> tuple[str, ...]:
        """The model's factors, in design-column order (without the dummy)."""
        return tuple(f.name for f in self.factors)

    def groups(self) -> list[str]:
        """The group of every design column (ungrouped factors and the dummy: their own)."""
        return [f.group or f.name for f in self.factors] + [DUMMY]

    def problem(self) -> dict[str, Any]:
        """The SALib problem: every factor plus the dummy; with ``groups`` if grouped."""
        out: dict[str, Any] = {
            "num_vars": len(self.factors) + 1,
            "names": [*self.factor_names, DUMMY],
            "bounds": [[f.low, f.high] for f in self.factors] + [[0.0, 1.0]],
        }
        if self.grouped:
            out["groups"] = self.groups()
        return out

    @property
    def units(self) -> int:
        """Number of analysed units: factors, or groups when grouped (dummy included)."""
        return len(dict.fromkeys(self.groups())) if self.grouped else len(self.factors) + 1

    def design_rows(self, samples: int | None = None) -> int:
        """Rows of a design with ``samples`` base samples (default: the study's)."""
        n = self.samples if samples is None else samples
        if self.method == "sobol":
            return n * (self.units + 2)
        if self.method == "morris":
            return n * (self.units + 1)
        return n

    def design(self) -> np.ndarray:
        """The design matrix (rows x (factors + dummy)), reproducible from the seed."""
        seed = child_seed(self.seed, "sensitivity_design")
        problem = self.problem()
        bounds = np.asarray(problem["bounds"], dtype=float)
        if self.method == "sobol":
            X = sobol_sample.sample(problem, self.samples, calc_second_order=False, seed=seed)
        elif self.method == "morris":
            X = morris_sample.sample(problem, self.samples, num_levels=MORRIS_LEVELS, seed=seed)
        else:
            unit = qmc.Sobol(d=problem["num_vars"], scramble=True, seed=seed).random(self.samples)
            X = qmc.scale(unit, bounds[:, 0], bounds[:, 1])
        # scaling can overshoot a bound by one ulp, and the parameter registry checks exactly
        return np.clip(np.asarray(X, dtype=float), bounds[:, 0], bounds[:, 1])

    def as_dict(self) -> dict[str, Any]:
        """The study as plain data (for manifests and the resume check)."""
        return {
            "method": self.method,
            "samples": self.samples,
            "seed": self.seed,
            "grouped": self.grouped,
            "factors": [dataclasses.asdict(f) for f in self.factors],
            "dummy": DUMMY,
            "morris_levels": MORRIS_LEVELS,
            "pawn_slides": PAWN_SLIDES,
        }


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def check_study(study: Study) -> list[str]:
    """Every problem of a study definition, one line each (empty if it is valid)."""
    problems: list[str] = []
    if study.method not in METHODS:
        problems.append(f"method: {study.method!r} unknown; allowed: {', '.join(METHODS)}")
        return problems
    if isinstance(study.seed, bool) or not isinstance(study.seed, int) or study.seed < 0:
        problems.append(f"seed: {study.seed!r}; expected an integer >= 0")
    minimum = MIN_SAMPLES[study.method]
    if not isinstance(study.samples, int) or study.samples < minimum:
        problems.append(f"samples: {study.samples!r}; expected an integer >= {minimum}")
    elif study.method in ("sobol", "pawn") and not _is_power_of_two(study.samples):
        problems.append(
            f"samples: {study.samples} is not a power of two; {study.method} uses a Sobol' "
            "sequence, whose balance (and the N/2 convergence check) needs N = 2^k, e.g. "
            f"{1 << max(study.samples.bit_length() - 1, 2)} or {1 << study.samples.bit_length()}"
        )
    if not study.factors:
        problems.append("factors: none given; a study needs at least one factor")
    names = [f.name for f in study.factors]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        problems.append(f"factors: repeated names {', '.join(repeated)}")
    for f in study.factors:
        if f.name == DUMMY:
            problems.append(f"factors: the name {DUMMY!r} is reserved for the dummy factor")
        if not (math.isfinite(f.low) and math.isfinite(f.high) and f.low < f.high):
            problems.append(f"factors.{f.name}: range [{f.low}, {f.high}]; need finite low < high")
        if f.group == DUMMY:
            problems.append(f"factors.{f.name}: the group name {DUMMY!r} is reserved")
    return problems


def half_design(study: Study, X: np.ndarray) -> tuple[int, np.ndarray]:
    """The base size ``N // 2`` and the rows of ``X`` forming a valid design of that size."""
    half = study.samples // 2
    return half, X[: study.design_rows(half)]


# --- analysis -------------------------------------------------------------------------------------


def _unit_names(problem: Mapping[str, Any]) -> list[str]:
    """Names of the analysed units: groups in order of first appearance, else factors."""
    groups = problem.get("groups")
    return list(dict.fromkeys(groups)) if groups else list(problem["names"])


def _frame(
    method: str,
    names: Sequence[str],
    level: str,
    values: Mapping[str, np.ndarray],
    half_widths: Mapping[str, np.ndarray],
) -> pd.DataFrame:
    """Tidy rows (name, index, value, ci_low, ci_high) from SALib's index arrays."""
    rows = []
    for index, raw in values.items():
        value = np.asarray(np.ma.filled(raw, np.nan), dtype=float)
        if index in half_widths:
            hw = np.asarray(np.ma.filled(half_widths[index], np.nan), dtype=float)
            low, high = value - hw, value + hw
        else:
            low = high = np.full(len(names), np.nan)
        for k, name in enumerate(names):
            rows.append(
                {
                    "method": method,
                    "level": level,
                    "name": name,
                    "index": index,
                    "value": float(value[k]),
                    "ci_low": float(low[k]),
                    "ci_high": float(high[k]),
                }
            )
    return pd.DataFrame(rows)


def _salib(
    method: str, problem: dict[str, Any], X: np.ndarray, Y: np.ndarray, seed: int, resamples: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """SALib's indices and interval half-widths of one method (``problem`` may be mutated)."""
    if method == "sobol":
        out = sobol_analyze.analyze(
            problem,
            Y,
            calc_second_order=False,
            num_resamples=resamples,
            conf_level=CONF_LEVEL,
            seed=seed,
        )
        return {"S1": out["S1"], "ST": out["ST"]}, {"S1": out["S1_conf"], "ST": out["ST_conf"]}
    if method == "morris":
        out = morris_analyze.analyze(
            problem,
            X,
            Y,
            num_resamples=resamples,
            conf_level=CONF_LEVEL,
            num_levels=MORRIS_LEVELS,
            seed=seed,
        )
        values = {"mu_star": out["mu_star"], "sigma": out["sigma"], "mu": out["mu"]}
        return values, {"mu_star": out["mu_star_conf"]}
    # seed=None on purpose: PAWN draws nothing, and a seed would reseed numpy's global RNG
    out = pawn_analyze.analyze(problem, X, Y, S=PAWN_SLIDES, seed=None)
    return {index: np.asarray(out[key], dtype=float) for index, key in _PAWN_STATS.items()}, {}


# PAWN statistics over the conditioning slides. PAWN gets no design interval: bootstrapping
# rows with replacement inflates KS distances (ties, a smaller effective sample), so percentile
# intervals miss the estimate; the dummy's index is the finite-sample noise floor instead
# (Pianosi and Wagener 2018), and replicate-bootstrap and N/2-vs-N checks still apply.
_PAWN_STATS: dict[str, str] = {"pawn_median": "median", "pawn_max": "maximum", "pawn_cv": "CV"}


def analyse(
    method: str,
    problem: Mapping[str, Any],
    X: np.ndarray,
    Y: np.ndarray,
    groups: Sequence[str] | None = None,
    seed: int = 1,
    resamples: int = DESIGN_RESAMPLES,
) -> pd.DataFrame:
    """Sensitivity indices of one output ``Y`` (one value per row of ``X``) with SALib.

    Returns tidy rows ``method, level, name, index, value, ci_low, ci_high`` where ``level``
    is ``factor`` or ``group``: Morris ``mu_star`` (with interval), ``sigma``, ``mu``; Sobol
    ``S1`` and ``ST`` (with intervals; first and total order only); PAWN ``pawn_median``
    (with a percentile bootstrap interval over design rows), ``pawn_max``, ``pawn_cv``.
    ``groups`` (one name per factor of ``problem``) overrides ``problem["groups"]``; for Sobol
    and Morris the design must have been sampled with the same groups. ``seed`` must be
    >= 1 (see the module docstring); ``resamples`` sets the interval resamples (0: no
    intervals, Sobol and PAWN only).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if seed < 1:
        raise ValueError(f"seed must be >= 1 (SALib treats 0 as 'no seed'), got {seed}")
    problem = dict(problem)  # SALib adds keys to the problem it is given
    if groups is not None:
        if len(groups) != problem["num_vars"]:
            raise ValueError(f"groups has {len(groups)} entries for {problem['num_vars']} factors")
        problem["groups"] = list(groups)
    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float).ravel()
    if X.shape != (Y.size, problem["num_vars"]):
        raise ValueError(f"X has shape {X.shape}; expected ({Y.size}, {problem['num_vars']})")
    if not np.all(np.isfinite(Y)):
        raise ValueError("Y has missing or non-finite values")
    if np.ptp(Y) <= np.finfo(float).eps * max(1.0, float(np.max(np.abs(Y)))):
        # SALib would warn and return zeros; a constant output has no sensitivity to analyse
        raise ValueError(
            f"constant over the design (every run gives {Y[0]:.6g}): no variance to apportion"
        )
    names = _unit_names(problem)
    level = "group" if problem.get("groups") else "factor"
    values, half_widths = _salib(method, problem, X, Y, seed, max(resamples, 2))
    return _frame(method, names, level, values, half_widths)


# --- noise-aware analysis of one outcome ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutcomeResult:
    """The analysis of one outcome: indices, noise summary, convergence (or why it was skipped)."""

    outcome: str
    indices: pd.DataFrame = field(default_factory=pd.DataFrame)
    noise: dict[str, Any] = field(default_factory=dict)
    convergence: pd.DataFrame = field(default_factory=pd.DataFrame)
    skipped: str = ""


def row_means(Y: np.ndarray) -> np.ndarray:
    """Mean of each row over its finite values (NaN for a row without any), without warnings."""
    finite = np.isfinite(Y)
    counts = finite.sum(axis=1)
    sums = np.where(finite, Y, 0.0).sum(axis=1)
    return np.divide(sums, counts, out=np.full(len(Y), np.nan), where=counts > 0)


def noise_summary(Y: np.ndarray) -> dict[str, float]:
    """How much of the output variance comes from seeds, for ``Y`` of shape (points, R).

    One-way ANOVA over design points (random effects): ``within_point_variance`` is the mean
    of the points' replicate variances (seed noise, sigma_w^2); ``between_point_variance``
    estimates the variance of the points' true means, var(replicate means) - sigma_w^2 / R
    (floored at 0); ``total_variance`` of a single run is their sum. ``noise_share`` =
    sigma_w^2 / total, the share of a single run's variance due to seeds;
    ``noise_share_of_means`` = (sigma_w^2 / R) / (sigma_w^2 / R + between), the share left in
    the replicate means the indices are computed on. Both need R >= 2 (NaN otherwise).
    Failed runs (NaN) are left out.
    """
    Y = np.asarray(Y, dtype=float)
    reps = Y.shape[1]
    finite = np.isfinite(Y)
    out: dict[str, float] = {
        "replicates": float(reps),
        "points": float(Y.shape[0]),
        "failed_or_missing_runs": float(Y.size - int(finite.sum())),
        "mean": float(np.mean(Y[finite])) if finite.any() else math.nan,
        "variance_of_means": math.nan,
        "within_point_variance": math.nan,
        "between_point_variance": math.nan,
        "total_variance": math.nan,
        "noise_share": math.nan,
        "noise_share_of_means": math.nan,
    }
    counts = finite.sum(axis=1)
    means = row_means(Y)
    if np.sum(counts > 0) < 2:
        return out
    var_means = float(np.var(means[counts > 0], ddof=1))
    out["variance_of_means"] = var_means
    usable = counts >= 2
    if reps < 2 or not usable.any():
        return out
    within = float(np.mean(np.nanvar(Y[usable], axis=1, ddof=1)))
    between = max(var_means - within / reps, 0.0)
    total = within + between
    out["within_point_variance"] = within
    out["between_point_variance"] = between
    out["total_variance"] = total
    if total > 0:
        out["noise_share"] = within / total
        out["noise_share_of_means"] = (within / reps) / (within / reps + between)
    return out


def _point_values(
    method: str, problem: dict[str, Any], X: np.ndarray, Y: np.ndarray, seed: int
) -> pd.DataFrame:
    """Indices without design intervals (cheap; for bootstrap and convergence)."""
    return analyse(method, problem, X, Y, seed=seed, resamples=0 if method == "pawn" else 2)


def _keyed(frame: pd.DataFrame) -> pd.Series:
    return frame.set_index(["name", "index"])["value"]


def convergence_table(
    study: Study, problem: dict[str, Any], X: np.ndarray, y: np.ndarray, full: pd.DataFrame
) -> pd.DataFrame:
    """Largest change of each index between the first-half design (N/2) and the full one (N)."""
    half_n, half_X = half_design(study, X)
    seed = child_seed(study.seed, "sensitivity_analysis")
    try:
        half = _keyed(_point_values(study.method, problem, half_X, y[: len(half_X)], seed))
    except ValueError as exc:
        return pd.DataFrame([{"index": MAIN_INDEX[study.method], "note": str(exc)}])
    whole = _keyed(full)
    rows = []
    for index in dict.fromkeys(full["index"]):
        delta = (whole.xs(index, level="index") - half.xs(index, level="index")).abs()
        scale = whole.xs(index, level="index").abs().max()
        worst = str(delta.idxmax()) if delta.notna().any() else ""
        rows.append(
            {
                "index": index,
                "n_half": half_n,
                "n_full": study.samples,
                "rows_half": len(half_X),
                "rows_full": len(X),
                "max_abs_change": float(delta.max()),
                "name_at_max": worst,
                "max_rel_change": float(delta.max() / scale) if scale > 0 else math.nan,
            }
        )
    return pd.DataFrame(rows)


def _bootstrap(
    study: Study, problem: dict[str, Any], X: np.ndarray, Y: np.ndarray, resamples: int
) -> tuple[pd.DataFrame, int]:
    """Percentile intervals of every index over bootstrap resamples of the replicates."""
    rng = np.random.default_rng(child_seed(study.seed, "bootstrap"))
    reps = Y.shape[1]
    seed = child_seed(study.seed, "sensitivity_analysis")
    draws = []
    for _ in range(resamples):
        pick = rng.integers(0, reps, reps)  # the same replicates at every point (CRN)
        ybar = row_means(Y[:, pick])
        if not np.all(np.isfinite(ybar)):
            continue
        try:
            draws.append(_keyed(_point_values(study.method, problem, X, ybar, seed)))
        except ValueError:
            continue
    if not draws:
        return pd.DataFrame(columns=["name", "index", "noise_ci_low", "noise_ci_high"]), 0
    table = pd.concat(draws, axis=1)
    draws_array = table.to_numpy(dtype=float)
    # an index SALib leaves undefined (grouped Morris sigma of a multi-factor group) stays NaN
    defined = np.isfinite(draws_array).any(axis=1)
    tail = 100 * (1 - CONF_LEVEL) / 2
    low = np.full(len(table), np.nan)
    high = np.full(len(table), np.nan)
    if defined.any():
        low[defined] = np.nanpercentile(draws_array[defined], tail, axis=1)
        high[defined] = np.nanpercentile(draws_array[defined], 100 - tail, axis=1)
    out = pd.DataFrame({"noise_ci_low": low, "noise_ci_high": high}, index=table.index)
    return out.reset_index(), len(draws)


def _flag_above_dummy(frame: pd.DataFrame) -> pd.Series:
    """Whether each index's lower bound lies above the dummy's upper bound (same index)."""
    low = frame[["ci_low", "noise_ci_low"]].min(axis=1, skipna=True).fillna(frame["value"])
    high = frame[["ci_high", "noise_ci_high"]].max(axis=1, skipna=True).fillna(frame["value"])
    dummy_high = high[frame["is_dummy"]].groupby(frame.loc[frame["is_dummy"], "index"]).max()
    threshold = frame["index"].map(dummy_high)
    above = (low > threshold) & ~frame["is_dummy"]
    # sigma, mu and the PAWN spread statistics are not importance measures: no flag
    return above.where(frame["index"].isin(("S1", "ST", "mu_star", "pawn_median")), False)


def analyse_outcome(
    study: Study, X: np.ndarray, Y: np.ndarray, outcome: str, bootstrap: int = DEFAULT_BOOTSTRAP
) -> OutcomeResult:
    """Noise-aware indices of one outcome; ``Y`` has shape (design rows, replicates).

    Indices use the replicate means; failed runs (NaN) are left out of a point's mean. An
    outcome with a point where every replicate failed, or that is constant, is skipped with
    the reason recorded.
    """
    Y = np.asarray(Y, dtype=float)
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.shape[0] != len(X):
        raise ValueError(f"Y has {Y.shape[0]} rows for a design of {len(X)} rows")
    noise = noise_summary(Y)
    ybar = row_means(Y)
    if not np.all(np.isfinite(ybar)):
        missing = int(np.sum(~np.isfinite(ybar)))
        return OutcomeResult(
            outcome,
            noise=noise,
            skipped=f"no finite value (failed runs or NaN outcome) at {missing} design rows",
        )
    problem = study.problem()
    seed = child_seed(study.seed, "sensitivity_analysis")
    try:
        indices = analyse(study.method, problem, X, ybar, seed=seed)
    except ValueError as exc:
        return OutcomeResult(outcome, noise=noise, skipped=str(exc))
    indices.insert(0, "outcome", outcome)
    indices["noise_ci_low"] = np.nan
    indices["noise_ci_high"] = np.nan
    resamples_used = 0
    if Y.shape[1] >= 2 and bootstrap > 0:
        boot, resamples_used = _bootstrap(study, problem, X, Y, bootstrap)
        indices = indices.drop(columns=["noise_ci_low", "noise_ci_high"]).merge(
            boot, on=["name", "index"], how="left", validate="one_to_one"
        )
    indices["is_dummy"] = indices["name"] == DUMMY
    indices["above_dummy"] = _flag_above_dummy(indices)
    noise["bootstrap_resamples"] = float(resamples_used)
    convergence = convergence_table(study, problem, X, ybar, indices)
    convergence.insert(0, "outcome", outcome)
    return OutcomeResult(outcome, indices[list(INDEX_COLUMNS)], noise, convergence)


# --- running a Python function as the model -------------------------------------------------------


ModelFunction = Callable[..., Any]


def load_function(spec: str) -> ModelFunction:
    """Import ``module:function`` (``module.sub:func`` or ``module:Class.method``)."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise BadInput(f"--model {spec!r}: expected 'module:function', e.g. 'mypkg.models:f'")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise BadInput(f"--model {spec!r}: cannot import module {module_name!r}: {exc}") from exc
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise BadInput(f"--model {spec!r}: module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise BadInput(f"--model {spec!r}: {attr!r} is not callable")
    return obj


def takes_seed(func: ModelFunction) -> bool:
    """Whether ``func`` accepts a ``seed`` keyword (then each replicate gets its own seed)."""
    try:
        parameters = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return "seed" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


def _as_outcomes(value: Any, kwargs: Mapping[str, float], seed: int | None) -> dict[str, float]:
    """A function's return value as {outcome: number}; BadInput naming the point otherwise."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {DEFAULT_FUNCTION_OUTCOME: float(value)}
    items = (
        {str(k): v for k, v in value.items()}
        if isinstance(value, Mapping)
        else {DEFAULT_FUNCTION_OUTCOME: value}
    )
    out: dict[str, float] = {}
    for key, item in items.items():
        try:
            out[key] = float(item)
        except (TypeError, ValueError):
            raise BadInput(
                f"{_where(kwargs, seed)}: returned {key}={item!r}; a model function must "
                "return a number or a dict of numbers"
            ) from None
    return out


def _evaluate_rows(
    func: ModelFunction | str,
    names: Sequence[str],
    points: np.ndarray,
    seeds: Sequence[int | None],
) -> list[list[dict[str, float]]]:
    """Call the function at each point for each seed (``None``: called without a seed)."""
    if isinstance(func, str):
        func = load_function(func)
    out = []
    for point in points:
        kwargs = {n: float(v) for n, v in zip(names, point, strict=True)}
        row = []
        for seed in seeds:
            try:
                value = func(**kwargs) if seed is None else func(**kwargs, seed=seed)
            except Exception as exc:
                raise BadInput(
                    f"{_where(kwargs, seed)} raised {type(exc).__name__}: {exc}"
                ) from exc
            row.append(_as_outcomes(value, kwargs, seed))
        out.append(row)
    return out


def _where(kwargs: Mapping[str, float], seed: int | None) -> str:
    text = ", ".join(f"{k}={v:.6g}" for k, v in kwargs.items())
    return f"model function at ({text})" + ("" if seed is None else f" with seed {seed}")


def evaluate_function(
    func: ModelFunction | str,
    names: Sequence[str],
    points: np.ndarray,
    seeds: Sequence[int],
    jobs: int = 1,
) -> dict[str, np.ndarray]:
    """Outcomes of ``func(**factors[, seed=s])``: {outcome: array (points, replicates)}.

    A function without a ``seed`` keyword is deterministic: it is called once per point and
    gives one replicate. ``func`` may be a ``module:function`` string, which worker processes
    import themselves (``jobs`` != 1 needs an importable function). The first point is timed
    in this process; if all of them would take under :data:`SERIAL_SECONDS` here, the rest
    run here too, since starting worker processes costs seconds. Results do not depend on
    ``jobs``.
    """
    target = load_function(func) if isinstance(func, str) else func
    use: list[int | None] = list(seeds) if takes_seed(target) else [None]
    if len(points) == 0:
        return {}
    started = time.perf_counter()
    results = _evaluate_rows(target, names, points[:1], use)
    estimate = (time.perf_counter() - started) * len(points)
    workers = joblib.effective_n_jobs(jobs)
    rest = points[1:]
    if workers == 1 or estimate < SERIAL_SECONDS or len(rest) < 2 * workers:
        results += _evaluate_rows(target, names, rest, use)
    else:
        chunks = np.array_split(np.arange(len(rest)), 4 * workers)
        parts = joblib.Parallel(n_jobs=workers)(
            joblib.delayed(_evaluate_rows)(func, names, rest[c], use) for c in chunks if c.size
        )
        results += [row for part in parts for row in part]
    keys = list(results[0][0]) if results else []
    for k, row in enumerate(results):
        for cell in row:
            if list(cell) != keys:
                raise BadInput(
                    f"model function returned outcomes {sorted(cell)} at point {k} but "
                    f"{sorted(keys)} at point 0; it must return the same keys everywhere"
                )
    return {
        key: np.array([[cell[key] for cell in row] for row in results], dtype=float) for key in keys
    }


def ishigami(x1: float, x2: float, x3: float, a: float = 7.0, b: float = 0.1) -> float:
    """The Ishigami function (Ishigami and Homma 1990), a known-answer test of Sobol indices.

    With x1..x3 uniform on [-pi, pi], a = 7 and b = 0.1: S1 = (0.3139, 0.4424, 0) and
    ST = (0.5576, 0.4424, 0.2437).
    """
    return math.sin(x1) + a * math.sin(x2) ** 2 + b * x3**4 * math.sin(x1)


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> dict[str, tuple[float, float, float]]:
    """Analytic S1 and ST of :func:`ishigami` on [-pi, pi]^3 (Sobol' and Levitan 1999)."""
    pi = math.pi
    v1 = 0.5 * (1 + b * pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * pi**8 / 18 - b**2 * pi**8 / 50
    total = v1 + v2 + v13
    return {
        "S1": (v1 / total, v2 / total, 0.0),
        "ST": ((v1 + v13) / total, v2 / total, v13 / total),
    }


# --- the study as a whole -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StudyResult:
    """Everything a study produced: design, raw outputs and the per-outcome analyses."""

    study: Study
    design: np.ndarray
    unique_points: int
    seeds: tuple[int, ...]
    outputs: dict[str, np.ndarray]  # outcome -> (design rows, replicates)
    results: tuple[OutcomeResult, ...]
    evaluation_s: float
    analysis_s: float

    def indices(self) -> pd.DataFrame:
        """All outcomes' indices in one table."""
        frames = [r.indices for r in self.results if not r.skipped]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def convergence(self) -> pd.DataFrame:
        """All outcomes' convergence rows in one table."""
        frames = [r.convergence for r in self.results if not r.skipped]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def noise(self) -> pd.DataFrame:
        """One row per outcome: the noise summary (and why an outcome was skipped)."""
        return pd.DataFrame(
            [{"outcome": r.outcome, **r.noise, "skipped": r.skipped} for r in self.results]
        )


Evaluator = Callable[[np.ndarray], tuple[dict[str, np.ndarray], tuple[int, ...]]]


def run_study(
    study: Study,
    evaluate: Evaluator,
    outcomes: Sequence[str] | None = None,
    bootstrap: int = DEFAULT_BOOTSTRAP,
) -> StudyResult:
    """Sample the design, evaluate each distinct model point once, analyse every outcome.

    ``evaluate(points)`` gets the distinct rows of the design without the dummy column and
    returns ({outcome: array (points, replicates)}, seeds used).
    """
    design = study.design()
    points, inverse = np.unique(design[:, :-1], axis=0, return_inverse=True)
    started = time.perf_counter()
    raw, seeds = evaluate(points)
    evaluation_s = time.perf_counter() - started
    names = list(outcomes) if outcomes is not None else list(raw)
    missing = [n for n in names if n not in raw]
    if missing:
        raise BadInput(f"the model did not return outcomes {', '.join(missing)}")
    outputs = {name: raw[name][inverse.ravel()] for name in names}
    started = time.perf_counter()
    results = tuple(analyse_outcome(study, design, outputs[n], n, bootstrap) for n in names)
    return StudyResult(
        study=study,
        design=design,
        unique_points=len(points),
        seeds=tuple(seeds),
        outputs=outputs,
        results=results,
        evaluation_s=evaluation_s,
        analysis_s=time.perf_counter() - started,
    )


def function_evaluator(
    func: ModelFunction | str, study: Study, seeds: Sequence[int], jobs: int = 1
) -> Evaluator:
    """An evaluator calling a Python function of the study's factors."""
    target = load_function(func) if isinstance(func, str) else func
    used = tuple(seeds) if takes_seed(target) else ()

    def evaluate(points: np.ndarray) -> tuple[dict[str, np.ndarray], tuple[int, ...]]:
        return evaluate_function(func, study.factor_names, points, seeds, jobs), used

    return evaluate


def sweep_evaluator(
    experiment: Experiment,
    out_dir: Path,
    jobs: int = -1,
    scheduler: str | None = None,
    progress: bool = True,
    command: str | None = None,
) -> Evaluator:
    """An evaluator running the governance model through the cached, resumable sweep.

    Runs go to ``out_dir`` (the sweep's store, ``runs.parquet`` and manifest); points and
    replicates are matched back by the runs table's ``point`` and ``replicate`` columns, and
    a failed run leaves NaN.
    """
    from experiments.sweep import run_sweep

    outcomes = list(experiment.outcomes)
    seeds = tuple(int(s) for s in experiment.seeds())

    def evaluate(points: np.ndarray) -> tuple[dict[str, np.ndarray], tuple[int, ...]]:
        runs = run_sweep(
            experiment,
            points,
            out_dir,
            jobs=jobs,
            scheduler=scheduler,
            progress=progress,
            command=command,
        )
        out = {name: np.full((len(points), len(seeds)), np.nan) for name in outcomes}
        ok = runs[runs["status"] == "ok"]
        point = ok["point"].to_numpy(dtype=int)
        replicate = ok["replicate"].to_numpy(dtype=int)
        for name in outcomes:
            out[name][point, replicate] = ok[name].to_numpy(dtype=float)
        return out, seeds

    return evaluate


# --- factor specifications ------------------------------------------------------------------------


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_INLINE_FACTOR = re.compile(
    rf"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<low>{_NUMBER}),(?P<high>{_NUMBER})"
    r"(?:@(?P<group>[A-Za-z0-9_.\-]+))?$"
)


def parse_factors(spec: str) -> tuple[FactorSpec, ...]:
    """Factors from ``"x1=-3.14,3.14 x2=0,1@groupA"`` or from a TOML file path.

    The TOML file has one table per factor: ``[factors.x1]`` with ``low``, ``high`` and an
    optional ``group``.
    """
    path = Path(spec)
    if spec.endswith(".toml") or (path.suffix and path.is_file()):
        return _factors_from_toml(path)
    factors = []
    problems = []
    for token in spec.replace(";", " ").split():
        match = _INLINE_FACTOR.match(token)
        if match is None:
            problems.append(f"--factors: {token!r} is not 'name=low,high' or 'name=low,high@group'")
            continue
        factors.append(
            FactorSpec(
                match["name"], float(match["low"]), float(match["high"]), match["group"] or None
            )
        )
    if not factors and not problems:
        problems.append("--factors: empty; give e.g. 'x1=-3.14159,3.14159 x2=0,1'")
    if problems:
        raise BadInput("\n".join(problems))
    return tuple(factors)


def _factors_from_toml(path: Path) -> tuple[FactorSpec, ...]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"--factors: file {path} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{path}: not valid TOML: {exc}") from None
    table = data.get("factors")
    problems = [
        f"{path}: {key}: unknown table; allowed: factors" for key in data if key != "factors"
    ]
    if not isinstance(table, dict) or not table:
        problems.append(f"{path}: factors: missing; expected [factors.<name>] tables")
        raise BadInput("\n".join(problems))
    factors = []
    for name, entry in table.items():
        where = f"{path}: factors.{name}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: expected a table with low, high and optional group")
            continue
        unknown = sorted(set(entry) - {"low", "high", "group"})
        if unknown:
            problems.append(
                f"{where}: unknown keys {', '.join(unknown)}; allowed: low, high, group"
            )
        low, high, group = entry.get("low"), entry.get("high"), entry.get("group")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high)):
            problems.append(f"{where}: low and high must be numbers, got {low!r}, {high!r}")
            continue
        if group is not None and not isinstance(group, str):
            problems.append(f"{where}.group: expected a string, got {group!r}")
            continue
        factors.append(FactorSpec(str(name), float(low), float(high), group))  # type: ignore[arg-type]
    if problems:
        raise BadInput("\n".join(problems))
    return tuple(factors)


def factors_of(experiment: Experiment) -> tuple[FactorSpec, ...]:
    """The study factors of an experiment file (its uncertainties, levers and packages)."""
    return tuple(
        FactorSpec(f.name, float(f.low), float(f.high), f.group or None) for f in experiment.factors
    )


# --- outputs --------------------------------------------------------------------------------------


_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.\-]+")


def _file_stem(outcome: str) -> str:
    return _SAFE_NAME.sub("_", outcome)


_INDEX_LABEL: dict[str, str] = {
    "S1": "first-order S1",
    "ST": "total ST",
    "mu_star": "mu* (mean |elementary effect|)",
    "pawn_median": "PAWN (median KS distance)",
}


def _axis_label(method: str, outcome: str) -> str:
    if method == "sobol":
        return "share of output variance (0-1)"
    if method == "pawn":
        return "KS distance between conditional and unconditional CDFs (0-1)"
    info = describe_outcome(outcome)
    return f"mean |elementary effect|, per whole factor range ({info.diff_unit})"


def plot_indices(result: OutcomeResult, path: Path, title_note: str = "") -> Path:
    """Horizontal bars of the main indices with intervals and the dummy threshold line."""
    frame = result.indices
    method = str(frame["method"].iloc[0])
    main = MAIN_INDEX[method]
    shown = ["S1", "ST"] if method == "sobol" else [main]
    info = describe_outcome(result.outcome)
    scale = info.scale if method == "morris" else 1.0
    ranked = frame[(frame["index"] == main) & ~frame["is_dummy"]].sort_values(
        "value", kind="stable"
    )
    order = [DUMMY, *ranked["name"].astype(str)]  # the dummy at the bottom, largest on top
    layout = ConstrainedLayoutEngine(rect=(0.0, 0.035, 1.0, 0.965))
    fig = Figure(figsize=(7.5, 1.6 + 0.34 * len(order) * len(shown)), dpi=DPI, layout=layout)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    y = np.arange(len(order), dtype=float)
    height = 0.8 / len(shown)
    colours = {"S1": OKABE_ITO[1], "ST": OKABE_ITO[3]}
    for k, index in enumerate(shown):
        rows = frame[frame["index"] == index].set_index("name").loc[order]
        value = rows["value"].to_numpy(dtype=float) * scale
        low = rows[["ci_low", "noise_ci_low"]].min(axis=1).fillna(rows["value"]).to_numpy() * scale
        high = (
            rows[["ci_high", "noise_ci_high"]].max(axis=1).fillna(rows["value"]).to_numpy() * scale
        )
        offset = ((len(shown) - 1) / 2 - k) * height  # the first index on top
        colour = colours.get(index, OKABE_ITO[3])
        ax.barh(y + offset, value, height=height * 0.9, color=colour, label=_INDEX_LABEL[index])
        err = np.vstack([np.clip(value - low, 0, None), np.clip(high - value, 0, None)])
        ax.errorbar(value, y + offset, xerr=err, fmt="none", ecolor="0.15", capsize=2, lw=0.8)
    if method == "morris":  # sigma in the same units: spread of the effects (interactions)
        sigma = frame[frame["index"] == "sigma"].set_index("name").loc[order, "value"]
        ax.plot(
            sigma.to_numpy(dtype=float) * scale,
            y,
            "D",
            color=OKABE_ITO[0],
            ms=4,
            label="sigma (spread of effects: interactions, non-linearity)",
        )
    dummy = frame[(frame["is_dummy"]) & (frame["index"] == main)]
    if not dummy.empty:
        d = dummy.iloc[0]
        threshold = float(np.nanmax([d["value"], d["ci_high"], d["noise_ci_high"]])) * scale
        ax.axvline(
            threshold,
            color=OKABE_ITO[4],
            ls="--",
            lw=1.0,
            label=f"dummy threshold ({_INDEX_LABEL[main].split(' (')[0]})",
        )
    labels = [DUMMY_LABEL if n == DUMMY else n for n in order]
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel(_axis_label(method, result.outcome))
    level = str(frame["level"].iloc[0])
    subtitle = f"{method} indices by {level}; whiskers: {CONF_LEVEL:.0%} design and seed intervals"
    ax.set_title(
        f"{info.label}\n{subtitle}" + (f"\n{title_note}" if title_note else ""), fontsize=9
    )
    ax.grid(True, axis="x", color="0.9", lw=0.6)
    ax.set_axisbelow(True)
    ax.legend(fontsize=7, loc="lower right", frameon=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path


def write_outputs(result: StudyResult, out_dir: Path, info: Mapping[str, Any]) -> list[str]:
    """Write indices, convergence, noise, design, charts and manifest into ``out_dir``.

    Files are written into a temporary folder inside ``out_dir`` and moved into place one by
    one, the manifest last, so a finished manifest means a complete set of files.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".sensitivity-", dir=out_dir))
    written: list[str] = []
    try:
        study = result.study
        note = (
            f"N = {study.samples}, {len(result.seeds) or 1} replicate(s) per point, "
            f"master seed {study.seed}"
        )
        for r in result.results:
            if r.skipped:
                continue
            stem = _file_stem(r.outcome)
            r.indices.to_csv(tmp / f"indices_{stem}.csv", index=False)
            plot_indices(r, tmp / f"indices_{stem}.png", note)
            written += [f"indices_{stem}.csv", f"indices_{stem}.png"]
        result.convergence().to_csv(tmp / "convergence.csv", index=False)
        result.noise().to_csv(tmp / "noise.csv", index=False)
        design = pd.DataFrame(result.design, columns=[*result.study.factor_names, DUMMY])
        design.index.name = "row"
        design.to_csv(tmp / "design.csv")
        written += ["convergence.csv", "noise.csv", "design.csv"]
        manifest = {
            "kind": "sensitivity",
            "run_id": run_id_for("sensitivity", fingerprint({"study": study.as_dict()})),
            **info,
            "study": result.study.as_dict(),
            "design_rows": len(result.design),
            "unique_model_points": result.unique_points,
            "replicate_seeds": list(result.seeds),
            "runs": result.unique_points * max(len(result.seeds), 1),
            "evaluation_s": round(result.evaluation_s, 3),
            "analysis_s": round(result.analysis_s, 3),
            "outcomes": [r.outcome for r in result.results],
            "skipped_outcomes": {r.outcome: r.skipped for r in result.results if r.skipped},
            "files": [*written, "manifest.json"],
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
        for name in [*written, "manifest.json"]:
            os.replace(tmp / name, out_dir / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest["files"]


# --- command line ---------------------------------------------------------------------------------


STUDY_FILE = "study.json"


def register(subparsers: Any) -> None:
    """Add ``govsim sensitivity`` to the ``govsim`` command line."""
    p = subparsers.add_parser(
        "sensitivity",
        help="Morris / Sobol / PAWN sensitivity of an experiment's outcomes (or of a function)",
        description=(
            "Sample a design over the experiment's factors (plus a dummy factor), run it with "
            "the experiment's replicate seeds through the cached sweep, and write indices "
            "with design and seed intervals, a noise report, an N/2-vs-N convergence check, "
            "charts and a manifest. With --model module:function a Python function of the "
            "factors is analysed instead (factors from the experiment file or --factors). "
            "Rerunning the same command with the same --out resumes an interrupted study."
        ),
    )
    p.add_argument("experiment", nargs="?", metavar="EXPERIMENT.toml", help="experiment file")
    p.add_argument("--method", required=True, choices=METHODS, help="analysis method")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")
    p.add_argument(
        "--samples",
        type=int_at_least(1),
        metavar="N",
        help="base sample size: Morris trajectories, Sobol base points (power of 2; runs = "
        "N x (factors + 2) x replicates), PAWN points (power of 2); default "
        + ", ".join(f"{m} {n}" for m, n in DEFAULT_SAMPLES.items()),
    )
    p.add_argument(
        "--groups",
        action="store_true",
        help="sample and analyse recommendation packages (factor groups) instead of factors",
    )
    p.add_argument("--jobs", type=jobs, default=-1, metavar="N", help="worker processes")
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler for the sweep: 'local' or tcp://HOST:8786 (default: joblib)",
    )
    p.add_argument(
        "--model",
        metavar="MODULE:FUNCTION",
        help="analyse this Python function f(**factors[, seed]) -> number | dict instead",
    )
    p.add_argument(
        "--factors",
        metavar="SPEC",
        help="with --model and no experiment: 'x1=low,high[@group] x2=...' or a TOML file",
    )
    p.add_argument(
        "--replicates",
        type=int_at_least(1),
        metavar="R",
        help="with --model: seeds per point if the function takes 'seed' "
        "(default: the experiment's, else 1)",
    )
    p.add_argument("--seed", type=int_at_least(0), metavar="S", help="master seed (default 0)")
    p.add_argument(
        "--bootstrap",
        type=int_at_least(0),
        default=DEFAULT_BOOTSTRAP,
        metavar="B",
        help=f"bootstrap resamples of the replicates (default {DEFAULT_BOOTSTRAP}; 0 = none)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=cmd_sensitivity)


def _check_study_dir(out: Path, study: Study, context: Mapping[str, Any]) -> None:
    """Allow a new or empty DIR, or one holding the same study (resume); refuse anything else."""
    if out.exists() and not out.is_dir():
        raise BadInput(f"output path {out} exists and is not a directory")
    if not out.is_dir() or not any(out.iterdir()):
        return
    saved = out / STUDY_FILE
    if not saved.is_file():
        raise BadInput(
            f"output directory {out} is not empty and holds no {STUDY_FILE}; choose a new --out "
            "(an existing DIR is only reused to resume the same study)"
        )
    previous = json.loads(saved.read_text(encoding="utf-8"))
    current = json.loads(json.dumps({"study": study.as_dict(), **context}, default=str))
    if previous != current:
        changed = sorted(k for k in current if previous.get(k) != current.get(k))
        raise BadInput(
            f"output directory {out} holds a different study (differs in: "
            f"{', '.join(changed) or 'format'}); choose a new --out to run this one"
        )


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """``govsim sensitivity``: sample, run (cached), analyse and write one study."""
    experiment = None
    if args.experiment:
        from experiments.experiment import load_experiment

        experiment = load_experiment(args.experiment)
    if experiment is None and not args.model:
        raise BadInput("give an EXPERIMENT.toml, or --model module:function with --factors")
    if args.factors and experiment is not None:
        raise BadInput("--factors is for --model without an experiment file; give one or the other")
    if args.model and experiment is None and not args.factors:
        raise BadInput("--model without an experiment file needs --factors 'x1=low,high ...'")
    if args.replicates is not None and not args.model:
        raise BadInput("--replicates is for --model; the experiment file sets its replicates")
    if args.scheduler and args.model:
        raise BadInput("--scheduler is for the governance model; --model runs with --jobs")
    factors = parse_factors(args.factors) if args.factors else factors_of(experiment)  # type: ignore[arg-type]
    seed = args.seed if args.seed is not None else (experiment.seed if experiment else 0)
    samples = args.samples or DEFAULT_SAMPLES[args.method]
    if args.samples is None and experiment is not None and experiment.design == args.method:
        samples = experiment.samples
    study = Study(args.method, factors, samples, int(seed), grouped=args.groups)
    if args.groups and study.units == len(factors) + 1:
        raise BadInput(
            "--groups: every factor is its own group; give factors a shared 'group' "
            "(a recommendation package) or drop --groups"
        )
    out = Path(args.out)
    context: dict[str, Any] = {
        "experiment": str(Path(args.experiment).resolve()) if args.experiment else None,
        "model": args.model,
    }
    if args.model:
        replicates = args.replicates or (experiment.replicates if experiment else 1)
        seeds = replicate_seeds(int(seed), replicates)
        context["replicates"] = replicates
        evaluator = function_evaluator(args.model, study, seeds, jobs=args.jobs)
        outcomes: Sequence[str] | None = None
    else:
        assert experiment is not None
        context["replicates"] = experiment.replicates
        evaluator = sweep_evaluator(
            experiment,
            out / "sweep",
            jobs=args.jobs,
            scheduler=args.scheduler,
            progress=not args.no_progress,
            command="govsim " + shlex.join(getattr(args, "argv", [])),
        )
        outcomes = list(experiment.outcomes)
    _check_study_dir(out, study, context)
    record = json.dumps({"study": study.as_dict(), **context}, indent=2, default=str) + "\n"
    if not args.model:  # the sweep's store goes into DIR now, so an interrupted study resumes
        out.mkdir(parents=True, exist_ok=True)
        (out / STUDY_FILE).write_text(record)
    started = time.perf_counter()
    result = run_study(study, evaluator, outcomes, bootstrap=args.bootstrap)
    if args.model:  # nothing to resume: DIR appears only with the results
        out.mkdir(parents=True, exist_ok=True)
        (out / STUDY_FILE).write_text(record)
    info = {
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "govsim " + shlex.join(getattr(args, "argv", [])),
        **context,
        "bootstrap": args.bootstrap,
        "jobs": args.jobs,
        "scheduler": args.scheduler,
        "wall_time_s": round(time.perf_counter() - started, 2),
        **_provenance(),
    }
    write_outputs(result, out, info)
    _print_summary(result, out)
    return 0


def _provenance() -> dict[str, Any]:
    """Code version, package versions and data hashes (of the default data files)."""
    from abm.config import ScenarioConfig
    from experiments.results import provenance

    return provenance([ScenarioConfig()])


def _print_summary(result: StudyResult, out: Path) -> None:
    """The main index of each outcome, largest first, with the dummy threshold."""
    method = result.study.method
    main = MAIN_INDEX[method]
    print(
        f"{method} sensitivity: {len(result.design)} design rows, {result.unique_points} "
        f"model points x {max(len(result.seeds), 1)} replicate(s); "
        f"evaluation {result.evaluation_s:.1f} s, analysis {result.analysis_s:.1f} s"
    )
    for r in result.results:
        if r.skipped:
            print(f"\n{r.outcome}: skipped ({r.skipped})")
            continue
        rows = r.indices[r.indices["index"] == main].sort_values("value", ascending=False)
        share = r.noise.get("noise_share", math.nan)
        print(f"\n{r.outcome} ({main}; seed-noise share of single-run variance {share:.3g})")
        for rec in rows.to_dict("records"):
            mark = "*" if rec["above_dummy"] else " "
            name = DUMMY_LABEL if rec["is_dummy"] else rec["name"]
            print(
                f"  {mark} {name:<40} {rec['value']:10.4g}  "
                f"[{rec['ci_low']:.3g}, {rec['ci_high']:.3g}]"
            )
    print(f"\n* above the dummy threshold. Wrote {out}")
