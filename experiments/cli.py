"""The ``govsim`` command line: run one scenario, compare scenarios, run the demo, list inputs.

Subcommands::

    govsim run SCENARIO.toml --seed N --out DIR [--overwrite]
    govsim compare BASE.toml OTHER.toml ... --replicates R [--seed S] [--jobs N] [--out DIR]
    govsim demo [--replicates R] [--seed S] [--jobs N] [--out-root results]
    govsim levers
    govsim params [--csv]

Bad input (a scenario file that does not validate, a missing or malformed data file, an output
directory that already exists) ends with a message on stderr that names the file and exit code
2, never a traceback, and leaves no output directory behind: results are written to a
temporary directory that is renamed into place only when complete.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import sys
import textwrap
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

import experiments
from abm.config import ScenarioConfig, registry
from abm.model import simulate
from abm.outcomes import selection
from abm.policies import LEVER_NAMES, LEVERS
from abm.rng import replicate_seeds
from calibration.posterior import Posterior, PosteriorError, load_posterior
from experiments import figures
from experiments.argtypes import int_at_least, jobs
from experiments.errors import BadInput
from experiments.results import (
    MANIFEST,
    atomic_dir,
    check_out_dir,
    experiment_fingerprint,
    make_run_id,
    new_manifest,
    write_manifest,
    write_run,
)
from experiments.runner import (
    DataFileError,
    RunSummary,
    check_data_files,
    headline_frame,
    paired_differences,
    pathway_table,
    run_scenarios,
    summary_table,
    with_parameters,
)
from experiments.scenario import ScenarioError, load_scenario

EXIT_OK = 0
EXIT_BAD_INPUT = 2
DEFAULT_DEMO_REPLICATES = 8
DEFAULT_MASTER_SEED = 0
# modules adding further subcommands; each has ``register(subparsers)`` setting a ``handler``
EXTRA_COMMAND_MODULES: tuple[str, ...] = (
    "experiments.cases",
    "experiments.sweep",
    "experiments.sensitivity",
    "experiments.discovery",
    "experiments.export",
    "experiments.calibrate",
    "experiments.report",
    "experiments.serve",
)
# outcomes shown in the printed tables and given a lever-effect figure (abm/outcomes.py)
KEY_OUTCOMES: tuple[str, ...] = selection("key")
RUN_OUTCOMES: tuple[str, ...] = selection("run")


# --- small helpers -------------------------------------------------------------------------


def _fmt(value: float) -> str:
    """A number with four significant digits (``nan`` for missing)."""
    return "nan" if value != value else f"{value:.4g}"


def _ci(record: Mapping[Any, Any], scale: float) -> str:
    """``[low, high]`` of a paired-difference record, scaled for display."""
    return f"[{_fmt(record['ci_low'] * scale)}, {_fmt(record['ci_high'] * scale)}]"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> str:
    """A plain text table; ``align`` has one 'l' or 'r' per column (default: first left)."""
    align = align or "l" + "r" * (len(headers) - 1)
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            str(c).ljust(w) if a == "l" else str(c).rjust(w)
            for c, w, a in zip(cells, widths, align, strict=True)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def _load_all(paths: Sequence[str | Path]) -> list[ScenarioConfig]:
    """Load every scenario file; report the problems of all files together."""
    configs: list[ScenarioConfig] = []
    problems: list[str] = []
    for path in paths:
        try:
            configs.append(load_scenario(path))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ScenarioError(problems)
    names = [c.name for c in configs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise BadInput(
            f"scenario names must be unique, but {', '.join(repeated)} is used by more than "
            "one file; give each file its own [scenario] name"
        )
    return configs


# --- subcommands ---------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    """Simulate one scenario with one seed and write the run directory."""
    config = load_scenario(args.scenario)
    out_dir = Path(args.out)
    check_out_dir(out_dir, args.overwrite)
    check_data_files([config])
    if args.posterior is not None:
        post = _posterior(args)
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
    headline = result.headline()
    rows = []
    for name in RUN_OUTCOMES:
        if name in headline:
            info = figures.describe_outcome(name)
            rows.append([info.label, _fmt(headline[name] * info.scale), info.unit])
    print(_table(["outcome", "value", "unit"], rows, align="lrl"))
    return EXIT_OK


def _difference_rows(diffs: pd.DataFrame, outcomes: Sequence[str]) -> list[list[str]]:
    rows = []
    for outcome in outcomes:
        info = figures.describe_outcome(outcome)
        for rec in diffs[diffs["outcome"] == outcome].to_dict("records"):
            s = info.scale
            rows.append(
                [
                    f"{info.label} ({info.unit})",
                    str(rec["scenario"]),
                    _fmt(rec["mean_baseline"] * s),
                    _fmt(rec["mean_scenario"] * s),
                    _fmt(rec["mean_difference"] * s),
                    _ci(rec, s),
                ]
            )
    return rows


def _posterior(args: argparse.Namespace) -> Posterior:
    """The posterior named by ``--posterior`` (empty: the committed one); records it in args."""
    try:
        post = load_posterior(Path(args.posterior) if args.posterior else None)
    except PosteriorError as exc:
        raise BadInput(str(exc)) from exc
    args.posterior_info = post.describe()
    return post


def _experiment(
    args: argparse.Namespace, configs: list[ScenarioConfig]
) -> tuple[list[int], dict[str, list[RunSummary]], pd.DataFrame, float]:
    """Validate data, run all scenarios with common seeds and compute paired differences."""
    check_data_files(configs)
    seeds = replicate_seeds(args.seed, args.replicates)
    draws = None
    if getattr(args, "posterior", None) is not None:
        post = _posterior(args)
        draws = post.sample(len(seeds), args.seed)
        print(
            f"sampling the calibrated parameters from {post.directory} "
            f"(calibration {post.run_id}): one posterior draw per seed, the same in every "
            "scenario"
        )
    started = time.perf_counter()
    summaries = run_scenarios(
        configs, seeds, n_jobs=args.jobs, progress=not args.no_progress, parameter_sets=draws
    )
    wall = time.perf_counter() - started
    diffs = paired_differences(summaries, configs[0].name)
    return seeds, summaries, diffs, wall


def _write_experiment(
    out: Path,
    *,
    kind: str,
    run_id: str,
    files: Sequence[Path],
    configs: Sequence[ScenarioConfig],
    seeds: Sequence[int],
    args: argparse.Namespace,
    summaries: Mapping[str, Sequence[RunSummary]],
    diffs: pd.DataFrame,
    diff_file: str,
    wall_s: float,
    reproduce: str,
) -> list[str]:
    """Write tables, figures, manifest and README of a compare or demo run into ``out``."""
    baseline = configs[0].name
    summary_table(summaries).to_csv(out / "summary.csv", index=False)
    diffs.to_csv(out / diff_file, index=False)
    pathway_table(summaries, baseline_name=baseline).to_csv(out / "pathways.csv", index=False)
    headline_frame(summaries).to_csv(out / "runs.csv", index=False)
    written = ["summary.csv", diff_file, "pathways.csv", "runs.csv"]
    pathway_plots = (
        ("emission_pathways.png", figures.plot_emission_pathways),
        ("industry_emissions.png", figures.plot_industry),
        ("city_groups.png", figures.plot_city_groups),
    )
    for name, plot in pathway_plots:
        plot(summaries, out / name, run_id, baseline)
        written.append(name)
    for outcome in KEY_OUTCOMES:
        if outcome in set(diffs["outcome"]):
            name = f"effect_{outcome}.png"
            figures.plot_lever_effects(diffs, outcome, out / name, run_id)
            written.append(name)
    info = new_manifest(
        kind,
        run_id,
        command="govsim " + shlex.join(args.argv),
        reproduce=reproduce,
        configs=configs,
        seeds=seeds,
        posterior=getattr(args, "posterior_info", None),
        argv=list(args.argv),
        baseline=baseline,
        diff_file=diff_file,
        master_seed=args.seed,
        replicates=args.replicates,
        n_jobs=args.jobs,
        wall_time_s=round(wall_s, 2),
        fingerprint_sha256=experiment_fingerprint(configs, seeds),
        scenarios=[
            {"name": c.name, "file": str(f), "config": c.as_dict()}
            for c, f in zip(configs, files, strict=True)
        ],
        files=[*written, MANIFEST, "README.md"],
    )
    write_manifest(out, info)
    (out / "README.md").write_text(_readme(info, diffs))
    return info["files"]


def _readme(info: Mapping[str, Any], diffs: pd.DataFrame) -> str:
    """The README of a results directory: what it is, how to reproduce it, what is in it."""
    names = [s["name"] for s in info["scenarios"]]
    rows = _difference_rows(diffs, KEY_OUTCOMES[:1])
    table = "\n".join(
        f"| {r[1]} | {r[4]} | {r[5]} |" for r in sorted(rows, key=lambda r: -float(r[4]))
    )
    return textwrap.dedent(
        f"""\
        # govsim {info["kind"]} `{info["run_id"]}`

        Scenarios: {", ".join(names)}. Reference (baseline): `{info["baseline"]}`.
        {info["replicates"]} replicates per scenario with common random numbers: every
        scenario ran with the same seeds, derived from master seed {info["master_seed"]}
        (`experiments.runner.replicate_seeds`), so differences are paired by seed.

        ## Reproduce

            {info["reproduce"]}

        with code version `{info["code_version"]}` (see `manifest.json` for package versions,
        data-file hashes and every scenario's full configuration). Results do not depend on
        `--jobs`. The hash at the end of the run id identifies the inputs (configs, data
        content, seeds): a rerun gets the same hash and a new timestamp.

        ## Files

        - `summary.csv`: per scenario and headline outcome, mean, sd and 90% interval over
          replicates.
        - `{info["diff_file"]}`: paired difference from the baseline per scenario and
          outcome, with its 95% t-interval over seeds.
        - `pathways.csv`: yearly EU, industry, mission-city and other-city emissions (t CO2e),
          mean and 90% band, and the paired difference from the baseline.
        - `runs.csv`: every headline outcome of every run (scenario, seed).
        - `emission_pathways.png`, `industry_emissions.png`, `city_groups.png`: pathways.
        - `effect_*.png`: lever effects (paired differences with 95% CI) on key outcomes.

        ## 2050 EU emission cut: difference from the baseline (percentage points)

        | scenario | mean difference | 95% CI |
        |---|---|---|
        """
    ) + (table + "\n" if table else "")


def cmd_compare(args: argparse.Namespace) -> int:
    """Run several scenarios with common seeds; print paired differences from the first."""
    files = [Path(p) for p in args.scenarios]
    configs = _load_all(files)
    out = Path(args.out) if args.out else None
    if out is not None:
        check_out_dir(out, args.overwrite)
    seeds, summaries, diffs, wall = _experiment(args, configs)
    print(
        f"paired differences from '{configs[0].name}' over {args.replicates} replicates "
        f"(common seeds from master seed {args.seed}; 95% t-interval), {wall:.1f} s"
    )
    outcomes = list(dict.fromkeys(diffs["outcome"]))
    print(
        _table(
            ["outcome", "scenario", "baseline", "scenario mean", "difference", "95% CI"],
            _difference_rows(diffs, outcomes),
        )
    )
    if out is not None:
        run_id = make_run_id("compare", configs, seeds)
        with atomic_dir(out, args.overwrite) as tmp:
            _write_experiment(
                tmp,
                kind="compare",
                run_id=run_id,
                files=[f.resolve() for f in files],
                configs=configs,
                seeds=seeds,
                args=args,
                summaries=summaries,
                diffs=diffs,
                diff_file="comparison.csv",
                wall_s=wall,
                reproduce="govsim " + shlex.join(args.argv),
            )
        print(f"wrote {out}")
    return EXIT_OK


def demo_files(scenario_dir: Path) -> list[Path]:
    """The demo's scenario files: baseline, one per lever, full package."""
    return [
        scenario_dir / "baseline.toml",
        *(scenario_dir / "levers" / f"{name}.toml" for name in LEVER_NAMES),
        scenario_dir / "full_package.toml",
    ]


def cmd_demo(args: argparse.Namespace) -> int:
    """Baseline vs each lever vs the full package; write a results directory with figures."""
    shipped = Path(experiments.__file__).resolve().parent
    scenario_dir = Path(args.scenario_dir).resolve() if args.scenario_dir else shipped
    files = demo_files(scenario_dir)
    configs = _load_all(files)
    seeds_preview = replicate_seeds(args.seed, args.replicates)
    run_id = make_run_id("demo", configs, seeds_preview)
    root = Path(args.out_root)
    out = root / run_id
    k = 2
    while out.exists():
        out = root / f"{run_id}-{k}"
        k += 1
    run_id = out.name
    print(
        f"govsim demo: {len(configs)} scenarios x {args.replicates} replicates "
        f"(master seed {args.seed}) -> {out}",
        flush=True,
    )
    seeds, summaries, diffs, wall = _experiment(args, configs)
    reproduce = f"govsim demo --replicates {args.replicates} --seed {args.seed}"
    if args.scenario_dir:
        reproduce += f" --scenario-dir {shlex.quote(str(scenario_dir))}"
    with atomic_dir(out, overwrite=False) as tmp:
        written = _write_experiment(
            tmp,
            kind="demo",
            run_id=run_id,
            files=files,
            configs=configs,
            seeds=seeds,
            args=args,
            summaries=summaries,
            diffs=diffs,
            diff_file="lever_effects.csv",
            wall_s=wall,
            reproduce=reproduce,
        )
    print(f"simulated {len(configs) * len(seeds)} runs in {wall:.1f} s")
    print(f"results: {out}  ({', '.join(written)})")
    reference = summaries[configs[0].name]
    parts = []
    for outcome in KEY_OUTCOMES:
        info = figures.describe_outcome(outcome)
        mean = sum(run.headline[outcome] for run in reference) / len(reference)
        parts.append(f"{info.label} {_fmt(mean * info.scale)} {info.unit}")
    print(f"baseline '{configs[0].name}' means: " + "; ".join(parts))
    print(_demo_table(diffs))
    from experiments.report import write_report  # imported here: the report imports this module

    print(f"report: {write_report(out)}")
    return EXIT_OK


def _demo_table(diffs: pd.DataFrame) -> str:
    """Scenario rows, key-outcome columns: mean paired difference [95% CI], best first."""
    headers = ["difference from baseline"]
    cells: dict[str, list[str]] = {}
    order: list[str] = []
    for k, outcome in enumerate(KEY_OUTCOMES):
        info = figures.describe_outcome(outcome)
        headers.append(f"{outcome} ({info.diff_unit})")
        rows = diffs[diffs["outcome"] == outcome]
        if k == 0:
            order = rows.sort_values("mean_difference", ascending=False)["scenario"].tolist()
        for rec in rows.to_dict("records"):
            cells.setdefault(str(rec["scenario"]), []).append(
                f"{_fmt(rec['mean_difference'] * info.scale)} {_ci(rec, info.scale)}"
            )
    return _table(headers, [[name, *cells[name]] for name in order])


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
    print(_table(["name", "value", "unit", "range", "source", "meaning"], rows, align="lrllll"))
    return EXIT_OK


# --- argument parsing ----------------------------------------------------------------------


def posterior_option(p: argparse.ArgumentParser) -> None:
    """``--posterior [DIR]``: sample the calibrated parameters from a posterior."""
    p.add_argument(
        "--posterior",
        nargs="?",
        const="",
        metavar="DIR",
        help="draw the calibrated parameters from a posterior, one draw per seed "
        "(default DIR: the committed calibration/posterior)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one subparser per subcommand."""
    parser = argparse.ArgumentParser(
        prog="govsim",
        description="Agent-based model of EU multilevel climate governance.",
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
