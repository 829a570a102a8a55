"""``govsim compare`` and ``govsim demo``: scenarios run with common seeds, paired differences.

``govsim compare`` runs the scenario files given, the first being the reference; ``govsim
demo`` runs the shipped baseline, one scenario per lever and the full package, and ends by
writing the report of its results directory. Both print the paired differences from the
reference and (compare with ``--out``, demo always) write tables, figures, a manifest and a
README into a directory that is renamed into place only when complete.
"""

from __future__ import annotations

import argparse
import shlex
import textwrap
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from abm.config import ScenarioConfig
from abm.outcomes import selection
from abm.policies import FIRST_LEVER_YEAR, LAST_LEVER_YEAR, LEVER_NAMES
from abm.rng import replicate_seeds
from experiments import figures
from experiments.errors import EXIT_OK, BadInput
from experiments.paths import SCENARIOS_DIR
from experiments.posterior_option import load_posterior_arg
from experiments.report import write_report
from experiments.results import (
    MANIFEST,
    atomic_dir,
    check_out_dir,
    experiment_fingerprint,
    make_run_id,
    new_manifest,
    write_manifest,
)
from experiments.runner import (
    RunSummary,
    check_data_files,
    headline_frame,
    paired_differences,
    pathway_table,
    run_scenarios,
    summary_table,
)
from experiments.scenario import ScenarioError, load_scenario
from experiments.text import ci, fmt, plain_table

# outcomes shown in the printed tables and given a lever-effect figure (abm/outcomes.py)
KEY_OUTCOMES: tuple[str, ...] = selection("key")
# the public money the levers cost (abm/outcomes.py) and the effects shown per EUR 1 bn of it
COST_OUTCOME = "levers_public_cost_eur"
PER_EURO_OUTCOMES: tuple[str, ...] = (
    "city_emissions_reduction_2050_pct",
    *(o for o in KEY_OUTCOMES if o != COST_OUTCOME),
)
NO_COST_NOTE = "no extra public cost: no per-euro effect"
CHEAPER_NOTE = "costs less than the reference: no per-euro effect"
NOISE_NOTE = "within noise (95% CI includes 0)"
NO_EFFECT_NOTE = "no effect (the same in every seed)"


def effects_per_billion(diffs: pd.DataFrame) -> pd.DataFrame:
    """Add each paired difference per EUR 1 bn of extra public money spent on the levers.

    The extra money is the scenario's mean cumulative lever cost minus the reference's
    (``levers_public_cost_eur``). Where it is not positive the per-euro columns are NaN and
    ``per_euro_note`` says why; an effect whose 95% interval includes zero keeps its per-euro
    value with the note that it is within noise.
    """
    out = diffs.copy()
    cost = diffs[diffs["outcome"] == COST_OUTCOME].set_index("scenario")["mean_difference"]
    extra_bn = out["scenario"].map(cost / 1e9).astype(float)
    out["public_cost_difference_eur_bn"] = extra_bn
    spent = extra_bn > 0.0
    for col in ("mean_difference", "ci_low", "ci_high"):
        out[f"{col}_per_eur_bn"] = (out[col] / extra_bn).where(spent)
    noise = (out["ci_low"] <= 0.0) & (out["ci_high"] >= 0.0)
    out["per_euro_note"] = ""
    out.loc[spent & noise, "per_euro_note"] = NOISE_NOTE
    none = (out["ci_low"] == 0.0) & (out["ci_high"] == 0.0) & (out["mean_difference"] == 0.0)
    out.loc[spent & none, "per_euro_note"] = NO_EFFECT_NOTE
    out.loc[extra_bn == 0.0, "per_euro_note"] = NO_COST_NOTE
    out.loc[extra_bn < 0.0, "per_euro_note"] = CHEAPER_NOTE
    out.loc[out["outcome"] == COST_OUTCOME, "per_euro_note"] = ""
    return out


def per_billion_rows(diffs: pd.DataFrame) -> list[list[str]]:
    """Rows of the per-euro table: scenario, extra cost, each outcome raw and per EUR 1 bn."""
    rows = []
    for outcome in PER_EURO_OUTCOMES:
        info = figures.describe_outcome(outcome)
        for rec in diffs[diffs["outcome"] == outcome].to_dict("records"):
            s = info.scale
            per = rec["mean_difference_per_eur_bn"]
            rows.append(
                [
                    f"{info.label} ({info.diff_unit})",
                    str(rec["scenario"]),
                    fmt(rec["public_cost_difference_eur_bn"]),
                    f"{fmt(rec['mean_difference'] * s)} {ci(rec, s)}",
                    "-" if per != per else f"{fmt(per * s)} {ci(_per_bn(rec), s)}",
                    str(rec["per_euro_note"]),
                ]
            )
    return rows


def _per_bn(rec: Mapping[Any, Any]) -> dict[str, Any]:
    """The per-euro interval of a record, in the shape ``text.ci`` reads."""
    return {"ci_low": rec["ci_low_per_eur_bn"], "ci_high": rec["ci_high_per_eur_bn"]}


PER_EURO_HEADERS = [
    "outcome",
    "scenario",
    "extra public cost (EUR bn)",
    "difference [95% CI]",
    "per EUR 1 bn [95% CI]",
    "note",
]


def print_per_billion(diffs: pd.DataFrame, reference: str) -> None:
    """Print the effects per EUR 1 bn of public money next to the raw effects."""
    print(
        f"effects per EUR 1 bn of extra public money on the levers {FIRST_LEVER_YEAR}-"
        f"{LAST_LEVER_YEAR} (cumulative cost vs '{reference}'; what each lever's dose costs: "
        "govsim params lever_)"
    )
    print(plain_table(PER_EURO_HEADERS, per_billion_rows(diffs)))


def load_all(paths: Sequence[str | Path]) -> list[ScenarioConfig]:
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
                    fmt(rec["mean_baseline"] * s),
                    fmt(rec["mean_scenario"] * s),
                    fmt(rec["mean_difference"] * s),
                    ci(rec, s),
                ]
            )
    return rows


def _experiment(
    args: argparse.Namespace, configs: list[ScenarioConfig]
) -> tuple[list[int], dict[str, list[RunSummary]], pd.DataFrame, float]:
    """Validate data, run all scenarios with common seeds and compute paired differences."""
    check_data_files(configs)
    seeds = replicate_seeds(args.seed, args.replicates)
    draws = None
    if getattr(args, "posterior", None) is not None:
        from calibration.uncertainty import SEEDS_PER_DRAW, paired_draws

        post = load_posterior_arg(args)
        draws = paired_draws(post, len(seeds), args.seed)
        print(
            f"sampling the calibrated parameters from {post.directory} "
            f"(calibration {post.run_id}): one posterior draw per {SEEDS_PER_DRAW} seeds, the "
            "same in every scenario (parameter uncertainty apart from seed noise)"
        )
    started = time.perf_counter()
    summaries = run_scenarios(
        configs, seeds, n_jobs=args.jobs, progress=not args.no_progress, parameter_sets=draws
    )
    wall = time.perf_counter() - started
    diffs = effects_per_billion(paired_differences(summaries, configs[0].name))
    if draws is not None:
        from calibration.uncertainty import split_uncertainty

        args.posterior_uncertainty = split_uncertainty(summaries, configs[0].name)
        _print_uncertainty(args.posterior_uncertainty)
    return seeds, summaries, diffs, wall


def _print_uncertainty(table: pd.DataFrame) -> None:
    """Seed noise and parameter uncertainty of each effect on the emission outcomes."""
    if table.empty:
        print("parameter uncertainty: needs at least 4 seeds (2 posterior draws x 2 seeds)")
        return
    part = table[table["outcome"].str.contains("cut_2050")]
    rows = [
        [
            str(r["scenario"]),
            str(r["outcome"]),
            fmt(r["mean_difference"]),
            fmt(r["sd_seed_noise"]),
            fmt(r["sd_parameter"]),
        ]
        for r in part.to_dict("records")
    ]
    print("effects: seed noise vs calibrated-parameter uncertainty (sd of a one-run effect)")
    print(plain_table(["scenario", "outcome", "effect", "sd seed", "sd parameter"], rows))


def _call_fields(args: argparse.Namespace) -> dict[str, Any]:
    """What the manifest records of the command line that made a comparison."""
    return {
        "argv": list(args.argv),
        "master_seed": args.seed,
        "replicates": args.replicates,
        "n_jobs": args.jobs,
        "posterior": getattr(args, "posterior_info", None),
    }


def write_comparison(
    out: Path,
    *,
    kind: str,
    run_id: str,
    files: Sequence[Path | str],
    configs: Sequence[ScenarioConfig],
    seeds: Sequence[int],
    argv: Sequence[str],
    master_seed: int,
    replicates: int,
    n_jobs: int,
    posterior: Mapping[str, Any] | None,
    summaries: Mapping[str, Sequence[RunSummary]],
    diffs: pd.DataFrame,
    diff_file: str,
    wall_s: float,
    reproduce: str,
) -> list[str]:
    """Write tables, figures, manifest and README of a compare or demo run into ``out``.

    ``argv`` is the command (``govsim`` arguments, or a description of the Python call) that
    made the runs; ``files`` names each scenario's source file (or how it was made in code).
    """
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
        command="govsim " + shlex.join(argv),
        reproduce=reproduce,
        configs=configs,
        seeds=seeds,
        posterior=posterior,
        argv=list(argv),
        baseline=baseline,
        diff_file=diff_file,
        master_seed=master_seed,
        replicates=replicates,
        n_jobs=n_jobs,
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
          outcome, with its 95% t-interval over seeds, and the same per EUR 1 bn of extra
          public money on the levers (`*_per_eur_bn`; NaN where a scenario costs no more than
          the baseline, `per_euro_note` says why or that the effect is within noise).
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
    configs = load_all(files)
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
        plain_table(
            ["outcome", "scenario", "baseline", "scenario mean", "difference", "95% CI"],
            _difference_rows(diffs, outcomes),
        )
    )
    print_per_billion(diffs, configs[0].name)
    if out is not None:
        run_id = make_run_id("compare", configs, seeds)
        with atomic_dir(out, args.overwrite) as tmp:
            write_comparison(
                tmp,
                kind="compare",
                run_id=run_id,
                files=[f.resolve() for f in files],
                configs=configs,
                seeds=seeds,
                **_call_fields(args),
                summaries=summaries,
                diffs=diffs,
                diff_file="comparison.csv",
                wall_s=wall,
                reproduce="govsim " + shlex.join(args.argv),
            )
            uncertainty = getattr(args, "posterior_uncertainty", None)
            if uncertainty is not None:
                uncertainty.to_csv(tmp / "posterior_uncertainty.csv", index=False)
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
    shipped = SCENARIOS_DIR
    scenario_dir = Path(args.scenario_dir).resolve() if args.scenario_dir else shipped
    files = demo_files(scenario_dir)
    configs = load_all(files)
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
        written = write_comparison(
            tmp,
            kind="demo",
            run_id=run_id,
            files=files,
            configs=configs,
            seeds=seeds,
            **_call_fields(args),
            summaries=summaries,
            diffs=diffs,
            diff_file="lever_effects.csv",
            wall_s=wall,
            reproduce=reproduce,
        )
        uncertainty = getattr(args, "posterior_uncertainty", None)
        if uncertainty is not None:  # --posterior: seed noise vs parameter uncertainty
            uncertainty.to_csv(tmp / "posterior_uncertainty.csv", index=False)
    print(f"simulated {len(configs) * len(seeds)} runs in {wall:.1f} s")
    print(f"results: {out}  ({', '.join(written)})")
    reference = summaries[configs[0].name]
    parts = []
    for outcome in KEY_OUTCOMES:
        info = figures.describe_outcome(outcome)
        mean = sum(run.headline[outcome] for run in reference) / len(reference)
        parts.append(f"{info.label} {fmt(mean * info.scale)} {info.unit}")
    print(f"baseline '{configs[0].name}' means: " + "; ".join(parts))
    print(_demo_table(diffs))
    print_per_billion(diffs, configs[0].name)
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
                f"{fmt(rec['mean_difference'] * info.scale)} {ci(rec, info.scale)}"
            )
    return plain_table(headers, [[name, *cells[name]] for name in order])
