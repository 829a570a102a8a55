"""``govsim discover``: the command line, what it prints and the ``discovery.md`` report."""

from __future__ import annotations

import argparse
import math
import shlex
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.discovery.describe import describe, factor_label, goal_text, percent
from experiments.discovery.figures import plot_box, plot_trajectory
from experiments.discovery.inputs import (
    Goal,
    choose_inputs,
    goal_from_args,
    load_runs,
    manifest_factors,
    manifest_outcomes,
    read_sweep_manifest,
)
from experiments.discovery.prim import (
    MAX_P,
    MIN_COVERAGE,
    MIN_MASS,
    PASTE_ALPHA,
    PEEL_ALPHA,
    PrimBox,
    PrimResult,
    prim,
)
from experiments.errors import BadInput
from experiments.results import atomic_dir

EXIT_OK = 0


def cmd_discover(args: argparse.Namespace) -> int:
    """Find the PRIM box where a goal is met and describe it in plain words."""

    path = Path(args.runs)
    if path.is_dir():  # a sweep's output directory
        path = path / "runs.parquet"
    goal = goal_from_args(args)
    runs, n_failed = load_runs(path)
    manifest_path = path.with_name("manifest.json")
    manifest = read_sweep_manifest(manifest_path)
    if goal.outcome not in runs.columns:
        known = manifest_outcomes(manifest) or [
            str(c) for c in runs.select_dtypes("number").columns
        ]
        raise BadInput(f"{path}: no outcome column {goal.outcome!r}; outcomes: {', '.join(known)}")
    if not pd.api.types.is_numeric_dtype(runs[goal.outcome]):
        raise BadInput(f"{path}: outcome column {goal.outcome!r} is not numeric")
    inputs = choose_inputs(runs, path, manifest_path, args.inputs, goal.outcome)
    missing_outcome = runs[goal.outcome].isna()
    if missing_outcome.all():
        raise BadInput(f"{path}: outcome column {goal.outcome!r} has no values")
    runs = runs[~missing_outcome].reset_index(drop=True)
    missing = [name for name in inputs if runs[name].isna().any()]
    if missing:
        raise BadInput(f"{path}: input column(s) {', '.join(missing)} have missing values")
    y = goal.test(runs[goal.outcome])
    values = runs[goal.outcome]
    span = f"{goal.outcome} ranges from {values.min():.4g} to {values.max():.4g}"
    if not y.any():
        raise BadInput(f"no run in {path} meets the goal {goal} ({span}); nothing to discover")
    if y.all():
        raise BadInput(f"every run in {path} meets the goal {goal} ({span}); nothing to discover")
    constant = [name for name in inputs if runs[name].nunique() < 2]
    varying = [name for name in inputs if name not in constant]
    if not varying:
        raise BadInput(f"{path}: every input is constant ({', '.join(inputs)})")

    result = prim(
        runs[varying],
        y,
        peel_alpha=args.peel_alpha,
        paste_alpha=args.paste_alpha,
        min_mass=args.min_mass,
    )
    max_p = None if args.max_p >= 1 else args.max_p
    if args.box is not None:
        try:
            box = result.select(args.box, paste=not args.no_paste, max_p=max_p)
        except IndexError as exc:
            raise BadInput(f"--box {args.box}: {exc}") from exc
    else:
        try:
            box = result.best(
                args.min_coverage, args.min_density, paste=not args.no_paste, max_p=max_p
            )
        except ValueError as exc:
            raise BadInput(f"--min-density {args.min_density}: {exc}") from exc

    factors = manifest_factors(manifest)
    kinds = {str(f["name"]): str(f.get("kind", "")) for f in factors}
    ranges = {
        str(f["name"]): (float(f["low"]), float(f["high"]))
        for f in factors
        if isinstance(f.get("low"), int | float) and isinstance(f.get("high"), int | float)
    }
    goal_words = goal_text(goal.outcome, goal.op, goal.value)
    sentence = describe(box, goal.outcome, goal_words, kinds)
    command = "govsim " + shlex.join(getattr(args, "argv", ["discover", str(path)]))
    out = Path(args.out) if args.out else path.parent / f"discovery_{goal.outcome}"

    print(
        f"{len(runs)} runs from {path} ({n_failed} failed left out), {int(y.sum())} meet "
        f"{goal} ({y.mean():.0%}); {len(varying)} inputs"
        + (f" ({len(constant)} constant ones left out: {', '.join(constant)})" if constant else "")
    )
    print(_trajectory_text(result.trajectory, box.step))
    print()
    print(textwrap.fill(sentence, width=100))
    print(_box_text(box))
    with atomic_dir(out, args.overwrite) as tmp:
        result.trajectory.to_csv(tmp / "prim_trajectory.csv", index=False)
        box.table().to_csv(tmp / "prim_box.csv", index=False)
        footer = f"{command}"[:150]
        plot_trajectory(result, box, tmp / "prim_trajectory.png", footer)
        plot_box(box, tmp / "prim_box.png", ranges, footer)
        report = _report(
            sentence=sentence,
            goal=goal,
            goal_words=goal_words,
            box=box,
            result=result,
            path=path,
            n_failed=n_failed,
            constant=constant,
            command=command,
            max_p=max_p,
            kinds=kinds,
        )
        (tmp / "discovery.md").write_text(report, encoding="utf-8")
    print(
        f"wrote {out} (discovery.md, prim_box.csv, prim_trajectory.csv, prim_box.png, "
        "prim_trajectory.png)"
    )
    return EXIT_OK


def _trajectory_text(trajectory: pd.DataFrame, chosen: int, max_rows: int = 16) -> str:
    """The peeling trajectory as a short table: every k-th box, the last and the chosen one."""
    n = len(trajectory)
    every = max(1, math.ceil(n / max_rows))
    keep = sorted({*range(0, n, every), n - 1, chosen})
    lines = [
        f"peeling trajectory: {n} boxes (all in prim_trajectory.csv)",
        f"{'box':>5}  {'coverage':>8}  {'density':>7}  {'mass':>5}  restricted",
    ]
    for i in keep:
        row = trajectory.loc[i]
        mark = " <- chosen" if i == chosen else ""
        lines.append(
            f"{i:>5}  {row['coverage']:>8.0%}  {row['density']:>7.0%}  {row['mass']:>5.0%}  "
            f"{row['n_restricted']}{mark}"
        )
    return "\n".join(lines)


def _box_text(box: PrimBox) -> str:
    if not box.restricted:
        return "the box restricts no input"
    lines = [f"{'input':<44} {'low':>10} {'high':>10} {'quasi-p':>8}"]
    for name in box.restricted:
        row = box.limit(name)
        lines.append(f"{name:<44} {row['low']:>10.4g} {row['high']:>10.4g} {row['p_value']:>8.2g}")
    return "\n".join(lines)


def _report(
    *,
    sentence: str,
    goal: Goal,
    goal_words: str,
    box: PrimBox,
    result: PrimResult,
    path: Path,
    n_failed: int,
    constant: Sequence[str],
    command: str,
    max_p: float | None,
    kinds: Mapping[str, str],
) -> str:
    """The text of ``discovery.md``."""
    refine = []
    if box.pasted:
        refine.append("pasted (limits widened while the density did not fall)")
    if max_p is not None:
        dropped = ", ".join(f"`{d}`" for d in box.dropped) or "none"
        refine.append(f"limits with quasi-p > {max_p:g} dropped: {dropped}")
    rows = []
    for name in box.restricted:
        row = box.limit(name)
        label, unit = factor_label(name, kinds.get(name.split("=", 1)[0], ""))
        rows.append(
            f"| `{name}` | {label} | {row['low']:.4g} | {row['high']:.4g} | "
            f"[{row['data_low']:.4g}, {row['data_high']:.4g}] | {unit} | {row['p_value']:.2g} |"
        )
    share = box.n_successes / box.n_runs
    lines = [
        f"# Scenario discovery: {goal_words}",
        "",
        sentence,
        "",
        f"- Goal: `{goal}` ({goal_words}).",
        f"- Runs: {box.n_runs} successful runs of `{path}` ({n_failed} failed runs left out); "
        f"{box.n_successes} ({share:.0%}) meet the goal."
        + (f" Constant inputs left out: {', '.join(constant)}." if constant else ""),
        f"- Box: number {box.step} of the {len(result.trajectory)} boxes of the peeling "
        f"trajectory; {'; '.join(refine) or 'as peeled'}.",
        f"- Coverage {percent(box.coverage)}: {box.n_successes_in_box} of the "
        f"{box.n_successes} runs that meet the goal lie in the box.",
        f"- Density {percent(box.density)}: {box.n_successes_in_box} of the {box.n_in_box} "
        "runs in the box meet the goal.",
        f"- Mass {percent(box.mass)}: {box.n_in_box} of the {box.n_runs} runs lie in the box.",
        "",
        "## Restricted inputs (limits are inclusive)",
        "",
        "| input | meaning | low | high | range in the runs | unit | quasi-p |",
        "|---|---|---|---|---|---|---|",
        *(rows or ["| (none) | | | | | | |"]),
        "",
        "The quasi-p-value is a one-sided binomial test of the box's density against the "
        "density of the same box without that input's limits: small values mean the "
        "restriction matters. PRIM (Friedman and Fisher 1999) with peeling alpha "
        f"{result.peel_alpha:g}, pasting alpha {result.paste_alpha:g} and minimum mass "
        f"{result.min_mass:g}.",
        "",
        "## Reproduce",
        "",
        f"    {command}",
        "",
        "## Files",
        "",
        "- `prim_trajectory.csv`: coverage, density, mass and restricted inputs of every box.",
        "- `prim_box.csv`: the chosen box, one row per input (low, high, restricted, p_value).",
        "- `prim_trajectory.png`: coverage against density along the trajectory.",
        "- `prim_box.png`: the chosen box's limits as shares of each input's range.",
    ]
    return "\n".join(lines) + "\n"


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {value}")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def register(subparsers: Any) -> None:
    """Add ``govsim discover`` to the command line's subparsers."""
    p = subparsers.add_parser(
        "discover",
        help="scenario discovery: PRIM box where an outcome meets a goal, in plain words",
        description="Find the conditions (a PRIM box over the sweep's inputs) under which an "
        "outcome meets a goal; print and write the box in plain words, with coverage and density.",
    )
    p.add_argument(
        "runs", metavar="RUNS.parquet", help="runs.parquet of a sweep (or the sweep's directory)"
    )
    p.add_argument("--outcome", metavar="COL", help="outcome column (with --above/--below)")
    goal = p.add_mutually_exclusive_group(required=True)
    goal.add_argument("--above", type=_number, metavar="V", dest="above", help="goal: outcome > V")
    goal.add_argument("--below", type=_number, metavar="V", dest="below", help="goal: outcome < V")
    goal.add_argument("--goal", metavar="'COL >= V'", help="goal with >=, >, <= or <")
    p.add_argument(
        "--inputs",
        metavar="a,b,c",
        help="input columns (default: the factors of manifest.json next to RUNS.parquet)",
    )
    p.add_argument(
        "--box",
        type=int,
        metavar="N",
        help="use box N of the peeling trajectory (default: chosen by --min-coverage)",
    )
    p.add_argument(
        "--min-coverage",
        type=_probability,
        default=MIN_COVERAGE,
        metavar="C",
        help="among boxes with coverage >= C, take the best balance of coverage and density "
        f"(F-score; default C = {MIN_COVERAGE})",
    )
    p.add_argument(
        "--min-density",
        type=_probability,
        metavar="D",
        help="instead: the box of highest coverage with density >= D",
    )
    p.add_argument(
        "--max-p",
        type=_probability,
        default=MAX_P,
        metavar="P",
        help=f"drop restrictions with quasi-p-value > P (default {MAX_P}; 1 keeps all)",
    )
    p.add_argument("--no-paste", action="store_true", help="do not paste the chosen box")
    p.add_argument(
        "--peel-alpha",
        type=_probability,
        default=PEEL_ALPHA,
        metavar="A",
        help=f"share of the box's runs cut off per peel (default {PEEL_ALPHA})",
    )
    p.add_argument(
        "--paste-alpha",
        type=_probability,
        default=PASTE_ALPHA,
        metavar="A",
        help=f"share of the box's runs added per paste (default {PASTE_ALPHA})",
    )
    p.add_argument(
        "--min-mass",
        type=_probability,
        default=MIN_MASS,
        metavar="M",
        help=f"stop peeling before the box holds fewer than M of the runs (default {MIN_MASS})",
    )
    p.add_argument(
        "--out", metavar="DIR", help="output directory (default: discovery_<outcome> next to RUNS)"
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing DIR")
    p.set_defaults(handler=_run_discover)


def _run_discover(args: argparse.Namespace) -> int:
    args.threshold = args.above if args.above is not None else args.below
    if args.peel_alpha >= 0.5 or args.paste_alpha >= 0.5 or args.min_mass >= 1:
        raise BadInput("--peel-alpha and --paste-alpha must be below 0.5, --min-mass below 1")
    return cmd_discover(args)
