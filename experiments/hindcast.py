"""Hindcast: the model's industrial emissions 2013-2024 against EU ETS verified emissions.

The model starts in 2013 (``experiments/scenarios/hindcast/hindcast_2013.toml``) with the
recorded EUA price and the phase-3/4 free allocation, levers off, every parameter at its
default (nothing is fitted to the hindcast). Its modelled plants are a sample of EU industry,
so levels are not comparable; the test compares each sector's emissions *index* (2013 = 1)
with the index of verified emissions of the matching ETS activity (EEA EU ETS data from EUTL,
``abm/data/ets_verified_emissions_history.csv``): pig iron and steel (24), cement clinker (29),
refining (21) and bulk chemicals (42, a proxy for the chemicals trend), and their sum. The
verified series is the GB-free column (``verified_emissions_excl_gb_mt``, built by
``scripts/ets_gb_share.py``): the UK's installations are in the EEA sums to 2020 and not from
2021, the model's fleet has none, so GB is subtracted for 2013-2018 from the Commission's
installation-level file; 2019-2020 have no such file stored and are not compared (their rows
keep the model index, with the verified values empty).

Tolerance (``TOLERANCE_INDEX``): every year's modelled index within 0.10 of the verified index,
per sector and for the four together. Usage: ``.venv/bin/python scripts/hindcast.py``.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from abm.config import DATA_DIR, ScenarioConfig
from abm.model import simulate
from abm.population import file_sha256
from experiments import figures, results
from experiments.paths import SCENARIOS_DIR
from experiments.scenario import load_scenario

SCENARIO = SCENARIOS_DIR / "hindcast" / "hindcast_2013.toml"
VERIFIED_CSV = DATA_DIR / "ets_verified_emissions_history.csv"
SECTORS: tuple[str, ...] = ("steel", "cement", "refinery", "chemicals")
ALL = "four sectors"
TOLERANCE_INDEX = 0.10  # largest allowed |model index - verified index| in any year
DEFAULT_SEEDS: tuple[int, ...] = (1, 2, 3)


VERIFIED_COLUMN = "verified_emissions_excl_gb_mt"  # the same countries in every year


def verified_emissions(path: Path = VERIFIED_CSV, column: str = VERIFIED_COLUMN) -> pd.DataFrame:
    """Verified emissions by model sector and year (Mt CO2e), with the four sectors' sum.

    Years where a sector has no value (GB part unknown, 2019-2020) are NaN, also in the sum.
    """
    data = pd.read_csv(path)
    if column not in data.columns:
        raise ValueError(f"{path}: no column {column!r} (have {list(data.columns)})")
    table = data.pivot_table(index="year", columns="sector", values=column, dropna=False)
    table = table.reindex(index=sorted(data["year"].unique()))[list(SECTORS)]
    table[ALL] = table.sum(axis=1, min_count=len(SECTORS))
    return table


def model_emissions(config: ScenarioConfig, seed: int) -> pd.DataFrame:
    """The run's plant emissions by sector and year (Mt CO2e), with the four sectors' sum."""
    plants = simulate(config, seed).installation_year
    table = plants.pivot_table(
        index="year", columns="sector", values="emissions_t", aggfunc="sum", observed=True
    )
    table = table.reindex(columns=list(SECTORS), fill_value=0.0) / 1e6
    table[ALL] = table.sum(axis=1)
    return table


def index_of(table: pd.DataFrame) -> pd.DataFrame:
    """Each column relative to its first year (2013 = 1)."""
    return table / table.iloc[0]


def compare(config: ScenarioConfig, seeds: Sequence[int]) -> pd.DataFrame:
    """Tidy model-versus-verified table: sector, year, both levels and indices, the gap."""
    verified = verified_emissions()
    runs = [model_emissions(config, s) for s in seeds]
    years = verified.index.intersection(runs[0].index)
    v_idx = index_of(verified.loc[years])
    m_idx = [index_of(r.loc[years]) for r in runs]
    rows = []
    for sector in (*SECTORS, ALL):
        stack = np.array([m[sector].to_numpy() for m in m_idx])
        levels = np.array([r.loc[years, sector].to_numpy() for r in runs])
        for k, year in enumerate(years):
            model = float(stack[:, k].mean())
            data = float(v_idx.loc[year, sector])  # NaN where the year is not compared
            compared = bool(np.isfinite(data))
            rows.append(
                {
                    "sector": sector,
                    "year": int(year),
                    "model_mt": float(levels[:, k].mean()),
                    "verified_mt": float(verified.loc[year, sector]),
                    "model_index": model,
                    "model_index_min": float(stack[:, k].min()),
                    "model_index_max": float(stack[:, k].max()),
                    "verified_index": data,
                    "gap_index": model - data,
                    "compared": compared,
                    "within_tolerance": abs(model - data) <= TOLERANCE_INDEX if compared else pd.NA,
                }
            )
    table = pd.DataFrame(rows)
    table["within_tolerance"] = table["within_tolerance"].astype("boolean")
    return table


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per sector: the largest gap, the 2024 gap and whether every year is within tolerance."""
    last = int(table["year"].max())
    grouped = table.groupby("sector", sort=False)
    return pd.DataFrame(
        {
            "max_abs_gap_index": grouped["gap_index"].apply(lambda g: float(g.abs().max())),
            f"model_index_{last}": grouped.apply(
                lambda g: float(g.loc[g["year"] == last, "model_index"].iloc[0])
            ),
            f"verified_index_{last}": grouped.apply(
                lambda g: float(g.loc[g["year"] == last, "verified_index"].iloc[0])
            ),
            "all_years_within_tolerance": grouped["within_tolerance"].all(),  # compared years
            "years_compared": grouped["compared"].sum(),
        }
    )


def plot(table: pd.DataFrame, path: Path, run_id: str) -> Path:
    """Five panels: model index (mean and seed range) against verified, with the tolerance band."""
    names = (*SECTORS, ALL)
    fig = figures.new_figure(12.0, 3.2)
    axes = fig.subplots(1, len(names), sharey=True)
    for ax, sector in zip(axes, names, strict=True):
        t = table[table["sector"] == sector]
        ax.fill_between(
            t["year"],
            t["verified_index"] - TOLERANCE_INDEX,
            t["verified_index"] + TOLERANCE_INDEX,
            color="0.85",
            label=f"verified ± {TOLERANCE_INDEX:.2f}",
        )
        ax.plot(t["year"], t["verified_index"], color="k", label="EU ETS verified")
        ax.fill_between(t["year"], t["model_index_min"], t["model_index_max"], alpha=0.3)
        ax.plot(t["year"], t["model_index"], label="model (mean of seeds)")
        ax.set_title(sector, fontsize=9)
        ax.set_xlabel("year")
    axes[0].set_ylabel("emissions index (2013 = 1)")
    axes[-1].legend(fontsize=7, loc="lower left")
    return figures.save_figure(fig, path, run_id)


def with_parameters(config: ScenarioConfig, overrides: dict[str, float]) -> ScenarioConfig:
    """The config with some registry parameters replaced (sensitivity runs, not a fit)."""
    known = {f.name for f in dataclasses.fields(config.parameters)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {unknown}: use names of abm.config.Parameters "
            "(docs/ODD.md parameter table)"
        )
    return dataclasses.replace(
        config, parameters=dataclasses.replace(config.parameters, **overrides)
    )


def write_hindcast(
    out_dir: Path,
    seeds: Sequence[int] = DEFAULT_SEEDS,
    *,
    overwrite: bool = False,
    argv: Sequence[str] = (),
    doc_figure: Path | None = None,
    overrides: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Run the hindcast; write table, summary, figure, README and provenance to ``out_dir``."""
    config = with_parameters(load_scenario(SCENARIO), overrides or {})
    table = compare(config, seeds)
    summ = summary(table)
    # the shape of results run IDs (kind, UTC minute, first 6 of the inputs' hash)
    digest = results.experiment_fingerprint([config], seeds)
    run_id = f"hindcast-{results.stamp()}-{digest[:6]}"
    command = "scripts/hindcast.py " + shlex.join(argv)
    with results.atomic_dir(Path(out_dir), overwrite=overwrite) as tmp:
        results.write_text(tmp / "hindcast.csv", table.to_csv(index=False))
        results.write_text(tmp / "summary.csv", summ.to_csv())
        plot(table, tmp / "hindcast.png", run_id)
        # provenance as every manifest has it; not a results kind of the explorer (yet), so
        # written as hindcast.json rather than manifest.json
        info = {
            "kind": "hindcast",
            "run_id": run_id,
            "command": command,
            **results.provenance([config]),
            "seeds": [int(s) for s in seeds],
            "scenario": config.name,
            "config": config.as_dict(),
            "verified_csv": str(VERIFIED_CSV.relative_to(DATA_DIR.parents[1])),
            "verified_sha256": file_sha256(VERIFIED_CSV),
            "tolerance_index": TOLERANCE_INDEX,
        }
        results.write_json(tmp / "hindcast.json", info)
        results.write_text(
            tmp / "README.md",
            f"# Hindcast 2013-2024 (`{run_id}`)\n\nReproduce: `{command}`\n\n"
            "- `hindcast.csv`: per sector and year, modelled and verified emissions (Mt) and "
            "their indices (2013 = 1), the gap and whether it is within the tolerance "
            f"({TOLERANCE_INDEX:.2f})\n- `summary.csv`: per sector, the largest gap and the "
            "last year's indices\n- `hindcast.png`: the figure\n",
        )
    if doc_figure is not None:
        with results.atomic_file(Path(doc_figure)) as tmp_png:
            plot(table, tmp_png, run_id)
    return table
