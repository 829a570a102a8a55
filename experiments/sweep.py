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
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import hashlib
import json
import math
import os
import re
import shlex
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import joblib
import numpy as np
import pandas as pd
from tqdm import tqdm

from abm.model import simulate
from abm.rng import design_seed
from experiments.argtypes import int_at_least, jobs
from experiments.errors import BadInput
from experiments.experiment import (
    DESIGNS,
    Experiment,
    design_points,
    load_experiment,
)
from experiments.results import (
    data_hashes,
    fingerprint,
    package_versions,
    run_id_for,
    stable_config,
)
from experiments.runner import check_data_files
from experiments.store import STORE_FILE, RunStore, StoredRun, code_version, run_keys

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

RUNS_FILE = "runs.parquet"
MANIFEST_FILE = "manifest.json"
ADEQUACY_CSV = "replicate_adequacy.csv"
ADEQUACY_PNG = "replicate_adequacy.png"
# Chunking (see chunk_size): a chunk holds at least MIN_CHUNK_SECONDS of work and
# MIN_RUNS_PER_CHUNK runs (task overhead is ~1-10 ms with loky or Dask), a 1/(GUIDED_FACTOR x
# workers) share of the remaining runs (chunks shrink towards the end, so workers finish
# together) and at most MAX_CHUNK_SECONDS of work (progress and the store advance often).
MIN_CHUNK_SECONDS = 0.2
MAX_CHUNK_SECONDS = 10.0
MIN_RUNS_PER_CHUNK = 3
GUIDED_FACTOR = 4
DASK_CHUNKS_IN_FLIGHT = 3  # per worker
GC_EVERY_SECONDS = 10.0
CONFIDENCE = 0.95
ADEQUACY_TARGET = 0.1  # half-width a tenth of the spread between points
DASK_CONNECT_TIMEOUT_S = 20.0
DASK_WORKER_WAIT_S = 60.0
SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
_ADDRESS = re.compile(r"[a-z][a-z0-9+.-]*://\S+")
EXTRA_PACKAGES: tuple[str, ...] = ("dask", "distributed", "tqdm")
PRE_SPAWN = "distributed.nanny.pre-spawn-environ"
MALLOC_TRIM = "MALLOC_TRIM_THRESHOLD_"
MALLOC_MMAP = "MALLOC_MMAP_THRESHOLD_"

# one task: run key, design point index, factor values, seed
Task = tuple[str, int, tuple[float, ...], int]
_MISSING = StoredRun("", "failed", {})  # what a key not yet in the store counts as


class SlowWorkerWarning(UserWarning):
    """Dask workers run with a malloc setting that slows the model down."""


class WorkerMismatchError(RuntimeError):
    """A worker runs different model code or package versions than the sweep's process."""


# --- worker side ------------------------------------------------------------------------------


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
            config = exp.config_for(dict(zip(names, values, strict=True)), index=point)
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


# --- backends ---------------------------------------------------------------------------------


class _Backend:
    """Runs chunks and yields their rows as they complete (any order)."""

    kind = "in-process"
    workers = 1
    address: str | None = None

    def run(self, exp: Experiment, chunks: Iterable[Sequence[Task]]) -> Iterator[list[StoredRun]]:
        for chunk in chunks:
            yield run_chunk(exp, chunk)


class _Loky(_Backend):
    kind = "loky"

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def run(self, exp: Experiment, chunks: Iterable[Sequence[Task]]) -> Iterator[list[StoredRun]]:
        # joblib draws chunks lazily (2 per worker ahead), so later chunks get sized by the
        # run times measured so far
        parallel = joblib.Parallel(
            n_jobs=self.workers, backend="loky", return_as="generator_unordered", batch_size=1
        )
        yield from parallel(joblib.delayed(run_chunk)(exp, chunk) for chunk in chunks)


class _Dask(_Backend):
    kind = "dask"

    def __init__(self, client: Client, fingerprint: str) -> None:
        self.client = client
        self.fingerprint = fingerprint
        self.workers = max(1, len(client.scheduler_info().get("workers", {})))
        self.address = str(client.scheduler.address) if client.scheduler else None

    def run(self, exp: Experiment, chunks: Iterable[Sequence[Task]]) -> Iterator[list[StoredRun]]:
        from distributed import as_completed

        shared = self.client.scatter(exp, broadcast=True, hash=False)
        pending = iter(chunks)
        in_flight: dict[Any, Sequence[Task]] = {}
        done = as_completed()

        def submit_next() -> None:
            chunk = next(pending, None)
            if chunk is not None:
                future = self.client.submit(
                    run_chunk, shared, list(chunk), self.fingerprint, pure=False
                )
                in_flight[future] = chunk
                done.add(future)

        # a few chunks per worker in flight; each completion submits the next chunk, sized
        # by the run times measured so far
        for _ in range(DASK_CHUNKS_IN_FLIGHT * self.workers):
            submit_next()
        for future in done:
            chunk = in_flight.pop(future)
            try:
                rows: list[StoredRun] = future.result()
            except Exception as exc:  # the task or its worker failed: record its runs
                error = f"Dask task failed: {_describe(exc)}"
                rows = [StoredRun(task[0], "failed", {}, error, 0.0) for task in chunk]
            future.release()
            yield rows
            submit_next()


def check_workers(
    client: Client, fingerprint: str, data_files: Sequence[str] = ()
) -> dict[str, dict[str, Any]]:
    """Check that every Dask worker imports the model, runs the same code and finds the data
    files; BadInput naming each failing worker if not."""
    answers = client.run(worker_probe, list(data_files), on_error="return")
    problems = []
    for address, answer in sorted(answers.items()):
        if isinstance(answer, BaseException):
            problems.append(
                f"{address}: cannot import the model: {type(answer).__name__}: {answer}"
            )
        elif answer.get("model_sha256") != fingerprint:
            problems.append(
                f"{address}: runs other model code or package versions (fingerprint "
                f"{str(answer.get('model_sha256'))[:12]} vs {fingerprint[:12]} here; abm at "
                f"{answer.get('abm_path')})"
            )
        elif answer.get("missing_files"):
            problems.append(
                f"{address}: cannot find the data files {', '.join(answer['missing_files'])} "
                "(workers read them by the same paths as this process: check out the "
                "repository at the same path on every machine)"
            )
    if problems:
        raise BadInput(
            "Dask workers cannot run this sweep; install govsim (pip install -e .) with the "
            "same code and package versions in the workers' environment:\n" + "\n".join(problems)
        )
    slow = sorted(
        a for a, info in answers.items() if info.get(MALLOC_TRIM) and not info.get(MALLOC_MMAP)
    )
    if slow:
        warnings.warn(
            f"Dask workers {', '.join(slow)} run with {MALLOC_TRIM} set (Dask's default), which "
            "makes this model 2-3 times slower; start them as "
            f"`{MALLOC_MMAP}=33554432 dask worker ...` to restore the speed",
            SlowWorkerWarning,
            stacklevel=2,
        )
    return dict(answers)


@contextmanager
def _restored_environ(keys: set[str]) -> Iterator[None]:
    """Put back these environment variables as they were (Dask's nannies overwrite them)."""
    saved = {key: os.environ.get(key) for key in keys}
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def check_scheduler(scheduler: str | None) -> None:
    """None, 'local' or a Dask scheduler address (tcp://HOST:PORT, ...); BadInput otherwise."""
    if scheduler is not None and scheduler != "local" and not _ADDRESS.fullmatch(scheduler):
        raise BadInput(
            f"scheduler {scheduler!r} not understood; expected 'local' or an address such as "
            "tcp://HOST:8786"
        )


@contextmanager
def local_cluster(workers: int) -> Iterator[LocalCluster]:
    """A Dask LocalCluster of ``workers`` single-threaded worker processes, fit for the model.

    Dask's nannies set MALLOC_TRIM_THRESHOLD_ in their workers and in this process
    (``distributed.nanny.pre-spawn-environ``). Any explicit value turns off glibc's dynamic
    mmap threshold, which makes this allocation-heavy model 2-3 times slower
    (benchmarks/bench_sweep.py), so these workers go without it, and this process's
    environment is restored once they have started.
    """
    import dask
    from distributed import LocalCluster

    touched = {*dask.config.get(PRE_SPAWN), "PYTHONHASHSEED"}
    with _restored_environ(touched), dask.config.set({f"{PRE_SPAWN}.{MALLOC_TRIM}": None}):
        # ':0': the scheduler's HTTP server (dashboard, metrics) on a free port; the default
        # 8787 may be taken by another cluster, which Dask reports with a warning
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
    with cluster:
        yield cluster


@contextmanager
def dask_client(scheduler: str, jobs: int) -> Iterator[Client]:
    """A Dask client: a new LocalCluster (``"local"``, ``jobs`` workers) or a running scheduler."""
    from distributed import Client

    if scheduler == "local":
        with local_cluster(joblib.effective_n_jobs(jobs)) as cluster, Client(cluster) as client:
            yield client
        return
    check_scheduler(scheduler)
    try:
        client = Client(scheduler, timeout=DASK_CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as exc:
        raise BadInput(
            f"cannot connect to the Dask scheduler at {scheduler}: {exc}; start one with "
            "`dask scheduler` and workers with `dask worker " + scheduler + "`"
        ) from exc
    with client:
        try:
            client.wait_for_workers(1, timeout=DASK_WORKER_WAIT_S)
        except TimeoutError as exc:
            raise BadInput(
                f"no Dask worker joined the scheduler at {scheduler} within "
                f"{DASK_WORKER_WAIT_S:g} s; start workers with `dask worker {scheduler}`"
            ) from exc
        yield client


@contextmanager
def _backend(
    jobs: int, scheduler: str | None, fingerprint: str, data_files: Sequence[str] = ()
) -> Iterator[_Backend]:
    """The backend for ``jobs`` and ``scheduler`` (None: in-process or joblib/loky)."""
    if scheduler is None:
        workers = joblib.effective_n_jobs(jobs)
        yield _Backend() if workers == 1 else _Loky(workers)
        return
    with dask_client(scheduler, jobs) as client:
        check_workers(client, fingerprint, data_files)
        yield _Dask(client, fingerprint)


def _data_files(exp: Experiment) -> list[str]:
    """The data files a run of the experiment reads (paths as this process sees them)."""
    pop = exp.base.population
    return [str(pop.mission_cities_csv), str(pop.countries_csv), str(pop.industrial_sites_csv)]


def chunk_size(n_remaining: int, seconds_per_run: float | None, workers: int) -> int:
    """Runs in the next chunk: guided self-scheduling within bounds of work per chunk.

    A share 1 / (GUIDED_FACTOR x workers) of the remaining runs, so chunks shrink towards
    the end and no worker is left with a long last chunk (Polychronopoulos and Kuck 1987),
    but at least MIN_RUNS_PER_CHUNK runs and MIN_CHUNK_SECONDS of work (task overhead) and
    at most MAX_CHUNK_SECONDS (progress and the store advance often). Before any run time is
    known (``seconds_per_run`` None), MIN_RUNS_PER_CHUNK.
    """
    if seconds_per_run is None:
        return MIN_RUNS_PER_CHUNK
    per_run = max(seconds_per_run, 1e-4)
    lower = max(MIN_RUNS_PER_CHUNK, math.ceil(MIN_CHUNK_SECONDS / per_run))
    upper = max(lower, math.floor(MAX_CHUNK_SECONDS / per_run))
    guided = math.ceil(n_remaining / (GUIDED_FACTOR * max(workers, 1)))
    return min(max(lower, guided), upper)


class _Chunker:
    """Cuts the runs to do into chunks lazily, sized by the run times measured so far."""

    def __init__(self, tasks: Sequence[Task], workers: int) -> None:
        self.tasks = tasks
        self.workers = workers
        self.start = 0
        self.seconds = 0.0
        self.timed = 0

    def observe(self, rows: Sequence[StoredRun]) -> None:
        """Record the run times of finished runs."""
        for row in rows:
            if row.seconds > 0:
                self.seconds += row.seconds
                self.timed += 1

    def __iter__(self) -> Iterator[Sequence[Task]]:
        while self.start < len(self.tasks):
            per_run = self.seconds / self.timed if self.timed else None
            size = chunk_size(len(self.tasks) - self.start, per_run, self.workers)
            chunk = self.tasks[self.start : self.start + size]
            self.start += len(chunk)
            yield chunk


# --- the sweep --------------------------------------------------------------------------------


@dataclass
class _Counts:
    total: int = 0
    unique: int = 0
    reused: int = 0
    new: int = 0
    failed_new: int = 0


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


def _point_keys(
    exp: Experiment, X: np.ndarray, seeds: Sequence[int], code: Mapping[str, str]
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
        keys.append(run_keys(config, seeds, code))
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
) -> pd.DataFrame:
    """Run every (design point, replicate) of ``exp``; write and return the runs table.

    ``X`` is the design matrix (points x factors, in ``exp.factor_names`` order); None draws
    it with :func:`design_points` (``method`` and ``samples`` override the experiment's
    design). Every point runs with ``exp.seeds()``. Runs already in ``out_dir/store.sqlite``
    (same config, seed and code version) are reused; failed runs are retried. ``jobs``: worker
    processes (-1 all cores, 1 in this process); ``scheduler``: None (joblib/loky), ``"local"``
    (a Dask LocalCluster of ``jobs`` workers) or a Dask scheduler address such as
    ``tcp://HOST:8786``. ``command`` is recorded in the manifest. Writes ``runs.parquet``,
    ``manifest.json`` and the replicate-adequacy table and figure to ``out_dir``; returns the
    runs table as read back from ``runs.parquet`` (identical for any backend and ``jobs``).
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
    check_data_files([exp.base])
    code = code_version()
    keys = _point_keys(exp, X, seeds, code)
    unique: dict[str, Task] = {}
    for i, row in enumerate(X):
        values = tuple(float(v) for v in row)
        for r, seed in enumerate(seeds):
            unique.setdefault(keys[i][r], (keys[i][r], i, values, seed))
    counts = _Counts(total=len(X) * len(seeds), unique=len(unique))
    out.mkdir(parents=True, exist_ok=True)
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
    runs = _runs_table(exp, X, seeds, keys, stored)
    wall = time.perf_counter() - started
    _write_atomic(out / RUNS_FILE, lambda path: runs.to_parquet(path, index=False))
    runs = pd.read_parquet(out / RUNS_FILE)
    adequacy = replicate_adequacy(runs, exp.outcomes)
    _write_atomic(out / ADEQUACY_CSV, lambda path: adequacy.to_csv(path, index=False))
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
    text = json.dumps(info, indent=2, sort_keys=True, default=str) + "\n"
    _write_atomic(out / MANIFEST_FILE, lambda path: path.write_text(text, encoding="utf-8"))
    return runs


def _runs_table(
    exp: Experiment,
    X: np.ndarray,
    seeds: Sequence[int],
    keys: Sequence[Sequence[str]],
    stored: Mapping[str, StoredRun],
) -> pd.DataFrame:
    """One row per (point, replicate): identifiers, status, error, factor values, outcomes."""
    records = []
    for i, row in enumerate(X):
        factors = dict(zip(exp.factor_names, (float(v) for v in row), strict=True))
        for r, seed in enumerate(seeds):
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


def _write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Write to a temporary sibling, then rename over ``path`` (no half-written files)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest(
    exp: Experiment,
    X: np.ndarray,
    seeds: Sequence[int],
    code: Mapping[str, str],
    counts: _Counts,
    *,
    backend_info: Mapping[str, Any],
    design: Mapping[str, Any],
    wall_s: float,
    command: str | None,
    files: Sequence[str],
    failed: int,
) -> dict[str, Any]:
    """Provenance of a sweep: inputs, design, seeds, code and package versions, counts."""
    versions = package_versions()
    for name in EXTRA_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    scenario = exp.scenario_path
    inputs = {
        "experiment_sha256": _sha256(exp.path),
        "base": stable_config(exp.base),
        "seeds": [int(s) for s in seeds],
        "design_sha256": hashlib.sha256(np.ascontiguousarray(X).tobytes()).hexdigest(),
    }
    return {
        "kind": "sweep",
        "run_id": run_id_for("sweep", fingerprint(inputs)),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "experiment": exp.name,
        "experiment_file": str(exp.path),
        "experiment_sha256": _sha256(exp.path),
        "experiment_toml": exp.path.read_text(encoding="utf-8"),
        "base_scenario_file": str(scenario) if scenario else None,
        "base_scenario_sha256": _sha256(scenario) if scenario else None,
        "base_config": exp.base.as_dict(),
        "factors": [dataclasses.asdict(f) for f in exp.factors],
        "packages": {name: list(levers) for name, levers in exp.packages.items()},
        "lever_start_years": dict(exp.start_years),
        "outcomes": list(exp.outcomes),
        "design": {
            **design,
            "design_seed": design_seed(exp.seed) if design["method"] != "given" else None,
            "points": len(X),
            "factors": exp.factor_names,
        },
        "master_seed": exp.seed,
        "replicates": exp.replicates,
        "seeds": list(seeds),
        "runs": {
            "rows": counts.total,
            "distinct": counts.unique,
            "reused": counts.reused,
            "simulated": counts.new,
            "failed_now": counts.failed_new,
            "failed": failed,
        },
        "backend": dict(backend_info),
        "wall_time_s": round(wall_s, 3),
        "code_version": code["git"],
        "model_sha256": code["model_sha256"],
        "package_versions": versions,
        "data_sha256": data_hashes([exp.base]),
        "store": STORE_FILE,
        "files": list(files),
    }


# --- replicate adequacy -----------------------------------------------------------------------


def _half_widths(values: np.ndarray, confidence: float) -> np.ndarray:
    """Per row: t-interval half-width of the mean of its non-NaN values (NaN if fewer than 2)."""
    present = ~np.isnan(values)
    n = present.sum(axis=1)
    filled = np.where(present, values, 0.0)
    safe_n = np.maximum(n, 1)
    mean = filled.sum(axis=1) / safe_n
    squares = (np.where(present, values - mean[:, None], 0.0) ** 2).sum(axis=1)
    out = np.full(len(values), math.nan)
    from scipy import stats

    ok = n >= 2
    var = squares[ok] / (n[ok] - 1)
    t = stats.t.ppf(0.5 + confidence / 2.0, n[ok] - 1)
    out[ok] = t * np.sqrt(var / n[ok])
    return out


def _mean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if len(finite) else math.nan


def replicate_adequacy(
    runs: pd.DataFrame, outcomes: Sequence[str], confidence: float = CONFIDENCE
) -> pd.DataFrame:
    """Interval half-width of a design point's mean against the number of replicates.

    For each outcome and n = 1..R: the t-interval half-width (``confidence``) of the mean of
    the first n replicates of a point, averaged over points (``mean_half_width``; NaN for
    n = 1), the standard deviation of the point means over all R replicates
    (``between_point_sd``, the signal the design is meant to resolve), and their ratio
    (``relative_half_width``). Failed runs and NaN outcomes are left out.
    """
    ok = runs[runs["status"] == "ok"]
    n_rep = int(runs["replicate"].max()) + 1 if len(runs) else 0
    points = np.sort(runs["point"].unique())
    rows = []
    for outcome in outcomes:
        wide = ok.pivot(index="point", columns="replicate", values=outcome)
        values = wide.reindex(index=points, columns=range(n_rep)).to_numpy(dtype=float)
        present = ~np.isnan(values)
        counts = present.sum(axis=1)
        point_means = np.where(counts > 0, np.where(present, values, 0.0).sum(axis=1), np.nan)
        point_means = point_means / np.maximum(counts, 1)
        finite = point_means[np.isfinite(point_means)]
        between = float(np.std(finite, ddof=1)) if len(finite) >= 2 else math.nan
        for n in range(1, n_rep + 1):
            half = _half_widths(values[:, :n], confidence)
            mean_half = _mean(half)
            rows.append(
                {
                    "outcome": outcome,
                    "replicates": n,
                    "points": int(np.isfinite(half).sum()),
                    "mean_half_width": mean_half,
                    "between_point_sd": between,
                    "relative_half_width": mean_half / between if between > 0 else math.nan,
                    "confidence": confidence,
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "outcome",
            "replicates",
            "points",
            "mean_half_width",
            "between_point_sd",
            "relative_half_width",
            "confidence",
        ],
    )


def replicates_needed(relative_half_width: float, replicates: int) -> float:
    """Replicates for a relative half-width of ADEQUACY_TARGET (half-width ~ 1/sqrt(n))."""
    if not math.isfinite(relative_half_width):
        return math.nan
    return float(max(2, math.ceil(replicates * (relative_half_width / ADEQUACY_TARGET) ** 2)))


def plot_replicate_adequacy(adequacy: pd.DataFrame, path: Path, title: str) -> None:
    """Relative half-width against replicates, one line per outcome (PNG, Agg canvas)."""
    # imported here: workers import this module and never draw
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from experiments.figures import OKABE_ITO

    figure = Figure(figsize=(7.0, 4.5))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for k, (outcome, rows) in enumerate(adequacy.groupby("outcome", sort=False)):
        rows = rows[rows["replicates"] >= 2]
        axes.plot(
            rows["replicates"],
            rows["relative_half_width"],
            marker="o",
            color=OKABE_ITO[k % len(OKABE_ITO)],
            label=str(outcome),
        )
    axes.axhline(ADEQUACY_TARGET, color="black", linestyle=":", linewidth=1.0)
    axes.set_xlabel("replicates per design point")
    axes.set_ylabel("95% CI half-width / SD between points")
    axes.set_title(f"Replicate adequacy: {title}")
    axes.legend(fontsize=7, frameon=False)
    figure.tight_layout()
    _write_atomic(path, lambda tmp: figure.savefig(tmp, format="png", dpi=150))


# --- command line -----------------------------------------------------------------------------


def register(subparsers: Any) -> None:
    """Add ``govsim sweep`` to the command line."""
    p = subparsers.add_parser(
        "sweep",
        help="run an experiment's design points x replicate seeds (resumable, parallel)",
        description="Run every design point of EXPERIMENT.toml with its replicate seeds; "
        "finished runs in DIR/store.sqlite are reused, so an interrupted sweep resumes.",
    )
    p.add_argument("experiment", metavar="EXPERIMENT.toml", help="experiment file")
    p.add_argument("--out", required=True, metavar="DIR", help="output and store directory")
    p.add_argument(
        "--jobs",
        type=jobs,
        default=-1,
        metavar="N",
        help="worker processes, or LocalCluster workers (-1 = all cores; 1 = this process)",
    )
    p.add_argument(
        "--scheduler",
        metavar="local|tcp://HOST:8786",
        help=f"run on Dask: 'local' starts a LocalCluster, an address connects to a running "
        f"scheduler (default: ${SCHEDULER_ENV} if set, else joblib)",
    )
    p.add_argument("--design", choices=DESIGNS, help="override the experiment's design")
    p.add_argument(
        "--samples", type=int_at_least(1), metavar="N", help="override the experiment's samples"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(handler=cmd_sweep)


def _fmt(value: float) -> str:
    return "nan" if not math.isfinite(value) else f"{value:.4g}"


def cmd_sweep(args: argparse.Namespace) -> int:
    """``govsim sweep``: run the sweep, print counts and the replicate-adequacy summary."""
    exp = load_experiment(args.experiment)
    scheduler = args.scheduler or os.environ.get(SCHEDULER_ENV) or None
    if scheduler and args.scheduler is None:
        print(f"using the Dask scheduler at {scheduler} (from ${SCHEDULER_ENV})")
    check_scheduler(scheduler)
    X = design_points(exp, args.design, args.samples)
    out = Path(args.out)
    backend = f"Dask ({scheduler})" if scheduler else f"joblib (jobs {args.jobs})"
    print(
        f"sweep '{exp.name}': {len(X)} points x {exp.replicates} replicates = "
        f"{len(X) * exp.replicates} runs (design {args.design or exp.design}, samples "
        f"{args.samples or exp.samples}, master seed {exp.seed}) on {backend} -> {out}",
        flush=True,
    )
    argv = getattr(args, "argv", None)
    runs = run_sweep(
        exp,
        X,
        out,
        jobs=args.jobs,
        scheduler=scheduler,
        progress=not args.no_progress,
        method=args.design,
        samples=args.samples,
        command="govsim " + shlex.join(argv) if argv is not None else None,
    )
    info = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
    counts = info["runs"]
    wall = info["wall_time_s"]
    print(
        f"{counts['rows']} runs ({counts['distinct']} distinct): {counts['simulated']} "
        f"simulated, {counts['reused']} reused from {out / STORE_FILE}, {counts['failed']} "
        f"failed; {wall:.1f} s ({counts['simulated'] / max(wall, 1e-9):.2f} runs/s)"
    )
    failed = runs[runs["status"] != "ok"]
    for record in failed.head(5).to_dict("records"):
        print(f"  failed: point {record['point']} seed {record['seed']}: {record['error']}")
    if len(failed) > 5:
        print(f"  ... and {len(failed) - 5} more (status and error columns of {RUNS_FILE})")
    _print_adequacy(pd.read_csv(out / ADEQUACY_CSV), exp.replicates)
    print(f"wrote {out}: {', '.join(info['files'])}")
    return 0


def _print_adequacy(adequacy: pd.DataFrame, replicates: int) -> None:
    """One line per outcome: half-width at R replicates, spread between points, ratio."""
    if replicates < 2:
        print("replicate adequacy: needs at least 2 replicates per point")
        return
    rows = adequacy[adequacy["replicates"] == replicates]
    header = (
        f"replicate adequacy at {replicates} replicates ({CONFIDENCE:.0%} CI half-width of a "
        f"point's mean vs SD between points; target ratio {ADEQUACY_TARGET:g}):"
    )
    print(header)
    width = max(len(str(o)) for o in rows["outcome"])
    print(f"  {'outcome':<{width}}  half-width  between SD   ratio  replicates for target")
    for r in rows.to_dict("records"):
        needed = replicates_needed(float(r["relative_half_width"]), replicates)
        print(
            f"  {r['outcome']:<{width}}  {_fmt(r['mean_half_width']):>10}  "
            f"{_fmt(r['between_point_sd']):>10}  {_fmt(r['relative_half_width']):>6}  "
            f"{_fmt(needed):>21}"
        )
