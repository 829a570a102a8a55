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


class _FixedGaussian:
    """A stand-in ensemble member with a fixed Gaussian in unbounded coordinates."""

    def __init__(self, mu: float, sd: float) -> None:
        self.mu, self.sd = mu, sd
        self.history = [0.0]

    def gaussian(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = np.atleast_2d(x).shape[0]
        return np.full((rows, 1), self.mu), np.full((rows, 1, 1), self.sd**2)

    def sample(self, x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        t = rng.normal(self.mu, self.sd, (n, 1))
        return npe.to_bounded(t, np.zeros(1), np.ones(1))


def test_ensemble_quantiles_are_the_mixture_quantiles() -> None:
    """Known answer: members N(-1, 1) and N(1, 1) in logit space; the mixture's median is
    t = 0 and its CDF at t = 1 is (Phi(2) + Phi(0)) / 2 = 0.738625."""
    from scipy.special import expit, ndtr

    est = npe.EnsembleNPE(("a",), np.zeros(1), np.ones(1), size=2)
    est.members = [_FixedGaussian(-1.0, 1.0), _FixedGaussian(1.0, 1.0)]  # type: ignore[list-item]
    p = float(0.5 * (ndtr(2.0) + ndtr(0.0)))
    q = est.marginal_quantiles(np.zeros((3, 4)), [0.5, p])
    assert q.shape == (3, 2, 1)
    assert q[:, 0, 0] == pytest.approx(0.5, abs=1e-9)
    assert q[:, 1, 0] == pytest.approx(float(expit(1.0)), abs=1e-9)
    draws = est.sample(np.zeros((1, 4)), 20000, np.random.default_rng(0))
    t = np.log(draws[:, 0]) - np.log1p(-draws[:, 0])
    assert np.mean(t < 0.0) == pytest.approx(0.5, abs=0.02)
    assert np.std(t) == pytest.approx(np.sqrt(2.0), abs=0.05)  # mixture sd: sqrt(1 + 1)


def test_ensemble_quantiles_lie_between_its_members() -> None:
    """The mixture CDF lies between its members' CDFs, so each of its quantiles lies between
    the members' quantiles; trained with different seeds, the members differ."""
    rng = np.random.default_rng(5)
    train = rng.random((600, 2))
    x = np.c_[train[:, 0] + rng.normal(0, 0.1, 600), train.sum(axis=1) + rng.normal(0, 0.1, 600)]
    est = npe.EnsembleNPE(("a", "b"), np.zeros(2), np.ones(2), seed=1, size=3).fit(train, x)
    assert len(est.members) == 3 and len(est.history) >= 3
    probe = np.array([[0.4, 0.9], [0.7, 1.2]])
    qs = [0.05, 0.5, 0.95]
    q = est.marginal_quantiles(probe, qs)
    each = np.stack([m.marginal_quantiles(probe, qs) for m in est.members])
    assert np.all(q >= each.min(axis=0) - 1e-9) and np.all(q <= each.max(axis=0) + 1e-9)
    assert np.ptp(each[:, :, 1, :], axis=0).max() > 1e-4  # the members' medians differ


class _ShiftedGaussian:
    """A stand-in member: N(x_0, sd) in unbounded coordinates, whatever the truth's spread."""

    def __init__(self, sd: float) -> None:
        self.sd = sd
        self.history = [0.0]

    def gaussian(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.atleast_2d(x)
        return x[:, :1].copy(), np.full((x.shape[0], 1, 1), self.sd**2)

    def sample(self, x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        t = rng.normal(float(np.atleast_2d(x)[0, 0]), self.sd, (n, 1))
        return npe.to_bounded(t, np.zeros(1), np.ones(1))


def _pairs(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """x ~ U(-2, 2) and t = x + N(0, 0.5): the exact posterior of t given x is N(x, 0.5)."""
    x = rng.uniform(-2.0, 2.0, (n, 1))
    t = x + rng.normal(0.0, 0.5, (n, 1))
    return npe.to_bounded(t, np.zeros(1), np.ones(1)), x


@pytest.mark.parametrize(("sd", "raw90"), [(1.0, 0.99900), (0.35, 0.75043)])
def test_recalibration_corrects_an_over_wide_and_an_over_narrow_posterior(
    sd: float, raw90: float
) -> None:
    """Known answer: a Gaussian 'posterior' of sd 1.0 (0.35) around x, where the true posterior
    is N(x, 0.5), covers 2 Phi(1.645 sd / 0.5) - 1 = 0.999 (0.750) at 90%; the map fitted on
    2,000 held-out pairs brings the 50%/90% coverage of 4,000 new pairs to 0.5/0.9, keeps the
    median and gives draws with the true spread 0.5."""
    rng = np.random.default_rng(7)
    est = npe.EnsembleNPE(("a",), np.zeros(1), np.ones(1), size=1)
    est.members = [_ShiftedGaussian(sd)]  # type: ignore[list-item]
    est.recalibration = npe.fit_recalibration(est, *_pairs(2000, rng))
    theta, x = _pairs(4000, rng)
    qs = [0.05, 0.25, 0.5, 0.75, 0.95]
    raw, rec = est.raw_quantiles(x, qs), est.marginal_quantiles(x, qs)
    truth = theta[:, 0]
    raw_cover = np.mean((truth >= raw[:, 0, 0]) & (truth <= raw[:, 4, 0]))
    assert raw_cover == pytest.approx(raw90, abs=0.02)
    assert np.mean((truth >= rec[:, 0, 0]) & (truth <= rec[:, 4, 0])) == pytest.approx(
        0.9, abs=0.02
    )
    assert np.mean((truth >= rec[:, 1, 0]) & (truth <= rec[:, 3, 0])) == pytest.approx(
        0.5, abs=0.03
    )
    assert rec[:, 2] == pytest.approx(raw[:, 2], abs=1e-12)  # the median stays
    assert np.all(np.diff(rec, axis=1) > 0)  # quantiles increase with the level
    table = est.recalibration.table()[0]
    assert table["n_heldout"] == 2000 and table["raw_coverage_90"] == pytest.approx(raw90, abs=0.02)
    assert table["level_for_q05"] + table["level_for_q95"] == pytest.approx(1.0)
    draws = est.sample(np.zeros((1, 1)), 20000, np.random.default_rng(8))
    t = np.log(draws[:, 0]) - np.log1p(-draws[:, 0])
    assert np.std(t) == pytest.approx(0.5, rel=0.05)  # the true posterior's sd
    assert np.median(t) == pytest.approx(0.0, abs=0.02)
    want = est.marginal_quantiles(np.zeros((1, 1)), qs)[0, :, 0]
    assert np.quantile(draws[:, 0], qs) == pytest.approx(want, abs=0.01)


def test_recalibration_level_map_is_monotone_and_anchored() -> None:
    rec = npe.Recalibration(("a",), np.sort(np.random.default_rng(0).random((50, 1)) ** 2, axis=0))
    nominal = np.linspace(0.0, 1.0, 201)
    levels = rec.level(nominal, 0)
    assert levels[0] == 0.0 and levels[-1] == npe.MAX_RECALIBRATED_LEVEL
    assert np.all(np.diff(levels) >= 0)
    probs = rec.raw_probability(np.linspace(0.01, 0.99, 99), 0)
    assert np.all(np.diff(probs) > 0) and rec.raw_probability(np.array([0.5]), 0)[0] == 0.5


def test_too_few_held_out_simulations_mean_no_recalibration() -> None:
    rng = np.random.default_rng(9)
    theta = rng.random((150, 2))  # 10% = 15 held out < MIN_RECALIBRATION
    x = theta + rng.normal(0.0, 0.1, theta.shape)
    est = npe.EnsembleNPE(("a", "b"), np.zeros(2), np.ones(2), size=1, recalibrate=True)
    est.fit(theta, x)
    assert est.recalibration is None
    assert "no recalibration: 15 held-out simulations" in est.recalibration_note
    assert "MIN_RECALIBRATION = 20" in est.recalibration_note
    q = [0.05, 0.95]
    assert est.marginal_quantiles(x[:4], q) == pytest.approx(est.raw_quantiles(x[:4], q))
    with pytest.raises(ValueError, match="at least MIN_RECALIBRATION = 20"):
        npe.fit_recalibration(est, theta[:10], x[:10])


def test_recalibrated_fit_holds_out_the_last_share() -> None:
    rng = np.random.default_rng(10)
    theta = rng.random((300, 2))
    x = theta + rng.normal(0.0, 0.1, theta.shape)
    est = npe.EnsembleNPE(("a", "b"), np.zeros(2), np.ones(2), size=1, recalibrate=True)
    est.fit(theta, x)
    assert est.recalibration is not None and est.recalibration.n_heldout == 30
    want = np.sort(np.abs(2.0 * est.pit(x[270:], theta[270:]) - 1.0), axis=0)
    assert est.recalibration.spreads == pytest.approx(want)
    assert est.raw().recalibration is None and est.raw().members is est.members
