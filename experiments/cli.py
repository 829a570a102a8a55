"""The ``govsim`` command line: parse arguments, dispatch to a subcommand, map errors to exit codes.

Subcommands defined here (their work is in :mod:`experiments.commands` and
:mod:`experiments.compare`)::

    govsim run SCENARIO.toml --seed N --out DIR [--overwrite]
    govsim compare BASE.toml OTHER.toml ... --replicates R [--seed S] [--jobs N] [--out DIR]
    govsim demo [--replicates R] [--seed S] [--jobs N] [--out-root results]
    govsim levers
    govsim params [--csv]

and those each module of :data:`EXTRA_COMMAND_MODULES` registers (case, sweep, sensitivity,
discover, survey, calibrate, report, serve).

Bad input (a scenario file that does not validate, a missing or malformed data file, an output
directory that already exists) ends with a message on stderr that names the file and exit code
2, never a traceback, and leaves no output directory behind: results are written to a
temporary directory that is renamed into place only when complete.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from importlib import metadata

from experiments.argtypes import int_at_least, jobs
from experiments.commands import cmd_levers, cmd_params, cmd_run
from experiments.compare import cmd_compare, cmd_demo
from experiments.errors import EXIT_BAD_INPUT, BadInput
from experiments.posterior_option import posterior_option
from experiments.results import code_version
from experiments.runner import DataFileError
from experiments.scenario import ScenarioError

DEFAULT_DEMO_REPLICATES = 8
DEFAULT_MASTER_SEED = 0
# modules adding further subcommands; each has ``register(subparsers)`` setting a ``handler``
EXTRA_COMMAND_MODULES: tuple[str, ...] = (
    "experiments.cases",
    "experiments.sweep",
    "experiments.sensitivity",
    "experiments.robustness",
    "experiments.discovery",
    "experiments.export",
    "experiments.calibrate",
    "experiments.report",
    "experiments.serve",
)


# --- argument parsing ----------------------------------------------------------------------


def _version() -> str:
    """The installed govsim version."""
    try:
        return metadata.version("govsim")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one subparser per subcommand."""
    parser = argparse.ArgumentParser(
        prog="govsim",
        description="Agent-based model of EU multilevel climate governance.",
    )
    parser.add_argument(
        "--version", action="version", version=f"govsim {_version()} (code {code_version()})"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="simulate one scenario with one seed and write the tables")
    run.add_argument("scenario", metavar="SCENARIO.toml", help="scenario file")
    run.add_argument("--seed", type=int_at_least(0), required=True, help="run seed (>= 0)")
    run.add_argument("--out", required=True, metavar="DIR", help="output directory")
    run.add_argument("--overwrite", action="store_true", help="replace an existing DIR")
    posterior_option(run)
    run.set_defaults(handler=cmd_run)

    def experiment_options(p: argparse.ArgumentParser, replicates: int | None) -> None:
        p.add_argument(
            "--replicates",
            type=int_at_least(2),
            required=replicates is None,
            default=replicates,
            metavar="R",
            help="seeds per scenario (>= 2; the same seeds for every scenario)"
            + (f"; default {replicates}" if replicates else ""),
        )
        p.add_argument(
            "--seed",
            type=int_at_least(0),
            default=DEFAULT_MASTER_SEED,
            metavar="S",
            help=f"master seed the replicate seeds derive from (default {DEFAULT_MASTER_SEED})",
        )
        p.add_argument(
            "--jobs",
            type=jobs,
            default=-1,
            metavar="N",
            help="worker processes (-1 = all cores; results do not depend on it)",
        )
        p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
        posterior_option(p)

    compare = sub.add_parser(
        "compare", help="run scenarios with common seeds; paired differences from the first"
    )
    compare.add_argument(
        "scenarios", nargs="+", metavar="SCENARIO.toml", help="first file is the reference"
    )
    experiment_options(compare, None)
    compare.add_argument("--out", metavar="DIR", help="write tables, figures and manifest here")
    compare.add_argument("--overwrite", action="store_true", help="replace an existing DIR")
    compare.set_defaults(handler=cmd_compare)

    demo = sub.add_parser(
        "demo", help="baseline vs each policy lever vs the full package, with figures"
    )
    experiment_options(demo, DEFAULT_DEMO_REPLICATES)
    demo.add_argument(
        "--out-root",
        default="results",
        metavar="DIR",
        help="results go to DIR/<run-id>/ (default: results)",
    )
    demo.add_argument(
        "--scenario-dir",
        metavar="DIR",
        help="folder with baseline.toml, levers/<lever>.toml and full_package.toml "
        "(default: the scenarios shipped with govsim)",
    )
    demo.set_defaults(handler=cmd_demo)

    levers = sub.add_parser("levers", help="list the policy levers and what they change")
    levers.set_defaults(handler=cmd_levers)

    params = sub.add_parser("params", help="print the parameter registry")
    params.add_argument("--csv", action="store_true", help="as CSV on stdout")
    params.set_defaults(handler=cmd_params)
    for name in EXTRA_COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``govsim`` console script; returns the exit code."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    try:
        args = parser.parse_args(arguments)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    args.argv = arguments
    command = f"govsim {args.command}"
    try:
        return int(args.handler(args))
    except BrokenPipeError:  # e.g. `govsim params | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except ScenarioError as exc:
        print(f"{command}: error: invalid scenario file:\n{exc}", file=sys.stderr)
    except DataFileError as exc:
        print(f"{command}: error: bad data file: {exc}", file=sys.stderr)
    except (BadInput, FileExistsError, PermissionError) as exc:
        print(f"{command}: error: {exc}", file=sys.stderr)
    return EXIT_BAD_INPUT


if __name__ == "__main__":
    raise SystemExit(main())
