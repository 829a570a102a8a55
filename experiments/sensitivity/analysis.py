"""Sensitivity estimators: SALib's Morris, Sobol and PAWN indices, with seed noise and convergence.

:func:`analyse` computes one method's indices of one output; :func:`analyse_outcome` adds the
replicate bootstrap, the dummy threshold, the noise summary and the N/2-vs-N convergence check.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import pawn as pawn_analyze
from SALib.analyze import sobol as sobol_analyze

from abm.rng import child_seed
from experiments.sensitivity.design import (
    DUMMY,
    METHODS,
    MORRIS_LEVELS,
    PAWN_SLIDES,
    Study,
    half_design,
)

CONF_LEVEL = 0.95
DESIGN_RESAMPLES = 100  # SALib's resamples for the Sobol and Morris design intervals
DEFAULT_BOOTSTRAP = 200  # replicate bootstrap resamples
# the headline index of each method: sorted by, drawn as bars, reported in convergence
MAIN_INDEX: dict[str, str] = {
    "morris": "mu_star",
    "sobol": "ST",
    "pawn": "pawn_median",
    "emulator": "ST",
}
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
    "joint_ci_low",
    "joint_ci_high",
)


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
    seed = child_seed(study.seed, "sensitivity_analysis")
    draws = []
    for _ in range(resamples):
        ybar = row_means(_resample_replicates(study, Y, rng))
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


def _resample_replicates(study: Study, Y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One bootstrap resample of the replicates of every row of ``Y`` (rows x R).

    Under common seeds the same replicate indices are drawn at every point (the resampled
    means keep common random numbers); under independent seeds every row draws its own.
    """
    reps = Y.shape[1]
    if study.seeding == "independent":
        pick = rng.integers(0, reps, Y.shape)
        return np.take_along_axis(Y, pick, axis=1)
    return Y[:, rng.integers(0, reps, reps)]


def sobol_estimates(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and total Sobol indices from Saltelli blocks (N, D + 2): A, AB_1..AB_D, B.

    The estimators of SALib's ``sobol.analyze`` (Saltelli et al. 2010 first order, Jansen
    1999 total order, normalised by the variance of A and B together, on the centred
    output), vectorised so that a bootstrap over points and replicates stays cheap.
    """
    centred = blocks - blocks.mean()
    A, AB, B = centred[:, :1], centred[:, 1:-1], centred[:, -1:]
    var = float(np.var(np.r_[A, B]))
    if var <= np.finfo(float).eps:
        nan = np.full(AB.shape[1], np.nan)
        return nan, nan
    s1 = np.mean(B * (AB - A), axis=0) / var
    st = 0.5 * np.mean((A - AB) ** 2, axis=0) / var
    return s1, st


def joint_bootstrap(study: Study, Y: np.ndarray, resamples: int) -> pd.DataFrame:
    """Percentile intervals of Sobol S1 and ST resampling base points and replicates together.

    Each resample draws the ``N`` base points (whole Saltelli blocks) with replacement and
    recomputes the indices of the mean response. Under independent seeds every block carries
    its own seed noise, so resampling blocks holds design and seed error at once (resampling
    replicates as well would add noise: a mean of R draws with replacement is noisier than
    the mean of the R runs, which biases noise-driven indices such as the dummy's upward).
    Under common seeds the noise is shared by all blocks, so the replicates are resampled
    too, the same draw at every point (:func:`_resample_replicates`).
    """
    names = _unit_names(study.problem())
    width = study.units + 2
    n = Y.shape[0] // width
    rng = np.random.default_rng(child_seed(study.seed, "bootstrap") + 1)
    s1s, sts = [], []
    for _ in range(resamples):
        resampled = Y if study.seeding == "independent" else _resample_replicates(study, Y, rng)
        ybar = row_means(resampled)
        if not np.all(np.isfinite(ybar)):
            continue
        blocks = ybar[: n * width].reshape(n, width)[rng.integers(0, n, n)]
        s1, st = sobol_estimates(blocks)
        s1s.append(s1)
        sts.append(st)
    tail = 100 * (1 - CONF_LEVEL) / 2
    rows = []
    for index, draws in (("S1", s1s), ("ST", sts)):
        arr = np.asarray(draws, dtype=float).reshape(-1, len(names))
        ok = np.isfinite(arr).any(axis=0) if len(arr) else np.zeros(len(names), bool)
        low = np.full(len(names), np.nan)
        high = np.full(len(names), np.nan)
        if len(arr):
            low[ok] = np.nanpercentile(arr[:, ok], tail, axis=0)
            high[ok] = np.nanpercentile(arr[:, ok], 100 - tail, axis=0)
        for k, name in enumerate(names):
            rows.append(
                {"name": name, "index": index, "joint_ci_low": low[k], "joint_ci_high": high[k]}
            )
    return pd.DataFrame(rows)


def _flag_above_dummy(frame: pd.DataFrame) -> pd.Series:
    """Whether each index's lower bound lies above the dummy's upper bound (same index)."""
    lows = [c for c in ("ci_low", "noise_ci_low", "joint_ci_low") if c in frame]
    highs = [c for c in ("ci_high", "noise_ci_high", "joint_ci_high") if c in frame]
    low = frame[lows].min(axis=1, skipna=True).fillna(frame["value"])
    high = frame[highs].max(axis=1, skipna=True).fillna(frame["value"])
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
    the reason recorded. Sobol studies also get ``joint_ci_low``/``joint_ci_high``: a
    bootstrap over base points and replicates together (:func:`joint_bootstrap`). The
    emulator method is analysed by :func:`experiments.sensitivity.emulator.analyse_emulator`
    instead (:func:`experiments.sensitivity.study.run_study` chooses).
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
    indices["joint_ci_low"] = np.nan
    indices["joint_ci_high"] = np.nan
    if study.method == "sobol" and bootstrap > 0:
        joint = joint_bootstrap(study, Y, bootstrap)
        indices = indices.drop(columns=["joint_ci_low", "joint_ci_high"]).merge(
            joint, on=["name", "index"], how="left", validate="one_to_one"
        )
    indices["is_dummy"] = indices["name"] == DUMMY
    indices["above_dummy"] = _flag_above_dummy(indices)
    noise["bootstrap_resamples"] = float(resamples_used)
    convergence = convergence_table(study, problem, X, ybar, indices)
    convergence.insert(0, "outcome", outcome)
    return OutcomeResult(outcome, indices[list(INDEX_COLUMNS)], noise, convergence)
