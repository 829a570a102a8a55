"""What a sensitivity study samples: factors, ranges, groups, the dummy and the design.

:class:`Study` is the study as data (method, factors, base sample size, master seed); factors
come from an experiment file (:func:`factors_of`) or a ``--factors`` specification
(:func:`parse_factors`). See :mod:`experiments.sensitivity` for the method choices.
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample
from scipy.stats import qmc

from abm.rng import child_seed
from experiments.errors import BadInput

if TYPE_CHECKING:
    from experiments.experiment import Experiment

METHODS: tuple[str, ...] = ("morris", "sobol", "pawn", "emulator")
# how replicate seeds are given to design rows: the same R seeds at every distinct point
# (common random numbers), or R seeds of its own for every design row (issue 13)
SEEDINGS: tuple[str, ...] = ("common", "independent")
MAX_EMULATOR_RUNS = 2048
DUMMY = "_dummy"
DUMMY_LABEL = "dummy (no effect)"
MORRIS_LEVELS = 4
PAWN_SLIDES = 10
DEFAULT_SAMPLES: dict[str, int] = {"morris": 20, "sobol": 256, "pawn": 512, "emulator": 256}
MIN_SAMPLES: dict[str, int] = {"morris": 4, "sobol": 4, "pawn": 8 * PAWN_SLIDES, "emulator": 32}


# --- study definition -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FactorSpec:
    """One factor of a study: a uniform range and an optional group (recommendation package)."""

    name: str
    low: float
    high: float
    group: str | None = None


@dataclass(frozen=True, slots=True)
class Study:
    """What to sample and how to analyse it; the model is supplied separately.

    ``samples`` is the base sample size ``N``: Morris trajectories, Sobol base points, PAWN
    points or the emulator's training runs. The design always ends with the :data:`DUMMY`
    column. ``seeding`` is ``common`` (the same replicate seeds at every distinct point) or
    ``independent`` (every design row its own seeds, :func:`abm.rng.point_seeds`; rows that
    differ only in the dummy are then run apart, so the dummy's index measures seed noise).
    """

    method: str
    factors: tuple[FactorSpec, ...]
    samples: int
    seed: int = 0
    grouped: bool = False
    seeding: str = "common"

    def __post_init__(self) -> None:
        problems = check_study(self)
        if problems:
            raise BadInput("invalid sensitivity study:\n" + "\n".join(problems))

    @property
    def factor_names(self) -> tuple[str, ...]:
        """The model's factors, in design-column order (without the dummy)."""
        return tuple(f.name for f in self.factors)

    def groups(self) -> list[str]:
        """The group of every design column (ungrouped factors and the dummy: their own)."""
        return [f.group or f.name for f in self.factors] + [DUMMY]

    def problem(self) -> dict[str, Any]:
        """The SALib problem: every factor plus the dummy; with ``groups`` if grouped."""
        out: dict[str, Any] = {
            "num_vars": len(self.factors) + 1,
            "names": [*self.factor_names, DUMMY],
            "bounds": [[f.low, f.high] for f in self.factors] + [[0.0, 1.0]],
        }
        if self.grouped:
            out["groups"] = self.groups()
        return out

    @property
    def units(self) -> int:
        """Number of analysed units: factors, or groups when grouped (dummy included)."""
        return len(dict.fromkeys(self.groups())) if self.grouped else len(self.factors) + 1

    def design_rows(self, samples: int | None = None) -> int:
        """Rows of a design with ``samples`` base samples (default: the study's)."""
        n = self.samples if samples is None else samples
        if self.method == "sobol":
            return n * (self.units + 2)
        if self.method == "morris":
            return n * (self.units + 1)
        return n  # PAWN and emulator: n space-filling points

    def design(self) -> np.ndarray:
        """The design matrix (rows x (factors + dummy)), reproducible from the seed."""
        seed = child_seed(self.seed, "sensitivity_design")
        problem = self.problem()
        bounds = np.asarray(problem["bounds"], dtype=float)
        if self.method == "sobol":
            X = sobol_sample.sample(problem, self.samples, calc_second_order=False, seed=seed)
        elif self.method == "morris":
            X = morris_sample.sample(problem, self.samples, num_levels=MORRIS_LEVELS, seed=seed)
        else:  # PAWN and the emulator's training design: a scrambled Sobol' sequence
            unit = qmc.Sobol(d=problem["num_vars"], scramble=True, seed=seed).random(self.samples)
            X = qmc.scale(unit, bounds[:, 0], bounds[:, 1])
        # scaling can overshoot a bound by one ulp, and the parameter registry checks exactly
        return np.clip(np.asarray(X, dtype=float), bounds[:, 0], bounds[:, 1])

    def as_dict(self) -> dict[str, Any]:
        """The study as plain data (for manifests and the resume check)."""
        return {
            "method": self.method,
            "samples": self.samples,
            "seed": self.seed,
            "grouped": self.grouped,
            **({"seeding": self.seeding} if self.seeding != "common" else {}),
            "factors": [dataclasses.asdict(f) for f in self.factors],
            "dummy": DUMMY,
            "morris_levels": MORRIS_LEVELS,
            "pawn_slides": PAWN_SLIDES,
        }


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def check_study(study: Study) -> list[str]:
    """Every problem of a study definition, one line each (empty if it is valid)."""
    problems: list[str] = []
    if study.method not in METHODS:
        problems.append(f"method: {study.method!r} unknown; allowed: {', '.join(METHODS)}")
        return problems
    if isinstance(study.seed, bool) or not isinstance(study.seed, int) or study.seed < 0:
        problems.append(f"seed: {study.seed!r}; expected an integer >= 0")
    if study.seeding not in SEEDINGS:
        problems.append(f"seeding: {study.seeding!r} unknown; allowed: {', '.join(SEEDINGS)}")
    if study.method == "emulator" and study.grouped:
        problems.append("grouped: the emulator gives factor indices only; drop --groups")
    if study.method == "emulator" and study.samples > MAX_EMULATOR_RUNS:
        problems.append(
            f"samples: {study.samples} emulator runs; at most {MAX_EMULATOR_RUNS} (a Gaussian "
            "process fit grows with the cube of the runs)"
        )
    minimum = MIN_SAMPLES[study.method]
    if not isinstance(study.samples, int) or study.samples < minimum:
        problems.append(f"samples: {study.samples!r}; expected an integer >= {minimum}")
    elif study.method in ("sobol", "pawn", "emulator") and not _is_power_of_two(study.samples):
        problems.append(
            f"samples: {study.samples} is not a power of two; {study.method} uses a Sobol' "
            "sequence, whose balance (and the N/2 convergence check) needs N = 2^k, e.g. "
            f"{1 << max(study.samples.bit_length() - 1, 2)} or {1 << study.samples.bit_length()}"
        )
    if not study.factors:
        problems.append("factors: none given; a study needs at least one factor")
    names = [f.name for f in study.factors]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        problems.append(f"factors: repeated names {', '.join(repeated)}")
    for f in study.factors:
        if f.name == DUMMY:
            problems.append(f"factors: the name {DUMMY!r} is reserved for the dummy factor")
        if not (math.isfinite(f.low) and math.isfinite(f.high) and f.low < f.high):
            problems.append(f"factors.{f.name}: range [{f.low}, {f.high}]; need finite low < high")
        if f.group == DUMMY:
            problems.append(f"factors.{f.name}: the group name {DUMMY!r} is reserved")
    return problems


def half_design(study: Study, X: np.ndarray) -> tuple[int, np.ndarray]:
    """The base size ``N // 2`` and the rows of ``X`` forming a valid design of that size."""
    half = study.samples // 2
    return half, X[: study.design_rows(half)]


# --- factor specifications ------------------------------------------------------------------------


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_INLINE_FACTOR = re.compile(
    rf"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<low>{_NUMBER}),(?P<high>{_NUMBER})"
    r"(?:@(?P<group>[A-Za-z0-9_.\-]+))?$"
)


def parse_factors(spec: str) -> tuple[FactorSpec, ...]:
    """Factors from ``"x1=-3.14,3.14 x2=0,1@groupA"`` or from a TOML file path.

    The TOML file has one table per factor: ``[factors.x1]`` with ``low``, ``high`` and an
    optional ``group``.
    """
    path = Path(spec)
    if spec.endswith(".toml") or (path.suffix and path.is_file()):
        return _factors_from_toml(path)
    factors = []
    problems = []
    for token in spec.replace(";", " ").split():
        match = _INLINE_FACTOR.match(token)
        if match is None:
            problems.append(f"--factors: {token!r} is not 'name=low,high' or 'name=low,high@group'")
            continue
        factors.append(
            FactorSpec(
                match["name"], float(match["low"]), float(match["high"]), match["group"] or None
            )
        )
    if not factors and not problems:
        problems.append("--factors: empty; give e.g. 'x1=-3.14159,3.14159 x2=0,1'")
    if problems:
        raise BadInput("\n".join(problems))
    return tuple(factors)


def _factors_from_toml(path: Path) -> tuple[FactorSpec, ...]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"--factors: file {path} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{path}: not valid TOML: {exc}") from None
    table = data.get("factors")
    problems = [
        f"{path}: {key}: unknown table; allowed: factors" for key in data if key != "factors"
    ]
    if not isinstance(table, dict) or not table:
        problems.append(f"{path}: factors: missing; expected [factors.<name>] tables")
        raise BadInput("\n".join(problems))
    factors = []
    for name, entry in table.items():
        where = f"{path}: factors.{name}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: expected a table with low, high and optional group")
            continue
        unknown = sorted(set(entry) - {"low", "high", "group"})
        if unknown:
            problems.append(
                f"{where}: unknown keys {', '.join(unknown)}; allowed: low, high, group"
            )
        low, high, group = entry.get("low"), entry.get("high"), entry.get("group")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high)):
            problems.append(f"{where}: low and high must be numbers, got {low!r}, {high!r}")
            continue
        if group is not None and not isinstance(group, str):
            problems.append(f"{where}.group: expected a string, got {group!r}")
            continue
        factors.append(FactorSpec(str(name), float(low), float(high), group))  # type: ignore[arg-type]
    if problems:
        raise BadInput("\n".join(problems))
    return tuple(factors)


def factors_of(experiment: Experiment) -> tuple[FactorSpec, ...]:
    """The study factors of an experiment file (its uncertainties, levers and packages)."""
    return tuple(
        FactorSpec(f.name, float(f.low), float(f.high), f.group or None) for f in experiment.factors
    )
