"""``govsim export``: results in the EMA Workbench's format, and EMA results as govsim's.

Subcommands::

    govsim export SWEEP_DIR --format ema --out FILE.tar.gz
    govsim export ARCHIVE.tar.gz --format govsim --out DIR [--overwrite]

``--format ema`` turns a sweep's (or sensitivity study's) ``runs.parquet`` and manifest into
EMA's ``(experiments, outcomes)`` and writes them with ``ema_workbench.save_results``;
``--format govsim`` reads an archive with ``ema_workbench.load_results`` and writes a govsim
results directory of kind ``sweep`` (see :mod:`experiments.ema.convert`). Both write
atomically; bad input names the file and exits with code 2.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import Any

from experiments.errors import BadInput
from experiments.results import check_out_dir

FORMATS: tuple[str, ...] = ("ema", "govsim")


def cmd_export(args: argparse.Namespace) -> int:
    """Convert a govsim sweep to an EMA archive, or an EMA archive to a govsim sweep."""
    # imported here: ema_workbench takes seconds to import, and every govsim command loads
    # this module to register the subcommand
    from experiments.ema.convert import (
        ema_to_sweep,
        read_archive,
        sweep_to_ema,
        write_archive,
        write_sweep_dir,
    )

    source, out = Path(args.source), Path(args.out)
    command = "govsim " + shlex.join(getattr(args, "argv", ["export", str(source)]))
    if args.format == "ema":
        if not source.is_dir():
            raise BadInput(
                f"{source}: --format ema reads a sweep or sensitivity directory (with "
                "runs.parquet and manifest.json); for an EMA archive use --format govsim"
            )
        if out.exists() and not args.overwrite:
            raise BadInput(f"--out {out} exists; pass --overwrite to replace it")
        results = sweep_to_ema(source)
        write_archive(results, out)
        left = "".join(f"; {v} {k} left out" for k, v in results.left_out.items())
        print(
            f"wrote {out}: {len(results.experiments)} experiments x {len(results.outcomes)} "
            f"outcomes from {source}{left} (read with ema_workbench.load_results)"
        )
        return 0
    if source.is_dir():
        raise BadInput(
            f"{source} is a directory: --format govsim reads an EMA results archive "
            "(FILE.tar.gz from ema_workbench.save_results)"
        )
    check_out_dir(out, args.overwrite)
    table = ema_to_sweep(read_archive(source))
    manifest = write_sweep_dir(table, source, out, command=command, overwrite=args.overwrite)
    print(
        f"wrote {out} (sweep {manifest['run_id']}): {len(table.runs)} runs, "
        f"{table.points} design points x {table.replicates} replicate(s), "
        f"{len(table.factors)} factors, {len(table.outcomes)} outcomes"
    )
    for name, why in table.left_out.items():
        print(f"  left out: {name} ({why})")
    return 0


def register(subparsers: Any) -> None:
    """Add ``govsim export`` to the command line."""
    p = subparsers.add_parser(
        "export",
        help="a sweep as an EMA Workbench archive, or an EMA archive as a govsim sweep",
        description="--format ema: write SOURCE (a sweep or sensitivity directory) as an "
        "ema_workbench save_results archive; --format govsim: write SOURCE (an EMA archive) as "
        "a govsim sweep directory that govsim report and govsim discover read.",
    )
    p.add_argument("source", metavar="SOURCE", help="sweep directory or EMA archive (.tar.gz)")
    p.add_argument("--format", required=True, choices=FORMATS, help="what to write")
    p.add_argument("--out", required=True, metavar="PATH", help="archive file or directory")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.set_defaults(handler=cmd_export)
