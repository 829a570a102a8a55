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

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from known_answer import ishigami, ishigami_indices

from abm.rng import point_seeds
from experiments import sensitivity as sa
from experiments.sensitivity.analysis import sobol_estimates
from experiments.sensitivity.emulator import (
    EmulatorOptions,
    categorical,
    compare_with_reference,
    draw_components,
)

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


# --- GP inputs: the posterior factor as the picked draw's components, categories one-hot -----

# A toy "posterior": 400 joint draws of three correlated parameters, sorted along their first
# principal component as experiment files sort them (experiments.experiment.order_draws); the
# toy model depends on the draw only through directions other than the first, so as a
# function of u (which picks draw floor(u n)) it jumps at random from draw to draw.
_RNG = np.random.default_rng(11)
_RAW = _RNG.multivariate_normal(
    [0.0, 0.0, 0.0], [[1.0, 0.5, 0.2], [0.5, 1.0, 0.1], [0.2, 0.1, 1.0]], 400
)


def _sorted_draws() -> np.ndarray:
    from experiments.experiment.definition import order_draws

    names = ("a", "b", "c")
    rows = order_draws([dict(zip(names, map(float, r), strict=True)) for r in _RAW])
    return np.array([[row[n] for n in names] for row in rows])


DRAWS = _sorted_draws()
_Z = (DRAWS - DRAWS.mean(axis=0)) / DRAWS.std(axis=0)
_, _, _VT = np.linalg.svd(_Z, full_matrices=False)
G = 0.5 * (_Z @ _VT[1]) + 0.3 * (_Z @ _VT[2])  # the draw's effect: its 2nd and 3rd components
TOY_FACTORS = (sa.FactorSpec("x1", 0.0, 1.0), sa.FactorSpec("posterior", 0.0, 1.0))
# the known answer: x1 and the draw are independent and act additively, so the draw's total
# index is the (population) variance of its effect over the draws over the total variance
TOY_ST = float(np.var(G)) / (4.0 / 12.0 + float(np.var(G)))


TOY_NOISE_SD = 0.1  # seed noise, as the model has: the GP's white-noise term is then used


def toy_posterior(x1: float, posterior: float, seed: int) -> float:
    """2 x1 plus the effect of the draw that ``posterior`` picks (as posterior_draw does)."""
    k = min(max(int(posterior * len(DRAWS)), 0), len(DRAWS) - 1)
    noise = float(np.random.default_rng(seed).normal(0.0, TOY_NOISE_SD))
    return 2.0 * x1 + float(G[k]) + noise


def _toy_study(options: EmulatorOptions) -> pd.Series:
    study = sa.Study("emulator", TOY_FACTORS, 128, seed=3, seeding="independent")
    result = sa.run_study(
        study,
        sa.function_evaluator(toy_posterior, study, [0]),
        bootstrap=0,
        replicates=1,
        emulator=options,
    )
    return result.indices().set_index(["index", "name"])["value"]


def test_draw_components_keep_the_variance_share_in_draw_order() -> None:
    enc = draw_components(DRAWS, share=0.9)
    assert enc.kind == "draws" and enc.table is not None
    assert enc.table.shape == (400, enc.width) and 1 <= enc.width <= 3
    assert enc.table.min() == 0.0 and enc.table.max() == 1.0
    assert np.allclose(enc.table.min(axis=0), 0) and np.allclose(enc.table.max(axis=0), 1)
    # u picks draw floor(u n): u = 0 the first draw, u = 1 the last, 0.5 the 200th
    picked = enc.encode(np.array([0.0, 0.5, 1.0]))
    assert np.array_equal(picked, enc.table[[0, 200, 399]])
    assert draw_components(DRAWS, share=1.0).width == 3
    with pytest.raises(ValueError, match="share"):
        draw_components(DRAWS, share=0.0)


def test_posterior_components_recover_the_draws_total_index() -> None:
    """As a function of u the GP sees noise and gives the draw ST ~0; on the picked draw's
    principal components it recovers the known ST."""
    plain = _toy_study(EmulatorOptions(restarts=2))
    mapped = _toy_study(
        EmulatorOptions(restarts=2, encodings={"posterior": draw_components(DRAWS, share=1.0)})
    )
    assert 0.2 < TOY_ST < 0.6
    assert plain[("ST", "posterior")] < 0.05  # the u-mapping: the draw read as noise
    assert mapped[("ST", "posterior")] == pytest.approx(TOY_ST, abs=0.04)
    assert mapped[("ST", "x1")] == pytest.approx(1 - TOY_ST, abs=0.04)
    assert abs(mapped[("ST", sa.DUMMY)]) < 0.01


CATEGORY_EFFECT = np.array([0.0, 2.0, -1.0])


def toy_choice(x1: float, rule: float) -> float:
    """x1 plus the effect of the category ``rule`` picks in equal thirds (as Factor.choice)."""
    return x1 + float(CATEGORY_EFFECT[min(int(rule * 3), 2)])


def test_categorical_factor_enters_one_hot_and_gets_its_known_index() -> None:
    enc = categorical(3)
    assert np.array_equal(enc.encode(np.array([0.1, 0.34, 0.99, 1.0])), np.eye(3)[[0, 1, 2, 2]])
    study = sa.Study("emulator", (sa.FactorSpec("x1", 0, 1), sa.FactorSpec("rule", 0, 1)), 64)
    options = EmulatorOptions(restarts=0, encodings={"rule": enc})
    result = sa.run_study(
        study, sa.function_evaluator(toy_choice, study, [0]), bootstrap=0, emulator=options
    )
    st = result.indices().set_index(["index", "name"])["value"]
    v_rule = float(np.var(CATEGORY_EFFECT))
    assert st[("ST", "rule")] == pytest.approx(v_rule / (v_rule + 1 / 12), abs=0.03)
    assert "one-hot over 3 choices" in result.noise().iloc[0]["gp_inputs"]


def test_emulator_options_refuse_bad_settings() -> None:
    with pytest.raises(ValueError, match="restarts"):
        EmulatorOptions(restarts=-1)
    study = sa.Study("emulator", TOY_FACTORS, 32)
    with pytest.raises(ValueError, match="not in the study: nope"):
        EmulatorOptions(encodings={"nope": categorical(2)}).inputs(study)


# --- --runs-from: the stored runs of an earlier study, checked against the design ------------


def _stored_dir(tmp_path: Path, study: sa.Study, reps: int) -> tuple[Path, np.ndarray]:
    """A study directory with sweep/runs.parquet as the sweep writes it (y = 10 x1 + seed %)."""
    design = study.design()
    seeds = point_seeds(study.seed, len(design), reps)
    rows = []
    for i, row in enumerate(design):
        for r in range(reps):
            rows.append(
                {
                    "point": i,
                    "replicate": r,
                    "seed": int(seeds[i, r]),
                    "status": "ok" if (i, r) != (3, 1) else "failed",
                    **{f.name: float(v) for f, v in zip(study.factors, row, strict=False)},
                    "y": 10.0 * float(row[0]) + int(seeds[i, r]) % 7,
                }
            )
    (tmp_path / "sweep").mkdir(parents=True)
    pd.DataFrame(rows).sample(frac=1.0, random_state=0).to_parquet(tmp_path / "sweep/runs.parquet")
    (tmp_path / "study.json").write_text(
        json.dumps({"study": study.as_dict(), "experiment": "x.toml", "replicates": reps})
    )
    return tmp_path, seeds


def test_stored_runs_are_read_back_in_design_order(tmp_path: Path) -> None:
    from experiments.sensitivity.evaluate import stored_evaluator

    study = sa.Study("emulator", FACTORS[:2], 32, seed=3, seeding="independent")
    directory, seeds = _stored_dir(tmp_path, study, 2)
    design = study.design()
    out, _ = stored_evaluator(directory, study, [0, 1], ["y"])(design[:, :-1], seeds)
    expected = 10.0 * design[:, :1] + seeds % 7
    expected[3, 1] = np.nan  # the failed run
    assert np.array_equal(out["y"], expected, equal_nan=True)


def test_stored_runs_of_another_design_or_seeding_are_refused(tmp_path: Path) -> None:
    from experiments.errors import BadInput
    from experiments.sensitivity.command import _stored_study
    from experiments.sensitivity.evaluate import stored_evaluator

    study = sa.Study("emulator", FACTORS[:2], 32, seed=3, seeding="independent")
    directory, seeds = _stored_dir(tmp_path, study, 2)
    evaluate = stored_evaluator(directory, study, [0, 1], ["y"])
    design = study.design()[:, :-1]
    with pytest.raises(BadInput, match="seeds: stored"):
        evaluate(design, seeds + 1)
    with pytest.raises(BadInput, match="factor x2: stored value"):
        evaluate(design * [1.0, 0.5], seeds)
    with pytest.raises(BadInput, match="64 stored runs; the design has 16 points"):
        evaluate(design[:16], seeds[:16])
    with pytest.raises(BadInput, match="missing columns nope"):
        stored_evaluator(directory, study, [0, 1], ["nope"])
    assert _stored_study(directory, study, 2)["replicates"] == 2
    other = sa.Study("emulator", FACTORS[:2], 64, seed=3, seeding="independent")
    with pytest.raises(BadInput, match="differs in: samples; samples: stored 32, now 64"):
        _stored_study(directory, other, 2)
    with pytest.raises(BadInput, match="2 replicates per point, the experiment file 3"):
        _stored_study(directory, study, 3)
    with pytest.raises(BadInput, match=r"no sweep/runs\.parquet"):
        stored_evaluator(tmp_path / "sweep", study, [0, 1], ["y"])
