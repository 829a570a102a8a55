"""Experiment files: shipped ones load, bad input fails loudly, designs and configs are right."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from abm.config import PARAMETER_META
from abm.outputs import SimulationResult
from abm.policies import LEVER_NAMES, LeverSetting
from abm.rng import design_seed, replicate_seeds
from experiments.errors import BadInput
from experiments.experiment import (
    Experiment,
    ExperimentError,
    design_points,
    headline_outcome_names,
    load_experiment,
)
from experiments.scenario import load_scenario

EXPERIMENTS_DIR = Path(__file__).resolve().parents[1] / "experiments"
SMOKE = EXPERIMENTS_DIR / "studies" / "smoke.toml"
BASELINE = (EXPERIMENTS_DIR / "scenarios" / "baseline.toml").as_posix()
HEAD = f"""\
[experiment]
name = "t"
scenario = "{BASELINE}"
seed = 3
replicates = 2
"""
ONE_FACTOR = "\n[uncertainties.skill_turnover_per_year]\n"


def write(directory: Path, text: str, name: str = "exp.toml") -> Path:
    """Write an experiment file and return its path."""
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> tuple[str, ...]:
    """The problem lines of loading ``path`` (fails the test if it loads)."""
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    return info.value.problems


@pytest.fixture(scope="module")
def smoke() -> Experiment:
    """The shipped smoke experiment."""
    return load_experiment(SMOKE)


# --- shipped files and headline names -------------------------------------------------------


def test_headline_outcomes_match_the_model(small_result: SimulationResult) -> None:
    """The outcome names used for validation (from a tiny run) are what a normal run reports."""
    assert headline_outcome_names() == tuple(small_result.headline())
    assert "emissions_reduction_2050_pct" in headline_outcome_names()


def test_smoke_experiment_loads(smoke: Experiment) -> None:
    """smoke.toml: its base scenario with a small EU to 2035, three factors of three kinds."""
    assert smoke.name == "smoke"
    assert smoke.path == SMOKE.resolve()
    assert (smoke.seed, smoke.replicates, smoke.design, smoke.samples) == (1, 2, "lhs", 8)
    assert smoke.seeds() == replicate_seeds(1, 2)
    assert smoke.base.end_year == 2035
    assert smoke.base.population.n_non_mission_cities == 40
    assert smoke.base.population.residents_per_citizen == 20000.0
    assert smoke.base.population.generated_installations == 20
    baseline = load_scenario(EXPERIMENTS_DIR / "scenarios" / "baseline.toml")
    assert smoke.base.parameters == baseline.parameters
    assert smoke.base.levers == baseline.levers
    assert [(f.name, f.kind, f.low, f.high, f.group) for f in smoke.factors] == [
        ("skill_turnover_per_year", "parameter", 0.05, 0.15, "skill_turnover_per_year"),
        ("capacity_building", "lever", 0.0, 1.0, "capacity_building"),
        ("finance", "package", 0.0, 1.0, "finance"),
    ]
    assert dict(smoke.packages) == {"finance": ("enhanced_financing", "simplification")}
    assert dict(smoke.start_years) == {
        "capacity_building": 2026,
        "enhanced_financing": 2026,
        "simplification": 2026,
    }
    assert smoke.bounds() == [(0.05, 0.15), (0.0, 1.0), (0.0, 1.0)]
    assert all(name in headline_outcome_names() for name in smoke.outcomes)


def test_sweep_levers_has_every_lever_and_six_uncertainties() -> None:
    """sweep_levers.toml: all eight levers over [0, 1] and six parameters over their range."""
    exp = load_experiment(EXPERIMENTS_DIR / "studies" / "sweep_levers.toml")
    levers = [f for f in exp.factors if f.kind == "lever"]
    params = [f for f in exp.factors if f.kind == "parameter"]
    assert sorted(f.name for f in levers) == sorted(LEVER_NAMES)
    assert all((f.low, f.high) == (0.0, 1.0) for f in levers)
    assert len(params) == 6
    for f in params:
        assert (f.low, f.high) == (PARAMETER_META[f.name]["low"], PARAMETER_META[f.name]["high"])
    assert exp.base.name == "calibration_setup"


def test_defaults_of_optional_keys(tmp_path: Path) -> None:
    """Without design, samples or outcomes: LHS, 16 samples, every headline outcome;
    an empty [uncertainties.x] table spans the parameter's registry range."""
    exp = load_experiment(write(tmp_path, HEAD + ONE_FACTOR))
    assert (exp.design, exp.samples, exp.outcomes) == ("lhs", 16, headline_outcome_names())
    meta = PARAMETER_META["skill_turnover_per_year"]
    assert exp.bounds() == [(meta["low"], meta["high"])]
    assert exp.scenario_path == Path(BASELINE).resolve()


def test_package_table_form_and_group_keys(tmp_path: Path) -> None:
    """A package may be a table with its own range and start year; factors may name a group."""
    text = (
        HEAD
        + '[uncertainties.discount_rate]\ngroup = "economics"\n'
        + '[levers.capacity_building]\nhigh = 0.5\ngroup = "capacity"\n'
        + "[packages]\n"
        + 'gov = {levers = ["dialogue_platforms", "climate_city_contracts"], low = 0.2, '
        + "start_year = 2030}\n"
    )
    exp = load_experiment(write(tmp_path, text))
    assert [(f.name, f.kind, f.low, f.high, f.group) for f in exp.factors] == [
        ("discount_rate", "parameter", 0.04, 0.1, "economics"),
        ("capacity_building", "lever", 0.0, 0.5, "capacity"),
        ("gov", "package", 0.2, 1.0, "gov"),
    ]
    assert exp.start_years["dialogue_platforms"] == 2030
    assert exp.start_years["capacity_building"] == 2026  # the base scenario's start year
    assert exp.salib_problem(groups=True)["groups"] == ["economics", "capacity", "gov"]


# --- validation: each bad key names the file, the dotted key and what is allowed ------------

BAD_CASES = {
    "unknown_table": (
        HEAD + ONE_FACTOR + "[experimnt]\n",
        "experimnt",
        "unknown table or key 'experimnt'; allowed: experiment, uncertainties, levers, "
        "packages, posterior, choices; did you mean 'experiment'?",
    ),
    "unknown_key": (
        HEAD + "sead = 4\n" + ONE_FACTOR,
        "experiment.sead",
        "did you mean 'seed'?",
    ),
    "missing_seed": (
        HEAD.replace("seed = 3\n", "") + ONE_FACTOR,
        "experiment.seed",
        "required; the master seed, an integer >= 0",
    ),
    "seed_type": (
        HEAD.replace("seed = 3", 'seed = "3"') + ONE_FACTOR,
        "experiment.seed",
        "expected an integer >= 0, got '3' (string)",
    ),
    "seed_negative": (
        HEAD.replace("seed = 3", "seed = -1") + ONE_FACTOR,
        "experiment.seed",
        "-1 out of range; expected an integer >= 0",
    ),
    "replicates_zero": (
        HEAD.replace("replicates = 2", "replicates = 0") + ONE_FACTOR,
        "experiment.replicates",
        "0 out of range; expected an integer in [1, 100000]",
    ),
    "replicates_float": (
        HEAD.replace("replicates = 2", "replicates = 2.0") + ONE_FACTOR,
        "experiment.replicates",
        "expected an integer in [1, 100000], got 2.0 (float)",
    ),
    "bad_name": (
        HEAD.replace('name = "t"', 'name = "my sweep"') + ONE_FACTOR,
        "experiment.name",
        "'my sweep' not allowed",
    ),
    "design": (
        HEAD + 'design = "latin"\n' + ONE_FACTOR,
        "experiment.design",
        "unknown design 'latin'; allowed: lhs, factorial, grid, sobol, morris",
    ),
    "sobol_samples": (
        HEAD + 'design = "sobol"\nsamples = 100\n' + ONE_FACTOR,
        "experiment.samples",
        "100 with design 'sobol': Sobol' sequences need a power of 2",
    ),
    "outcome_name": (
        HEAD + 'outcomes = ["emission_cut"]\n' + ONE_FACTOR,
        "experiment.outcomes[0]",
        "unknown outcome 'emission_cut'; allowed: emissions_reduction_2030_pct",
    ),
    "outcome_type": (
        HEAD + 'outcomes = "funds_absorbed_eur"\n' + ONE_FACTOR,
        "experiment.outcomes",
        "expected a non-empty array of outcome names, got 'funds_absorbed_eur' (string)",
    ),
    "outcome_after_end": (
        HEAD
        + 'outcomes = ["emissions_reduction_2050_pct"]\n[experiment.time]\nend_year = 2035\n'
        + ONE_FACTOR,
        "experiment.outcomes[0]",
        "measured in 2050, outside the simulated years 2025-2035",
    ),
    "scenario_missing": (
        HEAD.replace(BASELINE, "nope.toml") + ONE_FACTOR,
        "experiment.scenario",
        "base scenario 'nope.toml' not found",
    ),
    "population_key": (
        HEAD + "[experiment.population]\nn_cities = 3\n" + ONE_FACTOR,
        "experiment.population.n_cities",
        "unknown key 'n_cities'; allowed: n_non_mission_cities",
    ),
    "population_range": (
        HEAD + "[experiment.population]\nn_non_mission_cities = -1\n" + ONE_FACTOR,
        "experiment.population.n_non_mission_cities",
        "-1 out of range; expected an integer in [0, 5000]",
    ),
    "time_order": (
        HEAD + "[experiment.time]\nend_year = 2020\n" + ONE_FACTOR,
        "experiment.time",
        "end_year 2020 must be after start_year 2025",
    ),
    "time_steps": (
        HEAD + "[experiment.time]\nsteps_per_year = 12\n" + ONE_FACTOR,
        "experiment.time.steps_per_year",
        "expected the integer 1 (yearly) or 4 (quarterly), got 12 (integer)",
    ),
    "unknown_parameter": (
        HEAD + "[uncertainties.skill_turnover]\n",
        "uncertainties.skill_turnover",
        "unknown parameter 'skill_turnover'; allowed: one of the",
    ),
    "parameter_range": (
        HEAD + "[uncertainties.skill_turnover_per_year]\nlow = 0.01\n",
        "uncertainties.skill_turnover_per_year.low",
        "0.01 out of range; expected a number in [0.05, 0.15]",
    ),
    "low_not_below_high": (
        HEAD + "[uncertainties.skill_turnover_per_year]\nlow = 0.12\nhigh = 0.1\n",
        "uncertainties.skill_turnover_per_year.high",
        "0.1 not above low = 0.12",
    ),
    "uncertainty_key": (
        HEAD + "[uncertainties.skill_turnover_per_year]\nmean = 0.1\n",
        "uncertainties.skill_turnover_per_year.mean",
        "unknown key 'mean'; allowed: low, high, group",
    ),
    "unknown_lever": (
        HEAD + "[levers.financing]\n",
        "levers.financing",
        "unknown lever 'financing'; allowed: enhanced_financing",
    ),
    "lever_range": (
        HEAD + "[levers.enhanced_financing]\nhigh = 1.5\n",
        "levers.enhanced_financing.high",
        "1.5 out of range; expected a number in [0, 1]",
    ),
    "lever_start": (
        HEAD + "[levers.enhanced_financing]\nstart_year = 2060\n",
        "levers.enhanced_financing.start_year",
        "2060 out of range; expected an integer in [2025, 2050]",
    ),
    "package_lever": (
        HEAD + '[packages]\nfinance = ["enhanced_financing", "simplify"]\n',
        "packages.finance[1]",
        "unknown lever 'simplify'",
    ),
    "package_and_lever": (
        HEAD + '[levers.simplification]\n[packages]\nfinance = ["simplification"]\n',
        "packages.finance[0]",
        "lever 'simplification' is also a factor of its own",
    ),
    "two_packages": (
        HEAD + '[packages]\na = ["simplification"]\nb = ["simplification"]\n',
        "packages.b[0]",
        "lever 'simplification' is already in package 'a'",
    ),
    "package_name_clash": (
        HEAD + '[packages]\nsimplification = ["enhanced_financing"]\n',
        "packages.simplification",
        "package name 'simplification' not allowed",
    ),
    "package_type": (
        HEAD + "[packages]\nfinance = 3\n",
        "packages.finance",
        "expected an array of lever names or a table",
    ),
    "package_table_key": (
        HEAD + '[packages.finance]\nlevers = ["simplification"]\nmid = 0.5\n',
        "packages.finance.mid",
        "unknown key 'mid'; allowed: levers, low, high, start_year",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CASES), ids=list(BAD_CASES))
def test_bad_input_names_file_key_and_what_is_allowed(case: str, tmp_path: Path) -> None:
    """Each problem is one line: the file, the dotted key, what was wrong and what is allowed."""
    text, key, fragment = BAD_CASES[case]
    path = write(tmp_path, text)
    lines = problems_of(path)
    prefix = f"{path.resolve()}: {key}: "
    matching = [line for line in lines if line.startswith(prefix)]
    assert matching, f"no problem for {key} in {lines}"
    assert any(fragment in line for line in matching), matching


# --- categorical scenario settings: [choices.<setting>] ------------------------------------


def test_staff_rule_choice_factor_picks_each_rule_in_equal_shares(tmp_path: Path) -> None:
    """A choice factor's value in [0, 1] picks one listed staff rule per third of the range."""
    text = HEAD + ONE_FACTOR + '[choices.staff_rule]\nchoices = ["priority", "proportional"]\n'
    exp = load_experiment(write(tmp_path, text))
    (factor,) = [f for f in exp.factors if f.kind == "choice"]
    assert (factor.name, factor.low, factor.high) == ("staff_rule", 0.0, 1.0)
    assert factor.choices == ("priority", "proportional")
    base = {"skill_turnover_per_year": PARAMETER_META["skill_turnover_per_year"]["low"]}
    picked = [exp.config_for({**base, "staff_rule": u}).staff_rule for u in (0, 0.49, 0.5, 1)]
    assert picked == ["priority", "priority", "proportional", "proportional"]
    # default: every rule, one third of the range each
    exp3 = load_experiment(write(tmp_path, HEAD + "[choices.staff_rule]\n", "all.toml"))
    rules = [exp3.config_for({"staff_rule": u}).staff_rule for u in (0.1, 0.4, 0.9)]
    assert rules == ["priority", "protected_shares", "proportional"]
    assert list(dataclasses.asdict(exp3.factors[0])["choices"]) == rules  # in the manifest


@pytest.mark.parametrize(
    ("table", "key", "fragment"),
    [
        ("[choices.staff_rul]\n", "choices.staff_rul", "allowed: staff_rule"),
        (
            '[choices.staff_rule]\nchoices = ["priority"]\n',
            "choices.staff_rule.choices",
            "expected two or more different values of priority, protected_shares",
        ),
        (
            '[choices.staff_rule]\nchoices = ["priority", "fifo"]\n',
            "choices.staff_rule.choices",
            "got ['priority', 'fifo']",
        ),
        ("[choices.staff_rule]\nweights = [1, 2]\n", "choices.staff_rule.weights", "group"),
    ],
)
def test_bad_choice_tables_name_the_key(
    table: str, key: str, fragment: str, tmp_path: Path
) -> None:
    """Bad [choices] tables name the file, the dotted key and what is allowed."""
    path = write(tmp_path, HEAD + ONE_FACTOR + table)
    lines = [line for line in problems_of(path) if line.startswith(f"{path}: {key}:")]
    assert lines and fragment in lines[0], problems_of(path)


def test_no_factors_is_an_error(tmp_path: Path) -> None:
    """An experiment that varies nothing is rejected."""
    path = write(tmp_path, HEAD)
    (line,) = problems_of(path)
    assert line.startswith(f"{path}: no factors; expected at least one")


def test_all_problems_are_reported_together(tmp_path: Path) -> None:
    """Three independent problems give three lines; the error is a BadInput (exit code 2)."""
    text = HEAD.replace("seed = 3", "seed = -2") + 'design = "x"\n[levers.nope]\n'
    path = write(tmp_path, text)
    with pytest.raises(BadInput) as info:
        load_experiment(path)
    assert isinstance(info.value, ExperimentError)
    keys = [line.split(": ")[1] for line in info.value.problems]
    assert keys == ["experiment.seed", "experiment.design", "levers.nope"]
    assert str(info.value).splitlines() == ["invalid experiment file:", *info.value.problems]


def test_base_scenario_problems_are_passed_on(tmp_path: Path) -> None:
    """A broken base scenario is reported under experiment.scenario with its own message."""
    write(tmp_path, '[scenario]\nname = "b"\nstart_yr = 2025\n', name="base.toml")
    path = write(tmp_path, HEAD.replace(BASELINE, "base.toml") + ONE_FACTOR)
    (line,) = problems_of(path)
    assert line.startswith(f"{path}: experiment.scenario: base scenario is invalid: ")
    assert "scenario.start_yr: unknown key 'start_yr'" in line


def test_unreadable_files(tmp_path: Path) -> None:
    """A missing file and malformed TOML are reported with the file name."""
    missing = tmp_path / "missing.toml"
    assert problems_of(missing) == (f"{missing}: experiment file not found",)
    bad = write(tmp_path, "[experiment\n")
    (line,) = problems_of(bad)
    assert line.startswith(f"{bad}: malformed TOML")


# --- configs from factor values ---------------------------------------------------------------


def test_config_for_sets_parameters_levers_and_packages(smoke: Experiment) -> None:
    """A parameter via Parameters.replace, a lever's intensity, and a package's every lever."""
    values = {"skill_turnover_per_year": 0.07, "capacity_building": 0.3, "finance": 0.8}
    config = smoke.config_for(values, index=5)
    assert config.name == "smoke-p5"
    assert config.parameters == smoke.base.parameters.replace(skill_turnover_per_year=0.07)
    assert config.lever("capacity_building") == LeverSetting("capacity_building", 0.3, 2026)
    assert config.lever("enhanced_financing") == LeverSetting("enhanced_financing", 0.8, 2026)
    assert config.lever("simplification") == LeverSetting("simplification", 0.8, 2026)
    untouched = set(LEVER_NAMES) - {"capacity_building", "enhanced_financing", "simplification"}
    for name in untouched:
        assert config.lever(name) == smoke.base.lever(name)
    same = dataclasses.replace(config, name=smoke.base.name, parameters=smoke.base.parameters)
    assert same.population == smoke.base.population
    assert (same.start_year, same.end_year) == (smoke.base.start_year, smoke.base.end_year)
    assert smoke.config_for(values).name == "smoke"


def test_config_for_uses_configured_start_years(tmp_path: Path) -> None:
    """Lever and package factors act from their start_year."""
    text = (
        HEAD
        + "[levers.capacity_building]\nstart_year = 2031\n"
        + '[packages.p]\nlevers = ["green_procurement"]\nstart_year = 2028\n'
    )
    exp = load_experiment(write(tmp_path, text))
    config = exp.config_for({"capacity_building": 1.0, "p": 0.5})
    assert config.lever("capacity_building") == LeverSetting("capacity_building", 1.0, 2031)
    assert config.lever("green_procurement") == LeverSetting("green_procurement", 0.5, 2028)


def test_config_for_rejects_incomplete_or_out_of_range_values(smoke: Experiment) -> None:
    """Every factor must be given, no other; parameters stay within the registry range."""
    with pytest.raises(KeyError, match="missing: \\['finance'\\]"):
        smoke.config_for({"skill_turnover_per_year": 0.1, "capacity_building": 0.1})
    with pytest.raises(KeyError, match="unknown: \\['x'\\]"):
        smoke.config_for(
            {"skill_turnover_per_year": 0.1, "capacity_building": 0.1, "finance": 0, "x": 1}
        )
    with pytest.raises(ValueError, match="skill_turnover_per_year"):
        smoke.config_for({"skill_turnover_per_year": 0.5, "capacity_building": 0, "finance": 0})


# --- designs ----------------------------------------------------------------------------------


def test_lhs_design_is_stratified_bounded_and_deterministic(smoke: Experiment) -> None:
    """n LHS points put exactly one point in each of the n strata of every factor."""
    X = design_points(smoke)
    assert X.shape == (8, 3)
    lows = np.array([b[0] for b in smoke.bounds()])
    highs = np.array([b[1] for b in smoke.bounds()])
    unit = (X - lows) / (highs - lows)
    for column in unit.T:
        assert sorted(np.floor(column * 8).astype(int)) == list(range(8))
    np.testing.assert_array_equal(X, design_points(smoke))
    assert not np.array_equal(X, design_points(smoke, seed=design_seed(smoke.seed) + 1))
    other = dataclasses.replace(smoke, seed=2)
    assert not np.array_equal(X, design_points(other))


def test_grid_design_is_the_full_product_of_levels(smoke: Experiment) -> None:
    """factorial/grid: every combination of n evenly spaced levels, ends included."""
    X = design_points(smoke, "grid", 3)
    assert X.shape == (27, 3)
    assert sorted(set(X[:, 0])) == pytest.approx([0.05, 0.10, 0.15])
    assert len({tuple(row) for row in X}) == 27
    np.testing.assert_array_equal(design_points(smoke, "factorial", 3), X)
    corners = design_points(smoke, "factorial", 2)
    assert corners.shape == (8, 3)
    assert set(corners[:, 1]) == {0.0, 1.0}


def test_sobol_and_morris_designs_have_saltelli_and_trajectory_shapes(smoke: Experiment) -> None:
    """Sobol (first and total order): N (k + 2) points; Morris: N trajectories of k + 1."""
    sobol = design_points(smoke, "sobol", 8)
    assert sobol.shape == (8 * (3 + 2), 3)
    np.testing.assert_array_equal(sobol, design_points(smoke, "sobol", 8))
    morris = design_points(smoke, "morris", 4)
    assert morris.shape == (4 * (3 + 1), 3)
    np.testing.assert_array_equal(morris, design_points(smoke, "morris", 4))
    for X in (sobol, morris):
        assert ((X >= [0.05, 0, 0]) & (X <= [0.15, 1, 1])).all()
    # within a trajectory, consecutive points differ in exactly one factor
    steps = np.diff(morris.reshape(4, 4, 3), axis=1)
    assert ((steps != 0).sum(axis=2) == 1).all()


@pytest.mark.parametrize(
    ("method", "n", "message"),
    [
        ("sobol", 6, "power of 2"),
        ("grid", 1, "at least 2 levels"),
        ("morris", 1, "at least 2 trajectories"),
        ("halton", 8, "unknown design"),
    ],
)
def test_unusable_designs_are_bad_input(
    smoke: Experiment, method: str, n: int, message: str
) -> None:
    """A design that cannot be drawn is reported as bad input, naming the design."""
    with pytest.raises(BadInput, match=message):
        design_points(smoke, method, n)
