"""The committed posterior: loads, lies in the priors, and its medians are the model defaults."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from abm.config import PARAMETER_META, Parameters
from calibration import posterior, smc

ROOT = Path(__file__).resolve().parents[1]


def apply_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "apply_posterior", ROOT / "scripts" / "apply_posterior.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["apply_posterior"] = module
    spec.loader.exec_module(module)
    return module


def test_committed_posterior_matches_the_spec_and_priors() -> None:
    post = posterior.load_posterior()
    assert post.names == smc.load_spec().parameters
    assert len(post.draws) >= 500
    for name in post.names:
        values = post.draws[name].to_numpy()
        assert (
            PARAMETER_META[name]["low"]
            <= values.min()
            <= values.max()
            <= PARAMETER_META[name]["high"]
        )
    assert post.manifest["kind"] == "calibration"
    assert post.run_id.startswith("calibration-")


def test_defaults_are_the_posterior_medians() -> None:
    post = posterior.load_posterior()
    defaults = Parameters()
    summary = post.summary.set_index("name")
    for name, median in post.point_estimate().items():
        assert getattr(defaults, name) == posterior.rounded(median), name
        assert PARAMETER_META[name]["source"].startswith("calibrated:"), name
        assert post.run_id in PARAMETER_META[name]["source"], name
        assert summary.loc[name, "q05"] <= getattr(defaults, name) <= summary.loc[name, "q95"]


def test_sampling_is_reproducible_and_uses_the_draws() -> None:
    post = posterior.load_posterior()
    a = post.sample(50, seed=3)
    assert a == post.sample(50, seed=3)
    assert a != post.sample(50, seed=4)
    name = post.names[0]
    assert set(d[name] for d in a) <= set(post.draws[name].astype(float))


def test_apply_posterior_rewrites_value_and_source_and_is_idempotent() -> None:
    script = apply_script()
    text = (ROOT / "abm" / "config.py").read_text()
    post = posterior.load_posterior()
    assert script.rewrite(text, post.point_estimate(), post.run_id) == text
    changed = script.rewrite(text, {"skill_initial_mean": 0.4567}, "calibration-X")
    assert "0.457," in changed
    assert "calibrated: posterior median of calibration-X (prior: " in changed
    # a second calibration keeps the original prior source, not a nested one
    again = script.rewrite(changed, {"skill_initial_mean": 0.5}, "calibration-Y")
    assert again.count("(prior: ") == changed.count("(prior: ")
    with pytest.raises(SystemExit, match="not found"):
        script.rewrite(text, {"no_such_parameter": 1.0}, "x")


def test_point_estimate_is_a_weighted_median() -> None:
    post = posterior.load_posterior()
    particles = posterior.summarise(
        post.draws.assign(weight=np.full(len(post.draws), 1.0 / len(post.draws)))
    ).set_index("name")
    for name, median in post.point_estimate().items():
        spread = particles.loc[name, "q95"] - particles.loc[name, "q05"]
        assert abs(particles.loc[name, "median"] - median) <= 0.1 * spread + 1e-9, name


def test_compare_posteriors_accepts_itself_and_flags_a_shifted_copy(tmp_path: Path) -> None:
    import shutil

    spec = importlib.util.spec_from_file_location(
        "compare_posteriors", ROOT / "scripts" / "compare_posteriors.py"
    )
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    committed = posterior.POSTERIOR_DIR
    assert script.main([str(committed), str(committed)]) == 0
    shifted = tmp_path / "shifted"
    shutil.copytree(committed, shifted)
    summary = pd.read_csv(shifted / "summary.csv")
    first = summary.index[0]
    width = summary.loc[first, "q95"] - summary.loc[first, "q05"]
    summary.loc[first, "median"] += 0.5 * width
    summary.to_csv(shifted / "summary.csv", index=False)
    params, targets = script.compare(committed, shifted, 0.25)
    assert not params["ok"].iloc[0] and params["ok"].iloc[1:].all()
    assert targets["ok"].all()
    assert script.main([str(committed), str(shifted)]) == 1


@pytest.mark.xfail(
    strict=True,
    reason="issue 12 done-when not met by calibration-20261204T1442Z-2e080d: 2 of 16 NPE "
    "5%/95% quantiles lie within 2% of a bound (was 4; the idea rate's q95 3.930 of 4.0 is now "
    "at 2.0%, council openness's q05 0.313 of 0.3 at 2.6%): skill_initial_mean (q95 0.5974 of "
    "0.6; one skill reads the technical-knowledge and emissions-tools ratings, which want more "
    "of it than delivery does) and alignment_initial_shift (q05 -0.492 of -0.5; fragmentation "
    "of responsibilities between levels is not modelled, so the fragmentation rating pulls "
    "alignment down); neither is a physical limit (README, Calibration)",
)
def test_no_posterior_presses_a_prior_bound_unless_it_is_a_physical_limit() -> None:
    """Issue 12: no 5%/95% quantile within 2% of the range of a prior bound, unless the
    registry says that bound is a physical limit (then the mechanism is named there)."""
    post = posterior.load_posterior()
    summary = post.summary.set_index("name")
    pressing = []
    for name in post.names:
        lo, hi = PARAMETER_META[name]["low"], PARAMETER_META[name]["high"]
        margin = 0.02 * (hi - lo)
        q05, q95 = summary.loc[name, "q05"], summary.loc[name, "q95"]
        if (q05 - lo < margin or hi - q95 < margin) and "physical limit" not in str(
            PARAMETER_META[name]["source"]
        ):
            pressing.append((name, q05, q95, lo, hi))
    assert not pressing, pressing


def test_committed_coverage_is_calibrated_for_identified_parameters() -> None:
    """Issue 12: the coverage test of the default engine on >= 100 synthetic surveys (for the
    NPE: the recalibrated ensemble, engine ``npe``; its raw mixture is ``npe_raw``)."""
    cov = pd.read_csv(posterior.POSTERIOR_DIR / "coverage.csv")
    engine = posterior.load_posterior().manifest.get("engine", "npe")
    part = cov[cov["engine"] == ("npe" if engine == "npe" else "abc_rejection")]
    assert len(part) == len(smc.load_spec().parameters)
    assert (part["n_surveys"] >= 100).all()
    identified = part[part["identified"]]
    assert len(identified) > 0
    bad = identified[~identified["coverage_90"].between(0.85, 0.95)]
    assert bad.empty, bad.to_string()


def test_split_uncertainty_separates_parameter_from_seed_noise() -> None:
    """Known answer: effects = draw effect (sd 2) + seed noise (sd 0.5), two seeds per draw."""
    from types import SimpleNamespace

    from calibration.uncertainty import SEEDS_PER_DRAW, split_uncertainty

    rng = np.random.default_rng(0)
    n_draws = 400
    draw_effect = np.repeat(rng.normal(0.0, 2.0, n_draws), SEEDS_PER_DRAW)
    effect = draw_effect + rng.normal(0.0, 0.5, draw_effect.size)
    base = [SimpleNamespace(seed=i, headline={"x": 10.0}) for i in range(effect.size)]
    lever = [SimpleNamespace(seed=i, headline={"x": 10.0 + e}) for i, e in enumerate(effect)]
    table = split_uncertainty({"baseline": base, "lever": lever}, "baseline").iloc[0]
    assert table["draws"] == n_draws
    assert table["sd_seed_noise"] == pytest.approx(0.5, rel=0.1)
    assert table["sd_parameter"] == pytest.approx(2.0, rel=0.1)
    assert table["parameter_share_of_variance"] > 0.9


def test_sweep_posterior_gives_each_replicate_its_draw_and_factors_win() -> None:
    """--posterior for sweep/sensitivity: draw r for replicate seed r; a design factor overrides."""
    import dataclasses

    from experiments.experiment import load_experiment

    study = ROOT / "experiments" / "studies" / "sweep_levers.toml"  # no [posterior] table
    exp = load_experiment(study)
    post = posterior.load_posterior()
    draws = post.sample(exp.replicates, exp.seed)
    exp = dataclasses.replace(exp, parameter_sets=tuple(draws))
    values = {f.name: (f.low + f.high) / 2 for f in exp.factors}
    seeds = exp.seeds()
    for r, seed in enumerate(seeds[:2]):
        params = exp.config_for(values, 0, seed).parameters
        for name, value in draws[r].items():
            expected = values.get(name, value)
            assert getattr(params, name) == pytest.approx(expected), name
    # without a seed (or without draws) the base scenario's parameters are used
    plain = exp.config_for(values, 0).parameters
    name = next(n for n in post.names if n not in values)
    assert getattr(plain, name) == getattr(exp.base.parameters, name)
