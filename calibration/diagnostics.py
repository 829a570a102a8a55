"""Calibration diagnostics: posterior predictive checks, fit table, and figures (PNG + CSV).

Posterior predictive replicate of a survey: draw a parameter set from the posterior, simulate
the cities to the survey date (own seed), take each item's expected answer shares and draw a
sample of the item's size ``n`` from them (multinomial; binomial per multi-select option). The
90% predictive interval of every observed share and item summary comes from these replicates,
so it carries parameter uncertainty, model stochasticity and the survey's sampling noise.

Item summary (``observed_mean``): the mean rating (1-5) for Likert items, else the share of the
item's first category. ``within_interval``: the observed summary lies in its 90% predictive
interval.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from abm.rng import parameter_seed
from calibration.distance import aligned_shares, degrees_of_freedom, deviance
from calibration.smc import SurveySimulator, weighted_quantiles
from calibration.targets import Target, TargetSet

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
PPC_REPLICATES_PER_DRAW = 20


@dataclass(frozen=True)
class PredictiveDraws:
    """Expected shares per item of each posterior draw, and sampled survey replicates."""

    expected: dict[str, np.ndarray]  # item -> (draws, K) expected shares (target order)
    replicates: dict[str, np.ndarray]  # item -> (draws * reps, K) replicate observed shares


def simulate_draws(
    simulator: SurveySimulator,
    draws: pd.DataFrame,
    targets: TargetSet,
    rng: np.random.Generator,
    replicates_per_draw: int = PPC_REPLICATES_PER_DRAW,
) -> PredictiveDraws:
    """Run the model once per posterior draw; sample replicate surveys of each target's n."""
    expected: dict[str, list[np.ndarray]] = {t: [] for t in targets}
    reps: dict[str, list[np.ndarray]] = {t: [] for t in targets}
    for _, row in draws.iterrows():
        theta = {n: float(row[n]) for n in simulator.names}
        shares = simulator.simulate(theta, parameter_seed(theta, replicate=1))
        for tid, target in targets.items():
            p = np.clip(aligned_shares(target, shares[tid]), 0.0, 1.0)
            expected[tid].append(p)
            reps[tid].append(sample_survey(target, p, rng, replicates_per_draw))
    return PredictiveDraws(
        {t: np.array(v) for t, v in expected.items()},
        {t: np.concatenate(v) for t, v in reps.items()},
    )


def sample_survey(target: Target, p: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """``size`` replicate observed shares of an item answered by ``target.n`` respondents."""
    if target.kind == "multi_select":
        return rng.binomial(target.n, p, size=(size, p.size)) / target.n
    probs = p / p.sum()
    return rng.multinomial(target.n, probs, size=size) / target.n


def summary_statistic(target: Target, shares: np.ndarray) -> np.ndarray:
    """Mean rating (1..5) for Likert items, else the first category's share (last axis)."""
    shares = np.asarray(shares, dtype=float)
    if target.kind == "likert":
        return shares @ np.arange(1, shares.shape[-1] + 1)
    return shares[..., 0]


def fit_tables(
    targets: TargetSet, roles: Mapping[str, str], pred: PredictiveDraws
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(fit table per item, predictive-check table per item and category)."""
    rows, ppc = [], []
    for tid, target in targets.items():
        reps = pred.replicates[tid]
        mean_expected = pred.expected[tid].mean(axis=0)
        lo, hi = np.quantile(reps, [0.05, 0.95], axis=0)
        observed = np.asarray(target.shares, dtype=float)
        inside = (observed >= lo - 1e-12) & (observed <= hi + 1e-12)
        for k, label in enumerate(target.categories):
            ppc.append(
                {
                    "item": tid,
                    "category": label,
                    "observed_share": observed[k],
                    "sim_mean": reps[:, k].mean(),
                    "sim_q05": lo[k],
                    "sim_q95": hi[k],
                    "within": bool(inside[k]),
                    "role": roles[tid],
                }
            )
        stat_obs = float(summary_statistic(target, observed))
        stat_sim = summary_statistic(target, reps)
        q05, q95 = np.quantile(stat_sim, [0.05, 0.95])
        rows.append(
            {
                "item": tid,
                "instrument": target.instrument,
                "role": roles[tid],
                "kind": target.kind,
                "n": target.n,
                "distance": deviance(target, mean_expected),
                "df": degrees_of_freedom(target),
                "statistic": "mean rating" if target.kind == "likert" else "first category share",
                "observed_mean": stat_obs,
                "simulated_mean": float(stat_sim.mean()),
                "q05": float(q05),
                "q95": float(q95),
                "within_interval": bool(q05 <= stat_obs <= q95),
                "categories_within": f"{int(inside.sum())}/{inside.size}",
            }
        )
    return pd.DataFrame(rows), pd.DataFrame(ppc)


def deviance_reference(
    sampled: SurveySimulator,
    draws: pd.DataFrame,
    fit: TargetSet,
    pred: PredictiveDraws,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """Goodness of fit with honest degrees of freedom and a respondent-aware reference.

    The summed deviance of the fitted targets against the posterior-mean expected shares is read
    against chi-squared on (item df - calibrated parameters) df, and against the deviances of
    drawn surveys (``sampled``: respondents share a bias across items, so their answers are
    correlated) from each posterior draw's own expected shares: the share of those at least as
    large is a p-value that does not assume independent items.
    """
    from scipy.stats import chi2

    observed = float(sum(deviance(t, pred.expected[tid].mean(axis=0)) for tid, t in fit.items()))
    df_items = int(sum(degrees_of_freedom(t) for t in fit.values()))
    k = len([c for c in draws.columns if c != "weight"])
    df = max(df_items - k, 1)
    reference = []
    for j, (_, row) in enumerate(draws.iterrows()):
        theta = {n: float(row[n]) for n in sampled.names}
        drawn = sampled.simulate(theta, parameter_seed(theta, replicate=2))
        total = 0.0
        for tid, target in fit.items():
            fake = dataclasses.replace(target, shares=aligned_shares(target, drawn[tid]))
            total += deviance(fake, pred.expected[tid][j])
        reference.append(total)
    ref = np.asarray(reference)
    return {
        "deviance": observed,
        "df_items": df_items,
        "df": df,
        "p_chi2": float(chi2.sf(observed, df)),
        "reference_mean": float(ref.mean()) if ref.size else float("nan"),
        "reference_q95": float(np.quantile(ref, 0.95)) if ref.size else float("nan"),
        "p_simulated": float(np.mean(ref >= observed)) if ref.size else float("nan"),
        "reference_draws": int(ref.size),
    }


def plot_coverage(cov: pd.DataFrame, ranks: pd.DataFrame, path: Path, n_draws: int) -> None:
    """Empirical 50%/90% coverage per parameter and engine, and the SBC rank histograms."""
    engines = list(dict.fromkeys(cov["engine"]))
    names = list(dict.fromkeys(cov["parameter"]))
    fig, axes = plt.subplots(1, 2, figsize=(13, 0.35 * len(names) + 2.0))
    y = np.arange(len(names))
    for e, engine in enumerate(engines):
        part = cov[cov["engine"] == engine].set_index("parameter").loc[names]
        off = (e - (len(engines) - 1) / 2) * 0.25
        for ax, col, nominal in ((axes[0], "coverage_90", 0.9), (axes[0], "coverage_50", 0.5)):
            marker = "o" if col == "coverage_90" else "s"
            ax.scatter(
                part[col],
                y + off,
                color=OKABE_ITO[e],
                marker=marker,
                s=18,
                label=f"{engine} {col[-2:]}%",
            )
            ax.axvline(nominal, color="#888888", lw=0.8)
    axes[0].axvspan(0.85, 0.95, color="#DDDDDD", zorder=0)
    axes[0].set_yticks(y)
    axes[0].set_yticklabels(
        [
            f"{n}{'' if bool(cov[(cov.parameter == n)]['identified'].iloc[0]) else ' (weak)'}"
            for n in names
        ],
        fontsize=7,
    )
    axes[0].set_xlim(0, 1)
    axes[0].set_xlabel("empirical coverage (grey band: 90% target 0.85-0.95)")
    axes[0].legend(fontsize=7, loc="lower left")
    bins = np.linspace(-0.5, n_draws + 0.5, 11)
    for e, engine in enumerate(engines):
        part = ranks[ranks["engine"] == engine]
        axes[1].hist(
            part["rank"], bins=bins, histtype="step", color=OKABE_ITO[e], label=engine, density=True
        )
    axes[1].axhline(1.0 / (n_draws + 1), color="#888888", lw=0.8)
    axes[1].set_xlabel(
        f"SBC rank of the true value among {n_draws} posterior draws (all parameters)"
    )
    axes[1].legend(fontsize=7)
    n = int(cov["n_surveys"].iloc[0])
    fig.suptitle(f"Coverage test on {n} synthetic surveys from known parameters", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def add_not_modelled(fit_table: pd.DataFrame, targets: TargetSet) -> pd.DataFrame:
    """Append the targets the model does not answer, with the reason, to the fit table."""
    from abm.survey import NOT_ANSWERED

    extra = [
        {
            "item": tid,
            "instrument": t.instrument,
            "role": "not_modelled",
            "kind": t.kind,
            "n": t.n,
            "within_interval": False,
            "reason": NOT_ANSWERED.get(tid, ""),
        }
        for tid, t in targets.items()
        if tid not in set(fit_table["item"])
    ]
    table = fit_table.assign(reason="")
    return pd.concat([table, pd.DataFrame(extra)], ignore_index=True)


# ---------------------------------------------------------------------------------------------
def plot_marginals(
    posterior: pd.DataFrame,
    priors: Mapping[str, tuple[float, float]],
    units: Mapping[str, str],
    path: Path,
    run_id: str,
) -> None:
    """Weighted posterior histogram per parameter over its prior range."""
    names = list(priors)
    ncol = 4
    nrow = int(np.ceil(len(names) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.2 * ncol, 2.4 * nrow), squeeze=False)
    w = posterior["weight"].to_numpy()
    for ax, name in zip(axes.flat, names, strict=False):
        lo, hi = priors[name]
        ax.hist(posterior[name], bins=20, range=(lo, hi), weights=w, color=OKABE_ITO[0])
        med = weighted_quantiles(posterior[name].to_numpy(), w, [0.5])[0]
        ax.axvline(med, color=OKABE_ITO[3], lw=1.5, label="median")
        ax.set_xlim(lo, hi)
        ax.set_title(name, fontsize=8)
        ax.set_xlabel(units.get(name, ""), fontsize=7)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    fig.suptitle(f"Posterior marginals (x-axis = prior range) - run {run_id}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_pairs(posterior: pd.DataFrame, names: Sequence[str], path: Path, run_id: str) -> None:
    """Pair plot of the weighted particles (marker area ~ weight)."""
    k = len(names)
    fig, axes = plt.subplots(k, k, figsize=(1.35 * k, 1.35 * k), squeeze=False)
    w = posterior["weight"].to_numpy()
    size = 2 + 400 * w / w.max() / max(len(w) / 50, 1)
    for i, yi in enumerate(names):
        for j, xj in enumerate(names):
            ax = axes[i, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j > i:
                ax.axis("off")
            elif i == j:
                ax.hist(posterior[xj], bins=15, weights=w, color=OKABE_ITO[0])
            else:
                ax.scatter(posterior[xj], posterior[yi], s=size, alpha=0.4, color=OKABE_ITO[0])
            if i == k - 1:
                ax.set_xlabel(xj, fontsize=5, rotation=60, ha="right")
            if j == 0:
                ax.set_ylabel(yi, fontsize=5, rotation=0, ha="right")
    fig.suptitle(f"Posterior pairs - run {run_id}", fontsize=9)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def plot_traces(generations: pd.DataFrame, path: Path, run_id: str) -> None:
    """Epsilon and effective sample size per generation."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3))
    a.plot(generations["generation"], generations["epsilon"], "o-", color=OKABE_ITO[0])
    a.set_yscale("log")
    a.set_xlabel("generation")
    a.set_ylabel("epsilon (summed deviance G)")
    b.plot(generations["generation"], generations["ess"], "o-", color=OKABE_ITO[2])
    b.set_xlabel("generation")
    b.set_ylabel("effective sample size (particles)")
    b.set_ylim(bottom=0)
    fig.suptitle(f"ABC-SMC convergence - run {run_id}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_ppc(ppc: pd.DataFrame, fit: pd.DataFrame, path: Path, run_id: str, title: str) -> None:
    """Observed share per category against the 90% predictive interval, one panel per item."""
    items = list(dict.fromkeys(ppc["item"]))
    ncol = 5
    nrow = max(int(np.ceil(len(items) / ncol)), 1)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.0 * ncol, 2.3 * nrow), squeeze=False)
    for ax, item in zip(axes.flat, items, strict=False):
        rows = ppc[ppc["item"] == item]
        x = np.arange(len(rows))
        ax.bar(x, rows["sim_q95"] - rows["sim_q05"], bottom=rows["sim_q05"], color="#BBBBBB")
        ax.plot(x, rows["sim_mean"], "_", color=OKABE_ITO[0], ms=12, mew=2)
        colours = [OKABE_ITO[2] if w else OKABE_ITO[3] for w in rows["within"]]
        ax.scatter(x, rows["observed_share"], color=colours, zorder=3, s=18)
        ok = bool(fit.loc[fit["item"] == item, "within_interval"].iloc[0])
        ax.set_title(("" if ok else "[outside] ") + item, fontsize=7)
        ax.set_xticks(x)
        ax.set_xticklabels([str(c)[:10] for c in rows["category"]], fontsize=5, rotation=45)
        ax.set_ylim(0, 1)
        ax.tick_params(axis="y", labelsize=6)
    for ax in list(axes.flat)[len(items) :]:
        ax.axis("off")
    fig.suptitle(
        f"{title}: observed share (dot; red = outside) vs 90% predictive interval (grey) "
        f"- run {run_id}",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
