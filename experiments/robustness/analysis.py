"""Robust lever rankings: effects per scenario, rank probabilities, regret, PRIM failure boxes.

Effects are paired differences from the baseline of the same scenario; per EUR 1 bn divides
by the extra public money on the levers (``levers_public_cost_eur``), left undefined where a
variant costs nothing extra. Levers are ranked among themselves, and packages among
themselves, in every scenario on each ``basis`` (``raw`` effect, ``per_eur_bn``); the
probability of ranking first / in the top three is the share of scenarios where it did.
Regret (Savage 1951) is the best variant's effect in that scenario minus this one's: its mean,
90th percentile and maximum say how much a choice can lose against hindsight. PRIM
(:func:`experiments.discovery.prim.prim`) finds the box of scenarios (posterior and deep
inputs) where a lever drops out of the top three, or a package fails the study's goal.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from experiments.robustness.definition import RobustnessStudy
from experiments.robustness.run import BASELINE, GROUP_PREFIX

COST = "levers_public_cost_eur"
BASES = ("raw", "per_eur_bn")
TOP = 3


def effects(study: RobustnessStudy, runs: pd.DataFrame) -> pd.DataFrame:
    """Long table: scenario, variant, kind, group, effect, extra cost (EUR bn), per EUR 1 bn."""
    ok = runs[runs["status"] == "ok"]
    groups = [c for c in ok.columns if c.startswith(GROUP_PREFIX)]
    wide = ok.set_index(["scenario", "variant"])
    base = wide.xs(BASELINE, level="variant")
    frames = []
    for variant in study.variants()[1:]:
        if variant not in wide.index.get_level_values("variant"):
            continue
        v = wide.xs(variant, level="variant")
        common = v.index.intersection(base.index)
        extra_bn = (v.loc[common, COST] - base.loc[common, COST]) / 1e9
        for group, column in [
            ("all", study.outcome),
            *((g[len(GROUP_PREFIX) :], g) for g in groups),
        ]:
            effect = v.loc[common, column] - base.loc[common, column]
            frames.append(
                pd.DataFrame(
                    {
                        "scenario": common,
                        "variant": variant,
                        "kind": "package" if variant in study.packages else "lever",
                        "group": group,
                        "effect": effect.to_numpy(dtype=float),
                        "extra_cost_eur_bn": extra_bn.to_numpy(dtype=float),
                    }
                )
            )
    out = pd.concat(frames, ignore_index=True)
    out["per_eur_bn"] = (out["effect"] / out["extra_cost_eur_bn"]).where(
        out["extra_cost_eur_bn"] > 0
    )
    goal = wide.xs(BASELINE, level="variant")[study.goal_outcome]
    out["goal_effect"] = np.nan
    if study.goal_outcome == study.outcome:
        mask = out["group"] == "all"
        out.loc[mask, "goal_effect"] = out.loc[mask, "effect"]
    else:
        for variant in study.variants()[1:]:
            if variant not in wide.index.get_level_values("variant"):
                continue
            g = wide.xs(variant, level="variant")[study.goal_outcome] - goal
            mask = (out["group"] == "all") & (out["variant"] == variant)
            out.loc[mask, "goal_effect"] = out.loc[mask, "scenario"].map(g).to_numpy()
    return out


def effect_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per variant and city group: mean, 5% and 95% quantile of the raw and per-euro effect."""
    rows = []
    for (variant, kind, group), part in table.groupby(["variant", "kind", "group"], sort=False):
        rec: dict[str, Any] = {
            "variant": variant,
            "kind": kind,
            "group": group,
            "scenarios": len(part),
        }
        for col in ("effect", "per_eur_bn", "extra_cost_eur_bn"):
            x = part[col].dropna().to_numpy(dtype=float)
            rec[f"{col}_mean"] = float(x.mean()) if x.size else math.nan
            rec[f"{col}_q05"] = float(np.quantile(x, 0.05)) if x.size else math.nan
            rec[f"{col}_q95"] = float(np.quantile(x, 0.95)) if x.size else math.nan
        rows.append(rec)
    return pd.DataFrame(rows)


def rankings(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rank of every variant in every scenario (per kind and basis) and the summary table.

    Returns (per-scenario ranks, summary) where the summary has, per kind, basis and variant:
    ``p_first``, ``p_top3``, ``mean_rank``, ``mean_regret``, ``p90_regret``, ``max_regret``.
    A variant without a per-euro value (no extra cost) ranks last on that basis.
    """
    whole = table[table["group"] == "all"]
    ranks = []
    for kind, part in whole.groupby("kind", sort=False):
        for basis in BASES:
            col = "effect" if basis == "raw" else "per_eur_bn"
            wide = part.pivot(index="scenario", columns="variant", values=col)
            filled = wide.fillna(-np.inf)
            rank = filled.rank(axis=1, ascending=False, method="min")
            best = wide.max(axis=1)
            regret = pd.DataFrame(
                best.to_numpy()[:, None] - wide.to_numpy(), index=wide.index, columns=wide.columns
            )
            long = pd.DataFrame({"rank": rank.stack()})
            long["regret"] = regret.stack().reindex(long.index)
            long = long.reset_index()
            long["kind"], long["basis"] = kind, basis
            ranks.append(long)
    per = pd.concat(ranks, ignore_index=True)
    summary = (
        per.groupby(["kind", "basis", "variant"], sort=False)
        .agg(
            p_first=("rank", lambda r: float(np.mean(r == 1))),
            p_top3=("rank", lambda r: float(np.mean(r <= TOP))),
            mean_rank=("rank", "mean"),
            mean_regret=("regret", "mean"),
            p90_regret=(
                "regret",
                lambda r: float(np.nanquantile(r, 0.9)) if r.notna().any() else math.nan,
            ),
            max_regret=("regret", "max"),
        )
        .reset_index()
        .sort_values(["kind", "basis", "mean_regret"], kind="stable")
    )
    return per, summary


def _inputs(study: RobustnessStudy, scenarios: pd.DataFrame) -> pd.DataFrame:
    skip = {"scenario", "seed", "posterior_draw"}
    return scenarios[[c for c in scenarios.columns if c not in skip]].reset_index(drop=True)


def failure_boxes(
    study: RobustnessStudy, scenarios: pd.DataFrame, table: pd.DataFrame, per: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, str]]:
    """PRIM boxes: where each lever drops out of the top three (raw), each package fails its goal.

    Returns the box limits (one row per restricted input and case) and, per case, the box in
    words ("when ...") with its coverage and density; cases that fail in no scenario or in
    all of them get no box.
    """
    from experiments.discovery.describe import _condition
    from experiments.discovery.prim import prim

    X = _inputs(study, scenarios)
    order = scenarios["scenario"].to_numpy()
    cases: list[tuple[str, str, np.ndarray]] = []
    raw = per[(per["basis"] == "raw") & (per["kind"] == "lever")]
    for lever in study.levers:
        r = raw[raw["variant"] == lever].set_index("scenario")["rank"].reindex(order)
        cases.append((lever, "out of the top three", (r > TOP).to_numpy()))
    whole = table[(table["group"] == "all") & (table["kind"] == "package")]
    for package in study.packages:
        g = whole[whole["variant"] == package].set_index("scenario")["goal_effect"].reindex(order)
        cases.append((package, "fails its goal", (g < study.goal_at_least).to_numpy()))
    rows, words = [], {}
    for name, what, y in cases:
        share = float(np.mean(y))
        if share in (0.0, 1.0) or len(X) < 20:
            words[name] = f"{what} in {share:.0%} of scenarios"
            continue
        try:
            box = prim(X, y).best()
        except ValueError as exc:
            words[name] = f"{what} in {share:.0%} of scenarios (no PRIM box: {exc})"
            continue
        conditions = []
        for dim in box.restricted:
            row = box.limit(dim)
            conditions.append(_condition(row, dim))
            rows.append(
                {
                    "case": name,
                    "what": what,
                    "dimension": dim,
                    **row,
                    "coverage": box.coverage,
                    "density": box.density,
                }
            )
        if not conditions:
            words[name] = f"{what} in {share:.0%} of scenarios; no input range separates them"
            continue
        words[name] = (
            f"{what} in {share:.0%} of scenarios; mostly when {' and '.join(conditions)} "
            f"(PRIM box: {box.density:.0%} of its scenarios, {box.coverage:.0%} of all such)"
        )
    return pd.DataFrame(rows), words


def plain_words(summary: pd.DataFrame, words: dict[str, str], basis: str = "raw") -> list[str]:
    """One sentence a lever or package: top-three share, first share, regret, when it drops out."""
    lines = []
    for rec in summary[summary["basis"] == basis].to_dict("records"):
        name = str(rec["variant"]).replace("_", " ")
        lines.append(
            f"{name} ranks first in {rec['p_first']:.0%} and in the top three in "
            f"{rec['p_top3']:.0%} of scenarios (mean regret {rec['mean_regret']:.3g}); "
            f"{words.get(str(rec['variant']), '')}".rstrip("; ")
        )
    return lines
