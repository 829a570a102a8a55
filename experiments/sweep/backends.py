"""Where a sweep's runs execute: this process, joblib/loky processes or Dask, in sized chunks.

:func:`chunk_size` and the chunker cut the runs to do into chunks by guided self-scheduling;
:func:`dask_client` and :func:`local_cluster` start or connect to Dask, and
:func:`check_workers` refuses workers that run other model code or miss the data files.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import joblib

from experiments.errors import BadInput
from experiments.experiment import (
    Experiment,
)
from experiments.store import StoredRun
from experiments.sweep.worker import (
    MALLOC_MMAP,
    MALLOC_TRIM,
    Task,
    _describe,
    run_chunk,
    worker_probe,
)

if TYPE_CHECKING:
    from distributed import Client, LocalCluster


# Chunking (see chunk_size): a chunk holds at least MIN_CHUNK_SECONDS of work and
# MIN_RUNS_PER_CHUNK runs (task overhead is ~1-10 ms with loky or Dask), a 1/(GUIDED_FACTOR x
# workers) share of the remaining runs (chunks shrink towards the end, so workers finish
# together) and at most MAX_CHUNK_SECONDS of work (progress and the store advance often).
MIN_CHUNK_SECONDS = 0.2
MAX_CHUNK_SECONDS = 10.0
MIN_RUNS_PER_CHUNK = 3
GUIDED_FACTOR = 4
DASK_CHUNKS_IN_FLIGHT = 3  # per worker
DASK_CONNECT_TIMEOUT_S = 20.0
DASK_WORKER_WAIT_S = 60.0
SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
_ADDRESS = re.compile(r"[a-z][a-z0-9+.-]*://\S+")
PRE_SPAWN = "distributed.nanny.pre-spawn-environ"


class SlowWorkerWarning(UserWarning):
    """Dask workers run with a malloc setting that slows the model down."""


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


# --- chunks --------------------------------------------------------------------------------


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
