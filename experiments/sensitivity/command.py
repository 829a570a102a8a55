"""``govsim sensitivity``: the command line of a sensitivity study (parse, run, write, print)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import shlex
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from experiments.sensitivity.emulator import (
    RESTARTS,
    EmulatorOptions,
    InputEncoding,
    categorical,
    draw_components,
)
from experiments.sensitivity.evaluate import (
    RUNS_TABLE,
    function_evaluator,
    stored_evaluator,
    sweep_evaluator,
)
from experiments.sensitivity.outputs import STUDY_FILE, write_outputs
from experiments.sensitivity.study import StudyResult, run_study

if TYPE_CHECKING:
    from experiments.experiment import Experiment


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
    p.add_argument(
        "--gp-restarts",
        type=int_at_least(0),
        metavar="N",
        help=f"with --method emulator: optimiser restarts of the GP hyperparameters "
        f"(default {RESTARTS})",
    )
    p.add_argument(
        "--gp-reuse-kernel",
        action="store_true",
        help="with --method emulator: optimise the GP hyperparameters once per outcome on all "
        "runs and reuse that kernel for the held-out and convergence fits (much faster; the "
        "held-out R^2 is then mildly optimistic, since the held-out runs helped choose the "
        "length scales)",
    )
    p.add_argument(
        "--runs-from",
        metavar="DIR",
        help="analyse the stored runs of an earlier `govsim sensitivity` study (its --out "
        "DIR, with sweep/runs.parquet) without running the model; refused unless its design, "
        "samples, seed, seeding and replicates are this study's",
    )
    p.add_argument(
        "--runs-posterior",
        metavar="DIR",
        help="with --runs-from: the posterior directory whose draws the stored runs' "
        "posterior factor picked from (default: the directory DIR/study.json records); its "
        "run id must be the recorded one",
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


def _changed_keys(previous: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """The top-level keys in which a stored study record and the current one differ."""
    return sorted(k for k in set(current) | set(previous) if previous.get(k) != current.get(k))


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
        changed = _changed_keys(previous, current)
        raise BadInput(
            f"output directory {out} holds a different study (differs in: "
            f"{', '.join(changed) or 'format'}); choose a new --out to run this one"
        )


def _stored_study(directory: Path, study: Study, replicates: int) -> dict[str, Any]:
    """The ``study.json`` of ``--runs-from DIR``, refused unless it is ``study``'s."""
    saved = directory / STUDY_FILE
    if not saved.is_file():
        raise BadInput(
            f"--runs-from {directory}: no {STUDY_FILE}; give the --out DIR of an earlier "
            "`govsim sensitivity` study of an experiment file"
        )
    stored = json.loads(saved.read_text(encoding="utf-8"))
    current = json.loads(json.dumps(study.as_dict(), default=str))
    previous = stored.get("study", {})
    if previous != current:
        changed = _changed_keys(previous, current)
        detail = ", ".join(
            f"{k}: stored {previous.get(k)!r}, now {current.get(k)!r}"
            for k in changed
            if k != "factors"
        )
        raise BadInput(
            f"--runs-from {directory}: it holds a different study (differs in: "
            f"{', '.join(changed)}{'; ' + detail if detail else ''}); give the same "
            "experiment, --method, --samples, --seed and --seeding as the stored study"
        )
    if stored.get("replicates") != replicates:
        raise BadInput(
            f"--runs-from {directory}: the stored study has {stored.get('replicates')} "
            f"replicates per point, the experiment file {replicates}"
        )
    if stored.get("model"):
        raise BadInput(f"--runs-from {directory}: a --model study; it has no stored runs")
    return stored


def _runs_posterior(
    experiment: Experiment, stored: Mapping[str, Any], override: str | None
) -> tuple[Experiment, str]:
    """The experiment with the posterior draws the stored runs used, and a note saying whence.

    The stored study records the posterior (directory and run id) its posterior factor
    picked from. Its draws are taken from ``override`` (``--runs-posterior``) or that
    directory, and must carry the recorded run id; the experiment file's own posterior is
    used only if it is the recorded one and no override is given.
    """
    recorded = stored.get("posterior_factor")
    has_factor = any(f.kind == "posterior" for f in experiment.factors)
    if not has_factor:
        if override:
            raise BadInput("--runs-posterior: the experiment file has no [posterior] table")
        return experiment, ""
    if not recorded or not recorded.get("run_id"):
        raise BadInput(
            "--runs-from: the stored study records no posterior for its posterior factor "
            "(study.json: posterior_factor); cannot tell which draws its runs used"
        )
    wanted = str(recorded["run_id"])
    if override is None and experiment.posterior_info.get("run_id") == wanted:
        return experiment, f"posterior draws {wanted} (the experiment file's, as recorded)"
    from calibration.posterior import PosteriorError, load_posterior
    from experiments.experiment.definition import order_draws

    source = Path(override) if override else Path(str(recorded.get("directory", "")))
    try:
        post = load_posterior(source)
    except PosteriorError as exc:
        raise BadInput(
            f"--runs-from: the stored runs used posterior {wanted} from "
            f"{recorded.get('directory')}, which cannot be read ({exc}); give its draws "
            "with --runs-posterior DIR"
        ) from exc
    info = post.describe()
    if info["run_id"] != wanted:
        raise BadInput(
            f"--runs-from: the stored runs used posterior {wanted}; {source} holds "
            f"{info['run_id']}; give that posterior's directory with --runs-posterior DIR"
        )
    if list(info["parameters"]) != list(recorded.get("parameters", info["parameters"])) or int(
        info["n_draws"]
    ) != int(recorded.get("n_draws", info["n_draws"])):
        raise BadInput(
            f"--runs-from: {source} has run id {wanted} but other parameters or draws than "
            "the stored study records"
        )
    draws = order_draws(
        [{n: float(row[n]) for n in post.names} for _, row in post.draws.iterrows()]
    )
    info = {
        **info,
        "order": recorded.get("order", "first principal component of standardised draws"),
    }
    note = (
        f"posterior draws {wanted} from {source} (the stored runs'; the experiment file's "
        f"[posterior] is {experiment.posterior_info.get('run_id')})"
    )
    return dataclasses.replace(experiment, posterior_draws=draws, posterior_info=info), note


def _encodings(experiment: Experiment) -> dict[str, InputEncoding]:
    """GP input encodings of an experiment's factors: choices one-hot, the posterior's
    draws as their leading principal components (in the order the factor picks them)."""
    out: dict[str, InputEncoding] = {}
    for factor in experiment.factors:
        if factor.kind == "choice":
            out[factor.name] = categorical(len(factor.choices))
        elif factor.kind == "posterior":
            names = list(experiment.posterior_draws[0])
            draws = [[float(d[n]) for n in names] for d in experiment.posterior_draws]
            out[factor.name] = draw_components(draws)
    return out


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
    gp_options = args.gp_restarts is not None or args.gp_reuse_kernel
    if gp_options and args.method != "emulator":
        raise BadInput("--gp-restarts and --gp-reuse-kernel are for --method emulator")
    if args.runs_from and (args.model or experiment is None):
        raise BadInput("--runs-from reads the stored runs of an experiment study; give its file")
    if args.runs_posterior and not args.runs_from:
        raise BadInput("--runs-posterior is for --runs-from (the posterior its runs used)")
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
    runs_dir = Path(args.runs_from) if args.runs_from else None
    posterior_note = ""
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
        if runs_dir is not None:
            if out.resolve() == runs_dir.resolve():
                raise BadInput("--runs-from DIR: write the analysis to another --out than DIR")
            stored = _stored_study(runs_dir, study, int(replicates))
            experiment, posterior_note = _runs_posterior(experiment, stored, args.runs_posterior)
            context["runs_from"] = str(runs_dir.resolve())
        if experiment.posterior_info:  # [posterior] table: calibrated parameters as a factor
            context["posterior_factor"] = dict(experiment.posterior_info)
        elif getattr(args, "posterior_info", None):
            context["posterior"] = args.posterior_info
        outcomes = list(experiment.outcomes)
        if runs_dir is not None:
            evaluator = stored_evaluator(runs_dir, study, experiment.seeds(), outcomes)
        else:
            evaluator = sweep_evaluator(
                experiment,
                out / "sweep",
                jobs=args.jobs,
                scheduler=args.scheduler,
                progress=not args.no_progress,
                command="govsim " + shlex.join(getattr(args, "argv", [])),
            )
    emulator = None
    if args.method == "emulator":
        emulator = EmulatorOptions(
            restarts=RESTARTS if args.gp_restarts is None else args.gp_restarts,
            reuse_kernel=args.gp_reuse_kernel,
            encodings=_encodings(experiment) if experiment is not None else {},
        )
    _check_study_dir(out, study, context)
    record = json.dumps({"study": study.as_dict(), **context}, indent=2, default=str) + "\n"
    if not args.model and not args.runs_from:  # the sweep's store goes into DIR now (resume)
        out.mkdir(parents=True, exist_ok=True)
        write_text(out / STUDY_FILE, record)
    started = time.perf_counter()
    result = run_study(
        study,
        evaluator,
        outcomes,
        bootstrap=args.bootstrap,
        replicates=int(replicates),
        emulator=emulator,
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
    if emulator is not None:
        info["gp"] = {
            "restarts": emulator.restarts,
            "reuse_kernel": emulator.reuse_kernel,
            "heldout_r2": "mildly optimistic: the kernel was fitted on all runs"
            if emulator.reuse_kernel
            else "the held-out fit optimised its own kernel",
            "inputs": {n: e.note for n, e in emulator.encodings.items()},
        }
    if runs_dir is not None:
        info["runs_from"] = _runs_from_record(runs_dir, posterior_note)
    command = "govsim " + shlex.join(getattr(args, "argv", []))
    if args.model or args.runs_from:  # nothing to resume: DIR appears with the results
        with atomic_dir(out, overwrite=True) as tmp:
            write_text(tmp / STUDY_FILE, record)
            write_outputs(result, tmp, info, command=command, validation=validation)
    else:  # the data files of the scenario the model ran: the experiment's base
        assert experiment is not None
        write_outputs(
            result, out, info, command=command, configs=[experiment.base], validation=validation
        )
    if args.runs_from:
        print(f"analysed the stored runs of {args.runs_from}; {posterior_note or 'no posterior'}")
    _print_summary(result, out)
    return 0


def _runs_from_record(directory: Path, posterior_note: str) -> dict[str, Any]:
    """What the manifest says of ``--runs-from DIR``: its sweep's identity and cost."""
    record: dict[str, Any] = {"directory": str(directory.resolve()), "posterior": posterior_note}
    path = directory / Path(RUNS_TABLE).parent / "manifest.json"
    if path.is_file():
        sweep = json.loads(path.read_text(encoding="utf-8"))
        for key in ("run_id", "code_version", "code_dirty", "model_sha256", "wall_time_s"):
            record[f"sweep_{key}"] = sweep.get(key)
        record["sweep_data_sha256"] = sweep.get("data_sha256")
        record["sweep_runs"] = sweep.get("runs")
    return record


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
    if method == "emulator":
        print("\nheld-out R^2 (every fifth point held out):")
        for r in result.results:
            if not r.skipped:
                print(f"  {r.outcome:<40} {r.noise.get('heldout_r2', math.nan):.3f}")
        if any("optimistic" in str(r.noise.get("heldout_r2_kernel", "")) for r in result.results):
            print("  (kernel fitted on all runs and reused: these R^2 are mildly optimistic)")
    print(f"\n* above the dummy threshold. Wrote {out}")
