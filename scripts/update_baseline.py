"""Rewrite the pinned baseline in ``tests/baseline/`` and print what changed.

The baseline is the small test scenario (142 cities, 2025-2035, seed 42): the EU-level rows of
``eu_year`` for a handful of key columns, and the headline outcomes. ``tests/test_pinned_
baseline.py`` recomputes both and fails on any difference beyond ``RTOL``; only this script
rewrites them, so a changed baseline is always a deliberate, reviewable diff.

Usage::

    python scripts/update_baseline.py            # rewrite the files, list the changes
    python scripts/update_baseline.py --check    # only list the changes; exit 1 if any
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from abm.config import PopulationConfig, ScenarioConfig  # noqa: E402
from abm.model import simulate  # noqa: E402
from abm.outputs import SimulationResult  # noqa: E402

BASELINE_DIR = ROOT / "tests" / "baseline"
EU_CSV = BASELINE_DIR / "eu_year_small_seed42.csv"
HEADLINE_JSON = BASELINE_DIR / "headline_small_seed42.json"
SEED = 42
RTOL = 1e-9  # the model is deterministic; this only absorbs the rounding of the stored values
SIGNIFICANT_DIGITS = 12
KEY_COLUMNS: tuple[str, ...] = (
    "emissions_total_t",
    "emissions_industry_t",
    "emissions_buildings_t",
    "funds_applied_eur",
    "funds_awarded_eur",
    "funds_absorbed_eur",
    "funds_decommitted_eur",
    "own_funded_eur",
    "staff_fte",
    "staff_pm_unmet",
    "projects_completed",
    "cities_with_ccc",
    "citizen_support",
    "alignment",
    "silo_index",
    "industry_jobs",
    "carbon_price_eur_per_t",
    "sme_paid_cum_eur",
)


def baseline_config() -> ScenarioConfig:
    """The small test scenario (the same as the ``small_config`` test fixture)."""
    population = PopulationConfig(
        n_non_mission_cities=30, residents_per_citizen=20000.0, generated_installations=15
    )
    return dataclasses.replace(ScenarioConfig(), population=population, end_year=2035)


def _round(value: float) -> float:
    """``value`` to ``SIGNIFICANT_DIGITS`` significant digits (stable text in the CSV)."""
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def summarise(result: SimulationResult) -> tuple[pd.DataFrame, dict[str, float]]:
    """The pinned quantities of a run: EU rows of key columns, and the headline outcomes."""
    eu = result.eu_year[result.eu_year["level"] == "EU"]
    table = eu[["year", *KEY_COLUMNS]].sort_values("year").reset_index(drop=True)
    table = table.astype({c: float for c in KEY_COLUMNS})
    for col in KEY_COLUMNS:
        table[col] = [_round(v) for v in table[col]]
    table["year"] = table["year"].astype(np.int64)
    headline = {k: _round(float(v)) for k, v in sorted(result.headline().items())}
    return table, headline


def compute() -> tuple[pd.DataFrame, dict[str, float]]:
    """Run the baseline scenario and summarise it."""
    return summarise(simulate(baseline_config(), SEED))


def load() -> tuple[pd.DataFrame, dict[str, float]]:
    """The pinned table and headline outcomes as stored."""
    table = pd.read_csv(EU_CSV)
    headline = json.loads(HEADLINE_JSON.read_text(encoding="utf-8"))
    return table, {k: math.nan if v is None else float(v) for k, v in headline.items()}


def _differs(old: float, new: float) -> bool:
    if math.isnan(old) or math.isnan(new):
        return math.isnan(old) != math.isnan(new)
    return abs(new - old) > RTOL * max(abs(old), abs(new))


def _describe(label: str, old: float, new: float) -> str:
    if math.isnan(old) or math.isnan(new) or old == 0.0:
        return f"{label}: {old!r} -> {new!r}"
    return f"{label}: {old!r} -> {new!r} ({(new - old) / abs(old):+.3g} relative)"


def differences(
    old: tuple[pd.DataFrame, dict[str, float]], new: tuple[pd.DataFrame, dict[str, float]]
) -> list[str]:
    """Human-readable differences between two summaries (empty when they agree)."""
    old_table, old_head = old
    new_table, new_head = new
    out: list[str] = []
    if list(old_table.columns) != list(new_table.columns):
        out.append(f"columns: {list(old_table.columns)} -> {list(new_table.columns)}")
    old_years = old_table["year"].astype(int).tolist()
    new_years = new_table["year"].astype(int).tolist()
    if old_years != new_years:
        out.append(f"years: {old_years} -> {new_years}")
    old_by_year = old_table.set_index("year")
    new_by_year = new_table.set_index("year")
    for col in [c for c in new_table.columns if c in old_table.columns and c != "year"]:
        for year in sorted(set(old_years) & set(new_years)):
            a = float(old_by_year.at[year, col])
            b = float(new_by_year.at[year, col])
            if _differs(a, b):
                out.append(_describe(f"eu_year {col} {year}", a, b))
    for key in sorted(set(old_head) | set(new_head)):
        if key not in new_head:
            out.append(f"headline {key}: removed (was {old_head[key]!r})")
        elif key not in old_head:
            out.append(f"headline {key}: new ({new_head[key]!r})")
        elif _differs(old_head[key], new_head[key]):
            out.append(_describe(f"headline {key}", old_head[key], new_head[key]))
    return out


def write(table: pd.DataFrame, headline: dict[str, float]) -> None:
    """Store a summary as the pinned baseline."""
    BASELINE_DIR.mkdir(parents=True, exist_ok=True)
    table.to_csv(EU_CSV, index=False, lineterminator="\n")
    # NaN (an outcome for a year outside the run) is stored as JSON null
    plain = {k: None if math.isnan(v) else v for k, v in headline.items()}
    HEADLINE_JSON.write_text(json.dumps(plain, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Recompute the baseline, print the changes against the stored one, and (re)write it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report changes, write nothing")
    args = parser.parse_args(argv)
    new = compute()
    if EU_CSV.is_file() and HEADLINE_JSON.is_file():
        changes = differences(load(), new)
        if changes:
            print(f"{len(changes)} pinned value(s) changed:")
            for line in changes:
                print(f"  {line}")
        else:
            print("pinned baseline unchanged")
    else:
        changes = ["no stored baseline"]
        print("no stored baseline yet")
    if args.check:
        return 1 if changes else 0
    write(*new)
    print(f"wrote {EU_CSV.relative_to(ROOT)} and {HEADLINE_JSON.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
