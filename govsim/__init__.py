"""govsim: agent-based simulation of multilevel climate governance in Europe.

The Python API (see the README's "Python" section and ``docs/notebooks/quickstart.ipynb``)::

    import govsim
    base = govsim.scenario("baseline")
    run = govsim.run(base, seed=1)
    run.headline()
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

from experiments.api import (
    Comparison,
    Run,
    ScenarioError,
    change,
    columns,
    compare,
    levers,
    outcomes,
    parameters,
    posterior,
    replicate,
    run,
    scenario,
    scenarios,
)


def ema_model(*args: Any, **kwargs: Any) -> Any:
    """An EMA Workbench model of govsim (``experiments.ema.ema_model``; imports EMA on use).

    Uncertainties come from the parameter registry (or a posterior's ranges), levers are the
    brief's levers and outcomes the outcomes table; replications use govsim's replicate seeds,
    so a point and seed give the numbers ``govsim sweep`` gives.
    """
    from experiments.ema import ema_model as factory

    return factory(*args, **kwargs)


try:
    __version__ = metadata.version("govsim")
except metadata.PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "unknown"

__all__ = [
    "Comparison",
    "Run",
    "ScenarioError",
    "__version__",
    "change",
    "columns",
    "compare",
    "ema_model",
    "levers",
    "outcomes",
    "parameters",
    "posterior",
    "replicate",
    "run",
    "scenario",
    "scenarios",
]
