"""govsim in the EMA Workbench: the model factory and results in both directions.

- :mod:`~experiments.ema.workbench`: ``ema_workbench``, imported quietly;
- :mod:`~experiments.ema.model`: :func:`ema_model`, an ``ema_workbench`` ``Model`` or
  ``ReplicatorModel`` of govsim whose uncertainties, levers and outcomes come from the
  parameter registry, the lever briefs and the outcomes table;
- :mod:`~experiments.ema.convert`: a sweep's runs as EMA's ``(experiments, outcomes)`` and
  its ``save_results`` archive, and an EMA archive as a govsim sweep directory
  (``govsim export``, :mod:`experiments.export`).
"""

from experiments.ema.convert import (
    ArchiveError,
    EmaResults,
    SweepTable,
    ema_to_sweep,
    read_archive,
    sweep_to_ema,
    write_archive,
    write_sweep_dir,
)
from experiments.ema.model import GovsimFunction, ModelSpecError, ema_model, experiment_for

__all__ = [
    "ArchiveError",
    "EmaResults",
    "GovsimFunction",
    "ModelSpecError",
    "SweepTable",
    "ema_model",
    "ema_to_sweep",
    "experiment_for",
    "read_archive",
    "sweep_to_ema",
    "write_archive",
    "write_sweep_dir",
]
