"""How a run's cost grows with citizens, cities and steps per year, with fitted exponents.

Three one-factor series from the calibration set-up (``experiments/scenarios/
calibration_setup.toml``, yearly, ~100k citizens, 362 cities), each over a shorter horizon
(``--years``, default 11):

- **citizens** 10k, 100k, 1M: ``residents_per_citizen`` scaled from the set-up's value;
- **cities** 362, 1,000, 3,000: ``n_non_mission_cities`` = cities - 112, with
  ``residents_per_citizen`` raised in proportion to the modelled residents so the number of
  citizens stays near the set-up's (the cities' effect, not their citizens');
- **steps per year** 1 and 4 (the two resolutions a scenario may have).

Cost is CPU seconds per run (``time.process_time``; on a shared machine other work inflates wall
time but hardly this process's CPU time), the minimum over ``--repeats`` runs with seeds 1, 2,
... after one warm-up run. Each series gets two exponents: the least-squares slope of log cost on
log size, and the slope between its two largest points, where fixed costs matter least. Sizes
are the citizens and cities built (the per-city floor of 20 citizens lifts the 10k point). The
issue's requirement is that neither exceeds one (cost no faster than linear).

    .venv/bin/python benchmarks/bench_scaling.py [--quick] [--years N] [--repeats N] [--json F]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from abm.config import ScenarioConfig  # noqa: E402
from abm.model import GovernanceModel, simulate  # noqa: E402
from benchmarks.bench_model import (  # noqa: E402
    CALIBRATION_TOML,
    QUICK_CITIZEN_FACTOR,
    command,
    environment,
    print_table,
    write_json,
)
from experiments.argtypes import int_at_least  # noqa: E402
from experiments.scenario import load_scenario  # noqa: E402

MISSION_CITIES = 112
CITIZENS = (10_000, 100_000, 1_000_000)
CITIES = (362, 1_000, 3_000)
STEPS_PER_YEAR = (1, 4)  # the values ScenarioConfig allows (yearly, quarterly)
QUICK = {"citizens": (8_000, 20_000), "cities": (362, 500), "steps_per_year": (1, 4)}
MAX_EXPONENT = 1.0


def modelled_residents(config: ScenarioConfig) -> float:
    """Residents of the synthetic EU built by ``config`` (seed 0)."""
    return float(GovernanceModel(config, 0).modelled_residents)


def with_population(config: ScenarioConfig, **changes: Any) -> ScenarioConfig:
    """``config`` with some population settings replaced."""
    return dataclasses.replace(config, population=dataclasses.replace(config.population, **changes))


def series(base: ScenarioConfig, quick: bool) -> dict[str, list[tuple[int, ScenarioConfig]]]:
    """The three one-factor series: (size, config) pairs."""
    residents = modelled_residents(base)
    out: dict[str, list[tuple[int, ScenarioConfig]]] = {"citizens": [], "cities": []}
    for n in QUICK["citizens"] if quick else CITIZENS:
        out["citizens"].append((n, with_population(base, residents_per_citizen=residents / n)))
    target = residents / base.population.residents_per_citizen
    for n in QUICK["cities"] if quick else CITIES:
        grown = with_population(base, n_non_mission_cities=n - MISSION_CITIES)
        grown = with_population(grown, residents_per_citizen=modelled_residents(grown) / target)
        out["cities"].append((n, grown))
    out["steps_per_year"] = [
        (k, dataclasses.replace(base, steps_per_year=k))
        for k in (QUICK["steps_per_year"] if quick else STEPS_PER_YEAR)
    ]
    return out


def cost(config: ScenarioConfig, repeats: int) -> dict[str, Any]:
    """Minimum CPU seconds per run over ``repeats`` seeds, after one warm-up run; and the size."""
    simulate(config, 0)
    seconds = []
    for seed in range(1, repeats + 1):
        c0 = time.process_time()
        simulate(config, seed)
        seconds.append(time.process_time() - c0)
    model = GovernanceModel(config, 0)
    return {
        "cpu_seconds_min": float(min(seconds)),
        "cpu_seconds": seconds,
        "citizens": int(model.citizens.n),
        "cities": int(model.cities.n),
        "steps": config.n_years * config.steps_per_year,
    }


def exponent(sizes: Sequence[float], seconds: Sequence[float]) -> float:
    """Least-squares slope of log(seconds) on log(size)."""
    slope, _ = np.polyfit(np.log(np.asarray(sizes, float)), np.log(np.asarray(seconds, float)), 1)
    return float(slope)


def result_slope(rows: Sequence[dict[str, Any]], measured: str) -> float:
    """Slope between the two largest points of a series."""
    last = rows[-2:]
    return exponent([r[measured] for r in last], [r["cpu_seconds_min"] for r in last])


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke version: tiny and short")
    parser.add_argument("--years", type=int_at_least(1), default=11, help="years per run (11)")
    parser.add_argument("--repeats", type=int_at_least(1), default=3, help="runs per point (3)")
    parser.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Time the three series, fit the exponents, print the table; return the results."""
    args = parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)
    years = 2 if args.quick else args.years
    repeats = 1 if args.quick else args.repeats
    base = load_scenario(CALIBRATION_TOML)
    base = dataclasses.replace(base, end_year=base.start_year + years - 1)
    if args.quick:
        rpc = base.population.residents_per_citizen * QUICK_CITIZEN_FACTOR
        base = with_population(base, residents_per_citizen=rpc)
    result: dict[str, Any] = {
        "benchmark": "bench_scaling",
        "quick": bool(args.quick),
        "command": command("bench_scaling.py", argv),
        "environment": environment(),
        "years": years,
        "repeats": repeats,
        "series": {},
    }
    for name, points in series(base, bool(args.quick)).items():
        rows = [{"size": size, **cost(config, repeats)} for size, config in points]
        # fitted on the sizes built (the per-city floor of citizens lifts the smallest point)
        measured = {"citizens": "citizens", "cities": "cities", "steps_per_year": "size"}[name]
        fitted = exponent([r[measured] for r in rows], [r["cpu_seconds_min"] for r in rows])
        result["series"][name] = {
            "points": rows,
            "exponent": fitted,
            # the slope between the two largest points: growth where fixed costs matter least
            "exponent_largest_pair": result_slope(rows, measured),
            "max_exponent": MAX_EXPONENT,
            "meets_target": max(fitted, result_slope(rows, measured)) <= MAX_EXPONENT,
        }
    result["environment"]["load_average_1min_end"] = os.getloadavg()[0]
    report(result)
    if args.json is not None:
        write_json(result, args.json)
        print(f"\nwrote {args.json}")
    return result


def report(result: dict[str, Any]) -> None:
    """Print one row per point and each series' exponent."""
    rows: list[list[object]] = []
    for name, part in result["series"].items():
        for k, point in enumerate(part["points"]):
            rows.append(
                [
                    name,
                    f"{point['size']:,}",
                    f"{point['citizens']:,}",
                    f"{point['cities']:,}",
                    point["steps"],
                    f"{point['cpu_seconds_min']:.3f}",
                    f"{part['exponent']:.2f}" if k == 0 else "",
                    f"{part['exponent_largest_pair']:.2f}" if k == 0 else "",
                    ("PASS" if part["meets_target"] else "FAIL") if k == 0 else "",
                ]
            )
    env = result["environment"]
    print_table(
        f"Cost per run vs size, calibration set-up over {result['years']} years, CPU s (min of "
        f"{result['repeats']}); load average {env['load_average_1min']:.1f} -> "
        f"{env['load_average_1min_end']:.1f}",
        [
            "series",
            "size",
            "citizens",
            "cities",
            "steps",
            "CPU s/run",
            "exponent (fit)",
            "largest pair",
            "<= 1",
        ],
        rows,
    )
    print(f"\nreproduce (from the repository root): {result['command']}")


if __name__ == "__main__":
    main()
