"""The vectorised citizen opinion rule against its per-agent Mesa reference, plus known answers.

Statistical equivalence: on three small cities with the same initial opinions and confidence
bounds, the vectorised rule (``deffuant_round`` + ``redraw_noise``) and the Mesa reference
(:mod:`abm.agents.citizen_reference`) are run for a few rounds over many seeds; the across-seed
distributions of each city's final mean, variance and share of extremes must not differ (two-
sample KS tests, Bonferroni-corrected), while doubling ``mu`` in the reference must make them
differ (the comparison has power). Known answers: hand-made two-citizen cases with fixed draws.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import cast

import numpy as np
import pytest
from scipy import stats

from abm.agents.citizen_reference import ReferenceOpinionModel, city_blocks
from abm.rules.citizens import deffuant_round, redraw_noise

CITY_SIZES = (150, 220, 300)
# Deffuant et al. 2000 convergence parameter, in the registry range [0.05, 0.5]. Not the default
# 0.3: a one-sided move shrinks the variance of an unconstrained pair by about 1 - 2mu + 2mu^2,
# which is symmetric about mu = 0.5, so 0.3 and its double 0.6 are nearly indistinguishable,
# whereas 0.15 and 0.3 differ clearly (the power check below).
MU = 0.15
NOISE_PROB = 0.02  # redraw probability per round
ROUNDS = 10  # few enough that the dynamics have not settled and mu still shows
N_SEEDS = 30
FAMILY_ALPHA = 0.01
STAT_NAMES = ("mean", "variance", "extreme share")
# Bonferroni: one KS test per city and statistic
ALPHA = FAMILY_ALPHA / (len(CITY_SIZES) * len(STAT_NAMES))


def initial_state() -> tuple[np.ndarray, np.ndarray]:
    """Fixed initial opinions (uniform) and heterogeneous bounds eps ~ N(0.3, 0.1) (Lorenz 2015)."""
    rng = np.random.default_rng(20250101)
    n = sum(CITY_SIZES)
    support = rng.random(n).astype(np.float32)
    epsilon = np.clip(rng.normal(0.3, 0.1, n), 0.01, 1.0).astype(np.float32)
    return support, epsilon


def city_stats(x: np.ndarray) -> np.ndarray:
    """Per city: mean, variance and share with |x - 0.5| > 0.4; shape (cities, 3)."""
    out = np.empty((len(CITY_SIZES), len(STAT_NAMES)))
    start = 0
    for k, size in enumerate(CITY_SIZES):
        block = np.asarray(x[start : start + size], dtype=np.float64)
        out[k] = (block.mean(), block.var(), np.mean(np.abs(block - 0.5) > 0.4))
        start += size
    return out


def run_vectorised(seed: int, active_share: float, drift: float, mu: float) -> np.ndarray:
    """Final per-city statistics of the vectorised rule after ROUNDS rounds."""
    support, epsilon = initial_state()
    first, count = city_blocks(CITY_SIZES)
    rng = np.random.default_rng(seed)
    for _ in range(ROUNDS):
        deffuant_round(support, epsilon, first, count, mu, active_share, rng)
        redraw_noise(support, NOISE_PROB, rng)
        if drift != 0.0:
            support += np.float32(drift)
            np.clip(support, 0.0, 1.0, out=support)
    return city_stats(support)


def run_reference(seed: int, active_share: float, drift: float, mu: float) -> np.ndarray:
    """Final per-city statistics of the Mesa reference after ROUNDS steps."""
    support, epsilon = initial_state()
    model = ReferenceOpinionModel(
        CITY_SIZES, support, epsilon, mu, NOISE_PROB, seed, active_share=active_share, drift=drift
    )
    for _ in range(ROUNDS):
        model.step()
    return city_stats(model.support_array())


@cache
def across_seeds(kind: str, active_share: float, drift: float, mu: float) -> np.ndarray:
    """Statistics for N_SEEDS seeds, shape (seeds, cities, 3); the two kinds use disjoint seeds."""
    if kind == "vectorised":
        return np.stack([run_vectorised(s, active_share, drift, mu) for s in range(N_SEEDS)])
    seeds = range(1000, 1000 + N_SEEDS)
    return np.stack([run_reference(s, active_share, drift, mu) for s in seeds])


def ks_pvalues(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two-sample KS p-value per (city, statistic) across seeds."""
    out = np.empty(a.shape[1:])
    for k in range(a.shape[1]):
        for j in range(a.shape[2]):
            out[k, j] = stats.ks_2samp(a[:, k, j], b[:, k, j]).pvalue
    return out


CASES = [
    pytest.param(1.0, 0.0, id="full-rounds"),
    pytest.param(0.6, 0.01, id="partial-activity-with-drift"),
]


# --- statistical equivalence ------------------------------------------------------------------


@pytest.mark.parametrize(("active_share", "drift"), CASES)
def test_vectorised_rule_matches_mesa_reference(active_share: float, drift: float) -> None:
    """Across seeds, final mean, variance and extreme share per city have the same distribution."""
    vec = across_seeds("vectorised", active_share, drift, MU)
    ref = across_seeds("reference", active_share, drift, MU)
    p = ks_pvalues(vec, ref)
    assert p.min() > ALPHA, f"KS p-values (city x {STAT_NAMES}) below {ALPHA:.4f}:\n{p}"


@pytest.mark.parametrize("factor", [2.0, 1.5])
def test_comparison_detects_a_wrong_mu(factor: float) -> None:
    """The same comparison rejects a reference with mu doubled (or x1.5): it has power."""
    vec = across_seeds("vectorised", 1.0, 0.0, MU)
    wrong = across_seeds("reference", 1.0, 0.0, factor * MU)
    p = ks_pvalues(vec, wrong)
    assert p.min() < ALPHA, f"mu x{factor} went unnoticed; KS p-values:\n{p}"


def test_rounds_change_the_statistics() -> None:
    """The dynamics move the statistics away from the start (else equality would be trivial)."""
    support, _ = initial_state()
    start = city_stats(support)
    vec = across_seeds("vectorised", 1.0, 0.0, MU)
    assert np.all(vec[:, :, 1].mean(axis=0) < 0.9 * start[:, 1]), "variance should fall"
    assert np.all(vec[:, :, 2].max(axis=0) < start[:, 2]), "extremes should be pulled in"


# --- known answers for deffuant_round ---------------------------------------------------------


class FixedDraws:
    """Stands in for a Generator: ``random()`` returns preset arrays, in order."""

    def __init__(self, *draws: list[float]) -> None:
        self._draws: Iterator[list[float]] = iter(draws)

    def random(self, size: int, dtype: type = np.float64) -> np.ndarray:
        """The next preset draw (its length must be ``size``)."""
        out: np.ndarray = np.asarray(next(self._draws), dtype=dtype)
        assert out.shape == (size,)
        return out


def one_round(
    support: list[float],
    epsilon: list[float],
    *draws: list[float],
    mu: float = 0.25,
    active_share: float = 1.0,
) -> np.ndarray:
    """Opinions of one city after one round with fixed draws (``u`` then activity)."""
    x = np.asarray(support, dtype=np.float32)
    first, count = city_blocks([len(support)])
    rng = cast(np.random.Generator, FixedDraws(*draws))
    deffuant_round(x, np.asarray(epsilon, np.float32), first, count, mu, active_share, rng)
    return x


# u = [0.75, 0.25] in a city of two: citizen 0 meets citizen 1 and 1 meets 0
SWAP = [0.75, 0.25]


def test_close_pair_moves_exactly_mu_of_the_difference_using_old_values() -> None:
    """|diff| < eps: both move mu*diff towards the other's old opinion (synchronous update)."""
    x = one_round([0.25, 0.75], [0.6, 0.6], SWAP)
    np.testing.assert_array_equal(x, np.array([0.375, 0.625], dtype=np.float32))


def test_far_pair_does_not_move() -> None:
    """|diff| > eps, and |diff| == eps (the bound is strict): nobody moves."""
    np.testing.assert_array_equal(one_round([0.25, 0.75], [0.4, 0.4], SWAP), [0.25, 0.75])
    np.testing.assert_array_equal(one_round([0.25, 0.75], [0.5, 0.5], SWAP), [0.25, 0.75])


def test_update_is_one_sided_with_heterogeneous_bounds() -> None:
    """Only the open-minded citizen (eps > |diff|) moves; the closed-minded one stays."""
    x = one_round([0.25, 0.75], [0.6, 0.4], SWAP)
    np.testing.assert_array_equal(x, np.array([0.375, 0.75], dtype=np.float32))


def test_meeting_oneself_changes_nothing() -> None:
    """u = [0.25, 0.75]: each citizen draws itself as partner, so nobody moves."""
    np.testing.assert_array_equal(one_round([0.25, 0.75], [0.6, 0.6], [0.25, 0.75]), [0.25, 0.75])


def test_inactive_citizens_do_not_move() -> None:
    """With active_share 0.5, activity draws [0.25, 0.75]: only citizen 0 takes part."""
    x = one_round([0.25, 0.75], [0.6, 0.6], SWAP, [0.25, 0.75], active_share=0.5)
    np.testing.assert_array_equal(x, np.array([0.375, 0.75], dtype=np.float32))


def test_partners_come_from_the_own_city() -> None:
    """Two far-apart cities with eps = 1: each city's opinions stay inside its old range."""
    rng = np.random.default_rng(7)
    sizes = [40, 60]
    x = np.concatenate([rng.uniform(0.0, 0.2, 40), rng.uniform(0.8, 1.0, 60)]).astype(np.float32)
    lo = [x[:40].min(), x[40:].min()]
    hi = [x[:40].max(), x[40:].max()]
    first, count = city_blocks(sizes)
    for _ in range(20):
        deffuant_round(x, np.ones(100, np.float32), first, count, 0.5, 1.0, rng)
    assert lo[0] <= x[:40].min() and x[:40].max() <= hi[0]
    assert lo[1] <= x[40:].min() and x[40:].max() <= hi[1]
    assert x[:40].std() < 0.01 and x[40:].std() < 0.01, "eps = 1 should reach consensus"


# --- redraw noise -----------------------------------------------------------------------------


def test_redraw_noise_with_zero_probability_changes_nothing() -> None:
    """prob = 0: every opinion is kept bit for bit."""
    rng = np.random.default_rng(3)
    x = rng.random(1000, dtype=np.float32)
    before = x.copy()
    redraw_noise(x, 0.0, rng)
    np.testing.assert_array_equal(x, before)


def test_redraw_noise_redraws_each_citizen_with_probability_prob() -> None:
    """prob = 0.5 on 100k citizens: half of them (+-1%) get a new opinion."""
    rng = np.random.default_rng(4)
    x = rng.random(100_000, dtype=np.float32)
    before = x.copy()
    redraw_noise(x, 0.5, rng)
    assert np.mean(x != before) == pytest.approx(0.5, abs=0.01)


# --- a longer, higher-power variant -------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("active_share", "drift"), CASES)
def test_vectorised_rule_matches_mesa_reference_many_seeds(
    active_share: float, drift: float
) -> None:
    """300 seeds per side (not run in CI): per-city statistics agree by KS and Welch t tests."""
    vec = np.stack([run_vectorised(s, active_share, drift, MU) for s in range(300)])
    ref = np.stack([run_reference(s, active_share, drift, MU) for s in range(5000, 5300)])
    p_ks = ks_pvalues(vec, ref)
    p_t = np.array(
        [
            [stats.ttest_ind(vec[:, k, j], ref[:, k, j], equal_var=False).pvalue for j in range(3)]
            for k in range(len(CITY_SIZES))
        ]
    )
    # both tests on every (city, statistic): Bonferroni over twice as many tests
    assert min(p_ks.min(), p_t.min()) > ALPHA / 2, f"KS:\n{p_ks}\nWelch t:\n{p_t}"
