"""``govsim report RESULTS_DIR``: a self-contained HTML and Markdown report of a results directory.

``write_report`` reads ``manifest.json`` to tell which command wrote the directory (its
``kind``: run, compare, demo, sweep, sensitivity, case or calibration; ``govsim run`` writes no
kind and is recognised by its ``headline`` and ``seed``), and writes, into
``RESULTS_DIR/report/`` unless told otherwise::

    report.html   self-contained: figures embedded as PNG data URIs, key tables inline
    report.md     the same report in Markdown, figures and tables linked
    figures/      every figure as PNG and SVG (Okabe-Ito colours, units on the axes)
    tables/       every table as CSV, copied from the directory or derived from it

Every figure caption and the headline table carry the run ID, the command that reproduces the
directory is printed at the top, a methods paragraph is generated from the manifest (model and
code version, scenarios, replicates and seeds, calibration used, wall time) and a "How to cite"
block from ``CITATION.cff``. A missing data file leaves its part out with a note; a missing,
malformed or unknown manifest is bad input (exit code 2) and leaves nothing behind, since the
report is written to a temporary directory that is renamed into place when complete.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import math
import re
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from abm.outcomes import selection
from experiments import cases, report_figures, results, runner
from experiments import sensitivity as sa
from experiments.cli import RUN_OUTCOMES, _fmt
from experiments.errors import BadInput
from experiments.figures import OutcomeInfo, describe_outcome
from experiments.results import KINDS, Manifest, atomic_dir

REPORT_DIR = "report"
FIGURES = "figures"
TABLES = "tables"
CITATION_FILE = Path(__file__).resolve().parents[1] / "CITATION.cff"
INLINE_ROWS = 30  # rows of a table shown in the report; the CSV has all
LISTED_SEEDS = 6  # seeds named in the methods text before "... (n in total)"
# outcomes of compare and demo shown in the headline and given a chart: the Mission's 2030
# target year, then the command line's key outcomes
REPORT_OUTCOMES: tuple[str, ...] = selection("report")

# --- the manifest --------------------------------------------------------------------------

_TYPES: dict[str, Callable[[object], bool]] = {
    "a string": lambda v: isinstance(v, str),
    "an integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "a number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "a list": lambda v: isinstance(v, list),
    "an object": lambda v: isinstance(v, dict),
}
_EXPERIMENT = {
    "run_id": "a string",
    "baseline": "a string",
    "diff_file": "a string",
    "scenarios": "a list",
    "replicates": "an integer",
    "seeds": "a list",
}
REQUIRED: dict[str, dict[str, str]] = {
    "run": {"scenario": "a string", "seed": "an integer", "headline": "an object"},
    "compare": _EXPERIMENT,
    "demo": _EXPERIMENT,
    "sweep": {
        "outcomes": "a list",
        "factors": "a list",
        "seeds": "a list",
        "replicates": "an integer",
    },
    "sensitivity": {"study": "an object", "outcomes": "a list"},
    "case": {"run_id": "a string", "scenarios": "a list", "seeds": "a list"},
    "calibration": {
        "run_id": "a string",
        "parameters": "a list",
        "generations": "an integer",
        "population_size": "an integer",
        "targets_fit": "a list",
        "targets_held_out": "a list",
    },
}
OPTIONAL: dict[str, str] = {
    "run_id": "a string",
    "command": "a string",
    "reproduce": "a string",
    "code_version": "a string",
    "created_utc": "a string",
    "wall_time_s": "a number",
}
PARAMETER_KEYS: dict[str, str] = {
    "name": "a string",
    "unit": "a string",
    **{k: "a number" for k in ("prior_low", "prior_high", "posterior_median", "q05", "q95")},
}


def _check_keys(
    data: Mapping[str, Any], spec: Mapping[str, str], where: str, required: bool
) -> list[str]:
    """Problems with the keys of ``spec`` in ``data``: missing (if required) or mistyped."""
    problems = []
    for key, wanted in spec.items():
        if key not in data:
            if required:
                problems.append(f"key '{where}{key}' is missing; expected {wanted}")
        elif not _TYPES[wanted](data[key]):
            shown = json.dumps(data[key], default=str)[:40]
            problems.append(f"key '{where}{key}' is {shown}; expected {wanted}")
    return problems


def _kind_problems(kind: str, data: Mapping[str, Any]) -> list[str]:
    """Checks beyond key types: file names, the sensitivity method, calibration parameters."""
    problems: list[str] = []
    diff = data.get("diff_file")
    if kind in ("compare", "demo") and isinstance(diff, str) and Path(diff).name != diff:
        problems.append(f"key 'diff_file' is '{diff}'; expected a file name in the directory")
    method = data.get("study", {}).get("method") if kind == "sensitivity" else None
    if kind == "sensitivity" and method not in sa.METHODS:
        problems.append(
            f"key 'study.method' is {method!r}; expected one of {', '.join(sa.METHODS)}"
        )
    for k, item in enumerate(data.get("parameters", []) if kind == "calibration" else []):
        if not isinstance(item, dict):
            problems.append(f"key 'parameters[{k}]' is not an object; expected {{name, unit, ...}}")
            continue
        problems += _check_keys(item, PARAMETER_KEYS, f"parameters[{k}].", required=True)
    return problems


def read_manifest(results_dir: Path) -> Manifest:
    """Read and check ``results_dir/manifest.json``; BadInput names the file, key and allowed.

    The kind and run ID come from the manifest (``experiments.results.read_manifest``); the
    keys each kind's report needs are checked here.
    """
    manifest = results.read_manifest(results_dir, KINDS)
    data, kind = manifest.data, manifest.kind
    problems = _check_keys(data, REQUIRED[kind], "", required=True)
    problems += _check_keys(data, OPTIONAL, "", required=False)
    problems += _kind_problems(kind, data) if not problems else []
    if problems:
        raise BadInput("\n  ".join([f"{manifest.path} is not a valid {kind} manifest:", *problems]))
    return manifest


# --- what a report holds -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FigureRef:
    """A figure in ``figures/<stem>.png|svg`` with its number, caption and alt text."""

    number: int
    stem: str
    caption: str
    alt: str


@dataclass(frozen=True, slots=True)
class TableRef:
    """A table in ``tables/<name>``; ``preview`` is shown in the report when given."""

    number: int
    name: str
    caption: str
    preview: pd.DataFrame | None = None


@dataclass(slots=True)
class Section:
    """A part of the report: text, figures, tables and notes on what was left out and why."""

    title: str
    text: list[str] = field(default_factory=list)
    figures: list[FigureRef] = field(default_factory=list)
    tables: list[TableRef] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Headline:
    """A headline number: value with its interval (NaN if none), what the interval is, unit."""

    quantity: str
    scenario: str
    value: float
    low: float
    high: float
    interval: str
    unit: str


HEADLINE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Headline))


@dataclass(slots=True)
class Build:
    """A report being built: what it reads, where it writes, and what it has collected."""

    source: Path
    out: Path
    manifest: Manifest
    headline: list[Headline] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    n_figures: int = 0
    n_tables: int = 0

    @property
    def data(self) -> dict[str, Any]:
        return self.manifest.data

    @property
    def run_id(self) -> str:
        return self.manifest.run_id

    def add_headline(
        self, quantity: str, scenario: Any, bounds: Iterable[Any], interval: str, unit: Any
    ) -> None:
        """Record a headline number; ``bounds`` is (value,) or (value, low, high)."""
        value, low, high = (*(float(v) for v in bounds), math.nan, math.nan)[:3]
        self.headline.append(
            Headline(quantity, str(scenario), value, low, high, interval, str(unit))
        )

    def section(self, title: str, *text: str) -> Section:
        """Start a new section of the report."""
        self.sections.append(Section(title, list(text)))
        return self.sections[-1]

    def read(self, section: Section, name: str, columns: Iterable[str]) -> pd.DataFrame | None:
        """A CSV or Parquet file of the directory, or None with a note if missing or malformed."""
        path = self.source / name
        if not path.is_file():
            section.notes.append(f"`{name}` is not in the results directory; left out.")
            return None
        try:
            frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
        except (OSError, ValueError) as exc:
            section.notes.append(f"`{name}` could not be read ({exc}); left out.")
            return None
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            section.notes.append(f"`{name}` lacks column(s) {', '.join(missing)}; left out.")
            return None
        return frame

    def copy(
        self, section: Section, name: str, caption: str, preview: pd.DataFrame | None = None
    ) -> None:
        """Copy a CSV of the directory into ``tables/`` (a note if it is missing)."""
        if not (self.source / name).is_file():
            section.notes.append(f"`{name}` is not in the results directory; left out.")
            return
        shutil.copyfile(self.source / name, self.out / TABLES / name)
        self.n_tables += 1
        section.tables.append(TableRef(self.n_tables, name, caption, preview))

    def derive(
        self, section: Section, frame: pd.DataFrame, name: str, caption: str, inline: bool
    ) -> None:
        """Write a table derived from the directory into ``tables/``; shown if ``inline``."""
        frame.to_csv(self.out / TABLES / name, index=False)
        self.n_tables += 1
        section.tables.append(TableRef(self.n_tables, name, caption, frame if inline else None))

    def figure(self, section: Section, stem: str, caption: str, alt: str) -> Path:
        """Register a figure; returns the path stem (no suffix) to draw it to."""
        self.n_figures += 1
        section.figures.append(FigureRef(self.n_figures, stem, caption, alt))
        return self.out / FIGURES / stem


def _interval_frame(
    labels: Iterable[Any], centre: Any, low: Any, high: Any, scale: float = 1.0
) -> pd.DataFrame:
    """The label/centre/low/high table ``report_figures.plot_intervals`` draws."""
    return pd.DataFrame(
        {
            "label": [str(v) for v in labels],
            "centre": np.asarray(centre, dtype=float) * scale,
            "low": np.asarray(low, dtype=float) * scale,
            "high": np.asarray(high, dtype=float) * scale,
        }
    )


def _finite(value: Any) -> bool:
    """True for a finite number (a table cell may be NaN or None)."""
    return value is not None and math.isfinite(float(value))


def _names(values: Sequence[Any]) -> str:
    """``a, b and c`` in code style."""
    quoted = [f"`{v}`" for v in values]
    return ", ".join(quoted[:-1]) + " and " + quoted[-1] if len(quoted) > 1 else "".join(quoted)


# --- compare and demo ----------------------------------------------------------------------

SUMMARY_COLUMNS = ("scenario", "outcome", "n", "mean", "low", "high")
DIFF_COLUMNS = ("scenario", "outcome", "n", "mean_difference", "ci_low", "ci_high")
PATHWAY_COLUMNS = ("scenario", "series", "year", "mean_t", "low_t", "high_t")


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
        if outcome in base.index and _finite(base.loc[outcome, "mean"]):
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
    frame = _interval_frame(
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
        frame,
        stem,
        b.run_id,
        xlabel=f"difference from {baseline} ({info.diff_unit})",
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


def build_experiment(b: Build) -> None:
    """compare and demo: baseline outcomes, lever effects, emission pathways."""
    _baseline_outcomes(b)
    _lever_effects(b)
    _pathways(b)


# --- a single run --------------------------------------------------------------------------


def build_run(b: Build) -> None:
    """govsim run: every headline outcome and the EU emission pathway of one seed."""
    scenario, seed, headline = b.data["scenario"], b.data["seed"], b.data["headline"]
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


# --- sweep ---------------------------------------------------------------------------------


def _distribution(runs: pd.DataFrame, outcomes: Sequence[str]) -> pd.DataFrame:
    """Per outcome: runs, mean, sd, 5%, 50% and 95% quantiles, in display units."""
    rows = []
    for outcome in outcomes:
        info = describe_outcome(outcome)
        values = runs[outcome].to_numpy(dtype=float) * info.scale
        values = values[np.isfinite(values)]
        q05, median, q95 = np.quantile(values, [0.05, 0.5, 0.95])
        rows.append(
            {
                "outcome": outcome,
                "unit": info.unit,
                "runs": len(values),
                "mean": values.mean(),
                "sd": values.std(ddof=1) if len(values) > 1 else float("nan"),
                "q05": q05,
                "median": median,
                "q95": q95,
            }
        )
    return pd.DataFrame(rows)


def build_sweep(b: Build) -> None:
    """govsim sweep: outcome distributions over the design, the factors, replicate adequacy."""
    m = b.data
    s = b.section("Outcome distributions")
    runs = b.read(s, "runs.parquet", ["status", *m["outcomes"]])
    if runs is not None:
        ok = runs[runs["status"] == "ok"]
        outcomes = [o for o in m["outcomes"] if np.isfinite(ok[o].to_numpy(dtype=float)).any()]
        s.text.append(
            f"{len(ok)} of {len(runs)} runs finished; every design point ran with the same "
            f"{m['replicates']} replicate seeds (common random numbers)."
        )
        table = _distribution(ok, outcomes)
        b.derive(s, table, "outcome_distribution.csv", "Outcomes over all runs.", inline=True)
        b.derive(s, runs.drop(columns="run_key", errors="ignore"), "runs.csv", "Every run.", False)
        for row in table.to_dict("records"):
            b.add_headline(
                describe_outcome(row["outcome"]).label,
                "all design points",
                [row["median"], row["q05"], row["q95"]],
                f"median, 90% range over {row['runs']} runs",
                row["unit"],
            )
        if outcomes:
            stem = b.figure(
                s,
                "outcome_distributions",
                f"Distribution of each outcome over the {len(ok)} finished runs of the sweep "
                "(units on each axis); the line is the median.",
                f"Histograms of {len(outcomes)} outcomes over {len(ok)} sweep runs.",
            )
            note = f"{len(ok)} runs"
            report_figures.plot_distributions(ok, outcomes, stem, b.run_id, note=note)
    s = b.section("Design", "The factors varied by the sweep and their ranges.")
    factors = pd.DataFrame([f for f in m["factors"] if isinstance(f, dict)])
    b.derive(s, factors, "factors.csv", "Factors of the design.", inline=True)
    b.copy(
        s,
        "replicate_adequacy.csv",
        "95% CI half-width of a design point's mean against the number of replicates.",
    )


# --- sensitivity ---------------------------------------------------------------------------


def _indices_chart(b: Build, s: Section, frame: pd.DataFrame, method: str) -> None:
    """The main index of one outcome with its intervals and the dummy threshold."""
    main, outcome = sa.MAIN_INDEX[method], str(frame["outcome"].iloc[0])
    info = describe_outcome(outcome)
    scale = info.scale if method == "morris" else 1.0
    rows = frame[frame["index"] == main]
    factors = rows[~rows["is_dummy"].astype(bool)].sort_values("value", ascending=False)
    dummy = rows[rows["is_dummy"].astype(bool)]
    low = factors[["ci_low", "noise_ci_low"]].min(axis=1).fillna(factors["value"])
    high = factors[["ci_high", "noise_ci_high"]].max(axis=1).fillna(factors["value"])
    shown = _interval_frame(factors["name"], factors["value"], low, high, scale)
    limit = dummy[["value", "ci_high", "noise_ci_high"]].to_numpy(dtype=float)
    threshold = float(np.nanmax(limit)) * scale if np.isfinite(limit).any() else None
    stem = b.figure(
        s,
        f"indices_{sa._file_stem(outcome)}",
        f"{info.label}: {method} index {main} of each factor with its 95% interval; the dashed "
        "line is the dummy factor's upper bound (factors left of it are indistinguishable "
        "from no effect).",
        f"Dot-and-whisker chart of {main} for {len(shown)} factors on {info.label}.",
    )
    report_figures.plot_intervals(
        shown,
        stem,
        b.run_id,
        xlabel=sa._axis_label(method, outcome),
        title=f"{info.label}\n{method} {main}, 95% intervals (design and seed)",
        reference=None,
        threshold=None if threshold is None else (threshold, f"{sa.DUMMY_LABEL}: upper bound"),
    )
    b.add_headline(
        f"{info.label}: most influential factor ({main})",
        shown["label"].iloc[0],
        shown[["centre", "low", "high"]].iloc[0],
        "95% interval",
        info.diff_unit if method == "morris" else "index (0-1)",
    )


def build_sensitivity(b: Build) -> None:
    """govsim sensitivity: the main index per outcome, noise and convergence checks."""
    study = b.data["study"]
    method = study["method"]
    s = b.section(
        "Sensitivity indices",
        f"{method} analysis: main index {sa.MAIN_INDEX[method]} per factor, largest at the top. "
        "Every design carries a dummy factor the model never sees; its index shows how large "
        "an index can be by chance.",
    )
    paths = sorted(b.source.glob("indices_*.csv"))
    if not paths:
        s.notes.append("No `indices_*.csv` in the results directory; no indices to show.")
    for path in paths:
        frame = b.read(s, path.name, sa.INDEX_COLUMNS)
        if frame is not None and not frame[frame["index"] == sa.MAIN_INDEX[method]].empty:
            _indices_chart(b, s, frame, method)
            b.copy(s, path.name, f"All indices of `{frame['outcome'].iloc[0]}`.")
    for outcome, why in (b.data.get("skipped_outcomes") or {}).items():
        s.notes.append(f"`{outcome}` was not analysed: {why}.")
    factors = [f for f in study.get("factors", []) if isinstance(f, dict)]
    if factors:
        b.derive(s, pd.DataFrame(factors), "factors.csv", "Factors and ranges.", inline=True)
    s = b.section(
        "Noise and convergence",
        "`noise.csv`: the share of output variance due to seeds rather than factors. "
        "`convergence.csv`: the largest change of an index between half and the full sample.",
    )
    b.copy(s, "noise.csv", "Seed noise per outcome.")
    b.copy(s, "convergence.csv", "Convergence of each index (N/2 against N).")


# --- case ----------------------------------------------------------------------------------

# case metrics shown: name ({year}: the latest year the runs reach), label, unit, difference unit
CASE_METRICS: tuple[tuple[str, str, str, str], ...] = (
    (
        "with_industry_cut_{year}_pct",
        "territorial emissions cut by {year}, incl. industry",
        "%",
        "percentage points",
    ),
    ("city_scope_cut_{year}_pct", "city-scope emissions cut by {year}", "%", "percentage points"),
    ("plant_jobs_{year}", "direct jobs at the city's large plants in {year}", "jobs", "jobs"),
    ("route_decision_year", "first year a local plant changes route", "year", "years"),
)


def case_metrics(names: Iterable[str]) -> dict[str, OutcomeInfo]:
    """The case metrics among ``names`` (of each, the latest year) with label and units."""
    out: dict[str, OutcomeInfo] = {}
    for metric, label, unit, diff_unit in CASE_METRICS:
        pattern = metric.replace("{year}", r"(?P<year>\d{4})")
        found = [m for n in sorted(set(names)) if (m := re.fullmatch(pattern, n))]
        if found:
            year = found[-1].groupdict().get("year", "")
            out[found[-1].string] = OutcomeInfo(label.format(year=year), unit, diff_unit)
    return out


CITY_COLUMNS = ("scenario", "seed", "year", "emissions_with_industry_t", "emissions_city_scope_t")


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
            if metric in base.index and _finite(base.loc[metric, "mean"]):
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
        frame = _interval_frame(
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
            frame,
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


# --- calibration ---------------------------------------------------------------------------

FIT_COLUMNS = ("item", "role", "observed_mean", "simulated_mean", "q05", "q95", "within_interval")
PPC_COLUMNS = ("item", "category", "observed_share", "sim_mean", "sim_q05", "sim_q95", "role")
GENERATION_COLUMNS = ("generation", "epsilon", "acceptance_rate")


def _posterior(b: Build) -> None:
    m = b.data
    s = b.section(
        "Posterior parameters",
        f"ABC-SMC calibration: {m['generations']} generations of {m['population_size']} "
        "particles. Each parameter's posterior median and 90% interval, placed within its prior "
        "range (0 = prior low, 1 = prior high): a narrow interval means the targets inform it.",
    )
    params = pd.DataFrame(m["parameters"])[list(PARAMETER_KEYS)]
    b.derive(s, params, "parameters.csv", "Prior range and posterior of each parameter.", True)
    span = (params["prior_high"] - params["prior_low"]).where(lambda v: v != 0)
    labels = [
        f"{r.name} ({r.unit}; prior {r.prior_low:g} to {r.prior_high:g})"
        for r in params.itertuples()
    ]
    frame = _interval_frame(
        labels,
        (params["posterior_median"] - params["prior_low"]) / span,
        (params["q05"] - params["prior_low"]) / span,
        (params["q95"] - params["prior_low"]) / span,
    )
    stem = b.figure(
        s,
        "posterior",
        "Posterior median and 90% interval of each parameter as a share of its prior range.",
        f"Dot-and-whisker chart of {len(frame)} parameters' posteriors within their priors.",
    )
    report_figures.plot_intervals(
        frame,
        stem,
        b.run_id,
        xlabel="position in the prior range (0 = prior low, 1 = prior high)",
        title="posterior median and 90% interval",
        reference=None,
        xlim=(0.0, 1.0),
    )
    for r in params.itertuples():
        bounds = [r.posterior_median, r.q05, r.q95]
        b.add_headline(str(r.name), "posterior", bounds, "median, 90% interval", r.unit)


def _target_chart(
    b: Build, s: Section, stem: str, rows: pd.DataFrame, text: tuple[str, str, str]
) -> None:
    """Simulated interval (by role) against the observed value of calibration targets.

    ``rows`` has label, centre, low, high, observed and role; ``text`` is the caption, the
    x-axis label and the title.
    """
    caption, xlabel, title = text
    frame = rows.rename(columns={"role": "group"})
    path = b.figure(
        s,
        stem,
        f"{caption}: simulated mean and 90% interval at the posterior (dots, coloured by role) "
        "and the observed value (open diamonds).",
        f"Dot-and-whisker chart of {len(frame)} rows of {title}, simulated against observed.",
    )
    report_figures.plot_intervals(frame, path, b.run_id, xlabel=xlabel, title=title, reference=None)


def _fit(b: Build) -> None:
    s = b.section(
        "Fit to targets",
        "Each target's observed value against its simulated 90% interval at the posterior; "
        "`held_out` targets were not used in fitting, so they validate it.",
    )
    fit = b.read(s, "fit_table.csv", FIT_COLUMNS)
    if fit is not None:
        b.copy(s, "fit_table.csv", "Fit of every target: distance, observed, simulated.", fit)
        for role, rows in fit.groupby("role", sort=False):
            if role == "not_modelled":  # no simulated answer: counted, not tested
                b.add_headline("targets the model does not answer", "-", [len(rows)], "count", "")
                continue
            within = int(rows["within_interval"].astype(bool).sum())
            quantity = f"{role} targets within the simulated 90% interval"
            b.add_headline(quantity, "posterior", [within], "count", f"of {len(rows)} targets")
        statistic = fit["statistic"] if "statistic" in fit else pd.Series("", index=fit.index)
        for name, rows in fit.groupby(statistic.astype(str), sort=False):
            frame = _interval_frame(rows["item"], rows["simulated_mean"], rows["q05"], rows["q95"])
            frame = frame.assign(observed=rows["observed_mean"].to_numpy(float))
            frame = frame.assign(role=rows["role"].to_numpy())
            what = f"targets ({name})" if name else "targets"
            stem = "fit_targets" + (f"_{sa._file_stem(name)}" if name else "")
            scale = name or "the target's own scale"
            _target_chart(b, s, stem, frame, (f"Fit of the {what}", scale, f"fit of the {what}"))
    ppc = b.read(s, "ppc.csv", PPC_COLUMNS)
    if ppc is not None:
        b.copy(s, "ppc.csv", "Posterior predictive check per target and answer category.")
        labels = ppc["item"].astype(str) + ": " + ppc["category"].astype(str)
        frame = _interval_frame(labels, ppc["sim_mean"], ppc["sim_q05"], ppc["sim_q95"])
        frame = frame.assign(observed=ppc["observed_share"].to_numpy(float), role=ppc["role"])
        text = ("Share of each answer category", "share of respondents (0-1)", "answer shares")
        _target_chart(b, s, "ppc", frame, text)


def _convergence(b: Build) -> None:
    s = b.section("ABC-SMC convergence", "Tolerance and acceptance rate by generation.")
    generations = b.read(s, "generations.csv", GENERATION_COLUMNS)
    if generations is not None and (generations["epsilon"] > 0).any():
        generations = generations[generations["epsilon"] > 0]
        b.copy(s, "generations.csv", "Epsilon, ESS, simulations, acceptance rate, time.")
        stem = b.figure(
            s,
            "epsilon_trace",
            "ABC-SMC tolerance epsilon (log scale) and acceptance rate by generation.",
            f"Two line charts over {len(generations)} generations: epsilon falls, acceptance "
            "rate by generation.",
        )
        report_figures.plot_trace(generations, stem, b.run_id)
        final = [generations["epsilon"].iloc[-1]]
        b.add_headline("final tolerance epsilon", "last generation", final, "", "distance")
    b.copy(s, "posterior.csv", "Weighted posterior sample: one column per parameter and weight.")


def build_calibration(b: Build) -> None:
    """A calibration: posterior parameters, fit to targets, ABC-SMC convergence."""
    _posterior(b)
    _fit(b)
    _convergence(b)


BUILDERS: dict[str, Callable[[Build], None]] = {
    "run": build_run,
    "compare": build_experiment,
    "demo": build_experiment,
    "sweep": build_sweep,
    "sensitivity": build_sensitivity,
    "case": build_case,
    "calibration": build_calibration,
}

# --- methods and citation ------------------------------------------------------------------


def _seeds(seeds: Sequence[Any]) -> str:
    shown = ", ".join(str(s) for s in seeds[:LISTED_SEEDS])
    return shown + (f", ... ({len(seeds)} in total)" if len(seeds) > LISTED_SEEDS else "")


def _model_version(m: Mapping[str, Any]) -> str:
    """govsim's version as recorded (``packages`` or ``packages_versions``), else installed."""
    for key in ("package_versions", "packages", "packages_versions"):
        if isinstance(m.get(key), dict) and isinstance(m[key].get("govsim"), str):
            return str(m[key]["govsim"])
    return metadata.version("govsim")


def _design(b: Build) -> str:
    """What was run: scenarios or design, replicates and seeds, for each kind."""
    m, kind = b.data, b.manifest.kind
    if kind == "run":
        return f"One run of scenario `{m['scenario']}` with seed {m['seed']}."
    if kind in ("compare", "demo"):
        names = [s["name"] if isinstance(s, dict) else s for s in m["scenarios"]]
        return (
            f"Scenarios {_names(names)} (reference `{m['baseline']}`) each ran with the same "
            f"{m['replicates']} replicate seeds ({_seeds(m['seeds'])}; common random numbers), "
            f"derived from master seed {m.get('master_seed', 'unknown')} by "
            "`experiments.runner.replicate_seeds`; differences are paired by seed."
        )
    if kind == "sweep":
        design = m.get("design") or {}
        return (
            f"Experiment `{m.get('experiment', '?')}`: {design.get('points', '?')} design points "
            f"({design.get('method', '?')} design) over {len(m['factors'])} factors, each run "
            f"with the same {m['replicates']} replicate seeds ({_seeds(m['seeds'])}) from "
            f"master seed {m.get('master_seed', 'unknown')}."
        )
    if kind == "sensitivity":
        study = m["study"]
        return (
            f"{study['method']} sensitivity analysis of {len(study.get('factors', []))} factors "
            f"plus a dummy (N = {study.get('samples', '?')}, design seed "
            f"{study.get('seed', '?')}{', grouped' if study.get('grouped') else ''}): "
            f"{m.get('design_rows', '?')} design rows, {m.get('runs', '?')} model runs, "
            f"replicate seeds {_seeds(m.get('replicate_seeds', []))}."
        )
    if kind == "case":
        return (
            f"Case scenario `{m.get('scenario', '?')}`: variants {_names(m['scenarios'])}, each "
            f"with the same {len(m['seeds'])} seeds ({_seeds(m['seeds'])})."
        )
    return (
        f"Approximate Bayesian computation (ABC-SMC): {m['generations']} generations of "
        f"{m['population_size']} particles; {len(m['targets_fit'])} targets fitted "
        f"({_seeds(m['targets_fit'])}) and {len(m['targets_held_out'])} held out "
        f"({_seeds(m['targets_held_out'])})."
    )


def calibrated_defaults() -> dict[str, str]:
    """Registry parameters whose default is a posterior median, with the calibration run id."""
    from abm.config import PARAMETER_META

    prefix = "calibrated: posterior median of "
    return {
        name: str(meta["source"])[len(prefix) :].split(" ")[0]
        for name, meta in PARAMETER_META.items()
        if str(meta["source"]).startswith(prefix)
    }


def _calibration_used(b: Build) -> str:
    posterior = b.data.get("posterior")
    if b.manifest.kind == "calibration":
        return "Parameters not calibrated here are at their registry defaults."
    if isinstance(posterior, dict):  # calibration.posterior.Posterior.describe()
        names = ", ".join(f"`{n}`" for n in posterior.get("parameters") or [])
        return (
            f"The calibrated parameters{f' ({names})' if names else ''} were drawn from the "
            f"posterior of calibration `{posterior.get('run_id', 'unknown')}` in "
            f"`{posterior.get('directory', 'unknown')}` ({posterior.get('n_draws', '?')} draws, "
            "one per seed); the other parameters are at their registry defaults."
        )
    if posterior:
        return f"Behavioural parameters come from the calibrated posterior `{posterior}`."
    calibrated = calibrated_defaults()
    if calibrated:
        runs = ", ".join(f"`{r}`" for r in sorted(set(calibrated.values())))
        return (
            f"Parameters are at their registry defaults: the {len(calibrated)} calibrated ones "
            f"at the posterior medians of calibration {runs}, the rest literature values and "
            "assumptions; parameter uncertainty was not sampled (no `--posterior`)."
        )
    return (
        "Behavioural parameters are at their registry defaults (literature priors and "
        "assumptions); no calibrated posterior was used."
    )


def methods(b: Build) -> str:
    """The methods paragraph, generated from the manifest."""
    m = b.data
    created = f" on {m['created_utc']}" if m.get("created_utc") else ""
    wall = m.get("wall_time_s", m.get("evaluation_s"))
    parts = [
        f"The results directory `{b.source.name}` ({b.manifest.kind}, run ID `{b.run_id}`) was "
        f"written by govsim {_model_version(m)}, code version "
        f"`{m.get('code_version', 'unknown')}`{created}.",
        _design(b),
        _calibration_used(b),
        f"Wall time {float(wall):.1f} s." if wall is not None else "Wall time not recorded.",
        "Package versions and data-file hashes are in `manifest.json`.",
    ]
    return " ".join(parts)


def load_citation(path: Path = CITATION_FILE) -> dict[str, Any]:
    """The repository's CITATION.cff, or its essentials from the installed package."""
    if path.is_file():
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            return data
    return {
        "title": "govsim",
        "version": metadata.version("govsim"),
        "authors": [{"name": "govsim contributors"}],
        "message": "If you use govsim, please cite it as below.",
    }


def _author(person: Mapping[str, Any]) -> str:
    if "name" in person:
        return str(person["name"])
    return ", ".join(str(person[k]) for k in ("family-names", "given-names") if k in person)


def citation(b: Build) -> tuple[str, str, str]:
    """The citation's message, a one-line reference with the run ID, and a BibTeX entry."""
    cff = load_citation()
    authors = "; ".join(_author(a) for a in cff.get("authors", []) if isinstance(a, dict))
    year = str(b.data.get("created_utc") or datetime.now(UTC).isoformat())[:4]
    title, version = cff.get("title", "govsim"), cff.get("version", "")
    code = b.data.get("code_version", "unknown")
    line = (
        f"{authors} ({year}). {title} (version {version}) [Computer software]. "
        f"Results: run ID `{b.run_id}`, code version `{code}`."
    )
    bibtex = "\n".join(
        [
            f"@software{{govsim_{re.sub(r'[^A-Za-z0-9]+', '_', b.run_id)},",
            f"  author  = {{{{{authors}}}}},",
            f"  title   = {{{title}}},",
            f"  version = {{{version}}},",
            f"  year    = {{{year}}},",
            f"  note    = {{Results run ID {b.run_id}, code version {code}}}",
            "}",
        ]
    )
    return str(cff.get("message", "")), line, bibtex


def reproduce_command(m: Mapping[str, Any]) -> str:
    """The one command that reproduces the directory (``reproduce``, else ``command``)."""
    return str(m.get("reproduce") or m.get("command") or "(not recorded in manifest.json)")


# --- rendering -----------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        return _fmt(float(value))
    return str(value)


def _rows(frame: pd.DataFrame) -> list[list[str]]:
    return [[_cell(v) for v in row] for row in frame.head(INLINE_ROWS).itertuples(index=False)]


def _headline_frame(b: Build) -> pd.DataFrame:
    """The headline numbers as a table, each row with the run ID."""
    rows = [[b.run_id, *(getattr(h, k) for k in HEADLINE_FIELDS)] for h in b.headline]
    return pd.DataFrame(rows, columns=["run_id", *HEADLINE_FIELDS])


def _value(h: Headline) -> str:
    interval = f" [{_fmt(h.low)}, {_fmt(h.high)}]" if np.isfinite([h.low, h.high]).all() else ""
    return _fmt(float(h.value)) + interval


def _headline_display(b: Build) -> tuple[list[str], list[list[str]]]:
    rows = [[h.quantity, h.scenario, _value(h), h.unit, h.interval] for h in b.headline]
    return ["quantity", "scenario", "value [interval]", "unit", "interval"], rows


@dataclass(frozen=True, slots=True)
class Front:
    """The parts around the sections: title, reproduce command, methods and citation."""

    title: str
    reproduce: str
    methods: str
    cite_message: str
    cite_line: str
    bibtex: str


def front_matter(b: Build) -> Front:
    m = b.data
    return Front(
        f"govsim {b.manifest.kind} report: {b.run_id}",
        reproduce_command(m),
        methods(b),
        *citation(b),
    )


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return [line(headers), "|" + "---|" * len(headers), *(line(r) for r in rows), ""]


def _md_section(s: Section, run_id: str) -> list[str]:
    out = [f"## {s.title}", "", *(t + "\n" for t in s.text)]
    for f in s.figures:
        out += [
            f"![{f.alt}]({FIGURES}/{f.stem}.png)",
            "",
            f"*Figure {f.number}. {f.caption} Run ID: `{run_id}`.* "
            f"Vector: [{f.stem}.svg]({FIGURES}/{f.stem}.svg)",
            "",
        ]
    for t in s.tables:
        link = f"[{t.name}]({TABLES}/{t.name})"
        out += [f"Table {t.number}. {t.caption} Run ID: `{run_id}`. CSV: {link}", ""]
        if t.preview is not None:
            out += _md_table([str(c) for c in t.preview.columns], _rows(t.preview))
            if len(t.preview) > INLINE_ROWS:
                out += [f"(first {INLINE_ROWS} of {len(t.preview)} rows; all in {link})", ""]
    out += [f"> Note: {n}\n" for n in s.notes]
    return out


def render_markdown(b: Build, front: Front) -> str:
    """The report as Markdown, figures and tables linked relative to the report."""
    headers, rows = _headline_display(b)
    out = [
        f"# {front.title}",
        "",
        f"Results directory: `{b.source.resolve()}`. Run ID: `{b.run_id}`.",
        "",
        "## Reproduce",
        "",
        "```",
        front.reproduce,
        "```",
        "",
        "## Headline numbers",
        "",
        f"Headline numbers of run `{b.run_id}`. CSV: [headline.csv]({TABLES}/headline.csv)",
        "",
        *(_md_table(headers, rows) if rows else ["No headline numbers could be computed.", ""]),
    ]
    for s in b.sections:
        out += _md_section(s, b.run_id)
    out += ["## Methods", "", front.methods, "", "## How to cite", "", front.cite_message, ""]
    out += [front.cite_line, "", "```bibtex", front.bibtex, "```", ""]
    return "\n".join(out)


CSS = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem;
       line-height: 1.45; color: #222; }
img { max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.85rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: left; }
caption { caption-side: top; text-align: left; font-size: 0.9rem; padding-bottom: 0.3rem; }
figure { margin: 1rem 0 2rem; }
figcaption, .table-ref { font-size: 0.9rem; }
.note { color: #8a4b00; }
pre { background: #f4f4f4; padding: 0.6rem; overflow-x: auto; }
"""


def _inline(text: str) -> str:
    """Escape text for HTML and turn `code` spans into <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text, quote=False))


def _html_table(caption: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>\n" for row in rows
    )
    return (
        f"<table>\n<caption>{caption}</caption>\n<thead><tr>{head}</tr></thead>\n"
        f"<tbody>\n{body}</tbody>\n</table>\n"
    )


def _html_figure(f: FigureRef, out: Path, run_id: str) -> str:
    data = base64.b64encode((out / FIGURES / f"{f.stem}.png").read_bytes()).decode("ascii")
    svg = f"{FIGURES}/{f.stem}.svg"
    return (
        f'<figure id="figure-{f.number}">\n'
        f'<img src="data:image/png;base64,{data}" alt="{html.escape(f.alt)}">\n'
        f"<figcaption>Figure {f.number}. {_inline(f.caption)} Run ID: "
        f'<code>{html.escape(run_id)}</code>. Vector: <a href="{svg}">{f.stem}.svg</a>'
        "</figcaption>\n</figure>\n"
    )


def _html_table_ref(t: TableRef, run_id: str) -> str:
    link = f'<a href="{TABLES}/{html.escape(t.name)}">{html.escape(t.name)}</a>'
    caption = (
        f"Table {t.number}. {_inline(t.caption)} Run ID: <code>{html.escape(run_id)}</code>. "
        f"CSV: {link}"
    )
    if t.preview is None:
        return f'<p class="table-ref">{caption}</p>\n'
    if len(t.preview) > INLINE_ROWS:
        caption += f" (first {INLINE_ROWS} of {len(t.preview)} rows)"
    return _html_table(caption, [str(c) for c in t.preview.columns], _rows(t.preview))


def _html_section(s: Section, out: Path, run_id: str) -> str:
    parts = [f"<section>\n<h2>{html.escape(s.title)}</h2>\n"]
    parts += [f"<p>{_inline(t)}</p>\n" for t in s.text]
    parts += [_html_figure(f, out, run_id) for f in s.figures]
    parts += [_html_table_ref(t, run_id) for t in s.tables]
    parts += [f'<p class="note">Note: {_inline(n)}</p>\n' for n in s.notes]
    return "".join(parts) + "</section>\n"


def render_html(b: Build, front: Front) -> str:
    """The report as one HTML file with the PNG figures embedded as data URIs."""
    headers, rows = _headline_display(b)
    run_id = html.escape(b.run_id)
    caption = (
        f"Headline numbers of run <code>{run_id}</code>. "
        f'CSV: <a href="{TABLES}/headline.csv">headline.csv</a>'
    )
    headline = _html_table(caption, headers, rows) if rows else "<p>No headline numbers.</p>\n"
    return "".join(
        [
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
            f"<title>{html.escape(front.title)}</title>\n<style>{CSS}</style>\n</head>\n",
            f"<body>\n<main>\n<h1>{html.escape(front.title)}</h1>\n",
            f"<p>Results directory: <code>{html.escape(str(b.source.resolve()))}</code>. ",
            f"Run ID: <code>{run_id}</code>.</p>\n",
            f"<h2>Reproduce</h2>\n<pre><code>{html.escape(front.reproduce)}</code></pre>\n",
            f"<h2>Headline numbers</h2>\n{headline}",
            *(_html_section(s, b.out, b.run_id) for s in b.sections),
            f"<h2>Methods</h2>\n<p>{_inline(front.methods)}</p>\n",
            f"<h2>How to cite</h2>\n<p>{_inline(front.cite_message)}</p>\n",
            f"<p>{_inline(front.cite_line)}</p>\n",
            f"<pre><code>{html.escape(front.bibtex)}</code></pre>\n",
            "</main>\n</body>\n</html>\n",
        ]
    )


# --- writing -------------------------------------------------------------------------------


def _check_report_dir(out: Path) -> None:
    """Refuse to replace a non-empty directory that is not an earlier report."""
    if out.is_dir() and any(out.iterdir()) and not (out / "report.md").is_file():
        raise BadInput(
            f"output directory {out} exists, is not empty and holds no earlier report "
            "(report.md); choose another --out"
        )


def write_report(results_dir: Path, *, out: Path | None = None) -> Path:
    """Write report.html, report.md, figures/ and tables/ for ``results_dir``; return report.html.

    The report goes to ``out`` (default ``results_dir/report``), replacing an earlier report
    there. It is written to a temporary directory renamed into place when complete. Bad input
    (no directory, no or a malformed manifest, an unknown kind) raises BadInput.
    """
    results_dir = Path(results_dir)
    manifest = read_manifest(results_dir)
    target = Path(out) if out is not None else results_dir / REPORT_DIR
    _check_report_dir(target)
    with atomic_dir(target, overwrite=True) as tmp:
        (tmp / FIGURES).mkdir()
        (tmp / TABLES).mkdir()
        build = Build(results_dir, tmp, manifest)
        BUILDERS[manifest.kind](build)
        _headline_frame(build).to_csv(tmp / TABLES / "headline.csv", index=False)
        front = front_matter(build)
        (tmp / "report.md").write_text(render_markdown(build, front), encoding="utf-8")
        (tmp / "report.html").write_text(render_html(build, front), encoding="utf-8")
    return target / "report.html"


def cmd_report(args: argparse.Namespace) -> int:
    """``govsim report``: write the report of one results directory."""
    path = write_report(Path(args.results_dir), out=Path(args.out) if args.out else None)
    print(f"wrote {path} and {path.with_name('report.md')} (figures/, tables/ next to them)")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``govsim report``."""
    p = sub.add_parser(
        "report",
        help="turn a results directory into report.html and report.md with figures and tables",
        description=(
            "Write a self-contained report.html and a report.md (figures as PNG and SVG, "
            "tables as CSV, methods paragraph, how to cite, the reproducing command) for a "
            "directory written by govsim run, compare, demo, sweep, sensitivity, case or a "
            "calibration."
        ),
    )
    p.add_argument("results_dir", metavar="RESULTS_DIR", help="a govsim results directory")
    p.add_argument(
        "--out",
        metavar="DIR",
        help="write the report here (default RESULTS_DIR/report; an earlier report is replaced)",
    )
    p.set_defaults(handler=cmd_report)
