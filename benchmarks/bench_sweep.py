"""Sweep throughput and parallel efficiency: 1 worker vs 2 loky workers vs a 2-worker Dask cluster.

The same sweep (the factors of experiments/studies/smoke.toml on a chosen base: the calibration
set-up by default, about 0.2 s per run, or the smoke EU with ``--size smoke``) runs three times into
fresh directories, so nothing is reused: in this process (1 worker), with joblib/loky on 2
processes, and on a Dask LocalCluster of 2 worker processes. This process and the pools are
warmed up first (process start-up and imports are a one-off cost, reported separately), so the
numbers are steady-state throughput of whole sweeps (design, keys, store, outputs included);
the backends take turns ``--repeats`` times and each counts its best (least disturbed) sweep.
Parallel efficiency = (runs/s with 2 workers) / (2 x runs/s with 1). Targets (issue 4):
>= 85% with loky, >= 75% with Dask. The three runs tables must be identical. Prints a table
and the command, writes JSON to benchmarks/results/bench_sweep.json.

    .venv/bin/python benchmarks/bench_sweep.py [--size calibration|smoke] [--points N]
                                               [--repeats K] [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# one thread for every BLAS/OpenMP pool: must happen before numpy is imported
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import joblib  # noqa: E402
import pandas as pd  # noqa: E402

from benchmarks.bench_model import (  # noqa: E402
    RESULTS_DIR,
    command,
    environment,
    print_table,
    write_json,
)
from experiments import sweep  # noqa: E402
from experiments.experiment import Experiment, design_points, load_experiment  # noqa: E402
from experiments.scenario import load_scenario  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SMOKE_TOML = REPO / "experiments" / "studies" / "smoke.toml"
CALIBRATION_TOML = REPO / "experiments" / "scenarios" / "calibration_setup.toml"
TARGET_LOKY_EFFICIENCY = 0.85
TARGET_DASK_EFFICIENCY = 0.75
WORKERS = 2


def experiment(size: str, points: int, replicates: int, quick: bool) -> Experiment:
    """The smoke experiment's factors on the chosen base, with ``points`` LHS points."""
    exp = load_experiment(SMOKE_TOML)
    if size == "calibration":
        base = load_scenario(CALIBRATION_TOML)
        if quick:
            base = dataclasses.replace(base, end_year=base.start_year + 3)
        exp = dataclasses.replace(exp, base=dataclasses.replace(base, name=exp.name))
    return dataclasses.replace(exp, samples=points, replicates=replicates)


def differing_cells(a: pd.DataFrame, b: pd.DataFrame) -> list[dict[str, Any]]:
    """Cells where two runs tables differ (empty if identical), for the report."""
    if a.shape != b.shape or list(a.columns) != list(b.columns):
        return [{"column": "*", "problem": f"shapes {a.shape} vs {b.shape}"}]
    out = []
    for column in a.columns:
        same = (a[column] == b[column]) | (a[column].isna() & b[column].isna())
        for row in a.index[~same]:
            out.append(
                {
                    "column": column,
                    "row": int(row),
                    "a": str(a.at[row, column]),
                    "b": str(b.at[row, column]),
                }
            )
    return out


def timed_sweep(
    exp: Experiment, out: Path, jobs: int, scheduler: str | None
) -> tuple[float, pd.DataFrame]:
    """Seconds of one sweep into a fresh directory, and its runs table."""
    started = time.perf_counter()
    runs = sweep.run_sweep(
        exp, design_points(exp), out, jobs=jobs, scheduler=scheduler, progress=False
    )
    seconds = time.perf_counter() - started
    if not (runs["status"] == "ok").all():
        raise RuntimeError(f"failed runs in {out}: {runs.loc[runs['status'] != 'ok', 'error']}")
    return seconds, runs


def summary(times: Sequence[float], runs: int) -> dict[str, Any]:
    """Best of the repeats (the one least disturbed by other processes): seconds and runs/s."""
    best = min(times)
    return {"runs": runs, "seconds": best, "runs_per_s": runs / best, "all_seconds": list(times)}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the three sweeps, print the table and write the JSON; return the results."""
    args = parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)
    points = args.points or (4 if args.quick else 32)
    exp = experiment(args.size, points, args.replicates, args.quick)
    result: dict[str, Any] = {
        "benchmark": "bench_sweep",
        "quick": bool(args.quick),
        "command": command("bench_sweep.py", argv),
        "environment": environment(),
        "sweep": {
            "base": args.size,
            "points": points,
            "replicates": args.replicates,
            "runs": points * args.replicates,
            "repeats": args.repeats,
            "factors": exp.factor_names,
            "citizens_per_resident": exp.base.population.residents_per_citizen,
            "years": exp.base.n_years,
        },
    }
    root = Path(tempfile.mkdtemp(prefix="bench_sweep."))
    times: dict[str, list[float]] = {"one_worker": [], "loky_2": [], "dask_local_2": []}
    tables: dict[str, pd.DataFrame] = {}
    try:
        # a one-point sweep first, so one-off imports (matplotlib, ...) are not timed
        sweep.run_sweep(exp, design_points(exp)[:1], root / "warm", jobs=1, progress=False)
        started = time.perf_counter()
        joblib.Parallel(n_jobs=WORKERS, backend="loky")(
            joblib.delayed(sweep.worker_probe)() for _ in range(4 * WORKERS)
        )
        loky_startup = time.perf_counter() - started

        from distributed import Client

        # the backends take turns, so a disturbance does not hit one backend only; the Dask
        # cluster runs only during its own sweeps (its scheduler lives in this process and
        # would slow the in-process sweep down)
        dask_startups = []
        for k in range(args.repeats):
            for name, jobs in (("one_worker", 1), ("loky_2", WORKERS)):
                seconds, tables[name] = timed_sweep(exp, root / f"{name}-{k}", jobs, None)
                times[name].append(seconds)
            started = time.perf_counter()
            with sweep.local_cluster(WORKERS) as cluster, Client(cluster) as client:
                client.run(sweep.worker_probe)
                dask_startups.append(time.perf_counter() - started)
                seconds, tables["dask_local_2"] = timed_sweep(
                    exp, root / f"dask-{k}", WORKERS, cluster.scheduler_address
                )
                times["dask_local_2"].append(seconds)
        dask_startup = min(dask_startups)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    n_runs = points * args.replicates
    serial = summary(times["one_worker"], n_runs)
    loky = summary(times["loky_2"], n_runs)
    dask = summary(times["dask_local_2"], n_runs)
    serial_runs, loky_runs, dask_runs = (
        tables["one_worker"],
        tables["loky_2"],
        tables["dask_local_2"],
    )
    differences = {
        name: differing_cells(serial_runs, other)
        for name, other in (("loky_2", loky_runs), ("dask_local_2", dask_runs))
    }
    identical = not any(differences.values())
    loky["efficiency"] = loky["runs_per_s"] / (WORKERS * serial["runs_per_s"])
    dask["efficiency"] = dask["runs_per_s"] / (WORKERS * serial["runs_per_s"])
    loky["startup_s"] = loky_startup
    dask["startup_s"] = dask_startup
    result |= {
        "one_worker": serial,
        "loky_2": loky,
        "dask_local_2": dask,
        "identical_results": identical,
        "differences": differences,
        "targets": {"loky": TARGET_LOKY_EFFICIENCY, "dask": TARGET_DASK_EFFICIENCY},
        "meets_targets": {
            "loky": loky["efficiency"] >= TARGET_LOKY_EFFICIENCY,
            "dask": dask["efficiency"] >= TARGET_DASK_EFFICIENCY,
        },
    }
    result["environment"]["load_average_1min_end"] = os.getloadavg()[0]
    report(result)
    write_json(result, args.output)
    print(f"\nwrote {args.output}")
    return result


def report(result: dict[str, Any]) -> None:
    """Print the results table, then the command that reproduces them."""
    s = result["sweep"]
    rows: list[list[object]] = []
    for label, key, target in (
        ("1 worker (in process)", "one_worker", ""),
        ("2 workers, joblib/loky", "loky_2", f">= {TARGET_LOKY_EFFICIENCY:.0%}"),
        ("2 workers, Dask LocalCluster", "dask_local_2", f">= {TARGET_DASK_EFFICIENCY:.0%}"),
    ):
        r = result[key]
        rows.append(
            [
                label,
                r["runs"],
                r["seconds"],
                r["runs_per_s"],
                f"{r['efficiency']:.0%}" if "efficiency" in r else "",
                target,
                f"{r['startup_s']:.1f}" if "startup_s" in r else "",
            ]
        )
    env = result["environment"]
    print_table(
        f"Sweep throughput ({s['base']} base, {s['points']} points x {s['replicates']} "
        f"replicates, best of {s['repeats']}; load average {env['load_average_1min']:.2f} -> "
        f"{env['load_average_1min_end']:.2f} on {env['cpu_count']} CPUs)",
        ["backend", "runs", "seconds", "runs/s", "efficiency", "target", "start-up s"],
        rows,
    )
    print(f"\nidentical runs tables on all three backends: {result['identical_results']}")
    for name, cells in result["differences"].items():
        for cell in cells[:5]:
            print(f"  {name} differs: {cell}")
    print(f"reproduce (from the repository root): {result['command']}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size",
        choices=("calibration", "smoke"),
        default="calibration",
        help="base of the runs: the calibration set-up (~0.3 s/run) or the smoke EU (~0.1 s)",
    )
    parser.add_argument("--points", type=int, help="LHS points (default 32; quick 4)")
    parser.add_argument("--replicates", type=int, default=2, help="seeds per point (default 2)")
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="sweeps per backend, taking turns; the best counts (default 3)",
    )
    parser.add_argument("--quick", action="store_true", help="smoke version: few short runs")
    parser.add_argument(
        "--output", type=Path, default=RESULTS_DIR / "bench_sweep.json", help="JSON file"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
