"""``govsim sensitivity``: the command line of a sensitivity study (parse, run, write, print)."""

from __future__ import annotations

import argparse
import json
import math
import shlex
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from abm.rng import replicate_seeds
from experiments.argtypes import int_at_least, jobs
from experiments.errors import BadInput
from experiments.results import atomic_dir, write_text
from experiments.sensitivity.analysis import DEFAULT_BOOTSTRAP, MAIN_INDEX
from experiments.sensitivity.design import (
    DEFAULT_SAMPLES,
    DUMMY_LABEL,
    METHODS,
    SEEDINGS,
    Study,
    factors_of,
    parse_factors,
)
from experiments.sensitivity.evaluate import function_evaluator, sweep_evaluator
from experiments.sensitivity.outputs import STUDY_FILE, write_outputs
from experiments.sensitivity.study import StudyResult, run_study


def register(subparsers: Any) -> None:
    """Add ``govsim sensitivity`` to the ``govsim`` command line."""
    p = subparsers.add_parser(
        "sensitivity",
        help="Morris / Sobol / PAWN sensitivity of an experiment's outcomes (or of a function)",
        description=(
            "Sample a design over the experiment's factors (plus a dummy factor), run it with "
            "the experiment's replicate seeds through the cached sweep, and write indices "
            "with design and seed intervals, a noise report, an N/2-vs-N convergence check, "
            "charts and a manifest. With --model module:function a Python function of the "
            "factors is analysed instead (factors from the experiment file or --factors). "
            "Rerunning the same command with the same --out resumes an interrupted study."
        ),
    )
    p.add_argument("experiment", nargs="?", metavar="EXPERIMENT.toml", help="experiment file")
    p.add_argument("--method", required=True, choices=METHODS, help="analysis method")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")
    p.add_argument(
        "--samples",
        type=int_at_least(1),
        metavar="N",
        help="base sample size: Morris trajectories, Sobol base points (power of 2; runs = "
        "N x (factors + 2) x replicates), PAWN points (power of 2); default "
        + ", ".join(f"{m} {n}" for m, n in DEFAULT_SAMPLES.items()),
    )
    p.add_argument(
        "--groups",
        action="store_true",
        help="sample and analyse recommendation packages (factor groups) instead of factors",
    )
    p.add_argument(
        "--seeding",
        choices=SEEDINGS,
        default="common",
        help="common: the same replicate seeds at every point (default); independent: every "
        "design row its own seeds, so seed noise is estimated and the dummy measures it",
    )
    p.add_argument(
        "--reference",
        metavar="DIR",
        help="with --method emulator: a brute-force Sobol study on the same factors; writes "
        "validation.csv (emulator vs brute-force indices and intervals)",
    )
    p.add_argument("--jobs", type=jobs, default=-1, metavar="N", help="worker processes")
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler for the sweep: 'local' or tcp://HOST:8786 (default: joblib)",
    )
    p.add_argument(
        "--model",
        metavar="MODULE:FUNCTION",
        help="analyse this Python function f(**factors[, seed]) -> number | dict instead",
    )
    p.add_argument(
        "--factors",
        metavar="SPEC",
        help="with --model and no experiment: 'x1=low,high[@group] x2=...' or a TOML file",
    )
    p.add_argument(
        "--replicates",
        type=int_at_least(1),
        metavar="R",
        help="with --model: seeds per point if the function takes 'seed' "
        "(default: the experiment's, else 1)",
    )
    p.add_argument("--seed", type=int_at_least(0), metavar="S", help="master seed (default 0)")
    p.add_argument(
        "--bootstrap",
        type=int_at_least(0),
        default=DEFAULT_BOOTSTRAP,
        metavar="B",
        help=f"bootstrap resamples of the replicates (default {DEFAULT_BOOTSTRAP}; 0 = none)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    from experiments.posterior_option import posterior_option

    posterior_option(p)  # one calibrated draw per replicate seed (issue 12)
    p.set_defaults(handler=cmd_sensitivity)


def _check_study_dir(out: Path, study: Study, context: Mapping[str, Any]) -> None:
    """Allow a new or empty DIR, or one holding the same study (resume); refuse anything else."""
    if out.exists() and not out.is_dir():
        raise BadInput(f"output path {out} exists and is not a directory")
    if not out.is_dir() or not any(out.iterdir()):
        return
    saved = out / STUDY_FILE
    if not saved.is_file():
        raise BadInput(
            f"output directory {out} is not empty and holds no {STUDY_FILE}; choose a new --out "
            "(an existing DIR is only reused to resume the same study)"
        )
    previous = json.loads(saved.read_text(encoding="utf-8"))
    current = json.loads(json.dumps({"study": study.as_dict(), **context}, default=str))
    if previous != current:
        changed = sorted(k for k in current if previous.get(k) != current.get(k))
        raise BadInput(
            f"output directory {out} holds a different study (differs in: "
            f"{', '.join(changed) or 'format'}); choose a new --out to run this one"
        )


def _reference_indices(directory: Path) -> pd.DataFrame:
    """The indices of a finished brute-force Sobol study (``--reference``)."""
    from experiments.results import read_manifest

    manifest = read_manifest(directory, kinds=("sensitivity",))
    method = manifest.data.get("study", {}).get("method")
    if method != "sobol":
        raise BadInput(f"--reference {directory}: a {method} study; expected a sobol study")
    files = sorted(directory.glob("indices_*.csv"))
    if not files:
        raise BadInput(f"--reference {directory}: no indices_*.csv files")
    return pd.concat([pd.read_csv(f) for f in files], ignore_index=True)


def _reference_replicates(directory: Path) -> float | None:
    """The replicates per point of the brute-force reference (its noise.csv), if known."""
    path = directory / "noise.csv"
    if not path.exists():
        return None
    reps = pd.read_csv(path).get("replicates")
    return float(reps.iloc[0]) if reps is not None and len(reps) else None


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """``govsim sensitivity``: sample, run (cached), analyse and write one study."""
    experiment = None
    if args.experiment:
        from experiments.experiment import load_experiment
        from experiments.sweep.command import with_posterior  # --posterior (issue 12)

        experiment = with_posterior(load_experiment(args.experiment), args)
    if experiment is None and not args.model:
        raise BadInput("give an EXPERIMENT.toml, or --model module:function with --factors")
    if args.factors and experiment is not None:
        raise BadInput("--factors is for --model without an experiment file; give one or the other")
    if args.model and experiment is None and not args.factors:
        raise BadInput("--model without an experiment file needs --factors 'x1=low,high ...'")
    if args.replicates is not None and not args.model:
        raise BadInput("--replicates is for --model; the experiment file sets its replicates")
    if args.scheduler and args.model:
        raise BadInput("--scheduler is for the governance model; --model runs with --jobs")
    factors = parse_factors(args.factors) if args.factors else factors_of(experiment)  # type: ignore[arg-type]
    seed = args.seed if args.seed is not None else (experiment.seed if experiment else 0)
    samples = args.samples or DEFAULT_SAMPLES[args.method]
    if args.samples is None and experiment is not None and experiment.design == args.method:
        samples = experiment.samples
    study = Study(
        args.method, factors, samples, int(seed), grouped=args.groups, seeding=args.seeding
    )
    if args.reference and args.method != "emulator":
        raise BadInput("--reference is for --method emulator (validation against brute force)")
    reference = _reference_indices(Path(args.reference)) if args.reference else None
    if args.groups and study.units == len(factors) + 1:
        raise BadInput(
            "--groups: every factor is its own group; give factors a shared 'group' "
            "(a recommendation package) or drop --groups"
        )
    out = Path(args.out)
    context: dict[str, Any] = {
        "experiment": str(Path(args.experiment).resolve()) if args.experiment else None,
        "model": args.model,
    }
    if args.model:
        replicates = args.replicates or (experiment.replicates if experiment else 1)
        seeds = replicate_seeds(int(seed), replicates)
        if args.seeding == "independent":
            context["seeding"] = "independent"
        context["replicates"] = replicates
        evaluator = function_evaluator(args.model, study, seeds, jobs=args.jobs)
        outcomes: Sequence[str] | None = None
    else:
        assert experiment is not None
        context["replicates"] = replicates = experiment.replicates
        if experiment.posterior_info:  # [posterior] table: calibrated parameters as a factor
            context["posterior_factor"] = dict(experiment.posterior_info)
        elif getattr(args, "posterior_info", None):
            context["posterior"] = args.posterior_info
        evaluator = sweep_evaluator(
            experiment,
            out / "sweep",
            jobs=args.jobs,
            scheduler=args.scheduler,
            progress=not args.no_progress,
            command="govsim " + shlex.join(getattr(args, "argv", [])),
        )
        outcomes = list(experiment.outcomes)
    _check_study_dir(out, study, context)
    record = json.dumps({"study": study.as_dict(), **context}, indent=2, default=str) + "\n"
    if not args.model:  # the sweep's store goes into DIR now, so an interrupted study resumes
        out.mkdir(parents=True, exist_ok=True)
        write_text(out / STUDY_FILE, record)
    started = time.perf_counter()
    result = run_study(
        study, evaluator, outcomes, bootstrap=args.bootstrap, replicates=int(replicates)
    )
    validation = None
    if reference is not None:
        from experiments.sensitivity.emulator import compare_with_reference

        validation = compare_with_reference(
            result.indices(),
            reference,
            emulator_noise=result.noise(),
            reference_replicates=_reference_replicates(Path(args.reference)),
        )
    info = {
        **context,
        "bootstrap": args.bootstrap,
        "jobs": args.jobs,
        "scheduler": args.scheduler,
        "wall_time_s": round(time.perf_counter() - started, 2),
    }
    command = "govsim " + shlex.join(getattr(args, "argv", []))
    if args.model:  # nothing to resume: DIR appears only with the results, all at once
        with atomic_dir(out, overwrite=True) as tmp:
            write_text(tmp / STUDY_FILE, record)
            write_outputs(result, tmp, info, command=command, validation=validation)
    else:  # the data files of the scenario the model ran: the experiment's base
        assert experiment is not None
        write_outputs(
            result, out, info, command=command, configs=[experiment.base], validation=validation
        )
    _print_summary(result, out)
    return 0


def _print_summary(result: StudyResult, out: Path) -> None:
    """The main index of each outcome, largest first, with the dummy threshold."""
    method = result.study.method
    main = MAIN_INDEX[method]
    print(
        f"{method} sensitivity: {len(result.design)} design rows, {result.unique_points} "
        f"model points x {max(len(result.seeds), 1)} replicate(s); "
        f"evaluation {result.evaluation_s:.1f} s, analysis {result.analysis_s:.1f} s"
    )
    for r in result.results:
        if r.skipped:
            print(f"\n{r.outcome}: skipped ({r.skipped})")
            continue
        rows = r.indices[r.indices["index"] == main].sort_values("value", ascending=False)
        share = r.noise.get("noise_share", math.nan)
        print(f"\n{r.outcome} ({main}; seed-noise share of single-run variance {share:.3g})")
        for rec in rows.to_dict("records"):
            mark = "*" if rec["above_dummy"] else " "
            name = DUMMY_LABEL if rec["is_dummy"] else rec["name"]
            print(
                f"  {mark} {name:<40} {rec['value']:10.4g}  "
                f"[{rec['ci_low']:.3g}, {rec['ci_high']:.3g}]"
            )
    print(f"\n* above the dummy threshold. Wrote {out}")
