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

:mod:`~experiments.experiment.definition` holds the :class:`Experiment` and its designs;
:mod:`~experiments.experiment.loading` validates the file (it imports the definition).
"""

from experiments.experiment.definition import (
    DEFAULT_DESIGN,
    DEFAULT_SAMPLES,
    DESIGNS,
    MORRIS_LEVELS,
    Experiment,
    ExperimentError,
    Factor,
    FactorKind,
    design_points,
    headline_outcome_names,
)
from experiments.experiment.loading import RESERVED_COLUMNS, load_experiment

__all__ = [
    "DEFAULT_DESIGN",
    "DEFAULT_SAMPLES",
    "DESIGNS",
    "MORRIS_LEVELS",
    "RESERVED_COLUMNS",
    "Experiment",
    "ExperimentError",
    "Factor",
    "FactorKind",
    "design_points",
    "headline_outcome_names",
    "load_experiment",
]
