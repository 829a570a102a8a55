""":func:`run_sweep`: every (design point, replicate) of an experiment, reusing stored runs."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from experiments.errors import BadInput
from experiments.experiment import (
    Experiment,
    design_points,
)
from experiments.results import atomic_file, data_files, write_manifest
from experiments.runner import check_data_files
from experiments.store import STORE_FILE, RunStore, StoredRun, code_version, run_keys
from experiments.sweep.adequacy import plot_replicate_adequacy, replicate_adequacy
from experiments.sweep.backends import _backend, _Chunker, check_scheduler
from experiments.sweep.files import (
    ADEQUACY_CSV,
    ADEQUACY_PNG,
    MANIFEST_FILE,
    RUNS_FILE,
    _Counts,
    _manifest,
    clear_debris,
)
from experiments.sweep.worker import Task

_MISSING = StoredRun("", "failed", {})  # what a key not yet in the store counts as


def _check_design(exp: Experiment, X: np.ndarray) -> np.ndarray:
    """The design matrix as floats, with one column per factor; BadInput otherwise."""
    X = np.asarray(X, dtype=float)
    k = len(exp.factors)
    if X.ndim != 2 or X.shape[1] != k or X.shape[0] < 1:
        raise BadInput(
            f"design matrix of shape {X.shape} does not fit experiment '{exp.name}': expected "
            f"(points >= 1, {k}) with columns {', '.join(exp.factor_names)}"
        )
    if not np.isfinite(X).all():
        raise BadInput("design matrix has non-finite values")
    return X


def _per_point_seeds(
    X: np.ndarray, seeds: Sequence[int], point_seeds: np.ndarray | None
) -> list[list[int]]:
    """The seeds of every design point: the experiment's at each, or one row each given."""
    if point_seeds is None:
        return [list(seeds) for _ in range(len(X))]
    given = np.asarray(point_seeds)
    if given.ndim != 2 or given.shape[0] != len(X):
        raise BadInput(f"point_seeds of shape {given.shape}; expected ({len(X)}, replicates)")
    return [[int(s) for s in row] for row in given]


def _point_keys(
    exp: Experiment, X: np.ndarray, seeds: Sequence[Sequence[int]], code: Mapping[str, str]
) -> list[list[str]]:
    """Run keys per design point and replicate; BadInput if a point is not a valid config."""
    names = exp.factor_names
    keys = []
    for i, row in enumerate(X):
        try:
            config = exp.config_for(dict(zip(names, row.tolist(), strict=True)), index=i)
        except (KeyError, ValueError) as exc:
            values = dict(zip(names, row.tolist(), strict=True))
            raise BadInput(f"design point {i} ({values}): {exc}") from exc
        if exp.parameter_sets:  # a posterior draw per seed: each seed has its own config
            values = dict(zip(names, row.tolist(), strict=True))
            keys.append([run_keys(exp.config_for(values, i, s), [s], code)[0] for s in seeds[i]])
        else:
            keys.append(run_keys(config, seeds[i], code))
    return keys


def run_sweep(
    exp: Experiment,
    X: np.ndarray | None,
    out_dir: str | Path,
    jobs: int = -1,
    scheduler: str | None = None,
    progress: bool = True,
    *,
    method: str | None = None,
    samples: int | None = None,
    command: str | None = None,
    point_seeds: np.ndarray | None = None,
) -> pd.DataFrame:
    """Run every (design point, replicate) of ``exp``; write and return the runs table.

    ``X`` is the design matrix (points x factors, in ``exp.factor_names`` order); None draws
    it with :func:`design_points` (``method`` and ``samples`` override the experiment's
    design). Every point runs with ``exp.seeds()``. Runs already in ``out_dir/store.sqlite``
    (same config, seed and code version) are reused; failed runs are retried. ``jobs``: worker
    processes (-1 all cores, 1 in this process); ``scheduler``: None (joblib/loky), ``"local"``
    (a Dask LocalCluster of ``jobs`` workers) or a Dask scheduler address such as
    ``tcp://HOST:8786``. ``command`` is recorded in the manifest. ``point_seeds`` (points x
    replicates) gives every point its own seeds instead (independent replicates, issue 13).
    Writes ``runs.parquet``, ``manifest.json`` and the replicate-adequacy table and figure to
    ``out_dir``; returns the runs table as read back from ``runs.parquet`` (identical for any
    backend and ``jobs``).
    """
    started = time.perf_counter()
    check_scheduler(scheduler)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise BadInput(f"output path {out} exists and is not a directory")
    given = X is not None
    used_method = method or ("given" if given else exp.design)
    used_samples = samples or (None if given else exp.samples)
    X = design_points(exp, method, samples) if X is None else X
    X = _check_design(exp, X)
    seeds = exp.seeds()
    per_point = _per_point_seeds(X, seeds, point_seeds)
    check_data_files([exp.base])
    code = code_version()
    keys = _point_keys(exp, X, per_point, code)
    unique: dict[str, Task] = {}
    for i, row in enumerate(X):
        values = tuple(float(v) for v in row)
        for r, seed in enumerate(per_point[i]):
            unique.setdefault(keys[i][r], (keys[i][r], i, values, seed))
    counts = _Counts(total=len(X) * len(seeds), unique=len(unique))
    out.mkdir(parents=True, exist_ok=True)
    clear_debris(out, [RUNS_FILE, ADEQUACY_CSV, ADEQUACY_PNG, MANIFEST_FILE])
    with RunStore(out / STORE_FILE) as store:
        done = store.get_many(unique)
        todo = [task for key, task in unique.items() if done.get(key, _MISSING).status != "ok"]
        counts.reused = counts.unique - len(todo)
        with (
            tqdm(
                total=counts.unique,
                initial=counts.reused,
                unit="run",
                desc=f"sweep {exp.name}",
                disable=not progress,
                file=sys.stderr,
            ) as bar,
            # nothing to run (all reused): no pool or cluster is started
            _backend(
                jobs if todo else 1,
                scheduler if todo else None,
                code["model_sha256"],
                _data_files(exp),
            ) as backend,
        ):

            def record(rows: list[StoredRun]) -> None:
                store.put_many(rows)
                counts.new += len(rows)
                counts.failed_new += sum(row.status != "ok" for row in rows)
                bar.update(len(rows))

            chunker = _Chunker(todo, backend.workers)
            for rows in backend.run(exp, chunker):
                record(rows)
                chunker.observe(rows)
        stored = store.get_many(unique)
    runs = _runs_table(exp, X, per_point, keys, stored)
    wall = time.perf_counter() - started
    with atomic_file(out / RUNS_FILE) as path:
        runs.to_parquet(path, index=False)
    runs = pd.read_parquet(out / RUNS_FILE)
    adequacy = replicate_adequacy(runs, exp.outcomes)
    with atomic_file(out / ADEQUACY_CSV) as path:
        adequacy.to_csv(path, index=False)
    files = [RUNS_FILE, MANIFEST_FILE, ADEQUACY_CSV, STORE_FILE]
    if exp.replicates >= 2:
        plot_replicate_adequacy(adequacy, out / ADEQUACY_PNG, exp.name)
        files.append(ADEQUACY_PNG)
    info = _manifest(
        exp,
        X,
        seeds,
        code,
        counts,
        backend_info={
            "kind": backend.kind,  # in-process when every run was reused
            "jobs": jobs,
            "workers": backend.workers,
            "scheduler": scheduler,
        },
        design={"method": used_method, "samples": used_samples},
        wall_s=wall,
        command=command,
        files=files,
        failed=int((runs["status"] != "ok").sum()),
    )
    write_manifest(out, info)
    return runs


def _runs_table(
    exp: Experiment,
    X: np.ndarray,
    seeds: Sequence[Sequence[int]],
    keys: Sequence[Sequence[str]],
    stored: Mapping[str, StoredRun],
) -> pd.DataFrame:
    """One row per (point, replicate): identifiers, status, error, factor values, outcomes."""
    records = []
    for i, row in enumerate(X):
        factors = dict(zip(exp.factor_names, (float(v) for v in row), strict=True))
        for r, seed in enumerate(seeds[i]):
            run = stored[keys[i][r]]
            records.append(
                {
                    "point": i,
                    "replicate": r,
                    "seed": int(seed),
                    "run_key": run.run_key,
                    "status": run.status,
                    "error": run.error,
                    **factors,
                    **{name: float(run.outcomes.get(name, math.nan)) for name in exp.outcomes},
                }
            )
    frame = pd.DataFrame.from_records(records)
    return frame.astype({"point": "int64", "replicate": "int64", "seed": "int64"})


def _data_files(exp: Experiment) -> list[str]:
    """The data files a run of the experiment reads (paths as this process sees them)."""
    return [str(path) for path in data_files(exp.base)]
