"""What a 20-factor Sobol study costs: measured sweep throughput, an estimate, a reduced study.

(a) Reduced study, run end to end: the 20 factors of ``experiments/studies/sa_levers.toml``
(8 levers, 12 parameters), Sobol with N = 16, first and total order, one replicate:
N (D + 2) = 352 runs
(the dummy factor adds none: its steps repeat existing runs), on a small EU (40 generated
cities, one citizen per 20,000 residents, 20 generated plants; 2025-2050, yearly), through
``experiments.sensitivity`` (design, cached sweep with 2 loky workers, analysis, CSV/PNG
outputs), from a cold start, as ``govsim sensitivity`` would run it. Timed part by part.
(b) Throughput: the calibration EU (``experiments/scenarios/calibration_setup.toml``: yearly, ~0.1 M
citizens) through ``experiments.sweep.run_sweep`` with 2 workers, on points of the study's
own Sobol design, one replicate, after a short warm-up sweep that starts the workers; plus
the CPU seconds of a run measured in this process, which other work on a shared machine
hardly inflates (jobs / CPU s per run bounds the throughput of an idle machine).
(c) ESTIMATE, not a measurement: the wall time of the full study, N = 1024, D = 20, first and
total order, N (D + 2) = 22,528 runs at one replicate (and x R for the R replicates the
experiment file asks for), from the wall-clock throughput measured in (b), against the
2-hour target; and the same from the CPU-bound throughput. The load average is recorded.

Prints tables and the command that reproduces them; writes JSON to
``benchmarks/results/bench_sobol.json`` and the reduced study's outputs to
``benchmarks/results/bench_sobol_reduced/``. ``--quick`` is a smoke version (N = 4 on the
small EU, a few throughput runs).

    .venv/bin/python benchmarks/bench_sobol.py [--quick] [--jobs 2]
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

import numpy as np  # noqa: E402

from abm.config import PopulationConfig  # noqa: E402
from abm.model import simulate  # noqa: E402
from abm.rng import child_seed  # noqa: E402
from benchmarks.bench_model import (  # noqa: E402
    RESULTS_DIR,
    command,
    describe,
    environment,
    print_table,
    write_json,
)
from experiments import sensitivity as sa  # noqa: E402
from experiments.experiment import Experiment, load_experiment  # noqa: E402
from experiments.sweep import run_sweep  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
EXPERIMENT_TOML = REPO / "experiments" / "studies" / "sa_levers.toml"
FULL_SAMPLES = 1024
REDUCED_SAMPLES = 16
QUICK_REDUCED_SAMPLES = 4
THROUGHPUT_RUNS = 96
QUICK_THROUGHPUT_RUNS = 6
WARMUP_RUNS = 4
CPU_RUNS = 6  # runs timed in-process for CPU seconds per run
DEFAULT_JOBS = 2
TARGET_HOURS = 2.0
SMALL_POPULATION = PopulationConfig(
    n_non_mission_cities=40, residents_per_citizen=20000.0, generated_installations=20
)


def one_replicate(exp: Experiment, population: PopulationConfig | None = None) -> Experiment:
    """The experiment with one replicate (and optionally another population)."""
    base = exp.base if population is None else dataclasses.replace(exp.base, population=population)
    return dataclasses.replace(exp, base=base, replicates=1)


def sobol_runs(samples: int, factors: int) -> int:
    """Model runs of a first- and total-order Sobol design, per replicate: N (D + 2)."""
    return samples * (factors + 2)


# --- (a) the reduced study, end to end ------------------------------------------------------------


def reduced_study(
    exp: Experiment, samples: int, jobs: int, out_dir: Path, command: str = ""
) -> dict[str, Any]:
    """Run the reduced Sobol study (small EU, one replicate) with timing of each part.

    ``command`` (the benchmark's command line) goes into the study's manifest.
    """
    small = one_replicate(exp, SMALL_POPULATION)
    study = sa.Study("sobol", sa.factors_of(small), samples, seed=small.seed)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-sobol-") as tmp:
        evaluator = sa.sweep_evaluator(small, Path(tmp) / "sweep", jobs=jobs, progress=False)
        result = sa.run_study(study, evaluator, small.outcomes, bootstrap=0)
    run_done = time.perf_counter()
    info = {"purpose": "bench_sobol reduced study", "jobs": jobs}
    sa.write_outputs(result, out_dir, info, command=command, configs=[small.base])
    total = time.perf_counter() - started
    runs = result.unique_points * len(result.seeds)
    top: dict[str, list[str]] = {}
    for r in result.results:
        if r.skipped:
            top[r.outcome] = [f"skipped: {r.skipped}"]
            continue
        st = r.indices[(r.indices["index"] == "ST") & ~r.indices["is_dummy"]]
        top[r.outcome] = st.nlargest(3, "value")["name"].tolist()
    return {
        "experiment": EXPERIMENT_TOML.relative_to(REPO).as_posix(),
        "population": "small EU: " + describe_population(small),
        **describe(small.base),
        "factors": len(study.factors),
        "samples_n": samples,
        "replicates": 1,
        "design_rows_with_dummy": len(result.design),
        "runs": runs,
        "runs_formula": f"N (D + 2) = {samples} x ({len(study.factors)} + 2)",
        "jobs": jobs,
        "seconds_sample_and_sweep": result.evaluation_s,
        "seconds_analysis": result.analysis_s,
        "seconds_outputs": total - (run_done - started),
        "seconds_total": total,
        "runs_per_s_end_to_end": runs / total,
        "top3_ST_by_outcome_illustrative_only": top,
        "outputs": out_dir.relative_to(REPO).as_posix()
        if out_dir.is_relative_to(REPO)
        else str(out_dir),
    }


def describe_population(exp: Experiment) -> str:
    pop = exp.base.population
    return (
        f"{pop.n_non_mission_cities} generated cities, 1 citizen per "
        f"{pop.residents_per_citizen:g} residents, {pop.generated_installations} generated plants"
    )


# --- (b) throughput and (c) the estimate ----------------------------------------------------------


def throughput(exp: Experiment, runs: int, jobs: int, quick: bool) -> dict[str, Any]:
    """Runs per second of ``run_sweep`` on points of the full study's design (warm workers)."""
    one = one_replicate(exp, SMALL_POPULATION if quick else None)
    study = sa.Study("sobol", sa.factors_of(one), FULL_SAMPLES, seed=one.seed)
    points = np.unique(study.design()[:, :-1], axis=0)
    order = np.random.default_rng(child_seed(one.seed, "bootstrap")).permutation(len(points))
    chosen = points[order[: WARMUP_RUNS + runs]]  # a random subset: representative values
    with tempfile.TemporaryDirectory(prefix="bench-sobol-") as tmp:
        t0 = time.perf_counter()
        run_sweep(one, chosen[:WARMUP_RUNS], Path(tmp) / "warm", jobs=jobs, progress=False)
        warm = time.perf_counter() - t0
        t1, c1 = time.perf_counter(), time.process_time()
        table = run_sweep(one, chosen[WARMUP_RUNS:], Path(tmp) / "timed", jobs=jobs, progress=False)
        wall = time.perf_counter() - t1
        cpu_main = time.process_time() - c1
    failed = int((table["status"] != "ok").sum())
    cpu = cpu_seconds_per_run(one, chosen[WARMUP_RUNS : WARMUP_RUNS + CPU_RUNS])
    return {
        "scenario": "calibration EU" if not quick else "small EU (quick)",
        "population": describe_population(one),
        **describe(one.base),
        "jobs": jobs,
        "warmup_runs": WARMUP_RUNS,
        "warmup_seconds_incl_worker_start": warm,
        "runs": runs,
        "failed_runs": failed,
        "seconds": wall,
        "runs_per_s": runs / wall,
        "seconds_per_run_per_worker": wall * jobs / runs,
        "main_process_cpu_seconds": cpu_main,
        "load_average_1min_after": os.getloadavg()[0],
        "cpu_runs_in_process": CPU_RUNS,
        "cpu_seconds_per_run": cpu,
        "runs_per_s_if_cpu_bound": jobs / cpu,
    }


def cpu_seconds_per_run(exp: Experiment, points: np.ndarray) -> float:
    """CPU seconds of one run in this process (mean over ``points``, seed 1), after a warm-up.

    On a shared machine other work inflates wall time but hardly the CPU time of a run, so
    ``jobs / cpu_seconds_per_run`` is the throughput an otherwise idle machine would reach
    with perfect parallel efficiency: an upper bound.
    """
    names = exp.factor_names
    configs = [exp.config_for(dict(zip(names, p.tolist(), strict=True))) for p in points]
    simulate(configs[0], 0)
    cpu = []
    for config in configs:
        c0 = time.process_time()
        simulate(config, 1)
        cpu.append(time.process_time() - c0)
    return float(np.mean(cpu))


def estimate(rate: dict[str, Any], factors: int, replicates: int) -> dict[str, Any]:
    """ESTIMATED wall time of the full Sobol study from the measured throughput.

    The headline uses the measured wall-clock throughput (under whatever load the machine
    had); the CPU-bound figure (idle machine, perfect efficiency) is a lower bound on time.
    """
    runs = sobol_runs(FULL_SAMPLES, factors)
    per_s = float(rate["runs_per_s"])
    hours = runs / per_s / 3600.0
    hours_cpu = runs / float(rate["runs_per_s_if_cpu_bound"]) / 3600.0
    return {
        "label": "ESTIMATE from the measured throughput (b), not a measurement",
        "samples_n": FULL_SAMPLES,
        "factors_d": factors,
        "order": "first and total (calc_second_order=False)",
        "runs_one_replicate": runs,
        "runs_formula": f"N (D + 2) = {FULL_SAMPLES} x ({factors} + 2)",
        "jobs": rate["jobs"],
        "measured_runs_per_s": per_s,
        "estimated_hours_one_replicate": hours,
        "replicates_in_experiment_file": replicates,
        "runs_with_replicates": runs * replicates,
        "estimated_hours_with_replicates": hours * replicates,
        "estimated_hours_one_replicate_if_cpu_bound": hours_cpu,
        "load_average_1min_during_measurement": rate["load_average_1min_after"],
        "target_hours": TARGET_HOURS,
        "meets_target_one_replicate": hours <= TARGET_HOURS,
    }


# --- main -----------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke version: small and short")
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS, help="worker processes")
    parser.add_argument(
        "--runs", type=int, help=f"timed throughput runs (default {THROUGHPUT_RUNS})"
    )
    parser.add_argument("--samples", type=int, help=f"reduced study N (default {REDUCED_SAMPLES})")
    parser.add_argument(
        "--output", type=Path, default=RESULTS_DIR / "bench_sobol.json", help="JSON file"
    )
    parser.add_argument(
        "--reduced-out",
        type=Path,
        default=RESULTS_DIR / "bench_sobol_reduced",
        help="where the reduced study's outputs go (replaced)",
    )
    return parser.parse_args(argv)


def report(result: dict[str, Any]) -> None:
    """Print the three parts as tables."""
    red = result["reduced_study"]
    print_table(
        f"(a) reduced Sobol study, end to end ({red['population']}, {red['years']})",
        ["runs", "jobs", "sample+sweep s", "analysis s", "outputs s", "total s", "runs/s"],
        [
            [
                red["runs"],
                red["jobs"],
                red["seconds_sample_and_sweep"],
                red["seconds_analysis"],
                red["seconds_outputs"],
                red["seconds_total"],
                red["runs_per_s_end_to_end"],
            ]
        ],
    )
    rate = result["throughput"]
    print_table(
        f"(b) measured sweep throughput, {rate['scenario']} ({rate['citizens']} citizens)",
        ["runs", "jobs", "seconds", "runs/s", "s/run/worker", "CPU s/run", "load"],
        [
            [
                rate["runs"],
                rate["jobs"],
                rate["seconds"],
                rate["runs_per_s"],
                rate["seconds_per_run_per_worker"],
                rate["cpu_seconds_per_run"],
                rate["load_average_1min_after"],
            ]
        ],
    )
    est = result["estimate"]
    print_table(
        f"(c) {est['label']}",
        [
            "N",
            "D",
            "runs",
            "runs/s",
            "hours (R=1)",
            f"hours (R={est['replicates_in_experiment_file']})",
            "hours (R=1, CPU-bound)",
        ],
        [
            [
                est["samples_n"],
                est["factors_d"],
                est["runs_one_replicate"],
                est["measured_runs_per_s"],
                est["estimated_hours_one_replicate"],
                est["estimated_hours_with_replicates"],
                est["estimated_hours_one_replicate_if_cpu_bound"],
            ]
        ],
    )
    print(f"\nreproduce: {result['command']}")


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the tables and write the JSON; return the results."""
    args = parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)
    quick = bool(args.quick)
    exp = load_experiment(EXPERIMENT_TOML)
    samples = args.samples or (QUICK_REDUCED_SAMPLES if quick else REDUCED_SAMPLES)
    runs = args.runs or (QUICK_THROUGHPUT_RUNS if quick else THROUGHPUT_RUNS)
    result: dict[str, Any] = {
        "benchmark": "bench_sobol",
        "quick": quick,
        "command": command("bench_sobol.py", argv),
        "environment": environment(),
    }
    result["reduced_study"] = reduced_study(
        exp, samples, args.jobs, args.reduced_out, result["command"]
    )
    result["throughput"] = throughput(exp, runs, args.jobs, quick)
    result["estimate"] = estimate(result["throughput"], len(exp.factors), exp.replicates)
    result["environment"]["load_average_1min_end"] = os.getloadavg()[0]
    report(result)
    write_json(result, args.output)
    print(f"wrote {args.output}")
    return result


if __name__ == "__main__":
    main()
