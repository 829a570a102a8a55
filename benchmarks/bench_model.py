"""Throughput of whole model runs: calibration runs/s, EU-scale s/run and peak memory, profile.

(a) the calibration scenario (yearly, ~100k citizens) on one thread: runs per second, target
>= 5; (b) the EU-scale scenario (quarterly, ~1M citizens): seconds per run, target <= 2 s, and
the peak resident memory of one run in a fresh subprocess, target <= 1024 MB; (c) where the time
goes: each stage of ``GovernanceModel.step`` (read from its source, so the table follows the
schedule) timed over a few calibration runs. Prints a table and the command that reproduces it
and writes JSON to ``benchmarks/results/bench_model.json``. ``--quick`` is a smoke version.

    .venv/bin/python benchmarks/bench_model.py [--quick]
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import datetime
import functools
import inspect
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# one thread for every BLAS/OpenMP pool: must happen before numpy is imported
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import mesa  # noqa: E402
import numpy as np  # noqa: E402

import abm.model  # noqa: E402
from abm.config import ScenarioConfig  # noqa: E402
from abm.model import GovernanceModel, simulate  # noqa: E402
from experiments.scenario import load_scenario  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO / "benchmarks" / "results"
CALIBRATION_TOML = REPO / "experiments" / "scenarios" / "calibration_setup.toml"
EU_SCALE_TOML = REPO / "experiments" / "scenarios" / "eu_scale.toml"
TARGET_RUNS_PER_S = 5.0
TARGET_EU_SECONDS_PER_RUN = 2.0
TARGET_EU_PEAK_MB = 1024.0
# --quick: a few years and ten times fewer citizens, only to check that the script works
QUICK_YEARS = 3
QUICK_CITIZEN_FACTOR = 10.0


# --- shared helpers (also used by bench_citizens.py) ------------------------------------------


def environment() -> dict[str, Any]:
    """Where the numbers were measured: versions, CPU, load and code version."""
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=REPO,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
    except (OSError, subprocess.CalledProcessError):
        commit, dirty = "unknown", False
    return {
        "date_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "mesa": mesa.__version__,
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],
        "git_commit": commit,
        "git_dirty": dirty,
        "threads": {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
    }


def command(script: str, argv: Sequence[str]) -> str:
    """The shell command that reproduces a benchmark (run from the repository root)."""
    return shlex.join([".venv/bin/python", f"benchmarks/{script}", *argv])


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A small fixed-width table on stdout."""
    cells = [[str(h) for h in headers]] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(r[k]) for r in cells) for k in range(len(headers))]
    print(f"\n{title}")
    for k, row in enumerate(cells):
        print(
            "  ".join(
                c.rjust(w) if j else c.ljust(w)
                for j, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if k == 0:
            print("  ".join("-" * w for w in widths))


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def write_json(result: dict[str, Any], path: Path) -> None:
    """Write the results (creating the folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


# --- configurations ---------------------------------------------------------------------------


def scenario(path: Path, quick: bool) -> ScenarioConfig:
    """A shipped scenario; with ``quick`` a few years and ten times fewer citizens."""
    config = load_scenario(path)
    if not quick:
        return config
    population = dataclasses.replace(
        config.population,
        residents_per_citizen=config.population.residents_per_citizen * QUICK_CITIZEN_FACTOR,
    )
    return dataclasses.replace(
        config, end_year=config.start_year + QUICK_YEARS - 1, population=population
    )


def describe(config: ScenarioConfig) -> dict[str, Any]:
    """Size of a configuration: citizens, cities, steps."""
    model = GovernanceModel(config, 0)
    return {
        "citizens": model.citizens.n,
        "cities": model.cities.n,
        "installations": model.installations.n,
        "steps": config.n_years * config.steps_per_year,
        "steps_per_year": config.steps_per_year,
        "years": f"{config.start_year}-{config.end_year}",
    }


# --- (a) calibration throughput, (b) EU-scale time -------------------------------------------


def time_runs(config: ScenarioConfig, runs: int) -> dict[str, Any]:
    """Warm up with one run, then time ``runs`` runs of ``simulate`` (seeds 1..runs).

    Wall time is the headline; process CPU time and the fastest run are kept as well because on
    a shared machine other work inflates wall time but hardly the CPU time of this process.
    """
    simulate(config, 0)
    wall, cpu = [], []
    for seed in range(1, runs + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        simulate(config, seed)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    total = float(sum(wall))
    return {
        "runs": runs,
        "seconds_total": total,
        "seconds_per_run": total / runs,
        "seconds_per_run_median": float(np.median(wall)),
        "seconds_per_run_min": min(wall),
        "seconds_per_run_max": max(wall),
        "cpu_seconds_per_run": float(sum(cpu)) / runs,
        "runs_per_s": runs / total,
        "runs_per_s_cpu": runs / float(sum(cpu)),
    }


# --- (b) peak memory in a fresh process -------------------------------------------------------


def peak_rss_mb() -> float:
    """This process's peak resident memory, MB: VmHWM, else ru_maxrss (KB on Linux).

    VmHWM (``/proc/self/status``) is preferred because Linux carries the *parent's* resident size
    at spawn into a child's ru_maxrss (``vfork``/``fork`` + ``exec``), so ru_maxrss of a child
    started by a parent that has just run the EU scenario reports the parent's size.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child_run(path: Path, quick: bool, seed: int) -> dict[str, Any]:
    """One run in this (fresh) process; its peak memory before and after the run."""
    before_mb = peak_rss_mb()
    config = scenario(path, quick)
    t0 = time.perf_counter()
    simulate(config, seed)
    seconds = time.perf_counter() - t0
    return {
        "seconds_cold": seconds,
        "peak_rss_mb": peak_rss_mb(),
        "rss_after_imports_mb": before_mb,
        "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def peak_memory(path: Path, quick: bool) -> dict[str, Any]:
    """Run :func:`child_run` in a fresh interpreter and read its JSON answer."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--child-run", str(path)]
    if quick:
        argv.append("--quick")
    out = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"memory subprocess failed ({out.returncode}):\n{out.stderr}")
    answer: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return answer


# --- (c) time per schedule stage --------------------------------------------------------------


def schedule_stages() -> list[str]:
    """Dotted names of the calls in ``GovernanceModel.step`` in order (``funding.absorb_funds``)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(GovernanceModel.step)))
    func = tree.body[0]
    assert isinstance(func, ast.FunctionDef)
    names = []
    for stmt in func.body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            names.append(ast.unparse(stmt.value.func))
    return names


class StageTimer:
    """Accumulates wall time per stage; nested stage calls count only in the outer stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._depth = 0

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn`` timed under ``name``."""

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self._depth:
                return fn(*args, **kwargs)
            self._depth += 1
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0
                self.calls[name] = self.calls.get(name, 0) + 1
                self._depth -= 1

        return timed


@contextmanager
def timed_stages(model: GovernanceModel, timer: StageTimer) -> Iterator[list[str]]:
    """Wrap every stage of ``model.step`` in ``timer``; yield the stage names; undo on exit.

    ``self.x.y`` stages are wrapped on the instance, ``module.f`` stages on the module object
    that ``abm.model`` calls through (restored afterwards). Unrecognised lines are not timed
    and show up as the unattributed rest.
    """
    undo: list[tuple[object, str, object, bool]] = []
    stages = []
    try:
        for name in schedule_stages():
            parts = name.split(".")
            if parts[0] == "self":
                owner: object = model
                for attr in parts[1:-1]:
                    owner = getattr(owner, attr)
            elif len(parts) == 2 and inspect.ismodule(vars(abm.model).get(parts[0])):
                owner = vars(abm.model)[parts[0]]
            elif len(parts) == 1 and parts[0] in vars(abm.model):
                owner = abm.model
            else:
                continue
            # a method found on the class is shadowed on the instance and unshadowed afterwards
            own = parts[-1] in getattr(owner, "__dict__", {})
            original = getattr(owner, parts[-1])
            undo.append((owner, parts[-1], original, own))
            setattr(owner, parts[-1], timer.wrap(name.removeprefix("self."), original))
            stages.append(name.removeprefix("self."))
        yield stages
    finally:
        for owner, attr, original, own in reversed(undo):
            if own:
                setattr(owner, attr, original)
            else:
                delattr(owner, attr)


def profile_stages(config: ScenarioConfig, runs: int) -> dict[str, Any]:
    """Mean seconds per run of each schedule stage, plus build, result tables and the rest."""
    simulate(config, 0)  # warm up
    timer = StageTimer()
    build = steps = total = 0.0
    stages = []
    for seed in range(1, runs + 1):
        t0 = time.perf_counter()
        model = GovernanceModel(config, seed)
        t1 = time.perf_counter()
        step_timer = StageTimer()
        step = model.step  # Mesa's instance-level wrapper of GovernanceModel.step
        model.step = step_timer.wrap("step", step)  # type: ignore[method-assign]
        with timed_stages(model, timer) as names:
            model.run()
        stages = names
        t2 = time.perf_counter()
        model.step = step  # type: ignore[method-assign]
        build += t1 - t0
        steps += step_timer.seconds["step"]
        total += t2 - t0
    per_run = {name: timer.seconds.get(name, 0.0) / runs for name in stages}
    rows: list[dict[str, Any]] = [
        {"stage": "build (GovernanceModel.__init__)", "seconds_per_run": build / runs}
    ]
    rows += [{"stage": name, "seconds_per_run": s} for name, s in per_run.items()]
    rows.append(
        {
            "stage": "step, unattributed",
            "seconds_per_run": (steps - sum(timer.seconds.values())) / runs,
        }
    )
    rows.append(
        {"stage": "run loop and result tables", "seconds_per_run": (total - build - steps) / runs}
    )
    for row in rows:
        row["share"] = row["seconds_per_run"] / (total / runs)
    top = sorted(per_run, key=per_run.__getitem__, reverse=True)[:5]
    return {"runs": runs, "seconds_per_run": total / runs, "stages": rows, "top5_stages": top}


# --- main -------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke version: tiny and short")
    parser.add_argument("--runs", type=int, help="timed calibration runs (default 10; quick 2)")
    parser.add_argument("--eu-runs", type=int, help="timed EU-scale runs (default 3; quick 1)")
    parser.add_argument("--profile-runs", type=int, help="profiled runs (default 5; quick 1)")
    parser.add_argument("--skip-eu", action="store_true", help="skip the EU-scale part (b)")
    parser.add_argument(
        "--output", type=Path, default=RESULTS_DIR / "bench_model.json", help="JSON file"
    )
    parser.add_argument("--child-run", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmarks, print the tables and write the JSON; return the results."""
    args = parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)
    quick = bool(args.quick)
    runs = args.runs or (2 if quick else 10)
    eu_runs = args.eu_runs or (1 if quick else 3)
    profile_runs = args.profile_runs or (1 if quick else 5)

    calibration = scenario(CALIBRATION_TOML, quick)
    result: dict[str, Any] = {
        "benchmark": "bench_model",
        "quick": quick,
        "command": command("bench_model.py", argv),
        "environment": environment(),
    }
    cal = {"scenario": CALIBRATION_TOML.relative_to(REPO).as_posix(), **describe(calibration)}
    cal |= time_runs(calibration, runs)
    cal |= {
        "target_runs_per_s": TARGET_RUNS_PER_S,
        "meets_target": cal["runs_per_s"] >= TARGET_RUNS_PER_S,
    }
    result["calibration"] = cal
    if not args.skip_eu:
        eu_config = scenario(EU_SCALE_TOML, quick)
        eu = {"scenario": EU_SCALE_TOML.relative_to(REPO).as_posix(), **describe(eu_config)}
        eu |= time_runs(eu_config, eu_runs)
        eu |= peak_memory(EU_SCALE_TOML, quick)
        eu |= {
            "target_seconds_per_run": TARGET_EU_SECONDS_PER_RUN,
            "target_peak_rss_mb": TARGET_EU_PEAK_MB,
            "meets_time_target": eu["seconds_per_run"] <= TARGET_EU_SECONDS_PER_RUN,
            "meets_memory_target": eu["peak_rss_mb"] <= TARGET_EU_PEAK_MB,
        }
        result["eu_scale"] = eu
    result["profile"] = {"scenario": cal["scenario"], **profile_stages(calibration, profile_runs)}

    result["environment"]["load_average_1min_end"] = os.getloadavg()[0]
    report(result)
    write_json(result, args.output)
    print(f"\nwrote {args.output}")
    return result


def report(result: dict[str, Any]) -> None:
    """Print the results as small tables, then the command that reproduces them."""
    cal = result["calibration"]
    rows: list[list[object]] = [
        [
            "calibration runs/s (1 thread)",
            cal["runs_per_s"],
            f">= {TARGET_RUNS_PER_S:g}",
            cal["meets_target"],
        ],
        ["calibration runs/s by CPU time", cal["runs_per_s_cpu"], "", ""],
        [
            "calibration s/run (mean, min)",
            f"{cal['seconds_per_run']:.3f}, {cal['seconds_per_run_min']:.3f}",
            "",
            "",
        ],
    ]
    if "eu_scale" in result:
        eu = result["eu_scale"]
        rows += [
            [
                "EU-scale s/run (mean)",
                eu["seconds_per_run"],
                f"<= {TARGET_EU_SECONDS_PER_RUN:g}",
                eu["meets_time_target"],
            ],
            ["EU-scale CPU s/run", eu["cpu_seconds_per_run"], "", ""],
            [
                "EU-scale peak RSS MB (fresh process)",
                eu["peak_rss_mb"],
                f"<= {TARGET_EU_PEAK_MB:g}",
                eu["meets_memory_target"],
            ],
        ]
    sizes = f"calibration {cal['citizens']} citizens, {cal['steps']} steps"
    if "eu_scale" in result:
        eu = result["eu_scale"]
        sizes += f"; EU scale {eu['citizens']} citizens, {eu['steps']} steps"
    print_table(f"Model throughput ({sizes})", ["measure", "value", "target", "met"], rows)
    prof = result["profile"]
    print_table(
        f"Calibration profile: mean seconds per run over {prof['runs']} runs "
        f"(total {prof['seconds_per_run']:.3f} s)",
        ["stage", "s/run", "share"],
        [[r["stage"], r["seconds_per_run"], f"{100 * r['share']:.1f}%"] for r in prof["stages"]],
    )
    print(f"\nreproduce (from the repository root): {result['command']}")


if __name__ == "__main__":
    _args = parse_args(None)
    if _args.child_run is not None:
        print(json.dumps(child_run(_args.child_run, bool(_args.quick), seed=1)))
    else:
        main()
