"""Loading an experiment file: strict validation of its TOML, every problem reported at once."""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from abm.config import PARAMETER_META, ScenarioConfig
from abm.policies import LEVER_NAMES
from experiments import paths
from experiments.experiment.definition import (
    CHOICE_KEYS,
    DEFAULT_DESIGN,
    DEFAULT_SAMPLES,
    DESIGNS,
    POSTERIOR_FACTOR,
    Experiment,
    ExperimentError,
    Factor,
    _design_problem,
    headline_outcome_names,
    order_draws,
)
from experiments.scenario import (
    ALLOWED_STEPS_PER_YEAR,
    MAX_YEAR,
    MIN_YEAR,
    NAME_PATTERN,
    FileValidator,
    Problems,
    Range,
    ScenarioError,
    load_scenario,
    read_toml,
    show,
)

TOP_LEVEL_TABLES: tuple[str, ...] = (
    "experiment",
    "uncertainties",
    "levers",
    "packages",
    "posterior",
    "choices",
)
EXPERIMENT_KEYS: tuple[str, ...] = (
    "name",
    "description",
    "scenario",
    "seed",
    "replicates",
    "design",
    "samples",
    "outcomes",
    "population",
    "time",
)
REQUIRED_EXPERIMENT_KEYS: tuple[str, ...] = ("name", "scenario", "seed", "replicates")
TIME_KEYS: tuple[str, ...] = ("start_year", "end_year", "steps_per_year")
UNCERTAINTY_KEYS: tuple[str, ...] = ("low", "high", "group")
LEVER_FACTOR_KEYS: tuple[str, ...] = ("low", "high", "start_year", "group")
PACKAGE_KEYS: tuple[str, ...] = ("levers", "low", "high", "start_year")
POSTERIOR_KEYS: tuple[str, ...] = ("directory", "group")
CHOICE_FACTOR_KEYS: tuple[str, ...] = ("choices", "group")
# columns of a sweep's runs table that factor (package) names must not shadow
RESERVED_COLUMNS: tuple[str, ...] = ("point", "replicate", "seed", "run_key", "status", "error")
MAX_REPLICATES = 100_000
MAX_SAMPLES = 1_000_000
PACKAGE_NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OUTCOME_YEAR = re.compile(r"_(\d{4})_")

if TYPE_CHECKING:
    from calibration.posterior import Posterior


class _Validator(FileValidator):
    """Checks one parsed experiment file (number/string/table checks as for scenario files)."""

    def integer(self, key: str, value: object, low: int, high: int | None = None) -> int | None:
        """An integer in [low, high], else report the problem."""
        number = self.number(key, value, Range(integer=True, low=low, high=high))
        return None if number is None else int(number)

    def group(self, key: str, value: object) -> str | None:
        """A group name: a non-empty string."""
        text = self.string(key, value)
        if text is not None and not text.strip():
            self.error(key, "expected a non-empty group name")
            return None
        return text

    def bounds(
        self, dotted: str, table: Mapping[str, Any], low: float, high: float
    ) -> tuple[float, float] | None:
        """``low``/``high`` of a factor table, each within [low, high] and low < high."""
        allowed = Range(integer=False, low=low, high=high)
        a = self.number(f"{dotted}.low", table.get("low", low), allowed)
        b = self.number(f"{dotted}.high", table.get("high", high), allowed)
        if a is None or b is None:
            return None
        if not a < b:
            self.error(
                f"{dotted}.high",
                f"{b:g} not above low = {a:g}; expected low < high within [{low:g}, {high:g}]",
            )
            return None
        return float(a), float(b)

    def keyed_table(self, key: str, value: object, keys: Sequence[str]) -> dict[str, Any] | None:
        """The value if it is a table (each unknown key reported), else report the problem."""
        table = self.table(key, value)
        for name in table or ():
            if name not in keys:
                self.unknown(f"{key}.{name}", name, keys)
        return table

    def start_year(self, key: str, value: object) -> int | None:
        """A lever start year in the range LeverSetting accepts."""
        from abm.policies import FIRST_LEVER_YEAR, LAST_LEVER_YEAR

        return self.integer(key, value, FIRST_LEVER_YEAR, LAST_LEVER_YEAR)


@dataclass
class _Parsed:
    """Values of an experiment file as validated so far."""

    head: dict[str, Any] = field(default_factory=dict)
    population: dict[str, Any] = field(default_factory=dict)
    time: dict[str, Any] = field(default_factory=dict)
    uncertainties: dict[str, tuple[float, float, str]] = field(default_factory=dict)
    levers: dict[str, tuple[float, float, int | None, str]] = field(default_factory=dict)
    packages: dict[str, tuple[tuple[str, ...], float, float, int | None]] = field(
        default_factory=dict
    )
    posterior: Posterior | None = None
    posterior_group: str = POSTERIOR_FACTOR
    choices: dict[str, tuple[tuple[str, ...], str]] = field(default_factory=dict)


def _check_experiment(v: _Validator, section: Mapping[str, Any], out: _Parsed) -> None:
    """``[experiment]``: name, base scenario, seeds, design, outcomes, overrides."""
    name_rule = "letters, digits, '_', '-' and '.', starting with a letter or digit"
    for key in REQUIRED_EXPERIMENT_KEYS:
        if key not in section:
            what = {
                "name": f"a string of {name_rule}",
                "scenario": "the path of the base scenario file, relative to this file",
                "seed": "the master seed, an integer >= 0",
                "replicates": "seeds per design point, an integer >= 1",
            }[key]
            v.error(f"experiment.{key}", f"required; {what}")
    for key, value in section.items():
        dotted = f"experiment.{key}"
        if key not in EXPERIMENT_KEYS:
            v.unknown(dotted, key, EXPERIMENT_KEYS)
        elif key in ("name", "description"):
            text = v.string(dotted, value)
            if text is not None and key == "name" and not NAME_PATTERN.fullmatch(text):
                v.error(dotted, f"{text!r} not allowed; expected {name_rule}")
            elif text is not None:
                out.head[key] = text
        elif key == "scenario":
            text = v.string(dotted, value)
            if text is not None:
                path = (v.file.parent / text).resolve()
                if path.is_file():
                    out.head[key] = path
                else:
                    v.error(
                        dotted,
                        f"base scenario '{text}' not found (looked for {path}); expected a "
                        "path to an existing scenario file, relative to this file",
                    )
        elif key == "seed":
            out.head[key] = v.integer(dotted, value, 0)
        elif key == "replicates":
            out.head[key] = v.integer(dotted, value, 1, MAX_REPLICATES)
        elif key == "samples":
            out.head[key] = v.integer(dotted, value, 1, MAX_SAMPLES)
        elif key == "design":
            text = v.string(dotted, value)
            if text is not None and text not in DESIGNS:
                v.unknown(dotted, text, DESIGNS, what="design")
            elif text is not None:
                out.head[key] = text
        elif key == "outcomes":
            out.head[key] = _check_outcomes(v, dotted, value)
        elif key == "population":
            table = v.table(dotted, value)
            if table is not None:
                out.population.update(
                    v.population(table, prefix="experiment.population", kind="experiment")
                )
        else:
            table = v.table(dotted, value)
            if table is not None:
                _check_time(v, table, out)


def _check_outcomes(v: _Validator, dotted: str, value: object) -> tuple[str, ...] | None:
    """A non-empty array of distinct headline-outcome names."""
    if not isinstance(value, list) or not value:
        v.error(dotted, f"expected a non-empty array of outcome names, got {show(value)}")
        return None
    names: list[str] = []
    for i, item in enumerate(value):
        text = v.string(f"{dotted}[{i}]", item)
        if text is None:
            continue
        if text not in headline_outcome_names():
            v.unknown(f"{dotted}[{i}]", text, headline_outcome_names(), what="outcome")
        elif text in names:
            v.error(f"{dotted}[{i}]", f"'{text}' listed twice; expected distinct outcomes")
        else:
            names.append(text)
    return tuple(names) if len(names) == len(value) else None


def _check_time(v: _Validator, table: Mapping[str, Any], out: _Parsed) -> None:
    """``[experiment.time]``: start_year, end_year, steps_per_year overrides."""
    for key, value in table.items():
        dotted = f"experiment.time.{key}"
        if key not in TIME_KEYS:
            v.unknown(dotted, key, TIME_KEYS)
        elif key == "steps_per_year":
            if type(value) is int and value in ALLOWED_STEPS_PER_YEAR:
                out.time[key] = value
                continue
            v.error(dotted, f"expected the integer 1 (yearly) or 4 (quarterly), got {show(value)}")
        else:
            year = v.integer(dotted, value, MIN_YEAR, MAX_YEAR)
            if year is not None:
                out.time[key] = year


def _check_uncertainties(v: _Validator, section: Mapping[str, Any], out: _Parsed) -> None:
    """``[uncertainties.<parameter>]``: a registry parameter with a range inside its own."""
    for name, value in section.items():
        dotted = f"uncertainties.{name}"
        if name not in PARAMETER_META:
            close = difflib.get_close_matches(name, list(PARAMETER_META), n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            v.error(
                dotted,
                f"unknown parameter '{name}'; allowed: one of the {len(PARAMETER_META)} "
                f"registry parameters listed by `govsim params`{hint}",
            )
            continue
        table = v.keyed_table(dotted, value, UNCERTAINTY_KEYS)
        if table is None:
            continue
        meta = PARAMETER_META[name]
        span = v.bounds(dotted, table, float(meta["low"]), float(meta["high"]))
        group = v.group(f"{dotted}.group", table["group"]) if "group" in table else name
        if span is not None and group is not None:
            out.uncertainties[name] = (*span, group)


def _check_levers(v: _Validator, section: Mapping[str, Any], out: _Parsed) -> None:
    """``[levers.<lever>]``: an intensity range within [0, 1] and a start year."""
    for name, value in section.items():
        dotted = f"levers.{name}"
        if name not in LEVER_NAMES:
            v.unknown(dotted, name, LEVER_NAMES, what="lever")
            continue
        table = v.keyed_table(dotted, value, LEVER_FACTOR_KEYS)
        if table is None:
            continue
        span = v.bounds(dotted, table, 0.0, 1.0)
        start = (
            v.start_year(f"{dotted}.start_year", table["start_year"])
            if ("start_year" in table)
            else None
        )
        group = v.group(f"{dotted}.group", table["group"]) if "group" in table else name
        bad_start = "start_year" in table and start is None
        if span is not None and group is not None and not bad_start:
            out.levers[name] = (*span, start, group)


def _check_packages(v: _Validator, section: Mapping[str, Any], out: _Parsed) -> None:
    """``[packages]``: name = [levers] or name = {levers = [...], low, high, start_year}."""
    owner: dict[str, str] = {}
    for name, value in section.items():
        dotted = f"packages.{name}"
        taken = (
            name in LEVER_NAMES
            or name in PARAMETER_META
            or name in headline_outcome_names()
            or name in RESERVED_COLUMNS
        )
        if not PACKAGE_NAME_PATTERN.fullmatch(name) or taken:
            v.error(
                dotted,
                f"package name '{name}' not allowed; expected letters, digits and '_' "
                "(not starting with a digit), different from every lever, parameter, outcome "
                f"and the columns {', '.join(RESERVED_COLUMNS)}",
            )
            continue
        table: Mapping[str, Any]
        if isinstance(value, list):
            table, list_key = {"levers": value}, dotted
        elif isinstance(value, dict):
            table, list_key = value, f"{dotted}.levers"
            for key in table:
                if key not in PACKAGE_KEYS:
                    v.unknown(f"{dotted}.{key}", key, PACKAGE_KEYS)
            if "levers" not in table:
                v.error(list_key, "required; a non-empty array of lever names")
                continue
        else:
            v.error(
                dotted,
                "expected an array of lever names or a table {levers = [...], low, high, "
                f"start_year}}, got {show(value)}",
            )
            continue
        members = table["levers"]
        if not isinstance(members, list) or not members:
            v.error(list_key, f"expected a non-empty array of lever names, got {show(members)}")
            continue
        levers: list[str] = []
        for i, item in enumerate(members):
            key = f"{list_key}[{i}]"
            lever = v.string(key, item)
            if lever is None:
                continue
            if lever not in LEVER_NAMES:
                v.unknown(key, lever, LEVER_NAMES, what="lever")
            elif lever in out.levers:
                v.error(
                    key,
                    f"lever '{lever}' is also a factor of its own ([levers.{lever}]); "
                    "a lever is either a factor or in one package",
                )
            elif lever in owner:
                v.error(
                    key,
                    f"lever '{lever}' is already in package '{owner[lever]}'; a lever "
                    "can be in one package only",
                )
            elif lever in levers:
                v.error(key, f"lever '{lever}' listed twice")
            else:
                levers.append(lever)
                owner[lever] = name
        span = v.bounds(dotted, table, 0.0, 1.0)
        start = (
            v.start_year(f"{dotted}.start_year", table["start_year"])
            if ("start_year" in table)
            else None
        )
        bad_start = "start_year" in table and start is None
        if span is not None and not bad_start and len(levers) == len(members):
            out.packages[name] = (tuple(levers), *span, start)


def _check_choices(v: _Validator, section: Mapping[str, Any], out: _Parsed) -> None:
    """``[choices.<setting>]``: a scenario setting varied as categories (e.g. ``staff_rule``).

    ``choices`` lists two or more allowed values (default: all of them); the design's value
    in [0, 1] picks one in equal shares (``Factor.choice``). ``group`` as for parameters.
    """
    for name, value in section.items():
        dotted = f"choices.{name}"
        if name not in CHOICE_KEYS:
            v.unknown(dotted, name, tuple(CHOICE_KEYS), what="scenario setting")
            continue
        table = v.keyed_table(dotted, value, CHOICE_FACTOR_KEYS)
        if table is None:
            continue
        allowed = CHOICE_KEYS[name]
        picked = table.get("choices", list(allowed))
        if (
            not isinstance(picked, list)
            or len(picked) < 2
            or len(set(map(str, picked))) != len(picked)
            or any(c not in allowed for c in picked)
        ):
            v.error(
                f"{dotted}.choices",
                f"expected two or more different values of {', '.join(allowed)}, "
                f"got {show(picked)}",
            )
            continue
        group = v.group(f"{dotted}.group", table["group"]) if "group" in table else name
        if group is not None:
            out.choices[name] = (tuple(str(c) for c in picked), group)


def _check_posterior(v: _Validator, section: Mapping[str, Any], out: _Parsed) -> None:
    """``[posterior]``: the calibrated parameters as one factor over a posterior's joint draws.

    ``directory`` (relative to the file; default the committed ``calibration/posterior``)
    holds the draws; ``group`` names the factor's group (default ``posterior``). The
    calibrated parameters must not also be ``[uncertainties]`` (they would be sampled over
    their priors) and no package may be called ``posterior``.
    """
    from calibration.posterior import POSTERIOR_DIR, PosteriorError, load_posterior

    for key in section:
        if key not in POSTERIOR_KEYS:
            v.unknown(f"posterior.{key}", key, POSTERIOR_KEYS)
    folder = POSTERIOR_DIR
    if "directory" in section:
        text = v.string("posterior.directory", section["directory"])
        if text is None:
            return
        folder = (v.file.parent / text).resolve()
    if "group" in section:
        group = v.group("posterior.group", section["group"])
        if group is None:
            return
        out.posterior_group = group
    try:
        post = load_posterior(folder)
    except PosteriorError as exc:
        for line in str(exc).splitlines():
            v.error(
                "posterior.directory",
                f"{line}; expected a posterior directory relative to this file "
                "(default: the committed calibration/posterior)",
            )
        return
    for name in post.names:
        if name in out.uncertainties:
            v.error(
                f"uncertainties.{name}",
                f"'{name}' is calibrated: the [posterior] table draws it jointly with the other "
                f"calibrated parameters ({post.directory}); remove [uncertainties.{name}] or "
                "the [posterior] table",
            )
    if POSTERIOR_FACTOR in out.packages:
        v.error(
            f"packages.{POSTERIOR_FACTOR}",
            f"package name '{POSTERIOR_FACTOR}' is the posterior factor's; choose another name",
        )
    out.posterior = post


def _build_base(file: Path, out: _Parsed, problems: Problems) -> ScenarioConfig | None:
    """The base scenario with the experiment's population and time overrides applied."""
    path = out.head.get("scenario")
    if path is None:
        return None
    try:
        base = load_scenario(path)
    except ScenarioError as exc:
        for line in exc.problems:
            problems.add(file, "experiment.scenario", f"base scenario is invalid: {line}")
        return None
    try:
        population = dataclasses.replace(base.population, **out.population)
    except (TypeError, ValueError) as exc:
        problems.add(file, "experiment.population", str(exc))
        return None
    try:
        return dataclasses.replace(base, population=population, **out.time)
    except ValueError as exc:
        start = out.time.get("start_year", base.start_year)
        problems.add(
            file,
            "experiment.time",
            f"{exc}; expected end_year in [{start + 1}, {MAX_YEAR}]",
        )
        return None


def _check_outcome_years(
    file: Path, outcomes: Sequence[str], base: ScenarioConfig, problems: Problems
) -> None:
    """An outcome dated outside the simulated years would be NaN in every run: reject it."""
    for i, name in enumerate(outcomes):
        match = _OUTCOME_YEAR.search(name)
        if match and not base.start_year <= int(match.group(1)) <= base.end_year:
            problems.add(
                file,
                f"experiment.outcomes[{i}]",
                f"'{name}' is measured in {match.group(1)}, outside the simulated years "
                f"{base.start_year}-{base.end_year} (it would be NaN in every run); expected "
                "an outcome within the time frame or a later experiment.time.end_year",
            )


def load_experiment(path: str | Path) -> Experiment:
    """Load and strictly validate an experiment file; ExperimentError lists every problem.

    A shipped file given by its path before the move to ``experiments/studies/`` is found at
    its new place, with a note (``experiments.paths``).
    """
    file = paths.resolve(path).expanduser().resolve()
    if not file.is_file():
        what = "is not a file" if file.exists() else "not found"
        raise ExperimentError(f"{file}: experiment file {what}")
    problems = Problems()
    doc = read_toml(file, problems)
    if doc is None:
        raise ExperimentError(problems.lines)
    v = _Validator(file, problems)
    parsed = _Parsed()
    for name in doc:
        if name not in TOP_LEVEL_TABLES:
            v.unknown(name, name, TOP_LEVEL_TABLES, what="table or key")
    if "experiment" not in doc:
        v.error("experiment", "missing required table [experiment]")
    checks = (
        ("experiment", _check_experiment),
        ("uncertainties", _check_uncertainties),
        ("levers", _check_levers),
        ("packages", _check_packages),
        ("choices", _check_choices),
        ("posterior", _check_posterior),  # last: it checks names against the other tables
    )
    for name, check in checks:
        if name in doc:
            section = v.table(name, doc[name])
            if section is not None:
                check(v, section, parsed)
    if not any(doc.get(t) for t in ("uncertainties", "levers", "packages", "choices")) and (
        "posterior" not in doc
    ):
        v.error(
            None,
            "no factors; expected at least one [uncertainties.<parameter>], "
            "[levers.<lever>], [choices.<setting>] table, [packages] entry or a [posterior] "
            "table",
        )
    base = _build_base(file, parsed, problems)
    head = parsed.head
    outcomes = head.get("outcomes", headline_outcome_names())
    if base is not None and outcomes is not None and "outcomes" in head:
        _check_outcome_years(file, outcomes, base, problems)
    design = head.get("design", DEFAULT_DESIGN)
    samples = head.get("samples", DEFAULT_SAMPLES)
    n_factors = len(parsed.uncertainties) + len(parsed.levers) + len(parsed.packages)
    n_factors += len(parsed.choices) + (parsed.posterior is not None)
    if samples is not None and n_factors and "experiment.design" not in problems.bad_keys:
        text = _design_problem(design, samples, n_factors)
        if text:
            problems.add(file, "experiment.samples", f"{samples} with design '{design}': {text}")
    if problems.lines:
        raise ExperimentError(problems.lines)
    assert base is not None and outcomes is not None  # guaranteed when nothing was reported
    return _assemble(file, head, base, outcomes, design, samples, parsed)


def _assemble(
    file: Path,
    head: Mapping[str, Any],
    base: ScenarioConfig,
    outcomes: tuple[str, ...],
    design: str,
    samples: int,
    parsed: _Parsed,
) -> Experiment:
    """The Experiment from validated values."""
    factors: list[Factor] = []
    start_years: dict[str, int] = {}
    for name, (low, high, group) in parsed.uncertainties.items():
        factors.append(Factor(name, "parameter", low, high, group))
    for name, (low, high, start, group) in parsed.levers.items():
        factors.append(Factor(name, "lever", low, high, group))
        start_years[name] = base.lever(name).start_year if start is None else start
    packages: dict[str, tuple[str, ...]] = {}
    for name, (levers, low, high, start) in parsed.packages.items():
        factors.append(Factor(name, "package", low, high, name))
        packages[name] = levers
        for lever in levers:
            start_years[lever] = base.lever(lever).start_year if start is None else start
    for name, (picked, group) in parsed.choices.items():
        factors.append(Factor(name, "choice", 0.0, 1.0, group, picked))
    draws: tuple[Mapping[str, float], ...] = ()
    info: dict[str, Any] = {}
    if parsed.posterior is not None:
        post = parsed.posterior
        factors.append(Factor(POSTERIOR_FACTOR, "posterior", 0.0, 1.0, parsed.posterior_group))
        draws = order_draws(
            [{n: float(row[n]) for n in post.names} for _, row in post.draws.iterrows()]
        )
        info = {**post.describe(), "order": "first principal component of standardised draws"}
    return Experiment(
        name=head["name"],
        path=file,
        base=base,
        seed=int(head["seed"]),
        replicates=int(head["replicates"]),
        design=design,
        samples=int(samples),
        outcomes=tuple(outcomes),
        factors=tuple(factors),
        packages=packages,
        start_years=start_years,
        description=head.get("description", ""),
        scenario_path=head["scenario"],
        posterior_draws=draws,
        posterior_info=info,
    )
