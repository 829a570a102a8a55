"""``govsim run``, ``govsim levers`` and ``govsim params``: one run, and the model's inputs."""

from __future__ import annotations

import argparse
import shlex
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd

from abm.config import registry
from abm.model import simulate
from abm.outcomes import selection
from abm.policies import LEVERS
from experiments import figures
from experiments.errors import EXIT_OK
from experiments.posterior_option import load_posterior_arg
from experiments.results import check_out_dir, write_run
from experiments.runner import check_data_files, with_parameters
from experiments.scenario import load_scenario
from experiments.text import fmt, plain_table

# outcomes of the table govsim run prints (abm/outcomes.py)
RUN_OUTCOMES: tuple[str, ...] = selection("run")


def cmd_run(args: argparse.Namespace) -> int:
    """Simulate one scenario with one seed and write the run directory."""
    config = load_scenario(args.scenario)
    out_dir = Path(args.out)
    check_out_dir(out_dir, args.overwrite)
    check_data_files([config])
    if args.posterior is not None:
        post = load_posterior_arg(args)
        config = with_parameters(config, post.sample(1, args.seed)[0])
        print(f"calibrated parameters: one draw from {post.directory} (calibration {post.run_id})")
    started = time.perf_counter()
    result = simulate(config, args.seed)
    written = write_run(
        result,
        out_dir,
        overwrite=args.overwrite,
        command="govsim " + shlex.join(args.argv),
        posterior=getattr(args, "posterior_info", None),
    )
    seconds = time.perf_counter() - started
    print(
        f"wrote {out_dir} (run {written.run_id}: scenario '{config.name}', seed {args.seed}, "
        f"{seconds:.1f} s)"
    )
    if config.verification:
        print(f"scenario '{config.name}': verification scenario, not a plausible world")
    headline = result.headline()
    rows = []
    for name in RUN_OUTCOMES:
        if name in headline:
            info = figures.describe_outcome(name)
            rows.append([info.label, fmt(headline[name] * info.scale), info.unit])
    print(plain_table(["outcome", "value", "unit"], rows, align="lrl"))
    return EXIT_OK


def cmd_levers(args: argparse.Namespace) -> int:
    """Print the policy levers: what each stands for in the brief and what it changes."""
    for info in LEVERS:
        print(info.name)
        for label, text in (("brief", info.brief), ("changes", info.changes)):
            print(
                textwrap.fill(
                    text,
                    width=100,
                    initial_indent=f"  {label + ':':<9}",
                    subsequent_indent=" " * 11,
                )
            )
    return EXIT_OK


def cmd_params(args: argparse.Namespace) -> int:
    """Print the parameter registry (name, value, unit, range, source, meaning)."""
    table = pd.DataFrame(
        registry(), columns=["name", "value", "unit", "low", "high", "source", "doc"]
    )
    if args.csv:
        table.to_csv(sys.stdout, index=False, lineterminator="\n")
        return EXIT_OK
    rows = [
        [
            str(r["name"]),
            f"{r['value']:g}",
            str(r["unit"]),
            f"[{r['low']:g}, {r['high']:g}]",
            str(r["source"]),
            str(r["doc"]),
        ]
        for r in table.to_dict("records")
    ]
    print(
        plain_table(["name", "value", "unit", "range", "source", "meaning"], rows, align="lrllll")
    )
    return EXIT_OK
