"""The report of a robustness study: lever rankings across scenarios in plain words and tables.

Reads ``ranking.csv`` (rank probabilities and regret per lever and package) and
``prim_boxes.csv`` (where a lever drops out of the top three, where a package fails its goal)
of a ``govsim robustness`` directory; sentences say "X is in the top three in N% of
scenarios; it drops out when ..."; tables and figures show labels, not identifiers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from experiments.discovery.describe import _condition
from experiments.figures import describe_outcome
from experiments.report import figures as report_figures
from experiments.report.document import Build, Section
from experiments.robustness.figures import BASIS_TITLE, ranking_figure, ranking_rows

RANKING_COLUMNS = ("kind", "basis", "variant", "p_first", "p_top3", "mean_regret", "p90_regret")
BOX_COLUMNS = ("case", "what", "dimension", "kind", "low", "high", "data_low", "data_high")


def _unit(b: Build) -> str:
    outcome = str((b.data.get("study") or {}).get("outcome", ""))
    try:
        return describe_outcome(outcome).diff_unit
    except KeyError:
        return "outcome units"


def read_boxes(path: Path) -> pd.DataFrame | None:
    """``prim_boxes.csv``, or None when it is missing, empty (no box) or lacks its columns."""
    try:
        boxes = pd.read_csv(path)
    except (OSError, ValueError):  # pandas' EmptyDataError is a ValueError
        return None
    return boxes if set(BOX_COLUMNS) <= set(boxes.columns) else None


def box_words(boxes: pd.DataFrame | None) -> dict[str, str]:
    """Per case (lever or package), its PRIM box in words: 'a is below x and b is ...'."""
    out: dict[str, str] = {}
    if boxes is None or boxes.empty:
        return out
    for case, rows in boxes.groupby("case", sort=False):
        records = [{str(k): v for k, v in r.items()} for r in rows.to_dict("records")]
        parts = [_condition(row, str(row["dimension"])) for row in records]
        out[str(case)] = " and ".join(parts)
    return out


def ranking_sentences(
    ranking: pd.DataFrame, boxes: pd.DataFrame | None, unit: str, basis: str = "raw"
) -> list[str]:
    """One sentence a lever or package: top-three and first shares, regret, when it drops out."""
    words = box_words(boxes)
    lines = []
    for rec in ranking_rows(ranking, basis).to_dict("records"):
        name, variant = str(rec["label"]), str(rec["variant"])
        text = (
            f"{name} is in the top three in {rec['p_top3']:.0%} of scenarios and first in "
            f"{rec['p_first']:.0%} (mean regret {rec['mean_regret']:.2g} {unit})"
        )
        if variant in words and basis == "raw":
            what = "fails its goal" if rec["kind"] == "package" else "drops out of the top three"
            text += f"; it {what} mostly when {words[variant]}"
        lines.append(text + ".")
    return lines


def _table(ranking: pd.DataFrame, basis: str) -> pd.DataFrame:
    rows = ranking_rows(ranking, basis)
    return pd.DataFrame(
        {
            "Lever or package": rows["label"],
            "First (% of scenarios)": (100 * rows["p_first"]).round(0),
            "Top three (% of scenarios)": (100 * rows["p_top3"]).round(0),
            "Mean regret": rows["mean_regret"].round(3),
            "90th percentile of regret": rows["p90_regret"].round(3),
        }
    )


def _basis_part(b: Build, s: Section, ranking: pd.DataFrame, basis: str, unit: str) -> None:
    per = f"{unit} per EUR 1 bn" if basis == "per_eur_bn" else unit
    b.derive(
        s,
        _table(ranking, basis),
        f"ranking_{basis}.csv",
        f"Ranking on the {BASIS_TITLE[basis]}: shares of scenarios where each lever or package "
        f"ranks first and in the top three, and its regret ({per}) against the best of its "
        "kind in each scenario.",
        inline=True,
    )
    stem = b.figure(
        s,
        f"robustness_ranking_{basis}",
        f"Ranking on the {BASIS_TITLE[basis]}: shares of scenarios first and in the top three "
        f"(left), mean regret with its 90th percentile ({per}, right).",
        f"Bar chart of rank shares and regret of each lever and package ({BASIS_TITLE[basis]}).",
    )
    report_figures.save_figure(ranking_figure(ranking, basis, per), stem, b.run_id)


def build_robustness(b: Build) -> None:
    """govsim robustness: which levers rank high across posterior draws, deep values and seeds."""
    study: dict[str, Any] = b.data.get("study") or {}
    counts: dict[str, Any] = b.data.get("counts") or {}
    unit = _unit(b)
    s = b.section(
        "Robust lever rankings",
        f"Each lever and package was run in {study.get('scenarios', '?')} scenarios "
        "(a joint posterior draw, values of the deep uncertainties and a seed), "
        f"{counts.get('runs', '?')} runs in all ({counts.get('failed', 0)} failed); effects "
        "are differences from the scenario's baseline run, ranked among levers and among "
        "packages. Regret is the best one's effect in a scenario minus this one's.",
    )
    ranking = b.read(s, "ranking.csv", RANKING_COLUMNS)
    if ranking is None:
        return
    boxes = read_boxes(b.source / "prim_boxes.csv")
    s.text.extend(ranking_sentences(ranking, boxes, unit))
    for basis in ("raw", "per_eur_bn"):
        if (ranking["basis"] == basis).any():
            _basis_part(b, s, ranking, basis, unit)
    b.copy(s, "effect_summary.csv", "Effects per lever, package and city group: mean, 5-95%.")
    b.copy(s, "prim_boxes.csv", "PRIM boxes: where a lever drops out, a package fails its goal.")


def lead_sentences(b: Build) -> list[str]:
    """The opening findings: the two levers with the smallest mean regret on the raw effect."""
    path = b.source / "ranking.csv"
    if not path.is_file():
        return []
    ranking = pd.read_csv(path)
    if not set(RANKING_COLUMNS) <= set(ranking.columns):
        return []
    levers = ranking[ranking["kind"] == "lever"]
    return ranking_sentences(levers, read_boxes(b.source / "prim_boxes.csv"), _unit(b))[:2]
