"""Generic checks of parsed TOML files: collect every problem with file, key and what is allowed.

:class:`FileValidator` checks one parsed scenario file table by table (types, names, the
registry's ranges) and records each problem in a shared :class:`Problems`, so that a file and
the files it extends are reported in one pass; :func:`read_toml` turns unreadable or malformed
files into problems too. The allowed ranges are the typed config's own objects (``abm.config``,
``abm.policies``); ``experiments.scenario`` (scenario files) and ``experiments.experiment``
(experiment files) build on these checks.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from abm.config import (
    ALLOWED_STEPS_PER_YEAR,
    CASE_PLANT_RANGES,
    CASE_RANGES,
    NEW_INSTALLATION_RANGES,
    PARAMETER_RANGES,
    POPULATION_RANGES,
    SCENARIO_RANGES,
    STEPS_PER_YEAR_WORDS,
    VERIFICATION_PARAMETER_RANGES,
    CaseConfig,
    CasePlant,
    NewInstallation,
    PopulationConfig,
    check_route,
)
from abm.policies import LEVER_NAMES, LEVER_RANGES
from abm.rules.staff import STAFF_RULE_WORDS, STAFF_RULES
from abm.validation import ConfigError, Range, check_choice

TOP_LEVEL_TABLES: tuple[str, ...] = ("scenario", "population", "parameters", "levers", "case")
CASE_KEYS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(CaseConfig))
NEW_INSTALLATION_KEYS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(NewInstallation))
CASE_PLANT_KEYS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(CasePlant))
SCENARIO_KEYS: tuple[str, ...] = (
    "name",
    "description",
    "start_year",
    "end_year",
    "steps_per_year",
    "extends",
    "staff_rule",
    "verification",
)
VERIFICATION_HINT = "a verification scenario may go further with [scenario] verification = true"
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
_VERIFICATION_RANGES = VERIFICATION_PARAMETER_RANGES


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
    """Problems collected across a file and the files it extends, plus the keys that failed.

    A parameter outside its plausible range but within what a verification scenario allows is
    a problem only if the scenario is not one: set ``verification`` once the whole chain of
    files is read (the flag may sit in a base file), then read ``lines``.
    """

    def __init__(self) -> None:
        # each problem: its line in an ordinary scenario and in a verification scenario (None:
        # no problem there)
        self._items: list[tuple[str, str | None]] = []
        self.bad_keys: set[str] = set()
        self.verification = False

    @property
    def lines(self) -> list[str]:
        """The problems, one line each, for an ordinary or a verification scenario."""
        if self.verification:
            return [loose for _, loose in self._items if loose is not None]
        return [strict for strict, _ in self._items]

    def add(self, file: Path, key: str | None, message: str) -> None:
        """Record one problem in ``file`` at dotted ``key`` (None: the file as a whole)."""
        line = f"{file}: {key}: {message}" if key else f"{file}: {message}"
        self._items.append((line, line))
        if key:
            self.bad_keys.add(key)

    def add_implausible(self, file: Path, key: str, strict: str, verification: str | None) -> None:
        """Record a value outside its plausible range (``verification``: the message, if any,
        in a verification scenario)."""
        loose = None if verification is None else f"{file}: {key}: {verification}"
        self._items.append((f"{file}: {key}: {strict}", loose))


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
            elif key == "verification":
                flag = self.boolean(dotted, value)
                if flag is not None:
                    out[key] = flag
            elif key == "staff_rule":
                text = self.string(dotted, value)
                if text is None:
                    continue
                try:
                    check_choice(dotted, text, STAFF_RULES, STAFF_RULE_WORDS)
                    out[key] = text
                except ConfigError as exc:
                    self.error(dotted, exc.reason)
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
            number = self.parameter(dotted, value, key)
            if number is not None:
                out[key] = float(number)
        return out

    def parameter(self, dotted: str, value: object, key: str) -> float | None:
        """A parameter value: within its plausible range, or beyond it in a verification
        scenario (within :data:`abm.config.VERIFICATION_PARAMETER_RANGES`)."""
        plausible = _PARAMETER_RANGES[key]
        loose = _VERIFICATION_RANGES[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.error(dotted, f"expected {plausible.describe()}, got {show(value)}")
            return None
        number = float(value)
        if math.isfinite(number) and plausible.contains(number):
            return number
        problem = f"{value!r} out of range; expected {plausible.describe()}"
        if math.isfinite(number) and loose.contains(number):
            strict = f"{problem} ({VERIFICATION_HINT})"
            self.problems.add_implausible(self.file, dotted, strict, None)
            return number
        beyond = (
            f"{value!r} out of range even for a verification scenario; expected {loose.describe()}"
        )
        self.problems.add_implausible(self.file, dotted, problem, beyond)
        return None

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
            elif key == "plants":
                out[key] = self.case_plants(dotted, value)
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

    def case_plants(self, key: str, value: object) -> list[dict[str, Any]]:
        """Check ``[[case.plants]]`` entries: a site name and the facts pinned for it."""
        if not isinstance(value, list):
            self.error(key, f"expected an array of tables [[{key}]], got {show(value)}")
            return []
        out = []
        for i, item in enumerate(value):
            dotted = f"{key}[{i}]"
            table = self.table(dotted, item)
            if table is None:
                continue
            if "site" not in table:
                self.error(f"{dotted}.site", "required; a site_name of industrial_sites.csv")
            entry: dict[str, Any] = {}
            for name, val in table.items():
                sub = f"{dotted}.{name}"
                if name not in CASE_PLANT_KEYS:
                    self.unknown(sub, name, CASE_PLANT_KEYS)
                elif name == "site":
                    text = self.string(sub, val)
                    if text is not None:
                        entry[name] = text
                else:
                    number = self.number(sub, val, CASE_PLANT_RANGES[name])
                    if number is not None:
                        entry[name] = number
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
