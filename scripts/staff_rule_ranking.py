"""Lever ranking under each staff rule: each lever alone at intensity 1 against the baseline.

Raw effects and effects per EUR 1 bn of the lever's extra public cost (levers_public_cost_eur).

Runs experiments/scenarios/levers/*.toml and the baseline with ``staff_rule`` set to each rule
(same seeds, so differences are paired) and prints the 2050 city cut and key outcomes per lever.
Usage: ``.venv/bin/python scripts/staff_rule_ranking.py [--seeds 1 2 3] [--rules priority ...]``
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from abm.agents.state import SECTORS_CITY
from abm.model import simulate
from abm.outputs import SimulationResult
from abm.rules.staff import STAFF_RULES
from experiments.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1] / "experiments" / "scenarios"
OWN = [f"emissions_{s}_t" for s in SECTORS_CITY]


def key_numbers(result: SimulationResult) -> dict[str, float]:
    """2050 city own-sector cut (pp vs the first year), EU cut 2030 and 2050, alignment 2050."""
    cy = result.city_year
    own = cy.assign(own=cy[OWN].sum(axis=1)).groupby("year")["own"].sum()
    last = cy[cy.year == 2050]
    h = result.headline()
    return {
        "city_cut_2050_pp": 100.0 * (1.0 - own[2050] / own.iloc[0]),
        "eu_cut_2030_pct": h["emissions_reduction_2030_pct"],
        "eu_cut_2050_pct": h["emissions_reduction_2050_pct"],
        "alignment_2050": float(np.average(last.alignment, weights=last.population)),
        "engagement_pm_2050": float(last.staff_pm_engagement.sum()),
        "dialogue_pm_2050": float(last.staff_pm_dialogue.sum()),
        "public_cost_eur_bn": 1e-9 * h["levers_public_cost_eur"],
    }


def main() -> None:
    """Run every lever scenario under each rule and print the paired differences."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--rules", nargs="+", default=["priority", "protected_shares"])
    args = parser.parse_args()
    files = {"baseline": ROOT / "baseline.toml"}
    files.update({f.stem: f for f in sorted((ROOT / "levers").glob("*.toml"))})
    rows = []
    for rule in args.rules:
        assert rule in STAFF_RULES, rule
        for name, file in files.items():
            config = dataclasses.replace(load_scenario(file), staff_rule=rule)
            for seed in args.seeds:
                rows.append(
                    {
                        "rule": rule,
                        "scenario": name,
                        "seed": seed,
                        **key_numbers(simulate(config, seed)),
                    }
                )
    table = pd.DataFrame(rows).groupby(["rule", "scenario"]).mean(numeric_only=True)
    table = table.drop(columns="seed")
    for rule in args.rules:
        part = table.loc[rule]
        diff = (part - part.loc["baseline"]).drop(index="baseline")
        diff = diff.sort_values("city_cut_2050_pp", ascending=False)
        # the effect per EUR 1 bn of extra public money (NaN where a lever costs nothing extra)
        cost = diff["public_cost_eur_bn"].where(diff["public_cost_eur_bn"] > 0)
        diff["city_cut_pp_per_eur_bn"] = diff["city_cut_2050_pp"] / cost
        diff["eu_cut_2050_pp_per_eur_bn"] = diff["eu_cut_2050_pct"] / cost
        print(f"\n== staff_rule = {rule}: baseline")
        print(part.loc[["baseline"]].round(3).to_string())
        print(f"-- each lever at intensity 1 minus baseline (seeds {args.seeds}), ranked")
        print(diff.round(3).to_string())


if __name__ == "__main__":
    main()
