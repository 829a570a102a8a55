"""The compiled citizen kernels against their numpy reference: bit for bit, kernel by kernel and
on whole runs; the backend switch.

``abm.kernels`` promises that the numba loops do the numpy formulas' float32 operations in the
same order, so the two backends agree exactly (not within a tolerance). Inputs are random, with
the edge cases that matter: partners at block edges, opinions pushed past 0 and 1 by the
drivers (the clip), an activity share below one, citizens without a plant.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from abm import kernels as kn
from abm.agents.citizen_reference import city_blocks
from abm.config import ScenarioConfig
from abm.model import simulate

numba = pytest.importorskip("numba")

SIZES = (1, 2, 7, 150, 1000, 33)
N = sum(SIZES)


def compiled() -> SimpleNamespace:
    """The numba kernels (compiled on first use)."""
    with kn.use_backend("numba"):
        return kn.kernels()


def both(name: str, make_args: Callable[[], tuple[Any, ...]]) -> tuple[Any, Any, tuple, tuple]:
    """Run kernel ``name`` of each backend on fresh copies of the same arguments."""
    args_ref, args_jit = make_args(), make_args()
    out_ref = getattr(kn.NUMPY, name)(*args_ref)
    out_jit = getattr(compiled(), name)(*args_jit)
    return out_ref, out_jit, args_ref, args_jit


def rng() -> np.random.Generator:
    """A fresh generator, so each backend gets the same inputs."""
    return np.random.default_rng(2024)


@pytest.mark.parametrize("active_share", [1.0, 0.4])
def test_bounded_confidence_agrees_bit_for_bit(active_share: float) -> None:
    def args() -> tuple[Any, ...]:
        g = rng()
        first, count = city_blocks(SIZES)
        u = g.random(N, dtype=np.float32)
        u[:3] = np.float32(1.0) - np.finfo(np.float32).epsneg  # the last member of a block
        active = g.random(N, dtype=np.float32) if active_share < 1.0 else kn.EMPTY_F32
        return (
            g.random(N, dtype=np.float32),
            np.clip(g.normal(0.3, 0.1, N), 0.01, 1.0).astype(np.float32),
            first.astype(np.int32),
            count,
            np.float32(0.3),
            u,
            active,
            np.float32(active_share),
        )

    _, _, ref, jit = both("bounded_confidence", args)
    np.testing.assert_array_equal(jit[0], ref[0])
    assert not np.array_equal(ref[0], args()[0]), "the round should move some opinions"


def test_drivers_agree_bit_for_bit_including_the_clip() -> None:
    def args() -> tuple[Any, ...]:
        g = rng()
        city = np.repeat(np.arange(len(SIZES)), SIZES)
        plant = np.where(g.random(N) < 0.3, g.integers(0, 5, N), -1)
        employed = np.flatnonzero(plant >= 0)
        # drifts of +-0.6 push many opinions past 0 and 1
        return (
            g.random(N, dtype=np.float32),
            city,
            g.uniform(-0.6, 0.6, len(SIZES)).astype(np.float32),
            g.uniform(-0.1, 0.1, N).astype(np.float32),
            np.float32(0.25),
            employed,
            plant,
            g.random(5),
            g.uniform(0.5, 2.0, len(SIZES)),
            np.float32(0.25) * np.float32(0.08),
        )

    _, _, ref, jit = both("apply_drivers", args)
    np.testing.assert_array_equal(jit[0], ref[0])
    assert np.any(ref[0] == 0.0) and np.any(ref[0] == 1.0), "the clip should bind both ways"


def test_adoption_and_logit_agree_bit_for_bit() -> None:
    def adopt_args() -> tuple[Any, ...]:
        g = rng()
        return g.random(N, dtype=np.float32), g.random(N, dtype=np.float32), np.float32(0.07)

    _, _, ref, jit = both("adopt", adopt_args)
    np.testing.assert_array_equal(jit[0], ref[0])

    def logit_args() -> tuple[Any, ...]:
        g = rng()
        weights = (np.float32(w) for w in (-1.3, 2.1, 0.45, 0.8))
        city = np.repeat(np.arange(len(SIZES)), SIZES)
        return (
            g.random(N, dtype=np.float32),
            g.normal(0.0, 1.0, N).astype(np.float32),
            g.integers(0, 3, len(SIZES)).astype(np.float32),
            city,
            *weights,
        )

    out_ref, out_jit, _, _ = both("participation_logit", logit_args)
    assert out_jit.dtype == out_ref.dtype == np.float32
    np.testing.assert_array_equal(out_jit, out_ref)


def test_participation_agrees_bit_for_bit_and_counts_participants() -> None:
    def args() -> tuple[Any, ...]:
        g = rng()
        start = np.concatenate([[0], np.cumsum(SIZES)[:-1]]).astype(np.int64)
        trust = g.random(N, dtype=np.float32)
        trust[:50] = np.float32(0.999)  # a gain pushes these past 1
        return (
            trust,
            g.random(N, dtype=np.float32),
            g.random(N, dtype=np.float32),
            g.integers(0, 3, len(SIZES)).astype(np.float32),
            np.repeat(np.arange(len(SIZES)), SIZES),
            start,
            np.asarray(SIZES, dtype=np.int64),
            np.float32(0.2),
        )

    out_ref, out_jit, ref, jit = both("participate", args)
    np.testing.assert_array_equal(jit[0], ref[0])
    np.testing.assert_array_equal(out_jit, out_ref)
    fresh = args()
    expected = np.bincount(fresh[4], weights=fresh[1] < fresh[2], minlength=len(SIZES))
    np.testing.assert_array_equal(out_ref, expected)
    assert ref[0].max() == 1.0


def test_plant_assignment_agrees_with_searchsorted() -> None:
    """Keys on interval ends (hi == key), cities without plants, a city whose plants fill it."""
    g = rng()
    sizes = np.array([30, 5, 40, 12, 25])
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    city = np.repeat(np.arange(sizes.size), sizes)
    p_city = np.array([0, 0, 2, 2, 2, 4])
    cum = np.array([0.2, 0.5, 0.25, 0.5, 1.0, 0.1])
    hi = p_city + cum
    order = np.array([3, 0, 5, 1, 4, 2])
    key = city + g.random(city.size)
    key[:3] = [0.2, 0.5, 0.0]  # exactly on interval ends and the city's start
    args = (key, city, start, sizes, hi, p_city, order)
    ref = kn.NUMPY.assign_plants(*args)
    np.testing.assert_array_equal(compiled().assign_plants(*args), ref)
    # hi == key belongs to the next interval (side right): 0.2 -> the second plant (order 0),
    # 0.5 -> past the city's last interval (no plant), 0.0 -> the first plant (order 3)
    assert (ref[0], ref[1], ref[2]) == (0, -1, 3)
    assert set(np.unique(ref[city == 1])) == {-1} and set(np.unique(ref[city == 2])) <= {5, 1, 4}


def test_group_rank_and_running_total_agree_bit_for_bit() -> None:
    """Unsorted groups with gaps, a group of one, signed zeros and the empty input."""
    g = rng()
    group = np.concatenate([np.sort(g.integers(0, 40, 300)) for _ in range(4)] + [[57]])
    values = g.lognormal(0.0, 2.0, group.size)
    values[::11] = -0.0
    values[5::13] *= -1.0
    jit = compiled()
    np.testing.assert_array_equal(jit.rank_within(group), kn.NUMPY.rank_within(group))
    ref = kn.NUMPY.cumsum_within(group, values)
    out = jit.cumsum_within(group, values)
    np.testing.assert_array_equal(out.view(np.int64), ref.view(np.int64))  # the bits, zeros too
    # known answer: at each entry, the sum of its group's values up to and including it
    for k in (0, 150, 299, 300, 777, group.size - 1):
        mine = group[: k + 1] == group[k]
        np.testing.assert_allclose(out[k], values[: k + 1][mine].sum(), rtol=1e-12)
        assert out[k] != 0.0 or values[: k + 1][mine].sum() == 0.0
    empty = np.zeros(0, dtype=np.int64)
    assert jit.rank_within(empty).size == 0 and jit.cumsum_within(empty, np.zeros(0)).size == 0


def test_city_sums_match_numpy_reduceat_bit_for_bit() -> None:
    """Blocks of 1-300 citizens and large ones (past the 128 block and 8,192 buffer sizes)."""
    g = rng()
    sizes = np.concatenate([np.arange(1, 300), g.integers(1, 40_000, 20), [8191, 8192, 16_385]])
    g.shuffle(sizes)
    x = g.random(int(sizes.sum()), dtype=np.float32)
    x[::97] = np.float32(1.0)
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    ref1, ref2 = kn.NUMPY.city_sums(x, start, True)
    out1, out2 = compiled().city_sums(x, start, True)
    np.testing.assert_array_equal(out1.view(np.int64), ref1.view(np.int64))
    np.testing.assert_array_equal(out2.view(np.int64), ref2.view(np.int64))
    # known answer: the sums themselves, to float64 rounding
    ends = np.cumsum(sizes)
    np.testing.assert_allclose(
        out1[:3], [x[a:b].astype(float).sum() for a, b in zip(start[:3], ends[:3], strict=True)]
    )
    only = compiled().city_sums(x, start, False)
    np.testing.assert_array_equal(only[0], out1)
    assert not only[1].any()


def test_whole_runs_agree_bit_for_bit_between_backends(small_config: ScenarioConfig) -> None:
    """Yearly and quarterly (activity share below one) small runs: identical tables."""
    quarterly = dataclasses.replace(small_config, steps_per_year=4, end_year=2029)
    assert quarterly.parameters.interactions_per_year / 4 < 1.0, "should test the activity gate"
    for config in (small_config, quarterly):
        with kn.use_backend("numpy"):
            ref = simulate(config, 42)
        with kn.use_backend("numba"):
            jit = simulate(config, 42)
        for table in ("city_year", "installation_year", "eu_year"):
            pd.testing.assert_frame_equal(
                getattr(jit, table), getattr(ref, table), check_exact=True
            )


def test_backend_switch_and_bad_names(monkeypatch: pytest.MonkeyPatch) -> None:
    with kn.use_backend("numpy"):
        assert kn.backend() == "numpy" and kn.kernels() is kn.NUMPY
    with pytest.raises(ValueError, match="allowed: numba, numpy"), kn.use_backend("fortran"):
        pass
    monkeypatch.setenv(kn.ENV_VAR, "cuda")
    with pytest.raises(ValueError, match="GOVSIM_KERNELS='cuda'"):
        kn._default_backend()
    monkeypatch.setenv(kn.ENV_VAR, "numpy")
    assert kn._default_backend() == "numpy"


def test_both_backends_offer_the_same_kernels() -> None:
    """A new kernel needs a numpy reference and a compiled loop."""
    names = {
        "bounded_confidence",
        "apply_drivers",
        "adopt",
        "participation_logit",
        "participate",
        "assign_plants",
        "rank_within",
        "cumsum_within",
        "city_sums",
        "sme_cash_flow",
        "sme_settle",
    }
    assert set(vars(kn.NUMPY)) == set(vars(compiled())) == names


def test_sme_kernels_agree_bit_for_bit_and_settle_debts() -> None:
    """Cash flow and settling: negative and zero cash, defaulted firms, signed zeros."""

    def args() -> tuple[Any, ...]:
        g = rng()
        n = 2_000
        cash = g.normal(0.0, 2e5, n)
        cash[:20] = 0.0
        cash[20:40] = -0.0
        debt = np.where(g.random(n) < 0.5, 0.0, g.lognormal(11.0, 1.5, n))
        revenue = g.lognormal(15.0, 0.8, n)
        status = g.integers(0, 4, n).astype(np.int64)
        return cash, debt, revenue, status, g.random(n), status != 3

    def run(k: SimpleNamespace) -> tuple[np.ndarray, ...]:
        cash, debt, revenue, status, know_how, active = args()
        k.sme_cash_flow(know_how, cash, revenue, debt, active, 0.0125, 0.08, 0.05, 1.0)
        k.sme_settle(cash, debt, revenue, active, status, 0.6, 3)
        return cash, debt, status, know_how

    ref, out = run(kn.NUMPY), run(compiled())
    for a, b in zip(ref, out, strict=True):
        np.testing.assert_array_equal(a.view(np.int64), b.view(np.int64))  # the bits, zeros too
    cash, debt, status, _ = ref
    cash0, debt0, revenue, status0, _, active = args()
    # known answers: no negative cash, a firm holds cash or debt but not both, defaults by ratio
    assert (cash >= 0).all() and ((cash == 0) | (debt == 0)).all()
    flow = np.where(active, 0.08 * revenue - 0.05 * debt0, 0.0)
    np.testing.assert_allclose(cash - debt, cash0 + flow - debt0, rtol=1e-9, atol=1e-6)
    newly = active & (debt > 0.6 * revenue)
    assert newly.any() and (status[newly] == 3).all() and (status[~newly] == status0[~newly]).all()
