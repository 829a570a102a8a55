"""govsim: agent-based simulation of multilevel climate governance in Europe.

The Python API (see the README's "Python" section and ``docs/notebooks/quickstart.ipynb``)::

    import govsim
    base = govsim.scenario("baseline")
    run = govsim.run(base, seed=1)
    run.headline()
"""

from __future__ import annotations

from importlib import metadata

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
    "levers",
    "outcomes",
    "parameters",
    "posterior",
    "replicate",
    "run",
    "scenario",
    "scenarios",
]
