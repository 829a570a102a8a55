"""govsim's run time as a ratio to the shared performance skeleton, measured interleaved.

Absolute seconds move with machine load; a ratio to a skeleton with govsim's population shapes
and trivial rules (``shared/perf/skeleton_anchor.py``), timed in the same process with its runs
interleaved with govsim's, does not (much). For (a) the calibration set-up (yearly, ~100k
citizens, ``experiments/scenarios/calibration_setup.toml``) and (b) EU scale (quarterly,
~1M citizens, ``experiments/scenarios/eu_scale.toml``) it prints the skeleton's and govsim's
seconds per run (min and median) and the min and median of the per-pair ratios
govsim/skeleton against the issue's targets (median <= 1.5 and <= 1.2), the peak memory of
one EU-scale run in a fresh process
(target <= 1 GB), and where a calibration run spends its time (each stage of
``GovernanceModel.step``, model build, result tables).

The skeleton is found at ``../shared/perf/skeleton_anchor.py`` relative to the repository root,
or wherever the environment variable ``GOVSIM_SKELETON`` points.

    .venv/bin/python benchmarks/bench_ratio.py [--quick] [--pairs N] [--skip-eu] [--json FILE]
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

# one thread for every BLAS/OpenMP pool: must happen before numpy is imported
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from abm.config import ScenarioConfig  # noqa: E402
from abm.model import simulate  # noqa: E402
from benchmarks.bench_model import (  # noqa: E402
    CALIBRATION_TOML,
    EU_SCALE_TOML,
    REPO,
    TARGET_EU_PEAK_MB,
    command,
    describe,
    environment,
    peak_memory,
    print_table,
    profile_stages,
    scenario,
    write_json,
)
from experiments.argtypes import int_at_least  # noqa: E402

SKELETON_ENV = "GOVSIM_SKELETON"
DEFAULT_SKELETON = REPO.parent / "shared" / "perf" / "skeleton_anchor.py"
# issue 14: median of the per-pair ratios govsim/skeleton
TARGET_RATIO = {"calibration": 1.5, "eu_scale": 1.2}
PAIRS = {"calibration": 5, "eu_scale": 3}
QUICK_PAIRS = {"calibration": 2, "eu_scale": 1}
PROFILE_RUNS, QUICK_PROFILE_RUNS = 3, 1

SkeletonRun = Callable[[int, int, bool, int], object]


class SkeletonError(Exception):
    """The skeleton cannot be found or does not offer ``run(n_citizens, steps, mc, seed)``."""


# --- the skeleton -----------------------------------------------------------------------------


def skeleton_path() -> Path:
    """Where the skeleton is: ``$GOVSIM_SKELETON`` if set, else ``../shared/perf`` from the repo."""
    override = os.environ.get(SKELETON_ENV)
    return Path(override) if override else DEFAULT_SKELETON


def load_skeleton(path: Path) -> SkeletonRun:
    """Import the skeleton module from ``path`` and return its ``run`` function."""
    if not path.is_file():
        raise SkeletonError(
            f"performance skeleton not found: {path} (expected at ../shared/perf/"
            f"skeleton_anchor.py relative to the repository root {REPO}; set {SKELETON_ENV} "
            "to its path to use another location)"
        )
    spec = importlib.util.spec_from_file_location("skeleton_anchor", path)
    if spec is None or spec.loader is None:
        raise SkeletonError(f"{path}: cannot be imported as a Python module")
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    run = getattr(module, "run", None)
    if not callable(run):
        raise SkeletonError(
            f"{path}: has no function run(n_citizens, steps, mesa_citizens, seed), "
            "which bench_ratio times"
        )
    skeleton_run: SkeletonRun = run
    return skeleton_run


def skeleton_shape(config: ScenarioConfig) -> dict[str, Any]:
    """The skeleton's arguments matching govsim's population shapes for ``config``.

    Citizens: govsim's number of citizens, held as numpy arrays (``abm/agents/state.py``), which
    is the skeleton's ``mesa_citizens=False``; steps: years times steps per year.
    """
    size = describe(config)
    return {
        "n_citizens": int(size["citizens"]),
        "steps": int(size["steps"]),
        "mesa_citizens": False,
        "govsim": size,
    }


# --- interleaved timing -----------------------------------------------------------------------


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds of one call of ``fn``, after collecting the previous run's garbage."""
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def summary(values: Sequence[float]) -> dict[str, float]:
    """Min and median of a list of seconds or ratios."""
    return {"min": float(min(values)), "median": float(np.median(values))}


def interleaved_pairs(
    skeleton: SkeletonRun, config: ScenarioConfig, pairs: int, target: float
) -> dict[str, Any]:
    """Time ``pairs`` skeleton and govsim runs alternately (seeds 1..pairs) after one warm-up each.

    The order within a pair alternates (skeleton first in odd pairs, govsim first in even ones),
    so drifts in machine load fall on both sides alike. Ratios are per pair, govsim/skeleton, of
    wall time (the headline, as the issue states its targets) and of this process's CPU time
    (less inflated by other work on a shared machine, though cache contention still shows).
    """
    shape = skeleton_shape(config)
    n, steps, mesa_citizens = shape["n_citizens"], shape["steps"], shape["mesa_citizens"]

    def run_skeleton(seed: int) -> tuple[float, float]:
        return timed(lambda: skeleton(n, steps, mesa_citizens, seed))

    def run_govsim(seed: int) -> tuple[float, float]:
        return timed(lambda: simulate(config, seed))

    run_skeleton(0)  # warm-up: imports, caches, first-touch allocation
    run_govsim(0)
    sk: list[tuple[float, float]] = []
    gs: list[tuple[float, float]] = []
    for seed in range(1, pairs + 1):
        if seed % 2:
            sk.append(run_skeleton(seed))
            gs.append(run_govsim(seed))
        else:
            gs.append(run_govsim(seed))
            sk.append(run_skeleton(seed))
    ratios = [g[0] / s[0] for g, s in zip(gs, sk, strict=True)]
    cpu_ratios = [g[1] / s[1] for g, s in zip(gs, sk, strict=True)]
    median_ratio = float(np.median(ratios))
    return {
        "pairs": pairs,
        "skeleton_call": {k: shape[k] for k in ("n_citizens", "steps", "mesa_citizens")},
        "govsim_shape": shape["govsim"],
        "skeleton_seconds": summary([s[0] for s in sk]),
        "govsim_seconds": summary([g[0] for g in gs]),
        "ratio": summary(ratios),
        "cpu_ratio": summary(cpu_ratios),
        "skeleton_cpu_seconds": summary([s[1] for s in sk]),
        "govsim_cpu_seconds": summary([g[1] for g in gs]),
        "skeleton_seconds_per_pair": [s[0] for s in sk],
        "govsim_seconds_per_pair": [g[0] for g in gs],
        "skeleton_cpu_seconds_per_pair": [s[1] for s in sk],
        "govsim_cpu_seconds_per_pair": [g[1] for g in gs],
        "ratios": ratios,
        "cpu_ratios": cpu_ratios,
        "target_median_ratio": target,
        "meets_target": median_ratio <= target,
    }


# --- peak memory ------------------------------------------------------------------------------


def eu_peak_memory(quick: bool) -> dict[str, Any]:
    """Peak resident memory of one EU-scale govsim run in a fresh interpreter, MB.

    The headline is the child's own VmHWM (peak resident set of its address space after
    ``exec``, read in the child by ``bench_model.child_run``). The parent's
    ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` is kept alongside as a cross-check but is only an
    upper bound: Linux folds the parent's resident size at spawn into a child's maxrss, and it
    is the maximum over every child waited for. tracemalloc is not used: it sees only Python's
    allocators (not the interpreter, libraries or allocator slack) and slows the run down.
    """
    child = peak_memory(EU_SCALE_TOML, quick)
    children_maxrss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    peak = float(child["peak_rss_mb"])
    return {
        "method": "VmHWM of a fresh child process (bench_model.py --child-run), seed 1",
        "peak_rss_mb": peak,
        "rss_after_imports_mb": float(child["rss_after_imports_mb"]),
        "seconds_cold": float(child["seconds_cold"]),
        "rusage_children_maxrss_mb": children_maxrss_mb,
        "parent_rss_mb": _self_rss_mb(),
        "target_peak_rss_mb": TARGET_EU_PEAK_MB,
        "meets_target": peak <= TARGET_EU_PEAK_MB,
    }


def _self_rss_mb() -> float:
    """This process's current resident memory, MB (VmRSS; nan where /proc is missing)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return float(line.split()[1]) / 1024.0
    return float("nan")


# --- main -------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke version: tiny and short")
    parser.add_argument(
        "--pairs",
        type=int_at_least(1),
        help=f"calibration pairs (default {PAIRS['calibration']}; quick "
        f"{QUICK_PAIRS['calibration']})",
    )
    parser.add_argument(
        "--eu-pairs",
        type=int_at_least(1),
        help=f"EU-scale pairs (default {PAIRS['eu_scale']}; quick {QUICK_PAIRS['eu_scale']})",
    )
    parser.add_argument(
        "--profile-runs",
        type=int_at_least(1),
        help=f"profiled calibration runs (default {PROFILE_RUNS}; quick {QUICK_PROFILE_RUNS})",
    )
    parser.add_argument("--skip-eu", action="store_true", help="skip the EU-scale part")
    parser.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the interleaved pairs, memory and profile; print the tables; return the results.

    A missing skeleton is reported on stderr with its path and exits with code 2 before any run.
    """
    args = parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)
    quick = bool(args.quick)
    pairs = QUICK_PAIRS if quick else PAIRS
    path = skeleton_path()
    try:
        skeleton = load_skeleton(path)
    except SkeletonError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None

    result: dict[str, Any] = {
        "benchmark": "bench_ratio",
        "quick": quick,
        "command": command("bench_ratio.py", argv),
        "skeleton": str(path.resolve()),
        "environment": environment(),
    }
    # the memory child first, while this process is still small (see eu_peak_memory)
    memory = None if args.skip_eu else eu_peak_memory(quick)
    calibration = scenario(CALIBRATION_TOML, quick)
    result["calibration"] = {
        "scenario": CALIBRATION_TOML.relative_to(REPO).as_posix(),
        **interleaved_pairs(
            skeleton,
            calibration,
            args.pairs or pairs["calibration"],
            TARGET_RATIO["calibration"],
        ),
    }
    if memory is not None:
        result["eu_scale"] = {
            "scenario": EU_SCALE_TOML.relative_to(REPO).as_posix(),
            **interleaved_pairs(
                skeleton,
                scenario(EU_SCALE_TOML, quick),
                args.eu_pairs or pairs["eu_scale"],
                TARGET_RATIO["eu_scale"],
            ),
            "memory": memory,
        }
    profile_runs = args.profile_runs or (QUICK_PROFILE_RUNS if quick else PROFILE_RUNS)
    result["profile"] = {
        "scenario": CALIBRATION_TOML.relative_to(REPO).as_posix(),
        **profile_stages(calibration, profile_runs),
    }
    result["environment"]["load_average_1min_end"] = os.getloadavg()[0]
    report(result)
    if args.json is not None:
        write_json(result, args.json)
        print(f"\nwrote {args.json}")
    return result


def report(result: dict[str, Any]) -> None:
    """Print the ratio table, memory, the stage profile and the command that reproduces them."""
    rows: list[list[object]] = []
    for key in ("calibration", "eu_scale"):
        if key not in result:
            continue
        part = result[key]
        call = part["skeleton_call"]
        rows.append(
            [
                f"{key} ({call['n_citizens']} citizens, {call['steps']} steps)",
                part["pairs"],
                f"{part['skeleton_seconds']['min']:.3f} / {part['skeleton_seconds']['median']:.3f}",
                f"{part['govsim_seconds']['min']:.3f} / {part['govsim_seconds']['median']:.3f}",
                f"{part['ratio']['min']:.2f} / {part['ratio']['median']:.2f}",
                f"{part['cpu_ratio']['min']:.2f} / {part['cpu_ratio']['median']:.2f}",
                f"<= {part['target_median_ratio']:g}",
                "PASS" if part["meets_target"] else "FAIL",
            ]
        )
    env = result["environment"]
    quick_note = ""
    if result["quick"]:
        quick_note = " [--quick: tiny configurations, targets not meaningful]"
    print_table(
        "govsim / skeleton, interleaved in one process "
        f"(load average {env['load_average_1min']:.1f} -> {env['load_average_1min_end']:.1f})"
        + quick_note,
        [
            "configuration",
            "pairs",
            "skeleton s/run min / median",
            "govsim s/run min / median",
            "ratio min / median",
            "CPU-time ratio min / median",
            "target (median)",
            "",
        ],
        rows,
    )
    if "eu_scale" in result:
        mem = result["eu_scale"]["memory"]
        print(
            f"\nEU-scale peak memory (govsim, fresh process, VmHWM): {mem['peak_rss_mb']:.0f} MB "
            f"(after imports {mem['rss_after_imports_mb']:.0f} MB; parent's RUSAGE_CHILDREN "
            f"maxrss {mem['rusage_children_maxrss_mb']:.0f} MB); target <= "
            f"{mem['target_peak_rss_mb']:.0f} MB: {'PASS' if mem['meets_target'] else 'FAIL'}"
        )
    prof = result["profile"]
    print_table(
        f"Calibration set-up stage profile: mean seconds per run over {prof['runs']} runs "
        f"(total {prof['seconds_per_run']:.3f} s with timing wrappers)",
        ["stage", "s/run", "share"],
        [[r["stage"], r["seconds_per_run"], f"{100 * r['share']:.1f}%"] for r in prof["stages"]],
    )
    print(f"top stages: {', '.join(prof['top5_stages'])}")
    print(f"\nreproduce (from the repository root): {result['command']}")


if __name__ == "__main__":
    main()
