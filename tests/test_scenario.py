"""Scenario files: the shipped TOML loads, round-trips, and every bad input fails loudly."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from abm.config import (
    DATA_DIR,
    PARAMETER_META,
    CaseConfig,
    Parameters,
    PopulationConfig,
    ScenarioConfig,
)
from abm.policies import LEVER_NAMES, LeverSetting
from abm.validation import ConfigError
from experiments.scenario import ScenarioError, list_scenarios, load_scenario, scenario_to_toml

EXPERIMENTS_DIR = Path(__file__).resolve().parents[1] / "experiments" / "scenarios"
SHIPPED = list_scenarios(EXPERIMENTS_DIR)
MINIMAL = '[scenario]\nname = "t"\n'


def write(directory: Path, name: str, text: str) -> Path:
    """Write a scenario file (creating parent folders) and return its path."""
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path) -> ScenarioError:
    """The ScenarioError raised by loading ``path`` (fails the test if none is raised)."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value


# --- shipped scenarios ----------------------------------------------------------------------


def test_shipped_scenarios_are_the_expected_set() -> None:
    """Baseline, full package, EU scale, calibration, one file per lever and the case cities."""
    relative = {p.relative_to(EXPERIMENTS_DIR).as_posix() for p in SHIPPED}
    expected = {"baseline.toml", "full_package.toml", "eu_scale.toml", "calibration_setup.toml"}
    expected |= {f"levers/{name}.toml" for name in LEVER_NAMES}
    expected |= {f"cases/{name}.toml" for name in ("dunkirk", "differdange", "kosice")}
    verification = ("no_governance", "unconstrained", "zero_funding", "zero_staff")
    verification += ("carbon_price_zero", "carbon_price_high")
    expected |= {f"verification/{name}.toml" for name in verification}
    expected |= {"hindcast/hindcast_2013.toml"}
    assert relative == expected


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_scenario_loads_and_round_trips(path: Path, tmp_path: Path) -> None:
    """Each shipped file loads, is named after its file, and survives scenario_to_toml."""
    config = load_scenario(path)
    assert config.name == path.stem
    assert config.description
    copy = write(tmp_path, "copy.toml", scenario_to_toml(config))
    assert load_scenario(copy) == config


def test_baseline_is_all_defaults() -> None:
    """The baseline changes nothing: default time frame, population, parameters, levers off."""
    config = load_scenario(EXPERIMENTS_DIR / "baseline.toml")
    assert config == ScenarioConfig(name="baseline", description=config.description)
    assert all(setting.intensity == 0.0 for setting in config.levers)


@pytest.mark.parametrize("lever", LEVER_NAMES)
def test_each_lever_file_switches_on_only_its_lever(lever: str) -> None:
    """levers/<name>.toml is the baseline plus that one lever at 1.0 from 2026."""
    config = load_scenario(EXPERIMENTS_DIR / "levers" / f"{lever}.toml")
    baseline = load_scenario(EXPERIMENTS_DIR / "baseline.toml")
    assert config.lever(lever) == LeverSetting(lever, 1.0, 2026)
    assert {s.name for s in config.levers if s.intensity > 0} == {lever}
    assert config.parameters == baseline.parameters
    assert config.population == baseline.population
    assert (config.start_year, config.end_year, config.steps_per_year) == (2025, 2050, 1)


def test_full_package_switches_on_every_lever() -> None:
    """full_package.toml sets all eight levers to 1.0 from 2026."""
    config = load_scenario(EXPERIMENTS_DIR / "full_package.toml")
    assert config.levers == tuple(LeverSetting(name, 1.0, 2026) for name in LEVER_NAMES)


def test_eu_scale_and_calibration_resolutions() -> None:
    """eu_scale is quarterly at 135 residents per citizen; calibration yearly at 1350."""
    eu = load_scenario(EXPERIMENTS_DIR / "eu_scale.toml")
    calibration = load_scenario(EXPERIMENTS_DIR / "calibration_setup.toml")
    assert (eu.steps_per_year, eu.population.residents_per_citizen) == (4, 135.0)
    assert (calibration.steps_per_year, calibration.population.residents_per_citizen) == (
        1,
        1350.0,
    )
    assert all(s.intensity == 0.0 for s in (*eu.levers, *calibration.levers))


# --- round trip and valid inputs ------------------------------------------------------------


def test_round_trip_of_a_non_default_config(tmp_path: Path) -> None:
    """Every field, including awkward strings and data paths, survives write and reload."""
    sites = write(tmp_path, "data/sites.csv", "city\n")
    config = ScenarioConfig(
        name="custom-run_2.v1",
        description='Quotes " and \\ backslash,\nnewline, tab\t, ctrl \x01, unicode Košice',
        start_year=2030,
        end_year=2045,
        steps_per_year=4,
        population=dataclasses.replace(
            PopulationConfig(),
            n_non_mission_cities=17,
            residents_per_citizen=0.1 + 0.2,
            min_citizens_per_city=3,
            generated_installations=0,
            industrial_sites_csv=sites,
        ),
        parameters=Parameters().replace(
            skill_turnover_per_year=0.1234567890123, eaf_job_change_share=-0.5
        ),
        levers=tuple(
            LeverSetting(name, intensity=i / 7, start_year=2025 + 3 * i)
            for i, name in enumerate(LEVER_NAMES)
        ),
    )
    text = scenario_to_toml(config)
    loaded = load_scenario(write(tmp_path, "elsewhere/rt.toml", text))
    assert loaded == config
    assert text.count("[levers.") == len(LEVER_NAMES)
    assert sum(line.split(" = ")[0] in PARAMETER_META for line in text.splitlines()) == len(
        PARAMETER_META
    )


def test_ints_are_accepted_where_numbers_are_expected(tmp_path: Path) -> None:
    """An integer is a valid float: intensity 1, residents_per_citizen 1350, parameter 0."""
    path = write(
        tmp_path,
        "ints.toml",
        MINIMAL + "[population]\nresidents_per_citizen = 1350\n"
        "[parameters]\nveto_conflict = 0\n[levers.simplification]\nintensity = 1\n",
    )
    config = load_scenario(path)
    assert config.population.residents_per_citizen == 1350.0
    assert isinstance(config.population.residents_per_citizen, float)
    assert config.parameters.veto_conflict == 0.0
    assert config.lever("simplification") == LeverSetting("simplification", 1.0, 2026)


def test_data_paths_resolve_relative_to_the_file_that_names_them(tmp_path: Path) -> None:
    """A base's data path is relative to the base, even when read through a child elsewhere."""
    countries = write(tmp_path, "data/countries.csv", "country\n")
    write(
        tmp_path,
        "base/base.toml",
        '[scenario]\nname = "base"\n[population]\ncountries_csv = "../data/countries.csv"\n',
    )
    child = write(
        tmp_path,
        "runs/deep/child.toml",
        '[scenario]\nname = "c"\nextends = "../../base/base.toml"\n',
    )
    config = load_scenario(child)
    assert config.population.countries_csv == countries.resolve()
    assert config.population.mission_cities_csv == DATA_DIR / "mission_cities.csv"


def test_extends_merges_table_by_table(tmp_path: Path) -> None:
    """The child overrides single keys; the rest of the base's tables is kept."""
    write(
        tmp_path,
        "base.toml",
        '[scenario]\nname = "base"\ndescription = "base text"\nend_year = 2040\n'
        "[parameters]\nveto_conflict = 0.3\ndiscount_rate = 0.05\n"
        "[levers.simplification]\nintensity = 0.5\nstart_year = 2030\n",
    )
    child = write(
        tmp_path,
        "child.toml",
        '[scenario]\nname = "child"\nextends = "base.toml"\n'
        "[parameters]\ndiscount_rate = 0.09\n[levers.simplification]\nintensity = 1.0\n",
    )
    config = load_scenario(child)
    assert (config.name, config.description, config.end_year) == ("child", "base text", 2040)
    assert (config.parameters.veto_conflict, config.parameters.discount_rate) == (0.3, 0.09)
    assert config.lever("simplification") == LeverSetting("simplification", 1.0, 2030)


def test_list_scenarios_is_sorted_recursive_and_strict(tmp_path: Path) -> None:
    """list_scenarios finds *.toml in sub-folders, sorted; a missing folder is an error."""
    b = write(tmp_path, "b.toml", MINIMAL)
    a = write(tmp_path, "sub/a.toml", MINIMAL)
    write(tmp_path, "notes.txt", "not a scenario")
    assert list_scenarios(tmp_path) == sorted([a, b])
    with pytest.raises(ScenarioError, match="missing"):
        list_scenarios(tmp_path / "missing")


# --- bad inputs -----------------------------------------------------------------------------

BAD_CASES: list[tuple[str, str, str, str]] = [
    # (id, file text, dotted key expected in the message, other text expected in the message)
    (
        "unknown-top-table",
        MINIMAL + "[paramters]\nveto_conflict = 0.1\n",
        "paramters",
        "did you mean 'parameters'?",
    ),
    ("unknown-top-key", 'colour = "red"\n' + MINIMAL, "colour", "allowed: scenario, population"),
    (
        "unknown-scenario-key",
        MINIMAL + "end_yaer = 2040\n",
        "scenario.end_yaer",
        "did you mean 'end_year'?",
    ),
    (
        "unknown-population-key",
        MINIMAL + "[population]\nn_non_mission_citys = 3\n",
        "population.n_non_mission_citys",
        "did you mean 'n_non_mission_cities'?",
    ),
    (
        "unknown-parameter",
        MINIMAL + "[parameters]\nskill_turnover = 0.1\n",
        "parameters.skill_turnover",
        "did you mean 'skill_turnover_per_year'?",
    ),
    (
        "unknown-lever-key",
        MINIMAL + "[levers.simplification]\nintensty = 0.5\n",
        "levers.simplification.intensty",
        "allowed: intensity, start_year; did you mean",
    ),
    (
        "unknown-lever",
        MINIMAL + "[levers.enhanced_finance]\nintensity = 0.5\n",
        "levers.enhanced_finance",
        "did you mean 'enhanced_financing'?",
    ),
    (
        "missing-scenario-table",
        "[population]\nmin_citizens_per_city = 2\n",
        "scenario",
        "missing required table",
    ),
    ("missing-name", '[scenario]\ndescription = "x"\n', "scenario.name", "required"),
    ("bad-name", '[scenario]\nname = "a b/c"\n', "scenario.name", "letters, digits"),
    ("name-not-string", "[scenario]\nname = 3\n", "scenario.name", "expected a string"),
    (
        "string-for-int",
        MINIMAL + 'start_year = "2025"\n',
        "scenario.start_year",
        "expected an integer in [2000, 2100], got '2025' (string)",
    ),
    (
        "float-for-int",
        MINIMAL + "steps_per_year = 1.0\n",
        "scenario.steps_per_year",
        "expected the integer 1 (yearly) or 4 (quarterly), got 1.0 (float)",
    ),
    (
        "bool-for-int",
        MINIMAL + "[population]\nn_non_mission_cities = true\n",
        "population.n_non_mission_cities",
        "got true (boolean)",
    ),
    (
        "bool-for-float",
        MINIMAL + "[levers.simplification]\nintensity = true\n",
        "levers.simplification.intensity",
        "expected a number in [0, 1], got true (boolean)",
    ),
    (
        "string-for-parameter",
        MINIMAL + '[parameters]\nveto_conflict = "0.1"\n',
        "parameters.veto_conflict",
        "expected a number in [0, 0.5]",
    ),
    (
        "table-not-table",
        MINIMAL + "[levers]\nsimplification = 1.0\n",
        "levers.simplification",
        "expected a table",
    ),
    ("population-not-table", "population = 3\n" + MINIMAL, "population", "expected a table"),
    (
        "intensity-out-of-range",
        MINIMAL + "[levers.simplification]\nintensity = 1.5\n",
        "levers.simplification.intensity",
        "1.5 out of range; expected a number in [0, 1]",
    ),
    (
        "parameter-out-of-range",
        MINIMAL + "[parameters]\nskill_turnover_per_year = 0.5\n",
        "parameters.skill_turnover_per_year",
        "expected a number in [0.05, 0.15]",
    ),
    (
        "parameter-nan",
        MINIMAL + "[parameters]\nskill_turnover_per_year = nan\n",
        "parameters.skill_turnover_per_year",
        "out of range",
    ),
    (
        "lever-start-out-of-range",
        MINIMAL + "[levers.dialogue_platforms]\nstart_year = 2051\n",
        "levers.dialogue_platforms.start_year",
        "expected an integer in [2025, 2050]",
    ),
    (
        "start-year-out-of-range",
        MINIMAL + "start_year = 1999\n",
        "scenario.start_year",
        "1999 out of range; expected an integer in [2000, 2100]",
    ),
    (
        "end-year-out-of-range",
        MINIMAL + "end_year = 2101\n",
        "scenario.end_year",
        "expected an integer in [2000, 2100]",
    ),
    (
        "end-not-after-start",
        MINIMAL + "start_year = 2030\nend_year = 2030\n",
        "scenario.end_year",
        "2030 not after scenario.start_year 2030",
    ),
    (
        "end-before-default-start",
        MINIMAL + "end_year = 2020\n",
        "scenario.end_year",
        "expected an integer in [2026, 2100]",
    ),
    (
        "steps-per-year-2",
        MINIMAL + "steps_per_year = 2\n",
        "scenario.steps_per_year",
        "2 not allowed; expected 1 (yearly) or 4 (quarterly)",
    ),
    (
        "residents-per-citizen-zero",
        MINIMAL + "[population]\nresidents_per_citizen = 0\n",
        "population.residents_per_citizen",
        "expected a number > 0",
    ),
    (
        "min-citizens-zero",
        MINIMAL + "[population]\nmin_citizens_per_city = 0\n",
        "population.min_citizens_per_city",
        "expected an integer >= 1",
    ),
    (
        "too-many-cities",
        MINIMAL + "[population]\nn_non_mission_cities = 5001\n",
        "population.n_non_mission_cities",
        "expected an integer in [0, 5000]",
    ),
    (
        "missing-data-file",
        MINIMAL + '[population]\nmission_cities_csv = "nope.csv"\n',
        "population.mission_cities_csv",
        "data file 'nope.csv' not found",
    ),
    (
        "data-path-not-string",
        MINIMAL + "[population]\ncountries_csv = 1\n",
        "population.countries_csv",
        "expected a string",
    ),
    (
        "extends-missing",
        MINIMAL + 'extends = "base.toml"\n',
        "scenario.extends",
        "base file 'base.toml' not found",
    ),
]


@pytest.mark.parametrize(
    ("text", "key", "detail"), [case[1:] for case in BAD_CASES], ids=[c[0] for c in BAD_CASES]
)
def test_bad_input_names_file_key_and_what_is_allowed(
    tmp_path: Path, text: str, key: str, detail: str
) -> None:
    """Each bad input raises ScenarioError naming the file, the dotted key and the rule."""
    error = load_error(write(tmp_path, "bad.toml", text))
    assert len(error.problems) == 1, str(error)
    assert str(error).startswith(f"{tmp_path / 'bad.toml'}: {key}: ")
    assert detail in str(error)


def test_malformed_toml(tmp_path: Path) -> None:
    """A syntax error is reported with the file and tomllib's line and column."""
    error = load_error(write(tmp_path, "broken.toml", MINIMAL + "end_year = = 2040\n"))
    assert "broken.toml: malformed TOML" in str(error)
    assert "line 3" in str(error)


def test_missing_file(tmp_path: Path) -> None:
    """A file that does not exist is an error naming it."""
    error = load_error(tmp_path / "absent.toml")
    assert str(error) == f"{tmp_path / 'absent.toml'}: scenario file not found"


def test_directory_is_not_a_scenario_file(tmp_path: Path) -> None:
    """A directory passed as the scenario is an error, not a crash."""
    assert "is not a file" in str(load_error(tmp_path))


def test_extends_cycle(tmp_path: Path) -> None:
    """a -> b -> a is an error naming the file whose extends closes the cycle and the chain."""
    a = write(tmp_path, "a.toml", '[scenario]\nname = "a"\nextends = "b.toml"\n')
    write(tmp_path, "b.toml", '[scenario]\nname = "b"\nextends = "a.toml"\n')
    error = load_error(a)
    assert error.problems == (
        f"{tmp_path / 'b.toml'}: scenario.extends: 'a.toml' forms a cycle "
        "(a.toml -> b.toml -> a.toml); expected a base file that does not extend this file, "
        "directly or indirectly",
    )


def test_extends_itself(tmp_path: Path) -> None:
    """A file extending itself is a cycle of one."""
    path = write(tmp_path, "self.toml", MINIMAL + 'extends = "./self.toml"\n')
    error = load_error(path)
    assert "self.toml: scenario.extends: './self.toml' forms a cycle" in str(error)


def test_problems_in_a_base_file_name_the_base(tmp_path: Path) -> None:
    """An error inside an extended file is reported against that file, not the child."""
    write(tmp_path, "base.toml", MINIMAL + "[parameters]\nveto_conflict = 2.0\n")
    child = write(tmp_path, "child.toml", MINIMAL + 'extends = "base.toml"\n')
    error = load_error(child)
    assert error.problems == (
        f"{tmp_path / 'base.toml'}: parameters.veto_conflict: 2.0 out of range; "
        "expected a number in [0, 0.5]",
    )


def test_all_problems_are_reported_together(tmp_path: Path) -> None:
    """Problems in every table and in the base file come back in one error, one per line."""
    write(tmp_path, "base.toml", MINIMAL + "[population]\nmin_citizens_per_city = 0\n")
    path = write(
        tmp_path,
        "many.toml",
        '[scenario]\nname = "many"\nextends = "base.toml"\nsteps_per_year = 2\nfoo = 1\n'
        "[population]\nresidents_per_citizen = -1.0\n"
        '[parameters]\nveto_conflict = 0.9\nnot_a_parameter = 1.0\ndiscount_rate = "high"\n'
        "[levers.simplification]\nintensity = 2.0\nstart_year = true\n"
        "[levers.nope]\nintensity = 1.0\n"
        "[extra]\n",
    )
    error = load_error(path)
    keys = [line.split(": ")[1] for line in error.problems]
    assert sorted(keys) == sorted(
        [
            "extra",
            "scenario.steps_per_year",
            "scenario.foo",
            "population.residents_per_citizen",
            "parameters.veto_conflict",
            "parameters.not_a_parameter",
            "parameters.discount_rate",
            "levers.simplification.intensity",
            "levers.simplification.start_year",
            "levers.nope",
            "population.min_citizens_per_city",
        ]
    )
    assert str(error).splitlines() == list(error.problems)
    assert sum(line.startswith(str(tmp_path / "base.toml")) for line in error.problems) == 1


def test_experiment_files_are_not_listed_as_scenarios(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('[scenario]\nname = "a"\n')
    (tmp_path / "sweep.toml").write_text('[experiment]\nname = "s"\n')
    assert list_scenarios(tmp_path) == [tmp_path / "a.toml"]


def _case_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "case.toml"
    base = (EXPERIMENTS_DIR / "baseline.toml").as_posix()
    path.write_text(f'[scenario]\nname = "c"\nextends = "{base}"\n\n[case]\n{body}')
    return path


def test_case_table_loads_and_round_trips(tmp_path: Path) -> None:
    path = _case_file(
        tmp_path,
        'focus_city = "Košice"\nomega_econ = 0.8\nindustry_in_ccc = true\n'
        '[[case.new_installations]]\nname = "x"\nsector = "cement"\n'
        'technology = "clinker kiln"\ncapacity_mt = 1.0\njobs = 200.0\nstart_year = 2030\n',
    )
    config = load_scenario(path)
    assert config.case is not None
    assert config.case.focus_city == "Košice" and config.case.omega_econ == 0.8
    assert config.case.new_installations[0].technology == "clinker kiln"
    again = tmp_path / "again.toml"
    again.write_text(scenario_to_toml(config))
    assert load_scenario(again) == config


@pytest.mark.parametrize(
    ("body", "key", "allowed"),
    [
        ('focus_city = "Atlantis"', "case.focus_city", "is not a Mission City"),
        ("kappa = 0.5", "case.focus_city", "required"),
        ('focus_city = "Košice"\nkappa = 1.5', "case.kappa", "[0, 1]"),
        ('focus_city = "Košice"\nomega = 0.5', "case.omega", "omega_econ"),
        ('focus_city = "Košice"\nindustry_in_ccc = 1', "case.industry_in_ccc", "true or false"),
        (
            'focus_city = "Košice"\n[[case.new_installations]]\nname = "x"\nsector = "cement"\n'
            'technology = "BF-BOF"\ncapacity_mt = 1.0\njobs = 1.0\nstart_year = 2030\n',
            "case.new_installations[0].technology",
            "clinker kiln",
        ),
    ],
)
def test_bad_case_tables_name_file_key_and_allowed(
    tmp_path: Path, body: str, key: str, allowed: str
) -> None:
    path = _case_file(tmp_path, body)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    text = str(err.value)
    assert "case.toml" in text and key in text and allowed in text


# --- the typed config is the one validation layer ------------------------------------------------


@pytest.mark.parametrize(
    ("build", "field", "value", "allowed"),
    [
        (
            lambda: PopulationConfig(min_citizens_per_city=0),
            "population.min_citizens_per_city",
            0,
            "an integer >= 1",
        ),
        (
            lambda: ScenarioConfig(steps_per_year=2),
            "scenario.steps_per_year",
            2,
            "1 (yearly) or 4 (quarterly)",
        ),
        (
            lambda: LeverSetting("simplification", intensity=1.5),
            "levers.simplification.intensity",
            1.5,
            "a number in [0, 1]",
        ),
        (
            lambda: CaseConfig("Dunkirk", kappa=2.0),
            "case.kappa",
            2.0,
            "a number in [0, 1]",
        ),
        (
            lambda: Parameters().replace(discount_rate=0.5),
            "parameters.discount_rate",
            0.5,
            "a number in [0.04, 0.1]",
        ),
    ],
)
def test_config_error_names_field_value_and_allowed(
    build: Callable[[], object], field: str, value: float, allowed: str
) -> None:
    with pytest.raises(ConfigError) as info:
        build()
    err = info.value
    assert (err.field, err.value, err.allowed) == (field, value, allowed)
    assert str(err).startswith(f"{field}: ") and allowed in str(err)


def test_file_messages_come_from_the_config_ranges() -> None:
    """The reader's allowed ranges are the config's objects, not copies."""
    from abm import config, policies
    from experiments import validation

    assert validation.POPULATION_RANGES is config.POPULATION_RANGES
    assert validation._LEVER_RANGES is policies.LEVER_RANGES
    assert validation._CASE_RANGES is config.CASE_RANGES
    assert validation._PARAMETER_RANGES is config.PARAMETER_RANGES
