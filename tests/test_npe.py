"""Neural posterior estimation: exact gradients, known-answer coverage on a model with a known
posterior, and the rejection-ABC / deviance helpers of the engine comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibration import engines, npe
from calibration.targets import load_all_targets


def test_gradients_match_finite_differences() -> None:
    rng = np.random.default_rng(0)
    est = npe.GaussianNPE(("a", "b", "c"), np.zeros(3), np.ones(3))
    x, t = rng.normal(size=(16, 5)), rng.normal(size=(16, 3))
    est._init(5, rng)
    for w in est.weights:
        w += rng.normal(0.0, 0.3, w.shape)
    _, gw, gb = est._loss_grad(x, t)
    eps = 1e-6
    for layer, w in enumerate(est.weights):
        for idx in [(0, 0), (1, w.shape[1] - 1), (w.shape[0] - 1, w.shape[1] // 2)]:
            w[idx] += eps
            up = est._loss(x, t)
            w[idx] -= 2 * eps
            down = est._loss(x, t)
            w[idx] += eps
            analytic = gw[layer][idx] - npe.WEIGHT_DECAY * w[idx]
            assert (up - down) / (2 * eps) == pytest.approx(analytic, rel=1e-4, abs=1e-6)
        b = est.biases[layer]
        b[0] += eps
        up = est._loss(x, t)
        b[0] -= 2 * eps
        down = est._loss(x, t)
        b[0] += eps
        assert (up - down) / (2 * eps) == pytest.approx(gb[layer][0], rel=1e-4, abs=1e-6)


def test_unbounded_coordinates_round_trip() -> None:
    lo, hi = np.array([0.0, -2.0]), np.array([1.0, 3.0])
    theta = np.array([[0.3, 0.0], [0.9, 2.5]])
    back = npe.to_bounded(npe.to_unbounded(theta, lo, hi), lo, hi)
    assert back == pytest.approx(theta)


def test_known_answer_coverage_and_correlation() -> None:
    """theta ~ U(0,1)^2, x = (theta_a, theta_a + theta_b) + N(0, 0.05): the posterior is known
    to be narrow (sd ~ 0.05) and negatively correlated in (a, b); 90% intervals cover ~90%."""
    rng = np.random.default_rng(1)

    def simulate(theta: np.ndarray) -> np.ndarray:
        noise = rng.normal(0.0, 0.05, (len(theta), 2))
        return np.c_[theta[:, 0] + noise[:, 0], theta.sum(axis=1) + noise[:, 1]]

    train = rng.random((3000, 2))
    est = npe.GaussianNPE(("a", "b"), np.zeros(2), np.ones(2), seed=2).fit(train, simulate(train))
    truth = rng.uniform(0.2, 0.8, (300, 2))  # away from the bounds, where the posterior is normal
    q = est.marginal_quantiles(simulate(truth), [0.05, 0.25, 0.75, 0.95])
    cover90 = ((truth >= q[:, 0]) & (truth <= q[:, 3])).mean(axis=0)
    cover50 = ((truth >= q[:, 1]) & (truth <= q[:, 2])).mean(axis=0)
    assert np.all((cover90 > 0.84) & (cover90 < 0.96)), cover90
    assert np.all((cover50 > 0.40) & (cover50 < 0.60)), cover50
    width = (q[:, 3] - q[:, 0]).mean(axis=0)
    assert np.all(width < 0.3), width  # learnt: the prior's 90% width is 0.9
    draws = est.sample(np.array([[0.5, 1.0]]), 4000, np.random.default_rng(3))
    assert np.corrcoef(draws.T)[0, 1] < -0.3  # x_b pins a + b: a and b trade off


def test_table_deviance_matches_the_item_deviance() -> None:
    from calibration.distance import item_deviance

    targets = load_all_targets()
    fit = targets.select(["barrier_municipal_silos", "eoi_key_barriers"])
    rng = np.random.default_rng(4)
    sims = {
        "barrier_municipal_silos": rng.dirichlet(np.ones(5), 7),
        "eoi_key_barriers": rng.random((7, 3)),
    }
    observed = {tid: np.asarray(t.shares, dtype=float) for tid, t in fit.items()}
    got = engines.table_deviance(fit, observed, sims)
    for j in range(7):
        want = sum(item_deviance(t, sims[tid][j]) for tid, t in fit.items())
        assert got[j] == pytest.approx(want, rel=1e-9)


def test_abc_rejection_keeps_the_nearest_simulations() -> None:
    targets = load_all_targets()
    fit = targets.select(["barrier_municipal_silos"])
    obs = np.asarray(fit["barrier_municipal_silos"].shares, dtype=float)
    shares = [{"barrier_municipal_silos": np.roll(obs, k % 5)} for k in range(1000)]
    theta = pd.DataFrame({"p": np.arange(1000, dtype=float)})
    table = engines.Table(theta, shares, 0.0)
    post = engines.abc_rejection(
        fit, {"barrier_municipal_silos": obs}, table, table.item_shares(fit)
    )
    assert len(post) == 20 and set(post["p"] % 5) == {0.0}  # only the exact matches
