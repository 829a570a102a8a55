"""Emulator-based Sobol indices: a Gaussian-process metamodel of the mean response.

The model is run once (or R times) at each point of a scrambled Sobol' design of at most
:data:`~experiments.sensitivity.design.MAX_EMULATOR_RUNS` points (dummy column included). A
scikit-learn ``GaussianProcessRegressor`` with an anisotropic Matern-5/2 kernel (one length
scale per factor, so a factor without influence gets a long one) plus a ``WhiteKernel`` noise
term is fitted to the runs; the fitted noise level is the seed noise, and the GP mean is the
mean response whose Sobol indices are wanted (Marrel et al. 2009; Le Gratiet et al. 2017).

Indices are computed on the GP mean over a Saltelli Monte-Carlo sample of
:data:`MC_BASE` base points with the estimators of :func:`~experiments.sensitivity.analysis.
sobol_estimates`. Their interval combines the two errors (Janon et al. 2014 in spirit):
each of ``B`` resamples refits the GP (kernel hyperparameters fixed at the fitted ones) on a
bootstrap resample of the training runs, which carries the emulator's error, and evaluates it
on a fresh Monte-Carlo sample, which carries the Monte-Carlo error; ``ci_low``/``ci_high``
are the percentiles of the ``B`` index sets.

GP inputs (:class:`GPInputs`): a plain factor enters as its value scaled to [0, 1]. A
categorical factor (a ``[choices.<setting>]`` factor, whose value picks one of n choices in
equal shares) enters as n one-hot columns. The posterior factor, whose value u picks joint
draw floor(u n_draws), enters as the picked draw's leading principal components (of the
standardised draws, enough for :data:`POSTERIOR_VARIANCE_SHARE` of their variance, each
scaled to [0, 1]): as a function of u the outcome jumps from draw to draw, which a GP can
only read as noise, while as a function of the draw's components it is smooth. The
Monte-Carlo sample still draws u (and the categories' values) uniformly and maps them the
same way, so a factor's S1/ST are the indices of its group of input columns moved together.

Validation: every fifth run is held out of a first fit, whose R^2 on them is reported
(``heldout_r2`` in ``noise.csv``); :func:`compare_with_reference` sets the indices beside a
brute-force study's with its 95% intervals, after putting the emulator's indices on the
brute force's footing (its R-replicate means carry noise s^2/R; :func:`on_noisy_footing`).
With ``reuse_kernel`` (``--gp-reuse-kernel``)
the held-out and convergence fits keep the kernel fitted on all runs instead of optimising
their own, which is much cheaper but makes the held-out R^2 mildly optimistic (the held-out
runs helped choose the length scales). Convergence: the GP is refitted on the first
32, 64, ... runs (each a prefix of the Sobol' sequence, itself space-filling) and the indices
recomputed (``convergence.csv``, ``convergence_<outcome>.png``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from SALib.sample import sobol as sobol_sample
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Kernel, Matern, WhiteKernel

from abm.rng import child_seed
from experiments.experiment.definition import draw_axes
from experiments.sensitivity.analysis import (
    CONF_LEVEL,
    INDEX_COLUMNS,
    OutcomeResult,
    _flag_above_dummy,
    noise_summary,
    row_means,
    sobol_estimates,
)
from experiments.sensitivity.design import DUMMY, Study

MC_BASE = 1024  # Saltelli base points of the Monte-Carlo sample on the emulator
MAX_RESAMPLES = 100  # emulator refits for the interval (more adds little, costs refits)
RESTARTS = 2  # optimiser restarts of the GP hyperparameters (default of --gp-restarts)
# share of the standardised posterior draws' variance that the posterior factor's principal
# components must keep: one GP length scale per component, so more components cost fit time
# and need more runs; 0.90 keeps the main axes (12 of 16 for the posterior of e0e8af) while
# dropping the smallest directions, along which a 768-run design cannot resolve an effect
POSTERIOR_VARIANCE_SHARE = 0.90
HOLDOUT_EVERY = 5  # every fifth run is held out of the validation fit
FIRST_CONVERGENCE_RUNS = 32


# --- GP inputs: how each design column is presented to the GP --------------------------------


@dataclass(frozen=True, slots=True)
class InputEncoding:
    """How one design column (scaled to [0, 1]) enters the GP.

    ``kind`` is ``continuous`` (the value itself, one column), ``categorical`` (one-hot over
    the n categories the value picks in equal shares) or ``draws`` (row floor(u n) of
    ``table``: the picked draw's features, e.g. its principal components). ``note`` says
    what the columns are (for ``noise.csv`` and the manifest).
    """

    kind: str = "continuous"
    table: np.ndarray | None = None
    note: str = "value"

    def __post_init__(self) -> None:
        if self.kind not in ("continuous", "categorical", "draws"):
            raise ValueError(f"unknown input encoding {self.kind!r}")
        if self.kind != "continuous":
            table = np.asarray(self.table, dtype=float)
            if table.ndim != 2 or len(table) < 1 or table.shape[1] < 1:
                raise ValueError(f"a {self.kind} encoding needs a 2-d table, got {table.shape}")
            if not np.all(np.isfinite(table)):
                raise ValueError(f"a {self.kind} encoding's table has non-finite values")

    @property
    def width(self) -> int:
        """The number of GP input columns."""
        return 1 if self.table is None else int(np.shape(self.table)[1])

    def encode(self, u: np.ndarray) -> np.ndarray:
        """The GP columns (len(u) x width) of the unit-scaled values ``u``."""
        u = np.asarray(u, dtype=float)
        if self.table is None:
            return u[:, None]
        table = np.asarray(self.table, dtype=float)
        n = len(table)
        pick = np.clip(np.floor(u * n).astype(int), 0, n - 1)  # as Factor.choice / posterior_draw
        return table[pick]


def categorical(n: int) -> InputEncoding:
    """One-hot columns for a factor whose value picks one of ``n`` categories."""
    if n < 1:
        raise ValueError(f"a categorical factor needs at least one category, got {n}")
    return InputEncoding("categorical", np.eye(n), f"one-hot over {n} choices")


def draw_components(
    draws: np.ndarray | Sequence[Sequence[float]], share: float = POSTERIOR_VARIANCE_SHARE
) -> InputEncoding:
    """The leading principal components of standardised ``draws`` (draws x parameters).

    As many components as keep ``share`` of the standardised draws' variance (at least
    one), each scaled to [0, 1] over the draws; row k is draw k's, in the given order (the
    order the factor's value picks from). A parameter constant over the draws adds nothing.
    """
    values = np.asarray(draws, dtype=float)
    if values.ndim != 2 or len(values) < 1 or values.shape[1] < 1:
        raise ValueError(f"draws must be a 2-d array (draws x parameters), got {values.shape}")
    if not 0.0 < share <= 1.0:
        raise ValueError(f"share must be in (0, 1], got {share}")
    if len(values) < 2 or not np.any(values.std(axis=0) > 0):  # nothing to tell apart
        return InputEncoding("draws", np.zeros((len(values), 1)), "one draw: no components")
    z, singular, vt = draw_axes(values)
    explained = np.cumsum(singular**2) / np.sum(singular**2)
    m = int(np.searchsorted(explained, share - 1e-12) + 1)
    m = min(m, int(np.sum(singular > singular[0] * 1e-12)))
    scores = z @ vt[:m].T
    low, high = scores.min(axis=0), scores.max(axis=0)
    scaled = (scores - low) / np.where(high > low, high - low, 1.0)
    note = (
        f"{m} principal components of {values.shape[1]} standardised parameters "
        f"({explained[m - 1]:.1%} of the draws' variance)"
    )
    return InputEncoding("draws", scaled, note)


@dataclass(frozen=True, slots=True)
class EmulatorOptions:
    """GP settings of an emulator study.

    ``restarts``: optimiser restarts of the hyperparameters (``--gp-restarts``);
    ``reuse_kernel``: the held-out and convergence fits keep the kernel fitted on all runs
    (``--gp-reuse-kernel``; held-out R^2 then mildly optimistic); ``encodings``: factor name
    -> :class:`InputEncoding` (factors not named, and the dummy, are continuous).
    """

    restarts: int = RESTARTS
    reuse_kernel: bool = False
    encodings: Mapping[str, InputEncoding] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.restarts, bool) or not isinstance(self.restarts, int):
            raise ValueError(f"restarts must be an integer >= 0, got {self.restarts!r}")
        if self.restarts < 0:
            raise ValueError(f"restarts must be >= 0, got {self.restarts}")

    def inputs(self, study: Study) -> GPInputs:
        """The GP inputs of ``study``'s design columns (its factors and the dummy)."""
        unknown = sorted(set(self.encodings) - set(study.factor_names))
        if unknown:
            raise ValueError(f"encodings for factors not in the study: {', '.join(unknown)}")
        names = [*study.factor_names, DUMMY]
        return GPInputs(tuple(self.encodings.get(n, InputEncoding()) for n in names))


@dataclass(frozen=True, slots=True)
class GPInputs:
    """The GP's input columns: one :class:`InputEncoding` per design column, in order."""

    encodings: tuple[InputEncoding, ...]

    @property
    def width(self) -> int:
        """The number of GP input columns."""
        return sum(e.width for e in self.encodings)

    def features(self, U: np.ndarray) -> np.ndarray:
        """The GP inputs of design rows ``U`` (scaled to the unit cube)."""
        U = np.asarray(U, dtype=float)
        if U.ndim != 2 or U.shape[1] != len(self.encodings):
            raise ValueError(f"U has shape {U.shape}; expected (rows, {len(self.encodings)})")
        if all(e.table is None for e in self.encodings):
            return U
        return np.hstack([e.encode(U[:, k]) for k, e in enumerate(self.encodings)])

    def describe(self, names: Sequence[str]) -> str:
        """The non-plain encodings, ``name: note; ...`` (empty if every column is plain)."""
        return "; ".join(
            f"{n}: {e.note}"
            for n, e in zip(names, self.encodings, strict=True)
            if e.table is not None
        )


def _unit(study: Study, X: np.ndarray) -> np.ndarray:
    """The design scaled to the unit cube (factors and the dummy)."""
    bounds = np.asarray(study.problem()["bounds"], dtype=float)
    return (np.asarray(X, dtype=float) - bounds[:, 0]) / (bounds[:, 1] - bounds[:, 0])


def _kernel(dims: int) -> Kernel:
    return ConstantKernel(1.0, (1e-3, 1e3)) * Matern(
        length_scale=np.full(dims, 0.5), length_scale_bounds=(1e-2, 1e3), nu=2.5
    ) + WhiteKernel(1e-2, (1e-8, 1e1))


def fit_gp(
    X: np.ndarray,
    y: np.ndarray,
    seed: int,
    kernel: Kernel | None = None,
    restarts: int = RESTARTS,
) -> GaussianProcessRegressor:
    """A GP fitted to runs (``X``: GP inputs); a given ``kernel`` is kept as it is."""
    gp = GaussianProcessRegressor(
        kernel=kernel if kernel is not None else _kernel(X.shape[1]),
        normalize_y=True,
        n_restarts_optimizer=0 if kernel is not None else restarts,
        optimizer=None if kernel is not None else "fmin_l_bfgs_b",
        random_state=seed,
    )
    with warnings.catch_warnings():
        # a length scale at its upper bound is the expected fit of a factor without influence
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp.fit(X, y)
    return gp


def _training(
    study: Study, X: np.ndarray, Y: np.ndarray, inputs: GPInputs
) -> tuple[np.ndarray, np.ndarray]:
    """Every finite run as one training point (GP inputs; replicates repeat their point)."""
    U = inputs.features(_unit(study, X))
    reps = Y.shape[1]
    XX = np.repeat(U, reps, axis=0)
    yy = Y.reshape(-1)
    ok = np.isfinite(yy)
    return XX[ok], yy[ok]


def mc_sample(dims: int, base: int, seed: int) -> np.ndarray:
    """A Saltelli sample on the unit cube: ``base`` blocks of (dims + 2) rows."""
    problem = {"num_vars": dims, "names": [f"u{k}" for k in range(dims)], "bounds": [[0, 1]] * dims}
    return np.asarray(sobol_sample.sample(problem, base, calc_second_order=False, seed=seed))


def gp_indices(
    gp: GaussianProcessRegressor, dims: int, base: int, seed: int, inputs: GPInputs | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """S1 and ST of the GP mean over a fresh Saltelli sample of the design columns.

    The sample is drawn over the ``dims`` design columns (unit cube) and mapped to the GP's
    inputs by ``inputs`` (default: the columns themselves), so each index is that of a
    design column, i.e. of all its GP input columns moved together.
    """
    U = mc_sample(dims, base, seed)
    mean = np.asarray(gp.predict(U if inputs is None else inputs.features(U)), dtype=float)
    return sobol_estimates(mean.reshape(base, dims + 2))


def _white_noise(gp: GaussianProcessRegressor) -> float:
    """The fitted noise variance in the output's units."""
    kernel = gp.kernel_
    level = float(kernel.k2.noise_level) if isinstance(kernel.k2, WhiteKernel) else 0.0
    scale = float(np.ravel(gp._y_train_std)[0]) if hasattr(gp, "_y_train_std") else 1.0
    return level * scale**2


def _heldout_r2(
    study: Study,
    X: np.ndarray,
    Y: np.ndarray,
    seed: int,
    inputs: GPInputs,
    options: EmulatorOptions,
    kernel: Kernel | None,
) -> float:
    """R^2 of a fit without every fifth run, on those runs' replicate means.

    ``kernel`` (with ``reuse_kernel``): the fit keeps it instead of optimising its own.
    """
    held = np.arange(len(X)) % HOLDOUT_EVERY == HOLDOUT_EVERY - 1
    if held.sum() < 2:
        return math.nan
    XX, yy = _training(study, X[~held], Y[~held], inputs)
    gp = fit_gp(XX, yy, seed, kernel=kernel, restarts=options.restarts)
    truth = row_means(Y[held])
    ok = np.isfinite(truth)
    pred = gp.predict(inputs.features(_unit(study, X[held][ok])))
    ss_res = float(np.sum((truth[ok] - pred) ** 2))
    ss_tot = float(np.sum((truth[ok] - truth[ok].mean()) ** 2))
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else math.nan


def _convergence(
    study: Study,
    X: np.ndarray,
    Y: np.ndarray,
    outcome: str,
    seed: int,
    inputs: GPInputs,
    options: EmulatorOptions,
    kernel: Kernel | None,
) -> pd.DataFrame:
    """Indices of GPs fitted on the first 32, 64, ... points (the last is all of them).

    ``kernel`` (with ``reuse_kernel``): every fit keeps it instead of optimising its own.
    """
    names = [*study.factor_names, DUMMY]
    sizes = []
    n = FIRST_CONVERGENCE_RUNS
    while n < len(X):
        sizes.append(n)
        n *= 2
    sizes.append(len(X))
    rows = []
    for size in sizes:
        XX, yy = _training(study, X[:size], Y[:size], inputs)
        gp = fit_gp(XX, yy, seed, kernel=kernel, restarts=options.restarts)
        s1, st = gp_indices(
            gp, len(names), MC_BASE, child_seed(study.seed, "sensitivity_analysis"), inputs
        )
        for index, values in (("S1", s1), ("ST", st)):
            for name, value in zip(names, values, strict=True):
                rows.append(
                    {
                        "outcome": outcome,
                        "index": index,
                        "n_runs": size * Y.shape[1],
                        "name": name,
                        "value": float(value),
                    }
                )
    return pd.DataFrame(rows)


def analyse_emulator(
    study: Study,
    X: np.ndarray,
    Y: np.ndarray,
    outcome: str,
    bootstrap: int,
    options: EmulatorOptions | None = None,
) -> OutcomeResult:
    """Emulator-based first- and total-order indices of one outcome, with validation.

    ``options``: GP restarts, kernel reuse and the factors' input encodings (default:
    :class:`EmulatorOptions`, every factor plain).
    """
    options = EmulatorOptions() if options is None else options
    inputs = options.inputs(study)
    Y = np.asarray(Y, dtype=float)
    if Y.ndim == 1:
        Y = Y[:, None]
    noise: dict[str, Any] = noise_summary(Y)
    XX, yy = _training(study, X, Y, inputs)
    if len(yy) < 8 or np.ptp(yy) <= np.finfo(float).eps * max(1.0, float(np.max(np.abs(yy)))):
        return OutcomeResult(outcome, noise=noise, skipped="constant or too few finite runs")
    seed = child_seed(study.seed, "sensitivity_analysis")
    names = [*study.factor_names, DUMMY]
    dims = len(names)
    gp = fit_gp(XX, yy, seed, restarts=options.restarts)
    s1, st = gp_indices(gp, dims, MC_BASE, seed, inputs)
    rng = np.random.default_rng(child_seed(study.seed, "bootstrap"))
    draws_s1, draws_st = [], []
    for b in range(min(max(bootstrap, 0), MAX_RESAMPLES)):
        pick = rng.integers(0, len(yy), len(yy))
        refit = fit_gp(XX[pick], yy[pick], seed, kernel=gp.kernel_)
        b1, bt = gp_indices(refit, dims, MC_BASE, seed + 1 + b, inputs)
        draws_s1.append(b1)
        draws_st.append(bt)
    tail = 100 * (1 - CONF_LEVEL) / 2
    rows = []
    for index, value, draws in (("S1", s1, draws_s1), ("ST", st, draws_st)):
        arr = np.asarray(draws, dtype=float).reshape(-1, dims)
        low = np.percentile(arr, tail, axis=0) if len(arr) else np.full(dims, np.nan)
        high = np.percentile(arr, 100 - tail, axis=0) if len(arr) else np.full(dims, np.nan)
        for k, name in enumerate(names):
            rows.append(
                {
                    "outcome": outcome,
                    "method": "emulator",
                    "level": "factor",
                    "name": name,
                    "index": index,
                    "value": float(value[k]),
                    "ci_low": float(low[k]),
                    "ci_high": float(high[k]),
                    "noise_ci_low": math.nan,
                    "noise_ci_high": math.nan,
                    "joint_ci_low": math.nan,
                    "joint_ci_high": math.nan,
                }
            )
    indices = pd.DataFrame(rows)
    indices["is_dummy"] = indices["name"] == DUMMY
    indices["above_dummy"] = _flag_above_dummy(indices)
    white = _white_noise(gp)
    signal = float(np.var(gp.predict(inputs.features(mc_sample(dims, 256, seed + 7919)))))
    reused = gp.kernel_ if options.reuse_kernel else None
    noise.update(
        {
            "emulator_runs": float(len(yy)),
            "emulator_noise_variance": white,
            "emulator_signal_variance": signal,
            "emulator_noise_share": white / (white + signal) if white + signal > 0 else math.nan,
            "heldout_r2": _heldout_r2(study, X, Y, seed, inputs, options, reused),
            "heldout_r2_kernel": (
                "reused from the fit on all runs (mildly optimistic)"
                if options.reuse_kernel
                else "fitted without the held-out runs"
            ),
            "bootstrap_resamples": float(len(draws_st)),
            "gp_restarts": float(options.restarts),
            "gp_input_columns": float(inputs.width),
            "gp_inputs": inputs.describe(names) or "every factor's value",
            "kernel": str(gp.kernel_),
        }
    )
    convergence = _convergence(study, X, Y, outcome, seed, inputs, options, reused)
    return OutcomeResult(outcome, indices[list(INDEX_COLUMNS)], noise, convergence)


def on_noisy_footing(
    index: str, value: np.ndarray | float, signal: float, noise: float, replicates: float
) -> np.ndarray:
    """An emulator index as a brute-force study of R-replicate means estimates it.

    The emulator's indices are those of the noise-free mean response (variance ``signal`` =
    V). A brute-force Sobol study with independent seeds analyses means of R runs, whose
    variance is V + nu with nu = ``noise`` / R (``noise`` = the GP's fitted white-noise
    variance of one run): its first-order estimator is unbiased for V_i / (V + nu), its
    total-order (Jansen) one for (V_Ti + nu) / (V + nu), since the two runs of each
    difference carry independent noise. So S1 -> S1 V / (V + nu), ST -> (ST V + nu) / (V + nu);
    the dummy's ST becomes nu / (V + nu), the noise share of the means.
    """
    arr = np.asarray(value, dtype=float)
    nu = noise / replicates if replicates > 0 else math.nan
    total = signal + nu
    if not (np.isfinite(total) and total > 0):
        return arr
    if index == "ST":
        return (arr * signal + nu) / total
    return arr * signal / total


def compare_with_reference(
    emulator: pd.DataFrame,
    reference: pd.DataFrame,
    emulator_noise: pd.DataFrame | None = None,
    reference_replicates: float | None = None,
) -> pd.DataFrame:
    """Emulator indices beside a brute-force study's, with whether each lies in its interval.

    The brute-force interval is its joint (points and replicates) bootstrap interval where
    it has one, else its design interval. With ``emulator_noise`` (the emulator study's
    ``noise.csv``: ``emulator_signal_variance``, ``emulator_noise_variance`` per outcome)
    and the reference's replicates R, the emulator's estimate and interval are first put on
    the brute force's footing (:func:`on_noisy_footing`: the noise s^2/R its means carry);
    ``emulator`` keeps the noise-free value, ``emulator_comparable`` the corrected one, and
    ``inside`` is true when the comparable value lies within the brute-force interval.
    """
    ref = reference.copy()
    if "joint_ci_low" in ref and ref["joint_ci_low"].notna().any():
        ref["ref_low"] = ref["joint_ci_low"].fillna(ref["ci_low"])
        ref["ref_high"] = ref["joint_ci_high"].fillna(ref["ci_high"])
    else:
        ref["ref_low"], ref["ref_high"] = ref["ci_low"], ref["ci_high"]
    left = emulator[["outcome", "name", "index", "value", "ci_low", "ci_high"]].rename(
        columns={"value": "emulator", "ci_low": "emulator_low", "ci_high": "emulator_high"}
    )
    for col in ("emulator", "emulator_low", "emulator_high"):
        left[col.replace("emulator", "emulator_comparable")] = left[col]
    left["noise_share_of_means"] = math.nan
    wanted = {"outcome", "emulator_signal_variance", "emulator_noise_variance"}
    if emulator_noise is not None and reference_replicates and wanted <= set(emulator_noise):
        signals = dict(
            zip(emulator_noise["outcome"], emulator_noise["emulator_signal_variance"], strict=True)
        )
        whites = dict(
            zip(emulator_noise["outcome"], emulator_noise["emulator_noise_variance"], strict=True)
        )
        for (outcome, index), rows in left.groupby(["outcome", "index"]):
            if outcome not in signals:
                continue
            signal, white = float(signals[outcome]), float(whites[outcome])
            nu = white / reference_replicates
            for col in ("emulator", "emulator_low", "emulator_high"):
                left.loc[rows.index, col.replace("emulator", "emulator_comparable")] = (
                    on_noisy_footing(
                        str(index), rows[col].to_numpy(), signal, white, reference_replicates
                    )
                )
            left.loc[rows.index, "noise_share_of_means"] = (
                nu / (signal + nu) if signal + nu > 0 else math.nan
            )
    right = ref[["outcome", "name", "index", "value", "ref_low", "ref_high"]].rename(
        columns={
            "value": "brute_force",
            "ref_low": "brute_force_low",
            "ref_high": "brute_force_high",
        }
    )
    out = left.merge(right, on=["outcome", "name", "index"], how="inner", validate="one_to_one")
    out["inside"] = (out["emulator_comparable"] >= out["brute_force_low"]) & (
        out["emulator_comparable"] <= out["brute_force_high"]
    )
    return out
