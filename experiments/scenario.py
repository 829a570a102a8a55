"""Scenario files: load, validate and write the TOML that defines one model run.

A scenario file has the tables ``[scenario]`` (name, time frame, optional ``extends``),
``[population]`` (fields of :class:`abm.config.PopulationConfig`), ``[parameters]`` (fields of
:class:`abm.config.Parameters`) and one ``[levers.<name>]`` table per lever of
:mod:`abm.policies`. ``extends`` names a base file (relative to the extending file) whose values
the extending file overrides table by table. Validation is strict and loud: every problem in a
file and in the files it extends is collected in one pass and reported together, each line
naming the file, the dotted key and what is allowed.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from abm.config import (
    ALLOWED_STEPS_PER_YEAR,
    CASE_RANGES,
    MAX_YEAR,
    MIN_YEAR,
    NEW_INSTALLATION_RANGES,
    PARAMETER_META,
    PARAMETER_RANGES,
    POPULATION_RANGES,
    SCENARIO_RANGES,
    STEPS_PER_YEAR_WORDS,
    CaseConfig,
    NewInstallation,
    Parameters,
    PopulationConfig,
    ScenarioConfig,
    check_route,
)
from abm.policies import LEVER_NAMES, LEVER_RANGES, LeverSetting
from abm.population import read_csv
from abm.validation import ConfigError, Range, check_choice

__all__ = ["ALLOWED_STEPS_PER_YEAR", "MAX_YEAR", "MIN_YEAR", "POPULATION_RANGES", "Range"]

TOP_LEVEL_TABLES: tuple[str, ...] = ("scenario", "population", "parameters", "levers", "case")
CASE_KEYS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(CaseConfig))
NEW_INSTALLATION_KEYS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(NewInstallation))
SCENARIO_KEYS: tuple[str, ...] = (
    "name",
    "description",
    "start_year",
    "end_year",
    "steps_per_year",
    "extends",
)
LEVER_KEYS: tuple[str, ...] = ("intensity", "start_year")
POPULATION_KEYS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(PopulationConfig))
POPULATION_PATH_KEYS: tuple[str, ...] = tuple(
    f.name for f in dataclasses.fields(PopulationConfig) if isinstance(f.default, Path)
)
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")


class ScenarioError(Exception):
    """A scenario file could not be loaded; the message lists every problem, one per line."""

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems: tuple[str, ...] = (
            (problems,) if isinstance(problems, str) else tuple(problems)
        )
        super().__init__("\n".join(self.problems))


# what each key allows is defined once, by the typed config (abm.config, abm.policies); this
# reader checks TOML types and names, and turns the config's ConfigError into file/key messages
_SCENARIO_RANGES = SCENARIO_RANGES
_LEVER_RANGES = LEVER_RANGES
_CASE_RANGES = CASE_RANGES
_NEW_INSTALLATION_RANGES = NEW_INSTALLATION_RANGES
_PARAMETER_RANGES = PARAMETER_RANGES


def _fmt(number: float) -> str:
    """A bound written without a spurious trailing '.0'."""
    return f"{number:g}"


def _toml_type(value: object) -> str:
    """The TOML name of a parsed value's type, for error messages."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "table"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


def show(value: object) -> str:
    """A parsed value and its TOML type, e.g. ``true (boolean)``."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dict):
        text = "{...}"
    else:
        text = repr(value)
    return f"{text} ({_toml_type(value)})"


class Problems:
    """Problems collected across a file and the files it extends, plus the keys that failed."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.bad_keys: set[str] = set()

    def add(self, file: Path, key: str | None, message: str) -> None:
        """Record one problem in ``file`` at dotted ``key`` (None: the file as a whole)."""
        self.lines.append(f"{file}: {key}: {message}" if key else f"{file}: {message}")
        if key:
            self.bad_keys.add(key)


class FileValidator:
    """Checks one parsed scenario file and returns its values in normalised form."""

    def __init__(self, file: Path, problems: Problems) -> None:
        self.file = file
        self.problems = problems

    def error(self, key: str | None, message: str) -> None:
        """Record a problem in this file."""
        self.problems.add(self.file, key, message)

    def unknown(self, key: str, name: str, allowed: Sequence[str], what: str = "key") -> None:
        """Report an unknown key, listing what is allowed and the closest allowed name."""
        close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        self.error(key, f"unknown {what} '{name}'; allowed: {', '.join(allowed)}{hint}")

    def table(self, key: str, value: object) -> dict[str, Any] | None:
        """The value if it is a table, else report the problem."""
        if isinstance(value, dict):
            return value
        self.error(key, f"expected a table, got {show(value)}")
        return None

    def number(self, key: str, value: object, allowed: Range) -> int | float | None:
        """The value if it is a number of the right kind within range, else report it."""
        wrong_kind = allowed.integer and isinstance(value, float)
        if isinstance(value, bool) or not isinstance(value, int | float) or wrong_kind:
            self.error(key, f"expected {allowed.describe()}, got {show(value)}")
            return None
        number: int | float = value if allowed.integer else float(value)
        try:
            allowed.check(key, value)
        except ConfigError as exc:
            self.error(key, exc.reason)
            return None
        return number

    def string(self, key: str, value: object) -> str | None:
        """The value if it is a string, else report the problem."""
        if isinstance(value, str):
            return value
        self.error(key, f"expected a string, got {show(value)}")
        return None

    def validate(self, doc: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
        """Normalised values of the whole file and its ``extends`` entry (if any)."""
        out: dict[str, Any] = {}
        extends: str | None = None
        for name in doc:
            if name not in TOP_LEVEL_TABLES:
                self.unknown(name, name, TOP_LEVEL_TABLES, what="table or key")
        if "scenario" not in doc:
            self.error("scenario", "missing required table [scenario] (with at least 'name')")
        for name in TOP_LEVEL_TABLES:
            if name not in doc:
                continue
            section = self.table(name, doc[name])
            if section is None:
                continue
            if name == "scenario":
                out[name], extends = self.scenario(section)
            elif name == "population":
                out[name] = self.population(section)
            elif name == "parameters":
                out[name] = self.parameters(section)
            elif name == "case":
                out[name] = self.case(section)
            else:
                out[name] = self.levers(section)
        return out, extends

    def scenario(self, section: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
        """Check ``[scenario]``: name, description, time frame and ``extends``."""
        out: dict[str, Any] = {}
        extends: str | None = None
        name_rule = "letters, digits, '_', '-' and '.', starting with a letter or digit"
        if "name" not in section:
            self.error("scenario.name", f"required; a non-empty string of {name_rule}")
        for key, value in section.items():
            dotted = f"scenario.{key}"
            if key not in SCENARIO_KEYS:
                self.unknown(dotted, key, SCENARIO_KEYS)
            elif key in _SCENARIO_RANGES:
                number = self.number(dotted, value, _SCENARIO_RANGES[key])
                if number is not None:
                    out[key] = number
            elif key == "steps_per_year":
                if isinstance(value, int) and not isinstance(value, bool):
                    try:
                        check_choice(dotted, value, ALLOWED_STEPS_PER_YEAR, STEPS_PER_YEAR_WORDS)
                        out[key] = value
                    except ConfigError as exc:
                        self.error(dotted, exc.reason)
                else:
                    self.error(
                        dotted, f"expected the integer {STEPS_PER_YEAR_WORDS}, got {show(value)}"
                    )
            else:
                text = self.string(dotted, value)
                if text is None:
                    continue
                if key == "name" and not NAME_PATTERN.fullmatch(text):
                    self.error(dotted, f"{text!r} not allowed; expected {name_rule}")
                elif key == "extends":
                    extends = text
                else:
                    out[key] = text
        return out, extends

    def population(
        self, section: Mapping[str, Any], prefix: str = "population", kind: str = "scenario"
    ) -> dict[str, Any]:
        """Check a population table; data-file paths are resolved relative to this file."""
        out: dict[str, Any] = {}
        for key, value in section.items():
            dotted = f"{prefix}.{key}"
            if key not in POPULATION_KEYS:
                self.unknown(dotted, key, POPULATION_KEYS)
            elif key in POPULATION_PATH_KEYS:
                text = self.string(dotted, value)
                if text is None:
                    continue
                path = (self.file.parent / text).resolve()
                if path.is_file():
                    out[key] = path
                else:
                    self.error(
                        dotted,
                        f"data file '{text}' not found (looked for {path}); "
                        f"expected a path to an existing file, relative to this {kind} file",
                    )
            else:
                number = self.number(dotted, value, POPULATION_RANGES[key])
                if number is not None:
                    out[key] = number
        return out

    def parameters(self, section: Mapping[str, Any]) -> dict[str, float]:
        """Check ``[parameters]`` against the registry's names and plausible ranges."""
        out: dict[str, float] = {}
        for key, value in section.items():
            dotted = f"parameters.{key}"
            if key not in _PARAMETER_RANGES:
                close = difflib.get_close_matches(key, list(_PARAMETER_RANGES), n=3, cutoff=0.6)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                others = f" (other close names: {', '.join(close[1:])})" if close[1:] else ""
                self.error(
                    dotted,
                    f"unknown parameter '{key}'; allowed: one of the {len(_PARAMETER_RANGES)} "
                    f"fields of abm.config.Parameters, listed by abm.config.registry()"
                    f"{hint}{others}",
                )
                continue
            number = self.number(dotted, value, _PARAMETER_RANGES[key])
            if number is not None:
                out[key] = float(number)
        return out

    def boolean(self, key: str, value: object) -> bool | None:
        """The value if it is a boolean, else report the problem."""
        if isinstance(value, bool):
            return value
        self.error(key, f"expected true or false, got {show(value)}")
        return None

    def case(self, section: Mapping[str, Any]) -> dict[str, Any]:
        """Check ``[case]``: the focus city and its local settings (domain §5)."""
        out: dict[str, Any] = {}
        if "focus_city" not in section:
            self.error("case.focus_city", "required; the name of a Mission City")
        for key, value in section.items():
            dotted = f"case.{key}"
            if key not in CASE_KEYS:
                self.unknown(dotted, key, CASE_KEYS)
            elif key == "focus_city":
                text = self.string(dotted, value)
                if text is not None:
                    out[key] = text
            elif key == "industry_in_ccc":
                flag = self.boolean(dotted, value)
                if flag is not None:
                    out[key] = flag
            elif key == "new_installations":
                out[key] = self.new_installations(dotted, value)
            else:
                number = self.number(dotted, value, _CASE_RANGES[key])
                if number is not None:
                    out[key] = number
        return out

    def new_installations(self, key: str, value: object) -> list[dict[str, Any]]:
        """Check ``[[case.new_installations]]`` entries: sector, route, size, jobs, year."""
        if not isinstance(value, list):
            self.error(key, f"expected an array of tables [[{key}]], got {show(value)}")
            return []
        out = []
        for i, item in enumerate(value):
            dotted = f"{key}[{i}]"
            table = self.table(dotted, item)
            if table is None:
                continue
            entry: dict[str, Any] = {}
            for name in ("name", "sector", "technology", "capacity_mt", "jobs", "start_year"):
                if name not in table:
                    self.error(f"{dotted}.{name}", "required")
            for name, val in table.items():
                sub = f"{dotted}.{name}"
                if name not in NEW_INSTALLATION_KEYS:
                    self.unknown(sub, name, NEW_INSTALLATION_KEYS)
                elif name in ("name", "sector", "technology"):
                    text = self.string(sub, val)
                    if text is not None:
                        entry[name] = text
                elif name == "national_asset":
                    flag = self.boolean(sub, val)
                    if flag is not None:
                        entry[name] = flag
                else:
                    number = self.number(sub, val, _NEW_INSTALLATION_RANGES[name])
                    if number is not None:
                        entry[name] = number
            sector = entry.get("sector")
            if sector is not None:
                try:
                    check_route(dotted, sector, entry.get("technology", ""))
                except ConfigError as exc:
                    if exc.field.endswith(".sector") or "technology" in entry:
                        self.error(exc.field, exc.reason)
            out.append(entry)
        return out

    def levers(self, section: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """Check ``[levers.<name>]`` tables: known lever names, intensity and start year."""
        out: dict[str, dict[str, Any]] = {}
        for lever, value in section.items():
            dotted = f"levers.{lever}"
            if lever not in LEVER_NAMES:
                self.unknown(dotted, lever, LEVER_NAMES, what="lever")
                continue
            table = self.table(dotted, value)
            if table is None:
                continue
            setting: dict[str, Any] = {}
            for key, item in table.items():
                if key not in LEVER_KEYS:
                    self.unknown(f"{dotted}.{key}", key, LEVER_KEYS)
                    continue
                number = self.number(f"{dotted}.{key}", item, _LEVER_RANGES[key])
                if number is not None:
                    setting[key] = number
            out[lever] = setting
        return out


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge by table: values in ``override`` win, sub-tables are merged key by key."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_toml(file: Path, problems: Problems) -> dict[str, Any] | None:
    """Parse one TOML file, recording a problem if it is unreadable or malformed."""
    try:
        with file.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        problems.add(file, None, f"malformed TOML: {exc}")
    except UnicodeDecodeError as exc:
        problems.add(file, None, f"not UTF-8 text: {exc}")
    except OSError as exc:
        problems.add(file, None, f"cannot read the file: {exc.strerror or exc}")
    return None


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
    return _merge(_load_chain(base_file, seen, problems), own)


def _build(values: Mapping[str, Any]) -> ScenarioConfig:
    """A ScenarioConfig from validated, merged values; missing keys take their defaults."""
    levers = values.get("levers", {})
    case_values = values.get("case")
    case = None
    if case_values is not None:
        news = tuple(NewInstallation(**item) for item in case_values.get("new_installations", []))
        case = CaseConfig(
            **{k: v for k, v in case_values.items() if k != "new_installations"},
            new_installations=news,
        )
    return ScenarioConfig(
        **values.get("scenario", {}),
        population=PopulationConfig(**values.get("population", {})),
        parameters=Parameters(**values.get("parameters", {})),
        levers=tuple(LeverSetting(name, **levers.get(name, {})) for name in LEVER_NAMES),
        case=case,
    )


def load_scenario(path: str | Path) -> ScenarioConfig:
    """Load and strictly validate a scenario file; raise ScenarioError listing every problem."""
    file = Path(path).expanduser().resolve()
    problems = Problems()
    if not file.is_file():
        what = "is not a file" if file.exists() else "not found"
        raise ScenarioError(f"{file}: scenario file {what}")
    values = _load_chain(file, (), problems)
    scenario = values.get("scenario", {})
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
    config = _build(values)
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
    for key in ("omega_econ", "kappa"):
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
