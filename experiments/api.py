"""govsim's Python API: scenarios, changes, runs, replicates, comparisons, results directories.

Everything a notebook needs, validated as strictly as the command line::

    import govsim

    base = govsim.scenario("baseline")
    funded = govsim.change(base, name="funded", levers={"enhanced_financing": 1.0})
    cmp = govsim.compare(base, funded, replicates=8, jobs=2)
    cmp.differences            # paired differences with 95% intervals, labelled, in units
    cmp.write("results/my-comparison")   # a directory govsim report and govsim serve read

A change names parameters, levers and population settings exactly as a scenario file does;
a wrong name or an out-of-range value raises :class:`ScenarioError` with the same message a
file would get (the "file" is the Python call). Runs of one comparison share their seeds
(common random numbers), so differences are paired, and the numbers equal ``govsim compare``
for the same seeds.
"""

from __future__ import annotations

import shlex
import time
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from abm import outcomes as outcome_table
from abm.agents.state import SECTORS_CITY
from abm.columns import COLUMNS
from abm.config import ScenarioConfig, registry
from abm.model import simulate
from abm.outputs import SimulationResult
from abm.policies import LEVERS
from abm.rng import replicate_seeds
from calibration.posterior import Posterior, load_posterior
from experiments import results
from experiments.compare import write_comparison
from experiments.paths import SCENARIOS_DIR
from experiments.runner import (
    RunSummary,
    check_data_files,
    headline_frame,
    paired_differences,
    pathway_table,
    run_scenarios,
    summary_table,
)
from experiments.scenario import (
    FileValidator,
    Problems,
    ScenarioError,
    build_config,
    list_scenarios,
    load_scenario,
    merge_tables,
    scenario_to_toml,
)

SCENARIO_DIR = SCENARIOS_DIR
ORIGIN = Path("<govsim.change()>")  # where a change's problems are said to be

__all__ = [
    "Comparison",
    "Run",
    "ScenarioError",
    "change",
    "columns",
    "compare",
    "levers",
    "outcomes",
    "parameters",
    "posterior",
    "replicate",
    "run",
    "scenario",
    "scenarios",
]


# --- scenarios ------------------------------------------------------------------------------


def scenarios() -> list[str]:
    """Names of the scenarios shipped with govsim (pass one to :func:`scenario`)."""
    return [str(p.relative_to(SCENARIO_DIR).with_suffix("")) for p in _shipped()]


def _shipped() -> list[Path]:
    return list_scenarios(SCENARIO_DIR)


def scenario(name_or_path: str | Path = "baseline") -> ScenarioConfig:
    """A shipped scenario by name (``"baseline"``, ``"levers/simplification"``) or any file."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        shipped = SCENARIO_DIR / f"{name_or_path}.toml"
        if not shipped.is_file():
            raise ScenarioError(
                f"no shipped scenario named {str(name_or_path)!r}; known: "
                f"{', '.join(scenarios())} (or give the path of a .toml file)"
            )
        path = shipped
    return load_scenario(path)


def change(
    config: ScenarioConfig,
    *,
    name: str | None = None,
    description: str | None = None,
    parameters: Mapping[str, float] | None = None,
    levers: Mapping[str, float | Mapping[str, float]] | None = None,
    population: Mapping[str, Any] | None = None,
    **timing: int,
) -> ScenarioConfig:
    """``config`` with some settings changed, validated as strictly as a scenario file.

    ``levers`` maps a lever to an intensity or to ``{"intensity": x, "start_year": y}``;
    ``parameters`` and ``population`` take the keys of a file's ``[parameters]`` and
    ``[population]`` tables; ``start_year``, ``end_year`` and ``steps_per_year`` may be given
    as keywords. Raises :class:`ScenarioError` naming each bad key and what is allowed.
    """
    override: dict[str, Any] = {"scenario": {"name": name or config.name}}
    if description is not None:
        override["scenario"]["description"] = description
    override["scenario"].update(timing)
    if parameters:
        override["parameters"] = dict(parameters)
    if population:
        override["population"] = dict(population)
    if levers:
        override["levers"] = {
            lever: dict(value) if isinstance(value, Mapping) else {"intensity": value}
            for lever, value in levers.items()
        }
    problems = Problems()
    base, _ = FileValidator(ORIGIN, problems).validate(tomllib.loads(scenario_to_toml(config)))
    own, _ = FileValidator(ORIGIN, problems).validate(override)
    merged = merge_tables(base, own)
    problems.verification = bool(merged["scenario"].get("verification", False))
    start = merged["scenario"].get("start_year", config.start_year)
    end = merged["scenario"].get("end_year", config.end_year)
    if not problems.lines and end <= start:
        problems.add(ORIGIN, "scenario.end_year", f"{end} not after scenario.start_year {start}")
    if problems.lines:
        raise ScenarioError(problems.lines)
    try:
        return build_config(merged)
    except ValueError as exc:
        raise ScenarioError(f"{ORIGIN}: {exc}") from exc


# --- one run --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One simulation: its tidy tables, headline outcomes and a way to save it."""

    result: SimulationResult

    @property
    def config(self) -> ScenarioConfig:
        """The scenario that ran."""
        return self.result.config

    @property
    def seed(self) -> int:
        """The seed it ran with."""
        return self.result.seed

    @property
    def city_year(self) -> pd.DataFrame:
        """One row per city and year (see :func:`columns` for units)."""
        return self.result.city_year

    @property
    def installation_year(self) -> pd.DataFrame:
        """One row per plant (and SME cluster) and year."""
        return self.result.installation_year

    @property
    def eu_year(self) -> pd.DataFrame:
        """One row per year and level (``EU`` or a country)."""
        return self.result.eu_year

    def headline(self) -> pd.DataFrame:
        """The headline outcomes with label, value and unit as shown (e.g. EUR bn)."""
        raw = self.result.headline()
        rows = []
        for o in outcome_table.OUTCOMES:
            value = raw[o.name]
            rows.append(
                {
                    "outcome": o.name,
                    "label": o.label,
                    "value": value * o.scale,
                    "unit": o.unit,
                    "raw_value": value,
                    "raw_unit": o.stored_unit,
                }
            )
        return pd.DataFrame(rows)

    def by_size_class(self, year: int | None = None) -> pd.DataFrame:
        """Per size class: cities, residents, own-sector cut, workload, staff and investment.

        The cut compares the four city sectors (buildings, transport, energy, waste) in
        ``year`` (default: the last year) with the first recorded year; workload is staff time
        demanded over effective staff time available in that year (``staff_pm_demanded`` /
        ``staff_pm_available``); investment is grants awarded, own-budget and private capital
        over all years per resident and year.
        """
        cy = self.city_year
        y0, y1 = int(cy["year"].min()), int(cy["year"].max() if year is None else year)
        own = [f"emissions_{s}_t" for s in SECTORS_CITY]
        start = cy[cy["year"] == y0].set_index("city_id")
        end = cy[cy["year"] == y1].set_index("city_id")
        money = cy.groupby("city_id")[
            ["funds_awarded_eur", "own_funded_eur", "private_funded_eur"]
        ].sum()
        years = cy["year"].nunique()
        frame = pd.DataFrame(
            {
                "size_class": end["size_class"].astype(str),
                "population": end["population"],
                "own_start_t": start[own].sum(axis=1),
                "own_end_t": end[own].sum(axis=1),
                "workload": end["staff_pm_demanded"]
                / end["staff_pm_available"].where(end["staff_pm_available"] > 0),
                "staff_fte": end["staff_fte"],
                "investment_eur": money.sum(axis=1),
            }
        )
        g = frame.groupby("size_class", observed=True)
        out = pd.DataFrame(
            {
                "cities": g.size(),
                "residents": g["population"].sum(),
                "own_sector_cut_pct": 100.0 * (1.0 - g["own_end_t"].sum() / g["own_start_t"].sum()),
                "median_workload": g["workload"].median(),
                "staff_fte_per_100k": 1e5 * g["staff_fte"].sum() / g["population"].sum(),
                "investment_eur_per_resident_year": g["investment_eur"].sum()
                / g["population"].sum()
                / years,
            }
        )
        out.index.name = "size_class"
        return out.reset_index().assign(year=y1)

    def write(self, out_dir: str | Path, overwrite: bool = False) -> Path:
        """Write the run directory (tables + manifest) that ``govsim report`` reads."""
        results.write_run(
            self.result,
            Path(out_dir),
            overwrite=overwrite,
            command=f"python: govsim.run({self.config.name!r}, seed={self.seed})",
        )
        return Path(out_dir)


def run(config: ScenarioConfig | str, seed: int = 0) -> Run:
    """Simulate one scenario (a config or a shipped scenario's name) with one seed."""
    config = scenario(config) if isinstance(config, str) else config
    check_data_files([config])
    return Run(simulate(config, seed))


# --- replicates and comparisons -------------------------------------------------------------


def posterior(directory: str | Path | None = None) -> Posterior:
    """The committed calibrated posterior (or one in ``directory``)."""
    return load_posterior(Path(directory) if directory is not None else None)


def _draws(post: Posterior | bool | None, seeds: Sequence[int], seed: int) -> Any:
    if post is None or post is False:
        return None, None
    chosen = posterior() if post is True else post
    assert isinstance(chosen, Posterior)
    return chosen.sample(len(seeds), seed), chosen.describe()


def replicate(
    config: ScenarioConfig | str,
    replicates: int = 8,
    seed: int = 0,
    jobs: int = 1,
    posterior: Posterior | bool | None = None,
) -> pd.DataFrame:
    """Headline outcomes of ``replicates`` runs (one row per seed), seeds from master ``seed``.

    With ``posterior`` (``True`` for the committed one) each seed also draws its calibrated
    parameters from the posterior, so the spread includes parameter uncertainty.
    """
    runs = compare(config, replicates=replicates, seed=seed, jobs=jobs, posterior=posterior).runs
    wide = runs.pivot(index="seed", columns="outcome", values="value")
    order = [n for n in outcome_table.OUTCOME_NAMES if n in wide.columns]
    seeds = list(dict.fromkeys(runs["seed"]))
    return wide.loc[seeds, order].reset_index().rename_axis(columns=None)


@dataclass(frozen=True)
class Comparison:
    """Scenarios run with common seeds: paired differences from the first (the baseline)."""

    configs: tuple[ScenarioConfig, ...]
    seeds: tuple[int, ...]
    master_seed: int
    jobs: int
    summaries: Mapping[str, list[RunSummary]]
    wall_s: float
    posterior_info: Mapping[str, Any] | None

    @property
    def baseline(self) -> str:
        """Name of the reference scenario."""
        return self.configs[0].name

    @property
    def runs(self) -> pd.DataFrame:
        """Every headline outcome of every run, tidy: scenario, seed, outcome, value."""
        return headline_frame(self.summaries)

    @property
    def raw_differences(self) -> pd.DataFrame:
        """Paired differences in stored units (as ``govsim compare`` writes them)."""
        return paired_differences(self.summaries, self.baseline)

    @property
    def differences(self) -> pd.DataFrame:
        """Paired differences from the baseline with 95% t-intervals, labelled, in shown units."""
        diffs = self.raw_differences
        if diffs.empty:
            return diffs
        info = {o.name: o for o in outcome_table.OUTCOMES}
        scale = diffs["outcome"].map(lambda n: info[n].scale if n in info else 1.0)
        out = diffs.assign(
            label=diffs["outcome"].map(lambda n: info[n].label if n in info else n),
            unit=diffs["outcome"].map(lambda n: info[n].diff_unit if n in info else ""),
        )
        for col in (
            "mean_scenario",
            "mean_baseline",
            "mean_difference",
            "sd_difference",
            "ci_low",
            "ci_high",
        ):
            out[col] = out[col] * scale
        return out

    @property
    def summary(self) -> pd.DataFrame:
        """Mean, sd and 90% interval over replicates per scenario and outcome."""
        return summary_table(self.summaries)

    @property
    def pathways(self) -> pd.DataFrame:
        """Yearly emissions per scenario (mean and band) and paired differences."""
        return pathway_table(self.summaries, baseline_name=self.baseline)

    def write(self, out_dir: str | Path, overwrite: bool = False) -> Path:
        """Write a ``compare`` results directory (tables, figures, manifest, README)."""
        out = Path(out_dir)
        argv = [
            "python: govsim.compare(",
            *[c.name for c in self.configs],
            f"replicates={len(self.seeds)}",
            f"seed={self.master_seed})",
        ]
        run_id = results.make_run_id("compare", self.configs, self.seeds)
        with results.atomic_dir(out, overwrite) as tmp:
            write_comparison(
                tmp,
                kind="compare",
                run_id=run_id,
                files=[f"<python: {c.name}>" for c in self.configs],
                configs=self.configs,
                seeds=self.seeds,
                argv=argv,
                master_seed=self.master_seed,
                replicates=len(self.seeds),
                n_jobs=self.jobs,
                posterior=self.posterior_info,
                summaries=self.summaries,
                diffs=self.raw_differences,
                diff_file="comparison.csv",
                wall_s=self.wall_s,
                reproduce="the Python calls that made the scenarios, then " + shlex.join(argv),
            )
        return out


def compare(
    baseline: ScenarioConfig | str,
    *others: ScenarioConfig | str,
    replicates: int = 8,
    seed: int = 0,
    jobs: int = 1,
    posterior: Posterior | bool | None = None,
    progress: bool = False,
) -> Comparison:
    """Run the baseline and ``others`` with the same ``replicates`` seeds (in parallel with
    ``jobs`` processes); the result gives paired differences with intervals.

    With ``posterior`` (``True`` for the committed one) each seed draws one calibrated
    parameter set, the same in every scenario, so comparisons stay paired.
    """
    configs = [scenario(c) if isinstance(c, str) else c for c in (baseline, *others)]
    names = [c.name for c in configs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ScenarioError(
            f"scenario names must be unique in a comparison; {', '.join(repeated)} is used "
            "twice (give a change its own name=...)"
        )
    check_data_files(configs)
    seeds = replicate_seeds(seed, replicates)
    draws, info = _draws(posterior, seeds, seed)
    started = time.perf_counter()
    summaries = run_scenarios(configs, seeds, n_jobs=jobs, progress=progress, parameter_sets=draws)
    return Comparison(
        tuple(configs), tuple(seeds), seed, jobs, summaries, time.perf_counter() - started, info
    )


# --- the tables behind the labels -------------------------------------------------------------


def outcomes() -> pd.DataFrame:
    """The headline outcomes: name, label, unit, scale, description and computation."""
    return pd.DataFrame(
        [
            {
                "name": o.name,
                "label": o.label,
                "unit": o.unit,
                "stored_unit": o.stored_unit,
                "scale": o.scale,
                "group": o.group,
                "description": o.description,
                "computed": o.computed,
            }
            for o in outcome_table.OUTCOMES
        ]
    )


def parameters() -> pd.DataFrame:
    """The parameter registry: name, value, unit, plausible range, source and meaning."""
    return pd.DataFrame(registry())


def levers() -> pd.DataFrame:
    """The brief's recommendations as levers: name, label, what the brief says, what they change."""
    return pd.DataFrame(
        [{"name": i.name, "label": i.label, "brief": i.brief, "changes": i.changes} for i in LEVERS]
    )


def columns(table: str | None = None) -> pd.DataFrame:
    """Units and meaning of the output tables' columns (one table or all)."""
    rows = [c for c in COLUMNS if table is None or c.table == table]
    return pd.DataFrame(
        [
            {"table": c.table, "column": c.name, "unit": c.unit, "description": c.description}
            for c in rows
        ]
    )
