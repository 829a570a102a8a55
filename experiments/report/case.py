"""Report sections of a ``govsim case`` directory: the focus city and the levers' effects on it."""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from abm.outcomes import CASE_OUTCOMES
from experiments import cases
from experiments.figures import OutcomeInfo
from experiments.report import figures as report_figures
from experiments.report.document import Build, finite, interval_frame
from experiments.text import labels

CITY_COLUMNS = ("scenario", "seed", "year", "emissions_with_industry_t", "emissions_city_scope_t")


def case_metrics(names: Iterable[str]) -> dict[str, OutcomeInfo]:
    """The case metrics among ``names`` (of each, the latest year) with label and units.

    The metrics, labels and units are the outcomes table's (``abm.outcomes.CASE_OUTCOMES``).
    """
    out: dict[str, OutcomeInfo] = {}
    for case_outcome in CASE_OUTCOMES:
        metric, label = case_outcome.name, case_outcome.label
        unit, diff_unit = case_outcome.unit, case_outcome.diff_unit
        pattern = metric.replace("{year}", r"(?P<year>\d{4})")
        found = [m for n in sorted(set(names)) if (m := re.fullmatch(pattern, n))]
        if found:
            year = found[-1].groupdict().get("year", "")
            out[found[-1].string] = OutcomeInfo(label.format(year=year), unit, diff_unit)
    return out


def _case_panels(b: Build, focus: str, n_seeds: int) -> None:
    s = b.section(
        "Case-city panels",
        f"{focus}: the case baseline (levers off) against the full package, mean over "
        f"{n_seeds} seeds.",
    )
    city = b.read(s, "trajectories.csv", [*CITY_COLUMNS, "citizen_support"])
    plants = b.read(s, "plants.csv", ["scenario", "seed", "year", "emissions_t", "jobs"])
    if city is None or plants is None:
        return
    stem = b.figure(
        s,
        "case_panels",
        f"{focus}: territorial emissions with and without industry (Mt CO2e per year), "
        "emissions (Mt CO2 per year) and direct jobs of its large plants, and citizen support "
        f"(0-1, 90% band), case baseline vs full package, {n_seeds} seeds.",
        f"Four line charts for {focus}: emissions, plant emissions, plant jobs and support, "
        "baseline in black, full package in vermillion.",
    )
    title = f"{focus}: case baseline vs full package ({n_seeds} seeds)"
    for suffix in (".png", ".svg"):
        cases.plot_case(city, plants, title, b.run_id, stem.with_suffix(suffix))


def _case_effects(b: Build, focus: str) -> None:
    s = b.section(
        "Lever effects on the case city",
        "Paired differences from the case baseline (same seeds) with 95% t-intervals.",
    )
    summary = b.read(s, "summary.csv", ["scenario", "metric", "mean", "low", "high"])
    if summary is not None:
        base = summary[summary["scenario"] == "baseline"].set_index("metric")
        for metric, info in case_metrics(base.index).items():
            if metric in base.index and finite(base.loc[metric, "mean"]):
                bounds = base.loc[metric, ["mean", "low", "high"]]
                b.add_headline(info.label, "baseline", bounds, "mean, 90% interval", info.unit)
        b.copy(s, "summary.csv", "Case metrics per scenario: mean and 90% interval.")
    effects = b.read(
        s, "effects.csv", ["scenario", "metric", "mean_difference", "ci_low", "ci_high"]
    )
    if effects is None:
        return
    for metric, info in list(case_metrics(effects["metric"]).items())[:3]:
        rows = effects[(effects["metric"] == metric) & np.isfinite(effects["mean_difference"])]
        if rows.empty:
            s.notes.append(f"`effects.csv` has no value of `{metric}`.")
            continue
        rows = rows.sort_values("mean_difference", ascending=False, kind="stable")
        frame = interval_frame(
            rows["scenario"], rows["mean_difference"], rows["ci_low"], rows["ci_high"]
        )
        stem = b.figure(
            s,
            f"case_effects_{metric}",
            f"{focus}: {info.label}, difference from the case baseline ({info.diff_unit}) "
            "with 95% t-intervals.",
            f"Dot-and-whisker chart of lever effects on {info.label} in {focus}.",
        )
        report_figures.plot_intervals(
            frame.assign(label=labels(frame["label"])),
            stem,
            b.run_id,
            xlabel=f"difference from the case baseline ({info.diff_unit})",
            title=f"{focus}: {info.label}",
        )
        b.add_headline(
            f"{info.label}: largest difference from the case baseline",
            frame["label"].iloc[0],
            frame[["centre", "low", "high"]].iloc[0],
            "paired difference, 95% CI",
            info.diff_unit,
        )
    b.copy(s, "effects.csv", "Paired differences from the case baseline, every metric.")
    b.copy(s, "runs.csv", "Case metrics of every run (scenario, seed).")


def build_case(b: Build) -> None:
    """govsim case: the focus city's panels and the levers' effects on it."""
    case = b.data.get("config", {}).get("case") or {}
    focus = str(case.get("focus_city") or b.data.get("scenario") or "the case city")
    _case_panels(b, focus, len(b.data["seeds"]))
    _case_effects(b, focus)
