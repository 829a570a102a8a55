"""Sweeps: run every design point of an experiment with every replicate seed, resumably.

:func:`run_sweep` runs each (design point, replicate) pair of an experiment. The replicate
seeds are the same at every point (common random numbers). Each run has a key (hash of
config, seed and code version, see :mod:`experiments.store`); runs already in the store are
reused, so an interrupted sweep resumes where it stopped and a repeated one reruns nothing.
The remaining runs are grouped into chunks (a few runs, at least ~0.2 s of work each, so task
overhead stays small) and executed in this process (``jobs=1``), with joblib/loky processes,
or on Dask distributed (a LocalCluster, or a cluster started with ``dask scheduler`` and
``dask worker``). Results are written to the store as chunks complete; a run that raises is
recorded as failed, with its error, and the sweep goes on. Each run is a pure function of its
config and seed, so the results do not depend on the backend or the number of workers.

Output directory::

    store.sqlite              every run's outcomes (reused by later sweeps into this DIR)
    runs.parquet              one row per run: point, replicate, seed, run_key, status,
                              error, the factor values and the experiment's outcomes
    manifest.json             experiment file and hash, design, seeds, code and package
                              versions, run counts, backend, command
    replicate_adequacy.csv    95% CI half-width of a point's mean vs number of replicates
    replicate_adequacy.png    the same, relative to the spread between design points

The package, from the worker side to the command line (each module imports only the ones
above it): :mod:`~experiments.sweep.worker` (simulate a chunk of runs),
:mod:`~experiments.sweep.backends` (in-process, joblib/loky or Dask; chunk sizes),
:mod:`~experiments.sweep.adequacy` (replicate adequacy and its figure),
:mod:`~experiments.sweep.files` (file names, the manifest), :mod:`~experiments.sweep.run`
(:func:`run_sweep`) and :mod:`~experiments.sweep.command` (``govsim sweep``).
"""

from experiments.sweep.adequacy import (
    ADEQUACY_TARGET,
    CONFIDENCE,
    plot_replicate_adequacy,
    replicate_adequacy,
    replicates_needed,
)
from experiments.sweep.backends import (
    SCHEDULER_ENV,
    SlowWorkerWarning,
    check_scheduler,
    check_workers,
    chunk_size,
    dask_client,
    local_cluster,
)
from experiments.sweep.command import cmd_sweep, register
from experiments.sweep.files import ADEQUACY_CSV, ADEQUACY_PNG, MANIFEST_FILE, RUNS_FILE
from experiments.sweep.run import run_sweep
from experiments.sweep.worker import (
    MALLOC_MMAP,
    MALLOC_TRIM,
    Task,
    WorkerMismatchError,
    run_chunk,
    worker_probe,
)

__all__ = [
    "ADEQUACY_CSV",
    "ADEQUACY_PNG",
    "ADEQUACY_TARGET",
    "CONFIDENCE",
    "MALLOC_MMAP",
    "MALLOC_TRIM",
    "MANIFEST_FILE",
    "RUNS_FILE",
    "SCHEDULER_ENV",
    "SlowWorkerWarning",
    "Task",
    "WorkerMismatchError",
    "check_scheduler",
    "check_workers",
    "chunk_size",
    "cmd_sweep",
    "dask_client",
    "local_cluster",
    "plot_replicate_adequacy",
    "register",
    "replicate_adequacy",
    "replicates_needed",
    "run_chunk",
    "run_sweep",
    "worker_probe",
]
