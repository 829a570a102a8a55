"""Report sections of ``govsim run``, ``govsim compare`` and ``govsim demo`` directories."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from abm.outcomes import selection
from experiments import runner
from experiments.figures import describe_outcome
from experiments.report import figures as report_figures
from experiments.report.document import Build, Section, finite, interval_frame
from experiments.text import label, labels

# outcomes of compare and demo shown in the headline and given a chart: the Mission's 2030
# target year, then the command line's key outcomes
REPORT_OUTCOMES: tuple[str, ...] = selection("report")
# outcomes of a single run given a headline number: those ``govsim run`` prints
RUN_OUTCOMES: tuple[str, ...] = selection("run")

SUMMARY_COLUMNS = ("scenario", "outcome", "n", "mean", "low", "high")
DIFF_COLUMNS = ("scenario", "outcome", "n", "mean_difference", "ci_low", "ci_high")
PATHWAY_COLUMNS = ("scenario", "series", "year", "mean_t", "low_t", "high_t")
# effects per EUR 1 bn of public money (experiments.compare.effects_per_billion writes them)
PER_EURO_COLUMNS = (
    *DIFF_COLUMNS,
    "public_cost_difference_eur_bn",
    "mean_difference_per_eur_bn",
    "ci_low_per_eur_bn",
    "ci_high_per_eur_bn",
    "per_euro_note",
)
PER_EURO_OUTCOMES: tuple[str, ...] = (
    "city_emissions_reduction_2050_pct",
    *(o for o in REPORT_OUTCOMES if o != "levers_public_cost_eur"),
)


def _baseline_outcomes(b: Build) -> None:
    baseline, reps = b.data["baseline"], b.data["replicates"]
    s = b.section(
        "Outcomes by scenario",
        f"Headline outcomes of every scenario: mean and 90% interval over {reps} replicates.",
    )
    summary = b.read(s, "summary.csv", SUMMARY_COLUMNS)
    if summary is None:
        return
    b.copy(s, "summary.csv", "Headline outcomes per scenario: mean, sd and 90% interval.")
    b.copy(s, "runs.csv", "Every headline outcome of every run (scenario, seed).")
    base = summary[summary["scenario"] == baseline].set_index("outcome")
    for outcome in REPORT_OUTCOMES:
        if outcome in base.index and finite(base.loc[outcome, "mean"]):
            info = describe_outcome(outcome)
            b.add_headline(
                info.label,
                baseline,
                base.loc[outcome, ["mean", "low", "high"]] * info.scale,
                f"mean, 90% interval over {reps} replicates",
                info.unit,
            )


def _effect_chart(b: Build, s: Section, rows: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Chart and headline of one outcome's paired differences; returns the shown table."""
    info, baseline = describe_outcome(outcome), b.data["baseline"]
    rows = rows.sort_values("mean_difference", ascending=False, kind="stable")
    n = int(rows["n"].min())
    frame = interval_frame(
        rows["scenario"], rows["mean_difference"], rows["ci_low"], rows["ci_high"], info.scale
    )
    stem = b.figure(
        s,
        f"effects_{outcome}",
        f"{info.label}: mean paired difference of each scenario from `{baseline}` "
        f"({info.diff_unit}) with its 95% t-interval over {n} seeds.",
        f"Dot-and-whisker chart of the difference from {baseline} in {info.label}, "
        f"{info.diff_unit}, for {len(frame)} scenarios, largest at the top.",
    )
    report_figures.plot_intervals(
        frame.assign(label=labels(frame["label"])),
        stem,
        b.run_id,
        xlabel=f"difference from {label(baseline)} ({info.diff_unit})",
        title=f"{info.label}\nmean paired difference, 95% CI over {n} seeds",
    )
    b.add_headline(
        f"{info.label}: largest difference from {baseline}",
        frame["label"].iloc[0],
        frame[["centre", "low", "high"]].iloc[0],
        f"paired difference, 95% CI over {n} seeds",
        info.diff_unit,
    )
    return frame.rename(columns={"label": "scenario"}).assign(outcome=outcome, unit=info.diff_unit)


def _lever_effects(b: Build) -> None:
    baseline, diff_file = b.data["baseline"], b.data["diff_file"]
    s = b.section(
        "Lever effects",
        f"Difference of each scenario from `{baseline}` run with the same seeds (common random "
        "numbers), so the difference is due to the policy, not to chance. Whiskers are 95% "
        "t-intervals of the mean paired difference over seeds.",
    )
    diffs = b.read(s, diff_file, DIFF_COLUMNS)
    if diffs is None:
        return
    shown = []
    for outcome in REPORT_OUTCOMES:
        rows = diffs[(diffs["outcome"] == outcome) & np.isfinite(diffs["mean_difference"])]
        if rows.empty:
            s.notes.append(f"`{diff_file}` has no value of `{outcome}` (run too short?).")
            continue
        shown.append(_effect_chart(b, s, rows, outcome))
    if shown:
        table = pd.concat(shown, ignore_index=True)
        b.derive(
            s,
            table[["outcome", "scenario", "centre", "low", "high", "unit"]],
            "effects_key_outcomes.csv",
            "Key outcomes: mean paired difference from the baseline (centre) and 95% CI.",
            inline=True,
        )
    b.copy(s, diff_file, "Paired differences of every scenario and headline outcome.")


def _per_euro(b: Build) -> None:
    """Each effect per EUR 1 bn of extra public money on the levers, beside the raw effect."""
    baseline, diff_file = b.data["baseline"], b.data["diff_file"]
    s = b.section(
        "Effects per euro of public money",
        f"Each scenario's paired difference from `{baseline}` divided by the extra public money "
        "its levers cost (cumulative 2025-2050, EUR bn; what each lever's dose costs is in the "
        "registry, `govsim params lever_`). A scenario that costs no more than the baseline has "
        "no per-euro effect (blank, with a note); an effect whose 95% interval includes zero "
        "keeps its per-euro value but is marked as within noise: its ranking per euro means "
        "nothing.",
    )
    diffs = b.read(s, diff_file, PER_EURO_COLUMNS)
    if diffs is None:
        return
    parts = []
    for outcome in PER_EURO_OUTCOMES:
        rows = diffs[diffs["outcome"] == outcome]
        if rows.empty:
            continue
        info = describe_outcome(outcome)
        parts.append(
            pd.DataFrame(
                {
                    "outcome": info.label,
                    "unit": info.diff_unit,
                    "scenario": rows["scenario"].astype(str),
                    "extra_public_cost_eur_bn": rows["public_cost_difference_eur_bn"],
                    "difference": rows["mean_difference"] * info.scale,
                    "per_eur_bn": rows["mean_difference_per_eur_bn"] * info.scale,
                    "per_eur_bn_low": rows["ci_low_per_eur_bn"] * info.scale,
                    "per_eur_bn_high": rows["ci_high_per_eur_bn"] * info.scale,
                    "note": rows["per_euro_note"].fillna(""),
                }
            )
        )
    if not parts:
        s.notes.append(f"`{diff_file}` has none of the per-euro outcomes; left out.")
        return
    table = pd.concat(parts, ignore_index=True)
    b.derive(
        s,
        table,
        "effects_per_eur_bn.csv",
        "Raw effect and effect per EUR 1 bn of extra public money, with 95% CI.",
        inline=True,
    )


def _pathways(b: Build) -> None:
    baseline, reps = b.data["baseline"], b.data["replicates"]
    s = b.section(
        "Emission pathways",
        f"Yearly emissions per scenario: mean of {reps} replicates with the 90% band across "
        f"replicates; the right panels show the paired (same-seed) difference from `{baseline}`.",
    )
    table = b.read(s, "pathways.csv", PATHWAY_COLUMNS)
    if table is None:
        return
    b.copy(s, "pathways.csv", "Yearly emissions (t CO2e) per scenario and series, with bands.")
    years = f"{int(table['year'].min())}-{int(table['year'].max())}"
    names = list(dict.fromkeys(table["scenario"].astype(str)))
    for series in runner.PATHWAY_SERIES:
        if series not in set(table["series"]):
            continue
        what = report_figures.SERIES_LABELS[series]
        stem = b.figure(
            s,
            f"pathway_{series}",
            f"{what} per year, {years}, in Mt CO2e per year: mean and 90% band over {reps} "
            f"replicates per scenario; right: paired difference from `{baseline}`.",
            f"Line chart of {what} in Mt CO2e per year, {years}, for {len(names)} scenarios "
            f"({', '.join(names[:4])}{', ...' if len(names) > 4 else ''}).",
        )
        report_figures.plot_pathways(
            table, series, stem, b.run_id, baseline=baseline, replicates=reps
        )


VERIFICATION_NOTE = "verification scenario, not a plausible world"


def _verification_note(b: Build, configs: list[dict[str, object]]) -> None:
    """A section naming the scenarios run with ``[scenario] verification = true``, if any."""
    names = [str(c.get("name")) for c in configs if c.get("verification")]
    if names:
        b.section(
            "Verification scenarios",
            f"{', '.join(f'`{n}`' for n in names)}: {VERIFICATION_NOTE} (extreme-condition "
            "test; parameters may leave their plausible ranges).",
        )


def build_experiment(b: Build) -> None:
    """compare and demo: baseline outcomes, lever effects, emission pathways."""
    _verification_note(b, [s.get("config", {}) for s in b.data.get("scenarios", [])])
    _baseline_outcomes(b)
    _lever_effects(b)
    _per_euro(b)
    _pathways(b)


# --- a single run --------------------------------------------------------------------------


def build_run(b: Build) -> None:
    """govsim run: every headline outcome and the EU emission pathway of one seed."""
    scenario, seed, headline = b.data["scenario"], b.data["seed"], b.data["headline"]
    _verification_note(b, [b.data.get("config", {})])
    rows = []
    for outcome, value in headline.items():
        info = describe_outcome(outcome)
        scaled = float(value) * info.scale if value is not None else float("nan")
        rows.append({"outcome": outcome, "label": info.label, "value": scaled, "unit": info.unit})
        if outcome in RUN_OUTCOMES and math.isfinite(scaled):
            b.add_headline(info.label, scenario, [scaled], f"one run, seed {seed}", info.unit)
    s = b.section("Headline outcomes", f"All headline outcomes of scenario `{scenario}`.")
    b.derive(s, pd.DataFrame(rows), "headline_outcomes.csv", "Headline outcomes.", inline=True)
    s = b.section("Emission pathway", f"EU emissions per year in the run with seed {seed}.")
    series = ["emissions_total_t", "emissions_industry_t"]
    eu = b.read(s, "eu_year.parquet", ["year", "level", *series])
    if eu is None:
        return
    eu = eu[eu["level"] == "EU"][["year", *series]].reset_index(drop=True)
    b.derive(s, eu, "pathway.csv", "EU emissions per year (t CO2e).", inline=False)
    long = eu.melt("year", series, "series", "mean_t").assign(scenario=scenario)
    long["low_t"] = long["high_t"] = long["mean_t"]
    years = f"{int(eu['year'].min())}-{int(eu['year'].max())}"
    for name in series:
        what = report_figures.SERIES_LABELS[name]
        stem = b.figure(
            s,
            f"pathway_{name}",
            f"{what} per year, {years}, in Mt CO2e per year (scenario `{scenario}`, seed {seed}).",
            f"Line chart of {what} in Mt CO2e per year, {years}.",
        )
        report_figures.plot_pathways(
            long, name, stem, b.run_id, baseline=None, replicates=1, note=f"one run, seed {seed}"
        )
