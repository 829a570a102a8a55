"""Experiment files: the factors, outcomes, design and seeds of a sweep, as validated data.

An experiment (in the sense of the EMA Workbench: uncertainties, levers, outcomes) is a TOML
file with the tables ``[experiment]`` (name, base scenario, master seed, replicates, design,
outcomes, optional population and time overrides), ``[uncertainties.<parameter>]`` (a range
over any registry parameter), ``[levers.<lever>]`` (a range of a lever's intensity) and
``[packages]`` (named groups of levers, each ONE factor that sets all its levers to the same
intensity). :func:`load_experiment` validates it as strictly as scenario files are validated:
every problem is collected and reported together, naming the file, the dotted key and what is
allowed. :func:`design_points` turns an experiment into a matrix of factor values (one row
per design point) and :meth:`Experiment.config_for` turns one row into a ``ScenarioConfig``.
Every design point runs with the same replicate seeds (common random numbers).
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from abm.config import PARAMETER_META, ScenarioConfig
from abm.outcomes import OUTCOME_NAMES
from abm.policies import LEVER_NAMES, LeverSetting
from abm.rng import design_seed, replicate_seeds
from experiments.errors import BadInput
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

DESIGNS: tuple[str, ...] = ("lhs", "factorial", "grid", "sobol", "morris")
TOP_LEVEL_TABLES: tuple[str, ...] = ("experiment", "uncertainties", "levers", "packages")
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
# columns of a sweep's runs table that factor (package) names must not shadow
RESERVED_COLUMNS: tuple[str, ...] = ("point", "replicate", "seed", "run_key", "status", "error")
DEFAULT_DESIGN = "lhs"
DEFAULT_SAMPLES = 16
MAX_REPLICATES = 100_000
MAX_SAMPLES = 1_000_000
MAX_DESIGN_POINTS = 10_000_000
MORRIS_LEVELS = 4
PACKAGE_NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OUTCOME_YEAR = re.compile(r"_(\d{4})_")

FactorKind = Literal["parameter", "lever", "package"]


class ExperimentError(BadInput):
    """An experiment file could not be loaded; ``problems`` lists every problem, one per line."""

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems: tuple[str, ...] = (
            (problems,) if isinstance(problems, str) else tuple(problems)
        )
        super().__init__("invalid experiment file:\n" + "\n".join(self.problems))


@dataclass(frozen=True, slots=True)
class Factor:
    """One input varied by the design: a registry parameter, a lever or a lever package.

    ``low`` and ``high`` bound the design (a parameter's registry range, or a sub-range; a
    lever's intensity within [0, 1]); ``group`` names the group for grouped sensitivity
    indices (the factor's own name unless the file sets one; a package's name).
    """

    name: str
    kind: FactorKind
    low: float
    high: float
    group: str


@dataclass(frozen=True)
class Experiment:
    """A validated experiment: base scenario, factors, outcomes, design and seeds."""

    name: str
    path: Path
    base: ScenarioConfig
    seed: int
    replicates: int
    design: str
    samples: int
    outcomes: tuple[str, ...]
    factors: tuple[Factor, ...]
    packages: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    start_years: Mapping[str, int] = field(default_factory=dict)
    description: str = ""
    scenario_path: Path | None = None

    def seeds(self) -> list[int]:
        """The replicate seeds, the same at every design point (common random numbers)."""
        return replicate_seeds(self.seed, self.replicates)

    @property
    def factor_names(self) -> list[str]:
        """Factor names in design-column order."""
        return [f.name for f in self.factors]

    def bounds(self) -> list[tuple[float, float]]:
        """(low, high) of each factor, in design-column order."""
        return [(f.low, f.high) for f in self.factors]

    def config_for(self, values: Mapping[str, float], index: int | None = None) -> ScenarioConfig:
        """The base scenario with every factor set to ``values[factor name]``.

        Parameters go through ``Parameters.replace`` (which checks the registry range); a
        lever factor sets that lever's intensity, a package factor sets every lever of the
        package to the same intensity, each from its configured start year. The config is
        named ``<experiment>-p<index>`` when ``index`` is given.
        """
        names = self.factor_names
        missing = [n for n in names if n not in values]
        unknown = [n for n in values if n not in names]
        if missing or unknown:
            raise KeyError(
                f"experiment '{self.name}': values must name every factor exactly; "
                f"missing: {missing or 'none'}, unknown: {unknown or 'none'}"
            )
        params: dict[str, float] = {}
        intensity: dict[str, float] = {}
        for factor in self.factors:
            value = float(values[factor.name])
            if factor.kind == "parameter":
                params[factor.name] = value
            elif factor.kind == "lever":
                intensity[factor.name] = value
            else:
                for lever in self.packages[factor.name]:
                    intensity[lever] = value
        levers = tuple(
            LeverSetting(s.name, intensity[s.name], self.start_years[s.name])
            if s.name in intensity
            else s
            for s in self.base.levers
        )
        return dataclasses.replace(
            self.base,
            name=self.name if index is None else f"{self.name}-p{index}",
            parameters=self.base.parameters.replace(**params) if params else self.base.parameters,
            levers=levers,
        )

    def salib_problem(self, groups: bool = False) -> dict[str, Any]:
        """The SALib problem dict (num_vars, names, bounds; with ``groups``: factor groups)."""
        problem: dict[str, Any] = {
            "num_vars": len(self.factors),
            "names": self.factor_names,
            "bounds": [list(b) for b in self.bounds()],
        }
        if groups:
            problem["groups"] = [f.group for f in self.factors]
        return problem


def headline_outcome_names() -> tuple[str, ...]:
    """Names of the headline outcomes, in the outcomes table's order (abm/outcomes.py)."""
    return OUTCOME_NAMES


def design_points(
    exp: Experiment, method: str | None = None, n: int | None = None, seed: int | None = None
) -> np.ndarray:
    """Design matrix (points x factors) in factor order; deterministic given the seed.

    ``method`` (default: the experiment's design) is ``lhs`` (n Latin-hypercube points,
    McKay et al. 1979), ``factorial``/``grid`` (the full grid of n evenly spaced levels per
    factor, ends included; n = 2 is the 2^k factorial), ``sobol`` (Saltelli's scheme for
    first and total indices, n (k + 2) points; n must be a power of 2) or ``morris``
    (n trajectories of k + 1 points on a 4-level grid). ``n`` defaults to the experiment's
    ``samples``, ``seed`` to a child of its master seed. Raises BadInput for an unusable
    method or size.
    """
    from SALib.sample import latin, morris, sobol  # imported here: workers never sample

    method = exp.design if method is None else method
    n = exp.samples if n is None else n
    seed = design_seed(exp.seed) if seed is None else seed
    problem = exp.salib_problem()
    k = len(exp.factors)
    problem_text = _design_problem(method, n, k)
    if problem_text:
        raise BadInput(f"design '{method}' with samples = {n}: {problem_text}")
    if method == "lhs":
        points = latin.sample(problem, n, seed=seed)
    elif method in ("factorial", "grid"):
        levels = [np.linspace(low, high, n) for low, high in exp.bounds()]
        points = np.array(list(itertools.product(*levels)), dtype=float).reshape(-1, k)
    elif method == "sobol":
        points = sobol.sample(problem, n, calc_second_order=False, seed=seed)
    else:
        points = morris.sample(problem, n, num_levels=MORRIS_LEVELS, seed=seed)
    lows = np.array([b[0] for b in exp.bounds()])
    highs = np.array([b[1] for b in exp.bounds()])
    # scaling can overshoot a bound by one ulp; the registry checks bounds exactly
    return np.clip(np.asarray(points, dtype=float), lows, highs)


def _design_problem(method: str, n: int, k: int) -> str:
    """Why ``n`` samples do not suit ``method`` with ``k`` factors ('' if they do)."""
    if method not in DESIGNS:
        return f"unknown design; allowed: {', '.join(DESIGNS)}"
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        return "expected an integer >= 1"
    if method in ("factorial", "grid"):
        if n < 2:
            return "a grid needs at least 2 levels per factor"
        if n**k > MAX_DESIGN_POINTS:
            return (
                f"{n}^{k} = {n**k} points exceed {MAX_DESIGN_POINTS}; use fewer levels or "
                "the lhs design"
            )
    if method == "sobol" and (n < 2 or n & (n - 1)):
        return "Sobol' sequences need a power of 2 (e.g. 256, 512, 1024)"
    if method == "morris" and n < 2:
        return "Morris screening needs at least 2 trajectories"
    return ""


# --- loading ----------------------------------------------------------------------------------


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
        table = v.table(dotted, value)
        if table is None:
            continue
        for key in table:
            if key not in UNCERTAINTY_KEYS:
                v.unknown(f"{dotted}.{key}", key, UNCERTAINTY_KEYS)
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
        table = v.table(dotted, value)
        if table is None:
            continue
        for key in table:
            if key not in LEVER_FACTOR_KEYS:
                v.unknown(f"{dotted}.{key}", key, LEVER_FACTOR_KEYS)
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
    """Load and strictly validate an experiment file; ExperimentError lists every problem."""
    file = Path(path).expanduser().resolve()
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
    )
    for name, check in checks:
        if name in doc:
            section = v.table(name, doc[name])
            if section is not None:
                check(v, section, parsed)
    if not any(doc.get(t) for t in ("uncertainties", "levers", "packages")):
        v.error(
            None,
            "no factors; expected at least one [uncertainties.<parameter>], "
            "[levers.<lever>] table or [packages] entry",
        )
    base = _build_base(file, parsed, problems)
    head = parsed.head
    outcomes = head.get("outcomes", headline_outcome_names())
    if base is not None and outcomes is not None and "outcomes" in head:
        _check_outcome_years(file, outcomes, base, problems)
    design = head.get("design", DEFAULT_DESIGN)
    samples = head.get("samples", DEFAULT_SAMPLES)
    n_factors = len(parsed.uncertainties) + len(parsed.levers) + len(parsed.packages)
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
    )
