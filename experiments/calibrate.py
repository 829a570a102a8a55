"""``govsim survey`` (a synthetic survey) and ``govsim calibrate`` (ABC-SMC with diagnostics).

``govsim calibrate --out DIR`` runs (or resumes) ABC-SMC into ``DIR/abc.db`` and then writes
the diagnostics next to it: ``generations.csv`` (epsilon, ESS, simulations, acceptance, wall
time per generation), ``posterior.csv`` (last generation, weighted), ``draws.csv``,
``fit_table.csv`` and ``ppc.csv`` (posterior predictive checks of every fitted and held-out
target), ``posterior_marginals.png``, ``posterior_pairs.png``, ``epsilon_ess.png``,
``ppc_fit.png``, ``ppc_held_out.png`` and ``manifest.json`` (kind ``calibration``).
``--export`` also writes the posterior into ``calibration/posterior/`` (or a given folder).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import shlex
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from abm import rng as seeds
from abm.config import PARAMETER_META
from abm.survey import administer, warm_up
from calibration import diagnostics, engines, npe_flow, posterior, smc
from calibration.targets import (
    DYNAMICS_DIR,
    TARGETS_DIR,
    TargetError,
    TargetSet,
    load_all_targets,
)
from experiments import results
from experiments.argtypes import int_at_least, jobs
from experiments.errors import BadInput
from experiments.scenario import load_scenario
from experiments.sweep import dask_client

N_DRAWS_EXPORTED = 1000
# diagnostics copied next to an exported posterior, so the committed fit can be inspected
EXPORTED_DIAGNOSTICS = (
    "generations.csv",
    "fit_table.csv",
    "ppc.csv",
    "posterior_marginals.png",
    "epsilon_ess.png",
    "ppc_fit.png",
    "ppc_held_out.png",
)
# every file write_diagnostics writes into the run directory (replaced together)
DIAGNOSTIC_FILES = (
    "generations.csv",
    "posterior.csv",
    "draws.csv",
    "posterior_summary.csv",
    "fit_table.csv",
    "ppc.csv",
    "posterior_marginals.png",
    "posterior_pairs.png",
    "epsilon_ess.png",
    "ppc_fit.png",
    "ppc_held_out.png",
    "manifest.json",
)
# the engines' comparison and coverage test, exported when present
OPTIONAL_EXPORTS = (
    "coverage.csv",
    "npe_recalibration.csv",
    "coverage.png",
    "sbc_ranks.csv",
    "engine_comparison.csv",
    "engine_comparison_flow.csv",
    "engine_costs.csv",
)
DEFAULT_PPC_DRAWS = 100
DEVIANCE_REFERENCE_DRAWS = 50
NMC_SAMPLE_SIZE = 62


# ---------------------------------------------------------------------------------------------
def cmd_survey(args: argparse.Namespace) -> int:
    """Simulate to the survey date and write one synthetic survey as a tidy CSV."""
    config = load_scenario(args.scenario)
    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise BadInput(f"{out} exists; use --overwrite to replace it")
    if out.suffix.lower() != ".csv":
        raise BadInput(f"--out {out}: must be a .csv file")
    model = warm_up(config, args.seed)
    rng = seeds.generator(args.seed, "survey")
    table = administer(model, rng, sample_size=args.sample_size)
    with results.atomic_file(out) as tmp:
        table.to_csv(tmp, index=False)
    respondents = table[table["respondent"]]
    print(
        f"wrote {out}: {table['city_id'].nunique()} cities, {table['item'].nunique()} items, "
        f"{len(table)} answers ({respondents['city_id'].nunique()} cities in the samples "
        f"compared with the surveys; column 'respondent')"
    )
    return 0


# ---------------------------------------------------------------------------------------------
def _spec_digest(spec: smc.CalibrationSpec) -> str:
    """Hash of the settings that define the ABC run (not its length), to guard resumes."""
    keys = {k: v for k, v in spec.as_dict().items() if k not in ("generations", "max_simulations")}
    return hashlib.sha256(json.dumps(keys, sort_keys=True).encode()).hexdigest()


def _targets_sha256() -> dict[str, str]:
    files = [*sorted(TARGETS_DIR.glob("*.toml")), *sorted(DYNAMICS_DIR.glob("*.toml"))]
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


def _prepare_out(out: Path, spec: smc.CalibrationSpec, overwrite: bool) -> None:
    """Create ``out`` or check that it holds a resumable run of the same spec."""
    stamp = out / "spec.json"
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out {out}: exists and is not a directory")
    if out.is_dir() and any(out.iterdir()):
        if overwrite:
            shutil.rmtree(out)
        elif not stamp.is_file():
            raise BadInput(
                f"--out {out}: not empty and not a calibration run directory (no spec.json); "
                "use another directory or --overwrite"
            )
        else:
            saved = json.loads(stamp.read_text())
            if saved.get("digest") != _spec_digest(spec):
                raise BadInput(
                    f"--out {out}: holds a calibration with other settings "
                    f"({stamp}); resuming needs the same spec (parameters, population, "
                    "targets, seed); use another directory or --overwrite"
                )
            return
    out.mkdir(parents=True, exist_ok=True)
    results.write_json(stamp, {"digest": _spec_digest(spec), "spec": spec.as_dict()})


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Run the calibration engine, then write diagnostics (and optionally export the posterior).

    Engine ``npe`` (default): simulate the reference table, train the neural posterior, test
    coverage on held-out synthetic surveys. Engine ``abc``: ABC-SMC (resumable). ``--compare``
    also runs the other engine on the same simulation budget and writes the comparison.
    """
    try:
        spec = smc.load_spec(Path(args.spec) if args.spec else None).with_changes(
            population_size=args.population,
            generations=args.generations,
            max_simulations=args.max_simulations,
            seed=args.seed,
            engine=args.engine,
            simulations=args.simulations,
            coverage_surveys=args.coverage_surveys,
        )
        targets = load_all_targets()
        fit, held = smc.split_targets(spec, targets)
    except (smc.SpecError, TargetError) as exc:
        raise BadInput(str(exc)) from exc
    if spec.engine == "npe_flow" and not npe_flow.available():  # before anything is written
        raise BadInput(f"engine npe_flow needs the optional extra: {npe_flow.INSTALL_HINT}")
    config = load_scenario(spec.scenario)
    out = Path(args.out)
    _prepare_out(out, spec, args.overwrite)
    where = args.scheduler or f"{args.jobs} local process(es)"
    print(
        f"govsim calibrate ({spec.engine}): {len(spec.parameters)} parameters, {len(fit)} "
        f"fitted targets, {len(held)} held out; {spec.simulations} simulations "
        f"(+{spec.coverage_surveys} for coverage) on {where} -> {out}",
        flush=True,
    )
    sampled = smc.SurveySimulator(config, spec.parameters, smc.sample_sizes(targets))
    runs: dict[str, EngineRun] = {}
    flow = spec.engine == "npe_flow"
    # ABC-SMC first: its workers are forked, and the flow's JAX must not be loaded by then
    if spec.engine == "abc" or args.compare:
        runs["abc"] = _run_smc(spec, config, out, args)
    if spec.engine in ("npe", "npe_flow") or args.compare:
        runs.update(_run_npe(spec, sampled, fit, out, args.jobs, flow=flow))
    chosen = runs[spec.engine]
    if args.compare:
        comparison = engines.agreement(
            runs["npe"].particles, runs["abc"].particles, spec.parameters, ("npe", "abc_smc")
        )
        with results.atomic_file(out / "engine_comparison.csv") as tmp:
            comparison.to_csv(tmp, index=False, float_format="%.6g")
        costs = pd.DataFrame(
            [
                {"engine": k, "simulations": r.simulations, "wall_s": round(r.wall_s, 1)}
                for k, r in runs.items()
            ]
        )
        with results.atomic_file(out / "engine_costs.csv") as tmp:
            costs.to_csv(tmp, index=False)
        print(comparison.round(3).to_string(index=False))
        print(costs.to_string(index=False))
    if "npe_flow" in runs:  # the two neural estimators, trained on one table
        flows = engines.agreement(
            runs["npe"].particles,
            runs["npe_flow"].particles,
            spec.parameters,
            ("npe", "npe_flow"),
        )
        with results.atomic_file(out / "engine_comparison_flow.csv") as tmp:
            flows.to_csv(tmp, index=False, float_format="%.6g")
        print(flows.round(3).to_string(index=False))
    run_id = results.run_id_for("calibration", _spec_digest(spec))
    info = write_diagnostics(
        out,
        spec=spec,
        config_sim=smc.SurveySimulator(config, spec.parameters),
        run=chosen,
        run_id=run_id,
        ppc_draws=args.ppc_draws,
        command="govsim " + shlex.join(args.argv),
        engines_run={k: (r.simulations, r.wall_s) for k, r in runs.items()},
    )
    if args.export is not None:
        dest = Path(args.export) if args.export else posterior.POSTERIOR_DIR
        extra = [f for f in OPTIONAL_EXPORTS if (out / f).is_file()]
        with results.staged_files(dest, [*posterior.FILES, *EXPORTED_DIAGNOSTICS, *extra]) as tmp:
            posterior.write_posterior(
                tmp,
                pd.read_csv(out / "posterior.csv"),
                pd.read_csv(out / "draws.csv"),
                {**info, "exported_from": str(out.resolve())},
            )
            for name in (*EXPORTED_DIAGNOSTICS, *extra):
                shutil.copy2(out / name, tmp / name)
        print(f"exported the posterior and its diagnostics to {dest}")
    return 0


@dataclass(frozen=True)
class EngineRun:
    """One engine's posterior (weighted particles), progress table and cost."""

    engine: str
    particles: pd.DataFrame
    generations: pd.DataFrame
    simulations: int
    wall_s: float


def _run_npe(
    spec: smc.CalibrationSpec,
    sampled: smc.SurveySimulator,
    fit: TargetSet,
    out: Path,
    jobs: int,
    flow: bool = False,
) -> dict[str, EngineRun]:
    """Reference table, NPE training, coverage test; writes coverage.csv/png, sbc_ranks.csv
    and npe_recalibration.csv (the interval-width map fitted on the held-out part of the table).

    With ``flow`` the BayesFlow coupling-flow NPE is trained on the same table too (run
    ``npe_flow``; its coverage rows sit beside the Gaussian NPE's and rejection ABC's).
    """
    theta = engines.prior_draws(spec, spec.simulations + spec.coverage_surveys, "npe_prior")
    started = time.perf_counter()
    table = engines.simulate_table(sampled, theta, jobs)
    train = engines.Table(
        table.theta.iloc[: spec.simulations].reset_index(drop=True),
        table.shares[: spec.simulations],
        table.wall_s,
    )
    npe = engines.train_npe(spec, train, fit)
    trained = time.perf_counter() - started
    rng = seeds.generator(spec.seed, "npe_posterior")
    particles = engines.npe_posterior(npe, fit, N_DRAWS_EXPORTED, rng)
    print(
        f"npe: {spec.simulations} simulations in {table.wall_s:.0f} s, trained in "
        f"{trained - table.wall_s:.0f} s ({len(npe.history)} epochs)",
        flush=True,
    )
    print(f"npe: {npe.recalibration_note}", flush=True)
    if npe.recalibration is not None:
        recal = pd.DataFrame(npe.recalibration.table())
        with results.atomic_file(out / "npe_recalibration.csv") as tmp:
            recal.to_csv(tmp, index=False, float_format="%.4g")
        print(recal.round(3).to_string(index=False), flush=True)
    runs = {"npe": _table_run("npe", particles, spec.simulations, trained)}
    others: dict[str, engines.PosteriorEstimator] = {}
    if flow:
        flow_started = time.perf_counter()
        flow_npe = engines.train_npe_flow(spec, train, fit)
        flow_wall = table.wall_s + time.perf_counter() - flow_started
        flow_rng = seeds.generator(spec.seed, "npe_posterior")
        flow_particles = engines.npe_posterior(flow_npe, fit, N_DRAWS_EXPORTED, flow_rng)
        print(
            f"npe_flow: the same {spec.simulations} simulations, trained in "
            f"{flow_wall - table.wall_s:.0f} s ({len(flow_npe.history)} epochs)",
            flush=True,
        )
        runs["npe_flow"] = _table_run("npe_flow", flow_particles, spec.simulations, flow_wall)
        others["npe_flow"] = flow_npe
    if spec.coverage_surveys > 0:
        test = engines.Table(
            table.theta.iloc[spec.simulations :].reset_index(drop=True),
            table.shares[spec.simulations :],
            0.0,
        )
        cov, ranks = engines.coverage(spec, train, test, fit, npe, others)
        with results.atomic_file(out / "coverage.csv") as tmp:
            cov.to_csv(tmp, index=False, float_format="%.4g")
        with results.atomic_file(out / "sbc_ranks.csv") as tmp:
            ranks.to_csv(tmp, index=False)
        diagnostics.plot_coverage(cov, ranks, out / "coverage.png", engines.SBC_DRAWS)
        print(cov.round(3).to_string(index=False), flush=True)
    return runs


def _table_run(engine: str, particles: pd.DataFrame, simulations: int, wall: float) -> EngineRun:
    """An amortised engine's run: its draws and a one-row progress table."""
    generations = pd.DataFrame(
        [
            {
                "generation": 0,
                "epsilon": float("nan"),
                "ess": float(len(particles)),
                "n_particles": len(particles),
                "n_simulations": simulations,
                "acceptance_rate": float("nan"),
                "wall_s": wall,
            }
        ]
    )
    return EngineRun(engine, particles, generations, simulations, wall)


def _run_smc(
    spec: smc.CalibrationSpec, config: Any, out: Path, args: argparse.Namespace
) -> EngineRun:
    """ABC-SMC on drawn surveys with at most ``spec.simulations`` simulations."""
    budget = spec.with_changes(max_simulations=min(spec.max_simulations, spec.simulations))
    started = time.perf_counter()
    if args.scheduler:
        with dask_client(args.scheduler, args.jobs) as client:
            history = smc.run_abc(budget, config, out / "abc.db", jobs=args.jobs, client=client)
    else:
        history = smc.run_abc(budget, config, out / "abc.db", jobs=args.jobs)
    wall = time.perf_counter() - started
    generations = smc.generations_table(history)
    particles = smc.posterior_frame(history)[[*spec.parameters, "weight"]]
    n_sim = int(generations["n_simulations"].sum()) if len(generations) else 0
    print(f"abc-smc: {len(generations)} generations, {n_sim} simulations, {wall:.0f} s")
    return EngineRun("abc", particles, generations, n_sim, wall)


def write_diagnostics(
    out: Path,
    *,
    spec: smc.CalibrationSpec,
    config_sim: smc.SurveySimulator,
    run: EngineRun,
    run_id: str,
    ppc_draws: int,
    command: str,
    engines_run: dict[str, tuple[int, float]] | None = None,
) -> dict[str, Any]:
    """Tables, figures and manifest of a finished (or stopped) calibration, written atomically."""
    targets = load_all_targets()
    fit, held = smc.split_targets(spec, targets)
    inputs = [i for i in spec.inputs if i in targets]
    roles = {
        **dict.fromkeys(fit.ids, "fit"),
        **dict.fromkeys(held.ids, "held_out"),
        **dict.fromkeys(inputs, "input"),
    }
    checked = targets.select([*fit.ids, *held.ids, *inputs])
    generations = run.generations
    particles = run.particles[[*spec.parameters, "weight"]]
    rng = seeds.generator(spec.seed, "calibration_export")
    draws = smc.resample(particles, N_DRAWS_EXPORTED, rng)
    pred = diagnostics.simulate_draws(config_sim, draws.iloc[:ppc_draws], checked, rng)
    fit_table, ppc = diagnostics.fit_tables(checked, roles, pred)
    fit_table = diagnostics.add_not_modelled(fit_table, targets)
    summary = posterior.summarise(particles)
    sampled = dataclasses.replace(config_sim, sizes=smc.sample_sizes(targets))
    dof = diagnostics.deviance_reference(
        sampled, draws.iloc[: min(ppc_draws, DEVIANCE_REFERENCE_DRAWS)], fit, pred, rng
    )
    dof["n_parameters"] = len(spec.parameters)
    with results.staged_files(out, DIAGNOSTIC_FILES) as tmp:
        generations.to_csv(tmp / "generations.csv", index=False)
        particles.to_csv(tmp / "posterior.csv", index=False)
        draws.to_csv(tmp / "draws.csv", index=False)
        summary.to_csv(tmp / "posterior_summary.csv", index=False)
        fit_table.to_csv(tmp / "fit_table.csv", index=False)
        ppc.to_csv(tmp / "ppc.csv", index=False)
        units = {n: str(PARAMETER_META[n]["unit"]) for n in spec.parameters}
        diagnostics.plot_marginals(
            particles, spec.priors(), units, tmp / "posterior_marginals.png", run_id
        )
        diagnostics.plot_pairs(particles, spec.parameters, tmp / "posterior_pairs.png", run_id)
        diagnostics.plot_traces(generations, tmp / "epsilon_ess.png", run_id)
        for role, title in (("fit", "Fitted targets"), ("held_out", "Held-out targets")):
            diagnostics.plot_ppc(
                ppc[ppc["role"] == role], fit_table, tmp / f"ppc_{role}.png", run_id, title
            )
        info = _manifest(spec, generations, summary, fit_table, run_id, command, run.wall_s)
        info["engine"] = run.engine
        info["ppc_draws"] = int(min(ppc_draws, len(draws)))
        info["goodness_of_fit"] = dof
        if engines_run:
            info["engines"] = {
                k: {"simulations": n, "wall_s": round(w, 1)} for k, (n, w) in engines_run.items()
            }
        results.write_manifest(tmp, info)
    _print_summary(generations, fit_table, out)
    print(
        f"deviance {dof['deviance']:.1f} on {dof['df']} df ({dof['df_items']} item df - "
        f"{dof['n_parameters']} parameters): chi2 p = {dof['p_chi2']:.3f}; against drawn "
        f"surveys with respondent effects p = {dof['p_simulated']:.3f}"
    )
    return info


def _manifest(
    spec: smc.CalibrationSpec,
    generations: pd.DataFrame,
    summary: pd.DataFrame,
    fit_table: pd.DataFrame,
    run_id: str,
    command: str,
    abc_wall_s: float,
) -> dict[str, Any]:
    """The calibration's manifest (kind ``calibration``): provenance, spec, fit, cost.

    ``calibration.posterior`` reads ``kind`` and ``run_id``; ``govsim report`` reads
    ``parameters``, ``generations``, ``population_size``, ``targets_fit`` and
    ``targets_held_out``; ``spec`` and ``targets_sha256`` say what was fitted to what, and
    ``seeds`` holds the ABC sampling seed.
    """
    return results.new_manifest(
        "calibration",
        run_id,
        command=command,
        configs=[load_scenario(spec.scenario)],
        seeds=[spec.seed],
        spec=spec.as_dict(),
        targets_sha256=_targets_sha256(),
        parameters=[
            {
                "name": r["name"],
                "unit": r["unit"],
                "prior_low": r["prior_low"],
                "prior_high": r["prior_high"],
                "posterior_median": r["median"],
                "q05": r["q05"],
                "q95": r["q95"],
            }
            for r in summary.to_dict("records")
        ],
        generations=len(generations),
        population_size=spec.population_size,
        n_simulations=int(generations["n_simulations"].sum()) if len(generations) else 0,
        wall_time_s=round(float(generations["wall_s"].sum()), 1) if len(generations) else 0.0,
        wall_time_this_session_s=round(abc_wall_s, 1),
        targets_fit=[str(i) for i in fit_table.loc[fit_table["role"] == "fit", "item"]],
        targets_held_out=[str(i) for i in fit_table.loc[fit_table["role"] == "held_out", "item"]],
    )


def _print_summary(generations: pd.DataFrame, fit_table: pd.DataFrame, out: Path) -> None:
    if len(generations):
        last = generations.iloc[-1]
        print(
            f"{len(generations)} generations, {int(generations['n_simulations'].sum())} "
            f"simulations, {generations['wall_s'].sum():.0f} s; last epsilon "
            f"{last['epsilon']:.1f}, ESS {last['ess']:.0f}"
        )
    print(
        f"not modelled: {int((fit_table['role'] == 'not_modelled').sum())} targets "
        "(reasons in fit_table.csv)"
    )
    for role in ("fit", "held_out"):
        part = fit_table[fit_table["role"] == role]
        print(
            f"{role}: {int(part['within_interval'].sum())}/{len(part)} targets inside their 90% "
            f"predictive interval; summed deviance {part['distance'].sum():.1f} "
            f"on {int(part['df'].sum())} df"
        )
    print(f"diagnostics in {out}")


# ---------------------------------------------------------------------------------------------
def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``govsim survey`` and ``govsim calibrate``."""
    survey = sub.add_parser(
        "survey", help="simulate to the survey date; write every city's answers as a tidy CSV"
    )
    survey.add_argument("scenario", metavar="SCENARIO.toml", help="scenario file")
    survey.add_argument("--seed", type=int_at_least(0), required=True, help="run seed (>= 0)")
    survey.add_argument("--out", required=True, metavar="FILE.csv", help="output CSV")
    survey.add_argument(
        "--sample-size",
        type=int_at_least(1),
        default=NMC_SAMPLE_SIZE,
        metavar="N",
        help=f"self-selected NMC respondents marked in 'respondent' (default {NMC_SAMPLE_SIZE})",
    )
    survey.add_argument("--overwrite", action="store_true", help="replace an existing FILE")
    survey.set_defaults(handler=cmd_survey)

    cal = sub.add_parser(
        "calibrate", help="ABC-SMC calibration to the city surveys (resumable; local or Dask)"
    )
    cal.add_argument(
        "spec", nargs="?", metavar="SPEC.toml", help="calibration spec (default: shipped)"
    )
    cal.add_argument("--out", required=True, metavar="DIR", help="run directory (resumable)")
    cal.add_argument("--population", type=int_at_least(10), help="particles per generation")
    cal.add_argument("--generations", type=int_at_least(1), help="maximum generations")
    cal.add_argument("--max-simulations", type=int_at_least(1), help="simulation budget")
    cal.add_argument("--seed", type=int_at_least(0), help="sampling seed")
    cal.add_argument("--jobs", type=jobs, default=2, help="local processes (default 2)")
    cal.add_argument(
        "--scheduler",
        metavar="tcp://HOST:8786",
        help="run on a Dask cluster: a scheduler address, or 'local' for a LocalCluster of "
        "--jobs workers",
    )
    cal.add_argument(
        "--ppc-draws",
        type=int_at_least(1),
        default=DEFAULT_PPC_DRAWS,
        help=f"posterior draws for the predictive checks (default {DEFAULT_PPC_DRAWS})",
    )
    cal.add_argument(
        "--export",
        nargs="?",
        const="",
        metavar="DIR",
        help="also write the posterior to DIR (default: calibration/posterior)",
    )
    cal.add_argument(
        "--engine",
        choices=smc.ENGINES,
        help="npe (Gaussian neural posterior), npe_flow (BayesFlow coupling flow beside the "
        "Gaussian NPE on one table; extra 'npe') or abc (ABC-SMC)",
    )
    cal.add_argument(
        "--simulations", type=int_at_least(10), help="NPE reference-table size (and budget)"
    )
    cal.add_argument(
        "--coverage-surveys",
        type=int_at_least(0),
        help="synthetic surveys from known parameters for the coverage test",
    )
    cal.add_argument(
        "--compare",
        action="store_true",
        help="also run the other engine on the same budget; write engine_comparison.csv",
    )
    cal.add_argument("--overwrite", action="store_true", help="start DIR afresh")
    cal.set_defaults(handler=cmd_calibrate)
