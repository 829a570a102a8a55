"""Does a calibration reproduce another within Monte-Carlo noise?

    python scripts/compare_posteriors.py calibration/posterior results/calibration

Each argument is a posterior directory (``summary.csv``) or a calibration run directory
(``posterior_summary.csv``), both with ``fit_table.csv``. For every parameter it prints both
medians and 90% intervals and the shift of the median as a share of the first interval's width;
for every target whether it lies inside its 90% predictive interval in each. It exits 1 when a
median moves by more than ``--tolerance`` (default 0.25) of the interval width or a target's
verdict differs, else 0.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

DEFAULT_TOLERANCE = 0.25


def read_summary(folder: Path) -> pd.DataFrame:
    """The per-parameter posterior summary of a posterior or calibration run directory."""
    for name in ("summary.csv", "posterior_summary.csv"):
        if (folder / name).is_file():
            return pd.read_csv(folder / name).set_index("name")
    raise SystemExit(f"{folder}: no summary.csv or posterior_summary.csv")


def compare(a: Path, b: Path, tolerance: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(parameter table, target table) comparing the calibrations in ``a`` and ``b``."""
    sa, sb = read_summary(a), read_summary(b)
    if set(sa.index) != set(sb.index):
        raise SystemExit(f"different parameters: {sorted(set(sa.index) ^ set(sb.index))}")
    params = pd.DataFrame(
        {
            "median_a": sa["median"],
            "q05_a": sa["q05"],
            "q95_a": sa["q95"],
            "median_b": sb["median"].reindex(sa.index),
            "q05_b": sb["q05"].reindex(sa.index),
            "q95_b": sb["q95"].reindex(sa.index),
        }
    )
    width = (params["q95_a"] - params["q05_a"]).clip(lower=1e-12)
    params["shift_of_width"] = (params["median_a"] - params["median_b"]).abs() / width
    params["ok"] = params["shift_of_width"] <= tolerance
    fa = pd.read_csv(a / "fit_table.csv").set_index("item")
    fb = pd.read_csv(b / "fit_table.csv").set_index("item")
    tested = fa[fa["role"] != "not_modelled"].index
    targets = pd.DataFrame(
        {
            "role": fa.loc[tested, "role"],
            "within_a": fa.loc[tested, "within_interval"],
            "within_b": fb["within_interval"].reindex(tested),
            "distance_a": fa.loc[tested, "distance"],
            "distance_b": fb["distance"].reindex(tested),
        }
    )
    targets["ok"] = targets["within_a"] == targets["within_b"]
    return params, targets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE)
    args = parser.parse_args(argv)
    params, targets = compare(args.first, args.second, args.tolerance)
    with pd.option_context("display.width", 160, "display.max_rows", 200):
        print(params.round(3).to_string())
        print()
        print(targets.round(2).to_string())
    for role in ("fit", "held_out"):
        part = targets[targets["role"] == role]
        print(
            f"{role}: inside {int(part['within_a'].sum())} vs {int(part['within_b'].sum())} of "
            f"{len(part)}; summed deviance {part['distance_a'].sum():.1f} vs "
            f"{part['distance_b'].sum():.1f}"
        )
    ok = bool(params["ok"].all() and targets["ok"].all())
    print(
        "reproduced within Monte-Carlo noise"
        if ok
        else f"NOT reproduced (median shifts above {args.tolerance} of the interval width, or "
        "targets with another verdict: rows with ok=False)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
