"""A ``[posterior]`` table in experiment files: calibrated parameters as joint posterior draws.

Issue 13: sensitivity and sweep studies sample the calibrated parameters from the committed
posterior (one factor whose value picks a joint draw), not over their priors, while the deep
uncertainties stay named factors.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibration.posterior import POSTERIOR_DIR
from experiments.errors import BadInput
from experiments.experiment import ExperimentError, load_experiment
from experiments.experiment.definition import POSTERIOR_FACTOR, order_draws
from experiments.sensitivity.design import factors_of

EXPERIMENTS_DIR = Path(__file__).resolve().parents[1] / "experiments"
SA_LEVERS = EXPERIMENTS_DIR / "studies" / "sa_levers.toml"
BASELINE = (EXPERIMENTS_DIR / "scenarios" / "baseline.toml").as_posix()
HEAD = f"""\
[experiment]
name = "t"
scenario = "{BASELINE}"
seed = 3
replicates = 2
"""
POSTERIOR = f'\n[posterior]\ndirectory = "{POSTERIOR_DIR.as_posix()}"\n'


def write(directory: Path, text: str) -> Path:
    """Write an experiment file and return its path."""
    path = directory / "exp.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> tuple[str, ...]:
    """The problem lines of loading ``path`` (fails the test if it loads)."""
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    return info.value.problems


def test_sa_levers_draws_calibrated_parameters_from_the_posterior() -> None:
    """20 factors: 8 levers, 11 deep uncertainties, one posterior factor; none calibrated twice."""
    exp = load_experiment(SA_LEVERS)
    kinds = [f.kind for f in exp.factors]
    assert len(exp.factors) == 20
    assert kinds.count("lever") == 8 and kinds.count("posterior") == 1
    calibrated = set(pd.read_csv(POSTERIOR_DIR / "draws.csv").columns)
    params = {f.name for f in exp.factors if f.kind == "parameter"}
    assert len(params) == 11 and not params & calibrated
    assert "abatement_capex_eur_per_tco2_per_year" in params
    assert exp.posterior_info["n_draws"] == len(exp.posterior_draws) == 1000
    (post,) = [f for f in exp.factors if f.kind == "posterior"]
    assert (post.low, post.high, post.group) == (0.0, 1.0, "calibrated_posterior")
    assert ("posterior", 0.0, 1.0, "calibrated_posterior") in [
        (s.name, s.low, s.high, s.group) for s in factors_of(exp)
    ]


def test_posterior_value_sets_one_whole_joint_draw(tmp_path: Path) -> None:
    """A posterior value picks draw floor(u n): every calibrated parameter from the same row."""
    exp = load_experiment(write(tmp_path, HEAD + POSTERIOR))
    draws = pd.read_csv(POSTERIOR_DIR / "draws.csv")
    n = len(draws)
    for u, index in ((0.0, 0), (0.5, n // 2), (0.9999, n - 1), (1.0, n - 1)):
        config = exp.config_for({POSTERIOR_FACTOR: u}, index=0)
        values = np.array([getattr(config.parameters, c) for c in draws.columns])
        assert np.allclose(values, [exp.posterior_draws[index][c] for c in draws.columns])
        # a joint draw: the whole parameter vector is one row of the committed draws
        assert np.isclose(draws.to_numpy(), values, rtol=1e-12, atol=0).all(axis=1).any()
    low = exp.config_for({POSTERIOR_FACTOR: 0.0}).parameters
    high = exp.config_for({POSTERIOR_FACTOR: 1.0}).parameters
    assert low != high


def test_draws_are_ordered_along_their_main_axis() -> None:
    """Known answer: points on a line are sorted by position, whatever order they came in."""
    t = np.array([3.0, -1.0, 2.0, 0.0, 1.0])
    draws = [{"a": float(x), "b": float(-2 * x + 5)} for x in t]
    ordered = order_draws(draws)
    a = [d["a"] for d in ordered]
    assert a == sorted(a) or a == sorted(a, reverse=True)
    # the sign is fixed by the largest loading (|b| > |a| in standard units is a tie; b wins
    # only if larger), so the order is reproducible
    assert order_draws(list(reversed(draws))) == ordered


def test_posterior_alone_is_a_factor(tmp_path: Path) -> None:
    """A file whose only factor is the posterior loads (no 'no factors' error)."""
    exp = load_experiment(write(tmp_path, HEAD + POSTERIOR))
    assert exp.factor_names == [POSTERIOR_FACTOR]


BAD = {
    "unknown_key": (
        POSTERIOR + "draws = 10\n",
        "posterior.draws",
        "unknown key 'draws'; allowed: directory, group",
    ),
    "missing_directory": (
        '\n[posterior]\ndirectory = "no/such/posterior"\n',
        "posterior.directory",
        "not a posterior directory",
    ),
    "calibrated_also_uncertain": (
        "\n[uncertainties.staff_fte_per_10k_residents]\n" + POSTERIOR,
        "uncertainties.staff_fte_per_10k_residents",
        "is calibrated: the [posterior] table draws it jointly",
    ),
    "package_named_posterior": (
        '\n[packages]\nposterior = ["simplification"]\n' + POSTERIOR,
        "packages.posterior",
        "is the posterior factor's",
    ),
    "bad_group": (
        POSTERIOR + 'group = ""\n',
        "posterior.group",
        "expected a non-empty group name",
    ),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_posterior_tables_name_file_key_and_what_is_allowed(case: str, tmp_path: Path) -> None:
    """Each problem names the file, the dotted key and what is allowed."""
    text, key, fragment = BAD[case]
    path = write(tmp_path, HEAD + text)
    lines = problems_of(path)
    prefix = f"{path.resolve()}: {key}: "
    matching = [line for line in lines if line.startswith(prefix)]
    assert matching, f"no problem for {key} in {lines}"
    assert any(fragment in line for line in matching), matching


def test_posterior_factor_and_posterior_option_do_not_mix(tmp_path: Path) -> None:
    """--posterior (one draw per seed) on a file with a [posterior] table is bad input."""
    exp = load_experiment(write(tmp_path, HEAD + POSTERIOR))
    with pytest.raises(BadInput, match="cannot be combined"):
        dataclasses.replace(exp, parameter_sets=({"staff_fte_per_10k_residents": 3.0},))
