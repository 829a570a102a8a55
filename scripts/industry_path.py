"""Print the industry path of a scenario: cuts by cause and sector, closures per sector and year.

Cuts between the start year and ``--year`` are split per plant, exactly, into closures (a
closed plant's start-year emissions, less the share its sector's EU demand has lost since the
start, which is output), output (production change at the start route's intensity) and route
switches (today's production times the change in intensity): ``industry.emission_cuts``.
Usage: ``.venv/bin/python scripts/industry_path.py experiments/scenarios/baseline.toml``
(``--seeds 1 2 3``, ``--year 2035 2050``, ``--price 1000`` for a flat carbon price).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pandas as pd

from abm.model import simulate
from abm.outcomes import open_at_start
from abm.rules import industry_tech as it
from experiments.scenario import load_scenario


def decompose(plants: pd.DataFrame, year: int) -> pd.DataFrame:
    """Per sector: start emissions and the cut by closure, output and route (Mt).

    The model's own split (``industry.emission_cuts``: columns ``cut_*_t``), so the table
    is the one the outcomes ``industry_cut_*`` sum.
    """
    p = plants[plants["sector"] != it.SME_CLUSTER]
    y0 = int(p["year"].min())
    a = p[p["year"] == y0]
    b = p[p["year"] == year]
    start = a.groupby(a["sector"].astype(str))["emissions_t"].sum()
    cuts = b.groupby(b["sector"].astype(str))[["cut_closure_t", "cut_output_t", "cut_route_t"]]
    frame = cuts.sum().reindex(start.index, fill_value=0.0)
    frame.columns = ["closure_mt", "output_mt", "switch_mt"]
    frame.insert(0, "start_mt", start)
    return frame / 1e6


def closure_shares(plants: pd.DataFrame) -> pd.Series:
    """Per sector: the largest share of its start-year plants closing in any one year."""
    p = plants[plants["sector"] != it.SME_CLUSTER].sort_values(["installation_id", "year"])
    y0 = int(p["year"].min())
    # plants operating at the start of the start year (closures in the start year count)
    start = open_at_start(p, y0)
    first = p[p["year"] == y0]
    n0 = first[start.reindex(first["installation_id"]).to_numpy(bool)].groupby("sector").size()
    was = p.groupby("installation_id")["open"].shift(1)
    was = was.fillna(p["installation_id"].map(start)).astype(bool)
    closing = p[was & ~p["open"]].groupby(["sector", "year"]).size()
    if closing.empty:
        return pd.Series(0.0, index=n0.index)
    share = closing / n0.reindex(closing.index.get_level_values(0)).to_numpy()
    return share.groupby(level=0).max().reindex(n0.index, fill_value=0.0)


def main() -> None:
    """Run the scenario for each seed and print the tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", type=Path)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--year", type=int, nargs="+", default=[2035, 2050])
    ap.add_argument("--price", type=float, help="carbon price in every year (EUR/t), e.g. 1000")
    args = ap.parse_args()
    cfg = load_scenario(args.scenario)
    if args.price is not None:
        params = dataclasses.replace(
            cfg.parameters,
            carbon_price_2025_eur_per_t=args.price,
            carbon_price_2050_eur_per_t=args.price,
        )
        cfg = dataclasses.replace(cfg, parameters=params)
    for seed in args.seeds:
        plants = simulate(cfg, seed).installation_year
        for year in args.year:
            d = decompose(plants, year)
            d.loc["all"] = d.sum()
            print(f"seed {seed}, cut {int(plants['year'].min())}->{year} (Mt CO2/yr):")
            print(d.round(2).to_string())
        print(f"seed {seed}, max share of a sector's plants closing in one year:")
        print(closure_shares(plants).round(3).to_string())


if __name__ == "__main__":
    main()
