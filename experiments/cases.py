"""Case-city reports: the EU model with one of the brief's challenge-owner cities in focus.

``govsim case experiments/scenarios/cases/dunkirk.toml`` runs the case scenario (levers off),
each lever of the brief alone and the full package, all with the same seeds (common random
numbers), and
reports the focus city's trajectories: emissions of the city's own scope and with its
industrial zone, its plants' routes, emissions and jobs, citizen support and alignment.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import stats
from tqdm import tqdm

from abm.agents.state import SECTORS_CITY
from abm.config import CaseConfig, ScenarioConfig
from abm.model import GovernanceModel
from abm.policies import LEVER_NAMES, LeverSetting
from abm.rng import replicate_seeds
from abm.rules import industry_tech as it
from experiments import results, text
from experiments.argtypes import int_at_least, jobs
from experiments.errors import BadInput
from experiments.paths import LEVERS_DIR
from experiments.scenario import load_scenario

CASE_YEARS: tuple[int, ...] = (2030, 2040, 2050)
MISSION_TARGET_CUT_PCT = 80.0  # Mission: -80% by 2030, the rest offset (Froissard 2024)
CITY_SCOPE = [f"emissions_{s}_t" for s in SECTORS_CITY]
CITY_COLUMNS = [
    "year",
    *CITY_SCOPE,
    "emissions_industry_t",
    "emissions_sme_t",
    "citizen_support",
    "support_variance",
    "alignment",
    "industry_dialogue",
    "funds_absorbed_eur",
    "staff_fte",
    "ccc_signed",
]
PLANT_COLUMNS = ["year", "name", "sector", "technology", "pending_technology", "open"]
PLANT_VALUES = [
    "emissions_t",
    "jobs",
    "aid_eur_cumulative",
    "kappa",
    "production_mt",
    "cut_route_t",
]


def lever_settings(levers_dir: Path) -> dict[str, LeverSetting]:
    """Each lever as the shipped lever files set it (intensity and start year)."""
    out = {}
    for name in LEVER_NAMES:
        path = levers_dir / f"{name}.toml"
        if not path.is_file():
            raise BadInput(f"lever file {path} not found (needed for the case variants)")
        out[name] = load_scenario(path).lever(name)
    return out


def case_variants(config: ScenarioConfig, levers_dir: Path) -> list[ScenarioConfig]:
    """The case with levers off, with each lever alone, and with the full package."""
    settings = lever_settings(levers_dir)
    off = tuple(LeverSetting(name) for name in LEVER_NAMES)
    variants = [dataclasses.replace(config, name="baseline", levers=off)]
    for name in LEVER_NAMES:
        levers = tuple(settings[n] if n == name else LeverSetting(n) for n in LEVER_NAMES)
        variants.append(dataclasses.replace(config, name=name, levers=levers))
    full = tuple(settings[n] for n in LEVER_NAMES)
    variants.append(dataclasses.replace(config, name="full_package", levers=full))
    return variants


def run_focus(config: ScenarioConfig, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One run; the focus city's yearly rows and its plants' yearly rows."""
    model = GovernanceModel(config, seed)
    result = model.run()
    city = result.city_year
    own = city[city["city_id"] == model.focus_city][CITY_COLUMNS].reset_index(drop=True)
    plants = result.installation_year
    mine = plants[(plants["city_id"] == model.focus_city) & (plants["sector"] != "sme_cluster")]
    mine = mine[PLANT_COLUMNS + PLANT_VALUES].reset_index(drop=True)
    for frame in (own, mine):
        frame.insert(0, "seed", seed)
        frame.insert(0, "scenario", config.name)
    return own, mine


def _chunk(config: ScenarioConfig, seeds: Sequence[int]) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    return [run_focus(config, s) for s in seeds]


def run_case(
    variants: Sequence[ScenarioConfig], seeds: Sequence[int], jobs: int, progress: bool
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All variants x seeds (one task per variant); identical whatever ``jobs`` is."""
    tasks = [delayed(_chunk)(v, list(seeds)) for v in variants]
    bar = tqdm(total=len(variants) * len(seeds), disable=not progress, unit="run", desc="case")
    cities: list[pd.DataFrame] = []
    plants: list[pd.DataFrame] = []
    for chunk in Parallel(n_jobs=jobs, return_as="generator")(tasks):
        for own, mine in chunk:
            cities.append(own)
            plants.append(mine)
        bar.update(len(chunk))
    bar.close()
    city = pd.concat(cities, ignore_index=True)
    city["emissions_city_scope_t"] = city[CITY_SCOPE].sum(axis=1)
    city["emissions_with_industry_t"] = (
        city["emissions_city_scope_t"] + city["emissions_industry_t"]
    )
    return city, pd.concat(plants, ignore_index=True)


def _switch_year(plants: pd.DataFrame) -> float:
    """First year any local plant has a route change under way or done (its decision year)."""
    start = plants[plants["year"] == plants["year"].min()].set_index("name")["technology"]
    changed = (plants["pending_technology"].astype(str) != "none") | (
        plants["technology"].astype(str) != plants["name"].map(start).astype(str)
    )
    years = plants.loc[changed, "year"]
    return float(years.min()) if len(years) else float("nan")


def _plant_facts(mine: pd.DataFrame, y0: int, y1: int, case: CaseConfig | None) -> dict[str, float]:
    """The plants' shares of national GDP and CO2, aid per tonne abated and jobs by route.

    GDP share: the plants' sales at world prices over the country's GDP (direct sales only,
    no supply-chain effects); aid per tonne: cumulative aid by the last year over the tonnes
    abated by route switches summed over the run.
    """
    out: dict[str, float] = {}
    start = mine[mine["year"] == y0]
    if case is not None and case.national_gdp_eur is not None:
        price = start["sector"].astype(str).map(it.WORLD_PRICE_EUR_PER_T).astype(float)
        sales = float((start["production_mt"] * 1e6 * price).sum())
        out[f"plant_gdp_share_{y0}_pct"] = 100.0 * sales / case.national_gdp_eur
    if case is not None and case.national_co2_t is not None:
        emitted = float(start["emissions_t"].sum())
        out[f"plant_national_co2_share_{y0}_pct"] = 100.0 * emitted / case.national_co2_t
    abated = float(mine["cut_route_t"].sum())
    aid = float(mine.loc[mine["year"] == y1, "aid_eur_cumulative"].sum())
    out["aid_eur_per_t_abated"] = aid / abated if abated > 0 else float("nan")
    end = mine[mine["year"] == y1]
    for route, count in end.groupby(end["technology"].astype(str))["jobs"].sum().items():
        out[f"jobs_{route}_{y1}"] = float(count)
    return out


def run_metrics(
    city: pd.DataFrame, plants: pd.DataFrame, case: CaseConfig | None = None
) -> pd.DataFrame:
    """One row per (scenario, seed): the case's headline numbers."""
    rows = []
    for (scenario, seed), own in city.groupby(["scenario", "seed"], sort=False):
        own = own.sort_values("year")
        years = own["year"].to_numpy(dtype=int)
        at = {int(y): k for k, y in enumerate(years)}

        def value(col: str, year: int, frame: pd.DataFrame = own, at: dict[int, int] = at) -> float:
            return float(frame[col].to_numpy(dtype=float)[at[year]])

        mine = plants[(plants["scenario"] == scenario) & (plants["seed"] == seed)]
        plant_sum = mine.groupby("year")[["emissions_t", "jobs"]].sum()
        y0, y1 = int(years.min()), int(years.max())
        row: dict[str, float | str | int] = {"scenario": str(scenario), "seed": int(str(seed))}
        for y in CASE_YEARS:
            if y not in at:
                continue
            for scope in ("city_scope", "with_industry"):
                col = f"emissions_{scope}_t"
                row[f"{scope}_cut_{y}_pct"] = 100.0 * (1.0 - value(col, y) / value(col, y0))
        if 2030 in at:
            for scope in ("city_scope", "with_industry"):
                cut = 100.0 * (
                    1.0 - value(f"emissions_{scope}_t", 2030) / value(f"emissions_{scope}_t", y0)
                )
                row[f"{scope}_gap_to_target_2030_pp"] = MISSION_TARGET_CUT_PCT - cut
        for y in (y0, y1):
            total = value("emissions_with_industry_t", y)
            row[f"industry_share_{y}_pct"] = 100.0 * value("emissions_industry_t", y) / total
            jobs = plant_sum["jobs"].to_numpy(dtype=float)[plant_sum.index.to_numpy() == y]
            row[f"plant_jobs_{y}"] = float(jobs.sum())
        end = plant_sum["emissions_t"].to_numpy(dtype=float)[plant_sum.index.to_numpy() == y1]
        row["plant_emissions_end_mt"] = float(end.sum()) / 1e6
        row["route_decision_year"] = _switch_year(mine)
        row.update(_plant_facts(mine, y0, y1, case))
        row["citizen_support_end"] = value("citizen_support", y1)
        row["support_variance_end"] = value("support_variance", y1)
        rows.append(row)
    return pd.DataFrame(rows)


def summarise(metrics: pd.DataFrame) -> pd.DataFrame:
    """Mean and 90% interval over seeds of each metric, per scenario."""
    value_cols = [c for c in metrics.columns if c not in ("scenario", "seed")]
    long = metrics.melt(["scenario", "seed"], value_cols, "metric")
    g = long.groupby(["scenario", "metric"], sort=False)["value"]
    out = g.agg(mean="mean", low=lambda v: v.quantile(0.05), high=lambda v: v.quantile(0.95))
    return out.reset_index()


def paired_effects(metrics: pd.DataFrame, reference: str = "baseline") -> pd.DataFrame:
    """Per scenario and metric: mean paired difference from the reference, 95% t-interval."""
    base = metrics[metrics["scenario"] == reference].set_index("seed")
    rows = []
    for scenario, group in metrics.groupby("scenario", sort=False):
        if scenario == reference:
            continue
        mine = group.set_index("seed")
        for col in mine.columns:
            if col == "scenario":
                continue
            diff = (mine[col] - base[col]).dropna()
            n = int(diff.size)
            mean = float(diff.mean()) if n else float("nan")
            half = (
                float(stats.t.ppf(0.975, n - 1) * diff.std(ddof=1) / np.sqrt(n))
                if n > 1
                else float("nan")
            )
            rows.append(
                {
                    "scenario": scenario,
                    "metric": col,
                    "mean_difference": mean,
                    "ci_low": mean - half,
                    "ci_high": mean + half,
                    "n": n,
                }
            )
    return pd.DataFrame(rows)


def plot_case(
    city: pd.DataFrame, plants: pd.DataFrame, title: str, run_id: str, path: Path
) -> None:
    """Four panels: emissions with and without industry, plant emissions, jobs, support."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    colours = {"baseline": "#000000", "full_package": "#D55E00"}
    fig = Figure(figsize=(12, 8), constrained_layout=True)
    axes = fig.subplots(2, 2)
    shown = ["baseline", "full_package"]
    city_ax = axes[0, 0].twinx()  # the city's own scope is far smaller than its industrial zone
    for scenario in shown:
        own = city[city["scenario"] == scenario].groupby("year")
        colour, name = colours[scenario], text.label(scenario)
        zone = own["emissions_with_industry_t"].mean() / 1e6
        axes[0, 0].plot(zone.index, zone.values, "--", color=colour, label=f"{name}: with industry")
        scope = own["emissions_city_scope_t"].mean() / 1e6
        city_ax.plot(scope.index, scope.values, "-", color=colour, label=f"{name}: city scope")
        mine = plants[plants["scenario"] == scenario].groupby(["seed", "year"])
        per_year = mine[["emissions_t", "jobs"]].sum().groupby("year")
        axes[0, 1].plot(
            per_year["emissions_t"].mean().index,
            per_year["emissions_t"].mean() / 1e6,
            color=colour,
            label=name,
        )
        axes[1, 0].plot(
            per_year["jobs"].mean().index, per_year["jobs"].mean(), color=colour, label=name
        )
        support = own["citizen_support"]
        axes[1, 1].plot(support.mean().index, support.mean(), color=colour, label=name)
        axes[1, 1].fill_between(
            support.mean().index,
            support.quantile(0.05),
            support.quantile(0.95),
            color=colour,
            alpha=0.15,
        )
    axes[0, 0].set(
        title="Territorial emissions: with industry (dashed, left), city scope (solid, right)",
        ylabel="with industrial zone, Mt CO$_2$e per year",
        ylim=(0, None),
    )
    city_ax.set(ylabel="city scope, Mt CO$_2$e per year", ylim=(0, None))
    city_ax.legend(fontsize=8, loc="lower left")
    axes[0, 1].set(
        title="Emissions of the city's large plants", ylabel="Mt CO$_2$ per year", ylim=(0, None)
    )
    axes[1, 0].set(title="Direct jobs at the city's large plants", ylabel="jobs", ylim=(0, None))
    axes[1, 1].set(
        title="Citizen support for climate policy (mean, 90% band)",
        ylabel="support [0, 1]",
        ylim=(0, 1),
    )
    for ax in axes.flat:
        ax.set_xlabel("year")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.text(0.01, 0.005, f"run {run_id}", fontsize=7, color="#555555")
    fig.savefig(path, dpi=120)


def plot_effects(effects: pd.DataFrame, metric: str, label: str, run_id: str, path: Path) -> None:
    """Paired differences from the case baseline for one metric, with 95% intervals."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    rows = effects[effects["metric"] == metric].sort_values("mean_difference")
    fig = Figure(figsize=(8, 0.45 * len(rows) + 1.5), constrained_layout=True)
    ax = fig.subplots()
    y = np.arange(len(rows))
    err = np.vstack(
        [rows["mean_difference"] - rows["ci_low"], rows["ci_high"] - rows["mean_difference"]]
    )
    ax.barh(y, rows["mean_difference"], xerr=err, color="#0072B2", capsize=3)
    ax.set_yticks(y, text.labels(rows["scenario"].tolist()))
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel(f"difference from the case baseline: {label}")
    ax.grid(axis="x", alpha=0.3)
    fig.text(0.01, 0.005, f"run {run_id}", fontsize=7, color="#555555")
    fig.savefig(path, dpi=120)


def cmd_case(args: argparse.Namespace) -> int:
    """Run a case city under the brief's levers and write its report directory."""
    config = load_scenario(args.case_file)
    if config.case is None:
        raise BadInput(f"{args.case_file}: no [case] table; expected a case scenario file")
    levers_dir = Path(args.levers_dir) if args.levers_dir else LEVERS_DIR
    variants = case_variants(config, levers_dir)
    seeds = replicate_seeds(args.seed, args.replicates)
    run_id = results.make_run_id("case", variants, seeds)
    out = (
        Path(args.out)
        if args.out
        else Path(args.out_root) / f"case-{config.name}-{results.stamp()}"
    )
    if out.exists() and any(out.iterdir()):
        raise BadInput(f"output directory {out} exists and is not empty")
    started = time.perf_counter()
    city, plants = run_case(variants, seeds, args.jobs, not args.no_progress)
    metrics = run_metrics(city, plants, config.case)
    summary = summarise(metrics)
    effects = paired_effects(metrics)
    with results.atomic_dir(out) as tmp:
        city.to_csv(tmp / "trajectories.csv", index=False)
        plants.to_csv(tmp / "plants.csv", index=False)
        metrics.to_csv(tmp / "runs.csv", index=False)
        summary.to_csv(tmp / "summary.csv", index=False)
        effects.to_csv(tmp / "effects.csv", index=False)
        focus = config.case.focus_city
        plot_case(
            city,
            plants,
            f"{focus}: case baseline vs full package ({len(seeds)} seeds)",
            run_id,
            tmp / "trajectories.png",
        )
        plot_effects(
            effects,
            "with_industry_cut_2050_pct",
            "cut in territorial emissions by 2050 incl. industry (pp)",
            run_id,
            tmp / "effect_with_industry_cut_2050.png",
        )
        plot_effects(
            effects,
            "plant_jobs_2050",
            "direct plant jobs in 2050",
            run_id,
            tmp / "effect_plant_jobs_2050.png",
        )
        command = "govsim " + shlex.join(args.argv)
        info = results.new_manifest(
            "case",
            run_id,
            command=command,
            configs=variants,
            seeds=seeds,
            scenario=config.name,
            config=config.as_dict(),
            scenarios=[v.name for v in variants],
        )
        results.write_manifest(tmp, info)
        results.write_text(
            tmp / "README.md",
            f"# Case {focus} (`{run_id}`)\n\nScenarios: {', '.join(v.name for v in variants)}; "
            f"{len(seeds)} seeds each (common random numbers).\n\nReproduce: `{command}`\n\n"
            "- `trajectories.csv`: the focus city per scenario, seed and year\n"
            "- `plants.csv`: the city's large plants per scenario, seed and year\n"
            "- `runs.csv`: the case metrics per run (incl. the plants' shares of national GDP "
            "(direct sales at world prices / GDP: turnover, not value added) and of national CO2 "
            "(the plants' own route emissions, not their power plants) where the case file "
            "gives them (ODD 7.13), aid per tonne abated by route switches, "
            "direct jobs by route); `summary.csv`: mean and 90% interval\n"
            "- `effects.csv`: paired differences from the case baseline with 95% t-intervals\n",
        )
    base = summary[summary["scenario"] == "baseline"].set_index("metric")["mean"]
    seconds = time.perf_counter() - started
    print(
        f"case {focus}: {len(variants)} scenarios x {len(seeds)} seeds in {seconds:.1f} s -> {out}"
    )
    y0 = config.start_year
    for key in (
        "city_scope_cut_2050_pct",
        "with_industry_cut_2050_pct",
        f"industry_share_{y0}_pct",
        "industry_share_2050_pct",
        f"plant_jobs_{y0}",
        f"plant_gdp_share_{y0}_pct",
        f"plant_national_co2_share_{y0}_pct",
        "aid_eur_per_t_abated",
        "route_decision_year",
    ):
        if key in base.index:
            print(f"  baseline {key}: {base[key]:.1f}")
    best = effects[effects["metric"] == "with_industry_cut_2050_pct"].sort_values(
        "mean_difference", ascending=False
    )
    for row in best.head(4).itertuples():
        interval = f"[{row.ci_low:+.2f}, {row.ci_high:+.2f}]"
        print(f"  {row.scenario}: {row.mean_difference:+.2f} pp {interval}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``govsim case``."""
    case = sub.add_parser(
        "case", help="run a case city (Dunkirk, Differdange, Kosice) under the brief's levers"
    )
    case.add_argument(
        "case_file", help="case scenario file, e.g. experiments/scenarios/cases/dunkirk.toml"
    )
    case.add_argument(
        "--replicates", type=int_at_least(1), default=8, help="seeds per scenario (default 8)"
    )
    case.add_argument("--seed", type=int_at_least(0), default=0, help="master seed (default 0)")
    case.add_argument("--jobs", type=jobs, default=-1, help="parallel workers (default: all cores)")
    case.add_argument("--out", help="output directory (default results/case-<name>-<time>)")
    case.add_argument(
        "--out-root", default="results", help="where the default output directory goes"
    )
    case.add_argument(
        "--levers-dir",
        help="lever files to use (default: the shipped experiments/scenarios/levers)",
    )
    case.add_argument("--no-progress", action="store_true", help="no progress bar")
    case.set_defaults(handler=cmd_case)
