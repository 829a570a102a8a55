"""Speed of the vectorised citizen opinion rule against its per-agent Mesa reference.

Both sides run the SAME rule (one synchronous bounded-confidence round within cities,
Deffuant et al. 2000, then redraw noise) on the SAME ~100k citizens: the citizen blocks,
opinions and confidence bounds of the calibration scenario's population. The vectorised side is
``deffuant_round`` + ``redraw_noise`` from :mod:`abm.rules.citizens`; the reference is
:class:`abm.agents.citizen_reference.ReferenceOpinionModel` (one Mesa agent per citizen,
simultaneous activation). Reports seconds per round of each and their ratio (target >= 100),
prints a table and the command that reproduces it, and writes JSON to
``benchmarks/results/bench_citizens.json``. ``--quick`` is a smoke version.

    .venv/bin/python benchmarks/bench_citizens.py [--quick]
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

# one thread for every BLAS/OpenMP pool: must happen before numpy is imported
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from abm.agents.citizen_reference import ReferenceOpinionModel, city_blocks  # noqa: E402
from abm.population import build_population  # noqa: E402
from abm.rng import stream  # noqa: E402
from abm.rules.citizens import deffuant_round, redraw_noise  # noqa: E402
from benchmarks.bench_model import (  # noqa: E402
    CALIBRATION_TOML,
    RESULTS_DIR,
    command,
    environment,
    print_table,
    write_json,
)
from experiments.scenario import load_scenario  # noqa: E402

TARGET_RATIO = 100.0
SEED = 1
QUICK_CITIZEN_FACTOR = 10.0  # --quick: ten times fewer citizens


@dataclasses.dataclass(frozen=True, slots=True)
class Citizens:
    """The benchmark population: city sizes, opinions, bounds and the rule's parameters."""

    city_sizes: np.ndarray
    support: np.ndarray
    epsilon: np.ndarray
    mu: float
    noise_prob: float


def population(quick: bool) -> Citizens:
    """Citizens of the calibration scenario (its city-size mix), built as the model builds them."""
    config = load_scenario(CALIBRATION_TOML)
    pop_config = config.population
    if quick:
        pop_config = dataclasses.replace(
            pop_config,
            residents_per_citizen=pop_config.residents_per_citizen * QUICK_CITIZEN_FACTOR,
        )
    p = config.parameters
    pop = build_population(pop_config, p, config.start_year, stream(SEED, "population"))
    z = pop.citizens
    return Citizens(
        city_sizes=z.city_count.copy(),
        support=z.support.copy(),
        epsilon=z.epsilon.copy(),
        mu=p.convergence_rate,
        # one round of the yearly rule: the yearly redraw probability spread over its rounds
        noise_prob=p.opinion_noise_per_year / p.interactions_per_year,
    )


def time_vectorised(c: Citizens, rounds: int) -> dict[str, Any]:
    """Seconds per round of ``deffuant_round`` + ``redraw_noise`` (after 5 warm-up rounds)."""
    support = c.support.copy()
    first, count = city_blocks(c.city_sizes)
    rng = np.random.default_rng(SEED)

    def one_round() -> None:
        deffuant_round(support, c.epsilon, first, count, c.mu, 1.0, rng)
        redraw_noise(support, c.noise_prob, rng)

    for _ in range(5):
        one_round()
    t0 = time.perf_counter()
    for _ in range(rounds):
        one_round()
    seconds = time.perf_counter() - t0
    return {"rounds": rounds, "seconds_total": seconds, "seconds_per_round": seconds / rounds}


def time_mesa(c: Citizens, rounds: int) -> dict[str, Any]:
    """Seconds to build the Mesa reference and per round (one ``step()``: round + noise)."""
    t0 = time.perf_counter()
    model = ReferenceOpinionModel(c.city_sizes, c.support, c.epsilon, c.mu, c.noise_prob, SEED)
    t1 = time.perf_counter()
    for _ in range(rounds):
        model.step()
    t2 = time.perf_counter()
    return {
        "rounds": rounds,
        "build_seconds": t1 - t0,
        "seconds_total": t2 - t1,
        "seconds_per_round": (t2 - t1) / rounds,
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke version: 10x fewer citizens")
    parser.add_argument(
        "--vectorised-rounds", type=int, help="timed vectorised rounds (default 200; quick 10)"
    )
    parser.add_argument("--mesa-rounds", type=int, help="timed Mesa rounds (default 3; quick 1)")
    parser.add_argument(
        "--output", type=Path, default=RESULTS_DIR / "bench_citizens.json", help="JSON file"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Time both sides on the same citizens, print the table, write the JSON; return results."""
    args = parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)
    quick = bool(args.quick)
    vec_rounds = args.vectorised_rounds or (10 if quick else 200)
    mesa_rounds = args.mesa_rounds or (1 if quick else 3)

    c = population(quick)
    vec = time_vectorised(c, vec_rounds)
    ref = time_mesa(c, mesa_rounds)
    ratio = ref["seconds_per_round"] / vec["seconds_per_round"]
    result: dict[str, Any] = {
        "benchmark": "bench_citizens",
        "quick": quick,
        "command": command("bench_citizens.py", argv),
        "environment": environment(),
        "citizens": int(c.support.size),
        "cities": int(c.city_sizes.size),
        "city_size_min_median_max": [
            int(c.city_sizes.min()),
            int(np.median(c.city_sizes)),
            int(c.city_sizes.max()),
        ],
        "mu": c.mu,
        "noise_prob_per_round": c.noise_prob,
        "vectorised": vec,
        "mesa": ref,
        "speed_ratio": ratio,
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio >= TARGET_RATIO,
    }
    print_table(
        f"Citizen opinion round: {result['citizens']} citizens in {result['cities']} cities",
        ["implementation", "rounds timed", "s/round", "citizen-updates/s"],
        [
            [
                "vectorised (numpy)",
                vec_rounds,
                vec["seconds_per_round"],
                c.support.size / vec["seconds_per_round"],
            ],
            [
                "Mesa reference",
                mesa_rounds,
                ref["seconds_per_round"],
                c.support.size / ref["seconds_per_round"],
            ],
        ],
    )
    print(
        f"\nspeed ratio Mesa/vectorised: {ratio:.0f}x (target >= {TARGET_RATIO:g}x; "
        f"met: {ratio >= TARGET_RATIO}); Mesa build {ref['build_seconds']:.2f} s"
    )
    print(f"\nreproduce (from the repository root): {result['command']}")
    write_json(result, args.output)
    print(f"wrote {args.output}")
    return result


if __name__ == "__main__":
    main()
