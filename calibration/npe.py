"""Neural posterior estimation (NPE): an amortised posterior learnt from simulations.

A small multilayer perceptron maps a survey's summary vector ``x`` (each fitted item's answer
shares, :func:`summary_vector`) to a full-covariance Gaussian over the calibrated parameters in
unbounded coordinates ``t = logit((theta - low) / (high - low))``, trained by maximum likelihood
on (theta, x) pairs simulated from the prior (Papamakarios and Murray 2016; Greenberg et al.
2019, "NPE-A/C" with a single Gaussian). Being amortised, one trained estimator gives the
posterior of any survey in milliseconds: the real one, bootstrap replicates, and the hundreds
of synthetic surveys of the coverage test (:mod:`calibration.coverage`).

Written with numpy only (manual gradients, Adam), so it adds no install weight: the ``sbi``
package needs PyTorch (several GB from PyPI for Python 3.12) and BayesFlow needs JAX (about
600 MB). The Gaussian head is parameterised by the Cholesky factor ``U`` of the precision,
``P = U U^T`` (lower triangular, positive diagonal ``exp(s)``), so the negative log-likelihood
``1/2 |U^T (t - mu)|^2 - sum s`` and its gradients need no matrix inverse.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from calibration.distance import aligned_shares
from calibration.targets import TargetSet

HIDDEN = (64, 64)  # hidden layer widths
LEARNING_RATE = 2e-3
BATCH = 128
MAX_EPOCHS = 400
PATIENCE = 30  # epochs without validation improvement before stopping
VALIDATION_SHARE = 0.1
WEIGHT_DECAY = 1e-4
EDGE = 1e-4  # theta is kept this share of the range inside its bounds before the logit


def summary_vector(shares: Mapping[str, np.ndarray], targets: TargetSet) -> np.ndarray:
    """The fitted items' shares in target order, the last category of a distribution dropped."""
    parts = []
    for tid, target in targets.items():
        p = aligned_shares(target, shares[tid])
        parts.append(p if target.kind == "multi_select" else p[:-1])
    return np.concatenate(parts)


def observed_vector(targets: TargetSet) -> np.ndarray:
    """The real surveys' summary vector."""
    parts = []
    for target in targets.values():
        p = np.asarray(target.shares, dtype=float)
        parts.append(p if target.kind == "multi_select" else p[:-1])
    return np.concatenate(parts)


def to_unbounded(theta: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """logit of the position of theta within its prior range."""
    u = np.clip((theta - low) / (high - low), EDGE, 1.0 - EDGE)
    return np.asarray(np.log(u) - np.log1p(-u))


def to_bounded(t: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_unbounded`."""
    return np.asarray(low + (high - low) / (1.0 + np.exp(-t)))


def _tril(d: int) -> tuple[np.ndarray, np.ndarray]:
    return np.tril_indices(d, -1)


@dataclass
class GaussianNPE:
    """Amortised Gaussian posterior ``q(theta | x)``; :meth:`fit`, then :meth:`sample`."""

    names: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray
    seed: int = 0
    weights: list[np.ndarray] = field(default_factory=list)
    biases: list[np.ndarray] = field(default_factory=list)
    x_mean: np.ndarray = field(default_factory=lambda: np.zeros(0))
    x_sd: np.ndarray = field(default_factory=lambda: np.ones(0))
    history: list[float] = field(default_factory=list)  # validation loss per epoch

    @property
    def dim(self) -> int:
        """Number of parameters."""
        return len(self.names)

    def _init(self, n_in: int, rng: np.random.Generator) -> None:
        d = self.dim
        n_out = 2 * d + d * (d - 1) // 2
        sizes = [n_in, *HIDDEN, n_out]
        self.weights = [
            rng.normal(0.0, np.sqrt(1.0 / a), (a, b)) for a, b in itertools.pairwise(sizes)
        ]
        self.weights[-1] *= 0.1
        self.biases = [np.zeros(b) for b in sizes[1:]]

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        h = x
        acts = [h]
        for w, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            h = np.tanh(h @ w + b)
            acts.append(h)
        out = h @ self.weights[-1] + self.biases[-1]
        return out, acts

    def _heads(self, out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mu, U) from the network output (U: lower-triangular precision Cholesky)."""
        d = self.dim
        mu = out[:, :d]
        s = np.clip(out[:, d : 2 * d], -7.0, 7.0)
        u = np.zeros((out.shape[0], d, d))
        i, j = _tril(d)
        u[:, i, j] = out[:, 2 * d :]
        u[:, np.arange(d), np.arange(d)] = np.exp(s)
        return mu, u

    def _loss_grad(
        self, x: np.ndarray, t: np.ndarray
    ) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
        """Mean negative log-likelihood and its gradients (weights, biases)."""
        d = self.dim
        out, acts = self._forward(x)
        mu, u = self._heads(out)
        r = t - mu
        v = np.einsum("nij,ni->nj", u, r)  # U^T r
        diag = np.log(u[:, np.arange(d), np.arange(d)])
        nll = 0.5 * np.sum(v**2, axis=1) - diag.sum(axis=1)
        n = x.shape[0]
        g_r = np.einsum("nij,nj->ni", u, v)  # d nll / d r = U v
        g_u = r[:, :, None] * v[:, None, :]  # d nll / d U_ij = r_i v_j
        g_out = np.zeros_like(out)
        g_out[:, :d] = -g_r
        diag_u = u[:, np.arange(d), np.arange(d)]
        g_out[:, d : 2 * d] = g_u[:, np.arange(d), np.arange(d)] * diag_u - 1.0
        i, j = _tril(d)
        g_out[:, 2 * d :] = g_u[:, i, j]
        g_out /= n
        gw: list[np.ndarray] = []
        gb: list[np.ndarray] = []
        g = g_out
        for layer in range(len(self.weights) - 1, -1, -1):
            gw.insert(0, acts[layer].T @ g + WEIGHT_DECAY * self.weights[layer])
            gb.insert(0, g.sum(axis=0))
            if layer > 0:
                g = (g @ self.weights[layer].T) * (1.0 - acts[layer] ** 2)
        return float(nll.mean()), gw, gb

    def _loss(self, x: np.ndarray, t: np.ndarray) -> float:
        out, _ = self._forward(x)
        mu, u = self._heads(out)
        v = np.einsum("nij,ni->nj", u, t - mu)
        diag = np.log(u[:, np.arange(self.dim), np.arange(self.dim)])
        return float(np.mean(0.5 * np.sum(v**2, axis=1) - diag.sum(axis=1)))

    def fit(self, theta: np.ndarray, x: np.ndarray) -> GaussianNPE:
        """Train on simulated pairs (rows of ``theta`` in ``names`` order, summaries ``x``)."""
        rng = np.random.default_rng(self.seed)
        t = to_unbounded(np.asarray(theta, dtype=float), self.low, self.high)
        x = np.asarray(x, dtype=float)
        self.x_mean = x.mean(axis=0)
        self.x_sd = np.where(x.std(axis=0) > 1e-9, x.std(axis=0), 1.0)
        z = (x - self.x_mean) / self.x_sd
        order = rng.permutation(len(z))
        n_val = max(int(VALIDATION_SHARE * len(z)), 1)
        val, train = order[:n_val], order[n_val:]
        self._init(z.shape[1], rng)
        params = [*self.weights, *self.biases]
        m1 = [np.zeros_like(p) for p in params]
        m2 = [np.zeros_like(p) for p in params]
        beta1, beta2, step = 0.9, 0.999, 0
        best, best_params, stale = np.inf, [p.copy() for p in params], 0
        for _ in range(MAX_EPOCHS):
            rng.shuffle(train)
            for start in range(0, len(train), BATCH):
                batch = train[start : start + BATCH]
                _, gw, gb = self._loss_grad(z[batch], t[batch])
                step += 1
                for k, (p, g) in enumerate(zip(params, [*gw, *gb], strict=True)):
                    m1[k] = beta1 * m1[k] + (1 - beta1) * g
                    m2[k] = beta2 * m2[k] + (1 - beta2) * g**2
                    hat1 = m1[k] / (1 - beta1**step)
                    hat2 = m2[k] / (1 - beta2**step)
                    p -= LEARNING_RATE * hat1 / (np.sqrt(hat2) + 1e-8)
            loss = self._loss(z[val], t[val])
            self.history.append(loss)
            if loss < best - 1e-4:
                best, best_params, stale = loss, [p.copy() for p in params], 0
            else:
                stale += 1
                if stale >= PATIENCE:
                    break
        n_w = len(self.weights)
        self.weights = best_params[:n_w]
        self.biases = best_params[n_w:]
        return self

    def gaussian(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mean, covariance) in unbounded coordinates for each summary row of ``x``."""
        z = (np.atleast_2d(np.asarray(x, dtype=float)) - self.x_mean) / self.x_sd
        out, _ = self._forward(z)
        mu, u = self._heads(out)
        precision = np.einsum("nij,nkj->nik", u, u)
        return mu, np.linalg.inv(precision)

    def sample(self, x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` posterior draws (bounded coordinates) for one summary vector ``x``."""
        mu, cov = self.gaussian(x)
        t = rng.multivariate_normal(mu[0], cov[0], size=n, method="cholesky")
        return to_bounded(t, self.low, self.high)

    def marginal_quantiles(self, x: np.ndarray, qs: Sequence[float]) -> np.ndarray:
        """(rows, len(qs), parameters) posterior marginal quantiles for each summary row."""
        from scipy.special import ndtri

        mu, cov = self.gaussian(x)
        sd = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
        z = ndtri(np.asarray(qs, dtype=float))
        t = mu[:, None, :] + z[None, :, None] * sd[:, None, :]
        return to_bounded(t, self.low, self.high)


ENSEMBLE_SIZE = 5  # members of the default deep ensemble (Lakshminarayanan et al. 2017)
# Interval-width recalibration on held-out simulations (Kuleshov, Fenner and Ermon 2018, ICML,
# "Accurate uncertainties for deep learning using calibrated regression"): the last
# RECALIBRATION_SHARE of the training table (400 of 4,000) is kept out of the ensemble's
# training; with fewer than MIN_RECALIBRATION held-out simulations the map is not fitted.
RECALIBRATION_SHARE = 0.1  # share of the reference table held out, range 0.05-0.2
MIN_RECALIBRATION = 20  # fewest held-out simulations to fit the map (5% steps of the level)
MAX_RECALIBRATED_LEVEL = 0.999  # recalibrated central levels are clipped to [0, this]


def _mixture_cdf(t: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Equal-mixture CDF at ``t`` (..., d) of members ``mu``, ``sd`` (members, ..., d)."""
    from scipy.special import ndtr

    return np.asarray(ndtr((t[None] - mu) / sd).mean(axis=0))


def _mixture_quantile(q: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Equal-mixture quantiles in unbounded coordinates by bisection (the CDF is increasing).

    ``q`` (rows, k, d) probabilities; ``mu``, ``sd`` (members, rows, d); returns (rows, k, d).
    """
    lo = np.broadcast_to((mu - 10.0 * sd).min(axis=0)[:, None, :], q.shape).copy()
    hi = np.broadcast_to((mu + 10.0 * sd).max(axis=0)[:, None, :], q.shape).copy()
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        below = _mixture_cdf(mid, mu[:, :, None, :], sd[:, :, None, :]) < q
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return 0.5 * (lo + hi)


@dataclass(frozen=True)
class Recalibration:
    """Per parameter, the map from a nominal central level to the raw ensemble's level.

    ``spreads`` holds, per parameter, the sorted held-out spreads ``s = |2 PIT - 1|`` (PIT: the
    ensemble's marginal CDF at the true value). A central interval of level ``a`` contains the
    truth iff ``s <= a``, so the level that covers a share ``a`` of held-out truths is the
    empirical ``a``-quantile of ``s``: :meth:`level` interpolates the sorted spreads at the
    plotting positions ``k / (n + 1)``, anchored at (0, 0) and (1, 1), so the map is monotone
    and level 0 (the median) maps to 0.
    """

    names: tuple[str, ...]
    spreads: np.ndarray  # (n_heldout, parameters), each column sorted

    @property
    def n_heldout(self) -> int:
        """Number of held-out simulations the map was fitted on."""
        return int(self.spreads.shape[0])

    def _grid(self) -> np.ndarray:
        n = self.n_heldout
        return np.r_[0.0, np.arange(1, n + 1) / (n + 1), 1.0]

    def level(self, nominal: np.ndarray, k: int) -> np.ndarray:
        """Raw ensemble level whose central interval covers a share ``nominal`` (parameter k)."""
        raw = np.interp(nominal, self._grid(), np.r_[0.0, self.spreads[:, k], 1.0])
        return np.clip(raw, 0.0, MAX_RECALIBRATED_LEVEL)

    def raw_probability(self, qs: np.ndarray, k: int) -> np.ndarray:
        """Raw ensemble probabilities for recalibrated probabilities ``qs`` (the median stays)."""
        qs = np.asarray(qs, dtype=float)
        spread = self.level(np.abs(2.0 * qs - 1.0), k)
        return 0.5 * (1.0 + np.sign(qs - 0.5) * spread)

    def table(self) -> list[dict[str, float | int | str]]:
        """Per parameter: held-out raw coverage of the 50%/90% intervals and the mapped levels."""
        rows: list[dict[str, float | int | str]] = []
        for k, name in enumerate(self.names):
            s = self.spreads[:, k]
            qs = self.raw_probability(np.array([0.05, 0.25, 0.75, 0.95]), k)
            rows.append(
                {
                    "parameter": name,
                    "n_heldout": self.n_heldout,
                    "raw_coverage_50": float(np.mean(s <= 0.5)),
                    "raw_coverage_90": float(np.mean(s <= 0.9)),
                    "level_for_50": float(self.level(np.array(0.5), k)),
                    "level_for_90": float(self.level(np.array(0.9), k)),
                    "level_for_q05": float(qs[0]),
                    "level_for_q25": float(qs[1]),
                    "level_for_q75": float(qs[2]),
                    "level_for_q95": float(qs[3]),
                }
            )
        return rows


@dataclass
class EnsembleNPE:
    """Equal mixture of ``size`` Gaussian NPEs trained with different seeds: a deep ensemble.

    One Gaussian NPE trained to its early-stopping point is slightly overconfident on the
    parameters the survey identifies (90% intervals covered 0.845-0.885 of 200 synthetic
    surveys); each member differs in initialisation, batches and validation split, so where the
    members disagree the mixture is wider. Ensembles are the remedy for overconfident neural
    posteriors that Hermans et al. (2022, "A trust crisis in simulation-based inference?", TMLR)
    found most reliable. Marginal quantiles of the mixture are found by bisection in unbounded
    coordinates (the logit is monotone, so they map to bounded quantiles).

    The mixture over-corrects where the members disagree (90% coverage of survey_cut_spacing
    0.970). With ``recalibrate`` the last :data:`RECALIBRATION_SHARE` of the training pairs is
    held out and :func:`fit_recalibration` maps each nominal central level to the raw level
    that covers that share of the held-out truths (Kuleshov, Fenner and Ermon 2018). Only the
    widths ``|2 PIT - 1|`` are mapped, the side of the median kept, so the recalibrated median
    is the ensemble's. Draws are the ensemble's draws with each marginal moved along its own
    CDF (PIT ``u`` to ``(1 + sign(2u - 1) L(|2u - 1|)) / 2``): the recalibrated marginals, with
    the ensemble's dependence between parameters.
    """

    names: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray
    seed: int = 0
    size: int = ENSEMBLE_SIZE
    recalibrate: bool = False
    members: list[GaussianNPE] = field(default_factory=list)
    recalibration: Recalibration | None = None
    recalibration_note: str = ""

    @property
    def history(self) -> list[float]:
        """Validation loss per epoch of every member, one after the other."""
        return [loss for member in self.members for loss in member.history]

    def fit(self, theta: np.ndarray, x: np.ndarray) -> EnsembleNPE:
        """Train ``size`` members, member k with seed ``seed + k``; then the recalibration.

        With ``recalibrate`` the last ``RECALIBRATION_SHARE`` of the rows (at least
        ``MIN_RECALIBRATION``) are held out of the members' training and fit the map; with
        fewer rows than that, every row trains the members and ``recalibration_note`` says so.
        """
        theta, x = np.asarray(theta, dtype=float), np.asarray(x, dtype=float)
        n_held = int(RECALIBRATION_SHARE * len(theta)) if self.recalibrate else 0
        self.recalibration, self.recalibration_note = None, ""
        if self.recalibrate and n_held < MIN_RECALIBRATION:
            self.recalibration_note = (
                f"no recalibration: {n_held} held-out simulations ({RECALIBRATION_SHARE:.0%} of "
                f"{len(theta)}) are fewer than MIN_RECALIBRATION = {MIN_RECALIBRATION}; "
                "the intervals are the raw ensemble's"
            )
            n_held = 0
        cut = len(theta) - n_held
        self.members = [
            GaussianNPE(self.names, self.low, self.high, seed=self.seed + k).fit(
                theta[:cut], x[:cut]
            )
            for k in range(self.size)
        ]
        if n_held:
            self.recalibration = fit_recalibration(self, theta[cut:], x[cut:])
            self.recalibration_note = (
                f"recalibrated on {n_held} held-out simulations (of {len(theta)})"
            )
        return self

    def raw(self) -> EnsembleNPE:
        """The same members without the recalibration (shares the trained networks)."""
        return EnsembleNPE(
            self.names, self.low, self.high, self.seed, self.size, members=self.members
        )

    def _marginals(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Members' marginal means and sds in unbounded coordinates, (members, rows, d)."""
        parts = [m.gaussian(x) for m in self.members]
        mu = np.stack([p[0] for p in parts])
        sd = np.stack([np.sqrt(np.diagonal(p[1], axis1=1, axis2=2)) for p in parts])
        return mu, sd

    def pit(self, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """(rows, d) raw ensemble marginal CDF at ``theta`` (bounded) for each summary row."""
        mu, sd = self._marginals(x)
        t = to_unbounded(np.atleast_2d(np.asarray(theta, dtype=float)), self.low, self.high)
        return _mixture_cdf(t, mu, sd)

    def _raw_probabilities(self, qs: np.ndarray) -> np.ndarray:
        """(len(qs), d) raw ensemble probabilities for the (recalibrated) probabilities qs."""
        qs = np.asarray(qs, dtype=float)
        if self.recalibration is None:
            return np.repeat(qs[:, None], self.dim, axis=1)
        rec = self.recalibration
        return np.stack([rec.raw_probability(qs, k) for k in range(self.dim)], axis=1)

    @property
    def dim(self) -> int:
        """Number of parameters."""
        return len(self.names)

    def sample(self, x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws (bounded coordinates) for one summary vector ``x``: the mixture's,
        with each marginal moved to the recalibrated one when a recalibration is fitted."""
        counts = rng.multinomial(n, np.full(len(self.members), 1.0 / len(self.members)))
        draws = [m.sample(x, int(k), rng) for m, k in zip(self.members, counts, strict=True)]
        out = np.concatenate(draws, axis=0)[rng.permutation(n)]
        if self.recalibration is None or n == 0:
            return out
        u = self.pit(x, out)  # one summary row, broadcast over the n draws
        q = np.empty_like(u)
        for k in range(self.dim):
            q[:, k] = self.recalibration.raw_probability(u[:, k], k)
        mu, sd = self._marginals(x)
        t = _mixture_quantile(q[None], mu, sd)[0]
        return to_bounded(t, self.low, self.high)

    def raw_quantiles(self, x: np.ndarray, qs: Sequence[float]) -> np.ndarray:
        """(rows, len(qs), parameters) marginal quantiles of the raw mixture."""
        mu, sd = self._marginals(x)
        q = np.broadcast_to(
            np.asarray(qs, dtype=float)[None, :, None], (mu.shape[1], len(qs), mu.shape[2])
        )
        return to_bounded(_mixture_quantile(q, mu, sd), self.low, self.high)

    def marginal_quantiles(self, x: np.ndarray, qs: Sequence[float]) -> np.ndarray:
        """(rows, len(qs), parameters) marginal quantiles, recalibrated when fitted."""
        mu, sd = self._marginals(x)
        q = np.broadcast_to(
            self._raw_probabilities(np.asarray(qs))[None], (mu.shape[1], len(qs), mu.shape[2])
        )
        return to_bounded(_mixture_quantile(q, mu, sd), self.low, self.high)


def fit_recalibration(est: EnsembleNPE, theta: np.ndarray, x: np.ndarray) -> Recalibration:
    """The width map of :class:`Recalibration` from held-out pairs (``theta`` rows, summaries).

    Raises ValueError with fewer than ``MIN_RECALIBRATION`` pairs or mismatched rows.
    """
    theta, x = np.atleast_2d(np.asarray(theta, dtype=float)), np.atleast_2d(np.asarray(x))
    if len(theta) != len(x):
        raise ValueError(f"recalibration: {len(theta)} parameter rows but {len(x)} summaries")
    if len(theta) < MIN_RECALIBRATION:
        raise ValueError(
            f"recalibration needs at least MIN_RECALIBRATION = {MIN_RECALIBRATION} held-out "
            f"simulations, got {len(theta)}"
        )
    spreads = np.abs(2.0 * est.pit(x, theta) - 1.0)
    return Recalibration(tuple(est.names), np.sort(spreads, axis=0))
