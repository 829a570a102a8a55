"""An experiment as data: its factors, outcomes, design and seeds, and its design matrix.

:class:`Experiment` turns one row of factor values into a ``ScenarioConfig``
(:meth:`Experiment.config_for`); :func:`design_points` draws the design matrix.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from abm.config import ScenarioConfig
from abm.outcomes import OUTCOME_NAMES
from abm.policies import LeverSetting
from abm.rng import design_seed, replicate_seeds
from abm.rules.staff import STAFF_RULES
from experiments.errors import BadInput

DESIGNS: tuple[str, ...] = ("lhs", "factorial", "grid", "sobol", "morris")
DEFAULT_DESIGN = "lhs"
DEFAULT_SAMPLES = 16
MAX_DESIGN_POINTS = 10_000_000
MORRIS_LEVELS = 4

FactorKind = Literal["parameter", "lever", "package", "posterior", "choice"]
POSTERIOR_FACTOR = "posterior"  # the factor (and default group) of a [posterior] table
# scenario settings a design may vary as categories ([choices.<key>] in experiment files,
# [deep.<key>] in robustness files), with the values each allows
CHOICE_KEYS: Mapping[str, tuple[str, ...]] = {"staff_rule": STAFF_RULES}


class ExperimentError(BadInput):
    """An experiment file could not be loaded; ``problems`` lists every problem, one per line."""

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems: tuple[str, ...] = (
            (problems,) if isinstance(problems, str) else tuple(problems)
        )
        super().__init__("invalid experiment file:\n" + "\n".join(self.problems))


@dataclass(frozen=True, slots=True)
class Factor:
    """One input varied by the design: a parameter, a lever, a package, the posterior or a choice.

    ``low`` and ``high`` bound the design (a parameter's registry range, or a sub-range; a
    lever's intensity within [0, 1]; [0, 1] for the posterior, whose value picks one joint
    draw, :meth:`Experiment.posterior_draw`, and for a choice, whose value picks one of
    ``choices`` in equal shares, :meth:`choice`); ``group`` names the group for grouped
    sensitivity indices (the factor's own name unless the file sets one; a package's name).
    """

    name: str
    kind: FactorKind
    low: float
    high: float
    group: str
    choices: tuple[str, ...] = ()

    def choice(self, value: float) -> str:
        """The category a choice factor's value in [low, high] picks (equal shares, in order)."""
        if not self.choices:
            raise ValueError(f"factor '{self.name}' ({self.kind}) has no choices")
        n = len(self.choices)
        share = (float(value) - self.low) / (self.high - self.low)
        return self.choices[min(max(int(share * n), 0), n - 1)]


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
    # --posterior (issue 12): one calibrated parameter set per replicate seed, the same at every
    # design point; design factors override it
    parameter_sets: tuple[Mapping[str, float], ...] = ()
    # [posterior] table (issue 13): the joint draws the posterior factor picks from, ordered
    # along their first principal component (so nearby factor values are similar draws), and
    # the posterior's provenance for manifests
    posterior_draws: tuple[Mapping[str, float], ...] = ()
    posterior_info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        has_factor = any(f.kind == "posterior" for f in self.factors)
        if has_factor and not self.posterior_draws:
            raise BadInput(f"experiment '{self.name}': a posterior factor needs posterior draws")
        if has_factor and self.parameter_sets:
            raise BadInput(
                f"{self.path}: posterior: the experiment file samples the calibrated parameters "
                "as a design factor ([posterior] table); --posterior (one draw per seed) "
                "cannot be combined with it; drop --posterior or the [posterior] table"
            )

    def posterior_draw(self, value: float) -> Mapping[str, float]:
        """The joint posterior draw a posterior-factor value in [0, 1] picks (equal shares)."""
        n = len(self.posterior_draws)
        return self.posterior_draws[min(max(int(float(value) * n), 0), n - 1)]

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

    def config_for(
        self, values: Mapping[str, float], index: int | None = None, seed: int | None = None
    ) -> ScenarioConfig:
        """The base scenario with every factor set to ``values[factor name]``.

        Parameters go through ``Parameters.replace`` (which checks the registry range); a
        lever factor sets that lever's intensity, a package factor sets every lever of the
        package to the same intensity, each from its configured start year; the posterior
        factor sets every calibrated parameter to one joint draw; a choice factor sets its
        scenario setting (e.g. ``staff_rule``) to the category it picks. The config is named
        ``<experiment>-p<index>`` when ``index`` is given. With ``parameter_sets``
        (``--posterior``), the replicate ``seed``'s posterior draw is applied first.
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
        if self.parameter_sets and seed is not None:
            draw = self.parameter_sets[self.seeds().index(seed) % len(self.parameter_sets)]
            params.update({k: float(v) for k, v in draw.items()})
        intensity: dict[str, float] = {}
        settings: dict[str, Any] = {}
        for factor in self.factors:
            value = float(values[factor.name])
            if factor.kind == "parameter":
                params[factor.name] = value
            elif factor.kind == "choice":
                settings[factor.name] = factor.choice(value)
            elif factor.kind == "posterior":
                params.update({k: float(v) for k, v in self.posterior_draw(value).items()})
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
            **settings,
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


def draw_axes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standardised draws (draws x parameters; a constant parameter left at 0) and their
    principal axes: ``(z, singular values, vt)`` of ``np.linalg.svd(z)``."""
    sd = values.std(axis=0)
    z = (values - values.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    _, singular, vt = np.linalg.svd(z, full_matrices=False)
    return z, singular, vt


def order_draws(draws: Sequence[Mapping[str, float]]) -> tuple[Mapping[str, float], ...]:
    """Posterior draws sorted along the first principal component of their standardised values.

    The posterior factor's value u picks draw ``floor(u n)``; ordering the draws along their
    main axis of variation makes nearby u similar draws, which a metamodel (the emulator) can
    follow better than an arbitrary order. The sign is fixed (largest loading positive) so the
    order is reproducible.
    """
    if len(draws) < 2:
        return tuple(draws)
    names = list(draws[0])
    values = np.array([[float(d[n]) for n in names] for d in draws], dtype=float)
    z, _, vt = draw_axes(values)
    axis = vt[0] * np.sign(vt[0][np.argmax(np.abs(vt[0]))])
    order = np.argsort(z @ axis, kind="stable")
    return tuple(draws[i] for i in order.tolist())


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
