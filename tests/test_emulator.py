"""Known-answer tests of replicated, noise-aware Sobol and of emulator-based indices (issue 13).

Replicated Sobol: Ishigami plus N(0, s^2) noise with R independent seeds per design row. The
indices of the R-replicate mean response are known: the first-order estimator is unbiased for
V_i / (V + s^2/R), the total-order one (Jansen) for (V_Ti + s^2/R) / (V + s^2/R), and the
dummy's total index is (s^2/R) / (V + s^2/R), so the dummy's interval must hold that value
and exclude 0; the seed-variance share of single runs is s^2 / (V + s^2).

Emulator: a GP fitted on a Sobol' design of Ishigami runs with noise recovers the analytic
indices; the dummy gets ~0. The full-size version is slow (marked); CI runs a reduced one.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from known_answer import ishigami, ishigami_indices

from abm.rng import point_seeds
from experiments import sensitivity as sa
from experiments.sensitivity.analysis import sobol_estimates
from experiments.sensitivity.emulator import compare_with_reference

PI = math.pi
FACTORS = tuple(sa.FactorSpec(name, -PI, PI) for name in ("x1", "x2", "x3"))
NOISE_SD = 2.0
R = 3
V = 7.0**2 / 8 + 0.1 * PI**4 / 5 + 0.1**2 * PI**8 / 18 + 0.5  # Ishigami variance, a=7 b=0.1


def noisy(x1: float, x2: float, x3: float, seed: int) -> float:
    """Ishigami plus N(0, NOISE_SD^2) noise drawn from the run's seed only."""
    return ishigami(x1, x2, x3) + float(np.random.default_rng(seed).normal(0.0, NOISE_SD))


def _replicated(samples: int, seed: int) -> sa.StudyResult:
    study = sa.Study("sobol", FACTORS, samples, seed=seed, seeding="independent")
    evaluator = sa.function_evaluator(noisy, study, list(range(R)))
    return sa.run_study(study, evaluator, bootstrap=100, replicates=R)


def test_point_seeds_are_independent_and_prefix_stable() -> None:
    seeds = point_seeds(5, 50, 3)
    assert seeds.shape == (50, 3)
    assert len(np.unique(seeds)) == seeds.size
    assert (point_seeds(5, 10, 3) == seeds[:10]).all()
    assert not (point_seeds(6, 10, 3) == seeds[:10]).any()


def test_sobol_estimates_match_salib() -> None:
    study = sa.Study("sobol", FACTORS, 64, seed=1)
    X = study.design()
    y = np.array([ishigami(*row[:3]) for row in X])
    ours = sobol_estimates(y.reshape(64, study.units + 2))
    salib = sa.analyse("sobol", study.problem(), X, y, seed=3)
    for index, mine in zip(("S1", "ST"), ours, strict=True):
        theirs = salib[salib["index"] == index]["value"].to_numpy()
        assert np.allclose(mine, theirs, atol=1e-12)


def test_replicated_sobol_recovers_noise_share_and_noisy_indices() -> None:
    result = _replicated(512, seed=2)
    noise = result.noise().iloc[0]
    assert noise["noise_share"] == pytest.approx(NOISE_SD**2 / (V + NOISE_SD**2), abs=0.04)
    frame = result.indices().set_index(["index", "name"])
    mean_noise = NOISE_SD**2 / R
    dummy = frame.loc[("ST", sa.DUMMY)]
    expected = mean_noise / (V + mean_noise)
    assert dummy["joint_ci_low"] <= expected <= dummy["joint_ci_high"]
    assert dummy["joint_ci_low"] > 0.0  # the dummy's index has an interval away from zero
    known = ishigami_indices()
    for k, name in enumerate(("x1", "x2", "x3")):
        st_expected = (known["ST"][k] * V + mean_noise) / (V + mean_noise)
        assert frame.loc[("ST", name), "value"] == pytest.approx(st_expected, abs=0.06)
    # x1 and x2 stand above the noise floor, x3's first-order index does not
    assert frame.loc[("ST", "x1"), "above_dummy"] and frame.loc[("ST", "x2"), "above_dummy"]
    assert not frame.loc[("S1", "x3"), "above_dummy"]


def test_common_seeds_leave_the_dummy_at_zero() -> None:
    study = sa.Study("sobol", FACTORS, 64, seed=2)
    result = sa.run_study(study, sa.function_evaluator(noisy, study, [0, 1]), bootstrap=10)
    frame = result.indices().set_index(["index", "name"])
    assert frame.loc[("ST", sa.DUMMY), "value"] == 0.0


def noisy_small(x1: float, x2: float, x3: float, seed: int) -> float:
    """Ishigami plus N(0, 0.5^2) noise."""
    return ishigami(x1, x2, x3) + float(np.random.default_rng(seed).normal(0.0, 0.5))


def _emulator(samples: int, bootstrap: int) -> sa.StudyResult:
    study = sa.Study("emulator", FACTORS, samples, seed=1, seeding="independent")
    return sa.run_study(study, sa.function_evaluator(noisy_small, study, [0]), bootstrap=bootstrap)


def _check_emulator(result: sa.StudyResult, tol: float) -> None:
    frame = result.indices().set_index(["index", "name"])
    known = ishigami_indices()
    for index in ("S1", "ST"):
        for k, name in enumerate(("x1", "x2", "x3")):
            assert frame.loc[(index, name), "value"] == pytest.approx(known[index][k], abs=tol)
        assert abs(frame.loc[(index, sa.DUMMY), "value"]) < 0.02
    assert frame.loc[("ST", "x3"), "above_dummy"]


def test_emulator_reduced() -> None:
    """CI version: 128 runs, few refits; looser tolerance."""
    _check_emulator(_emulator(128, bootstrap=5), tol=0.12)


@pytest.mark.slow
def test_emulator_full() -> None:
    result = _emulator(256, bootstrap=50)
    _check_emulator(result, tol=0.05)
    frame = result.indices().set_index(["index", "name"])
    known = ishigami_indices()
    for k, name in enumerate(("x1", "x2", "x3")):
        row = frame.loc[("ST", name)]
        assert row["ci_low"] - 0.03 <= known["ST"][k] <= row["ci_high"] + 0.03
    assert result.noise().iloc[0]["heldout_r2"] > 0.7
    conv = result.convergence()
    assert set(conv["n_runs"]) == {32, 64, 128, 256}


def test_compare_with_reference_flags_inside() -> None:
    import pandas as pd

    em = pd.DataFrame(
        {
            "outcome": "y",
            "name": ["a", "b"],
            "index": "ST",
            "value": [0.5, 0.9],
            "ci_low": [0.4, 0.8],
            "ci_high": [0.6, 1.0],
        }
    )
    ref = em.assign(value=[0.52, 0.5], ci_low=[0.45, 0.45], ci_high=[0.6, 0.55])
    out = compare_with_reference(em, ref)
    assert out["inside"].tolist() == [True, False]


def test_on_noisy_footing_formula() -> None:
    from experiments.sensitivity.emulator import on_noisy_footing

    # V = 3, one run's noise 6, R = 3 -> nu = 2: S1 0.5 -> 0.3, ST 0.5 -> (1.5 + 2) / 5
    assert on_noisy_footing("S1", 0.5, 3.0, 6.0, 3) == pytest.approx(0.3)
    assert on_noisy_footing("ST", 0.5, 3.0, 6.0, 3) == pytest.approx(0.7)
    assert on_noisy_footing("ST", 0.0, 3.0, 6.0, 3) == pytest.approx(0.4)  # the dummy


def noisy_one(x1: float, x2: float, x3: float, seed: int) -> float:
    """Ishigami plus N(0, 1) noise."""
    return ishigami(x1, x2, x3) + float(np.random.default_rng(seed).normal(0.0, 1.0))


def test_emulator_matches_noisy_brute_force_after_correction() -> None:
    """Ishigami + N(0, 1), R = 3 seeds a point in both studies: the emulator's ST, put on the
    footing of 3-replicate means, lie in the brute force's 95% intervals (N = 256); the
    uncorrected dummy (~0) lies below its interval, the corrected one near (1/3) / (V + 1/3)."""
    brute_study = sa.Study("sobol", FACTORS, 256, seed=4, seeding="independent")
    brute = sa.run_study(
        brute_study,
        sa.function_evaluator(noisy_one, brute_study, list(range(R))),
        bootstrap=100,
        replicates=R,
    )
    study = sa.Study("emulator", FACTORS, 128, seed=5, seeding="independent")
    em = sa.run_study(
        study, sa.function_evaluator(noisy_one, study, list(range(R))), bootstrap=5, replicates=R
    )
    assert em.noise().iloc[0]["emulator_noise_variance"] == pytest.approx(1.0, rel=0.5)
    out = compare_with_reference(
        em.indices(), brute.indices(), emulator_noise=em.noise(), reference_replicates=R
    )
    st = out[out["index"] == "ST"].set_index("name")
    assert st["inside"].all(), st
    dummy = st.loc[sa.DUMMY]
    assert dummy["emulator"] < dummy["brute_force_low"]
    assert dummy["emulator_comparable"] == pytest.approx((1 / R) / (V + 1 / R), rel=0.3)
