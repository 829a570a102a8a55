"""``govsim robustness STUDY.toml --out DIR``: robust lever rankings over sampled scenarios."""

from __future__ import annotations

import argparse
import json
import shlex
import time
from pathlib import Path
from typing import Any

from experiments.argtypes import int_at_least, jobs
from experiments.errors import BadInput
from experiments.figures import describe_outcome
from experiments.results import (
    MANIFEST,
    fingerprint,
    new_manifest,
    run_id_for,
    staged_files,
    write_manifest,
    write_text,
)
from experiments.robustness.analysis import (
    effect_summary,
    effects,
    failure_boxes,
    plain_words,
    rankings,
)
from experiments.robustness.definition import RobustnessStudy, load_study
from experiments.robustness.figures import plot_ranking
from experiments.robustness.run import STORE, run_study

STUDY_FILE = "study.json"
FILES = (
    "scenarios.csv",
    "runs.csv",
    "effects.csv",
    "effect_summary.csv",
    "ranking.csv",
    "prim_boxes.csv",
    "summary.md",
    "ranking_raw.png",
    "ranking_per_eur_bn.png",
)


def register(subparsers: Any) -> None:
    """Add ``govsim robustness`` to the ``govsim`` command line."""
    p = subparsers.add_parser(
        "robustness",
        help="robust lever rankings over posterior draws x deep uncertainties x seeds",
        description=(
            "Sample scenarios (posterior draws, deep uncertainties, seeds), run the baseline, "
            "each lever and each package in every scenario, and write effects (raw and per "
            "EUR 1 bn) per city group, the probability of ranking first / in the top three, "
            "regret, and PRIM boxes of where a lever drops out or a package fails its goal. "
            "Rerunning with the same --out resumes an interrupted study."
        ),
    )
    p.add_argument("study", metavar="STUDY.toml", help="robustness study file")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")
    p.add_argument(
        "--scenarios", type=int_at_least(4), metavar="N", help="override the study's size"
    )
    p.add_argument("--jobs", type=jobs, default=1, metavar="N", help="worker processes")
    p.add_argument(
        "--stored-only",
        action="store_true",
        help="run nothing: analyse the scenarios of an interrupted study whose runs are all "
        "stored in --out (the summary says how many of the sampled scenarios that is)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=cmd_robustness)


def _check_dir(out: Path, record: dict[str, Any]) -> None:
    """A new or empty DIR, or one holding the same study (resume)."""
    if out.exists() and not out.is_dir():
        raise BadInput(f"output path {out} exists and is not a directory")
    if not out.is_dir() or not any(out.iterdir()):
        return
    saved = out / STUDY_FILE
    if not saved.is_file():
        raise BadInput(f"output directory {out} is not empty and holds no {STUDY_FILE}")
    if json.loads(saved.read_text(encoding="utf-8")) != json.loads(json.dumps(record)):
        raise BadInput(f"output directory {out} holds a different study; choose a new --out")


def cmd_robustness(args: argparse.Namespace) -> int:
    """Run (or resume) a robustness study and write its tables, words and manifest."""
    study = load_study(args.study, args.scenarios)
    out = Path(args.out)
    record = json.loads(json.dumps(study.as_dict(), default=str))
    _check_dir(out, record)
    if args.stored_only and not (out / STORE).is_file():
        raise BadInput(f"--stored-only: {out} holds no {STORE}; run the study there first")
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / STUDY_FILE, json.dumps(record, indent=2) + "\n")
    started = time.perf_counter()
    scenarios, runs, counts = run_study(
        study, out, args.jobs, not args.no_progress, stored_only=args.stored_only
    )
    wall = time.perf_counter() - started
    table = effects(study, runs)
    summary = effect_summary(table)
    per, ranking = rankings(table)
    boxes, words = failure_boxes(study, scenarios, table, per)
    text = summary_text(study, ranking, words, counts)
    command = "govsim " + shlex.join(getattr(args, "argv", []))
    with staged_files(out, [*FILES, MANIFEST]) as tmp:
        scenarios.to_csv(tmp / "scenarios.csv", index=False)
        runs.to_csv(tmp / "runs.csv", index=False)
        table.to_csv(tmp / "effects.csv", index=False)
        summary.to_csv(tmp / "effect_summary.csv", index=False)
        ranking.to_csv(tmp / "ranking.csv", index=False)
        boxes.to_csv(tmp / "prim_boxes.csv", index=False)
        write_text(tmp / "summary.md", text)
        unit = describe_outcome(study.outcome).diff_unit
        plot_ranking(ranking, tmp / "ranking_raw.png", "raw", unit)
        plot_ranking(ranking, tmp / "ranking_per_eur_bn.png", "per_eur_bn", f"{unit} per EUR 1 bn")
        manifest = new_manifest(
            "robustness",
            run_id_for("robustness", fingerprint(record)),
            command=command,
            configs=[study.base],
            seeds=[int(s) for s in scenarios["seed"]],
            posterior={"directory": str(study.posterior_dir)} if study.posterior_dir else None,
            study=record,
            counts=counts,
            wall_time_s=round(wall, 2),
            words=words,
            files=[*FILES, STORE],
        )
        write_manifest(tmp, manifest)
    print(text)
    print(f"Wrote {out}")
    return 0


def summary_text(
    study: RobustnessStudy, ranking: Any, words: dict[str, str], counts: dict[str, int]
) -> str:
    """The study's findings in plain words (also ``summary.md``)."""
    analysed = counts.get("scenarios", study.scenarios)
    size = (
        f"{analysed} scenarios"
        if analysed == study.scenarios
        else f"{analysed} of {study.scenarios} sampled scenarios (the complete ones of an "
        "interrupted study)"
    )
    lines = [
        f"# Robustness: {study.name}",
        "",
        f"{size} (posterior draws x {len(study.deep)} deep uncertainties "
        f"x seeds), {counts['runs']} runs ({counts['failed']} failed); levers at intensity "
        f"{study.intensity:g} from {study.start_year or 'their scenario start year'}; "
        f"ranked on {study.outcome}.",
        "",
    ]
    for basis, title in (("raw", "raw effect"), ("per_eur_bn", "effect per EUR 1 bn")):
        lines += [f"## Ranked on the {title}", ""]
        for kind in ("lever", "package"):
            part = ranking[(ranking["kind"] == kind)]
            lines += [f"- {s}" for s in plain_words(part, words if basis == "raw" else {}, basis)]
        lines.append("")
    return "\n".join(lines)
