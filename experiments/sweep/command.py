"""``govsim sweep``: run an experiment's sweep and print counts and replicate adequacy."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import shlex
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.argtypes import int_at_least, jobs
from experiments.experiment import (
    DESIGNS,
    Experiment,
    design_points,
    load_experiment,
)
from experiments.store import STORE_FILE
from experiments.sweep.adequacy import ADEQUACY_TARGET, CONFIDENCE, replicates_needed
from experiments.sweep.backends import SCHEDULER_ENV, check_scheduler
from experiments.sweep.files import ADEQUACY_CSV, MANIFEST_FILE, RUNS_FILE
from experiments.sweep.run import run_sweep


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
    from experiments.posterior_option import posterior_option

    posterior_option(p)
    p.set_defaults(handler=cmd_sweep)


def with_posterior(exp: Experiment, args: argparse.Namespace) -> Experiment:
    """``--posterior``: one calibrated parameter draw per replicate seed (design factors win)."""
    if getattr(args, "posterior", None) is None:
        return exp
    from experiments.posterior_option import load_posterior_arg

    post = load_posterior_arg(args)
    draws = post.sample(exp.replicates, exp.seed)
    print(
        f"sampling the calibrated parameters from {post.directory} (calibration "
        f"{post.run_id}): one posterior draw per replicate seed, the same at every point"
    )
    return dataclasses.replace(exp, parameter_sets=tuple(draws))


def _fmt(value: float) -> str:
    return "nan" if not math.isfinite(value) else f"{value:.4g}"


def cmd_sweep(args: argparse.Namespace) -> int:
    """``govsim sweep``: run the sweep, print counts and the replicate-adequacy summary."""
    exp = with_posterior(load_experiment(args.experiment), args)
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
