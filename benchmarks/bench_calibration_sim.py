"""Milliseconds per calibration simulation (one ABC/NPE particle), and its ratio to the skeleton.

One simulation is what the calibration engines call per particle: ``SurveySimulator.simulate``
(``calibration/smc.py``) on the spec's set-up (``calibration/survey_setup.toml``), which builds
the model without the population cache, runs it to the survey dates and draws the synthetic
surveys. It prints the mean and median ms per simulation over distinct particles (prior draws
with their own seeds, as in a calibration), where the time goes (build, steps, survey reads),
and, interleaved in the same process, the skeleton's seconds per run of the calibration
set-up's shape (``benchmarks/bench_ratio.py``), so the ratio is less sensitive to load.

    .venv/bin/python benchmarks/bench_calibration_sim.py [--sims N] [--no-skeleton]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# one thread for every BLAS/OpenMP pool: must happen before numpy is imported
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import abm.survey  # noqa: E402
from abm.rng import parameter_seed  # noqa: E402
from benchmarks.bench_model import (  # noqa: E402
    CALIBRATION_TOML,
    command,
    environment,
    print_table,
    scenario,
)
from benchmarks.bench_ratio import (  # noqa: E402
    SkeletonError,
    load_skeleton,
    skeleton_path,
    skeleton_shape,
)
from calibration import smc  # noqa: E402
from calibration.targets import load_all_targets  # noqa: E402
from experiments.argtypes import int_at_least  # noqa: E402
from experiments.scenario import load_scenario  # noqa: E402

SIMS = 12


def particles(spec: smc.CalibrationSpec, n: int, seed: int) -> list[dict[str, float]]:
    """``n`` parameter vectors drawn uniformly within the spec's prior bounds."""
    rng = np.random.default_rng(seed)
    bounds = spec.priors()
    return [{k: float(rng.uniform(lo, hi)) for k, (lo, hi) in bounds.items()} for _ in range(n)]


class PhaseTimer:
    """Seconds spent in the model build and the survey reads of each simulation."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {"build": 0.0, "survey reads": 0.0}

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Wrap model construction and the survey readers the simulator calls; undo on exit."""
        model_cls = abm.survey.GovernanceModel
        names = ("sampled_distributions", "expected_distributions")
        saved = {name: getattr(abm.survey, name) for name in names}
        timer = self

        def build(config: Any, seed: int, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            model = model_cls(config, seed, **kwargs)
            timer.seconds["build"] += time.perf_counter() - t0
            return model

        def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
            def timed(*args: Any, **kwargs: Any) -> Any:
                t0 = time.perf_counter()
                out = fn(*args, **kwargs)
                timer.seconds["survey reads"] += time.perf_counter() - t0
                return out

            return timed

        abm.survey.GovernanceModel = build  # type: ignore[assignment,misc]
        for name, fn in saved.items():
            setattr(abm.survey, name, wrap(fn))
        try:
            yield
        finally:
            abm.survey.GovernanceModel = model_cls  # type: ignore[misc]
            for name, fn in saved.items():
                setattr(abm.survey, name, fn)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Time distinct calibration simulations (and skeleton runs in between); print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int_at_least(2), default=SIMS, help="simulations timed")
    parser.add_argument("--no-skeleton", action="store_true", help="skip the skeleton runs")
    args = parser.parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)
    spec = smc.load_spec()
    config = load_scenario(spec.scenario)
    simulator = smc.SurveySimulator(config, spec.parameters, smc.sample_sizes(load_all_targets()))
    skeleton = None
    if not args.no_skeleton:
        try:
            skeleton = load_skeleton(skeleton_path())
        except SkeletonError as exc:
            print(f"note: {exc}; timing without the skeleton", file=sys.stderr)
    shape = skeleton_shape(scenario(CALIBRATION_TOML, False))
    thetas = particles(spec, args.sims + 1, seed=14)
    simulator(thetas[0])  # warm-up: imports, compiled kernels, data files
    if skeleton is not None:
        skeleton(shape["n_citizens"], shape["steps"], False, 0)
    timer = PhaseTimer()
    sim_s: list[float] = []
    sim_cpu: list[float] = []
    sk_s: list[float] = []
    sk_cpu: list[float] = []
    with timer.installed():
        for k, theta in enumerate(thetas[1:]):
            gc.collect()
            t0, c0 = time.perf_counter(), time.process_time()
            simulator.simulate(theta, parameter_seed(theta))
            sim_s.append(time.perf_counter() - t0)
            sim_cpu.append(time.process_time() - c0)
            if skeleton is not None:
                gc.collect()
                t0, c0 = time.perf_counter(), time.process_time()
                skeleton(shape["n_citizens"], shape["steps"], False, k + 1)
                sk_s.append(time.perf_counter() - t0)
                sk_cpu.append(time.process_time() - c0)
    n = len(sim_s)
    build = timer.seconds["build"] / n
    reads = timer.seconds["survey reads"] / n
    mean = float(np.mean(sim_s))
    result: dict[str, Any] = {
        "command": command("bench_calibration_sim.py", argv),
        "environment": environment(),
        "sims": n,
        "ms_per_sim_mean": 1e3 * mean,
        "ms_per_sim_median": 1e3 * float(np.median(sim_s)),
        "ms_per_sim_min": 1e3 * float(np.min(sim_s)),
        "cpu_ms_per_sim_median": 1e3 * float(np.median(sim_cpu)),
        "cpu_ms_per_sim_min": 1e3 * float(np.min(sim_cpu)),
        "phases_ms": {
            "build": 1e3 * build,
            "steps and recording": 1e3 * (mean - build - reads),
            "survey reads": 1e3 * reads,
        },
    }
    rows: list[list[object]] = [
        [
            "calibration simulation (survey set-up), ms",
            f"{result['ms_per_sim_min']:.1f}",
            f"{result['ms_per_sim_median']:.1f}",
            f"{result['ms_per_sim_mean']:.1f}",
        ],
        [
            "  the same, CPU ms of this process",
            f"{result['cpu_ms_per_sim_min']:.1f}",
            f"{result['cpu_ms_per_sim_median']:.1f}",
            f"{1e3 * float(np.mean(sim_cpu)):.1f}",
        ],
    ]
    if sk_s:
        ratios = [s / k for s, k in zip(sim_s, sk_s, strict=True)]
        result["skeleton_ms_median"] = 1e3 * float(np.median(sk_s))
        result["ratio_to_skeleton_run"] = {
            "min": float(np.min(ratios)),
            "median": float(np.median(ratios)),
        }
        rows.append(
            [
                f"skeleton, calibration set-up shape ({shape['n_citizens']} citizens, "
                f"{shape['steps']} steps), ms",
                f"{1e3 * min(sk_s):.1f}",
                f"{result['skeleton_ms_median']:.1f}",
                f"{1e3 * float(np.mean(sk_s)):.1f}",
            ]
        )
        cpu_ratios = [s / k for s, k in zip(sim_cpu, sk_cpu, strict=True)]
        result["cpu_ratio_to_skeleton_run"] = {
            "min": float(np.min(cpu_ratios)),
            "median": float(np.median(cpu_ratios)),
        }
        for label, values in (("wall", ratios), ("CPU", cpu_ratios)):
            rows.append(
                [
                    f"ratio simulation / skeleton run (per pair, {label} time)",
                    f"{min(values):.2f}",
                    f"{float(np.median(values)):.2f}",
                    f"{float(np.mean(values)):.2f}",
                ]
            )
    env = result["environment"]
    print_table(
        f"One calibration simulation ({spec.scenario.name}), {n} distinct particles "
        f"(load average {env['load_average_1min']:.1f})",
        ["", "min", "median", "mean"],
        rows,
    )
    print_table(
        "Where one simulation's time goes (mean ms)",
        ["phase", "ms"],
        [[k, f"{v:.1f}"] for k, v in result["phases_ms"].items()],
    )
    print(f"\nreproduce (from the repository root): {result['command']}")
    return result


if __name__ == "__main__":
    main()
