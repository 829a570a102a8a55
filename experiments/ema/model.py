"""The EMA Workbench model of govsim: uncertainties, levers and outcomes from govsim's tables.

:func:`ema_model` returns an ``ema_workbench`` ``Model`` (one run per experiment) or
``ReplicatorModel`` (``replications`` runs per experiment) whose

- uncertainties are registry parameters (:data:`abm.config.PARAMETER_META`), each over its
  plausible range, a sub-range, or, with a calibrated posterior, its 5-95% posterior range;
- levers are the brief's levers (:data:`abm.policies.LEVERS`), intensity within [0, 1] from a
  start year (the base scenario's unless given);
- outcomes are headline outcomes (:data:`abm.outcomes.OUTCOMES`).

Every parameter and outcome carries a ``description`` attribute (label and unit; EMA has no
field for it). The specification is checked by the experiment-file validator
(:mod:`experiments.experiment`), so a bad name or range fails with the same message as in an
experiment file, with ``ema_model`` in place of the file name, and a design point becomes a
config through :meth:`experiments.experiment.Experiment.config_for`, as in ``govsim sweep``.
The replications run with govsim's replicate seeds (:func:`abm.rng.replicate_seeds`), so
one experiment gives the numbers ``govsim sweep`` gives for the same point and seeds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from abm.config import PARAMETER_META, ScenarioConfig
from abm.model import simulate
from abm.outcomes import OUTCOME_NAMES, outcome
from abm.policies import LEVER_NAMES, LEVERS
from calibration.posterior import Posterior, load_posterior
from experiments.ema.workbench import ema
from experiments.experiment import (
    DEFAULT_DESIGN,
    DEFAULT_SAMPLES,
    Experiment,
    ExperimentError,
)
from experiments.experiment.loading import (
    _assemble,
    _check_levers,
    _check_outcome_years,
    _check_outcomes,
    _check_uncertainties,
    _Parsed,
    _Validator,
)
from experiments.scenario import Problems, load_scenario

# what the messages name in place of a file: the arguments of ema_model
SOURCE = Path("ema_model")
DEFAULT_NAME = "govsim"

# an uncertainty or lever: a name (full range), (low, high), or a table as in experiment files
Spec = Sequence[str] | Mapping[str, tuple[float, float] | Mapping[str, Any] | None]
Aggregate = Callable[[Sequence[float]], float]


class ModelSpecError(ExperimentError):
    """The arguments of :func:`ema_model` do not validate; ``problems`` lists every problem."""

    def __init__(self, problems: str | Sequence[str]) -> None:
        super().__init__(problems)
        self.args = ("invalid EMA model specification:\n" + "\n".join(self.problems),)


@dataclass(frozen=True)
class GovsimFunction:
    """The function EMA calls: factor values and a seed -> the outcomes of one govsim run.

    A module-level class (not a closure), so ``MultiprocessingEvaluator`` and ``MPIEvaluator``
    can pickle it to their workers. The values become a config exactly as in ``govsim sweep``
    (:meth:`Experiment.config_for`).
    """

    experiment: Experiment

    def __call__(self, seed: int, **values: float) -> dict[str, float]:
        """Simulate the design point ``values`` with ``seed``; the experiment's outcomes."""
        config = self.experiment.config_for(values)
        headline = simulate(config, int(seed)).headline()
        return {name: float(headline[name]) for name in self.experiment.outcomes}


def _tables(spec: Spec | None, default: Sequence[str], kind: str) -> dict[str, Any]:
    """A specification as the ``[uncertainties]``/``[levers]`` tables of an experiment file."""
    if spec is None:
        return {name: {} for name in default}
    if isinstance(spec, str):
        raise ModelSpecError(
            f"{SOURCE}: {kind}: expected a list of names or a mapping name -> (low, high) or "
            f"{{low, high{', start_year' if kind == 'levers' else ''}}}, got the string {spec!r}"
        )
    if not isinstance(spec, Mapping):
        return {str(name): {} for name in spec}
    tables: dict[str, Any] = {}
    for name, value in spec.items():
        if value is None:
            tables[name] = {}
        elif isinstance(value, tuple | list) and len(value) == 2:
            tables[name] = {"low": value[0], "high": value[1]}
        else:
            tables[name] = value  # a table (or a wrong type the validator reports)
    return tables


def _posterior_ranges(
    tables: dict[str, Any], posterior: Posterior, explicit: bool
) -> dict[str, Any]:
    """Calibrated parameters without a range of their own get the posterior's 5-95% range."""
    summary = {str(r["name"]): r for r in posterior.summary.to_dict("records")}
    out = dict(tables) if explicit else {name: {} for name in summary}
    for name, table in out.items():
        if name in summary and isinstance(table, Mapping) and not table:
            out[name] = {"low": float(summary[name]["q05"]), "high": float(summary[name]["q95"])}
    return out


def _base(scenario: str | Path | ScenarioConfig) -> tuple[ScenarioConfig, Path | None]:
    """The base scenario: a ScenarioConfig, or a scenario file (ScenarioError if invalid)."""
    if isinstance(scenario, ScenarioConfig):
        return scenario, None
    path = Path(scenario).expanduser().resolve()
    return load_scenario(path), path


def experiment_for(
    scenario: str | Path | ScenarioConfig,
    outcomes: Sequence[str] | None = None,
    uncertainties: Spec | None = None,
    levers: Spec | None = None,
    replications: int = 1,
    posterior: Posterior | str | Path | None = None,
    master_seed: int = 0,
    name: str = DEFAULT_NAME,
) -> Experiment:
    """The govsim :class:`Experiment` an EMA model runs; ModelSpecError lists every problem.

    ``uncertainties`` (default: every registry parameter, or with a posterior every calibrated
    one) and ``levers`` (default: every lever) are names, or mappings name -> ``(low, high)``
    or a table as in an experiment file (``low``, ``high``; for a lever ``start_year``).
    """
    base, path = _base(scenario)
    post = _posterior(posterior)
    problems = Problems()
    v = _Validator(SOURCE, problems)
    parsed = _Parsed()
    unc = _tables(uncertainties, list(PARAMETER_META), "uncertainties")
    if post is not None:
        unc = _posterior_ranges(unc, post, explicit=uncertainties is not None)
    _check_uncertainties(v, unc, parsed)
    _check_levers(v, _tables(levers, LEVER_NAMES, "levers"), parsed)
    names = _check_outcomes(v, "outcomes", list(OUTCOME_NAMES if outcomes is None else outcomes))
    if names is not None:
        _check_outcome_years(SOURCE, names, base, problems)
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        v.error("replications", f"expected an integer >= 1, got {replications!r}")
    if isinstance(master_seed, bool) or not isinstance(master_seed, int) or master_seed < 0:
        v.error("master_seed", f"expected an integer >= 0, got {master_seed!r}")
    if not name.isidentifier():
        v.error("name", f"{name!r} not allowed; EMA needs a Python identifier")
    if not parsed.uncertainties and not parsed.levers and not problems.lines:
        v.error(None, "no uncertainties and no levers; expected at least one of either")
    if problems.lines:
        raise ModelSpecError(problems.lines)
    assert names is not None  # guaranteed when nothing was reported
    head = {
        "name": name,
        "seed": master_seed,
        "replicates": replications,
        "scenario": path,
        "description": "EMA Workbench model (experiments.ema.ema_model)",
    }
    return _assemble(path or SOURCE, head, base, names, DEFAULT_DESIGN, DEFAULT_SAMPLES, parsed)


def _posterior(posterior: Posterior | str | Path | None) -> Posterior | None:
    if posterior is None or isinstance(posterior, Posterior):
        return posterior
    return load_posterior(Path(posterior))


def _parameter_description(name: str) -> str:
    meta = PARAMETER_META[name]
    return f"{re.sub(r'^[\w ]{1,12}:\s*', '', str(meta['doc']))} ({meta['unit']})"


_LEVER_BRIEF = {info.name: info.brief for info in LEVERS}


def _default(value: float, low: float, high: float) -> float | None:
    """The base scenario's value as EMA's default when it lies in the range (else none)."""
    return float(value) if low <= value <= high else None


def ema_model(
    scenario: str | Path | ScenarioConfig,
    outcomes: Sequence[str] | None = None,
    uncertainties: Spec | None = None,
    levers: Spec | None = None,
    replications: int = 1,
    posterior: Posterior | str | Path | None = None,
    master_seed: int = 0,
    *,
    aggregate: Aggregate | None = None,
    name: str = DEFAULT_NAME,
) -> Any:
    """An ``ema_workbench`` model of govsim on the base ``scenario`` (file or config).

    With ``replications`` = 1 a ``Model`` whose one run uses the first replicate seed of
    ``master_seed``; with more a ``ReplicatorModel`` running every experiment with the
    ``replications`` seeds ``replicate_seeds(master_seed, replications)`` (the same at every
    experiment: common random numbers), each outcome reduced over them by ``aggregate``
    (default ``numpy.mean``). Each uncertainty and lever has the base scenario's value as
    default, so scenarios or policies that leave it out run with it. See
    :func:`experiment_for` for ``uncertainties``, ``levers`` and ``posterior``.
    """
    exp = experiment_for(
        scenario, outcomes, uncertainties, levers, replications, posterior, master_seed, name
    )
    seeds = exp.seeds()
    function = GovsimFunction(exp)
    model: Any
    if replications == 1:
        model = ema.Model(name, function=function)
        model.constants = [ema.Constant("seed", seeds[0])]
    else:
        model = ema.ReplicatorModel(name, function=function)
        model.replications = [{"seed": seed} for seed in seeds]
    params = []
    levers_out = []
    for factor in exp.factors:
        if factor.kind == "parameter":
            value = getattr(exp.base.parameters, factor.name)
            param = ema.RealParameter(
                factor.name,
                factor.low,
                factor.high,
                default=_default(value, factor.low, factor.high),
            )
            param.description = _parameter_description(factor.name)
            params.append(param)
        elif factor.kind == "lever":
            setting = exp.base.lever(factor.name)
            lever = ema.RealParameter(
                factor.name,
                factor.low,
                factor.high,
                default=_default(setting.intensity, factor.low, factor.high),
            )
            start = exp.start_years[factor.name]
            lever.description = f"{_LEVER_BRIEF[factor.name]} (intensity 0-1 from {start})"
            levers_out.append(lever)
        else:  # experiment_for builds parameter and lever factors only
            raise ModelSpecError(
                f"factor '{factor.name}' is a {factor.kind}; an EMA model takes registry "
                "parameters as uncertainties and levers as levers"
            )
    model.uncertainties = params
    model.levers = levers_out
    reduce = aggregate if aggregate is not None else np.mean
    outs = []
    for outcome_name in exp.outcomes:
        info = outcome(outcome_name)
        scalar = ema.ScalarOutcome(
            outcome_name, function=None if replications == 1 else _Reduce(reduce)
        )
        scalar.description = f"{info.label} ({info.stored_unit})"
        outs.append(scalar)
    model.outcomes = outs
    return model


@dataclass(frozen=True)
class _Reduce:
    """An outcome's values over the replications -> one float (picklable wrapper)."""

    aggregate: Aggregate

    def __call__(self, values: Sequence[float]) -> float:
        return float(self.aggregate(values))
