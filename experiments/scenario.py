"""Scenario files: load, validate and write the TOML that defines one model run.

A scenario file has the tables ``[scenario]`` (name, time frame, optional ``extends``),
``[population]`` (fields of :class:`abm.config.PopulationConfig`), ``[parameters]`` (fields of
:class:`abm.config.Parameters`) and one ``[levers.<name>]`` table per lever of
:mod:`abm.policies`. ``extends`` names a base file (relative to the extending file) whose values
the extending file overrides table by table. Validation is strict and loud: every problem in a
file and in the files it extends is collected in one pass and reported together, each line
naming the file, the dotted key and what is allowed (the checks: ``experiments.validation``).
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from abm.config import (
    ALLOWED_STEPS_PER_YEAR,
    MAX_YEAR,
    MIN_YEAR,
    PARAMETER_META,
    POPULATION_RANGES,
    CaseConfig,
    CasePlant,
    NewInstallation,
    Parameters,
    PopulationConfig,
    ScenarioConfig,
)
from abm.policies import LEVER_NAMES, LeverSetting
from abm.population import read_csv
from abm.validation import Range
from experiments import paths
from experiments.validation import (
    NAME_PATTERN,
    POPULATION_KEYS,
    POPULATION_PATH_KEYS,
    FileValidator,
    Problems,
    ScenarioError,
    read_toml,
    show,
)

# the file checks live in experiments.validation; experiments.experiment reads them from here
__all__ = [
    "ALLOWED_STEPS_PER_YEAR",
    "MAX_YEAR",
    "MIN_YEAR",
    "NAME_PATTERN",
    "FileValidator",
    "Problems",
    "Range",
    "ScenarioError",
    "build_config",
    "list_scenarios",
    "load_scenario",
    "merge_tables",
    "read_toml",
    "scenario_to_toml",
    "show",
    "toml_string",
]


def _fmt(number: float) -> str:
    """A bound written without a spurious trailing '.0'."""
    return f"{number:g}"


def merge_tables(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge by table: values in ``override`` win, sub-tables are merged key by key."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_tables(merged[key], value)
        else:
            merged[key] = value
    return merged


def _load_chain(file: Path, chain: tuple[Path, ...], problems: Problems) -> dict[str, Any]:
    """Validated values of ``file`` merged over those of the files it extends."""
    doc = read_toml(file, problems)
    if doc is None:
        return {}
    own, extends = FileValidator(file, problems).validate(doc)
    if extends is None:
        return own
    base_file = (file.parent / extends).resolve()
    seen = (*chain, file)
    if base_file in seen:
        cycle = " -> ".join(p.name for p in (*seen[seen.index(base_file) :], base_file))
        problems.add(
            file,
            "scenario.extends",
            f"'{extends}' forms a cycle ({cycle}); expected a base file "
            "that does not extend this file, directly or indirectly",
        )
        return own
    if not base_file.is_file():
        problems.add(
            file,
            "scenario.extends",
            f"base file '{extends}' not found (looked for {base_file}); "
            "expected a path to an existing scenario file, relative to this file",
        )
        return own
    return merge_tables(_load_chain(base_file, seen, problems), own)


def build_config(values: Mapping[str, Any]) -> ScenarioConfig:
    """A ScenarioConfig from validated, merged values; missing keys take their defaults."""
    levers = values.get("levers", {})
    case_values = values.get("case")
    case = None
    if case_values is not None:
        news = tuple(NewInstallation(**item) for item in case_values.get("new_installations", []))
        pinned = tuple(CasePlant(**item) for item in case_values.get("plants", []))
        case = CaseConfig(
            **{k: v for k, v in case_values.items() if k not in ("new_installations", "plants")},
            new_installations=news,
            plants=pinned,
        )
    return ScenarioConfig(
        **values.get("scenario", {}),
        population=PopulationConfig(**values.get("population", {})),
        parameters=Parameters(**values.get("parameters", {})),
        levers=tuple(LeverSetting(name, **levers.get(name, {})) for name in LEVER_NAMES),
        case=case,
    )


def load_scenario(path: str | Path) -> ScenarioConfig:
    """Load and strictly validate a scenario file; raise ScenarioError listing every problem.

    A shipped file given by its path before the move to ``experiments/scenarios/`` is found
    at its new place, with a note (``experiments.paths``).
    """
    file = paths.resolve(path).expanduser().resolve()
    problems = Problems()
    if not file.is_file():
        what = "is not a file" if file.exists() else "not found"
        raise ScenarioError(f"{file}: scenario file {what}")
    values = _load_chain(file, (), problems)
    scenario = values.get("scenario", {})
    problems.verification = bool(scenario.get("verification", False))
    years = {"scenario.start_year", "scenario.end_year"}
    if not years & problems.bad_keys:
        defaults = ScenarioConfig()
        start = scenario.get("start_year", defaults.start_year)
        end = scenario.get("end_year", defaults.end_year)
        if end <= start:
            problems.add(
                file,
                "scenario.end_year",
                f"{end} not after scenario.start_year {start}; expected an integer in "
                f"[{start + 1}, {MAX_YEAR}]",
            )
    if problems.lines:
        raise ScenarioError(problems.lines)
    config = build_config(values)
    if config.case is not None:
        _check_focus_city(file, config, problems)
        if problems.lines:
            raise ScenarioError(problems.lines)
    return config


def _check_focus_city(file: Path, config: ScenarioConfig, problems: Problems) -> None:
    """The focus city must be one of the Mission Cities in the scenario's data file."""
    assert config.case is not None
    source = config.population.mission_cities_csv
    try:
        names = [str(x) for x in read_csv(source, ("city",))["city"]]
    except (OSError, ValueError) as exc:
        problems.add(file, "population.mission_cities_csv", str(exc))
        return
    wanted = config.case.focus_city
    heads = {name.split(" (")[0].strip() for name in names}
    if wanted not in names and wanted.split(" (")[0].strip() not in heads:
        close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.5)
        hint = f"; close names: {', '.join(close)}" if close else ""
        problems.add(file, "case.focus_city", f"{wanted!r} is not a Mission City in {source}{hint}")


def toml_string(text: str) -> str:
    """A TOML basic string literal for ``text`` (escapes quotes, backslashes and controls)."""
    out = []
    for char in text:
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _toml_float(value: float) -> str:
    """A TOML float literal that parses back to exactly ``value``."""
    return repr(float(value))


def scenario_to_toml(config: ScenarioConfig) -> str:
    """The scenario as TOML text that load_scenario reads back to an equal config."""
    lines = [
        "# Scenario written by experiments.scenario.scenario_to_toml.",
        "# Every value is explicit, so the file does not depend on the defaults in abm.config.",
        "",
        "[scenario]",
        f"name = {toml_string(config.name)}",
        f"description = {toml_string(config.description)}",
        f"start_year = {int(config.start_year)}",
        f"end_year = {int(config.end_year)}",
        f"steps_per_year = {int(config.steps_per_year)}",
        f"staff_rule = {toml_string(config.staff_rule)}",
        f"verification = {'true' if config.verification else 'false'}",
        "",
        "[population]",
    ]
    population = config.population
    for key in POPULATION_KEYS:
        value = getattr(population, key)
        if key in POPULATION_PATH_KEYS:
            lines.append(f"{key} = {toml_string(Path(value).resolve().as_posix())}")
        elif POPULATION_RANGES[key].integer:
            lines.append(f"{key} = {int(value)}")
        else:
            lines.append(f"{key} = {_toml_float(value)}")
    lines += ["", "[parameters]"]
    for key, meta in PARAMETER_META.items():
        value = getattr(config.parameters, key)
        comment = f"{meta['unit']}, range [{_fmt(meta['low'])}, {_fmt(meta['high'])}]"
        lines.append(f"{key} = {_toml_float(value)}  # {comment}")
    for setting in config.levers:
        lines += [
            "",
            f"[levers.{setting.name}]",
            f"intensity = {_toml_float(setting.intensity)}",
            f"start_year = {int(setting.start_year)}",
        ]
    if config.case is not None:
        lines += _case_toml(config.case)
    return "\n".join(lines) + "\n"


def _case_toml(case: CaseConfig) -> list[str]:
    """The ``[case]`` table (and its new installations) as TOML lines."""
    lines = ["", "[case]", f"focus_city = {toml_string(case.focus_city)}"]
    if case.industry_in_ccc is not None:
        lines.append(f"industry_in_ccc = {'true' if case.industry_in_ccc else 'false'}")
    for key in ("omega_econ", "kappa", "national_gdp_eur", "national_co2_t"):
        value = getattr(case, key)
        if value is not None:
            lines.append(f"{key} = {_toml_float(value)}")
    lines.append(f"job_threat_multiplier = {_toml_float(case.job_threat_multiplier)}")
    lines.append(f"margin_shock_eur_per_t = {_toml_float(case.margin_shock_eur_per_t)}")
    lines.append(f"margin_shock_year = {int(case.margin_shock_year)}")
    for new in case.new_installations:
        lines += [
            "",
            "[[case.new_installations]]",
            f"name = {toml_string(new.name)}",
            f"sector = {toml_string(new.sector)}",
            f"technology = {toml_string(new.technology)}",
            f"capacity_mt = {_toml_float(new.capacity_mt)}",
            f"jobs = {_toml_float(new.jobs)}",
            f"start_year = {int(new.start_year)}",
            f"national_asset = {'true' if new.national_asset else 'false'}",
        ]
    for plant in case.plants:
        lines += ["", "[[case.plants]]", f"site = {toml_string(plant.site)}"]
        for key in ("jobs", "share_of_city_emissions"):
            value = getattr(plant, key)
            if value is not None:
                lines.append(f"{key} = {_toml_float(value)}")
    return lines


def list_scenarios(directory: str | Path) -> list[Path]:
    """All scenario files (``*.toml``, including sub-folders) under a directory, sorted.

    Experiment files (with an ``[experiment]`` table) live beside them and are skipped.
    """
    root = Path(directory)
    if not root.is_dir():
        raise ScenarioError(f"{root}: scenario directory not found")
    return sorted(
        path for path in root.rglob("*.toml") if path.is_file() and not _is_experiment(path)
    )


def _is_experiment(path: Path) -> bool:
    """Whether a TOML file is an experiment file (``[experiment]``), not a scenario."""
    try:
        with path.open("rb") as handle:
            return "experiment" in tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False  # listed, so loading it reports the problem
