"""Run the 2013-2024 hindcast and compare industrial emissions with EU ETS verified emissions.

Writes ``hindcast.csv``, ``summary.csv``, ``hindcast.png``, README and manifest to ``--out``
through ``experiments/results.py`` (``experiments/hindcast.py`` has the method and tolerance).
Usage: ``.venv/bin/python scripts/hindcast.py --out results/hindcast --seeds 1 2 3``
(``--figure docs/img/hindcast.png`` also writes the figure for the documentation; ``--set
NAME=VALUE``, repeatable, replaces a registry parameter for a sensitivity run).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from experiments import hindcast


def main() -> None:
    """Run the hindcast for the seeds and print the comparison."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("results/hindcast"))
    ap.add_argument("--seeds", type=int, nargs="+", default=list(hindcast.DEFAULT_SEEDS))
    ap.add_argument("--overwrite", action="store_true")
    ap.add_argument("--figure", type=Path, help="also write the figure here (e.g. docs/img)")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="replace a registry parameter (sensitivity run), e.g. start_output_headroom_cement=1",
    )
    args = ap.parse_args()
    overrides: dict[str, float] = {}
    for item in args.set:
        name, sep, value = item.partition("=")
        try:
            overrides[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            ap.error(f"--set {item!r}: expected NAME=NUMBER")
    table = hindcast.write_hindcast(
        args.out,
        args.seeds,
        overwrite=args.overwrite,
        argv=sys.argv[1:],
        doc_figure=args.figure,
        overrides=overrides,
    )
    values = ["model_index", "verified_index"]
    wide = table.pivot_table(index="year", columns="sector", values=values)
    print("emissions index (2013 = 1), model (mean of seeds) and EU ETS verified:")
    print(wide.round(3).to_string())
    print(f"tolerance: |model - verified| <= {hindcast.TOLERANCE_INDEX} in every year")
    print(hindcast.summary(table).round(3).to_string())
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
