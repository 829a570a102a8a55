"""How a study's design points are evaluated: a Python function or the governance model.

:func:`function_evaluator` calls ``f(**factors[, seed])`` (``--model module:function``);
:func:`sweep_evaluator` runs the governance model through the cached, resumable sweep.
"""

from __future__ import annotations

import importlib
import inspect
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import joblib
import numpy as np

from experiments.errors import BadInput
from experiments.sensitivity.design import Study

if TYPE_CHECKING:
    from experiments.experiment import Experiment

DEFAULT_FUNCTION_OUTCOME = "y"
SERIAL_SECONDS = 5.0  # a --model study estimated to take less than this runs in-process


# --- running a Python function as the model -------------------------------------------------------


ModelFunction = Callable[..., Any]


def load_function(spec: str) -> ModelFunction:
    """Import ``module:function`` (``module.sub:func`` or ``module:Class.method``)."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise BadInput(f"--model {spec!r}: expected 'module:function', e.g. 'mypkg.models:f'")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise BadInput(f"--model {spec!r}: cannot import module {module_name!r}: {exc}") from exc
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise BadInput(f"--model {spec!r}: module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise BadInput(f"--model {spec!r}: {attr!r} is not callable")
    return obj


def takes_seed(func: ModelFunction) -> bool:
    """Whether ``func`` accepts a ``seed`` keyword (then each replicate gets its own seed)."""
    try:
        parameters = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return "seed" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


def _as_outcomes(value: Any, kwargs: Mapping[str, float], seed: int | None) -> dict[str, float]:
    """A function's return value as {outcome: number}; BadInput naming the point otherwise."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {DEFAULT_FUNCTION_OUTCOME: float(value)}
    items = (
        {str(k): v for k, v in value.items()}
        if isinstance(value, Mapping)
        else {DEFAULT_FUNCTION_OUTCOME: value}
    )
    out: dict[str, float] = {}
    for key, item in items.items():
        try:
            out[key] = float(item)
        except (TypeError, ValueError):
            raise BadInput(
                f"{_where(kwargs, seed)}: returned {key}={item!r}; a model function must "
                "return a number or a dict of numbers"
            ) from None
    return out


def _evaluate_rows(
    func: ModelFunction | str,
    names: Sequence[str],
    points: np.ndarray,
    seeds: Sequence[Sequence[int | None]],
) -> list[list[dict[str, float]]]:
    """Call the function at each point for each of its seeds (``None``: without a seed)."""
    if isinstance(func, str):
        func = load_function(func)
    out = []
    for point, point_seeds in zip(points, seeds, strict=True):
        kwargs = {n: float(v) for n, v in zip(names, point, strict=True)}
        row = []
        for seed in point_seeds:
            try:
                value = func(**kwargs) if seed is None else func(**kwargs, seed=seed)
            except Exception as exc:
                raise BadInput(
                    f"{_where(kwargs, seed)} raised {type(exc).__name__}: {exc}"
                ) from exc
            row.append(_as_outcomes(value, kwargs, seed))
        out.append(row)
    return out


def _where(kwargs: Mapping[str, float], seed: int | None) -> str:
    text = ", ".join(f"{k}={v:.6g}" for k, v in kwargs.items())
    return f"model function at ({text})" + ("" if seed is None else f" with seed {seed}")


def evaluate_function(
    func: ModelFunction | str,
    names: Sequence[str],
    points: np.ndarray,
    seeds: Sequence[int],
    jobs: int = 1,
    point_seeds: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Outcomes of ``func(**factors[, seed=s])``: {outcome: array (points, replicates)}.

    ``point_seeds`` (points x replicates) gives each point its own seeds instead of ``seeds``.
    A function without a ``seed`` keyword is deterministic: it is called once per point and
    gives one replicate. ``func`` may be a ``module:function`` string, which worker processes
    import themselves (``jobs`` != 1 needs an importable function). The first point is timed
    in this process; if all of them would take under :data:`SERIAL_SECONDS` here, the rest
    run here too, since starting worker processes costs seconds. Results do not depend on
    ``jobs``.
    """
    target = load_function(func) if isinstance(func, str) else func
    use: list[list[int | None]]
    if not takes_seed(target):
        use = [[None]] * len(points)
    elif point_seeds is not None:
        use = [[int(s) for s in row] for row in np.asarray(point_seeds)]
    else:
        use = [list(seeds)] * len(points)
    if len(points) == 0:
        return {}
    started = time.perf_counter()
    results = _evaluate_rows(target, names, points[:1], use[:1])
    estimate = (time.perf_counter() - started) * len(points)
    workers = joblib.effective_n_jobs(jobs)
    rest = points[1:]
    if workers == 1 or estimate < SERIAL_SECONDS or len(rest) < 2 * workers:
        results += _evaluate_rows(target, names, rest, use[1:])
    else:
        chunks = np.array_split(np.arange(len(rest)), 4 * workers)
        parts = joblib.Parallel(n_jobs=workers)(
            joblib.delayed(_evaluate_rows)(func, names, rest[c], [use[1 + i] for i in c])
            for c in chunks
            if c.size
        )
        results += [row for part in parts for row in part]
    keys = list(results[0][0]) if results else []
    for k, row in enumerate(results):
        for cell in row:
            if list(cell) != keys:
                raise BadInput(
                    f"model function returned outcomes {sorted(cell)} at point {k} but "
                    f"{sorted(keys)} at point 0; it must return the same keys everywhere"
                )
    return {
        key: np.array([[cell[key] for cell in row] for row in results], dtype=float) for key in keys
    }


# --- evaluators: what run_study calls with the design's distinct points -----------------------

# evaluate(points, point_seeds): point_seeds is None (the evaluator's common seeds at every
# point) or an array (points x replicates) of each point's own seeds
Evaluator = Callable[[np.ndarray, np.ndarray | None], tuple[dict[str, np.ndarray], tuple[int, ...]]]


def function_evaluator(
    func: ModelFunction | str, study: Study, seeds: Sequence[int], jobs: int = 1
) -> Evaluator:
    """An evaluator calling a Python function of the study's factors."""
    target = load_function(func) if isinstance(func, str) else func
    used = tuple(seeds) if takes_seed(target) else ()

    def evaluate(
        points: np.ndarray, point_seeds: np.ndarray | None = None
    ) -> tuple[dict[str, np.ndarray], tuple[int, ...]]:
        values = evaluate_function(func, study.factor_names, points, seeds, jobs, point_seeds)
        return values, used  # with point_seeds: R = len(used); run_study keeps the array

    return evaluate


def sweep_evaluator(
    experiment: Experiment,
    out_dir: Path,
    jobs: int = -1,
    scheduler: str | None = None,
    progress: bool = True,
    command: str | None = None,
) -> Evaluator:
    """An evaluator running the governance model through the cached, resumable sweep.

    Runs go to ``out_dir`` (the sweep's store, ``runs.parquet`` and manifest); points and
    replicates are matched back by the runs table's ``point`` and ``replicate`` columns, and
    a failed run leaves NaN.
    """
    from experiments.sweep import run_sweep

    outcomes = list(experiment.outcomes)
    seeds = tuple(int(s) for s in experiment.seeds())

    def evaluate(
        points: np.ndarray, point_seeds: np.ndarray | None = None
    ) -> tuple[dict[str, np.ndarray], tuple[int, ...]]:
        runs = run_sweep(
            experiment,
            points,
            out_dir,
            jobs=jobs,
            scheduler=scheduler,
            progress=progress,
            command=command,
            point_seeds=point_seeds,
        )
        out = {name: np.full((len(points), len(seeds)), np.nan) for name in outcomes}
        ok = runs[runs["status"] == "ok"]
        point = ok["point"].to_numpy(dtype=int)
        replicate = ok["replicate"].to_numpy(dtype=int)
        for name in outcomes:
            out[name][point, replicate] = ok[name].to_numpy(dtype=float)
        return out, seeds  # with point_seeds: R = len(seeds); run_study keeps the array

    return evaluate


RUNS_TABLE = "sweep/runs.parquet"  # where a sensitivity study's sweep keeps its runs table


def stored_evaluator(
    directory: Path, study: Study, seeds: Sequence[int], outcomes: Sequence[str]
) -> Evaluator:
    """An evaluator reading the runs of an earlier study (``--runs-from DIR``), running nothing.

    ``DIR/sweep/runs.parquet`` must hold every (point, replicate) of the design it is given:
    the same factor values, the same seeds (each row's own under independent seeding, else
    ``seeds`` at every point) and the ``outcomes``; anything else is refused with what
    differs. A failed run leaves NaN, as in :func:`sweep_evaluator`.
    """
    path = Path(directory) / RUNS_TABLE
    if not path.is_file():
        raise BadInput(
            f"--runs-from {directory}: no {RUNS_TABLE}; give the --out DIR of an earlier "
            "`govsim sensitivity` study whose sweep finished"
        )
    import pandas as pd

    runs = pd.read_parquet(path)
    missing = [c for c in ("point", "replicate", "seed", "status", *outcomes) if c not in runs]
    if missing:
        raise BadInput(f"{path}: missing columns {', '.join(missing)}")

    def evaluate(
        points: np.ndarray, point_seeds: np.ndarray | None = None
    ) -> tuple[dict[str, np.ndarray], tuple[int, ...]]:
        reps = len(seeds) if point_seeds is None else int(np.shape(point_seeds)[1])
        expected = (
            np.tile(np.asarray(seeds, dtype=np.int64), (len(points), 1))
            if point_seeds is None
            else np.asarray(point_seeds, dtype=np.int64)
        )
        problems = _stored_mismatch(runs, study.factor_names, points, expected, reps)
        if problems:
            raise BadInput(
                f"--runs-from {directory}: the stored runs do not match this study's design "
                "(experiment factors, --samples, --seed, --seeding):\n" + "\n".join(problems)
            )
        ordered = runs.sort_values(["point", "replicate"])
        ok = (ordered["status"] == "ok").to_numpy().reshape(len(points), reps)
        out = {}
        for name in outcomes:
            values = ordered[name].to_numpy(dtype=float).reshape(len(points), reps)
            out[name] = np.where(ok, values, np.nan)
        return out, tuple(int(s) for s in seeds)

    return evaluate


def _stored_mismatch(
    runs: Any, names: Sequence[str], points: np.ndarray, seeds: np.ndarray, reps: int
) -> list[str]:
    """How a stored runs table differs from a design and its seeds (empty: it matches)."""
    n = len(points)
    if len(runs) != n * reps:
        return [f"{len(runs)} stored runs; the design has {n} points x {reps} replicates"]
    pairs = runs["point"].to_numpy(dtype=int) * reps + runs["replicate"].to_numpy(dtype=int)
    if sorted(pairs.tolist()) != list(range(n * reps)):
        return [f"the stored (point, replicate) pairs are not those of {n} x {reps} runs"]
    missing = [name for name in names if name not in runs]
    if missing:
        return [f"factors not in the stored runs: {', '.join(missing)}"]
    ordered = runs.sort_values(["point", "replicate"])
    problems = []
    for k, name in enumerate(names):
        stored = ordered[name].to_numpy(dtype=float).reshape(n, reps)
        if not np.allclose(stored, points[:, k : k + 1], rtol=0.0, atol=1e-12):
            worst = int(np.argmax(np.abs(stored - points[:, k : k + 1]).max(axis=1)))
            problems.append(
                f"factor {name}: stored value {stored[worst, 0]:.6g} at point {worst}, "
                f"the design has {points[worst, k]:.6g}"
            )
    stored_seeds = ordered["seed"].to_numpy(dtype=np.int64).reshape(n, reps)
    if not np.array_equal(stored_seeds, seeds):
        bad = int(np.argmax((stored_seeds != seeds).any(axis=1)))
        problems.append(
            f"seeds: stored {stored_seeds[bad].tolist()} at point {bad}, this study's are "
            f"{seeds[bad].tolist()}"
        )
    return problems
