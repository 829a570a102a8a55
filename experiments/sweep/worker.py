"""The worker side of a sweep: simulate a chunk of (point, seed) runs, probe a Dask worker.

Worker processes (loky or Dask) import this module and call :func:`run_chunk`; a run that
raises is recorded as failed with its error, never raised.
"""

from __future__ import annotations

import gc
import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from abm.model import simulate
from experiments.experiment import (
    Experiment,
)
from experiments.store import StoredRun

GC_EVERY_SECONDS = 10.0
MALLOC_TRIM = "MALLOC_TRIM_THRESHOLD_"
MALLOC_MMAP = "MALLOC_MMAP_THRESHOLD_"

# one task: run key, design point index, factor values, seed
Task = tuple[str, int, tuple[float, ...], int]


class WorkerMismatchError(RuntimeError):
    """A worker runs different model code or package versions than the sweep's process."""


def _describe(exc: BaseException) -> str:
    """``Type: message (at file:line in function)`` of an exception, for the store."""
    where = ""
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        where = f" (at {Path(last.filename).name}:{last.lineno} in {last.name})"
    return f"{type(exc).__name__}: {exc}{where}"


def run_chunk(
    exp: Experiment, tasks: Sequence[Task], fingerprint: str | None = None
) -> list[StoredRun]:
    """Worker task: simulate each (point, seed) of a chunk; a failing run is recorded, not raised.

    With ``fingerprint``, first check that this process runs the same model code as the
    sweep (:func:`experiments.store.model_fingerprint`) and raise WorkerMismatchError if not.
    """
    if fingerprint is not None:
        from experiments.store import model_fingerprint

        mine = model_fingerprint()
        if mine != fingerprint:
            raise WorkerMismatchError(
                f"this worker's model fingerprint {mine[:12]} differs from the sweep's "
                f"{fingerprint[:12]}: install the same govsim code and package versions here"
            )
    names = exp.factor_names
    out: list[StoredRun] = []
    for key, point, values, seed in tasks:
        started = time.perf_counter()
        try:
            config = exp.config_for(dict(zip(names, values, strict=True)), point, seed)
            headline = simulate(config, seed).headline()
        except Exception as exc:  # recorded per run: the sweep goes on
            out.append(StoredRun(key, "failed", {}, _describe(exc), time.perf_counter() - started))
        else:
            outcomes = {name: float(value) for name, value in headline.items()}
            out.append(StoredRun(key, "ok", outcomes, None, time.perf_counter() - started))
    _collect_garbage(sum(row.seconds for row in out))
    return out


_work_since_collect = 0.0


def _collect_garbage(seconds: float) -> None:
    """A full garbage collection after every GC_EVERY_SECONDS of simulation in this process.

    A finished model is cyclic garbage (its agents and the model refer to each other), freed
    only by a full collection, which Python runs rarely; meanwhile worker memory grows by
    ~1 MB per calibration-size run until loky restarts the worker as "leaking". A full
    collection takes ~0.08 s, so this costs under 1% of the run time.
    """
    global _work_since_collect
    _work_since_collect += seconds
    if _work_since_collect >= GC_EVERY_SECONDS:
        gc.collect()
        _work_since_collect = 0.0


def worker_probe(data_files: Sequence[str] = ()) -> dict[str, Any]:
    """Run on each Dask worker at the start: can it import the model, which version, and can
    it read the data files (by the same paths as the sweep's process)?"""
    import abm.model  # noqa: F401  (the import is the check)
    from experiments.store import model_fingerprint

    return {
        "missing_files": [path for path in data_files if not Path(path).is_file()],
        "model_sha256": model_fingerprint(),
        "abm_path": str(Path(sys.modules["abm"].__file__ or "?").resolve().parent),
        "python": sys.version.split()[0],
        MALLOC_TRIM: os.environ.get(MALLOC_TRIM, ""),
        MALLOC_MMAP: os.environ.get(MALLOC_MMAP, ""),
    }
