"""A robustness study as data: levers, packages, posterior, deep uncertainties, goal, size.

The file (``govsim robustness STUDY.toml``) has these tables; every problem is reported at
once with the file and key (exit 2)::

    [robustness]
    name = "robustness_levers"
    scenario = "../scenarios/calibration_setup.toml"   # relative to this file
    seed = 13
    scenarios = 512          # sampled scenarios (posterior draw x deep values x seed)
    intensity = 1.0          # every lever's intensity when it is on
    outcome = "city_emissions_reduction_2050_pct"      # the outcome levers are ranked on
    levers = ["enhanced_financing", ...]               # default: all eight

    [robustness.goal]        # what a package must do (its effect on an outcome, at least)
    outcome = "city_emissions_reduction_2050_pct"
    at_least = 1.0           # in the outcome's stored unit (pp for a % outcome)

    [posterior]              # calibrated parameters as joint draws from a posterior
    directory = "../../calibration/posterior"

    [deep.abatement_capex_eur_per_tco2_per_year]       # numeric: low/high (default: registry)
    [deep.staff_rule]                                  # the staff rule as a categorical factor
    choices = ["protected_shares", "priority", "proportional"]

    [packages.finance_access]
    levers = ["enhanced_financing", "simplification"]
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from abm.config import PARAMETER_META, ScenarioConfig
from abm.outcomes import OUTCOME_NAMES
from abm.policies import LEVER_NAMES
from experiments.errors import BadInput
from experiments.experiment.definition import CHOICE_KEYS
from experiments.validation import ScenarioError

CATEGORICAL = tuple(CHOICE_KEYS)  # scenario keys a study may vary as categories
TOP_KEYS = ("robustness", "posterior", "deep", "packages")
HEAD_KEYS = (
    "name",
    "description",
    "scenario",
    "seed",
    "scenarios",
    "intensity",
    "outcome",
    "levers",
    "goal",
    "start_year",
)
MIN_SCENARIOS = 4


@dataclass(frozen=True, slots=True)
class DeepUncertainty:
    """One uncertainty beyond the posterior: a parameter range or a set of choices."""

    name: str
    low: float = 0.0
    high: float = 0.0
    choices: tuple[str, ...] = ()

    @property
    def categorical(self) -> bool:
        """Whether the uncertainty is a choice among names (the staff rule)."""
        return bool(self.choices)


@dataclass(frozen=True)
class RobustnessStudy:
    """A validated robustness study."""

    name: str
    path: Path
    base: ScenarioConfig
    seed: int
    scenarios: int
    intensity: float
    outcome: str
    levers: tuple[str, ...]
    packages: Mapping[str, tuple[str, ...]]
    deep: tuple[DeepUncertainty, ...]
    goal_outcome: str
    goal_at_least: float
    posterior_dir: Path | None = None
    start_year: int = 0  # 0: each lever's start year as the base scenario sets it
    description: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def variants(self) -> list[str]:
        """The runs of every scenario: the baseline, each lever alone, each package."""
        return ["baseline", *self.levers, *self.packages]

    def as_dict(self) -> dict[str, Any]:
        """The study as plain data (manifest, resume check)."""
        return {
            "name": self.name,
            "scenario": self.base.name,
            "seed": self.seed,
            "scenarios": self.scenarios,
            "intensity": self.intensity,
            "outcome": self.outcome,
            "levers": list(self.levers),
            "packages": {k: list(v) for k, v in self.packages.items()},
            "deep": [
                {"name": d.name, "low": d.low, "high": d.high, "choices": list(d.choices)}
                for d in self.deep
            ],
            "goal": {"outcome": self.goal_outcome, "at_least": self.goal_at_least},
            "posterior": str(self.posterior_dir) if self.posterior_dir else None,
            "start_year": self.start_year,
        }


def load_study(path: str | Path, scenarios: int | None = None) -> RobustnessStudy:
    """Read and check a robustness study file; ``scenarios`` overrides its size (CI runs)."""
    from experiments.scenario import load_scenario

    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{path}: not valid TOML: {exc}") from None
    problems: list[str] = []

    def bad(key: str, text: str) -> None:
        problems.append(f"{path}: {key}: {text}")

    for key in data:
        if key not in TOP_KEYS:
            bad(key, f"unknown table; allowed: {', '.join(TOP_KEYS)}")
    head = data.get("robustness")
    if not isinstance(head, dict):
        raise BadInput(f"{path}: robustness: missing; expected a [robustness] table")
    for key in head:
        if key not in HEAD_KEYS:
            bad(f"robustness.{key}", f"unknown key; allowed: {', '.join(HEAD_KEYS)}")
    name = head.get("name")
    if not isinstance(name, str) or not name:
        bad("robustness.name", "expected a non-empty string")
    base = None
    scenario = head.get("scenario")
    if not isinstance(scenario, str):
        bad("robustness.scenario", "expected the path of a scenario file")
    else:
        try:
            base = load_scenario(path.parent / scenario)
        except (BadInput, ScenarioError) as exc:
            bad("robustness.scenario", str(exc))
    seed = head.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        bad("robustness.seed", f"{seed!r}; expected an integer >= 0")
    size = scenarios if scenarios is not None else head.get("scenarios", 500)
    if isinstance(size, bool) or not isinstance(size, int) or size < MIN_SCENARIOS:
        bad("robustness.scenarios", f"{size!r}; expected an integer >= {MIN_SCENARIOS}")
    intensity = head.get("intensity", 1.0)
    if not isinstance(intensity, int | float) or not 0.0 < float(intensity) <= 1.0:
        bad("robustness.intensity", f"{intensity!r}; expected a number in (0, 1]")
    outcome = head.get("outcome", "city_emissions_reduction_2050_pct")
    if outcome not in OUTCOME_NAMES:
        bad("robustness.outcome", f"{outcome!r} unknown; allowed: {', '.join(OUTCOME_NAMES)}")
    levers = head.get("levers", list(LEVER_NAMES))
    if not isinstance(levers, list) or not levers:
        bad("robustness.levers", "expected a non-empty list of lever names")
        levers = []
    for lever in levers:
        if lever not in LEVER_NAMES:
            bad("robustness.levers", f"{lever!r} unknown; allowed: {', '.join(LEVER_NAMES)}")
    start_year = head.get("start_year", 0)  # 0: each lever's own start year in the scenario
    goal = head.get("goal", {})
    goal_outcome = goal.get("outcome", outcome) if isinstance(goal, dict) else outcome
    goal_at_least = goal.get("at_least", 0.0) if isinstance(goal, dict) else 0.0
    if goal_outcome not in OUTCOME_NAMES:
        bad("robustness.goal.outcome", f"{goal_outcome!r} unknown")
    if not isinstance(goal_at_least, int | float):
        bad("robustness.goal.at_least", f"{goal_at_least!r}; expected a number")
    packages: dict[str, tuple[str, ...]] = {}
    for pname, table in data.get("packages", {}).items():
        members = table.get("levers") if isinstance(table, dict) else None
        if (
            not isinstance(members, list)
            or not members
            or any(m not in LEVER_NAMES for m in members)
        ):
            bad(
                f"packages.{pname}.levers",
                f"expected a list of lever names ({', '.join(LEVER_NAMES)})",
            )
            continue
        if pname in LEVER_NAMES or pname == "baseline":
            bad(f"packages.{pname}", "a package may not be named like a lever or 'baseline'")
            continue
        packages[str(pname)] = tuple(members)
    deep: list[DeepUncertainty] = []
    for dname, table in data.get("deep", {}).items():
        where = f"deep.{dname}"
        if not isinstance(table, dict):
            bad(where, "expected a table")
            continue
        if dname in CATEGORICAL:
            allowed = CHOICE_KEYS[str(dname)]
            choices = table.get("choices", list(allowed))
            if (
                not isinstance(choices, list)
                or len(choices) < 2
                or any(c not in allowed for c in choices)
            ):
                bad(f"{where}.choices", f"expected two or more of {', '.join(allowed)}")
                continue
            deep.append(DeepUncertainty(str(dname), choices=tuple(choices)))
            continue
        if dname not in PARAMETER_META:
            bad(where, f"not a model parameter or one of {', '.join(CATEGORICAL)} (govsim params)")
            continue
        meta = PARAMETER_META[dname]
        low = float(table.get("low", meta["low"]))
        high = float(table.get("high", meta["high"]))
        if not (meta["low"] <= low < high <= meta["high"]):
            bad(
                where,
                f"[{low}, {high}]; expected low < high within [{meta['low']}, {meta['high']}]",
            )
            continue
        deep.append(DeepUncertainty(str(dname), low, high))
    posterior_dir = None
    post = data.get("posterior")
    if post is not None:
        directory = post.get("directory") if isinstance(post, dict) else None
        if not isinstance(directory, str):
            bad("posterior.directory", "expected the path of a posterior directory (draws.csv)")
        else:
            posterior_dir = (path.parent / directory).resolve()
            if not (posterior_dir / "draws.csv").is_file():
                bad("posterior.directory", f"{posterior_dir} holds no draws.csv")
            clash = sorted({d.name for d in deep} & _posterior_names(posterior_dir))
            if clash:
                bad("deep", f"{', '.join(clash)} are calibrated (in the posterior); drop them here")
    if problems or base is None:
        raise BadInput("invalid robustness study:\n" + "\n".join(problems))
    return RobustnessStudy(
        name=str(name),
        path=path,
        base=base,
        seed=int(seed),
        scenarios=int(size),
        intensity=float(intensity),
        outcome=str(outcome),
        levers=tuple(levers),
        packages=packages,
        deep=tuple(deep),
        goal_outcome=str(goal_outcome),
        goal_at_least=float(goal_at_least),
        posterior_dir=posterior_dir,
        start_year=int(start_year),
        description=str(head.get("description", "")),
    )


def _posterior_names(directory: Path) -> set[str]:
    try:
        header = (directory / "draws.csv").read_text(encoding="utf-8").splitlines()[0]
    except (OSError, IndexError):
        return set()
    return {c.strip() for c in header.split(",")}
