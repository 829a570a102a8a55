"""``govsim discover``: the command line, what it prints and the ``discovery.md`` report.

The box search is the EMA Workbench's (:mod:`experiments.discovery.prim`): PRIM by default,
CART with ``--method cart``, and extra-trees feature scores with ``--feature-scoring``.
"""

from __future__ import annotations

import argparse
import math
import shlex
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
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
    cart_boxes,
    feature_scores,
    prim,
)
from experiments.errors import BadInput
from experiments.results import atomic_dir

EXIT_OK = 0
METHODS: tuple[str, ...] = ("prim", "cart")


def cmd_discover(args: argparse.Namespace) -> int:
    """Find the PRIM (or CART) box where a goal is met and describe it in plain words."""
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

    max_p = None if args.max_p >= 1 else args.max_p
    method = getattr(args, "method", "prim")
    if method == "cart":
        leaves = cart_boxes(runs[varying], y, min_mass=args.min_mass)
        trajectory = _leaf_table(leaves)
        if args.box is not None and not -len(leaves) <= args.box < len(leaves):
            raise BadInput(f"--box {args.box}: the tree has leaves 0 to {len(leaves) - 1}")
        box = leaves[args.box] if args.box is not None else leaves[_best_leaf(trajectory)]
        settings = f"CART (EMA Workbench) with minimum leaf mass {args.min_mass:g}"
    else:
        result = prim(
            runs[varying],
            y,
            peel_alpha=args.peel_alpha,
            paste_alpha=args.paste_alpha,
            min_mass=args.min_mass,
        )
        trajectory = result.trajectory
        if args.box is not None:
            try:
                box = result.select(args.box, max_p=max_p)
            except IndexError as exc:
                raise BadInput(f"--box {args.box}: {exc}") from exc
        else:
            try:
                box = result.best(
                    args.min_coverage, args.min_density, paste=not args.no_paste, max_p=max_p
                )
            except ValueError as exc:
                raise BadInput(f"--min-density {args.min_density}: {exc}") from exc
        settings = (
            f"PRIM (Friedman and Fisher 1999) as implemented in the EMA Workbench (Kwakkel "
            f"2017) with peeling alpha {args.peel_alpha:g}, pasting alpha "
            f"{args.paste_alpha:g} and minimum mass {args.min_mass:g}"
        )
    scores = feature_scores(runs[varying], y) if getattr(args, "feature_scoring", False) else None

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
    print(_trajectory_text(trajectory, box.step, method))
    print()
    print(textwrap.fill(sentence, width=100))
    print(_box_text(box))
    if scores is not None:
        print(_scores_text(scores))
    files = [f"{method}_box.csv", f"{method}_box.png"]
    files += (
        ["cart_leaves.csv"] if method == "cart" else ["prim_trajectory.csv", "prim_trajectory.png"]
    )
    files += ["feature_scores.csv"] if scores is not None else []
    with atomic_dir(out, args.overwrite) as tmp:
        footer = f"{command}"[:150]
        box.table().to_csv(tmp / f"{method}_box.csv", index=False)
        plot_box(box, tmp / f"{method}_box.png", ranges, footer)
        if method == "cart":
            trajectory.to_csv(tmp / "cart_leaves.csv", index=False)
        else:
            trajectory.to_csv(tmp / "prim_trajectory.csv", index=False)
            plot_trajectory(trajectory, box, tmp / "prim_trajectory.png", footer)
        if scores is not None:
            scores.to_csv(tmp / "feature_scores.csv", index=False)
        report = _report(
            sentence=sentence,
            goal=goal,
            goal_words=goal_words,
            box=box,
            trajectory=trajectory,
            method=method,
            settings=settings,
            scores=scores,
            path=path,
            n_failed=n_failed,
            constant=constant,
            command=command,
            max_p=max_p,
            kinds=kinds,
        )
        (tmp / "discovery.md").write_text(report, encoding="utf-8")
    print(f"wrote {out} (discovery.md, {', '.join(files)})")
    return EXIT_OK


def _leaf_table(leaves: Sequence[PrimBox]) -> pd.DataFrame:
    """One row per CART leaf: coverage, density, mass, size and restricted inputs."""
    return pd.DataFrame(
        {
            "step": range(len(leaves)),
            "coverage": [leaf.coverage for leaf in leaves],
            "density": [leaf.density for leaf in leaves],
            "mass": [leaf.mass for leaf in leaves],
            "n_in_box": [leaf.n_in_box for leaf in leaves],
            "n_restricted": [len(leaf.restricted) for leaf in leaves],
            "restricted": [",".join(leaf.restricted) for leaf in leaves],
        }
    )


def _best_leaf(leaves: pd.DataFrame) -> int:
    """The leaf with the highest F-score (harmonic mean of coverage and density)."""
    c, d = leaves["coverage"].to_numpy(dtype=float), leaves["density"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.nan_to_num(2.0 * c * d / (c + d))
    return int(np.argmax(score))


def _limit_texts(row: Mapping[str, Any]) -> tuple[str, str]:
    """A box limit's low and high as text; for a text input, its categories in the box."""
    if row["kind"] == "category":
        return str(row["categories"]).replace("|", ", "), ""
    return f"{row['low']:.4g}", f"{row['high']:.4g}"


def _scores_text(scores: pd.DataFrame) -> str:
    lines = ["extra-trees feature scores (all in feature_scores.csv):"]
    lines += [f"  {r['input']:<44} {r['score']:.3f}" for r in scores.head(10).to_dict("records")]
    return "\n".join(lines)


def _trajectory_text(
    trajectory: pd.DataFrame, chosen: int, method: str = "prim", max_rows: int = 16
) -> str:
    """The trajectory (or CART's leaves) as a short table: every k-th box, the last, the chosen."""
    n = len(trajectory)
    every = max(1, math.ceil(n / max_rows))
    keep = sorted({*range(0, n, every), n - 1, chosen})
    title = (
        f"CART tree: {n} leaves (all in cart_leaves.csv)"
        if method == "cart"
        else f"PRIM trajectory (peeling, then pasting): {n} boxes (all in prim_trajectory.csv)"
    )
    lines = [
        title,
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
        low, high = _limit_texts(row)
        lines.append(f"{name:<44} {low:>10} {high:>10} {row['p_value']:>8.2g}")
    return "\n".join(lines)


def _report(
    *,
    sentence: str,
    goal: Goal,
    goal_words: str,
    box: PrimBox,
    trajectory: pd.DataFrame,
    method: str,
    settings: str,
    scores: pd.DataFrame | None,
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
        refine.append("pasted (limits widened while the density rose)")
    if max_p is not None:
        dropped = ", ".join(f"`{d}`" for d in box.dropped) or "none"
        refine.append(f"limits with quasi-p > {max_p:g} dropped: {dropped}")
    rows = []
    for name in box.restricted:
        row = box.limit(name)
        label, unit = factor_label(name, kinds.get(name, ""))
        low, high = _limit_texts(row)
        span = (
            "categories"
            if row["kind"] == "category"
            else f"[{row['data_low']:.4g}, {row['data_high']:.4g}]"
        )
        rows.append(
            f"| `{name}` | {label} | {low} | {high} | {span} | {unit} | {row['p_value']:.2g} |"
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
        (
            f"- Box: leaf {box.step} of the {len(trajectory)} leaves of the CART tree."
            if method == "cart"
            else f"- Box: number {box.step} of the {len(trajectory)} boxes of the PRIM "
            f"trajectory; {'; '.join(refine) or 'as peeled'}."
        ),
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
        f"restriction matters (none for CART leaves). {settings}.",
        "",
        *_scores_section(scores),
        "## Reproduce",
        "",
        f"    {command}",
        "",
        "## Files",
        "",
        *(
            ["- `cart_leaves.csv`: coverage, density, mass and restricted inputs of every leaf."]
            if method == "cart"
            else [
                "- `prim_trajectory.csv`: coverage, density, mass and restricted inputs of "
                "every box.",
                "- `prim_trajectory.png`: coverage against density along the trajectory.",
            ]
        ),
        f"- `{method}_box.csv`: the chosen box, one row per input (low, high, restricted, "
        "p_value, categories).",
        f"- `{method}_box.png`: the chosen box's limits as shares of each input's range.",
        *(["- `feature_scores.csv`: extra-trees feature scores."] if scores is not None else []),
    ]
    return "\n".join(lines) + "\n"


def _scores_section(scores: pd.DataFrame | None) -> list[str]:
    """The feature-scores table of ``discovery.md`` (empty without ``--feature-scoring``)."""
    if scores is None:
        return []
    rows = [f"| `{r['input']}` | {r['score']:.3f} |" for r in scores.to_dict("records")]
    return [
        "## Feature scores",
        "",
        "Extra-trees feature scores (EMA Workbench `feature_scoring`; Jaxa-Rozen and Kwakkel "
        "2018): how much each input helps to tell runs that meet the goal from the others.",
        "",
        "| input | score |",
        "|---|---|",
        *rows,
        "",
    ]


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
        help="scenario discovery (EMA Workbench PRIM or CART): where an outcome meets a goal",
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
    p.add_argument(
        "--no-paste",
        action="store_true",
        help="choose among the peeled boxes only, not those EMA's pasting added",
    )
    p.add_argument(
        "--method",
        choices=METHODS,
        default="prim",
        help="prim (default) or cart (EMA Workbench's CART tree; its best leaf is described)",
    )
    p.add_argument(
        "--feature-scoring",
        action="store_true",
        help="also write extra-trees feature scores of the inputs (feature_scores.csv)",
    )
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
