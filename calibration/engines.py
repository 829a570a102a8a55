"""Reference tables, the two calibration engines on one budget, and their coverage test.

- :func:`simulate_table` draws parameter sets from the (uniform) prior and simulates one drawn
  survey per set (respondent bias shared across a respondent's items, the real n per item)
  with the dynamic patterns: the reference table both engines learn from.
- NPE (:mod:`calibration.npe`) trains on the table; ABC in its amortised form (rejection on
  the same table, the nearest ``ABC_ACCEPT_SHARE`` by the summed deviance) gives the ABC
  posterior of any survey from the same simulations. ABC-SMC proper (:mod:`calibration.smc`)
  is run on the real survey with the same number of simulations for the posterior agreement.
- :func:`coverage` holds ``spec.coverage_surveys`` simulated surveys out of training: their
  true parameters are known, so the share of them inside each engine's 50% and 90% posterior
  intervals is the empirical coverage (a calibrated engine gives 0.5 and 0.9), and the rank of
  each truth among posterior draws is simulation-based calibration (Talts et al. 2018).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from abm.rng import generator, parameter_seed
from calibration.distance import PSEUDO_COUNT, aligned_shares
from calibration.npe import EnsembleNPE, observed_vector, summary_vector
from calibration.npe_flow import FlowNPE
from calibration.smc import CalibrationSpec, SurveySimulator
from calibration.targets import TargetSet

ABC_ACCEPT_SHARE = 0.02  # rejection ABC keeps this share of the table nearest the survey
IDENTIFIED_CONTRACTION = 0.5  # identified: posterior variance below half the prior's on average
SBC_DRAWS = 99  # posterior draws per synthetic survey for the rank statistic
COVERAGE_LEVELS = (0.5, 0.9)


@dataclass(frozen=True)
class Table:
    """Simulated (theta, survey) pairs: parameters, each item's shares, and the cost."""

    theta: pd.DataFrame  # one column per calibrated parameter
    shares: list[dict[str, np.ndarray]]
    wall_s: float

    def summaries(self, targets: TargetSet) -> np.ndarray:
        """(simulations, features) summary vectors over ``targets``."""
        return np.array([summary_vector(s, targets) for s in self.shares])

    def item_shares(self, targets: TargetSet) -> dict[str, np.ndarray]:
        """Per target: (simulations, K) shares in the target's category order."""
        return {
            tid: np.array([aligned_shares(t, s[tid]) for s in self.shares])
            for tid, t in targets.items()
        }


class PosteriorEstimator(Protocol):
    """An amortised posterior: draws and marginal quantiles for any survey summary."""

    names: tuple[str, ...]

    def sample(self, x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws (bounded coordinates) for one summary vector."""
        ...

    def marginal_quantiles(self, x: np.ndarray, qs: Sequence[float]) -> np.ndarray:
        """(rows, len(qs), parameters) marginal quantiles for each summary row."""
        ...


def _one(simulator: SurveySimulator, theta: Mapping[str, float]) -> dict[str, np.ndarray]:
    return simulator.simulate(theta, parameter_seed(dict(theta)))


def prior_draws(spec: CalibrationSpec, n: int, purpose: str) -> pd.DataFrame:
    """``n`` parameter sets from the uniform priors (reproducible from the spec's seed)."""
    rng = generator(spec.seed, purpose)
    priors = spec.priors()
    return pd.DataFrame(
        {name: rng.uniform(lo, hi, n) for name, (lo, hi) in priors.items()},
        columns=list(spec.parameters),
    )


def simulate_table(simulator: SurveySimulator, theta: pd.DataFrame, jobs: int = 1) -> Table:
    """One drawn survey per parameter row (local processes when ``jobs`` > 1)."""
    rows = [{str(n): float(v) for n, v in r.items()} for r in theta.to_dict("records")]
    started = time.perf_counter()
    if jobs > 1:
        from joblib import Parallel, delayed

        shares = Parallel(n_jobs=jobs, batch_size=32)(delayed(_one)(simulator, r) for r in rows)
    else:
        shares = [_one(simulator, r) for r in rows]
    return Table(theta.reset_index(drop=True), list(shares), time.perf_counter() - started)


def train_npe(spec: CalibrationSpec, table: Table, fit: TargetSet) -> EnsembleNPE:
    """The NPE (a deep ensemble of Gaussian NPEs, :class:`EnsembleNPE`) trained on the table,
    its interval widths recalibrated on the table's last ``npe.RECALIBRATION_SHARE``."""
    lo, hi = (np.array([spec.priors()[n][k] for n in spec.parameters]) for k in (0, 1))
    return EnsembleNPE(tuple(spec.parameters), lo, hi, seed=spec.seed, recalibrate=True).fit(
        table.theta[list(spec.parameters)].to_numpy(), _finite_summaries(table, fit)
    )


def _finite_summaries(table: Table, fit: TargetSet) -> np.ndarray:
    """The table's summary vectors; ValueError if a simulated survey has an empty item."""
    x = table.summaries(fit)
    ok = np.all(np.isfinite(x), axis=1)
    if not ok.all():
        raise ValueError(
            f"{int((~ok).sum())} of {len(ok)} simulated surveys have non-finite shares "
            "(an item with no respondents); the reference table cannot be used"
        )
    return x


def train_npe_flow(spec: CalibrationSpec, table: Table, fit: TargetSet) -> FlowNPE:
    """The BayesFlow coupling-flow NPE trained on the same table (optional extra ``npe``)."""
    lo, hi = (np.array([spec.priors()[n][k] for n in spec.parameters]) for k in (0, 1))
    return FlowNPE(tuple(spec.parameters), lo, hi, seed=spec.seed).fit(
        table.theta[list(spec.parameters)].to_numpy(), _finite_summaries(table, fit)
    )


def npe_posterior(
    npe: PosteriorEstimator, fit: TargetSet, n: int, rng: np.random.Generator
) -> pd.DataFrame:
    """``n`` equally weighted NPE draws for the real surveys (columns: parameters, weight)."""
    draws = pd.DataFrame(npe.sample(observed_vector(fit), n, rng), columns=list(npe.names))
    draws["weight"] = 1.0 / n
    return draws


def table_deviance(
    fit: TargetSet, observed: Mapping[str, np.ndarray], sims: Mapping[str, np.ndarray]
) -> np.ndarray:
    """Summed deviance G of every simulation in a table against one survey's shares."""
    total = np.zeros(next(iter(sims.values())).shape[0])
    for tid, target in fit.items():
        n = float(target.n)
        obs = np.asarray(observed[tid], dtype=float)
        e_share = sims[tid]
        if target.kind == "multi_select":
            for k in range(obs.size):
                o = n * np.array([obs[k], 1.0 - obs[k]])
                e = np.stack([e_share[:, k], 1.0 - e_share[:, k]], axis=1)
                e = (n * e + PSEUDO_COUNT) * n / (n + 2 * PSEUDO_COUNT)
                mask = o > 0
                total += 2.0 * np.sum(o[mask] * np.log(o[mask] / e[:, mask]), axis=1)
            continue
        k = obs.size
        o = n * obs
        p = e_share / np.maximum(e_share.sum(axis=1, keepdims=True), 1e-12)
        e = (n * p + PSEUDO_COUNT) * n / (n + k * PSEUDO_COUNT)
        mask = o > 0
        total += 2.0 * np.sum(o[mask] * np.log(o[mask] / e[:, mask]), axis=1)
    return total


def abc_rejection(
    fit: TargetSet, observed: Mapping[str, np.ndarray], table: Table, sims: Mapping[str, np.ndarray]
) -> pd.DataFrame:
    """Rejection-ABC posterior: the table's parameter rows nearest the survey."""
    dist = table_deviance(fit, observed, sims)
    keep = max(int(ABC_ACCEPT_SHARE * len(dist)), 10)
    idx = np.argsort(dist)[:keep]
    return table.theta.iloc[idx].reset_index(drop=True)


def coverage(
    spec: CalibrationSpec,
    train: Table,
    test: Table,
    fit: TargetSet,
    npe: PosteriorEstimator | None = None,
    others: Mapping[str, PosteriorEstimator] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(coverage per engine and parameter, SBC ranks per test survey) on held-out simulations.

    ``npe`` trained on ``train`` is used when given (else the Gaussian NPE is trained here);
    when it is a recalibrated :class:`EnsembleNPE`, its raw mixture is tested beside it as
    ``npe_raw``; ``others`` adds estimators trained on the same table (e.g.
    ``{"npe_flow": FlowNPE}``), and rejection ABC on the same table is always included.
    """
    names = list(spec.parameters)
    default = npe or train_npe(spec, train, fit)
    estimators: dict[str, PosteriorEstimator] = {"npe": default}
    if isinstance(default, EnsembleNPE) and default.recalibration is not None:
        estimators["npe_raw"] = default.raw()
    estimators.update(others or {})
    x_test = test.summaries(fit)
    truth = test.theta[names].to_numpy()
    lo = np.array([spec.priors()[n][0] for n in names])
    hi = np.array([spec.priors()[n][1] for n in names])
    prior_var = (hi - lo) ** 2 / 12.0
    qs = [0.05, 0.25, 0.5, 0.75, 0.95]
    rng = generator(spec.seed, "sbc")
    ranks: list[dict[str, object]] = []
    summaries: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def rank_rows(engine: str, j: int, draws: np.ndarray) -> None:
        for k, name in enumerate(names):
            ranks.append(
                {
                    "engine": engine,
                    "survey": j,
                    "parameter": name,
                    "rank": int(np.sum(draws[:, k] < truth[j, k])),
                }
            )

    for engine, est in estimators.items():
        q = est.marginal_quantiles(x_test, qs)  # (tests, 5, d)
        var = np.zeros((len(truth), len(names)))
        for j in range(len(truth)):
            draws = est.sample(x_test[j : j + 1], SBC_DRAWS, rng)
            var[j] = draws.var(axis=0)
            rank_rows(engine, j, draws)
        summaries[engine] = (q, var)
    sims = train.item_shares(fit)
    test_shares = test.item_shares(fit)
    abc_q = np.zeros((len(truth), len(qs), len(names)))
    abc_var = np.zeros((len(truth), len(names)))
    for j in range(len(truth)):
        post = abc_rejection(fit, {t: v[j] for t, v in test_shares.items()}, train, sims)
        values = post[names].to_numpy()
        abc_q[j] = np.quantile(values, qs, axis=0)
        abc_var[j] = values.var(axis=0)
        rank_rows("abc_rejection", j, values[rng.integers(0, len(values), SBC_DRAWS)])
    summaries["abc_rejection"] = (abc_q, abc_var)
    rows = []
    for engine, (q, var) in summaries.items():
        contraction = 1.0 - var.mean(axis=0) / prior_var
        for k, name in enumerate(names):
            inside50 = (truth[:, k] >= q[:, 1, k]) & (truth[:, k] <= q[:, 3, k])
            inside90 = (truth[:, k] >= q[:, 0, k]) & (truth[:, k] <= q[:, 4, k])
            rows.append(
                {
                    "engine": engine,
                    "parameter": name,
                    "n_surveys": len(truth),
                    "coverage_50": float(inside50.mean()),
                    "coverage_90": float(inside90.mean()),
                    "contraction": float(contraction[k]),
                    "identified": bool(contraction[k] >= IDENTIFIED_CONTRACTION),
                    "rmse_median_share_of_range": float(
                        np.sqrt(np.mean((q[:, 2, k] - truth[:, k]) ** 2)) / (hi[k] - lo[k])
                    ),
                }
            )
    return pd.DataFrame(rows), pd.DataFrame(ranks)


def agreement(
    a: pd.DataFrame, b: pd.DataFrame, names: Sequence[str], labels: tuple[str, str]
) -> pd.DataFrame:
    """Per parameter: both engines' medians and 90% intervals, the shift and the overlap."""
    from calibration.smc import weighted_quantiles

    rows = []
    for name in names:
        qa = weighted_quantiles(a[name].to_numpy(), a["weight"].to_numpy(), [0.05, 0.5, 0.95])
        qb = weighted_quantiles(b[name].to_numpy(), b["weight"].to_numpy(), [0.05, 0.5, 0.95])
        width = max(qa[2] - qa[0], 1e-12)
        overlap = max(0.0, min(qa[2], qb[2]) - max(qa[0], qb[0]))
        union = max(qa[2], qb[2]) - min(qa[0], qb[0])
        rows.append(
            {
                "parameter": name,
                f"{labels[0]}_median": qa[1],
                f"{labels[0]}_q05": qa[0],
                f"{labels[0]}_q95": qa[2],
                f"{labels[1]}_median": qb[1],
                f"{labels[1]}_q05": qb[0],
                f"{labels[1]}_q95": qb[2],
                "median_shift_of_width": abs(qa[1] - qb[1]) / width,
                "interval_overlap": overlap / max(union, 1e-12),
            }
        )
    return pd.DataFrame(rows)
